// Known-vulnerability findings on models written by real TensorFlow (skips without it): a
// signature whose string input flows into tf.strings.ngrams (StringNGrams), the same op fed only
// by a constant, and by a variable, and a model with no op that has an advisory; runtime
// versions on both sides of each range edge of the StringNGrams advisories. Plus a TFLite Flex
// op and the scan without --tf-runtime (info lines only).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openModel } from '../../../main/formats/index.ts';
import { scanModel } from '../../../main/analysis/scan.ts';
import { atLeast, type Finding, type ScanReport } from '../../../shared/findings.ts';
import type { ModelIR } from '../../../shared/ir.ts';
import { TF_PYTHON, skipWithoutTf } from '../../helpers/tensorflow.ts';

const SCRIPT = String.raw`
import os, sys
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import tensorflow as tf
out = sys.argv[1]

class NgramsFromInput(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, text):
        words = tf.strings.split(text)
        return {'ngrams': tf.strings.ngrams(words, 2).flat_values}

class NgramsFromConstant(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def __call__(self, x):
        grams = tf.strings.ngrams(tf.constant(['a', 'b', 'c', 'd']), 2)
        return {'y': x * 2.0, 'count': tf.size(grams)}

class NgramsFromVariable(tf.Module):
    def __init__(self):
        super().__init__()
        self.words = tf.Variable(['a', 'b', 'c', 'd'])
    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def __call__(self, x):
        grams = tf.strings.ngrams(self.words, 2)
        return {'y': x * 2.0, 'count': tf.size(grams)}

class Plain(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def __call__(self, x):
        return {'y': x * 2.0 + 1.0}

for name, m in [('ngrams_input', NgramsFromInput()), ('ngrams_constant', NgramsFromConstant()), ('ngrams_variable', NgramsFromVariable()), ('plain', Plain())]:
    tf.saved_model.save(m, os.path.join(out, name), signatures={'serving_default': m.__call__})
with open(os.path.join(out, 'DONE'), 'w') as f:
    f.write(tf.__version__)
`;

// One TensorFlow process writes all four models; they are kept per script hash across runs.
const DIR = join(tmpdir(), `tfaudit-known-vuln-${createHash('sha256').update(SCRIPT).digest('hex').slice(0, 16)}`);
const models: Record<string, ModelIR> = {};

before(async () => {
  if (skipWithoutTf) return;
  if (!existsSync(join(DIR, 'DONE'))) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(join(DIR, 'gen.py'), SCRIPT);
    const r = spawnSync(TF_PYTHON, [join(DIR, 'gen.py'), DIR], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
  }
  for (const name of ['ngrams_input', 'ngrams_constant', 'ngrams_variable', 'plain']) models[name] = await openModel(join(DIR, name));
});

const scan = (name: string, tfRuntime: string | null): Promise<ScanReport> => scanModel(models[name]!, { checkpoints: [], toolVersion: 'test', tfRuntime });
const known = (r: ScanReport, op?: string): Finding[] => r.findings.filter((f) => f.capability === 'known-vulnerability' && (!op || f.op === op));

