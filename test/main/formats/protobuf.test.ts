// The .proto schema (main/proto) and the message → IR converters.
// - Wire compatibility: every message we define is compared field by field (number, type,
//   repeated) with the descriptors compiled into the installed TensorFlow (skips without it).
// - The reflection path (Type.decode + toMetaGraphIR) and the fast wire decoder give the same
//   IR on every SavedModel / MetaGraphDef / GraphDef in ../shared/corpus/real.
import { test } from 'node:test';
import { skipWithout } from '../../helpers/toolchain.ts';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import protobuf from 'protobufjs';
import {
  objectPaths, escapeLocalName, protoRoot, protoTypes, toAttrValueIR, toSignatureIR, toGraphIR, toMetaGraphIR, toNodeIR, toOpDefIR, toSavedObjectGraphIR,
  toTensorShapeIR,
} from '../../../main/formats/protobuf.ts';
import { decodeSavedModelBytes } from '../../../main/formats/savedmodel.ts';
import { decodeMetaGraphDefBytes } from '../../../main/formats/metagraph.ts';
import { decodeGraphDefBytes } from '../../../main/formats/graphdef.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { REAL, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { TF_PYTHON, skipWithoutTf } from '../../helpers/tensorflow.ts';


const TF_DESCRIPTOR_DUMP = `
import json, importlib, os, sys
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
mods = ['tensorflow.core.protobuf.saved_model_pb2', 'tensorflow.core.protobuf.meta_graph_pb2',
  'tensorflow.core.protobuf.fingerprint_pb2', 'tensorflow.core.protobuf.tensor_bundle_pb2',
  'tensorflow.core.util.saved_tensor_slice_pb2', 'tensorflow.python.training.checkpoint_state_pb2',
  'tensorflow.core.protobuf.trackable_object_graph_pb2', 'tensorflow.core.framework.variable_pb2',
  'tensorflow.core.framework.graph_debug_info_pb2']
from google.protobuf import descriptor_pool
for m in mods: importlib.import_module(m)
pool = descriptor_pool.Default()
out = {}
for name in json.loads(sys.stdin.read()):
    try:
        d = pool.FindMessageTypeByName(name)
    except KeyError:
        out[name] = None
        continue
    out[name] = {f.name: [f.number, f.type, f.is_repeated, (f.message_type or f.enum_type).full_name if (f.message_type or f.enum_type) else None] for f in d.fields}
print(json.dumps(out))
`;

// protobufjs type names → FieldDescriptor.TYPE_* numbers.
const SCALAR_TYPES: Record<string, number> = {
  double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8, string: 9, bytes: 12,
  uint32: 13, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18,
};

function ourMessages(ns: protobuf.NamespaceBase, out: protobuf.Type[] = []): protobuf.Type[] {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) ourMessages(nested, out);
  }
  return out;
}

