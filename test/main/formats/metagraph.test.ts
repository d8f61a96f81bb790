// TF1 MetaGraphDef exports (../shared/corpus/real): binary .meta and a text-format MetaGraphDef
// hiding behind a .pb name; collections, saver, variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readMetaGraph, decodeMetaGraphDefBytes } from '../../../main/formats/metagraph.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';

const facts = JSON.parse(readFileSync(real('FACTS.json'), 'utf8')) as Record<string, { files: Record<string, Record<string, unknown>> }>;
const ops = (nodes: { op: string }[]): string[] => [...new Set(nodes.map((n) => n.op))].sort();

test('tfnet_metagraphs: op sets, versions and collections of all three .meta files', { skip: skipWithoutCorpus }, async () => {
  for (const file of ['cond_test.meta', 'kmeans.meta', 'xor.meta']) {
    const meta = await readMetaGraph(real('tfnet_metagraphs', file));
    const expected = facts.tfnet_metagraphs!.files[file]!;
    assert.deepEqual(ops(meta.graph.nodes), expected.graph_op_types, file);
    assert.equal(meta.graph.nodes.length, expected.num_nodes, file);
    assert.equal(meta.graph.producer, expected.graph_producer, file);
    assert.equal(meta.tensorflowVersion, expected.tensorflow_version, file);
    assert.deepEqual(Object.keys(meta.collections).sort(), expected.collection_keys, file);
    assert.deepEqual(meta.strippedOpList.map((o) => o.name).sort(), expected.stripped_op_list, file);
  }
  const kmeans = await readMetaGraph(real('tfnet_metagraphs', 'kmeans.meta'));
  assert.equal(kmeans.collections.variables!.kind, 'bytes_list');
  assert.equal(kmeans.collections.variables!.values.length, 3);
});

test('text MetaGraphDef behind a .pb name (tf_framework_metrics_export_meta_graph)', { skip: skipWithoutCorpus }, async () => {
  const meta = await readMetaGraph(real('tf_framework_metrics_export_meta_graph', 'metrics_export_meta_graph.pb'));
  const expected = facts.tf_framework_metrics_export_meta_graph!.files['metrics_export_meta_graph.pb']!;
  assert.deepEqual(ops(meta.graph.nodes), expected.graph_op_types);
  assert.equal(meta.graph.nodes.length, expected.num_nodes);
});

test('TF1 export.meta keeps the saver and its V1/V2 checkpoint version', { skip: skipWithoutCorpus }, async () => {
  const v1 = await readMetaGraph(real('serving_half_plus_two_tf1_v1ckpt', '00000123', 'export.meta'));
  const v2 = await readMetaGraph(real('serving_half_plus_two_tf1_v2ckpt', '00000123', 'export.meta'));
  assert.ok(v1.saverDef && v2.saverDef);
  assert.equal(v2.saverDef!.version, 2);
  assert.notEqual(v1.saverDef!.version, 2);
});

test('a MetaGraphDef whose signature map entry is cut short is a ModelError', () => {
  // field 5 (signature_def) entry claiming 10 bytes with 2 present
  assert.throws(() => decodeMetaGraphDefBytes(Uint8Array.from([0x2a, 0x0a, 0x0a, 0x00]), 'x.meta'), (e: unknown) =>
    e instanceof ModelError && e.file === 'x.meta' && /invalid MetaGraphDef protobuf/.test(e.reason));
  // a signature value that is not a valid SignatureDef
  assert.throws(() => decodeMetaGraphDefBytes(Uint8Array.from([0x2a, 0x05, 0x12, 0x03, 0x0a, 0x05, 0x00]), 'y.meta'), ModelError);
});
