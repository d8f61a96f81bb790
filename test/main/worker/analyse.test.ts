// The worker's pipeline: a TF1 meta graph is analysed with the checkpoint the Saver wrote
// beside it (V2 bundle or V1 file) as its own, labelled by prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyse } from '../../../main/worker/analyse.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { attrShape, attrType, constNode, encodeMetaGraphDef, graph, metaGraph, node } from '../../../main/writer/graph.ts';
import { writeTensorBundle } from '../../../main/writer/tensorbundle.ts';

test('serving_half_plus_two_tf1_v2ckpt export.meta: its own checkpoint is export (V2), Variable=0.5, Variable_1=2', { skip: skipWithoutCorpus }, async () => {
  const meta = real('serving_half_plus_two_tf1_v2ckpt', '00000123', 'export.meta');
  const { report, summary } = await analyse({ model: meta, checkpoints: [] });
  assert.deepEqual(report.checkpoints.map((c) => c.path), [real('serving_half_plus_two_tf1_v2ckpt', '00000123', 'export')]);
  assert.equal(report.checkpoints[0]!.coverage?.method, 'own');
  assert.equal(report.checkpoints[0]!.coverage?.integrity, undefined);
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

test('a TF1 training folder opens as its meta graph with the checkpoint the state file names (written by our writer)', async () => {
  const dir = tempDir();
  // flag (VariableV2) → Switch → ReadFile on the true side, as tf.compat.v1.cond builds it.
  const nodes = [
    node('flag', 'VariableV2', [], { dtype: attrType('DT_BOOL'), shape: attrShape([]) }),
    node('flag/read', 'Identity', ['flag'], { T: attrType('DT_BOOL') }),
    node('cond/Switch', 'Switch', ['flag/read', 'flag/read'], { T: attrType('DT_BOOL') }),
    node('cond/switch_t', 'Identity', ['cond/Switch:1'], { T: attrType('DT_BOOL') }),
    constNode('cond/path', 'DT_STRING', [], ['/etc/shadow']),
    node('cond/ReadFile', 'ReadFile', ['cond/path', '^cond/switch_t']),
  ];
  writeFileSync(join(dir, 'model.ckpt-7.meta'), encodeMetaGraphDef(metaGraph(graph(nodes), { tags: [] })));
  await writeTensorBundle(join(dir, 'model.ckpt-3'), [{ key: 'flag', dtype: 'DT_BOOL', shape: [], values: [false] }]);
  await writeTensorBundle(join(dir, 'model.ckpt-7'), [{ key: 'flag', dtype: 'DT_BOOL', shape: [], values: [true] }]);
  writeFileSync(join(dir, 'checkpoint'), 'model_checkpoint_path: "model.ckpt-7"\nall_model_checkpoint_paths: "model.ckpt-3"\nall_model_checkpoint_paths: "model.ckpt-7"\n');
  const { report } = await analyse({ model: dir, checkpoints: [join(dir, 'model.ckpt-3')] });
  assert.equal(report.model.format, 'meta-graph');
  assert.deepEqual(report.checkpoints.map((c) => c.path), [join(dir, 'model.ckpt-7'), join(dir, 'model.ckpt-3')]);
  const read = report.findings.find((f) => f.op === 'ReadFile')!;
  assert.deepEqual(read.trigger.variables, ['flag']);
  assert.deepEqual(read.trigger.activation.map((a) => a.state), ['active', 'dormant'], 'the latest checkpoint turns the read on, the older one does not');
  assert.equal(read.arguments[0]?.value, '/etc/shadow');
});

test('tf_cc_VarsAndArithmeticObjectGraph: variables.index differs from fingerprint.pb checkpoint_hash → a medium integrity finding naming the file', { skip: skipWithoutCorpus }, async () => {
  const model = real('tf_cc_VarsAndArithmeticObjectGraph');
  const { report } = await analyse({ model, checkpoints: [] });
  const integrity = report.findings.filter((f) => f.capability === 'integrity');
  assert.equal(integrity.length, 1);
  assert.equal(integrity[0]!.severity, 'medium', 'readable but changed after export: medium (unreadable would be high)');
  assert.match(integrity[0]!.evidence[0]!, /variables\/variables\.index: Fingerprint64 \d+ differs from checkpoint_hash \d+ in fingerprint\.pb/);
  assert.match(report.checkpoints[0]!.coverage?.integrity ?? '', /checkpoint_hash/);
});
