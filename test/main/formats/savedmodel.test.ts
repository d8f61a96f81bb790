// SavedModel directories from ../shared/corpus/real (facts from PROVENANCE.md / FACTS.json)
// and hostile variants built in temp dirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readSavedModel, decodeSavedModelBytes, decodeFingerprint } from '../../../main/formats/savedmodel.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { copyToTemp, crafted, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

const facts = (folder: string, file: string): Record<string, unknown> =>
  (JSON.parse(readFileSync(real('FACTS.json'), 'utf8'))[folder].files[file]) as Record<string, unknown>;

const opsOf = (nodes: { op: string }[]): string[] => [...new Set(nodes.map((n) => n.op))].sort();

test('serving half_plus_two (cpu): tags, versions, signatures, ops, saver, assets, checkpoint', { skip: skipWithoutCorpus }, async () => {
  const dir = real('serving_saved_model_half_plus_two_cpu', '00000123');
  const model = await readSavedModel(dir);
  assert.equal(model.format, 'saved-model');
  assert.equal(model.savedModel?.schemaVersion, 1);
  assert.equal(model.metaGraphs.length, 1);
  const meta = model.metaGraphs[0]!;
  assert.deepEqual(meta.tags, ['serve']);
  assert.equal(meta.tensorflowVersion, '1.14.0');
  assert.equal(meta.graph.producer, 149);
  assert.equal(meta.graph.nodes.length, 74);
  const expected = (facts('serving_saved_model_half_plus_two_cpu', '00000123/saved_model.pb').meta_graphs as { graph_op_types: string[] }[])[0]!;
  assert.deepEqual(opsOf(meta.graph.nodes), expected.graph_op_types);
  assert.deepEqual(meta.signatures.map((s) => s.key).sort(), ['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default']);
  const serving = meta.signatures.find((s) => s.key === 'serving_default')!;
  assert.equal(serving.methodName, 'tensorflow/serving/predict');
  assert.deepEqual(serving.inputs.x, { name: 'x:0', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [-1, 1] } });
  assert.deepEqual(serving.outputs.y, { name: 'y:0', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [-1, 1] } });
  const classify = meta.signatures.find((s) => s.key === 'classify_x_to_y')!;
  // FACTS.json renders an unknown-rank shape as null; the IR keeps the distinction.
  assert.deepEqual(classify.inputs.inputs, { name: 'tf_example:0', dtype: 'DT_STRING', shape: { unknownRank: true, dims: [] } });
  assert.deepEqual(meta.saverDef, { filenameTensorName: 'save/Const:0', saveTensorName: 'save/Identity:0', restoreOpName: 'save/restore_all', version: 2, sharded: true });
  assert.deepEqual(Object.keys(meta.collections).sort(), ['asset_filepaths', 'saved_model_assets', 'saved_model_main_op', 'trainable_variables', 'variables']);
  assert.deepEqual(model.savedModel?.assets, ['foo.txt']);
  assert.deepEqual(meta.strippedOpList.map((o) => o.name).sort(), expected.graph_op_types);
  const variableV2 = meta.strippedOpList.find((o) => o.name === 'VariableV2')!;
  assert.equal(variableV2.isStateful, true);
  assert.deepEqual(variableV2.outputArgs, [{ name: 'ref', typeAttr: 'dtype', isRef: true }]);
  assert.ok(model.checkpoint, 'variables/variables read');
  assert.deepEqual(model.checkpoint!.entries.map((e) => e.key).sort(), ['a', 'a2', 'b', 'c', 'c2']);
  assert.deepEqual(model.files.map((f) => f.path), ['assets/foo.txt', 'saved_model.pb', 'variables/variables.data-00000-of-00001', 'variables/variables.index']);
  assert.equal(model.files[1]!.size, 12107);
  assert.match(model.files[1]!.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(model.warnings, []);
});

