// TensorFlow Lite flatbuffer reader (schema: tensorflow/compiler/mlir/lite/schema/schema.fbs).
// The flatbuffers library does not verify its input, so every table, vtable, vector and string
// position is range-checked here before it is read, and a work budget stops offset tricks that
// make the same tables be read over and over. Flex ops carry a FlexBuffer [op name, NodeDef]
// in their custom options; the NodeDef is decoded so the analysis sees the TensorFlow op and attrs.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import type { ModelIR, NodeIR, TfliteIR, TfliteOperatorIR } from '../../shared/ir.ts';
import { LIMITS, ModelError, asModelError } from './errors.ts';
import { decodeMessage, protoTypes, toNodeIR } from './protobuf.ts';

export const TFLITE_LIMITS = {
  maxBytes: LIMITS.maxProtoBytes,
  /** Vector elements and tables read in total (shared offsets make a small file expensive). */
  maxWork: 50_000_000,
  maxCustomOptionsBytes: 64 * 1024 * 1024,
};

export const TENSOR_TYPES = [
  'FLOAT32', 'FLOAT16', 'INT32', 'UINT8', 'INT64', 'STRING', 'BOOL', 'INT16', 'COMPLEX64', 'INT8',
  'FLOAT64', 'COMPLEX128', 'UINT64', 'RESOURCE', 'VARIANT', 'UINT32', 'UINT16', 'INT4', 'BFLOAT16',
];

/** Bytes per element by TensorType (0: variable size or sub-byte). */
const TENSOR_TYPE_BYTES = [4, 2, 4, 1, 8, 0, 1, 2, 8, 1, 8, 16, 8, 0, 0, 4, 2, 0, 2];

