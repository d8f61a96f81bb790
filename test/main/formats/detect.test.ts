// Format detection by content: corpus files under misleading names (copies in temp dirs),
// TF Serving version folders, checkpoint prefixes, and protobufs built by our writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { classifyProtoBytes, classifyText, detectFormat, firstTextToken } from '../../../main/formats/detect.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { encodeGraphDef, encodeMetaGraphDef, encodeSavedModel, func, graph, metaGraph, node, attrType, constNode } from '../../../main/writer/graph.ts';
import { real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

/** Copies a corpus file into a temp dir under another name. */
function renamed(source: string, name: string): string {
  const dir = tempDir();
  const target = join(dir, name);
  copyFileSync(source, target);
  return target;
}

test('SavedModel directories, TF Serving version folders and incomplete models', { skip: skipWithoutCorpus }, async () => {
  const versioned = real('serving_saved_model_half_plus_two_cpu');
  assert.deepEqual(await detectFormat(versioned), { kind: 'saved-model', path: join(versioned, '00000123') });
  assert.deepEqual(await detectFormat(real('tabuse_rpc_call')), { kind: 'saved-model', path: real('tabuse_rpc_call') });
  const pbtxt = real('tf_cc_half_plus_two_pbtxt', '00000123');
  assert.deepEqual(await detectFormat(join(pbtxt, 'saved_model.pbtxt')), { kind: 'saved-model', path: pbtxt });
  await assert.rejects(detectFormat(real('serving_tf_text_regression_tf212_partial')), (e: unknown) =>
    e instanceof ModelError && /incomplete SavedModel: saved_model\.pb is missing/.test(e.reason));
  const two = tempDir();
  for (const v of ['1', '2']) cpSync(join(versioned, '00000123'), join(two, v), { recursive: true });
  await assert.rejects(detectFormat(two), (e: unknown) => e instanceof ModelError && /2 model versions \(1, 2\)/.test(e.reason));
});

test('binary protobufs are told apart by structure, whatever their names', { skip: skipWithoutCorpus }, async () => {
  const savedModel = renamed(real('tabuse_rpc_call', 'saved_model.pb'), 'model.meta');
  assert.deepEqual(await detectFormat(savedModel), { kind: 'saved-model-file', path: savedModel, text: false });
  const meta = renamed(real('tfnet_metagraphs', 'kmeans.meta'), 'frozen.pb');
  assert.deepEqual(await detectFormat(meta), { kind: 'meta-graph', path: meta, text: false });
  const graphDef = renamed(real('tfonnx_lstm_frozen', 'frozen.pb'), 'saved_model.pb');
  assert.deepEqual(await detectFormat(graphDef), { kind: 'graph-def', path: graphDef, text: false });
  for (const file of [real('dl4j_tf_lenet_frozen', 'lenet_frozen.pb'), real('rust_addition_graphdef', 'model.pb')]) {
    assert.equal((await detectFormat(file)).kind, 'graph-def', file);
  }
  for (const file of [real('serving_half_plus_two_tf1_v2ckpt', '00000123', 'export.meta'), real('tfonnx_regression_checkpoint', 'model.meta')]) {
    assert.equal((await detectFormat(file)).kind, 'meta-graph', file);
  }
});

test('text-format protos are recognised by their first field, even behind a .pb name', { skip: skipWithoutCorpus }, async () => {
  const metrics = real('tf_framework_metrics_export_meta_graph', 'metrics_export_meta_graph.pb');
  assert.deepEqual(await detectFormat(metrics), { kind: 'meta-graph', path: metrics, text: true });
  const graphText = real('tf_grappler_graphdefs', 'while_loop.pbtxt');
  assert.deepEqual(await detectFormat(graphText), { kind: 'graph-def', path: graphText, text: true });
  const modelTxt = real('dl4j_tf_cond_true', 'model.txt');
  assert.deepEqual(await detectFormat(modelTxt), { kind: 'graph-def', path: modelTxt, text: true });
  assert.equal(firstTextToken('# comment\n\n  node {\n name: "a" }'), 'node');
  assert.equal(classifyText(new TextEncoder().encode('meta_graphs {\n}')), 'saved-model');
  assert.equal(classifyText(new TextEncoder().encode('model_checkpoint_path: "x"')), 'checkpoint-state');
  assert.equal(classifyText(Uint8Array.from([0x0a, 0x03, 0x00, 0x01])), null);
});

test('checkpoints: index files, data shards, prefixes, state files and V1 tables', { skip: skipWithoutCorpus }, async () => {
  const dir = real('tf_trt_mnist_ckpt');
  assert.deepEqual(await detectFormat(join(dir, 'model.ckpt-46900.index')), { kind: 'checkpoint', path: join(dir, 'model.ckpt-46900.index') });
  assert.equal((await detectFormat(join(dir, 'model.ckpt-46900.data-00000-of-00001'))).kind, 'checkpoint');
  assert.deepEqual(await detectFormat(join(dir, 'model.ckpt-46900')), { kind: 'checkpoint', path: join(dir, 'model.ckpt-46900') });
  assert.equal((await detectFormat(join(dir, 'checkpoint'))).kind, 'checkpoint');
  assert.equal((await detectFormat(dir)).kind, 'checkpoint');
  const v1 = renamed(real('serving_half_plus_two_tf1_v1ckpt', '00000123', 'export'), 'weights.bin');
  assert.equal((await detectFormat(v1)).kind, 'checkpoint');
  const index = renamed(real('tf_feature_column_embedding_ckpt', 'embedding.ckpt.index'), 'model.pb');
  assert.equal((await detectFormat(index)).kind, 'checkpoint');
});

test('Keras, HDF5 and TFLite by magic bytes; broken and unknown files are ModelErrors', { skip: skipWithoutCorpus }, async () => {
  assert.equal((await detectFormat(renamed(real('binja_keras_custom_layer', 'malicious_model.h5'), 'x.pb'))).kind, 'keras-h5');
  assert.equal((await detectFormat(renamed(real('binja_keras_custom_layer', 'malicious_model.keras'), 'x.zip'))).kind, 'keras-v3');
  assert.equal((await detectFormat(renamed(real('serving_parse_example_tflite', '00000123', 'model.tflite'), 'model.pb'))).kind, 'tflite');
  const broken = real('tf_lite_testdata_flatc_from_json', 'test_model_broken.bin');
  await assert.rejects(detectFormat(broken), (e: unknown) => e instanceof ModelError && e.file === broken);
  const cpb = real('tf_cc_chunked_saved_model', 'chunked_model', 'saved_model.cpb');
  assert.deepEqual(await detectFormat(cpb), { kind: 'saved-model', path: real('tf_cc_chunked_saved_model', 'chunked_model') });
  const loneCpb = renamed(cpb, 'model.cpb');
  await assert.rejects(detectFormat(loneCpb), (e: unknown) => e instanceof ModelError && /chunked SavedModel \(saved_model\.cpb\) is not supported yet/.test(e.reason));
});

test('garbage, empty files and missing paths are ModelErrors naming the path', async () => {
  const dir = tempDir();
  const junk = join(dir, 'junk.pb');
  writeFileSync(junk, Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));
  await assert.rejects(detectFormat(junk), (e: unknown) => e instanceof ModelError && e.file === junk && /unrecognised/.test(e.reason));
  const empty = join(dir, 'empty.pb');
  writeFileSync(empty, '');
  await assert.rejects(detectFormat(empty), (e: unknown) => e instanceof ModelError && e.reason === 'empty file');
  await assert.rejects(detectFormat(join(dir, 'nope')), (e: unknown) => e instanceof ModelError && e.reason === 'no such file or directory');
  mkdirSync(join(dir, 'emptydir'));
  await assert.rejects(detectFormat(join(dir, 'emptydir')), (e: unknown) => e instanceof ModelError && /no model found/.test(e.reason));
});