test('input-fed StringNGrams on 2.4.1: high, four advisories, upgrade to 2.5.3, chain from the signature input', { skip: skipWithoutTf }, async () => {
  const r = await scan('ngrams_input', '2.4.1');
  const [f] = known(r, 'StringNGrams');
  assert.ok(f);
  assert.equal(f.severity, 'high');
  assert.equal(f.trigger.kind, 'input');
  assert.deepEqual(f.advisories!.map((a) => a.id), ['PYSEC-2021-469', 'PYSEC-2021-470', 'PYSEC-2021-559', 'PYSEC-2022-57']);
  const heap = f.advisories!.find((a) => a.id === 'PYSEC-2021-470')!;
  assert.deepEqual([heap.class, heap.fixedIn], ['heap-out-of-bounds', '2.4.2']);
  assert.ok(heap.aliases.includes('CVE-2021-29542'));
  assert.equal(f.advisories!.find((a) => a.id === 'PYSEC-2022-57')!.fixedIn, '2.5.3');
  assert.match(f.recommendation, /TensorFlow 2\.5\.3 or later/);
  assert.equal(f.details?.upgradeTo, '2.5.3');
  assert.match(f.evidence[0]!, /serving_default_text \(Placeholder\)/);
  assert.match(f.evidence[f.evidence.length - 1]!, /StringNGrams \(StringNGrams\)$/);
  assert.ok(f.evidence.some((e) => /StringSplitV2/.test(e)), 'the path runs through the split');
  assert.equal(r.analysis.tensorflowRuntime, '2.4.1');
  assert.ok(r.analysis.notes.some((n) => /PyPA Advisory Database, CC BY 4\.0/.test(n)));
  assert.ok(r.analysis.notes.some((n) => /further TensorFlow advisories covering 2\.4\.1 name no op/.test(n)), 'advisories without an op are counted, not dropped silently');
});

test('range edges of CVE-2022-21733 (StringNGrams, [0, 2.5.3) and [2.6.0, 2.6.3)) on the input-fed model', { skip: skipWithoutTf }, async () => {
  const at = async (v: string) => known(await scan('ngrams_input', v), 'StringNGrams')[0];
  const below = await at('2.5.2');
  assert.equal(below?.severity, 'high', 'integer overflow: memory safety');
  assert.deepEqual(below!.advisories!.map((a) => [a.id, a.fixedIn]), [['PYSEC-2022-57', '2.5.3']]);
  assert.equal(await at('2.5.3'), undefined, 'the fixed release is clean');
  assert.deepEqual((await at('2.6.0'))?.advisories?.map((a) => a.id), ['PYSEC-2022-57'], 'the introduced release is affected');
  assert.deepEqual((await at('2.6.0rc1'))?.advisories?.map((a) => a.id), ['PYSEC-2022-57'], 'so is its pre-release');
  assert.equal((await at('2.6.2'))?.advisories?.[0]?.fixedIn, '2.6.3');
  assert.equal(await at('2.6.3'), undefined);
  assert.equal(await at('2.7.0'), undefined);
  // The heap overflow of CVE-2021-29542: [2.4.0, 2.4.2).
  assert.ok((await at('2.4.0'))!.advisories!.some((a) => a.id === 'PYSEC-2021-470'));
  assert.ok(!(await at('2.4.2'))!.advisories!.some((a) => a.id === 'PYSEC-2021-470'));
});

test('constant-fed StringNGrams: medium, a crafted model file is the trigger', { skip: skipWithoutTf }, async () => {
  const [f] = known(await scan('ngrams_constant', '2.4.1'), 'StringNGrams');
  assert.ok(f);
  assert.equal(f.severity, 'medium');
  assert.equal(f.trigger.kind, 'constant');
  assert.match(f.message, /Only constants feed it/);
  assert.match(f.evidence[0]!, /\(Const\)/);
  assert.equal(await scan('ngrams_constant', '2.7.0').then((r) => known(r, 'StringNGrams').length), 0);
});

test('variable-fed StringNGrams: medium, a crafted checkpoint is the trigger', { skip: skipWithoutTf }, async () => {
  const [f] = known(await scan('ngrams_variable', '2.5.2'), 'StringNGrams');
  assert.ok(f);
  assert.equal(f.severity, 'medium');
  assert.equal(f.trigger.kind, 'variable');
  assert.deepEqual(f.trigger.variables, ['words/.ATTRIBUTES/VARIABLE_VALUE']);
  assert.match(f.message, /crafted checkpoint is then the trigger/);
});

