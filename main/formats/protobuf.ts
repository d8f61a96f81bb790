// TensorFlow's protobuf schema (main/proto/*.proto) loaded with protobufjs, and converters from
// decoded messages to the model IR. Field names keep the .proto spelling (keepCase), so the
// same converters read what `Type.decode` returns and what the text-format parser builds.
import protobuf from 'protobufjs';
import { readFileSync, readdirSync } from 'node:fs';
import { join, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  ArgDefIR, AttrList, AttrValue, CollectionIR, FunctionIR, GraphIR, MetaGraphIR, NameAttrList, NodeIR,
  OpDefAttrIR, OpDefIR, SavedObjectGraphIR, SavedObjectIR, SaverDefIR, SignatureIR, TensorIR,
  TensorInfoIR, TensorShapeIR,
} from '../../shared/ir.ts';
import { LIMITS, ModelError } from './errors.ts';
import { bytesAsText, dtypeName, enumNumber, longToNumber, tensorProtoToIR, type TensorProtoLike } from './tensor.ts';
import { PRECOMPILED_DECODERS } from './proto-decoders.ts';

export const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));

/** The schema parsed from main/proto: every file, owned by other readers too, in one root. */
export function parseProtoFiles(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    isAbsolute(target) || target.startsWith('google/protobuf/') ? target : join(PROTO_DIR, target);
  const files = readdirSync(PROTO_DIR).filter((f) => f.endsWith('.proto')).sort().map((f) => join(PROTO_DIR, f));
  root.loadSync(files, { keepCase: true });
  return root;
}

/**
 * The same schema as JSON, written by scripts/build.mjs beside the compiled bundles (reading
 * it takes a fifth of the time parsing the .proto text does, at every worker start); null
 * when running from the sources.
 */
function precompiledRoot(): protobuf.Root | null {
  let text: string;
  try {
    text = readFileSync(new URL('./proto-schema.json', import.meta.url), 'utf8');
  } catch {
    return null;
  }
  return protobuf.Root.fromJSON(JSON.parse(text) as protobuf.INamespace);
}

/** The schema as the readers use it; `precompiled`: decoders generated ahead of time (the bundles' own by default). */
export function loadProtoRoot(precompiled: PrecompiledDecoders | null = PRECOMPILED_DECODERS, schema: protobuf.Root | null = precompiledRoot()): protobuf.Root {
  const root = schema ?? parseProtoFiles();
  root.resolveAll();
  acceptInvalidUtf8(root);
  decodeOnlyOnFirstUse(root, precompiled);
  return root;
}

/**
 * proto3 string fields default to strict UTF-8 checks, which would reject a whole model over
 * one bad byte in a name. An auditor needs to see such a model: decode loosely (U+FFFD), as
 * the fast wire decoder does. protobufjs keeps the resolved feature set on each field and
 * reads it when it generates the decoder, i.e. at the first decode.
 */
function acceptInvalidUtf8(ns: protobuf.NamespaceBase): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) {
      for (const field of nested.fieldsArray) {
        const resolved = field as unknown as { _features?: Record<string, unknown> };
        if (resolved._features) resolved._features = { ...resolved._features, utf8_validation: 'NONE' };
      }
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) acceptInvalidUtf8(nested);
  }
}

/** The parts of protobufjs's runtime this file drives directly (typed loosely by its .d.ts). */
const protobufRuntime = protobuf as unknown as {
  decoder(type: protobuf.Type): ((scope: Record<string, unknown>) => protobuf.Type['decode']) & { toString(): string };
};
const generateConstructor = (protobuf.Type as unknown as { generateConstructor(type: protobuf.Type): (() => protobuf.Constructor<object>) & { toString(): string } })
  .generateConstructor;

/** One message type's decoder and constructor, generated from the schema ahead of time. */
export interface PrecompiledDecoder {
  /** fieldSignature() of the type it was generated for: used only for the same fields. */
  fields: string;
  ctor: () => protobuf.Constructor<object>;
  decode: (Reader: typeof protobuf.Reader, types: unknown[], util: typeof protobuf.util, C: protobuf.Constructor<object>) => protobuf.Type['decode'];
}