test('serving counter: signature outputs keep DT_FLOAT_REF and empty inputs', { skip: skipWithoutCorpus }, async () => {
  const model = await readSavedModel(real('serving_saved_model_counter', '00000123'));
  const sigs = Object.fromEntries(model.metaGraphs[0]!.signatures.map((s) => [s.key, s]));
  assert.deepEqual(sigs.get_counter!.inputs, {});
  assert.deepEqual(sigs.get_counter!.outputs.output, { name: 'counter:0', dtype: 'DT_FLOAT_REF', shape: { unknownRank: false, dims: [] } });
  assert.deepEqual(sigs.incr_counter_by!.inputs.delta!.shape, { unknownRank: true, dims: [] });
});

test('text SavedModel (tf_cc_half_plus_two_pbtxt) gives the same graph as facts', { skip: skipWithoutCorpus }, async () => {
  const model = await readSavedModel(real('tf_cc_half_plus_two_pbtxt', '00000123'));
  const expected = (facts('tf_cc_half_plus_two_pbtxt', '00000123/saved_model.pbtxt').meta_graphs as { graph_op_types: string[]; num_nodes: number }[])[0]!;
  assert.deepEqual(opsOf(model.metaGraphs[0]!.graph.nodes), expected.graph_op_types);
  assert.equal(model.metaGraphs[0]!.graph.nodes.length, expected.num_nodes);
  assert.ok(model.checkpoint);
});

test('TF2 SavedModel: ops hidden in library functions, object graph keys match the checkpoint', { skip: skipWithoutCorpus }, async () => {
  const model = await readSavedModel(real('tabuse_printv2_tmp_file'));
  const meta = model.metaGraphs[0]!;
  const libraryOps = new Set(meta.graph.library.flatMap((f) => f.nodes.map((n) => n.op)));
  assert.ok(libraryOps.has('PrintV2'), 'PrintV2 inside a function body');
  assert.ok(!meta.graph.nodes.some((n) => n.op === 'PrintV2'), 'not in the top-level graph');
  assert.ok(meta.objectGraph);
  const keys = meta.objectGraph!.nodes.flatMap((n) => n.checkpointKeys ?? []);
  assert.ok(keys.length > 0);
  const inCheckpoint = new Set(model.checkpoint!.entries.map((e) => e.key));
  for (const key of keys) assert.ok(inCheckpoint.has(key), `${key} is a checkpoint key`);
  assert.ok(model.savedModel?.fingerprint?.saved_model_checksum);
});

test('VarsAndArithmeticObjectGraph: fingerprint checksum kept exact (uint64), variables named', { skip: skipWithoutCorpus }, async () => {
  const model = await readSavedModel(real('tf_cc_VarsAndArithmeticObjectGraph'));
  assert.equal(model.savedModel?.fingerprint?.saved_model_checksum, '15788619162413586750');
  const variables = model.metaGraphs[0]!.objectGraph!.nodes.filter((n) => n.kind === 'variable');
  assert.ok(variables.length >= 2);
  for (const v of variables) assert.match(v.checkpointKeys![0]!, /\/\.ATTRIBUTES\/VARIABLE_VALUE$/);
  const functions = model.metaGraphs[0]!.objectGraph!.nodes.filter((n) => n.kind === 'function');
  assert.ok(functions.every((f) => (f.concreteFunctions ?? []).length > 0));
  for (const names of functions.map((f) => f.concreteFunctions!)) {
    for (const name of names) assert.ok(model.metaGraphs[0]!.objectGraph!.concreteFunctions[name], `${name} has bound inputs recorded`);
  }
});

test('fingerprint of tabuse_demo_lambda_savedmodel matches FACTS', { skip: skipWithoutCorpus }, () => {
  const fp = decodeFingerprint(readFileSync(real('tabuse_demo_lambda_savedmodel', 'fingerprint.pb')), 'fingerprint.pb');
  assert.equal(fp.saved_model_checksum, '14152667101970205802');
  assert.equal(fp.checkpoint_hash, '9495685710093586801');
  assert.equal(fp.version, 'producer 1, min_consumer 0');
});

