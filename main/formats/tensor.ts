// Tensor values: TensorFlow dtypes, raw little-endian element bytes and TensorProto messages
// turned into the IR's TensorIR. Shared by the graph readers (constants, attr tensors) and the
// checkpoint readers (bundle entries). Values are cut at LIMITS.maxDecodedElements.
import type { DType, TensorIR, TensorValues } from '../../shared/ir.ts';
import { LIMITS, ModelError } from './errors.ts';

const DTYPE_NAMES: readonly string[] = [
  'DT_INVALID', 'DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_UINT8', 'DT_INT16', 'DT_INT8', 'DT_STRING',
  'DT_COMPLEX64', 'DT_INT64', 'DT_BOOL', 'DT_QINT8', 'DT_QUINT8', 'DT_QINT32', 'DT_BFLOAT16',
  'DT_QINT16', 'DT_QUINT16', 'DT_UINT16', 'DT_COMPLEX128', 'DT_HALF', 'DT_RESOURCE', 'DT_VARIANT',
  'DT_UINT32', 'DT_UINT64', 'DT_FLOAT8_E5M2', 'DT_FLOAT8_E4M3FN', 'DT_FLOAT8_E4M3FNUZ',
  'DT_FLOAT8_E4M3B11FNUZ', 'DT_FLOAT8_E5M2FNUZ', 'DT_INT4', 'DT_UINT4', 'DT_INT2', 'DT_UINT2',
  'DT_FLOAT4_E2M1FN',
];
const REF_OFFSET = 100;
const DTYPE_VALUES = new Map<string, number>();
DTYPE_NAMES.forEach((name, value) => {
  DTYPE_VALUES.set(name, value);
  if (value > 0) DTYPE_VALUES.set(`${name}_REF`, value + REF_OFFSET);
});

/** DataType enum value → name (`DT_FLOAT`, `DT_FLOAT_REF`); unknown values keep their number. */
export function dtypeName(enumValue: number): DType {
  if (enumValue >= 0 && enumValue < DTYPE_NAMES.length) return DTYPE_NAMES[enumValue]!;
  const base = enumValue - REF_OFFSET;
  if (base > 0 && base < DTYPE_NAMES.length) return `${DTYPE_NAMES[base]}_REF`;
  return `DT_UNKNOWN_${enumValue}`;
}

/** Name → DataType enum value, or null for a name TensorFlow does not define. */
export function dtypeValue(name: DType): number | null {
  return DTYPE_VALUES.get(name) ?? null;
}

/** The value dtype behind a reference dtype (`DT_FLOAT_REF` → `DT_FLOAT`). */
export function baseDtype(dtype: DType): DType {
  return dtype.endsWith('_REF') ? dtype.slice(0, -4) : dtype;
}

const DTYPE_SIZES: Record<string, number> = {
  DT_FLOAT: 4, DT_DOUBLE: 8, DT_INT32: 4, DT_UINT8: 1, DT_INT16: 2, DT_INT8: 1, DT_COMPLEX64: 8,
  DT_INT64: 8, DT_BOOL: 1, DT_QINT8: 1, DT_QUINT8: 1, DT_QINT32: 4, DT_BFLOAT16: 2, DT_QINT16: 2,
  DT_QUINT16: 2, DT_UINT16: 2, DT_COMPLEX128: 16, DT_HALF: 2, DT_UINT32: 4, DT_UINT64: 8,
  DT_FLOAT8_E5M2: 1, DT_FLOAT8_E4M3FN: 1, DT_FLOAT8_E4M3FNUZ: 1, DT_FLOAT8_E4M3B11FNUZ: 1,
  DT_FLOAT8_E5M2FNUZ: 1, DT_INT4: 1, DT_UINT4: 1, DT_INT2: 1, DT_UINT2: 1, DT_FLOAT4_E2M1FN: 1,
};

/** Bytes per element in raw tensor content; null for strings, resources, variants. */
export function dtypeSize(dtype: DType): number | null {
  return DTYPE_SIZES[baseDtype(dtype)] ?? null;
}