/** BuiltinOperator enum names, by value. */
export const BUILTIN_OPERATORS = [
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE',
  'EMBEDDING_LOOKUP', 'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION', 'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION', 'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU',
  'RELU_N1_TO_1', 'RELU6', 'RESHAPE', 'RESIZE_BILINEAR', 'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF', 'TANH',
  'CONCAT_EMBEDDINGS', 'SKIP_GRAM', 'CALL', 'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD',
  'UNIDIRECTIONAL_SEQUENCE_RNN', 'GATHER', 'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE', 'MEAN',
  'SUB', 'DIV', 'SQUEEZE', 'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN',
  'EXP', 'TOPK_V2', 'SPLIT', 'LOG_SOFTMAX', 'DELEGATE', 'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU',
  'MAXIMUM', 'ARG_MAX', 'MINIMUM', 'LESS', 'NEG', 'PADV2', 'GREATER', 'GREATER_EQUAL', 'LESS_EQUAL', 'SELECT',
  'SLICE', 'SIN', 'TRANSPOSE_CONV', 'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS', 'EQUAL', 'NOT_EQUAL', 'LOG',
  'SUM', 'SQRT', 'RSQRT', 'SHAPE', 'POW', 'ARG_MIN', 'FAKE_QUANT', 'REDUCE_PROD', 'REDUCE_MAX', 'PACK',
  'LOGICAL_OR', 'ONE_HOT', 'LOGICAL_AND', 'LOGICAL_NOT', 'UNPACK', 'REDUCE_MIN', 'FLOOR_DIV', 'REDUCE_ANY',
  'SQUARE', 'ZEROS_LIKE', 'FILL', 'FLOOR_MOD', 'RANGE', 'RESIZE_NEAREST_NEIGHBOR', 'LEAKY_RELU',
  'SQUARED_DIFFERENCE', 'MIRROR_PAD', 'ABS', 'SPLIT_V', 'UNIQUE', 'CEIL', 'REVERSE_V2', 'ADD_N', 'GATHER_ND',
  'COS', 'WHERE', 'RANK', 'ELU', 'REVERSE_SEQUENCE', 'MATRIX_DIAG', 'QUANTIZE', 'MATRIX_SET_DIAG', 'ROUND',
  'HARD_SWISH', 'IF', 'WHILE', 'NON_MAX_SUPPRESSION_V4', 'NON_MAX_SUPPRESSION_V5', 'SCATTER_ND', 'SELECT_V2',
  'DENSIFY', 'SEGMENT_SUM', 'BATCH_MATMUL', 'PLACEHOLDER_FOR_GREATER_OP_CODES', 'CUMSUM', 'CALL_ONCE',
  'BROADCAST_TO', 'RFFT2D', 'CONV_3D', 'IMAG', 'REAL', 'COMPLEX_ABS', 'HASHTABLE', 'HASHTABLE_FIND',
  'HASHTABLE_IMPORT', 'HASHTABLE_SIZE', 'REDUCE_ALL', 'CONV_3D_TRANSPOSE', 'VAR_HANDLE', 'READ_VARIABLE',
  'ASSIGN_VARIABLE', 'BROADCAST_ARGS', 'RANDOM_STANDARD_NORMAL', 'BUCKETIZE', 'RANDOM_UNIFORM', 'MULTINOMIAL',
  'GELU', 'DYNAMIC_UPDATE_SLICE', 'RELU_0_TO_1', 'UNSORTED_SEGMENT_PROD', 'UNSORTED_SEGMENT_MAX',
  'UNSORTED_SEGMENT_SUM', 'ATAN2', 'UNSORTED_SEGMENT_MIN', 'SIGN', 'BITCAST', 'BITWISE_XOR', 'RIGHT_SHIFT',
  'STABLEHLO_LOGISTIC', 'STABLEHLO_ADD', 'STABLEHLO_DIVIDE', 'STABLEHLO_MULTIPLY', 'STABLEHLO_MAXIMUM',
  'STABLEHLO_RESHAPE', 'STABLEHLO_CLAMP', 'STABLEHLO_CONCATENATE', 'STABLEHLO_BROADCAST_IN_DIM',
  'STABLEHLO_CONVOLUTION', 'STABLEHLO_SLICE', 'STABLEHLO_CUSTOM_CALL', 'STABLEHLO_REDUCE', 'STABLEHLO_ABS',
  'STABLEHLO_AND', 'STABLEHLO_COSINE', 'STABLEHLO_EXPONENTIAL', 'STABLEHLO_FLOOR', 'STABLEHLO_LOG',
  'STABLEHLO_MINIMUM', 'STABLEHLO_NEGATE', 'STABLEHLO_OR', 'STABLEHLO_POWER', 'STABLEHLO_REMAINDER',
  'STABLEHLO_RSQRT', 'STABLEHLO_SELECT', 'STABLEHLO_SUBTRACT', 'STABLEHLO_TANH', 'STABLEHLO_SCATTER',
  'STABLEHLO_COMPARE', 'STABLEHLO_CONVERT', 'STABLEHLO_DYNAMIC_SLICE', 'STABLEHLO_DYNAMIC_UPDATE_SLICE',
  'STABLEHLO_PAD', 'STABLEHLO_IOTA', 'STABLEHLO_DOT_GENERAL', 'STABLEHLO_REDUCE_WINDOW', 'STABLEHLO_SORT',
  'STABLEHLO_WHILE', 'STABLEHLO_GATHER', 'STABLEHLO_TRANSPOSE', 'DILATE', 'STABLEHLO_RNG_BIT_GENERATOR',
  'REDUCE_WINDOW', 'STABLEHLO_COMPOSITE', 'COMPLEX',
];

const CUSTOM = 32;
const STRING_TYPE = 5;
const MAX_STRING_VALUES = 16;
const MAX_STRING_TENSOR_BYTES = 1024 * 1024;
const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

export function builtinOperatorName(code: number): string {
  return BUILTIN_OPERATORS[code] ?? `BUILTIN_${code}`;
}

// ------------------------------------------------------------------ bounded flatbuffer access

class FlatError extends Error {}

/** Position of a table and its vtable, both validated. */
interface TableRef {
  pos: number;
  vtable: number;
  vtableSize: number;
  objectSize: number;
}

class Flat {
  readonly bb: ByteBuffer;
  readonly size: number;
  work = 0;

  constructor(readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  check(pos: number, n: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || n < 0 || pos + n > this.size) throw new FlatError(`${what} at ${pos} (+${n}) lies outside the ${this.size}-byte file`);
  }

  spend(n: number): void {
    this.work += n;
    if (this.work > TFLITE_LIMITS.maxWork) throw new FlatError(`more than ${TFLITE_LIMITS.maxWork} elements to read (shared or cyclic offsets)`);
  }

  u8(pos: number): number {
    this.check(pos, 1, 'byte');
    return this.bb.readUint8(pos);
  }