export type PrecompiledDecoders = Readonly<Record<string, PrecompiledDecoder>>;

/**
 * protobufjs's Type.setup() generates five functions per message type (encode, decode, verify,
 * fromObject, toObject), each compiled from source at run time, the first time any of them is
 * called: a worker reading one small model paid for ~60 types × 5 before its first answer.
 * Readers only decode, so each type's first set-up now installs its decoder alone (and the
 * constructor it instantiates): the one generated at build time when there is one for exactly
 * these fields, else protobufjs's own. Then set-up goes back to protobufjs: a later encode,
 * verify, fromObject or toObject (the writers in main/writer encode) runs protobufjs's own full
 * set-up, which generates the same decoder again beside the rest.
 */
function decodeOnlyOnFirstUse(ns: protobuf.NamespaceBase, precompiled: PrecompiledDecoders | null): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) {
      const type = nested as protobuf.Type & { setup: () => protobuf.Type };
      type.setup = () => decodeOnlySetup(type, precompiled);
    }
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) decodeOnlyOnFirstUse(nested, precompiled);
  }
}

function decodeOnlySetup(type: protobuf.Type, precompiled: PrecompiledDecoders | null): protobuf.Type {
  const own = type as unknown as { setup?: unknown; decode: protobuf.Type['decode']; _ctor?: unknown };
  delete own.setup; // from now on protobufjs's own
  const ahead = precompiled && Object.prototype.hasOwnProperty.call(precompiled, type.fullName) ? precompiled[type.fullName]! : null;
  const usable = ahead !== null && ahead.fields === fieldSignature(type);
  // Setting or first reading ctor (which generates one) deletes an own `decode`: do it first.
  if (usable && !own._ctor) type.ctor = ahead.ctor();
  const C = type.ctor;
  const types = type.fieldsArray.map((field) => field.resolve().resolvedType);
  own.decode = usable ? ahead.decode(protobuf.Reader, types, protobuf.util, C) : protobufRuntime.decoder(type)({ Reader: protobuf.Reader, types, util: protobuf.util, C });
  return type;
}

/** What a generated decoder depends on: each field's number, name, type, label, and how strings are checked. */
export function fieldSignature(type: protobuf.Type): string {
  return type.fieldsArray
    .map((field) => {
      const resolved = field.resolve() as protobuf.Field & { _features?: Record<string, unknown>; keyType?: string; hasPresence?: boolean };
      const kind = resolved.resolvedType instanceof protobuf.Enum ? `enum:${resolved.resolvedType.fullName}` : resolved.resolvedType ? `msg:${resolved.resolvedType.fullName}` : resolved.type;
      return [resolved.id, resolved.name, kind, resolved.rule ?? '', resolved.keyType ?? '', resolved.map, resolved.repeated, resolved.packed, resolved.hasPresence, resolved._features?.utf8_validation ?? ''].join(':');
    })
    .join(';');
}

/** Source of the module scripts/build.mjs puts in place of proto-decoders.ts: every message type of `root`. */
export function precompiledDecodersModule(root: protobuf.Root): string {
  const entries: string[] = [];
  const visit = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        const decoder = protobufRuntime.decoder(nested).toString();
        const ctor = generateConstructor(nested).toString();
        entries.push(
          `${JSON.stringify(nested.fullName)}: {\n fields: ${JSON.stringify(fieldSignature(nested))},\n ctor: () => (${ctor}),\n decode: (Reader, types, util, C) => (${decoder}),\n}`,
        );
      }
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
    }
  };
  visit(root);
  return `// Generated by scripts/build.mjs from main/proto (main/formats/protobuf.ts precompiledDecodersModule).\nexport const PRECOMPILED_DECODERS = {\n${entries.join(',\n')}\n};\n`;
}

export const protoRoot: protobuf.Root = loadProtoRoot();

const type = (name: string): protobuf.Type => protoRoot.lookupType(`tensorflow.${name}`);