/** Product of the dims; null when the shape is unknown or has an unknown (negative) dim. */
export function elementCount(shape: readonly number[] | null): number | null {
  if (shape === null) return null;
  let count = 1;
  for (const dim of shape) {
    if (!Number.isFinite(dim) || dim < 0) return null;
    count *= dim;
  }
  return count;
}

/**
 * Decodes raw little-endian element bytes (TensorProto.tensor_content, a bundle data slice).
 * `bytes` may stop early only when the tensor is larger than LIMITS.maxDecodedElements: then
 * the first elements are decoded and `truncated` is set.
 */
export function decodeTensorContent(dtype: DType, shape: number[] | null, bytes: Uint8Array, file: string): TensorIR {
  const count = elementCount(shape);
  const base = baseDtype(dtype);
  const size = dtypeSize(base);
  const result: TensorIR = { dtype, shape, elementCount: count, values: { kind: 'number', values: [] } };
  if (size === null) {
    result.values = { kind: 'unsupported', reason: `${dtype} tensors have no raw element encoding` };
    return result;
  }
  const available = Math.floor(bytes.length / size);
  const limit = LIMITS.maxDecodedElements;
  let n: number;
  if (count === null) {
    if (bytes.length % size !== 0) {
      throw new ModelError(file, `${dtype} tensor content of ${bytes.length} bytes is not a multiple of ${size}`);
    }
    n = Math.min(available, limit);
  } else {
    const needed = count * size;
    const cutByLimit = count > limit && bytes.length >= limit * size;
    if (!cutByLimit && bytes.length !== needed) {
      throw new ModelError(file, `${dtype} tensor of shape [${shape!.join(',')}] needs ${needed} bytes, found ${bytes.length}`);
    }
    n = Math.min(count, limit);
  }
  result.values = decodeElements(base, bytes, n);
  if (count === null ? available > n : count > n) result.truncated = true;
  return result;
}

function decodeElements(base: DType, bytes: Uint8Array, n: number): TensorValues {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = new Array(base === 'DT_COMPLEX64' || base === 'DT_COMPLEX128' ? 2 * n : n);
  switch (base) {
    case 'DT_FLOAT':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'DT_DOUBLE':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'DT_INT32': case 'DT_QINT32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'DT_UINT32':
      for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, true);
      break;
    case 'DT_INT16': case 'DT_QINT16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'DT_UINT16': case 'DT_QUINT16':
      for (let i = 0; i < n; i++) out[i] = view.getUint16(i * 2, true);
      break;
    case 'DT_INT8': case 'DT_QINT8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    case 'DT_UINT8': case 'DT_QUINT8':
      for (let i = 0; i < n; i++) out[i] = bytes[i]!;
      break;
    case 'DT_INT64':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true);
      break;
    case 'DT_UINT64':
      for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 8 + 4, true) * 4294967296 + view.getUint32(i * 8, true);
      break;
    case 'DT_HALF':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'DT_BFLOAT16':
      for (let i = 0; i < n; i++) out[i] = bfloat16ToFloat(view.getUint16(i * 2, true));
      break;
    case 'DT_COMPLEX64':
      for (let i = 0; i < 2 * n; i++) out[i] = view.getFloat32(i * 4, true);
      return { kind: 'complex', values: out };
    case 'DT_COMPLEX128':
      for (let i = 0; i < 2 * n; i++) out[i] = view.getFloat64(i * 8, true);
      return { kind: 'complex', values: out };
    case 'DT_BOOL': {
      const values: boolean[] = new Array(n);
      for (let i = 0; i < n; i++) values[i] = bytes[i] !== 0;
      return { kind: 'bool', values };
    }
    case 'DT_INT4': case 'DT_INT2': {
      const bits = base === 'DT_INT4' ? 4 : 2;
      for (let i = 0; i < n; i++) out[i] = ((bytes[i]! << (32 - bits)) >> (32 - bits));
      break;
    }
    case 'DT_UINT4': case 'DT_UINT2': {
      const mask = base === 'DT_UINT4' ? 0xf : 0x3;
      for (let i = 0; i < n; i++) out[i] = bytes[i]! & mask;
      break;
    }
    default: {
      const format = MINIFLOATS[base];
      if (!format) return { kind: 'unsupported', reason: `${base} values are not decoded` };
      for (let i = 0; i < n; i++) out[i] = decodeMinifloat(bytes[i]!, format);
    }
  }
  return { kind: 'number', values: out };
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

