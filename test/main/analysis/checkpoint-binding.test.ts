// bindCheckpoint / candidateBindings on hand-built object graphs (TrackableObjectGraph against
// SavedObjectGraph) and name-based checkpoints; verifyCheckpoint on bundles written by our
// writer, then damaged. The same against real TensorFlow: checkpoint-binding-tensorflow.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import type { CheckpointIR, MetaGraphIR, ModelIR, SavedObjectIR } from '../../../shared/ir.ts';
import { bindCheckpoint, candidateBindings, parseScopeRemap, weightValueComparison } from '../../../main/analysis/checkpoint-binding.ts';
import { valueSummary } from '../../../shared/report.ts';
import { openCheckpoint, verifyCheckpoint } from '../../../main/formats/tensorbundle.ts';
import { writeTensorBundle } from '../../../main/writer/tensorbundle.ts';
import { checkpointObjects } from '../../../main/formats/summary.ts';
import { renderSarif } from '../../../main/report/sarif.ts';
import { renderTextReport } from '../../../main/report/text.ts';
import { scanModel } from '../../../main/analysis/scan.ts';
import { tempDir } from '../../helpers/corpus.ts';

/** A SavedModel whose root has variables `flag` (int32 scalar) and `scale` (float [2]) under `net`. */
function savedModel(): ModelIR {
  const nodes: SavedObjectIR[] = [
    { id: 0, kind: 'user_object', children: [{ name: 'flag', nodeId: 1 }, { name: 'net', nodeId: 2 }, { name: 'signatures', nodeId: 4 }] },
    { id: 1, kind: 'variable', children: [], variable: { name: 'flag', dtype: 'DT_INT32', shape: { unknownRank: false, dims: [] }, trainable: true }, checkpointKeys: ['flag/.ATTRIBUTES/VARIABLE_VALUE'] },
    { id: 2, kind: 'user_object', children: [{ name: 'scale', nodeId: 3 }] },
    { id: 3, kind: 'variable', children: [], variable: { name: 'scale', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [2] }, trainable: true }, checkpointKeys: ['net/scale/.ATTRIBUTES/VARIABLE_VALUE'] },
    { id: 4, kind: 'user_object', children: [] },
  ];
  const meta: MetaGraphIR = {
    tags: ['serve'], tensorflowVersion: '2.21.0', tensorflowGitVersion: '', strippedDefaultAttrs: false, strippedOpList: [], signatures: [],
    graph: { nodes: [], library: [], producer: null } as unknown as MetaGraphIR['graph'],
    saverDef: null, collections: {}, objectGraph: { nodes, concreteFunctions: {} }, assetFiles: [],
  };
  return { path: '/m', format: 'saved-model', files: [], metaGraphs: [meta], warnings: [] };
}

type Node = NonNullable<CheckpointIR['objectGraph']>['nodes'][number];
const obj = (children: [string, number][], key?: string): Node => ({ children: children.map(([name, nodeId]) => ({ name, nodeId })), attributes: key ? [{ name: 'VARIABLE_VALUE', checkpointKey: key }] : [] });

function checkpoint(nodes: Node[], entries: [string, string, number[]][]): CheckpointIR {
  return {
    prefix: '/c/ckpt',
    version: 'v2',
    numShards: 1,
    endianness: 'little',
    entries: entries.map(([key, dtype, shape]) => ({ key, dtype: dtype as never, shape, shardId: 0, offset: 0, size: 0, crc32c: null })),
    preview: {},
    objectGraph: { nodes },
  };
}

/** trainer/model/{flag, net/scale} beside an optimizer slot and a counter. */
const deep = () =>
  checkpoint(
    [
      obj([['save_counter', 1], ['trainer', 2]]),
      obj([], 'save_counter/.ATTRIBUTES/VARIABLE_VALUE'),
      obj([['model', 3], ['step', 4]]),
      obj([['flag', 5], ['net', 6]]),
      obj([], 'trainer/step/.ATTRIBUTES/VARIABLE_VALUE'),
      obj([], 'trainer/model/flag/.ATTRIBUTES/VARIABLE_VALUE'),
      obj([['scale', 7]]),
      obj([], 'trainer/model/net/scale/.ATTRIBUTES/VARIABLE_VALUE'),
    ],
    [
      ['_CHECKPOINTABLE_OBJECT_GRAPH', 'DT_STRING', []],
      ['save_counter/.ATTRIBUTES/VARIABLE_VALUE', 'DT_INT64', []],
      ['trainer/step/.ATTRIBUTES/VARIABLE_VALUE', 'DT_INT64', []],
      ['trainer/model/flag/.ATTRIBUTES/VARIABLE_VALUE', 'DT_INT32', []],
      ['trainer/model/net/scale/.ATTRIBUTES/VARIABLE_VALUE', 'DT_FLOAT', [2]],
    ],
  );