export const protoTypes = {
  SavedModel: type('SavedModel'),
  MetaGraphDef: type('MetaGraphDef'),
  MetaInfoDef: type('MetaGraphDef.MetaInfoDef'),
  GraphDef: type('GraphDef'),
  NodeDef: type('NodeDef'),
  AttrValue: type('AttrValue'),
  NameAttrList: type('NameAttrList'),
  TensorProto: type('TensorProto'),
  TensorShapeProto: type('TensorShapeProto'),
  OpDef: type('OpDef'),
  OpList: type('OpList'),
  FunctionDef: type('FunctionDef'),
  FunctionDefLibrary: type('FunctionDefLibrary'),
  VersionDef: type('VersionDef'),
  SaverDef: type('SaverDef'),
  CollectionDef: type('CollectionDef'),
  SignatureDef: type('SignatureDef'),
  TensorInfo: type('TensorInfo'),
  AssetFileDef: type('AssetFileDef'),
  SavedObjectGraph: type('SavedObjectGraph'),
  SavedObject: type('SavedObject'),
  StructuredValue: type('StructuredValue'),
  FingerprintDef: type('FingerprintDef'),
  TrackableObjectGraph: type('TrackableObjectGraph'),
  BundleHeaderProto: type('BundleHeaderProto'),
  BundleEntryProto: type('BundleEntryProto'),
  TensorSliceProto: type('TensorSliceProto'),
  SavedTensorSlices: type('SavedTensorSlices'),
  CheckpointState: type('CheckpointState'),
  VariableDef: type('VariableDef'),
} as const;

// ---------------------------------------------------------------------------------------------
// Message access helpers. Decoded messages carry defaults on their prototype; text-parsed ones
// may be plain objects. A field is "set" when it is an own, non-null property.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Msg = any;

function has(m: Msg, field: string): boolean {
  return m != null && Object.prototype.hasOwnProperty.call(m, field) && m[field] != null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function arr<T = Msg>(v: unknown): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function num(v: unknown): number {
  return v == null ? 0 : longToNumber(v);
}

/** A map field as [key, value] pairs: protobufjs gives an object, some producers an entry list. */
export function mapEntries<T = Msg>(v: unknown): [string, T][] {
  if (v == null) return [];
  if (Array.isArray(v)) return v.map((e: Msg) => [String(e?.key ?? ''), e?.value as T]);
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [String(k), x as T]);
  if (typeof v === 'object') return Object.entries(v as Record<string, T>);
  return [];
}

/** A plain record; a hostile `__proto__` key becomes an own property, not the prototype. */
export function put<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v.constructor === Uint8Array ? v : new Uint8Array(v);
  if (typeof v === 'string') return new TextEncoder().encode(v);
  return new Uint8Array(0);
}

// ---------------------------------------------------------------------------------------------
// Converters

export function toTensorShapeIR(shape: Msg): TensorShapeIR {
  if (shape == null) return { unknownRank: false, dims: [] };
  const dims = arr(shape.dim).map((d: Msg) => {
    const size = num(d?.size);
    return size < 0 ? -1 : size;
  });
  return { unknownRank: Boolean(shape.unknown_rank), dims };
}

export function toTensorIR(tensor: Msg, file: string): TensorIR {
  return tensorProtoToIR((tensor ?? {}) as TensorProtoLike, file);
}

function checkDepth(depth: number, file: string): void {
  if (depth > LIMITS.maxNestingDepth) throw new ModelError(file, `attribute values nested deeper than ${LIMITS.maxNestingDepth} levels`);
}

export function toNameAttrListIR(m: Msg, file: string, depth = 0): NameAttrList {
  checkDepth(depth, file);
  return { name: str(m?.name), attr: toAttrMap(m?.attr, file, depth + 1) };
}

export function toAttrMap(map: unknown, file: string, depth = 0): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const [key, value] of mapEntries(map)) put(out, key, toAttrValueIR(value, file, depth));
  return out;
}

