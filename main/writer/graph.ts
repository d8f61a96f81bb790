// Our own GraphDef / MetaGraphDef / SavedModel writer: small IR builders and encoders
// (IR → protobufjs message objects → bytes) that TensorFlow loads. Used by tests, the demo and
// the benchmark; the readers in main/formats turn the bytes back into the same IR.
import type {
  ArgDefIR, AttrList, AttrValue, DType, FunctionIR, GraphIR, MetaGraphIR, NameAttrList, NodeIR, OpDefIR,
  SavedObjectGraphIR, SignatureIR, TensorIR, TensorInfoIR, TensorShapeIR,
} from '../../shared/ir.ts';
import { protoTypes } from '../formats/protobuf.ts';
import { baseDtype, dtypeValue, elementCount } from '../formats/tensor.ts';
import { floatToBfloat16, floatToHalf } from './tensorbundle.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

const encoder = new TextEncoder();

function enumOf(dtype: DType): number {
  const value = dtypeValue(dtype);
  if (value === null) throw new Error(`unknown dtype ${dtype}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Builders

export function node(name: string, op: string, inputs: string[] = [], attr: Record<string, AttrValue> = {}, device = ''): NodeIR {
  return { name, op, inputs, device, attr };
}

export const attrS = (s: string | Uint8Array): AttrValue => ({ type: 's', s: typeof s === 'string' ? encoder.encode(s) : s });
export const attrI = (i: number): AttrValue => ({ type: 'i', i });
export const attrF = (f: number): AttrValue => ({ type: 'f', f });
export const attrB = (b: boolean): AttrValue => ({ type: 'b', b });
export const attrType = (dtype: DType): AttrValue => ({ type: 'type', dtype });
/** `null` dims: unknown rank. */
export const attrShape = (dims: number[] | null): AttrValue => ({ type: 'shape', shape: shapeIR(dims) });
export const attrFunc = (name: string, attr: Record<string, AttrValue> = {}): AttrValue => ({ type: 'func', func: { name, attr } });
export const attrList = (list: AttrList): AttrValue => ({ type: 'list', list });
export const attrPlaceholder = (name: string): AttrValue => ({ type: 'placeholder', placeholder: name });

export function shapeIR(dims: number[] | null): TensorShapeIR {
  return dims === null ? { unknownRank: true, dims: [] } : { unknownRank: false, dims };
}

/** A tensor value; strings may be given as text. Values are stored as given (TF repeats the last). */
export function tensor(dtype: DType, shape: number[], values: number[] | boolean[] | (string | Uint8Array)[]): TensorIR {
  const base = baseDtype(dtype);
  const out: TensorIR = { dtype, shape, elementCount: elementCount(shape), values: { kind: 'number', values: [] } };
  if (base === 'DT_STRING') out.values = { kind: 'string', values: (values as (string | Uint8Array)[]).map((v) => (typeof v === 'string' ? encoder.encode(v) : v)) };
  else if (base === 'DT_BOOL') out.values = { kind: 'bool', values: (values as boolean[]).map(Boolean) };
  else if (base === 'DT_COMPLEX64' || base === 'DT_COMPLEX128') out.values = { kind: 'complex', values: values as number[] };
  else out.values = { kind: 'number', values: values as number[] };
  return out;
}

export function attrTensor(dtype: DType, shape: number[], values: number[] | boolean[] | (string | Uint8Array)[]): AttrValue {
  return { type: 'tensor', tensor: tensor(dtype, shape, values) };
}

/** A `Const` node with its `value` and `dtype` attrs. */
export function constNode(name: string, dtype: DType, shape: number[], values: number[] | boolean[] | (string | Uint8Array)[]): NodeIR {
  return node(name, 'Const', [], { value: attrTensor(dtype, shape, values), dtype: attrType(dtype) });
}

type ArgSpec = ArgDefIR | [name: string, dtype: DType];

function argDef(spec: ArgSpec): ArgDefIR {
  return Array.isArray(spec) ? { name: spec[0], type: spec[1] } : spec;
}

/** A function: signature from (name, dtype) pairs or full ArgDefs, body nodes, output → `node:out:i`. */
export function func(
  name: string,
  signature: { inputs: ArgSpec[]; outputs: ArgSpec[]; isStateful?: boolean; attrs?: OpDefIR['attrs'] },
  nodes: NodeIR[],
  ret: Record<string, string>,
  options: { controlRet?: Record<string, string>; attr?: Record<string, AttrValue> } = {},
): FunctionIR {
  return {
    name,
    signature: {
      name,
      inputArgs: signature.inputs.map(argDef),
      outputArgs: signature.outputs.map(argDef),
      attrs: signature.attrs ?? [],
      isStateful: signature.isStateful ?? false,
    },
    nodes,
    ret,
    controlRet: options.controlRet ?? {},
    attr: options.attr ?? {},
  };
}

export function graph(nodes: NodeIR[], library: FunctionIR[] = [], producer = 1286, minConsumer = 12): GraphIR {
  return { nodes, library, producer, minConsumer };
}

// ---------------------------------------------------------------------------------------------
// IR → message objects (field names as in the .proto files).

export function shapeMessage(shape: TensorShapeIR): Msg {
  return shape.unknownRank ? { unknown_rank: true, dim: [] } : { dim: shape.dims.map((size) => ({ size })) };
}

export function tensorMessage(t: TensorIR): Msg {
  const base = baseDtype(t.dtype);
  const m: Msg = { dtype: enumOf(t.dtype) };
  if (t.shape !== null) m.tensor_shape = { dim: t.shape.map((size) => ({ size })) };
  const v = t.values;
  switch (v.kind) {
    case 'string': m.string_val = v.values; break;
    case 'bool': m.bool_val = v.values; break;
    case 'complex': if (base === 'DT_COMPLEX128') m.dcomplex_val = v.values; else m.scomplex_val = v.values; break;
    case 'unsupported': break;
    case 'number':
      switch (base) {
        case 'DT_FLOAT': m.float_val = v.values; break;
        case 'DT_DOUBLE': m.double_val = v.values; break;
        case 'DT_INT64': m.int64_val = v.values; break;
        case 'DT_UINT64': m.uint64_val = v.values; break;
        case 'DT_UINT32': m.uint32_val = v.values; break;
        case 'DT_HALF': m.half_val = v.values.map(floatToHalf); break;
        case 'DT_BFLOAT16': m.half_val = v.values.map(floatToBfloat16); break;
        default: m.int_val = v.values;
      }
  }
  return m;
}

function nameAttrListMessage(f: NameAttrList): Msg {
  return { name: f.name, attr: attrMapMessage(f.attr) };
}

function listMessage(list: AttrList): Msg {
  const m: Msg = {};
  if (list.s) m.s = list.s;
  if (list.i) m.i = list.i;
  if (list.f) m.f = list.f;
  if (list.b) m.b = list.b;
  if (list.type) m.type = list.type.map(enumOf);
  if (list.shape) m.shape = list.shape.map(shapeMessage);
  if (list.tensor) m.tensor = list.tensor.map(tensorMessage);
  if (list.func) m.func = list.func.map(nameAttrListMessage);
  return m;
}

export function attrValueMessage(a: AttrValue): Msg {
  switch (a.type) {
    case 's': return { s: a.s };
    case 'i': return { i: a.i };
    case 'f': return { f: a.f };
    case 'b': return { b: a.b };
    case 'type': return { type: enumOf(a.dtype) };
    case 'shape': return { shape: shapeMessage(a.shape) };
    case 'tensor': return { tensor: tensorMessage(a.tensor) };
    case 'list': return { list: listMessage(a.list) };
    case 'func': return { func: nameAttrListMessage(a.func) };
    case 'placeholder': return { placeholder: a.placeholder };
    case 'none': return {};
  }
}

function attrMapMessage(attr: Record<string, AttrValue>): Msg {
  const m: Msg = {};
  for (const [k, v] of Object.entries(attr)) m[k] = attrValueMessage(v);
  return m;
}

export function nodeMessage(n: NodeIR): Msg {
  const m: Msg = { name: n.name, op: n.op, input: n.inputs, attr: attrMapMessage(n.attr) };
  if (n.device) m.device = n.device;
  return m;
}

function argMessage(a: ArgDefIR): Msg {
  const m: Msg = { name: a.name };
  if (a.type) m.type = enumOf(a.type);
  if (a.typeAttr) m.type_attr = a.typeAttr;
  if (a.numberAttr) m.number_attr = a.numberAttr;
  if (a.typeListAttr) m.type_list_attr = a.typeListAttr;
  if (a.isRef) m.is_ref = true;
  return m;
}

export function opDefMessage(op: OpDefIR): Msg {
  const m: Msg = {
    name: op.name,
    input_arg: op.inputArgs.map(argMessage),
    output_arg: op.outputArgs.map(argMessage),
    attr: op.attrs.map((a) => (a.defaultValue ? { name: a.name, type: a.type, default_value: attrValueMessage(a.defaultValue) } : { name: a.name, type: a.type })),
  };
  if (op.isStateful) m.is_stateful = true;
  if (op.description) m.summary = op.description;
  return m;
}

export function functionMessage(f: FunctionIR): Msg {
  return {
    signature: opDefMessage({ ...f.signature, name: f.name }),
    node_def: f.nodes.map(nodeMessage),
    ret: { ...f.ret },
    control_ret: { ...f.controlRet },
    attr: attrMapMessage(f.attr),
  };
}

export function graphMessage(g: GraphIR): Msg {
  const m: Msg = { node: g.nodes.map(nodeMessage) };
  if (g.library.length) m.library = { function: g.library.map(functionMessage) };
  if (g.producer !== null || g.minConsumer !== null) m.versions = { producer: g.producer ?? 0, min_consumer: g.minConsumer ?? 0 };
  return m;
}

function tensorInfoMessage(t: TensorInfoIR): Msg {
  const m: Msg = { dtype: enumOf(t.dtype) };
  if (t.components && t.components.length) {
    if (t.components.length === 3 && !t.name) {
      m.coo_sparse = { values_tensor_name: t.components[0], indices_tensor_name: t.components[1], dense_shape_tensor_name: t.components[2] };
    } else m.composite_tensor = { components: t.components.map((name) => ({ name })) };
  } else m.name = t.name;
  if (t.shape) m.tensor_shape = shapeMessage(t.shape);
  return m;
}

function signatureMessage(s: SignatureIR): Msg {
  const io = (map: Record<string, TensorInfoIR>): Msg => Object.fromEntries(Object.entries(map).map(([k, v]) => [k, tensorInfoMessage(v)]));
  return { method_name: s.methodName, inputs: io(s.inputs), outputs: io(s.outputs) };
}

function objectGraphMessage(g: SavedObjectGraphIR): Msg {
  const nodes = g.nodes.map((n) => {
    const m: Msg = { children: n.children.map((c) => ({ node_id: c.nodeId, local_name: c.name })) };
    switch (n.kind) {
      case 'variable':
        m.variable = {
          dtype: enumOf(n.variable?.dtype ?? 'DT_FLOAT'),
          trainable: n.variable?.trainable ?? false,
          name: n.variable?.name ?? '',
        };
        if (n.variable?.shape) m.variable.shape = shapeMessage(n.variable.shape);
        break;
      case 'function': m.function = { concrete_functions: n.concreteFunctions ?? [] }; break;
      case 'bare_concrete_function': m.bare_concrete_function = { concrete_function_name: n.concreteFunctions?.[0] ?? '' }; break;
      case 'user_object': m.user_object = { identifier: n.userObjectIdentifier ?? '_generic_user_object' }; break;
      case 'asset': m.asset = { asset_file_def_index: n.assetFileDefIndex ?? 0 }; break;
      case 'constant': m.constant = {}; break;
      case 'resource': m.resource = {}; break;
      case 'captured_tensor': m.captured_tensor = {}; break;
    }
    return m;
  });
  const concrete: Msg = {};
  for (const [name, fn] of Object.entries(g.concreteFunctions)) concrete[name] = { bound_inputs: fn.boundInputs };
  return { nodes, concrete_functions: concrete };
}

export function metaGraphMessage(meta: MetaGraphIR): Msg {
  const info: Msg = {
    tags: meta.tags,
    tensorflow_version: meta.tensorflowVersion,
    tensorflow_git_version: meta.tensorflowGitVersion,
    stripped_default_attrs: meta.strippedDefaultAttrs,
  };
  if (meta.strippedOpList.length) info.stripped_op_list = { op: meta.strippedOpList.map(opDefMessage) };
  const m: Msg = {
    meta_info_def: info,
    graph_def: graphMessage(meta.graph),
    collection_def: {},
    signature_def: Object.fromEntries(meta.signatures.map((s) => [s.key, signatureMessage(s)])),
    asset_file_def: meta.assetFiles.map((a) => ({ tensor_info: { name: a.tensorName }, filename: a.filename })),
  };
  if (meta.saverDef) {
    m.saver_def = {
      filename_tensor_name: meta.saverDef.filenameTensorName,
      save_tensor_name: meta.saverDef.saveTensorName,
      restore_op_name: meta.saverDef.restoreOpName,
      version: meta.saverDef.version,
      sharded: meta.saverDef.sharded,
    };
  }
  for (const [key, c] of Object.entries(meta.collections)) {
    switch (c.kind) {
      case 'node_list': m.collection_def[key] = { node_list: { value: c.values } }; break;
      case 'bytes_list': m.collection_def[key] = { bytes_list: { value: c.values.map((v) => encoder.encode(v)) } }; break;
      case 'int64_list': m.collection_def[key] = { int64_list: { value: c.values.map(Number) } }; break;
      case 'float_list': m.collection_def[key] = { float_list: { value: c.values.map(Number) } }; break;
      default: m.collection_def[key] = {};
    }
  }
  if (meta.objectGraph) m.object_graph_def = objectGraphMessage(meta.objectGraph);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Encoders

export function encodeGraphDef(g: GraphIR): Uint8Array {
  return protoTypes.GraphDef.encode(graphMessage(g)).finish();
}

export function encodeMetaGraphDef(meta: MetaGraphIR): Uint8Array {
  return protoTypes.MetaGraphDef.encode(metaGraphMessage(meta)).finish();
}

export function encodeSavedModel(metaGraphs: MetaGraphIR[], schemaVersion = 1): Uint8Array {
  return protoTypes.SavedModel.encode({ saved_model_schema_version: schemaVersion, meta_graphs: metaGraphs.map(metaGraphMessage) }).finish();
}

/** A MetaGraphIR with defaults for everything but the graph (tags `serve`). */
export function metaGraph(g: GraphIR, options: Partial<Omit<MetaGraphIR, 'graph'>> = {}): MetaGraphIR {
  return {
    tags: ['serve'],
    tensorflowVersion: '2.21.0',
    tensorflowGitVersion: 'tfaudit-writer',
    strippedDefaultAttrs: false,
    strippedOpList: [],
    signatures: [],
    saverDef: null,
    collections: {},
    objectGraph: null,
    assetFiles: [],
    ...options,
    graph: g,
  };
}

/** A dense TensorInfo `name` (`node:0`) for signatures. */
export function tensorInfo(name: string, dtype: DType, dims: number[] | null = null): TensorInfoIR {
  return { name, dtype, shape: dims === null ? null : shapeIR(dims) };
}