export function bfloat16ToFloat(bits: number): number {
  U32[0] = (bits & 0xffff) << 16;
  return F32[0]!;
}

export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Small float formats (float8 / float4): bit layout, bias and how NaN/Inf are spelled. */
interface Minifloat {
  exponentBits: number;
  mantissaBits: number;
  bias: number;
  /** 'ieee': all-ones exponent is Inf/NaN. 'fn': only all-ones is NaN. 'fnuz': -0 is NaN. 'none': finite only. */
  special: 'ieee' | 'fn' | 'fnuz' | 'none';
}

const MINIFLOATS: Record<string, Minifloat> = {
  DT_FLOAT8_E5M2: { exponentBits: 5, mantissaBits: 2, bias: 15, special: 'ieee' },
  DT_FLOAT8_E4M3FN: { exponentBits: 4, mantissaBits: 3, bias: 7, special: 'fn' },
  DT_FLOAT8_E4M3FNUZ: { exponentBits: 4, mantissaBits: 3, bias: 8, special: 'fnuz' },
  DT_FLOAT8_E4M3B11FNUZ: { exponentBits: 4, mantissaBits: 3, bias: 11, special: 'fnuz' },
  DT_FLOAT8_E5M2FNUZ: { exponentBits: 5, mantissaBits: 2, bias: 16, special: 'fnuz' },
  DT_FLOAT4_E2M1FN: { exponentBits: 2, mantissaBits: 1, bias: 1, special: 'none' },
};

function decodeMinifloat(byte: number, f: Minifloat): number {
  const width = 1 + f.exponentBits + f.mantissaBits;
  const bits = byte & ((1 << width) - 1);
  const signBit = 1 << (width - 1);
  const sign = bits & signBit ? -1 : 1;
  const exponent = (bits >> f.mantissaBits) & ((1 << f.exponentBits) - 1);
  const mantissa = bits & ((1 << f.mantissaBits) - 1);
  const maxExponent = (1 << f.exponentBits) - 1;
  if (f.special === 'fnuz' && bits === signBit) return NaN;
  if (f.special === 'ieee' && exponent === maxExponent) return mantissa ? NaN : sign * Infinity;
  if (f.special === 'fn' && exponent === maxExponent && mantissa === (1 << f.mantissaBits) - 1) return NaN;
  const scale = 2 ** f.mantissaBits;
  if (exponent === 0) return sign * (mantissa / scale) * 2 ** (1 - f.bias);
  return sign * (1 + mantissa / scale) * 2 ** (exponent - f.bias);
}

/** int64/uint64 field values as numbers: protobufjs gives Long objects or numbers, text parsers strings. */
export function longToNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return Number(value);
  if (value && typeof value === 'object' && 'low' in value && 'high' in value) {
    const v = value as { low: number; high: number; unsigned?: boolean };
    const high = v.unsigned ? v.high >>> 0 : v.high | 0;
    return high * 4294967296 + (v.low >>> 0);
  }
  return 0;
}

/** An enum field value as its number (text parsers may keep the name). */
export function enumNumber(value: unknown, names?: Record<string, number>): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (names && value in names) return names[value]!;
    return dtypeValue(value) ?? 0;
  }
  return longToNumber(value);
}

/** The TensorProto fields tensorProtoToIR reads (decoded message or text-parsed object). */
export interface TensorProtoLike {
  dtype?: unknown;
  tensor_shape?: { dim?: { size?: unknown }[] | null; unknown_rank?: boolean | null } | null;
  tensor_content?: Uint8Array | null;
  half_val?: number[] | null;
  float_val?: number[] | null;
  double_val?: number[] | null;
  int_val?: number[] | null;
  string_val?: Uint8Array[] | null;
  scomplex_val?: number[] | null;
  int64_val?: unknown[] | null;
  bool_val?: boolean[] | null;
  dcomplex_val?: number[] | null;
  resource_handle_val?: { name?: string | null; container?: string | null; maybe_type_name?: string | null }[] | null;
  variant_val?: { type_name?: string | null }[] | null;
  uint32_val?: number[] | null;
  uint64_val?: unknown[] | null;
  float8_val?: Uint8Array | null;
}

