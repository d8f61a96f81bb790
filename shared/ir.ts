// The model IR: what every format reader in main/formats produces and every consumer
// (analysis, CLI, renderer, report) reads. Plain data only (no classes, no functions), so it
// crosses process boundaries by structured clone. Byte strings stay Uint8Array: TensorFlow
// strings are bytes, and a nested GraphDef hidden in a string must survive exactly.

export type ModelFormat =
  | 'saved-model'
  | 'graph-def'
  | 'meta-graph'
  | 'checkpoint'
  | 'keras-v3'
  | 'keras-h5'
  | 'tflite';

/** TensorFlow DataType enum name, e.g. `DT_FLOAT`, `DT_FLOAT_REF`; `DT_INVALID` when unset. */
export type DType = string;

export interface FileEntry {
  /** Path relative to the model root (POSIX separators). */
  path: string;
  size: number;
  sha256: string;
}

export interface TensorShapeIR {
  unknownRank: boolean;
  /** -1 for an unknown dimension. */
  dims: number[];
}

/** Decoded tensor values. int64/uint64 become numbers (exact up to 2^53). */
export type TensorValues =
  | { kind: 'number'; values: number[] }
  | { kind: 'bool'; values: boolean[] }
  | { kind: 'string'; values: Uint8Array[] }
  | { kind: 'complex'; values: number[] } // interleaved re, im
  | { kind: 'unsupported'; reason: string };

export interface TensorIR {
  dtype: DType;
  /** null when the TensorProto carries no shape. */
  shape: number[] | null;
  /** Element count implied by the shape (null when not known). */
  elementCount: number | null;
  /** Values as stored; may be fewer than elementCount (TF repeats the last value to fill). */
  values: TensorValues;
  /** True when values were cut short by a size limit. */
  truncated?: boolean;
}

export interface NameAttrList {
  name: string;
  attr: Record<string, AttrValue>;
}

export interface AttrList {
  s?: Uint8Array[];
  i?: number[];
  f?: number[];
  b?: boolean[];
  type?: DType[];
  shape?: TensorShapeIR[];
  tensor?: TensorIR[];
  func?: NameAttrList[];
}

export type AttrValue =
  | { type: 's'; s: Uint8Array }
  | { type: 'i'; i: number }
  | { type: 'f'; f: number }
  | { type: 'b'; b: boolean }
  | { type: 'type'; dtype: DType }
  | { type: 'shape'; shape: TensorShapeIR }
  | { type: 'tensor'; tensor: TensorIR }
  | { type: 'list'; list: AttrList }
  | { type: 'func'; func: NameAttrList }
  | { type: 'placeholder'; placeholder: string }
  | { type: 'none' };

export interface NodeIR {
  name: string;
  op: string;
  /** As written: `node`, `node:1`, `node:out:0` (inside functions), `^ctrl`. */
  inputs: string[];
  device: string;
  attr: Record<string, AttrValue>;
}

export interface ArgDefIR {
  name: string;
  /** Fixed dtype, when the op fixes it. */
  type?: DType;
  typeAttr?: string;
  numberAttr?: string;
  typeListAttr?: string;
  isRef?: boolean;
}

export interface OpDefAttrIR {
  name: string;
  type: string;
  defaultValue?: AttrValue;
}

export interface OpDefIR {
  name: string;
  inputArgs: ArgDefIR[];
  outputArgs: ArgDefIR[];
  attrs: OpDefAttrIR[];
  isStateful: boolean;
  description?: string;
}

export interface FunctionIR {
  /** signature.name */
  name: string;
  signature: OpDefIR;
  nodes: NodeIR[];
  /** output arg name → `node:out:i` */
  ret: Record<string, string>;
  controlRet: Record<string, string>;
  attr: Record<string, AttrValue>;
}

export interface GraphIR {
  nodes: NodeIR[];
  library: FunctionIR[];
  producer: number | null;
  minConsumer: number | null;
}

export interface TensorInfoIR {
  /** `node:0` for dense tensors; empty for composite/COO tensors. */
  name: string;
  dtype: DType;
  shape: TensorShapeIR | null;
  /** For CooSparse / CompositeTensor encodings, the component tensor names. */
  components?: string[];
}

export interface SignatureIR {
  key: string;
  methodName: string;
  inputs: Record<string, TensorInfoIR>;
  outputs: Record<string, TensorInfoIR>;
}

export interface SaverDefIR {
  filenameTensorName: string;
  saveTensorName: string;
  restoreOpName: string;
  version: number;
  sharded: boolean;
}

export interface CollectionIR {
  kind: 'node_list' | 'bytes_list' | 'int64_list' | 'float_list' | 'any_list' | 'empty';
  /** node names / decoded strings / numbers rendered as text */
  values: string[];
}