test('the model root binds two levels deep, child by child, and the extra objects are listed', () => {
  const b = bindCheckpoint(savedModel(), deep());
  assert.deepEqual(Object.fromEntries(b.keyMap), {
    'flag/.ATTRIBUTES/VARIABLE_VALUE': 'trainer/model/flag/.ATTRIBUTES/VARIABLE_VALUE',
    'net/scale/.ATTRIBUTES/VARIABLE_VALUE': 'trainer/model/net/scale/.ATTRIBUTES/VARIABLE_VALUE',
  });
  assert.equal(b.coverage.root, 'trainer/model');
  assert.equal(`${b.coverage.matched}/${b.coverage.total}`, '2/2');
  assert.deepEqual(b.coverage.extra, ['save_counter/.ATTRIBUTES/VARIABLE_VALUE', 'trainer/step/.ATTRIBUTES/VARIABLE_VALUE']);
  assert.match(b.coverage.restoreCall ?? '', /"trainer" → "model"/);
});

test('a shape or dtype mismatch says TensorFlow will refuse the checkpoint', () => {
  const c = deep();
  c.entries.find((e) => e.key.endsWith('scale/.ATTRIBUTES/VARIABLE_VALUE'))!.shape = [3];
  c.entries.find((e) => e.key.endsWith('flag/.ATTRIBUTES/VARIABLE_VALUE'))!.dtype = 'DT_INT64';
  const b = bindCheckpoint(savedModel(), c);
  assert.equal(b.coverage.mismatches.length, 2);
  assert.match(b.coverage.refused ?? '', /^TensorFlow will refuse this checkpoint: flag\/\.ATTRIBUTES\/VARIABLE_VALUE has dtype DT_INT64 in the checkpoint, DT_INT32 in the model/);
});

test('two roots that bind equally: both are candidates, the conventional `model` first', () => {
  const c = checkpoint(
    [obj([['ema', 1], ['model', 2]]), obj([['flag', 3]]), obj([['flag', 4]]), obj([], 'ema/flag/.ATTRIBUTES/VARIABLE_VALUE'), obj([], 'model/flag/.ATTRIBUTES/VARIABLE_VALUE')],
    [['ema/flag/.ATTRIBUTES/VARIABLE_VALUE', 'DT_INT32', []], ['model/flag/.ATTRIBUTES/VARIABLE_VALUE', 'DT_INT32', []]],
  );
  const all = candidateBindings(savedModel(), c);
  assert.deepEqual(all.map((b) => b.coverage.root), ['model', 'ema']);
  assert.equal(all[0]!.coverage.candidates, 2);
  assert.deepEqual(all[0]!.coverage.alternatives, ['ema']);
  assert.deepEqual(all[0]!.coverage.missing, ['net/scale/.ATTRIBUTES/VARIABLE_VALUE']);
});

test('a cyclic or self-referencing checkpoint graph terminates', () => {
  const c = checkpoint([obj([['flag', 1], ['net', 0]]), obj([['loop', 1]], 'flag/.ATTRIBUTES/VARIABLE_VALUE')], [['flag/.ATTRIBUTES/VARIABLE_VALUE', 'DT_INT32', []]]);
  const b = bindCheckpoint(savedModel(), c);
  assert.equal(b.keyMap.get('flag/.ATTRIBUTES/VARIABLE_VALUE'), 'flag/.ATTRIBUTES/VARIABLE_VALUE');
  const tree = checkpointObjects(c.objectGraph!);
  assert.deepEqual(tree.objects.map((o) => o.path.join('/') + (o.sameAs ? ` = ${o.sameAs.join('/') || '(root)'}` : '')), ['', 'flag', 'flag/loop = flag', 'net = (root)']);
});

test('a checkpoint of another model binds nothing and says so', () => {
  const c = checkpoint([obj([['model', 1]]), obj([['weights', 2]]), obj([], 'model/weights/.ATTRIBUTES/VARIABLE_VALUE')], [['model/weights/.ATTRIBUTES/VARIABLE_VALUE', 'DT_FLOAT', [3]]]);
  const b = bindCheckpoint(savedModel(), c);
  assert.equal(b.coverage.differentModel, true);
  assert.equal(b.coverage.matched, 0);
});