function shapeOf(proto: TensorProtoLike): number[] | null {
  const shape = proto.tensor_shape;
  if (!shape || shape.unknown_rank) return null;
  const dims = shape.dim ?? [];
  const out: number[] = new Array(dims.length);
  for (let i = 0; i < dims.length; i++) {
    const size = longToNumber(dims[i]?.size ?? 0);
    out[i] = size < 0 ? -1 : size;
  }
  return out;
}

const identity = (v: number): number => v;
/** Placeholder replaced on every return path of tensorProtoToIR. */
const NO_VALUES: TensorValues = { kind: 'unsupported', reason: 'not decoded' };

function withNumbers(result: TensorIR, r: { values: number[]; truncated: boolean }, kind: 'number' | 'complex' = 'number'): TensorIR {
  result.values = { kind, values: r.values };
  if (r.truncated) result.truncated = true;
  return result;
}

/** Sets result.values from a typed repeated field, mapped and cut at LIMITS.maxDecodedElements. */
function setCapped<T>(result: TensorIR, values: readonly T[], map: (v: T) => number, kind: 'number' | 'complex' = 'number'): TensorIR {
  const limit = kind === 'complex' ? 2 * LIMITS.maxDecodedElements : LIMITS.maxDecodedElements;
  if ((map as unknown) === identity && values.length <= limit && Array.isArray(values) && !Object.isFrozen(values)) {
    result.values = { kind, values: values as unknown as number[] };
    return result;
  }
  const n = Math.min(values.length, limit);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = map(values[i]!);
  result.values = { kind, values: out };
  if (values.length > n) result.truncated = true;
  return result;
}


/**
 * TensorProto → TensorIR. Typed repeated fields are kept as stored: TensorFlow repeats the
 * last value to fill the shape, and that expansion is the consumer's business. Never throws:
 * malformed content becomes `unsupported` values with the reason.
 */