  i8(pos: number): number {
    this.check(pos, 1, 'byte');
    return this.bb.readInt8(pos);
  }

  u16(pos: number): number {
    this.check(pos, 2, 'uint16');
    return this.bb.readUint16(pos);
  }

  i32(pos: number): number {
    this.check(pos, 4, 'int32');
    return this.bb.readInt32(pos);
  }

  u32(pos: number): number {
    this.check(pos, 4, 'uint32');
    return this.bb.readUint32(pos);
  }

  u64(pos: number): number {
    this.check(pos, 8, 'uint64');
    const v = this.bb.readUint64(pos);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }

  table(pos: number, what: string): TableRef {
    this.spend(1);
    this.check(pos, 4, what);
    const vtable = pos - this.bb.readInt32(pos);
    this.check(vtable, 4, `${what} vtable`);
    const vtableSize = this.bb.readUint16(vtable);
    const objectSize = this.bb.readUint16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) throw new FlatError(`${what} vtable at ${vtable} has invalid size ${vtableSize}`);
    this.check(vtable, vtableSize, `${what} vtable`);
    if (objectSize < 4) throw new FlatError(`${what} at ${pos} has invalid size ${objectSize}`);
    this.check(pos, objectSize, what);
    return { pos, vtable, vtableSize, objectSize };
  }

  /** Absolute position of field `index`, or 0 when absent. */
  field(t: TableRef, index: number, width: number): number {
    const slot = 4 + 2 * index;
    if (slot + 2 > t.vtableSize) return 0;
    const rel = this.bb.readUint16(t.vtable + slot);
    if (rel === 0) return 0;
    if (rel + width > t.objectSize) throw new FlatError(`field ${index} of the table at ${t.pos} overruns the table`);
    return t.pos + rel;
  }

  indirect(pos: number, what: string): number {
    const target = pos + this.u32(pos);
    this.check(target, 4, what);
    return target;
  }

  scalar(t: TableRef, index: number, kind: 'u8' | 'i8' | 'u32' | 'i32' | 'u64', fallback: number): number {
    const width = kind === 'u8' || kind === 'i8' ? 1 : kind === 'u64' ? 8 : 4;
    const p = this.field(t, index, width);
    if (!p) return fallback;
    return this[kind](p);
  }

  string(t: TableRef, index: number, what: string): string | null {
    const p = this.field(t, index, 4);
    if (!p) return null;
    const s = this.indirect(p, what);
    const length = this.u32(s);
    this.check(s + 4, length, what);
    this.spend(Math.ceil(length / 64));
    return new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(s + 4, s + 4 + length));
  }

  /** [start, length] of a vector field with `elementSize`-byte elements, or null when absent. */
  vector(t: TableRef, index: number, elementSize: number, what: string): [number, number] | null {
    const p = this.field(t, index, 4);
    if (!p) return null;
    const v = this.indirect(p, what);
    const length = this.u32(v);
    if (length * elementSize > this.size) throw new FlatError(`${what} claims ${length} elements, more than the file holds`);
    this.check(v + 4, length * elementSize, what);
    this.spend(length);
    return [v + 4, length];
  }

  intVector(t: TableRef, index: number, what: string): number[] {
    const v = this.vector(t, index, 4, what);
    if (!v) return [];
    const out = new Array<number>(v[1]);
    for (let i = 0; i < v[1]; i++) out[i] = this.bb.readInt32(v[0] + 4 * i);
    return out;
  }

  tables(t: TableRef, index: number, what: string): TableRef[] {
    const v = this.vector(t, index, 4, what);
    if (!v) return [];
    const out: TableRef[] = [];
    for (let i = 0; i < v[1]; i++) {
      const slot = v[0] + 4 * i;
      out.push(this.table(slot + this.u32(slot), `${what}[${i}]`));
    }
    return out;
  }
}

// ------------------------------------------------------------------ FlexBuffers (custom options)

export type FlexValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | FlexValue[]
  | { [key: string]: FlexValue };