test('a model with no op that has an advisory at the runtime: no known-vulnerability finding', { skip: skipWithoutTf }, async () => {
  const r = await scan('plain', '2.5.2');
  assert.deepEqual(known(r), []);
  assert.ok(r.analysis.notes.some((n) => /No op of this model has a TensorFlow advisory covering TensorFlow 2\.5\.2/.test(n)));
  // The saver's SaveV2 has CVE-2021-37648 in [2.4.0, 2.4.3): machinery, never above medium.
  const saver = known(await scan('plain', '2.4.2'));
  assert.deepEqual(saver.map((f) => [f.op, f.severity, f.reachability]), [['SaveV2', 'medium', 'saver']]);
});

test('without --tf-runtime: one info line per op, nothing at medium or above from advisories', { skip: skipWithoutTf }, async () => {
  const r = await scan('ngrams_input', null);
  const lines = known(r);
  assert.ok(lines.length > 0);
  assert.ok(lines.every((f) => f.severity === 'info'));
  assert.equal(new Set(lines.map((f) => f.op)).size, lines.length, 'one per op');
  const ngrams = lines.find((f) => f.op === 'StringNGrams')!;
  assert.match(ngrams.message, /served on TensorFlow older than 2\.6\.3, this op has 5 advisories/);
  assert.equal(r.analysis.tensorflowRuntime, undefined);
  assert.ok(!r.findings.some((f) => f.capability === 'known-vulnerability' && atLeast(f.severity, 'low')));
});