export function tensorProtoToIR(proto: TensorProtoLike, file: string, parsedShape?: number[] | null): TensorIR {
  const dtype = dtypeName(enumNumber(proto.dtype));
  const shape = parsedShape !== undefined ? parsedShape : shapeOf(proto);
  const count = elementCount(shape);
  const base = baseDtype(dtype);
  const content = proto.tensor_content;
  if (content && content.length > 0 && dtypeSize(base) !== null) {
    try {
      return decodeTensorContent(dtype, shape, content, file);
    } catch (error) {
      const reason = error instanceof ModelError ? error.reason : String(error);
      return { dtype, shape, elementCount: count, values: { kind: 'unsupported', reason } };
    }
  }
  const result: TensorIR = { dtype, shape, elementCount: count, values: NO_VALUES };
  switch (base) {
    case 'DT_FLOAT':
      return setCapped(result, proto.float_val ?? [], identity);
    case 'DT_DOUBLE':
      return setCapped(result, proto.double_val ?? [], identity);
    case 'DT_INT32': case 'DT_INT16': case 'DT_INT8': case 'DT_UINT8': case 'DT_UINT16':
    case 'DT_QINT8': case 'DT_QUINT8': case 'DT_QINT16': case 'DT_QUINT16': case 'DT_QINT32':
    case 'DT_INT4': case 'DT_UINT4': case 'DT_INT2': case 'DT_UINT2':
      return setCapped(result, proto.int_val ?? [], identity);
    case 'DT_INT64':
      return setCapped(result, proto.int64_val ?? [], longToNumber);
    case 'DT_UINT32':
      return setCapped(result, proto.uint32_val ?? [], identity);
    case 'DT_UINT64':
      return setCapped(result, proto.uint64_val ?? [], longToNumber);
    case 'DT_HALF':
      return setCapped(result, proto.half_val ?? [], halfToFloat);
    case 'DT_BFLOAT16':
      return setCapped(result, proto.half_val ?? [], bfloat16ToFloat);
    case 'DT_COMPLEX64':
      return setCapped(result, proto.scomplex_val ?? [], identity, 'complex');
    case 'DT_COMPLEX128':
      return setCapped(result, proto.dcomplex_val ?? [], identity, 'complex');
    case 'DT_BOOL': {
      const all = proto.bool_val ?? [];
      const n = Math.min(all.length, LIMITS.maxDecodedElements);
      result.values = { kind: 'bool', values: all.slice(0, n).map(Boolean) };
      if (all.length > n) result.truncated = true;
      return result;
    }
    case 'DT_STRING': {
      const all = proto.string_val ?? [];
      const n = Math.min(all.length, LIMITS.maxDecodedElements);
      result.values = { kind: 'string', values: all.slice(0, n).map(plainBytes) };
      if (all.length > n) result.truncated = true;
      return result;
    }
    case 'DT_RESOURCE': {
      const handles = proto.resource_handle_val ?? [];
      const names = handles.slice(0, 4).map((h) => `${h?.container ?? ''}/${h?.name ?? ''}`).join(', ');
      result.values = { kind: 'unsupported', reason: `resource handle${handles.length === 1 ? '' : 's'} ${names}`.trim() };
      return result;
    }
    case 'DT_VARIANT': {
      const variants = proto.variant_val ?? [];
      const names = variants.slice(0, 4).map((v) => v?.type_name ?? '').join(', ');
      result.values = { kind: 'unsupported', reason: `variant tensor${names ? ` (${names})` : ''}` };
      return result;
    }
    default: {
      const f8 = proto.float8_val;
      if (f8 && f8.length > 0 && MINIFLOATS[base]) {
        const n = Math.min(f8.length, LIMITS.maxDecodedElements);
        const values: number[] = new Array(n);
        for (let i = 0; i < n; i++) values[i] = decodeMinifloat(f8[i]!, MINIFLOATS[base]!);
        return withNumbers(result, { values, truncated: f8.length > n });
      }
      if (MINIFLOATS[base]) {
        result.values = { kind: 'number', values: [] };
        return result;
      }
      result.values = { kind: 'unsupported', reason: `${dtype} values are not decoded` };
      return result;
    }
  }
}

/** Plain Uint8Array (a Buffer would compare unequal and may pin the whole file in memory). */
function plainBytes(s: unknown): Uint8Array {
  if (!(s instanceof Uint8Array)) return new Uint8Array(0);
  return s.constructor === Uint8Array ? s : new Uint8Array(s);
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(7)));
}

/** Bytes shown as a quoted string: printable ASCII kept, everything else escaped. */
export function bytesAsText(bytes: Uint8Array, max = 64): string {
  let out = '"';
  const n = Math.min(bytes.length, max);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else if (b === 0x0a) out += '\\n';
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out + (bytes.length > n ? '…"' : '"');
}

/** The first `max` values, e.g. `[0.5, 2]` or `[1, 2, 3, … (100 total)]`. */
export function tensorValuesAsText(t: TensorIR, max = 16): string {
  const v = t.values;
  let items: string[];
  let stored: number;
  switch (v.kind) {
    case 'unsupported':
      return `<${v.reason}>`;
    case 'number':
      stored = v.values.length;
      items = v.values.slice(0, max).map(formatNumber);
      break;
    case 'bool':
      stored = v.values.length;
      items = v.values.slice(0, max).map(String);
      break;
    case 'string':
      stored = v.values.length;
      items = v.values.slice(0, max).map((s) => bytesAsText(s));
      break;
    case 'complex': {
      stored = v.values.length / 2;
      items = [];
      for (let i = 0; i < Math.min(stored, max); i++) {
        const im = v.values[2 * i + 1]!;
        items.push(`${formatNumber(v.values[2 * i]!)}${im < 0 ? '-' : '+'}${formatNumber(Math.abs(im))}j`);
      }
      break;
    }
  }
  const total = t.elementCount ?? stored;
  const more = total > items.length || t.truncated ? `, … (${t.elementCount ?? `${stored}+`} total)` : '';
  const text = `[${items.join(', ')}${more}]`;
  return t.shape !== null && t.shape.length === 0 && items.length === 1 ? items[0]! : text;
}