const FBT = { NULL: 0, INT: 1, UINT: 2, FLOAT: 3, KEY: 4, STRING: 5, INDIRECT_INT: 6, INDIRECT_UINT: 7, INDIRECT_FLOAT: 8, MAP: 9, VECTOR: 10, VECTOR_INT: 11, VECTOR_UINT: 12, VECTOR_FLOAT: 13, VECTOR_KEY: 14, VECTOR_STRING_DEPRECATED: 15, BLOB: 25, BOOL: 26, VECTOR_BOOL: 36 };

/**
 * Decodes a FlexBuffer, bounds-checked and depth/size limited. Throws FlatError when malformed.
 * With `rawStrings`, STRING values stay bytes (a Flex op's NodeDef is binary inside a string).
 */
export function decodeFlexBuffer(bytes: Uint8Array, options: { rawStrings?: boolean; maxElements?: number } = {}): FlexValue {
  const maxElements = options.maxElements ?? 1_000_000;
  const n = bytes.length;
  if (n < 3) throw new FlatError('FlexBuffer shorter than 3 bytes');
  let budget = maxElements;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const check = (pos: number, len: number) => {
    if (!Number.isInteger(pos) || pos < 0 || len < 0 || pos + len > n) throw new FlatError(`FlexBuffer offset ${pos} (+${len}) out of range`);
  };
  const uint = (pos: number, width: number): number => {
    check(pos, width);
    switch (width) {
      case 1:
        return view.getUint8(pos);
      case 2:
        return view.getUint16(pos, true);
      case 4:
        return view.getUint32(pos, true);
      case 8: {
        const v = view.getBigUint64(pos, true);
        return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
      }
      default:
        throw new FlatError(`invalid FlexBuffer width ${width}`);
    }
  };
  const int = (pos: number, width: number): number => {
    check(pos, width);
    switch (width) {
      case 1:
        return view.getInt8(pos);
      case 2:
        return view.getInt16(pos, true);
      case 4:
        return view.getInt32(pos, true);
      default:
        return Number(view.getBigInt64(pos, true));
    }
  };
  const float = (pos: number, width: number): number => {
    check(pos, width);
    return width === 4 ? view.getFloat32(pos, true) : width === 8 ? view.getFloat64(pos, true) : NaN;
  };
  const target = (pos: number, parentWidth: number) => pos - uint(pos, parentWidth);
  const keyAt = (pos: number): string => {
    check(pos, 0);
    let end = pos;
    while (end < n && bytes[end] !== 0) end++;
    if (end >= n) throw new FlatError('unterminated FlexBuffer key');
    return new TextDecoder().decode(bytes.subarray(pos, end));
  };
  const sized = (pos: number, width: number): [number, number] => {
    const size = uint(pos - width, width);
    check(pos, size);
    return [pos, size];
  };
  const read = (pos: number, parentWidth: number, packed: number, depth: number): FlexValue => {
    if (depth > 64) throw new FlatError('FlexBuffer nested deeper than 64');
    if (--budget < 0) throw new FlatError('FlexBuffer has too many elements');
    const type = packed >> 2;
    const width = 1 << (packed & 3);
    switch (type) {
      case FBT.NULL:
        return null;
      case FBT.INT:
        return int(pos, parentWidth);
      case FBT.UINT:
        return uint(pos, parentWidth);
      case FBT.FLOAT:
        return float(pos, parentWidth);
      case FBT.BOOL:
        return uint(pos, parentWidth) !== 0;
      case FBT.INDIRECT_INT:
        return int(target(pos, parentWidth), width);
      case FBT.INDIRECT_UINT:
        return uint(target(pos, parentWidth), width);
      case FBT.INDIRECT_FLOAT:
        return float(target(pos, parentWidth), width);
      case FBT.KEY:
        return keyAt(target(pos, parentWidth));
      case FBT.STRING: {
        const [start, size] = sized(target(pos, parentWidth), width);
        if (options.rawStrings) return bytes.subarray(start, start + size);
        return new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(start, start + size));
      }
      case FBT.BLOB: {
        const [start, size] = sized(target(pos, parentWidth), width);
        return bytes.subarray(start, start + size);
      }
      case FBT.VECTOR:
      case FBT.MAP: {
        const start = target(pos, parentWidth);
        const length = uint(start - width, width);
        if (length > budget) throw new FlatError('FlexBuffer vector too long');
        check(start, length * width + length);
        const items: FlexValue[] = [];
        for (let i = 0; i < length; i++) items.push(read(start + i * width, width, bytes[start + length * width + i], depth + 1));
        if (type === FBT.VECTOR) return items;
        const keysPos = start - 3 * width;
        const keysStart = target(keysPos, width);
        const keysWidth = uint(start - 2 * width, width);
        if (![1, 2, 4, 8].includes(keysWidth)) throw new FlatError(`invalid FlexBuffer key width ${keysWidth}`);
        const keyCount = uint(keysStart - keysWidth, keysWidth);
        if (keyCount !== length) throw new FlatError('FlexBuffer map keys and values differ in count');
        const map: { [key: string]: FlexValue } = {};
        for (let i = 0; i < length; i++) {
          const key = keyAt(target(keysStart + i * keysWidth, keysWidth));
          if (key !== '__proto__') map[key] = items[i];
        }
        return map;
      }
      default: {
        const typed = typedVector(type);
        if (!typed) throw new FlatError(`unsupported FlexBuffer type ${type}`);
        const start = target(pos, parentWidth);
        const length = typed.fixed ?? uint(start - width, width);
        if (length > budget) throw new FlatError('FlexBuffer vector too long');
        check(start, length * width);
        const items: FlexValue[] = [];
        for (let i = 0; i < length; i++) items.push(read(start + i * width, width, (typed.element << 2) | (packed & 3), depth + 1));
        return items;
      }
    }
  };
  const rootWidth = bytes[n - 1];
  if (![1, 2, 4, 8].includes(rootWidth)) throw new FlatError(`invalid FlexBuffer root width ${rootWidth}`);
  return read(n - 2 - rootWidth, rootWidth, bytes[n - 2], 0);
}