function toAttrListIR(list: Msg, file: string, depth: number): AttrList {
  const out: AttrList = {};
  const s = arr(list.s);
  if (s.length) out.s = s.map(bytesOf);
  const i = arr(list.i);
  if (i.length) out.i = i.map(num);
  const f = arr<number>(list.f);
  if (f.length) out.f = f.map(Number);
  const b = arr(list.b);
  if (b.length) out.b = b.map(Boolean);
  const t = arr(list.type);
  if (t.length) out.type = t.map((x) => dtypeName(enumNumber(x)));
  const shape = arr(list.shape);
  if (shape.length) out.shape = shape.map(toTensorShapeIR);
  const tensor = arr(list.tensor);
  if (tensor.length) out.tensor = tensor.map((x) => toTensorIR(x, file));
  const func = arr(list.func);
  if (func.length) out.func = func.map((x) => toNameAttrListIR(x, file, depth + 1));
  return out;
}

export function toAttrValueIR(attr: Msg, file: string, depth = 0): AttrValue {
  checkDepth(depth, file);
  if (attr == null) return { type: 'none' };
  if (has(attr, 'list')) return { type: 'list', list: toAttrListIR(attr.list, file, depth) };
  if (has(attr, 's')) return { type: 's', s: bytesOf(attr.s) };
  if (has(attr, 'i')) return { type: 'i', i: num(attr.i) };
  if (has(attr, 'f')) return { type: 'f', f: Number(attr.f) };
  if (has(attr, 'b')) return { type: 'b', b: Boolean(attr.b) };
  if (has(attr, 'type')) return { type: 'type', dtype: dtypeName(enumNumber(attr.type)) };
  if (has(attr, 'shape')) return { type: 'shape', shape: toTensorShapeIR(attr.shape) };
  if (has(attr, 'tensor')) return { type: 'tensor', tensor: toTensorIR(attr.tensor, file) };
  if (has(attr, 'func')) return { type: 'func', func: toNameAttrListIR(attr.func, file, depth + 1) };
  if (has(attr, 'placeholder')) return { type: 'placeholder', placeholder: str(attr.placeholder) };
  return { type: 'none' };
}

export function toNodeIR(node: Msg, file: string): NodeIR {
  return {
    name: str(node?.name),
    op: str(node?.op),
    inputs: arr<string>(node?.input).map(str),
    device: str(node?.device),
    attr: toAttrMap(node?.attr, file),
  };
}

function toArgDefIR(arg: Msg): ArgDefIR {
  const out: ArgDefIR = { name: str(arg?.name) };
  const t = enumNumber(arg?.type ?? 0);
  if (t !== 0) out.type = dtypeName(t);
  if (str(arg?.type_attr)) out.typeAttr = arg.type_attr;
  if (str(arg?.number_attr)) out.numberAttr = arg.number_attr;
  if (str(arg?.type_list_attr)) out.typeListAttr = arg.type_list_attr;
  if (arg?.is_ref) out.isRef = true;
  return out;
}

export function toOpDefIR(op: Msg, file = ''): OpDefIR {
  const attrs: OpDefAttrIR[] = arr(op?.attr).map((a: Msg) => {
    const out: OpDefAttrIR = { name: str(a?.name), type: str(a?.type) };
    if (has(a, 'default_value')) out.defaultValue = toAttrValueIR(a.default_value, file);
    return out;
  });
  const out: OpDefIR = {
    name: str(op?.name),
    inputArgs: arr(op?.input_arg).map(toArgDefIR),
    outputArgs: arr(op?.output_arg).map(toArgDefIR),
    attrs,
    isStateful: Boolean(op?.is_stateful),
  };
  const description = str(op?.summary) || str(op?.description);
  if (description) out.description = description;
  return out;
}

function toStringMap(map: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of mapEntries(map)) put(out, k, str(v));
  return out;
}

export function toFunctionIR(fn: Msg, file: string): FunctionIR {
  const signature = toOpDefIR(fn?.signature, file);
  return {
    name: signature.name,
    signature,
    nodes: arr(fn?.node_def).map((n) => toNodeIR(n, file)),
    ret: toStringMap(fn?.ret),
    controlRet: toStringMap(fn?.control_ret),
    attr: toAttrMap(fn?.attr, file),
  };
}

