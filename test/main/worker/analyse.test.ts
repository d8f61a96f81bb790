// The worker's pipeline: a TF1 meta graph is analysed with the checkpoint the Saver wrote
// beside it (V2 bundle or V1 file) as its own, labelled by prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../../main/worker/analyse.ts';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';

test('serving_half_plus_two_tf1_v2ckpt export.meta: its own checkpoint is export (V2), Variable=0.5, Variable_1=2', { skip: skipWithoutCorpus }, async () => {
  const meta = real('serving_half_plus_two_tf1_v2ckpt', '00000123', 'export.meta');
  const { report, summary } = await analyse({ model: meta, checkpoints: [] });
  assert.deepEqual(report.checkpoints, [{ path: real('serving_half_plus_two_tf1_v2ckpt', '00000123', 'export') }]);
  const values = Object.fromEntries(summary.checkpoint!.entries.map((e) => [e.key, e.values]));
  assert.deepEqual(values, { Variable: [0.5], Variable_1: [2] });
  assert.equal(report.findings.some((f) => ['critical', 'high', 'medium'].includes(f.severity)), false);
});

test('serving_bad_half_plus_two export.meta: the V1 checkpoint file export is its own', { skip: skipWithoutCorpus }, async () => {
  const meta = real('serving_bad_half_plus_two', '00000123', 'export.meta');
  const { report, summary } = await analyse({ model: meta, checkpoints: [] });
  assert.equal(summary.checkpoint?.version, 'v1');
  assert.deepEqual(report.checkpoints.map((c) => c.path), [real('serving_bad_half_plus_two', '00000123', 'export')]);
});