function typedVector(type: number): { element: number; fixed?: number } | null {
  if (type >= FBT.VECTOR_INT && type <= FBT.VECTOR_KEY) return { element: type - FBT.VECTOR_INT + FBT.INT };
  if (type === FBT.VECTOR_STRING_DEPRECATED) return { element: FBT.KEY };
  if (type === FBT.VECTOR_BOOL) return { element: FBT.BOOL };
  if (type >= 16 && type <= 24) return { element: ((type - 16) % 3) + FBT.INT, fixed: Math.floor((type - 16) / 3) + 2 };
  return null;
}

// ------------------------------------------------------------------ the model

export async function readTflite(path: string): Promise<ModelIR> {
  const absolute = resolve(path);
  let bytes: Uint8Array;
  try {
    const st = await stat(absolute);
    if (!st.isFile()) throw new ModelError(absolute, 'not a regular file');
    if (st.size > TFLITE_LIMITS.maxBytes) throw new ModelError(absolute, `TFLite file of ${st.size} bytes exceeds the ${TFLITE_LIMITS.maxBytes}-byte limit`);
    bytes = new Uint8Array(await readFile(absolute));
  } catch (error) {
    throw asModelError(absolute, error, 'cannot read file');
  }
  const warnings: string[] = [];
  const tflite = parseTflite(bytes, absolute, warnings);
  return {
    path: absolute,
    format: 'tflite',
    files: [{ path: basename(absolute), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }],
    metaGraphs: [],
    tflite,
    warnings,
  };
}

/** Parses TFLite flatbuffer bytes. Structural damage is a ModelError; dubious contents are warnings. */
export function parseTflite(bytes: Uint8Array, file: string, warnings: string[] = []): TfliteIR {
  if (bytes.length < 8) throw new ModelError(file, `not a TFLite model: only ${bytes.length} bytes`);
  const ident = String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
  if (ident !== 'TFL3') throw new ModelError(file, `not a TFLite model: file identifier is ${JSON.stringify(ident)}, expected "TFL3"`);
  const flat = new Flat(bytes);
  const list = new WarningList();
  try {
    return readModel(flat, bytes, file, list);
  } catch (error) {
    if (error instanceof FlatError) throw new ModelError(file, `malformed TFLite flatbuffer: ${error.message}`);
    throw asModelError(file, error, 'malformed TFLite flatbuffer');
  } finally {
    warnings.push(...list);
    if (list.dropped > 0) warnings.push(`${file}: ${list.dropped} more warnings not listed`);
  }
}

const MAX_WARNINGS = 200;

/** Keeps the first MAX_WARNINGS warnings: a hostile file can make one per operator. */
class WarningList extends Array<string> {
  dropped = 0;