export function toGraphIR(graph: Msg, file: string): GraphIR {
  const nodes = arr(graph?.node);
  const functions = arr(graph?.library?.function);
  if (nodes.length > LIMITS.maxNodes) throw new ModelError(file, `graph has ${nodes.length} nodes (limit ${LIMITS.maxNodes})`);
  if (functions.length > LIMITS.maxFunctions) throw new ModelError(file, `function library has ${functions.length} functions (limit ${LIMITS.maxFunctions})`);
  const versions = has(graph, 'versions') ? graph.versions : null;
  return {
    nodes: nodes.map((n) => toNodeIR(n, file)),
    library: functions.map((f) => toFunctionIR(f, file)),
    producer: versions ? num(versions.producer) : null,
    minConsumer: versions ? num(versions.min_consumer) : null,
  };
}

function tensorInfoComponents(info: Msg, depth: number): string[] {
  if (depth > LIMITS.maxNestingDepth) return [];
  if (has(info, 'coo_sparse')) {
    const c = info.coo_sparse;
    return [str(c.values_tensor_name), str(c.indices_tensor_name), str(c.dense_shape_tensor_name)];
  }
  if (has(info, 'composite_tensor')) {
    return arr(info.composite_tensor.components).flatMap((c: Msg) =>
      has(c, 'coo_sparse') || has(c, 'composite_tensor') ? tensorInfoComponents(c, depth + 1) : [str(c?.name)],
    );
  }
  return [];
}

export function toTensorInfoIR(info: Msg): TensorInfoIR {
  const out: TensorInfoIR = {
    name: str(info?.name),
    dtype: dtypeName(enumNumber(info?.dtype ?? 0)),
    shape: has(info, 'tensor_shape') ? toTensorShapeIR(info.tensor_shape) : null,
  };
  if (has(info, 'coo_sparse') || has(info, 'composite_tensor')) {
    out.name = '';
    out.components = tensorInfoComponents(info, 0);
  }
  return out;
}

export function toSignatureIR(key: string, sig: Msg): SignatureIR {
  const io = (map: unknown): Record<string, TensorInfoIR> => {
    const out: Record<string, TensorInfoIR> = {};
    for (const [k, v] of mapEntries(map)) put(out, k, toTensorInfoIR(v));
    return out;
  };
  return { key, methodName: str(sig?.method_name), inputs: io(sig?.inputs), outputs: io(sig?.outputs) };
}

function isPrintableUtf8(bytes: Uint8Array): string | null {
  for (const b of bytes) if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function toCollectionIR(c: Msg): CollectionIR {
  if (has(c, 'node_list')) return { kind: 'node_list', values: arr(c.node_list.value).map(str) };
  if (has(c, 'bytes_list')) {
    return { kind: 'bytes_list', values: arr(c.bytes_list.value).map((v) => { const b = bytesOf(v); return isPrintableUtf8(b) ?? bytesAsText(b, 256); }) };
  }
  if (has(c, 'int64_list')) return { kind: 'int64_list', values: arr(c.int64_list.value).map((v) => String(num(v))) };
  if (has(c, 'float_list')) return { kind: 'float_list', values: arr(c.float_list.value).map((v) => String(v)) };
  if (has(c, 'any_list')) return { kind: 'any_list', values: arr(c.any_list.value).map((v: Msg) => str(v?.type_url)) };
  return { kind: 'empty', values: [] };
}

function toSaverDefIR(s: Msg): SaverDefIR {
  return {
    filenameTensorName: str(s.filename_tensor_name),
    saveTensorName: str(s.save_tensor_name),
    restoreOpName: str(s.restore_op_name),
    version: enumNumber(s.version ?? 0, { LEGACY: 0, V1: 1, V2: 2 }),
    sharded: Boolean(s.sharded),
  };
}

const OBJECT_KINDS = ['user_object', 'asset', 'function', 'variable', 'bare_concrete_function', 'constant', 'resource', 'captured_tensor'];

/** TF escapes object names in checkpoint keys: `.` → `..`, `/` → `.S`. */
export function escapeLocalName(name: string): string {
  return name.replace(/\./g, '..').replace(/\//g, '.S');
}

/**
 * Checkpoint key prefixes of every object, as TensorFlow assigns them: the escaped local names
 * of the first path found breadth-first from the root, joined with `/`.
 */
export function objectPaths(children: { name: string; nodeId: number }[][]): (string | null)[] {
  const paths: (string | null)[] = children.map(() => null);
  if (children.length === 0) return paths;
  paths[0] = '';
  const queue = [0];
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q]!;
    for (const edge of children[id]!) {
      if (edge.nodeId < 0 || edge.nodeId >= children.length || paths[edge.nodeId] !== null) continue;
      const prefix = paths[id]!;
      paths[edge.nodeId] = prefix ? `${prefix}/${escapeLocalName(edge.name)}` : escapeLocalName(edge.name);
      queue.push(edge.nodeId);
    }
  }
  return paths;
}

