// openModel over the whole real corpus (../shared/corpus/real): every folder and every model
// file FACTS.json lists either opens or fails with a ModelError whose reason says why; graph
// facts (node counts, op sets of the graph and of library functions, tags, signatures) must
// match FACTS.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openModel, ModelError } from '../../../main/formats/index.ts';
import type { MetaGraphIR, ModelIR } from '../../../shared/ir.ts';
import { REAL, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { writeFileSync } from 'node:fs';

interface MetaFacts {
  tags?: string[];
  num_nodes?: number;
  graph_op_types?: string[];
  op_types?: string[];
  function_op_types?: string[];
  num_library_functions?: number;
  signatures?: Record<string, unknown>;
  tensorflow_version?: string;
}
interface FileFacts extends MetaFacts {
  kind: string | null;
  meta_graphs?: MetaFacts[];
}

const facts = (): Record<string, { files: Record<string, FileFacts> }> => JSON.parse(readFileSync(join(REAL, 'FACTS.json'), 'utf8'));

/** Reasons a corpus folder may legitimately fail to open as a whole. */
const FOLDER_FAILURES = /no model found|holds \d+ models|model versions|incomplete SavedModel|holds \d+ checkpoints|not a checkpoint|unrecognised file|not supported yet/;

function checkMeta(meta: MetaGraphIR, expected: MetaFacts, where: string): void {
  const graphOps = [...new Set(meta.graph.nodes.map((n) => n.op))].sort();
  const functionOps = [...new Set(meta.graph.library.flatMap((f) => f.nodes.map((n) => n.op)))].filter((op) => !graphOps.includes(op)).sort();
  if (expected.num_nodes !== undefined) assert.equal(meta.graph.nodes.length, expected.num_nodes, `${where}: node count`);
  const ops = expected.graph_op_types ?? expected.op_types;
  if (ops) assert.deepEqual(graphOps, ops, `${where}: graph op types`);
  if (expected.function_op_types) assert.deepEqual(functionOps, expected.function_op_types, `${where}: function op types`);
  if (expected.num_library_functions !== undefined) assert.equal(meta.graph.library.length, expected.num_library_functions, `${where}: functions`);
  if (expected.tags) assert.deepEqual(meta.tags, expected.tags, `${where}: tags`);
  if (expected.signatures) assert.deepEqual(meta.signatures.map((s) => s.key).sort(), Object.keys(expected.signatures).sort(), `${where}: signatures`);
}

async function openOrModelError(path: string): Promise<ModelIR | ModelError> {
  try {
    return await openModel(path);
  } catch (error) {
    assert.ok(error instanceof ModelError, `${path}: ${String(error)} is not a ModelError`);
    assert.ok(error.reason.length > 0 && error.file.length > 0);
    return error;
  }
}

test('every corpus folder opens or fails with a sensible ModelError', { skip: skipWithoutCorpus }, async () => {
  const folders = readdirSync(REAL).filter((name) => statSync(join(REAL, name)).isDirectory());
  assert.ok(folders.length >= 100, `${folders.length} folders`);
  let opened = 0;
  for (const folder of folders) {
    const result = await openOrModelError(join(REAL, folder));
    if (result instanceof ModelError) {
      assert.match(result.reason, FOLDER_FAILURES, `${folder}: ${result.message}`);
    } else {
      opened++;
      assert.ok(result.files.length > 0, `${folder}: files listed`);
    }
  }
  assert.ok(opened >= 60, `${opened} folders opened`);
});

test('every model file in FACTS.json opens (or fails cleanly) and its graph facts match', { skip: skipWithoutCorpus }, async () => {
  const protoKinds = new Set(['saved_model', 'metagraph', 'graphdef', 'graphdef_text']);
  const otherKinds = new Set(['bundle_index', 'v1_checkpoint', 'checkpoint_state', 'h5', 'keras_zip', 'tflite', 'chunked_proto']);
  let checked = 0;
  for (const [folder, entry] of Object.entries(facts())) {
    for (const [file, expected] of Object.entries(entry.files)) {
      const path = join(REAL, folder, file);
      if (expected.kind && protoKinds.has(expected.kind)) {
        const model = await openModel(path);
        const metas = expected.meta_graphs ?? [expected];
        assert.equal(model.metaGraphs.length, metas.length, `${folder}/${file}: meta graphs`);
        metas.forEach((m, i) => checkMeta(model.metaGraphs[i]!, m, `${folder}/${file}#${i}`));
        checked++;
      } else if (expected.kind && otherKinds.has(expected.kind)) {
        await openOrModelError(path);
      }
    }
  }
  assert.ok(checked >= 100, `${checked} protobuf model files checked`);
});

test('openModel formats: graph-def, meta-graph, checkpoint prefix, SavedModel file outside its folder', { skip: skipWithoutCorpus }, async () => {
  const graphDef = await openModel(real('tfonnx_regression_graphdef', 'frozen.pb'));
  assert.equal(graphDef.format, 'graph-def');
  assert.deepEqual(graphDef.metaGraphs[0]!.tags, []);
  assert.deepEqual(graphDef.files.map((f) => f.path), ['frozen.pb']);
  const meta = await openModel(real('tfnet_metagraphs', 'cond_test.meta'));
  assert.equal(meta.format, 'meta-graph');
  assert.deepEqual(Object.keys(meta.metaGraphs[0]!.collections), ['cond_context']);
  const ckpt = await openModel(real('tf_trt_mnist_ckpt', 'model.ckpt-46900'));
  assert.equal(ckpt.format, 'checkpoint');
  assert.ok(ckpt.checkpoint && ckpt.checkpoint.entries.length > 0);
  assert.deepEqual(ckpt.metaGraphs, []);
  assert.ok(ckpt.files.some((f) => f.path === 'model.ckpt-46900.index'));
  const text = await openModel(real('tf_framework_metrics_export_meta_graph', 'metrics_export_meta_graph.pb'));
  assert.equal(text.format, 'meta-graph');
  const dir = tempDir();
  const lone = join(dir, 'exported.bin');
  writeFileSync(lone, readFileSync(real('tabuse_rpc_call', 'saved_model.pb')));
  const loneModel = await openModel(lone);
  assert.equal(loneModel.format, 'saved-model');
  assert.equal(loneModel.checkpoint, undefined);
  assert.ok(loneModel.warnings[0]!.includes('outside its directory'));
});

test('serving_bad_half_plus_two and the 0-byte saved_model_config still open', { skip: skipWithoutCorpus }, async () => {
  const bad = await openModel(real('serving_bad_half_plus_two', '00000123', 'export.meta'));
  assert.deepEqual(bad.metaGraphs[0]!.signatures, []);
  const empty = await openModel(real('serving_saved_model_half_plus_two_cpu_with_empty_saved_model_config'));
  assert.deepEqual(empty.savedModel?.assetsExtra, ['saved_model_config.pb']);
});