  override push(...items: string[]): number {
    for (const item of items) {
      if (this.length < MAX_WARNINGS) super.push(item);
      else this.dropped++;
    }
    return this.length;
  }
}

interface RawBuffer {
  size: number;
  data: [number, number] | null;
  external: boolean;
}

function readModel(flat: Flat, bytes: Uint8Array, file: string, warnings: string[]): TfliteIR {
  const model = flat.table(flat.u32(0), 'Model');
  const version = flat.scalar(model, 0, 'u32', 0);
  if (version !== 3) warnings.push(`${file}: TFLite schema version ${version} (readers expect 3)`);

  const operatorCodes = flat.tables(model, 1, 'operator_codes').map((t) => {
    const deprecated = flat.scalar(t, 0, 'i8', 0);
    const extended = flat.scalar(t, 3, 'i32', 0);
    // Older files only set the byte field; newer ones set both (the byte capped at 127).
    const code = Math.max(deprecated, extended);
    const customCode = flat.string(t, 1, 'OperatorCode.custom_code');
    return { code, builtin: builtinOperatorName(code), customCode, version: flat.scalar(t, 2, 'i32', 1) };
  });
  for (const [i, oc] of operatorCodes.entries()) {
    if (oc.code < 0) warnings.push(`${file}: operator code ${i} has negative builtin code ${oc.code}`);
    if (oc.code === PLACEHOLDER_FOR_GREATER_OP_CODES) warnings.push(`${file}: operator code ${i} is the placeholder code 127 without an extended builtin_code`);
  }

  const buffers: RawBuffer[] = flat.tables(model, 4, 'buffers').map((t) => {
    const data = flat.vector(t, 0, 1, 'Buffer.data');
    const offset = flat.scalar(t, 1, 'u64', 0);
    const size = flat.scalar(t, 2, 'u64', 0);
    if (data) return { size: data[1], data, external: false };
    if (offset > 1) {
      if (offset + size > bytes.length) warnings.push(`${file}: external buffer at ${offset} (+${size}) lies outside the file`);
      return { size, data: null, external: true };
    }
    return { size: 0, data: null, external: false };
  });

  const subgraphs: TfliteIR['subgraphs'] = [];
  const flexNodes: TfliteIR['flexNodes'] = [];
  for (const [s, sg] of flat.tables(model, 2, 'subgraphs').entries()) {
    const rawTensors = flat.tables(sg, 0, `subgraphs[${s}].tensors`).map((t) => ({
      name: flat.string(t, 3, 'Tensor.name') ?? '',
      typeCode: flat.scalar(t, 1, 'i8', 0),
      shape: flat.intVector(t, 0, 'Tensor.shape'),
      buffer: flat.scalar(t, 2, 'u32', 0),
      isVariable: flat.scalar(t, 5, 'u8', 0) !== 0,
    }));
    const tensors: TfliteIR['subgraphs'][number]['tensors'] = rawTensors.map((t) => {
      const tensor: TfliteIR['subgraphs'][number]['tensors'][number] = { name: t.name, type: TENSOR_TYPES[t.typeCode] ?? `TYPE_${t.typeCode}`, shape: t.shape };
      const data = buffers[t.buffer]?.data;
      if (t.typeCode === STRING_TYPE && data) {
        const values = stringTensorValues(bytes.subarray(data[0], data[0] + data[1]));
        if (values) tensor.stringValues = values;
      }
      return tensor;
    });
    const inputs = flat.intVector(sg, 1, `subgraphs[${s}].inputs`);
    const outputs = flat.intVector(sg, 2, `subgraphs[${s}].outputs`);
    const name = flat.string(sg, 4, 'SubGraph.name') ?? '';
    const operators: TfliteOperatorIR[] = [];
    for (const [o, op] of flat.tables(sg, 3, `subgraphs[${s}].operators`).entries()) {
      const opcodeIndex = flat.scalar(op, 0, 'u32', 0);
      const code = operatorCodes[opcodeIndex];
      const opInputs = flat.intVector(op, 1, 'Operator.inputs');
      const opOutputs = flat.intVector(op, 2, 'Operator.outputs');
      if (!code) {
        warnings.push(`${file}: subgraph ${s} operator ${o} uses opcode index ${opcodeIndex}, but only ${operatorCodes.length} operator codes exist`);
        operators.push({ subgraph: s, index: o, opcode: `INVALID_OPCODE_${opcodeIndex}`, custom: false, inputs: opInputs, outputs: opOutputs });
        continue;
      }
      const custom = code.code === CUSTOM;
      const opcode = custom ? (code.customCode ?? '') : code.builtin;
      const entry: TfliteOperatorIR = { subgraph: s, index: o, opcode, custom, inputs: opInputs, outputs: opOutputs };
      if (custom && opcode.startsWith('Flex') && opcode.length > 4) entry.flexOp = opcode.slice(4);
      operators.push(entry);
      for (const t of [...opInputs, ...opOutputs]) {
        if (t !== -1 && (t < 0 || t >= tensors.length)) warnings.push(`${file}: subgraph ${s} operator ${o} (${opcode}) refers to tensor ${t}, but the subgraph has ${tensors.length}`);
      }
      if (custom) {
        const options = customOptions(flat, op, bytes, warnings, file);
        if (options && options.length > 0) {
          // Flex ops always carry a NodeDef; some TFLite custom kernels of TensorFlow ops
          // (ParseExampleV2) do too, so a well-formed one is decoded for any custom op.
          const node = flexNodeDef(options, entry.flexOp ?? null, `${file} (subgraph ${s} operator ${o} ${opcode})`, entry.flexOp !== undefined ? warnings : []);
          if (node) flexNodes.push({ subgraph: s, operator: o, node });
        }
      }
    }
    for (const t of [...inputs, ...outputs]) {
      if (t < 0 || t >= tensors.length) warnings.push(`${file}: subgraph ${s} lists tensor ${t} as input/output, but it has ${tensors.length} tensors`);
    }
    checkTensorData(rawTensors, buffers, inputs, operators, s, file, warnings);
    subgraphs.push({ name, tensors, inputs, outputs, operators });
  }

  const metadata = flat.tables(model, 6, 'metadata').map((t) => {
    const name = flat.string(t, 0, 'Metadata.name') ?? '';
    const index = flat.scalar(t, 1, 'u32', 0);
    const buffer = buffers[index];
    if (!buffer) warnings.push(`${file}: metadata "${name}" points at buffer ${index}, but only ${buffers.length} exist`);
    return { name, size: buffer?.size ?? 0 };
  });

  const signatureDefs = flat.tables(model, 7, 'signature_defs').map((t) => {
    const names = (index: number) => flat.tables(t, index, 'SignatureDef tensors').map((m) => flat.string(m, 0, 'TensorMap.name') ?? '');
    const subgraph = flat.scalar(t, 4, 'u32', 0);
    if (subgraph >= subgraphs.length) warnings.push(`${file}: signature points at subgraph ${subgraph}, but only ${subgraphs.length} exist`);
    return { key: flat.string(t, 2, 'SignatureDef.signature_key') ?? '', subgraph, inputs: names(0), outputs: names(1) };
  });

  return {
    version,
    description: flat.string(model, 3, 'Model.description') ?? '',
    operatorCodes: operatorCodes.map(({ builtin, customCode, version: v }) => ({ builtin, customCode, version: v })),
    subgraphs,
    signatureDefs,
    metadata,
    flexNodes,
  };
}