export function toSavedObjectGraphIR(graph: Msg): SavedObjectGraphIR {
  const nodes: SavedObjectIR[] = arr(graph?.nodes).map((n: Msg, id: number) => {
    const kind = OBJECT_KINDS.find((k) => has(n, k)) ?? '';
    const object: SavedObjectIR = {
      id,
      kind,
      children: arr(n?.children).map((c: Msg) => ({ name: str(c?.local_name), nodeId: num(c?.node_id) })),
    };
    if (kind === 'variable') {
      const v = n.variable;
      object.variable = {
        name: str(v.name),
        dtype: dtypeName(enumNumber(v.dtype ?? 0)),
        shape: has(v, 'shape') ? toTensorShapeIR(v.shape) : null,
        trainable: Boolean(v.trainable),
      };
    } else if (kind === 'function') {
      object.concreteFunctions = arr(n.function.concrete_functions).map(str);
    } else if (kind === 'bare_concrete_function') {
      object.concreteFunctions = [str(n.bare_concrete_function.concrete_function_name)];
    } else if (kind === 'user_object') {
      object.userObjectIdentifier = str(n.user_object.identifier);
    } else if (kind === 'asset') {
      object.assetFileDefIndex = num(n.asset.asset_file_def_index);
    }
    return object;
  });
  const paths = objectPaths(nodes.map((n) => n.children));
  arr(graph?.nodes).forEach((n: Msg, id: number) => {
    const path = paths[id];
    if (path === null || path === undefined || id === 0) return;
    const attributes = nodes[id]!.kind === 'variable' ? ['VARIABLE_VALUE'] : [];
    for (const [name] of mapEntries(n?.saveable_objects)) if (!attributes.includes(name)) attributes.push(name);
    if (attributes.length) nodes[id]!.checkpointKeys = attributes.map((a) => `${path}/.ATTRIBUTES/${a}`);
  });
  // Optimizer slots (Adam's m and v...) are keyed by variable and optimizer path, not by an
  // object path of their own.
  arr(graph?.nodes).forEach((n: Msg, optimizerId: number) => {
    for (const ref of arr(n?.slot_variables)) {
      const original = paths[num(ref?.original_variable_node_id)];
      const optimizer = paths[optimizerId];
      const slot = nodes[num(ref?.slot_variable_node_id)];
      if (original == null || optimizer == null || !slot || slot.checkpointKeys) continue;
      slot.checkpointKeys = [`${original}/.OPTIMIZER_SLOT/${optimizer}/${escapeLocalName(str(ref?.slot_name))}/.ATTRIBUTES/VARIABLE_VALUE`];
    }
  });
  const concreteFunctions: SavedObjectGraphIR['concreteFunctions'] = {};
  for (const [name, fn] of mapEntries(graph?.concrete_functions)) {
    put(concreteFunctions, name, { boundInputs: arr((fn as Msg)?.bound_inputs).map(num) });
  }
  return { nodes, concreteFunctions };
}

/**
 * MetaGraphDef → MetaGraphIR. `graph` may be passed already converted (the fast binary path
 * decodes graph_def straight to IR); otherwise `meta.graph_def` is converted here.
 */