test('classifyProtoBytes on writer-built messages, including ambiguous field layouts', () => {
  const fn = func('f', { inputs: [['x', 'DT_FLOAT']], outputs: [['y', 'DT_FLOAT']] }, [node('id', 'Identity', ['x'], { T: attrType('DT_FLOAT') })], { y: 'id:output:0' });
  const withNodes = graph([constNode('c', 'DT_FLOAT', [], [1]), node('n', 'Identity', ['c'], { T: attrType('DT_FLOAT') })]);
  const libraryOnly = { nodes: [], library: [fn], producer: null, minConsumer: null };
  assert.equal(classifyProtoBytes(encodeGraphDef(withNodes)), 'graph-def');
  assert.equal(classifyProtoBytes(encodeGraphDef(libraryOnly)), 'graph-def');
  assert.equal(classifyProtoBytes(encodeMetaGraphDef(metaGraph(withNodes))), 'meta-graph');
  assert.equal(classifyProtoBytes(encodeMetaGraphDef(metaGraph(libraryOnly, { tags: [] }))), 'meta-graph');
  assert.equal(classifyProtoBytes(encodeSavedModel([metaGraph(withNodes)])), 'saved-model');
  assert.equal(classifyProtoBytes(encodeSavedModel([metaGraph(libraryOnly)], 0)), 'saved-model');
  assert.equal(classifyProtoBytes(new Uint8Array(0)), null);
  assert.equal(classifyProtoBytes(Uint8Array.from([0xff, 0xff, 0xff])), null);
});

