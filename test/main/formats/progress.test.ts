// Progress reports of the analyzer worker: byte counts become fractions, throttled, and
// nothing is reported when no reporter is set (outside a worker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteProgress, setProgressReporter, type ProgressReport } from '../../../main/formats/progress.ts';

test('byteProgress reports the fraction done, throttled, always including the end', () => {
  const seen: ProgressReport[] = [];
  setProgressReporter((r) => seen.push(r));
  try {
    const tick = byteProgress('parse', 'hashing model files', 4_000_000, 60_000);
    tick(1_000_000);
    tick(1_000_000);
    tick(2_000_000);
    assert.deepEqual(seen.map((r) => r.fraction), [0.25, 1]);
    assert.match(seen[1]!.message, /hashing model files 100% \(4\.0 MB of 4\.0 MB\)/);
  } finally {
    setProgressReporter(null);
  }
  const silent = byteProgress('parse', 'x', 10);
  silent(10);
  assert.equal(seen.length, 2);
});
