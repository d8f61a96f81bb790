// TensorFlow's Fingerprint64 (FarmHash farmhashna::Hash64). Oracles: fingerprint.pb's
// checkpoint_hash in every TF2 SavedModel of the corpus, and values printed by TensorFlow 2.21
// for tf.strings.to_hash_bucket_fast(s, 2**62) (which is Fingerprint64(s) mod 2^62).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprint64 } from '../../../main/formats/fingerprint64.ts';
import { decodeFingerprint } from '../../../main/formats/savedmodel.ts';
import { REAL, skipWithoutCorpus } from '../../helpers/corpus.ts';

const enc = new TextEncoder();

test('matches TensorFlow for every length class (0-16, 17-32, 33-64, > 64 bytes)', () => {
  const fromTensorFlow: [string, bigint][] = [
    ['', 1936946117179621455n],
    ['a', 3694432073954588131n],
    ['trigger', 2760508759493598628n],
    ['hello world, this is a longer string over sixteen', 4087575826713745281n],
    ['y'.repeat(65), 4023130470993650268n],
    ['x'.repeat(100), 1978794067220662815n],
    ['z'.repeat(200), 4117204190001636188n],
  ];
  for (const [text, expected] of fromTensorFlow) assert.equal(fingerprint64(enc.encode(text)) % (1n << 62n), expected, JSON.stringify(text));
});

function savedModelsWithFingerprint(root: string, depth = 0): string[] {
  if (depth > 3 || !existsSync(root)) return [];
  if (existsSync(join(root, 'fingerprint.pb')) && existsSync(join(root, 'variables', 'variables.index'))) return [root];
  return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).flatMap((d) => savedModelsWithFingerprint(join(root, d.name), depth + 1));
}

test('equals checkpoint_hash of fingerprint.pb for every corpus SavedModel but the one whose fingerprint is stale', { skip: skipWithoutCorpus }, () => {
  const models = savedModelsWithFingerprint(REAL);
  assert.ok(models.length >= 20, `found ${models.length}`);
  const mismatched = models.filter((dir) => {
    const recorded = decodeFingerprint(readFileSync(join(dir, 'fingerprint.pb')), 'fingerprint.pb').checkpoint_hash;
    return fingerprint64(readFileSync(join(dir, 'variables', 'variables.index'))).toString() !== recorded;
  });
  // PROVENANCE.md: VarsAndArithmeticObjectGraph's fingerprint.pb was added years after the model.
  assert.deepEqual(mismatched.map((d) => d.slice(REAL.length + 1)), ['tf_cc_VarsAndArithmeticObjectGraph']);
});