test('keras_metadata.pb is flagged and parsed into model.keras', { skip: skipWithoutCorpus }, async () => {
  const model = await readSavedModel(real('tabuse_demo_lambda_savedmodel'));
  assert.equal(model.savedModel?.kerasMetadata, true);
  assert.ok(model.keras, `keras metadata parsed (warnings: ${model.warnings.join('; ')})`);
});

test('chunked SavedModel: a lone saved_model.cpb is a clear ModelError; beside a pbtxt it is only a warning', { skip: skipWithoutCorpus }, async () => {
  const dir = copyToTemp(real('tf_cc_chunked_saved_model', 'chunked_model'));
  const withText = await readSavedModel(dir);
  assert.ok(withText.warnings.some((w) => /chunked SavedModel part ignored/.test(w)));
  assert.equal(withText.metaGraphs[0]!.graph.library.length, 5);
  rmSync(join(dir, 'saved_model.pbtxt'));
  await assert.rejects(readSavedModel(dir), (e: unknown) => {
    assert.ok(e instanceof ModelError);
    assert.equal(e.file, join(dir, 'saved_model.cpb'));
    assert.equal(e.reason, 'chunked SavedModel (saved_model.cpb) is not supported yet');
    return true;
  });
});

test('fuzzed tf_cc_fuzz_* SavedModels open (renamed attrs, -1 dims, no schema version)', { skip: skipWithoutCorpus }, async () => {
  for (const folder of ['tf_cc_fuzz_bad_node_attr', 'tf_cc_fuzz_const_with_no_value', 'tf_cc_fuzz_negative_shape']) {
    const model = await readSavedModel(real(folder));
    assert.ok(model.metaGraphs.length >= 1, folder);
  }
  const bad = await readSavedModel(real('tf_cc_fuzz_bad_node_attr'));
  const attrNames = new Set(bad.metaGraphs.flatMap((m) => [...m.graph.nodes, ...m.graph.library.flatMap((f) => f.nodes)]).flatMap((n) => Object.keys(n.attr)));
  assert.ok(['valwe', 'valee'].some((n) => attrNames.has(n)), 'renamed attr keys are kept as found');
});

test('empty or truncated saved_model.pb fails with a ModelError naming the file', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'saved_model.pb'), Uint8Array.from([0x12, 0x05, 0x0a]));
  await assert.rejects(readSavedModel(dir), (e: unknown) => e instanceof ModelError && e.file === join(dir, 'saved_model.pb') && /invalid SavedModel protobuf/.test(e.reason));
  writeFileSync(join(dir, 'saved_model.pb'), new Uint8Array(0));
  const empty = await readSavedModel(dir);
  assert.deepEqual(empty.metaGraphs, []);
  assert.ok(empty.warnings.some((w) => /no meta graph/.test(w)));
  const none = tempDir();
  mkdirSync(join(none, 'variables'));
  await assert.rejects(readSavedModel(none), (e: unknown) => e instanceof ModelError && /no saved_model\.pb/.test(e.reason));
});

test('decodeSavedModelBytes: schema version and meta graph count from the wire', () => {
  // field 1 varint 1, field 2 empty MetaGraphDef twice
  const proto = decodeSavedModelBytes(Uint8Array.from([0x08, 0x01, 0x12, 0x00, 0x12, 0x00]), 'x.pb');
  assert.equal(proto.schemaVersion, 1);
  assert.equal(proto.metaGraphs.length, 2);
  assert.deepEqual(proto.metaGraphs[0]!.graph, { nodes: [], library: [], producer: null, minConsumer: null });
});

