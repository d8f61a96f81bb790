// Our GraphDef/MetaGraphDef/SavedModel writer: encode → openModel gives back the same IR, and
// real TensorFlow (when /opt/tfvenv is present) loads and runs a SavedModel we wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { MetaGraphIR } from '../../../shared/ir.ts';
import {
  attrB, attrList, attrShape, attrType, attrS, constNode, encodeGraphDef, encodeMetaGraphDef, func, graph, metaGraph, node, tensorInfo, attrFunc,
} from '../../../main/writer/graph.ts';
import { writeSavedModelDir } from '../../../main/writer/savedmodel.ts';
import { openModel } from '../../../main/formats/index.ts';
import { decodeGraphDefBytes } from '../../../main/formats/graphdef.ts';
import { decodeMetaGraphDefBytes } from '../../../main/formats/metagraph.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { TF_PYTHON, skipWithoutTf } from '../../helpers/tensorflow.ts';


/** TF1-style y = a * x + b with variables a, b restored by a V2 saver. */
function halfPlusTwo(): MetaGraphIR {
  const f = attrType('DT_FLOAT');
  const variable = (name: string): ReturnType<typeof node> => node(name, 'VariableV2', [], { dtype: f, shape: attrShape([]), container: attrS(''), shared_name: attrS('') });
  const nodes = [
    node('x', 'Placeholder', [], { dtype: f, shape: attrShape([-1]) }),
    variable('a'),
    node('a/read', 'Identity', ['a'], { T: f }),
    variable('b'),
    node('b/read', 'Identity', ['b'], { T: f }),
    node('mul', 'Mul', ['a/read', 'x'], { T: f }),
    node('y', 'AddV2', ['mul', 'b/read'], { T: f }),
    constNode('save/filename', 'DT_STRING', [], ['model']),
    node('save/Const', 'PlaceholderWithDefault', ['save/filename'], { dtype: attrType('DT_STRING'), shape: attrShape([]) }),
    constNode('save/names', 'DT_STRING', [2], ['a', 'b']),
    constNode('save/slices', 'DT_STRING', [2], ['', '']),
    node('save/RestoreV2', 'RestoreV2', ['save/Const', 'save/names', 'save/slices'], { dtypes: attrList({ type: ['DT_FLOAT', 'DT_FLOAT'] }) }),
    node('save/Assign', 'Assign', ['a', 'save/RestoreV2'], { T: f, validate_shape: attrB(true), use_locking: attrB(true) }),
    node('save/Assign_1', 'Assign', ['b', 'save/RestoreV2:1'], { T: f, validate_shape: attrB(true), use_locking: attrB(true) }),
    node('save/restore_all', 'NoOp', ['^save/Assign', '^save/Assign_1']),
  ];
  return metaGraph(graph(nodes, [], 1286, 12), {
    signatures: [{ key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: tensorInfo('x:0', 'DT_FLOAT', [-1]) }, outputs: { y: tensorInfo('y:0', 'DT_FLOAT', [-1]) } }],
    saverDef: { filenameTensorName: 'save/Const:0', saveTensorName: 'save/Const:0', restoreOpName: 'save/restore_all', version: 2, sharded: false },
    collections: { variables: { kind: 'node_list', values: ['a:0', 'b:0'] } },
  });
}

test('SavedModel round trip: writeSavedModelDir → openModel gives the same meta graph IR', async () => {
  const dir = join(tempDir(), 'model');
  const meta = halfPlusTwo();
  meta.graph.library.push(func('cond_true', { inputs: [['p', 'DT_BOOL']], outputs: [['out', 'DT_STRING']], isStateful: true },
    [node('read', 'ReadFile', ['p'])], { out: 'read:contents:0' }, { attr: { _noinline: attrB(true) } }));
  meta.graph.nodes.push(node('call', 'StatefulPartitionedCall', ['x'], { f: attrFunc('cond_true'), Tin: attrList({ type: ['DT_BOOL'] }), Tout: attrList({ type: ['DT_STRING'] }) }));
  meta.objectGraph = {
    nodes: [
      { id: 0, kind: 'user_object', children: [{ name: 'v.x', nodeId: 1 }], userObjectIdentifier: '_generic_user_object' },
      { id: 1, kind: 'variable', children: [], variable: { name: 'v', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [] }, trainable: true }, checkpointKeys: ['v..x/.ATTRIBUTES/VARIABLE_VALUE'] },
    ],
    concreteFunctions: { cond_true: { boundInputs: [1] } },
  };
  meta.assetFiles = [{ tensorName: 'asset:0', filename: 'vocab.txt' }];
  meta.strippedOpList = [{ name: 'ReadFile', inputArgs: [{ name: 'filename', type: 'DT_STRING' }], outputArgs: [{ name: 'contents', type: 'DT_STRING' }], attrs: [], isStateful: false }];
  await writeSavedModelDir(dir, {
    metaGraphs: [meta],
    variables: [{ key: 'a', dtype: 'DT_FLOAT', shape: [], values: [0.5] }, { key: 'b', dtype: 'DT_FLOAT', shape: [], values: [2] }],
    files: { 'assets/vocab.txt': 'hello\n' },
  });
  const model = await openModel(dir);
  assert.equal(model.format, 'saved-model');
  assert.deepEqual(model.metaGraphs, [meta]);
  assert.deepEqual(model.savedModel?.assets, ['vocab.txt']);
  assert.deepEqual(model.checkpoint?.entries.map((e) => e.key), ['a', 'b']);
  assert.deepEqual(model.warnings, []);
});

test('GraphDef and MetaGraphDef encoders round trip through the readers', () => {
  const g = halfPlusTwo().graph;
  assert.deepEqual(decodeGraphDefBytes(encodeGraphDef(g), 'g.pb'), g);
  const meta = halfPlusTwo();
  assert.deepEqual(decodeMetaGraphDefBytes(encodeMetaGraphDef(meta), 'm.meta'), meta);
});

test('TensorFlow loads and runs a SavedModel written by our writer', { skip: skipWithoutTf }, async () => {
  const dir = join(tempDir(), 'half_plus_two');
  await writeSavedModelDir(dir, {
    metaGraphs: [halfPlusTwo()],
    variables: [{ key: 'a', dtype: 'DT_FLOAT', shape: [], values: [0.5] }, { key: 'b', dtype: 'DT_FLOAT', shape: [], values: [2] }],
  });
  const script = `
import os, sys, json
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
import tensorflow as tf
tf.compat.v1.disable_eager_execution()
with tf.compat.v1.Session(graph=tf.Graph()) as sess:
    meta = tf.compat.v1.saved_model.loader.load(sess, ['serve'], sys.argv[1])
    sig = meta.signature_def['serving_default']
    y = sess.run(sig.outputs['y'].name, {sig.inputs['x'].name: [1.0, 2.0, 4.0]})
    print(json.dumps([float(v) for v in y]))
`;
  const run = spawnSync(TF_PYTHON, ['-c', script, dir], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(run.status, 0, run.stderr.slice(-3000));
  assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').pop()!), [2.5, 3, 4]);
});