test('every TensorFlow message we define is wire-compatible with TensorFlow\'s own descriptors', { skip: skipWithoutTf }, () => {
  const tf = protoRoot.lookup('tensorflow') as protobuf.Namespace;
  const types = ourMessages(tf).filter((t) => !t.options?.map_entry && !t.name.endsWith('Entry'));
  const names = types.map((t) => t.fullName.replace(/^\./, ''));
  const run = spawnSync(TF_PYTHON, ['-c', TF_DESCRIPTOR_DUMP], { input: JSON.stringify(names), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const theirs = JSON.parse(run.stdout) as Record<string, Record<string, [number, number, boolean, string | null]> | null>;
  let compared = 0;
  for (const type of types) {
    const name = type.fullName.replace(/^\./, '');
    const their = theirs[name];
    if (their === null) continue; // defined only by a newer/older TF, or another helper's file
    for (const field of type.fieldsArray) {
      const t: [number, number, boolean, string | null] | undefined = their![field.name];
      assert.ok(t, `${name}.${field.name} is not a field of TensorFlow's ${name}`);
      assert.equal(field.id, t[0], `${name}.${field.name} field number`);
      if (field.map) {
        assert.ok(t[2], `${name}.${field.name} is a map (repeated entries) in TF`);
        continue;
      }
      assert.equal(field.repeated, t[2], `${name}.${field.name} repeated`);
      field.resolve();
      if (field.resolvedType) assert.equal(field.resolvedType.fullName.replace(/^\./, ''), t[3], `${name}.${field.name} type`);
      else assert.equal(SCALAR_TYPES[field.type], t[1], `${name}.${field.name} scalar type`);
      compared++;
    }
    for (const theirField of Object.keys(their!)) assert.ok(type.fields[theirField], `${name} lacks TF field ${theirField}`);
  }
  assert.ok(compared > 250, `compared ${compared} fields`);
});

test('exported message types decode with the .proto field names (keepCase)', () => {
  const bytes = protoTypes.NodeDef.encode({ name: 'n', op: 'Const', input: ['^a'], attr: { dtype: { type: 1 } } }).finish();
  const decoded = protoTypes.NodeDef.decode(bytes) as unknown as Record<string, unknown>;
  assert.deepEqual(toNodeIR(decoded, 'f'), { name: 'n', op: 'Const', inputs: ['^a'], device: '', attr: { dtype: { type: 'type', dtype: 'DT_FLOAT' } } });
  for (const key of ['BundleHeaderProto', 'BundleEntryProto', 'SavedTensorSlices', 'CheckpointState', 'FingerprintDef', 'TrackableObjectGraph', 'TensorProto'] as const) {
    assert.ok(protoTypes[key] instanceof protobuf.Type, key);
  }
});

test('converters accept plain objects as a text parser builds them (maps as objects or entry lists)', () => {
  const node = toNodeIR({ name: 'x', op: 'Placeholder', attr: [{ key: 'dtype', value: { type: 'DT_STRING' } }, { key: 'shape', value: { shape: { unknown_rank: true } } }] }, 'f');
  assert.deepEqual(node.attr, { dtype: { type: 'type', dtype: 'DT_STRING' }, shape: { type: 'shape', shape: { unknownRank: true, dims: [] } } });
  const list = toAttrValueIR({ list: { i: ['3', 4], type: [1, 'DT_INT64'], s: [Buffer.from('a')] } }, 'f');
  assert.deepEqual(list, { type: 'list', list: { i: [3, 4], type: ['DT_FLOAT', 'DT_INT64'], s: [Uint8Array.from([97])] } });
  assert.deepEqual(toAttrValueIR({}, 'f'), { type: 'none' });
  assert.deepEqual(toTensorShapeIR({ dim: [{ size: -1 }, { size: 3 }] }), { unknownRank: false, dims: [-1, 3] });
  const op = toOpDefIR({ name: 'Op', input_arg: [{ name: 'x', type_attr: 'T', is_ref: true }], output_arg: [{ name: 'y', type: 1 }], attr: [{ name: 'T', type: 'type' }], is_stateful: true, summary: 's' });
  assert.deepEqual(op, { name: 'Op', inputArgs: [{ name: 'x', typeAttr: 'T', isRef: true }], outputArgs: [{ name: 'y', type: 'DT_FLOAT' }], attrs: [{ name: 'T', type: 'type' }], isStateful: true, description: 's' });
  const hostile = toNodeIR({ name: 'n', op: 'Const', attr: [{ key: '__proto__', value: { i: 1 } }] }, 'f');
  assert.deepEqual(Object.keys(hostile.attr), ['__proto__']);
  assert.equal(Object.getPrototypeOf(hostile.attr), Object.prototype);
});

test('attr values nested past the depth limit are a ModelError', () => {
  let attr: Record<string, unknown> = { i: 1 };
  for (let i = 0; i < 300; i++) attr = { func: { name: 'f', attr: { a: attr } } };
  assert.throws(() => toAttrValueIR(attr, 'deep.pbtxt'), (e: unknown) => e instanceof ModelError && e.file === 'deep.pbtxt' && /nested deeper/.test(e.reason));
});

test('checkpoint keys are derived from breadth-first object paths with TF\'s escaping', () => {
  assert.equal(escapeLocalName('a.b/c'), 'a..b.Sc');
  const paths = objectPaths([
    [{ name: 'layer', nodeId: 1 }, { name: 'v', nodeId: 2 }],
    [{ name: 'kernel', nodeId: 3 }, { name: 'back', nodeId: 0 }],
    [],
    [{ name: 'again', nodeId: 2 }, { name: 'bad', nodeId: 99 }],
  ]);
  assert.deepEqual(paths, ['', 'layer', 'v', 'layer/kernel']);
  const graph = toSavedObjectGraphIR({
    nodes: [
      { children: [{ node_id: 1, local_name: 'w.x' }], user_object: { identifier: '_generic_user_object' } },
      { variable: { dtype: 1, shape: { dim: [{ size: 2 }] }, name: 'w', trainable: true } },
    ],
    concrete_functions: { f: { bound_inputs: [1] } },
  });
  assert.deepEqual(graph.nodes[1]!.checkpointKeys, ['w..x/.ATTRIBUTES/VARIABLE_VALUE']);
  assert.deepEqual(graph.nodes[1]!.variable, { name: 'w', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [2] }, trainable: true });
  assert.deepEqual(graph.concreteFunctions, { f: { boundInputs: [1] } });
});

/** Every binary SavedModel / MetaGraphDef / GraphDef file FACTS.json lists, with its kind. */
function corpusProtoFiles(): { file: string; kind: string }[] {
  const facts = JSON.parse(readFileSync(join(REAL, 'FACTS.json'), 'utf8')) as Record<string, { files: Record<string, { kind: string | null }> }>;
  const out: { file: string; kind: string }[] = [];
  for (const [folder, entry] of Object.entries(facts)) {
    for (const [file, info] of Object.entries(entry.files)) {
      if (info.kind === 'saved_model' || info.kind === 'metagraph' || info.kind === 'graphdef') out.push({ file: join(REAL, folder, file), kind: info.kind });
    }
  }
  return out.filter(({ file }) => existsSync(file) && statSync(file).isFile());
}

test('fast wire decoder and protobufjs reflection give identical IR on every corpus protobuf', { skip: skipWithoutCorpus }, () => {
  let compared = 0;
  for (const { file, kind } of corpusProtoFiles()) {
    const bytes = readFileSync(file);
    const text = bytes.subarray(0, 64).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
    if (text) continue; // text-format files behind binary names are covered by the pbtxt tests
    if (kind === 'saved_model') {
      const fast = decodeSavedModelBytes(bytes, file);
      const reflected = protoTypes.SavedModel.decode(bytes) as unknown as { meta_graphs: unknown[] };
      assert.deepEqual(fast.metaGraphs, reflected.meta_graphs.map((m) => toMetaGraphIR(m, file)), file);
    } else if (kind === 'metagraph') {
      assert.deepEqual(decodeMetaGraphDefBytes(bytes, file), toMetaGraphIR(protoTypes.MetaGraphDef.decode(bytes), file), file);
    } else {
      assert.deepEqual(decodeGraphDefBytes(bytes, file), toGraphIR(protoTypes.GraphDef.decode(bytes), file), file);
    }
    compared++;
  }
  assert.ok(compared >= 60, `compared ${compared} files`);
});

test('signature TensorInfo: COO sparse and composite tensors list their components', () => {
  const sig = toSignatureIR('s', {
    method_name: 'm',
    inputs: {
      sparse: { coo_sparse: { values_tensor_name: 'v:0', indices_tensor_name: 'i:0', dense_shape_tensor_name: 'd:0' }, dtype: 1 },
      ragged: { composite_tensor: { components: [{ name: 'vals:0', dtype: 1 }, { name: 'splits:0', dtype: 9 }] }, dtype: 0 },
    },
    outputs: { out: { name: 'y:0', dtype: 101 } },
  });
  assert.deepEqual(sig.inputs.sparse, { name: '', dtype: 'DT_FLOAT', shape: null, components: ['v:0', 'i:0', 'd:0'] });
  assert.deepEqual(sig.inputs.ragged, { name: '', dtype: 'DT_INVALID', shape: null, components: ['vals:0', 'splits:0'] });
  assert.deepEqual(sig.outputs.out, { name: 'y:0', dtype: 'DT_FLOAT_REF', shape: null });
});

test('invalid UTF-8 in string fields and map keys decodes loosely on the reflection path too', () => {
  const bytes = protoTypes.NodeDef.encode({ name: 'ab', op: 'Op', attr: { kk: { i: 1 } } }).finish();
  const patched = Uint8Array.from(bytes);
  patched[2] = 0xff; // first byte of the name
  const keyAt = Buffer.from(patched).indexOf('kk');
  patched[keyAt] = 0xfe;
  const node = toNodeIR(protoTypes.NodeDef.decode(patched), 'f');
  assert.equal(node.name, '\ufffdb');
  assert.deepEqual(Object.keys(node.attr), ['\ufffdk']);
});

const PROTOC = '/usr/bin/protoc';
const SYSTEM_PYTHON = '/usr/bin/python3';
const skipWithoutProtoc = skipWithoutCorpus || skipWithout('protoc', 'python3-protobuf');

test('text format printed by protobuf (python3-protobuf) reads back to the same IR as the binary', { skip: skipWithoutProtoc }, async () => {
  const { tempDir } = await import('../../helpers/corpus.ts');
  const { parseSavedModelText } = await import('../../../main/formats/savedmodel.ts');
  const { parseMetaGraphText } = await import('../../../main/formats/metagraph.ts');
  const { parseGraphDefText } = await import('../../../main/formats/graphdef.ts');
  const { PROTO_DIR } = await import('../../../main/formats/protobuf.ts');
  const out = tempDir();
  const protos = (await import('node:fs')).readdirSync(PROTO_DIR).filter((f) => f.endsWith('.proto'));
  const compiled = spawnSync(PROTOC, [`-I${PROTO_DIR}`, '-I/usr/include', `--python_out=${out}`, ...protos], { encoding: 'utf8' });
  assert.equal(compiled.status, 0, compiled.stderr);
  const files = corpusProtoFiles().filter(({ file }) => !readFileSync(file).subarray(0, 64).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)));
  const script = `
import sys, json
sys.path.insert(0, ${JSON.stringify(out)})
from google.protobuf import text_format
import saved_model_pb2, meta_graph_pb2, graph_pb2
kinds = {'saved_model': saved_model_pb2.SavedModel, 'metagraph': meta_graph_pb2.MetaGraphDef, 'graphdef': graph_pb2.GraphDef}
for i, (path, kind) in enumerate(json.loads(sys.stdin.read())):
    m = kinds[kind](); m.ParseFromString(open(path, 'rb').read())
    open(${JSON.stringify(out)} + '/%d.pbtxt' % i, 'w').write(text_format.MessageToString(m))
`;
  const printed = spawnSync(SYSTEM_PYTHON, ['-c', script], { input: JSON.stringify(files.map((f) => [f.file, f.kind])), encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(printed.status, 0, printed.stderr.slice(-2000));
  files.forEach(({ file, kind }, i) => {
    const text = readFileSync(join(out, `${i}.pbtxt`), 'utf8');
    const bytes = readFileSync(file);
    if (kind === 'saved_model') assert.deepEqual(parseSavedModelText(text, file).metaGraphs, decodeSavedModelBytes(bytes, file).metaGraphs, file);
    else if (kind === 'metagraph') assert.deepEqual(parseMetaGraphText(text, file), decodeMetaGraphDefBytes(bytes, file), file);
    else assert.deepEqual(parseGraphDefText(text, file), decodeGraphDefBytes(bytes, file), file);
  });
  assert.ok(files.length >= 60);
});