test('object graphs nested past the depth limit are refused before protobufjs recurses', () => {
  const ld = (field: number, payload: number[]): number[] => {
    const tag: number[] = [];
    let t = (field << 3) | 2;
    while (t >= 0x80) { tag.push((t & 0x7f) | 0x80); t >>>= 7; }
    tag.push(t);
    const len: number[] = [];
    let n = payload.length;
    while (n >= 0x80) { len.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
    len.push(n);
    return [...tag, ...len, ...payload];
  };
  let value: number[] = [0x70, 0x01]; // bool_value: true
  for (let i = 0; i < 3000; i++) value = ld(51, ld(1, value)); // list_value { values { ... } }
  const entry = [...ld(1, [0x66]), ...ld(2, ld(3, value))]; // "f" → { canonicalized_input_signature }
  const meta = ld(7, ld(2, entry)); // object_graph_def { concrete_functions { ... } }
  const bytes = Uint8Array.from([0x08, 0x01, ...ld(2, meta)]);
  assert.throws(() => decodeSavedModelBytes(bytes, 'deep/saved_model.pb'), (e: unknown) =>
    e instanceof ModelError && e.file === 'deep/saved_model.pb' && /nested deeper than 100 levels/.test(e.reason));
});

test('every TF2 corpus SavedModel: object-graph checkpoint keys and checkpoint VARIABLE_VALUE keys agree', { skip: skipWithoutCorpus }, async () => {
  const { readdirSync, existsSync } = await import('node:fs');
  let checked = 0;
  for (const folder of readdirSync(real())) {
    for (const sub of ['', '00000123', '01']) {
      const dir = real(folder, sub);
      if (!existsSync(join(dir, 'saved_model.pb'))) continue;
      const model = await readSavedModel(dir);
      const graph = model.metaGraphs[0]?.objectGraph;
      if (!graph || !model.checkpoint) continue;
      const derived = new Set(graph.nodes.flatMap((n) => n.checkpointKeys ?? []));
      const stored = model.checkpoint.entries.map((e) => e.key).filter((k) => k.endsWith('/.ATTRIBUTES/VARIABLE_VALUE'));
      for (const key of stored) assert.ok(derived.has(key), `${folder}: checkpoint key ${key} not derived from the object graph`);
      // tf_c_UninitializedVariable saves variables that were never initialised: no values stored.
      if (folder !== 'tf_c_UninitializedVariable') {
        const inCheckpoint = new Set(model.checkpoint.entries.map((e) => e.key));
        for (const key of derived) assert.ok(inCheckpoint.has(key), `${folder}: derived key ${key} missing from the checkpoint`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 30, `${checked} models checked`);
  const slots = await readSavedModel(real('tf_cc_OptimizerSlotVariableModule'));
  assert.ok(slots.metaGraphs[0]!.objectGraph!.nodes.some((n) => n.checkpointKeys?.some((k) => k.includes('/.OPTIMIZER_SLOT/'))));
});

test('a checkpoint whose Fingerprint64 differs from fingerprint.pb is reported (tf_cc_VarsAndArithmeticObjectGraph; a tampered copy)', { skip: skipWithoutCorpus }, async () => {
  const stale = await readSavedModel(real('tf_cc_VarsAndArithmeticObjectGraph'));
  assert.ok(stale.warnings.some((w) => /differs from checkpoint_hash 10788359570789890102 in fingerprint\.pb/.test(w)), stale.warnings.join('\n'));
  const clean = await readSavedModel(real('serving_saved_model_half_plus_two_tf2_cpu', '00000123'));
  assert.equal(clean.warnings.some((w) => /checkpoint_hash/.test(w)), false);
  const copy = copyToTemp(crafted('P1_trojan_if_writefile'));
  copyFileSync(join(copy, 'ckpt_active', 'ckpt.index'), join(copy, 'variables', 'variables.index'));
  copyFileSync(join(copy, 'ckpt_active', 'ckpt.data-00000-of-00001'), join(copy, 'variables', 'variables.data-00000-of-00001'));
  const swapped = await readSavedModel(copy);
  assert.ok(swapped.warnings.some((w) => /the checkpoint was changed after the SavedModel was exported/.test(w)), swapped.warnings.join('\n'));
});
