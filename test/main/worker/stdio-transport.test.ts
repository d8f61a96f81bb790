// Issue 17: an answer far larger than a pipe buffer (64 KiB on Linux) reaches the parent whole.
// The worker wrote its answer and exited at once, so a report of a few hundred KiB (MobileNetV2,
// DenseNet121, InceptionV3 exports) was cut off. Both sides here are the production code: the
// worker's serveOverStdio and the parent's runAnalysisWorker / ProtocolLineReader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { ProtocolLineReader, runAnalysisWorker, DEFAULT_WORKER_OPTIONS } from '../../../main/service/worker-client.ts';
import { tempDir } from '../../helpers/corpus.ts';
import type { AnalyseRequest } from '../../../main/worker/analyse.ts';
import { isolationAvailable } from '../../../main/sandbox/analyzer-isolation.ts';

const bwrap = isolationAvailable();

const ENTRY = resolve(import.meta.dirname, '../../fixtures/worker/large-answer.mjs');

interface Filler {
  filler: string[];
  count: number;
}

async function ask(megabytes: number, isolation: 'auto' | 'off' = 'off'): Promise<Filler> {
  const model = join(tempDir(), 'placeholder.pb');
  writeFileSync(model, '');
  const request = { model, checkpoints: [], megabytes } as unknown as AnalyseRequest;
  return (await runAnalysisWorker(request, { ...DEFAULT_WORKER_OPTIONS, isolation, entry: ENTRY, timeoutMs: 120_000 })) as unknown as Filler;
}

function assertWhole(answer: Filler, megabytes: number): void {
  const expected = Math.round(megabytes * 1024);
  assert.equal(answer.count, expected);
  assert.equal(answer.filler.length, expected, 'every block arrived');
  for (let i = 0; i < answer.filler.length; i += 997) assert.equal(answer.filler[i]!.slice(0, 8), String(i).padStart(8, '0'));
  assert.equal(answer.filler.at(-1)!.slice(0, 8), String(expected - 1).padStart(8, '0'));
}

test('a 40 MB answer from a real worker process arrives whole', async () => {
  assertWhole(await ask(40), 40);
});

test('a 40 MB answer from a worker under bubblewrap arrives whole', { skip: bwrap === true ? false : `no analyzer sandbox here: ${bwrap}` }, async () => {
  assertWhole(await ask(40, 'auto'), 40);
});

test('answers of 0.1–8 MB arrive whole over 12 fresh workers (the exit race showed up on some runs only)', async () => {
  const sizes = [0.1, 0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 0.3];
  for (const mb of sizes) assertWhole(await ask(mb), mb);
});

test('the line reader joins a line split over many chunks and splits several lines in one chunk', () => {
  const lines: string[] = [];
  const reader = new ProtocolLineReader((l) => lines.push(l));
  const big = 'é'.repeat(100_000);
  const bytes = Buffer.from(`a\nb\n${big}\nc`);
  for (let i = 0; i < bytes.length; i += 4093) reader.push(bytes.subarray(i, i + 4093));
  reader.push(Buffer.from('\n'));
  assert.deepEqual(lines, ['a', 'b', big, 'c']);
});