function customOptions(flat: Flat, op: TableRef, bytes: Uint8Array, warnings: string[], file: string): Uint8Array | null {
  const inline = flat.vector(op, 5, 1, 'Operator.custom_options');
  if (inline) return bytes.subarray(inline[0], inline[0] + inline[1]);
  const offset = flat.scalar(op, 9, 'u64', 0);
  const size = flat.scalar(op, 10, 'u64', 0);
  if (offset > 1 && size > 0) {
    if (size > TFLITE_LIMITS.maxCustomOptionsBytes || offset + size > bytes.length) {
      warnings.push(`${file}: large custom options at ${offset} (+${size}) lie outside the file or exceed the limit`);
      return null;
    }
    return bytes.subarray(offset, offset + size);
  }
  return null;
}

/** A Flex op's custom options: FlexBuffer vector [TensorFlow op name, serialized NodeDef]. */
function flexNodeDef(options: Uint8Array, flexOp: string | null, where: string, warnings: string[]): NodeIR | null {
  let value: FlexValue;
  try {
    value = decodeFlexBuffer(options, { rawStrings: true });
  } catch (error) {
    warnings.push(`${where}: custom options are not a valid FlexBuffer (${(error as Error).message})`);
    return null;
  }
  if (!Array.isArray(value) || value.length < 2) {
    warnings.push(`${where}: Flex custom options are not the expected [op name, NodeDef] vector`);
    return null;
  }
  const serialized = value[1] instanceof Uint8Array ? value[1] : null;
  const opName = value[0] instanceof Uint8Array ? new TextDecoder().decode(value[0]) : typeof value[0] === 'string' ? value[0] : null;
  if (!serialized) {
    warnings.push(`${where}: Flex custom options carry no serialized NodeDef`);
    return null;
  }
  try {
    const node = toNodeIR(decodeMessage(protoTypes.NodeDef, serialized, where, 'invalid NodeDef'), where);
    if (flexOp === null && (opName === null || opName !== node.op)) return null;
    if (opName !== null && opName !== node.op) warnings.push(`${where}: Flex op name "${opName}" differs from the NodeDef op "${node.op}"`);
    if (flexOp !== null && node.op !== flexOp) warnings.push(`${where}: custom code names ${flexOp} but the NodeDef runs ${node.op || '(no op)'}`);
    return node;
  } catch (error) {
    warnings.push(asModelError(where, error, 'NodeDef unreadable').message);
    return null;
  }
}