test('name-based: by variable name, scope remaps as init_from_checkpoint takes them, and a hint when a scope explains the misses', () => {
  const c = checkpoint([], [['tower0/flag', 'DT_INT32', []], ['tower0/scale', 'DT_FLOAT', [2]]]);
  delete c.objectGraph;
  const plain = bindCheckpoint(savedModel(), c);
  assert.equal(plain.coverage.method, 'names');
  assert.equal(plain.coverage.matched, 0);
  assert.ok(plain.coverage.notes.some((n) => n.includes('--checkpoint-map tower0/=')), plain.coverage.notes.join('; '));
  const mapped = bindCheckpoint(savedModel(), c, [parseScopeRemap('tower0/=')]);
  assert.deepEqual(Object.fromEntries(mapped.keyMap), { 'flag/.ATTRIBUTES/VARIABLE_VALUE': 'tower0/flag', 'net/scale/.ATTRIBUTES/VARIABLE_VALUE': 'tower0/scale' });
  assert.throws(() => parseScopeRemap('tower0'), /expected OLD=NEW/);
});

test('verifyCheckpoint: crc, bounds and size failures each name the data file (written by our writer, then damaged)', async () => {
  const dir = tempDir();
  const prefix = join(dir, 'ckpt');
  await writeTensorBundle(prefix, [
    { key: 'a', dtype: 'DT_FLOAT', shape: [4], values: [1, 2, 3, 4] },
    { key: 'b', dtype: 'DT_INT32', shape: [2], values: [7, 8] },
  ]);
  assert.deepEqual(await verifyCheckpoint(await openCheckpoint(prefix)), []);
  const data = `${prefix}.data-00000-of-00001`;
  const bytes = readFileSync(data);
  bytes[0] ^= 0xff;
  writeFileSync(data, bytes);
  const crc = await verifyCheckpoint(await openCheckpoint(prefix));
  assert.equal(crc.length, 1);
  assert.match(crc[0]!, /ckpt\.data-00000-of-00001: tensor "a": block crc32c mismatch/);
  truncateSync(data, 10);
  const cut = await verifyCheckpoint(await openCheckpoint(prefix));
  assert.ok(cut.some((p) => /tensor "b" at offset 16 with 8 bytes points outside the 10-byte data file/.test(p)), cut.join('\n'));
  const lying = await openCheckpoint(prefix);
  lying.entries.find((e) => e.key === 'a')!.shape = [2];
  assert.ok((await verifyCheckpoint(lying)).some((p) => /shape DT_FLOAT\[2\] needs 8 bytes but the entry holds 16/.test(p)));
});

test('an unreadable checkpoint stays in the activation list as unknown, with an integrity finding in JSON, text and SARIF', async () => {
  const model = savedModel();
  const report = await scanModel(model, { checkpoints: [{ label: '/c/broken', checkpoint: null, unreadable: '/c/broken.data-00000-of-00001: truncated', integrity: ['/c/broken.data-00000-of-00001: tensor "flag" points outside the 3-byte data file'] }], toolVersion: 'test' });
  const f = report.findings.find((x) => x.capability === 'integrity');
  assert.ok(f);
  assert.equal(f.severity, 'high');
  assert.equal(f.trigger.activation[0]?.state, 'unknown');
  assert.match(renderTextReport(report), /integrity\s+checkpoint/);
  const sarif = renderSarif(report) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
  assert.equal(sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, 'file:///c/broken.data-00000-of-00001');
});

test('weight values: changed / unchanged / not compared, listed in model order, and the summary line says a not-compared weight is unknown', () => {
  const pairs = ['a', 'b', 'c', 'd'].map((v) => ({ variable: `layers/${v}/vars/0`, checkpointKey: `layers/${v}/vars/0` }));
  const v = weightValueComparison(
    pairs,
    [
      { compared: true, elementsChanged: 0, elements: 4, maxAbsDiff: 0 },
      { compared: true, elementsChanged: 3, elements: 4, maxAbsDiff: 0.000125 },
      { compared: false, reason: '5000000 elements, above the per-weight comparison limit of 4000000' },
    ],
    { maxElementsPerWeight: 4_000_000, maxTotalElements: 32_000_000 },
  );
  // The fourth pair has no result: not compared, never unchanged.
  assert.deepEqual([v.changed, v.unchanged, v.notCompared], [1, 1, 2]);
  assert.deepEqual(v.changedWeights.map((w) => w.variable), ['layers/b/vars/0']);
  assert.deepEqual(v.notComparedWeights.map((w) => w.variable), ['layers/c/vars/0', 'layers/d/vars/0']);
  assert.equal(
    valueSummary(v),
    "values against the model's own: 1 changed, 1 unchanged, 2 not compared; changed: layers/b/vars/0 (3 of 4 values, max |Δ| 1.250e-4); not compared (their effect is unknown): layers/c/vars/0: 5000000 elements, above the per-weight comparison limit of 4000000, layers/d/vars/0: no comparison result",
  );
});