test('other TensorFlow protobufs beside a model are not mistaken for one', { skip: skipWithoutCorpus }, async () => {
  for (const file of [
    real('tabuse_demo_lambda_savedmodel', 'keras_metadata.pb'),
    real('tfnet_lstm_from_sequential', 'keras_metadata.pb'),
    real('tabuse_demo_lambda_savedmodel', 'fingerprint.pb'),
    real('serving_saved_model_half_plus_two_cpu_with_saved_model_config', '00000123', 'assets.extra', 'saved_model_config.pb'),
    real('tf_cc_x_plus_y_v2_debuginfo', 'debug', 'saved_model_debug_info.pb'),
  ]) {
    await assert.rejects(detectFormat(file), (e: unknown) => e instanceof ModelError && /unrecognised file/.test(e.reason), file);
  }
});

test('every file FACTS.json lists is detected as its kind (non-model files are refused)', { skip: skipWithoutCorpus }, async () => {
  const { readFileSync } = await import('node:fs');
  const facts = JSON.parse(readFileSync(real('FACTS.json'), 'utf8')) as Record<string, { files: Record<string, { kind: string | null }> }>;
  const expected: Record<string, string> = {
    saved_model: 'saved-model', metagraph: 'meta-graph', graphdef: 'graph-def', graphdef_text: 'graph-def', bundle_index: 'checkpoint',
    bundle_data: 'checkpoint', v1_checkpoint: 'checkpoint', checkpoint_state: 'checkpoint', h5: 'keras-h5', keras_zip: 'keras-v3',
    tflite: 'tflite', chunked_proto: 'saved-model',
  };
  let count = 0;
  for (const [folder, entry] of Object.entries(facts)) {
    for (const [file, info] of Object.entries(entry.files)) {
      const path = real(folder, file);
      const want = info.kind ? expected[info.kind] : undefined;
      let got: string;
      try {
        const detection = await detectFormat(path);
        got = detection.kind === 'saved-model-file' ? 'saved-model' : detection.kind;
      } catch (error) {
        assert.ok(error instanceof ModelError, `${path}: ${String(error)}`);
        got = 'refused';
      }
      assert.equal(got, want ?? 'refused', `${folder}/${file} (${info.kind})`);
      count++;
    }
  }
  assert.ok(count > 300, `${count} files`);
});