test('written with our own writer: StringNGrams in a library function nothing calls is low (unreachable); the reached one is high', async () => {
  const { buildAndScan, call, constNode, fn, node, scalar, signature } = await import('./models.ts');
  const ngrams = (name: string, data: string, splits: string) => node(name, 'StringNGrams', [data, splits]);
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), call('serve', 'main', ['x'])],
    library: [
      fn('main', [['text', 'DT_STRING']], [['y', 'DT_STRING']], [constNode('splits', 'DT_INT64', [2], [0, 1]), ngrams('grams', 'text', 'splits:output:0')], { y: 'grams:ngrams:0' }),
      fn('never_called', [['text', 'DT_STRING']], [['y', 'DT_STRING']], [constNode('splits', 'DT_INT64', [2], [0, 1]), ngrams('grams', 'text', 'splits:output:0')], { y: 'grams:ngrams:0' }),
    ],
    signatures: [signature('serving_default', { y: 'serve:0' }, { text: 'x:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
    tfRuntime: '2.4.0',
  });
  const found = known(report, 'StringNGrams');
  assert.equal(found.length, 1, 'one finding per op, on its most exposed node');
  assert.equal(found[0]!.function, 'main');
  assert.equal(found[0]!.severity, 'high');
  assert.equal(found[0]!.details?.nodes, '2');
  assert.match(found[0]!.details?.otherNodes ?? '', /never_called\/grams/);

  const deadOnly = await buildAndScan({
    nodes: [node('x', 'Placeholder'), node('y', 'Identity', ['x'])],
    library: [fn('never_called', [['text', 'DT_STRING']], [['y', 'DT_STRING']], [constNode('splits', 'DT_INT64', [2], [0, 1]), ngrams('grams', 'text', 'splits:output:0')], { y: 'grams:ngrams:0' })],
    signatures: [signature('serving_default', { y: 'y:0' }, { text: 'x:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
    tfRuntime: '2.4.0',
  });
  const [dead] = known(deadOnly, 'StringNGrams');
  assert.equal(dead?.severity, 'low');
  assert.equal(dead?.reachability, 'dead');
  assert.match(dead!.message, /nothing reaches/);
});

test('TFLite Flex op: the TensorFlow kernel behind FlexStringNGrams, fed by the model input', async () => {
  const tflite = {
    version: 3,
    description: '',
    operatorCodes: [],
    subgraphs: [
      {
        name: 'main',
        tensors: [
          { name: 'text', type: 'STRING', shape: [-1] },
          { name: 'splits', type: 'INT64', shape: [2] },
          { name: 'ngrams', type: 'STRING', shape: [-1] },
          { name: 'splits_out', type: 'INT64', shape: [2] },
        ],
        inputs: [0],
        outputs: [2],
        operators: [{ subgraph: 0, index: 0, opcode: 'FlexStringNGrams', custom: true, flexOp: 'StringNGrams', inputs: [0, 1], outputs: [2, 3] }],
      },
    ],
    signatureDefs: [],
    metadata: [],
    flexNodes: [],
  };
  const model = { path: '/x/model.tflite', format: 'tflite', files: [], metaGraphs: [], tflite, warnings: [] } as unknown as ModelIR;
  const r = await scanModel(model, { checkpoints: [], toolVersion: 'test', tfRuntime: '2.4.1' });
  const [f] = known(r, 'StringNGrams');
  assert.equal(f?.severity, 'high');
  assert.match(f!.evidence[0]!, /main\/text/);
  assert.match(f!.evidence[f!.evidence.length - 1]!, /FlexStringNGrams/);
  tflite.subgraphs[0]!.inputs = [];
  const [constant] = known(await scanModel(model, { checkpoints: [], toolVersion: 'test', tfRuntime: '2.4.1' }), 'StringNGrams');
  assert.equal(constant?.severity, 'medium', 'tensors no operator produces and no input feeds are the model file');
});

test('more nodes of one op than are traced: the untraced ones count as caller-fed (high), never as clean', async () => {
  const { buildAndScan, call, constNode, fn, node, scalar, signature } = await import('./models.ts');
  const build = (count: number) => {
    const nodes = [constNode('splits', 'DT_INT64', [2], [0, 1]), constNode('words', 'DT_STRING', [1], ['a'])];
    for (let i = 0; i < count; i++) nodes.push(node(`grams${i}`, 'StringNGrams', ['words:output:0', 'splits:output:0']));
    nodes.push(node('out', 'Identity', ['text', ...Array.from({ length: count }, (_, i) => `^grams${i}`)]));
    return buildAndScan({
      nodes: [node('x', 'Placeholder'), call('serve', 'main', ['x'])],
      library: [fn('main', [['text', 'DT_STRING']], [['y', 'DT_STRING']], nodes, { y: 'out:output:0' })],
      signatures: [signature('serving_default', { y: 'serve:0' }, { text: 'x:0' })],
      own: [scalar('v', 'DT_FLOAT', 0)],
      tfRuntime: '2.4.0',
    });
  };
  const few = known(await build(3), 'StringNGrams')[0]!;
  assert.deepEqual([few.severity, few.trigger.kind], ['medium', 'constant']);
  const many = known(await build(70), 'StringNGrams')[0]!;
  assert.deepEqual([many.severity, many.trigger.kind], ['high', 'input']);
  assert.match(many.message, /6 more StringNGrams node\(s\) not traced/);
});

test('a nested GraphDef (DatasetFromGraph) is searched too: its StringNGrams is found, inheriting the outer reachability', async () => {
  const { constNode, encodeGraphDef, graph } = await import('../../../main/writer/graph.ts');
  const { buildAndScan, call, fn, node, scalar, signature } = await import('./models.ts');
  const inner = graph([constNode('words', 'DT_STRING', [2], ['a', 'b']), constNode('splits', 'DT_INT64', [2], [0, 2]), node('grams', 'StringNGrams', ['words', 'splits'])]);
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('graph_def', 'DT_STRING', [], [encodeGraphDef(inner)]),
    node('ds', 'DatasetFromGraph', ['graph_def:output:0']),
    node('Identity', 'Identity', ['x', '^ds']),
  ], { y: 'Identity:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), call('serve', 'main', ['x'])],
    library: [main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
    tfRuntime: '2.4.1',
  });
  const [f] = known(report, 'StringNGrams');
  assert.ok(f, JSON.stringify(report.findings.map((x) => [x.op, x.capability])));
  assert.equal(f.reachability, 'signature');
  assert.equal(f.severity, 'medium', 'only the nested constants feed it');
  assert.ok(f.evidence.some((e) => /DatasetFromGraph|main\/ds/.test(e)) || /›/.test(f.evidence.join(' ')), f.evidence.join(' | '));
});