export function toMetaGraphIR(meta: Msg, file: string, graph?: GraphIR): MetaGraphIR {
  const info = has(meta, 'meta_info_def') ? meta.meta_info_def : {};
  const collections: Record<string, CollectionIR> = {};
  for (const [k, v] of mapEntries(meta?.collection_def)) put(collections, k, toCollectionIR(v));
  return {
    tags: arr(info.tags).map(str),
    tensorflowVersion: str(info.tensorflow_version),
    tensorflowGitVersion: str(info.tensorflow_git_version),
    strippedDefaultAttrs: Boolean(info.stripped_default_attrs),
    strippedOpList: arr(info.stripped_op_list?.op).map((op) => toOpDefIR(op, file)),
    // Map order on the wire is not meaningful (TF sorts when serialising deterministically).
    signatures: mapEntries(meta?.signature_def).map(([k, v]) => toSignatureIR(k, v)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    graph: graph ?? toGraphIR(has(meta, 'graph_def') ? meta.graph_def : {}, file),
    saverDef: has(meta, 'saver_def') ? toSaverDefIR(meta.saver_def) : null,
    collections,
    objectGraph: has(meta, 'object_graph_def') ? toSavedObjectGraphIR(meta.object_graph_def) : null,
    assetFiles: arr(meta?.asset_file_def).map((a: Msg) => ({ tensorName: str(a?.tensor_info?.name), filename: str(a?.filename) })),
  };
}

function readVarint(bytes: Uint8Array, at: { pos: number }, end: number): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (at.pos >= end || shift > 63) return -1;
    const b = bytes[at.pos++]!;
    if (shift < 49) result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result;
    shift += 7;
  }
}

/**
 * Walks the message fields of `bytes` as `type` and throws a ModelError when messages nest
 * deeper than LIMITS.maxNestingDepth. protobufjs itself recurses without a limit; this runs
 * first so hostile nesting is a clear error rather than a stack overflow. Malformed wire data
 * is left for the decoder to report.
 */
export function checkNesting(type: protobuf.Type, bytes: Uint8Array, file: string, start = 0, end = bytes.length, depth = 0): void {
  if (depth > LIMITS.maxNestingDepth) throw new ModelError(file, `${type.name} messages nested deeper than ${LIMITS.maxNestingDepth} levels`);
  const at = { pos: start };
  while (at.pos < end) {
    const tag = readVarint(bytes, at, end);
    if (tag < 0) return;
    const wire = tag % 8;
    const id = Math.floor(tag / 8);
    if (wire === 0) { if (readVarint(bytes, at, end) < 0) return; continue; }
    if (wire === 1) { at.pos += 8; continue; }
    if (wire === 5) { at.pos += 4; continue; }
    if (wire !== 2) return;
    const len = readVarint(bytes, at, end);
    if (len < 0 || at.pos + len > end) return;
    const payload = at.pos;
    at.pos += len;
    const field = type.fieldsById[id];
    const child = field?.resolvedType;
    if (!(child instanceof protobuf.Type)) continue;
    if (field instanceof protobuf.MapField) {
      const entry = { pos: payload };
      while (entry.pos < payload + len) {
        const t = readVarint(bytes, entry, payload + len);
        if (t < 0) break;
        const w = t % 8;
        if (w === 0) { if (readVarint(bytes, entry, payload + len) < 0) break; continue; }
        if (w === 1) { entry.pos += 8; continue; }
        if (w === 5) { entry.pos += 4; continue; }
        if (w !== 2) break;
        const l = readVarint(bytes, entry, payload + len);
        if (l < 0 || entry.pos + l > payload + len) break;
        if (Math.floor(t / 8) === 2) checkNesting(child, bytes, file, entry.pos, entry.pos + l, depth + 2);
        entry.pos += l;
      }
    } else {
      checkNesting(child, bytes, file, payload, payload + len, depth + 1);
    }
  }
}

/** Decodes `bytes` as `messageType`, turning any protobufjs failure into a ModelError for `file`. */
export function decodeMessage(messageType: protobuf.Type, bytes: Uint8Array, file: string, what = 'invalid protobuf'): Msg {
  try {
    checkNesting(messageType, bytes, file);
    return messageType.decode(bytes);
  } catch (error) {
    if (error instanceof ModelError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ModelError(file, `${what} (${messageType.name}): ${message}`);
  }
}