/** Constant inputs with no data (TFLite fails at Invoke), and buffers smaller than their shape. */
function checkTensorData(
  tensors: { name: string; typeCode: number; shape: number[]; buffer: number; isVariable: boolean }[],
  buffers: RawBuffer[],
  inputs: number[],
  operators: TfliteOperatorIR[],
  s: number,
  file: string,
  warnings: string[],
): void {
  const produced = new Set<number>(inputs);
  for (const op of operators) for (const t of op.outputs) produced.add(t);
  for (const [i, t] of tensors.entries()) {
    const buffer = buffers[t.buffer];
    if (!buffer) {
      warnings.push(`${file}: subgraph ${s} tensor ${i} "${t.name}" points at buffer ${t.buffer}, but only ${buffers.length} exist`);
      continue;
    }
    const itemBytes = TENSOR_TYPE_BYTES[t.typeCode] ?? 0;
    if (buffer.size > 0 && itemBytes > 0 && t.shape.every((d) => d >= 0)) {
      const needed = elementCount(t.shape) * itemBytes;
      if (needed > buffer.size) warnings.push(`${file}: subgraph ${s} tensor ${i} "${t.name}" needs ${needed} bytes for shape [${t.shape.join(', ')}], but buffer ${t.buffer} holds ${buffer.size}`);
    }
  }
  for (const op of operators) {
    for (const t of op.inputs) {
      const tensor = tensors[t];
      if (t < 0 || !tensor || produced.has(t) || tensor.isVariable || elementCount(tensor.shape) === 0) continue;
      const buffer = buffers[tensor.buffer];
      if (buffer && buffer.size === 0) {
        warnings.push(`${file}: subgraph ${s} operator ${op.index} (${op.opcode}) reads tensor ${t} "${tensor.name}", which no operator produces and whose buffer ${tensor.buffer} is empty`);
        produced.add(t);
      }
    }
  }
}

function elementCount(shape: number[]): number {
  return shape.reduce((a, d) => a * Math.max(d, 0), 1);
}

/**
 * A TFLite STRING buffer: int32 count, count+1 int32 offsets from the buffer start, then the bytes.
 * Returns the first values, or null when the layout does not hold together.
 */
export function stringTensorValues(data: Uint8Array): string[] | null {
  if (data.length < 8 || data.length > MAX_STRING_TENSOR_BYTES) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getInt32(0, true);
  if (count < 0 || 4 * (count + 2) > data.length) return null;
  const values: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for (let i = 0; i < Math.min(count, MAX_STRING_VALUES); i++) {
    const start = view.getInt32(4 + 4 * i, true);
    const end = view.getInt32(8 + 4 * i, true);
    if (start < 4 * (count + 2) || end < start || end > data.length) return null;
    values.push(decoder.decode(data.subarray(start, Math.min(end, start + 4096))));
  }
  return values;
}