/** SavedObjectGraph (TF2): which objects are variables and which checkpoint key restores them. */
export interface SavedObjectIR {
  id: number;
  kind: string; // 'variable' | 'function' | 'bare_concrete_function' | 'user_object' | 'asset' | 'constant' | 'resource' | 'captured_tensor' | ''
  /** Child edges: local name → node id. */
  children: { name: string; nodeId: number }[];
  variable?: { name: string; dtype: DType; shape: TensorShapeIR | null; trainable: boolean };
  concreteFunctions?: string[];
  userObjectIdentifier?: string;
  assetFileDefIndex?: number;
  /** Serialised TrackableObjectGraph attributes: checkpoint key for VARIABLE_VALUE etc. */
  checkpointKeys?: string[];
}

export interface SavedObjectGraphIR {
  nodes: SavedObjectIR[];
  /** concrete function name → bound input node ids (captures) */
  concreteFunctions: Record<string, { boundInputs: number[] }>;
}

export interface MetaGraphIR {
  tags: string[];
  tensorflowVersion: string;
  tensorflowGitVersion: string;
  strippedDefaultAttrs: boolean;
  strippedOpList: OpDefIR[];
  signatures: SignatureIR[];
  graph: GraphIR;
  saverDef: SaverDefIR | null;
  collections: Record<string, CollectionIR>;
  objectGraph: SavedObjectGraphIR | null;
  assetFiles: { tensorName: string; filename: string }[];
}

export interface BundleEntryIR {
  key: string;
  dtype: DType;
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  crc32c: number | null;
  /** When the tensor is saved in slices (partitioned variables). */
  slices?: number;
  /** Where each saved slice of a partitioned tensor lives (length -1 = the whole dimension). */
  sliceParts?: BundleSliceIR[];
}

export interface BundleSliceIR {
  extents: { start: number; length: number }[];
  shardId: number;
  offset: number;
  size: number;
  crc32c: number | null;
}

export interface CheckpointIR {
  /** Prefix as given (e.g. `<model>/variables/variables`), or the V1 file path. */
  prefix: string;
  version: 'v2' | 'v1';
  numShards: number;
  endianness: 'little' | 'big';
  entries: BundleEntryIR[];
  /** First ≤16 values per key, for display; filled by the reader for small tensors. */
  preview: Record<string, TensorIR>;
  /** TF2 object-based checkpoint: trackable graph decoded from _CHECKPOINTABLE_OBJECT_GRAPH. */
  objectGraph?: { nodes: { children: { name: string; nodeId: number }[]; attributes: { name: string; checkpointKey: string }[] }[] };
  /** Non-fatal problems met while reading (e.g. an undecodable object graph), each naming the file. */
  warnings?: string[];
}

export interface KerasLayerIR {
  /** JSON pointer-like path inside the config, e.g. `config.layers[3].config.layers[1]`. */
  path: string;
  className: string;
  name: string;
  module?: string;
  registeredName?: string;
  config: unknown;
}

export interface KerasIR {
  kerasVersion: string | null;
  backend: string | null;
  /** The full model config as JSON. */
  config: unknown;
  layers: KerasLayerIR[];
  weights: { path: string; dtype: string; shape: number[] }[];
  metadata: Record<string, unknown>;
}

export interface TfliteOperatorIR {
  subgraph: number;
  index: number;
  opcode: string; // builtin name, or custom code
  custom: boolean;
  /** For Flex ops, the TensorFlow op name behind it (`FlexReadFile` → `ReadFile`). */
  flexOp?: string;
  inputs: number[];
  outputs: number[];
}

export interface TfliteIR {
  version: number;
  description: string;
  operatorCodes: { builtin: string; customCode: string | null; version: number }[];
  subgraphs: {
    name: string;
    /** `stringValues`: the first values of a small constant STRING tensor (paths and URLs for Flex ops). */
    tensors: { name: string; type: string; shape: number[]; stringValues?: string[] }[];
    inputs: number[];
    outputs: number[];
    operators: TfliteOperatorIR[];
  }[];
  signatureDefs: { key: string; subgraph: number; inputs: string[]; outputs: string[] }[];
  metadata: { name: string; size: number }[];
  /** NodeDefs decoded from Flex custom options, when present. */
  flexNodes: { subgraph: number; operator: number; node: NodeIR }[];
}

export interface ModelIR {
  /** Absolute path of what was opened. */
  path: string;
  format: ModelFormat;
  files: FileEntry[];
  metaGraphs: MetaGraphIR[];
  savedModel?: {
    schemaVersion: number;
    fingerprint: Record<string, string> | null;
    kerasMetadata: boolean;
    assets: string[];
    assetsExtra: string[];
    /** Set when variables/variables.index does not hash to fingerprint.pb's checkpoint_hash. */
    checkpointHashMismatch?: string;
  };
  /** The checkpoint that belongs to the model (SavedModel `variables/`, or the opened checkpoint). */
  checkpoint?: CheckpointIR;
  keras?: KerasIR;
  tflite?: TfliteIR;
  /** Non-fatal problems met while reading (each names the file). */
  warnings: string[];
}

/** Raised by every reader for bad input: names the file and the reason. */
export interface ModelErrorInfo {
  file: string;
  reason: string;
}
