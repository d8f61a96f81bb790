// GraphDef files (binary .pb, text .pbtxt) and the fast binary decoder for the hot messages:
// GraphDef, NodeDef, AttrValue, TensorProto, FunctionDef, OpDef are read straight from the wire
// into the IR (no intermediate protobufjs objects). Everything else goes through protobufjs
// reflection (main/formats/protobuf.ts); both paths yield the same IR.
import { open } from 'node:fs/promises';
import type { AttrList, AttrValue, FunctionIR, GraphIR, NameAttrList, NodeIR, OpDefIR, ArgDefIR, OpDefAttrIR, TensorIR, TensorShapeIR } from '../../shared/ir.ts';
import { LIMITS, ModelError, asModelError } from './errors.ts';
import { dtypeName, tensorProtoToIR, type TensorProtoLike } from './tensor.ts';
import { protoTypes, put, toGraphIR } from './protobuf.ts';
import { parseTextProto } from './pbtxt.ts';
import { HASH_OFF_THREAD } from './files.ts';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

const INTERN_SLOTS = 4096;
const INTERN_MAX_BYTES = 48;
const SLAB_SIZE = 64 * 1024;
const SLAB_MAX_ITEM = 256;
/**
 * Attr values and node attr maps encoded in at most this many bytes are decoded once per
 * distinct encoding (and nesting depth) and shared: 200k `Const` nodes holding the scalar 1.0,
 * or 100k `_class: ["loc:@x"]`, share one object. The IR is read-only data, so sharing is
 * invisible to its readers; it saves most of the allocation (and GC) of a big graph.
 */
const SHARED_MAX_BYTES = 256;
const SHARED_SLOTS = 4096;

/** A byte buffer with a DataView over the same bytes, for reading 4 and 8 bytes at a time. */
export interface ByteSpan {
  readonly u8: Uint8Array;
  readonly dv: DataView;
}

export function byteSpan(bytes: Uint8Array): ByteSpan {
  return { u8: bytes, dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * Hash of bytes [start, end) for the decode caches' slots (not for security: a collision only
 * costs a decode). Eight bytes per step, the two words multiplied independently, because the
 * hot caches hash a few hundred bytes per node of a 400k-node graph.
 */
export function hashBytes(b: ByteSpan, start: number, end: number, seed: number): number {
  const { u8, dv } = b;
  let hash = seed | 0;
  let i = start;
  for (; i + 8 <= end; i += 8) hash = (Math.imul(hash ^ dv.getInt32(i, true), 0x9e3779b1) + Math.imul(dv.getInt32(i + 4, true), 0x85ebca6b)) | 0;
  for (; i < end; i++) hash = Math.imul(hash ^ u8[i]!, 0x9e3779b1);
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  return hash ^ (hash >>> 12);
}

/** Whether bytes [a, a+length) equal bytes [b, b+length), four at a time. */
export function sameBytes(span: ByteSpan, a: number, b: number, length: number): boolean {
  const { u8, dv } = span;
  let i = 0;
  for (; i + 4 <= length; i += 4) if (dv.getInt32(a + i, true) !== dv.getInt32(b + i, true)) return false;
  for (; i < length; i++) if (u8[a + i] !== u8[b + i]) return false;
  return true;
}

/**
 * A cache of decoded results keyed by their encoding: a byte range of the one buffer being
 * read, plus the nesting depth it was decoded at (the same bytes deeper down could hit the
 * depth limit, so they are not the same decode). Two-way set associative with LRU order: two
 * hot encodings whose keys collide (a Const's attrs and an AddV2's, alternating for 400k
 * nodes) both stay, where a direct-mapped table would evict one for the other every time.
 */
export class SharedDecodes<T> {
  private readonly values: (T | undefined)[] = new Array(SHARED_SLOTS);
  private readonly hashes = new Int32Array(SHARED_SLOTS);
  private readonly starts = new Int32Array(SHARED_SLOTS);
  private readonly lengths = new Int32Array(SHARED_SLOTS);
  private readonly depths = new Int32Array(SHARED_SLOTS);

  /** The cache key of bytes [start, end) decoded at `depth`: a hash, compared in full before the bytes. */
  static key(b: ByteSpan, start: number, end: number, depth: number): number {
    return hashBytes(b, start, end, (end - start) ^ (depth << 16));
  }

  get(b: ByteSpan, key: number, start: number, end: number, depth: number): T | undefined {
    const recent = (key & (SHARED_SLOTS / 2 - 1)) << 1;
    if (this.holds(b, recent, key, start, end, depth)) return this.values[recent];
    if (!this.holds(b, recent + 1, key, start, end, depth)) return undefined;
    this.swap(recent, recent + 1);
    return this.values[recent];
  }

  set(key: number, start: number, end: number, depth: number, value: T): void {
    const recent = (key & (SHARED_SLOTS / 2 - 1)) << 1;
    this.swap(recent, recent + 1); // the most recent entry becomes the older one
    this.values[recent] = value;
    this.hashes[recent] = key;
    this.starts[recent] = start;
    this.lengths[recent] = end - start;
    this.depths[recent] = depth;
  }

  private holds(b: ByteSpan, slot: number, key: number, start: number, end: number, depth: number): boolean {
    return this.values[slot] !== undefined && this.hashes[slot] === key && this.lengths[slot] === end - start && this.depths[slot] === depth &&
      sameBytes(b, this.starts[slot]!, start, end - start);
  }

  private swap(a: number, b: number): void {
    const value = this.values[a];
    this.values[a] = this.values[b];
    this.values[b] = value;
    swapInts(this.hashes, a, b);
    swapInts(this.starts, a, b);
    swapInts(this.lengths, a, b);
    swapInts(this.depths, a, b);
  }
}

function swapInts(array: Int32Array, a: number, b: number): void {
  const t = array[a]!;
  array[a] = array[b]!;
  array[b] = t;
}

type Utf8Slicer = { utf8Slice?: (start: number, end: number) => string };
const HAS_UTF8_SLICE = typeof (Buffer.prototype as unknown as Utf8Slicer).utf8Slice === 'function';

/** UTF-8 decode of buf[start,end); invalid sequences become U+FFFD. */
function utf8(buf: Buffer, start: number, end: number): string {
  if (start === end) return '';
  return HAS_UTF8_SLICE ? (buf as unknown as Required<Utf8Slicer>).utf8Slice(start, end) : buf.toString('utf8', start, end);
}

/** Bounds-checked protobuf wire reader. Every failure is a ModelError naming the file. */
export class WireReader implements ByteSpan {
  readonly buf: Buffer;
  /** Plain Uint8Array view of buf: its slice() copies into a plain Uint8Array. */
  readonly u8: Uint8Array;
  readonly dv: DataView;
  pos: number;
  readonly file: string;
  /** internString's cache, direct-mapped: the string, its bytes' hash, where they are and their length. */
  private readonly interned: (string | undefined)[] = new Array(INTERN_SLOTS);
  private readonly internedHash = new Int32Array(INTERN_SLOTS);
  private readonly internedStart = new Int32Array(INTERN_SLOTS);
  private readonly internedLength = new Int32Array(INTERN_SLOTS);
  private slab = new Uint8Array(SLAB_SIZE);
  private slabUsed = 0;
  /** Attr values decoded once per distinct encoding (see SHARED_MAX_BYTES). */
  readonly sharedValues = new SharedDecodes<AttrValue>();
  /** Whole node attr maps, likewise: 200k `AddV2` nodes with `T: DT_FLOAT` share one record. */
  readonly sharedAttrMaps = new SharedDecodes<Record<string, AttrValue>>();

  /** Byte strings read that could hold a serialized GraphDef (see mayHoldNestedGraphs). */
  graphLikeStrings = 0;

  constructor(bytes: Uint8Array, file: string) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.u8 = new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = 0;
    this.file = file;
  }

  fail(reason: string): never {
    throw new ModelError(this.file, `${reason} at byte ${this.pos}`);
  }

  /** Low 32 bits of a varint (int32, uint32, enum, bool, tag), as an unsigned number. */
  varint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end) this.fail('truncated varint');
      const b = buf[pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift >= 70) this.fail('varint longer than 10 bytes');
    }
    this.pos = pos;
    return result >>> 0;
  }

  /** A full 64-bit varint as a number (signed for int64; exact up to 2^53). */
  varint64(end: number, signed = true): number {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end) this.fail('truncated varint');
      const b = buf[pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else if (shift < 64) hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) break;
      shift += 7;
      if (shift >= 70) this.fail('varint longer than 10 bytes');
    }
    this.pos = pos;
    return (signed ? hi | 0 : hi >>> 0) * 4294967296 + (lo >>> 0);
  }

  /** Start and end of a length-delimited field's payload; advances past it. */
  length(end: number): number {
    const len = this.varint32(end);
    const start = this.pos;
    if (len > end - start) this.fail('length-delimited field runs past the end of its message');
    this.pos = start + len;
    return start;
  }

  string(end: number): string {
    const start = this.length(end);
    return utf8(this.buf, start, this.pos);
  }

  /**
   * A short string that repeats across the file (op type, attr name, device, a node name and
   * the inputs naming it): returned from a small cache so 400k nodes share one "Const" instead
   * of allocating 400k copies, and an input usually shares its producer's name string.
   */
  internString(end: number): string {
    const start = this.length(end);
    const stop = this.pos;
    const len = stop - start;
    if (len > INTERN_MAX_BYTES) return utf8(this.buf, start, stop);
    const hash = hashBytes(this, start, stop, len);
    const slot = hash & (INTERN_SLOTS - 1);
    const cached = this.interned[slot];
    // Equal bytes decode to equal strings (invalid UTF-8 included), so bytes are compared; the
    // full hash first, so a unique name (a miss) never reads the bytes of an older one.
    if (cached !== undefined && this.internedHash[slot] === hash && this.internedLength[slot] === len && sameBytes(this, this.internedStart[slot]!, start, len)) return cached;
    const value = utf8(this.buf, start, stop);
    this.interned[slot] = value;
    this.internedHash[slot] = hash;
    this.internedStart[slot] = start;
    this.internedLength[slot] = len;
    return value;
  }

  /** Enters a length-delimited sub-message: positions at its start, returns its end. */
  enter(end: number): number {
    const len = this.varint32(end);
    const start = this.pos;
    if (len > end - start) this.fail('length-delimited field runs past the end of its message');
    return start + len;
  }

  /** A copy of a bytes field (a view would pin the whole file in memory). */
  bytes(end: number): Uint8Array {
    const start = this.length(end);
    const len = this.pos - start;
    if (len >= NESTED_GRAPH_MIN_BYTES && this.u8[start] === 0x0a) this.graphLikeStrings++;
    if (len > SLAB_MAX_ITEM) return this.u8.slice(start, this.pos);
    // Small byte strings (attr `s`, `_class` lists, short string tensors) are carved from a
    // shared slab: one ArrayBuffer per 64 kB instead of one per value, which GC feels.
    if (this.slabUsed + len > SLAB_SIZE) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.slabUsed = 0;
    }
    const out = this.slab.subarray(this.slabUsed, this.slabUsed + len);
    out.set(this.u8.subarray(start, this.pos));
    this.slabUsed += len;
    return out;
  }

  /** A view of a bytes field, for data decoded at once and not kept. */
  view(end: number): Uint8Array {
    const start = this.length(end);
    return this.buf.subarray(start, this.pos);
  }

  float(end: number): number {
    if (this.pos + 4 > end) this.fail('truncated float');
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }

  double(end: number): number {
    if (this.pos + 8 > end) this.fail('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(wireType: number, end: number, depth = 0): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64(end);
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > end) this.fail('truncated fixed64');
        this.pos += 8;
        return;
      case WIRE_LENGTH:
        this.length(end);
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > end) this.fail('truncated fixed32');
        this.pos += 4;
        return;
      case WIRE_START_GROUP: {
        if (depth > LIMITS.maxNestingDepth) this.fail('groups nested too deeply');
        for (;;) {
          const tag = this.varint32(end);
          if ((tag & 7) === WIRE_END_GROUP) return;
          this.skip(tag & 7, end, depth + 1);
        }
      }
      default:
        this.fail(`invalid wire type ${wireType}`);
    }
  }

  /** Reads a repeated scalar field, packed or not, pushing at most `cap` values. */
  repeated(wireType: number, end: number, out: number[], read: (r: WireReader, end: number) => number, packedWire: number, cap = Infinity): void {
    if (wireType === WIRE_LENGTH) {
      const stop = this.enter(end);
      while (this.pos < stop) {
        const v = read(this, stop);
        if (out.length < cap) out.push(v);
      }
    } else if (wireType === packedWire) {
      const v = read(this, end);
      if (out.length < cap) out.push(v);
    } else {
      this.skip(wireType, end);
    }
  }
}

// Element readers for repeated scalars (module-level: no closure per call in hot loops).
const readInt32 = (r: WireReader, e: number): number => r.varint32(e) | 0;
const readUint32 = (r: WireReader, e: number): number => r.varint32(e);
const readInt64 = (r: WireReader, e: number): number => r.varint64(e);
const readUint64 = (r: WireReader, e: number): number => r.varint64(e, false);
const readBool = (r: WireReader, e: number): number => (r.varint64(e) !== 0 ? 1 : 0);
const readFloat = (r: WireReader, e: number): number => r.float(e);
const readDouble = (r: WireReader, e: number): number => r.double(e);

function numbers(t: TensorProtoLike, key: 'float_val' | 'double_val' | 'int_val' | 'scomplex_val' | 'int64_val' | 'dcomplex_val' | 'half_val' | 'uint32_val' | 'uint64_val'): number[] {
  let list = t[key] as number[] | null | undefined;
  if (!list) {
    list = [];
    (t as Record<string, unknown>)[key] = list;
  }
  return list;
}

/** A failure of the wire decoders as a ModelError whose reason says what was being read. */
export function wireError(file: string, error: unknown, what: string): ModelError {
  if (error instanceof ModelError) return error.file === file && !error.reason.startsWith(what) ? new ModelError(file, `${what}: ${error.reason}`) : error;
  return asModelError(file, error, what);
}

function checkDepth(r: WireReader, depth: number): void {
  if (depth > LIMITS.maxNestingDepth) r.fail(`messages nested deeper than ${LIMITS.maxNestingDepth} levels`);
}

// ---------------------------------------------------------------------------------------------
// Hot messages, wire → IR.

function readShape(r: WireReader, end: number): TensorShapeIR {
  const dims: number[] = [];
  let unknownRank = false;
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 2 && wire === WIRE_LENGTH) {
      const stop = r.enter(end);
      let size = 0;
      while (r.pos < stop) {
        const t = r.varint32(stop);
        if (t >>> 3 === 1 && (t & 7) === WIRE_VARINT) size = r.varint64(stop);
        else r.skip(t & 7, stop);
      }
      dims.push(size < 0 ? -1 : size);
    } else if (field === 3 && wire === WIRE_VARINT) {
      unknownRank = r.varint32(end) !== 0;
    } else r.skip(wire, end);
  }
  return { unknownRank, dims };
}

function readTensor(r: WireReader, end: number, depth: number): TensorIR {
  checkDepth(r, depth);
  const t: TensorProtoLike = {};
  let shape: number[] | null = null;
  const cap = LIMITS.maxDecodedElements + 1;
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 1: if (wire === WIRE_VARINT) t.dtype = r.varint32(end) | 0; else r.skip(wire, end); break;
      case 2:
        if (wire === WIRE_LENGTH) {
          const parsed = readShape(r, r.enter(end));
          shape = parsed.unknownRank ? null : parsed.dims;
        } else r.skip(wire, end);
        break;
      case 4: if (wire === WIRE_LENGTH) t.tensor_content = r.view(end); else r.skip(wire, end); break;
      case 5: r.repeated(wire, end, numbers(t, 'float_val'), readFloat, WIRE_FIXED32, cap); break;
      case 6: r.repeated(wire, end, numbers(t, 'double_val'), readDouble, WIRE_FIXED64, cap); break;
      case 7: r.repeated(wire, end, numbers(t, 'int_val'), readInt32, WIRE_VARINT, cap); break;
      case 8:
        if (wire === WIRE_LENGTH) {
          const list = t.string_val ?? (t.string_val = []);
          if (list.length < cap) list.push(r.bytes(end)); else r.skip(wire, end);
        } else r.skip(wire, end);
        break;
      case 9: r.repeated(wire, end, numbers(t, 'scomplex_val'), readFloat, WIRE_FIXED32, 2 * cap); break;
      case 10: r.repeated(wire, end, numbers(t, 'int64_val'), readInt64, WIRE_VARINT, cap); break;
      case 11: {
        const bools: number[] = [];
        r.repeated(wire, end, bools, readBool, WIRE_VARINT, cap);
        const list = t.bool_val ?? (t.bool_val = []);
        for (const b of bools) if (list.length < cap) list.push(b !== 0);
        break;
      }
      case 12: r.repeated(wire, end, numbers(t, 'dcomplex_val'), readDouble, WIRE_FIXED64, 2 * cap); break;
      case 13: r.repeated(wire, end, numbers(t, 'half_val'), readInt32, WIRE_VARINT, cap); break;
      case 14:
        if (wire === WIRE_LENGTH) {
          const e = r.enter(end);
          const handle: { name?: string; container?: string } = {};
          while (r.pos < e) {
            const tg = r.varint32(e);
            if (tg >>> 3 === 2 && (tg & 7) === WIRE_LENGTH) handle.container = r.string(e);
            else if (tg >>> 3 === 3 && (tg & 7) === WIRE_LENGTH) handle.name = r.string(e);
            else r.skip(tg & 7, e);
          }
          (t.resource_handle_val ?? (t.resource_handle_val = [])).push(handle);
        } else r.skip(wire, end);
        break;
      case 15:
        if (wire === WIRE_LENGTH) {
          const e = r.enter(end);
          const variant: { type_name?: string } = {};
          while (r.pos < e) {
            const tg = r.varint32(e);
            if (tg >>> 3 === 1 && (tg & 7) === WIRE_LENGTH) variant.type_name = r.string(e);
            else r.skip(tg & 7, e);
          }
          (t.variant_val ?? (t.variant_val = [])).push(variant);
        } else r.skip(wire, end);
        break;
      case 16: r.repeated(wire, end, numbers(t, 'uint32_val'), readUint32, WIRE_VARINT, cap); break;
      case 17: r.repeated(wire, end, numbers(t, 'uint64_val'), readUint64, WIRE_VARINT, cap); break;
      case 18: if (wire === WIRE_LENGTH) t.float8_val = r.view(end); else r.skip(wire, end); break;
      default: r.skip(wire, end);
    }
  }
  return tensorProtoToIR(t, r.file, shape);
}

function readNameAttrList(r: WireReader, end: number, depth: number): NameAttrList {
  checkDepth(r, depth);
  const out: NameAttrList = { name: '', attr: {} };
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LENGTH) out.name = r.string(end);
    else if (field === 2 && wire === WIRE_LENGTH) readAttrEntry(r, r.enter(end), out.attr, depth + 1);
    else r.skip(wire, end);
  }
  return out;
}

const LIST_FIELDS: (keyof AttrList)[] = ['s', 'i', 'f', 'b', 'type', 'shape', 'tensor', 'func'];

function readAttrList(r: WireReader, end: number, list: AttrList, depth: number): void {
  checkDepth(r, depth);
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 2: if (wire === WIRE_LENGTH) (list.s ?? (list.s = [])).push(r.bytes(end)); else r.skip(wire, end); break;
      case 3: r.repeated(wire, end, list.i ?? (list.i = []), readInt64, WIRE_VARINT); break;
      case 4: r.repeated(wire, end, list.f ?? (list.f = []), readFloat, WIRE_FIXED32); break;
      case 5: {
        const values: number[] = [];
        r.repeated(wire, end, values, readInt64, WIRE_VARINT);
        const b = list.b ?? (list.b = []);
        for (const v of values) b.push(v !== 0);
        break;
      }
      case 6: {
        const values: number[] = [];
        r.repeated(wire, end, values, readInt32, WIRE_VARINT);
        const types = list.type ?? (list.type = []);
        for (const v of values) types.push(dtypeName(v));
        break;
      }
      case 7: if (wire === WIRE_LENGTH) (list.shape ?? (list.shape = [])).push(readShape(r, r.enter(end))); else r.skip(wire, end); break;
      case 8: if (wire === WIRE_LENGTH) (list.tensor ?? (list.tensor = [])).push(readTensor(r, r.enter(end), depth + 1)); else r.skip(wire, end); break;
      case 9: if (wire === WIRE_LENGTH) (list.func ?? (list.func = [])).push(readNameAttrList(r, r.enter(end), depth + 1)); else r.skip(wire, end); break;
      default: r.skip(wire, end);
    }
    if (field >= 2 && field <= 9) {
      const values = list[LIST_FIELDS[field - 2]!];
      if (values && values.length > LIMITS.maxDecodedElements) r.fail(`attr list with more than ${LIMITS.maxDecodedElements} values`);
    }
  }
  for (const key of Object.keys(list) as (keyof AttrList)[]) if (list[key]!.length === 0) delete list[key];
}

/** `type` attr values are shared per dtype (IR is read-only data): one object, not one per node. */
const TYPE_ATTRS = new Map<number, AttrValue>();
const NONE_ATTR: AttrValue = { type: 'none' };
function typeAttr(value: number): AttrValue {
  let attr = TYPE_ATTRS.get(value);
  if (!attr) {
    attr = { type: 'type', dtype: dtypeName(value) };
    if (TYPE_ATTRS.size < 512) TYPE_ATTRS.set(value, attr);
  }
  return attr;
}

function readAttrValue(r: WireReader, end: number, depth: number): AttrValue {
  checkDepth(r, depth);
  let value: AttrValue = NONE_ATTR;
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 1:
        if (wire === WIRE_LENGTH) {
          const list: AttrList = value.type === 'list' ? value.list : {};
          readAttrList(r, r.enter(end), list, depth + 1);
          value = { type: 'list', list };
        } else r.skip(wire, end);
        break;
      case 2: if (wire === WIRE_LENGTH) value = { type: 's', s: r.bytes(end) }; else r.skip(wire, end); break;
      case 3: if (wire === WIRE_VARINT) value = { type: 'i', i: r.varint64(end) }; else r.skip(wire, end); break;
      case 4: if (wire === WIRE_FIXED32) value = { type: 'f', f: r.float(end) }; else r.skip(wire, end); break;
      case 5: if (wire === WIRE_VARINT) value = { type: 'b', b: r.varint64(end) !== 0 }; else r.skip(wire, end); break;
      case 6: if (wire === WIRE_VARINT) value = typeAttr(r.varint32(end) | 0); else r.skip(wire, end); break;
      case 7: if (wire === WIRE_LENGTH) value = { type: 'shape', shape: readShape(r, r.enter(end)) }; else r.skip(wire, end); break;
      case 8: if (wire === WIRE_LENGTH) value = { type: 'tensor', tensor: readTensor(r, r.enter(end), depth + 1) }; else r.skip(wire, end); break;
      case 9: if (wire === WIRE_LENGTH) value = { type: 'placeholder', placeholder: r.string(end) }; else r.skip(wire, end); break;
      case 10: if (wire === WIRE_LENGTH) value = { type: 'func', func: readNameAttrList(r, r.enter(end), depth + 1) }; else r.skip(wire, end); break;
      default: r.skip(wire, end);
    }
  }
  return value;
}

/** One map<string, AttrValue> entry, stored into `attrs`. */
function readAttrEntry(r: WireReader, end: number, attrs: Record<string, AttrValue>, depth: number): void {
  let key = '';
  let value: AttrValue = NONE_ATTR;
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LENGTH) key = r.internString(end);
    else if (field === 2 && wire === WIRE_LENGTH) {
      const stop = r.enter(end);
      const start = r.pos;
      if (stop - start > SHARED_MAX_BYTES) value = readAttrValue(r, stop, depth);
      else {
        const key = SharedDecodes.key(r, start, stop, depth);
        const shared = r.sharedValues.get(r, key, start, stop, depth);
        if (shared !== undefined) {
          value = shared;
          r.pos = stop;
        } else {
          value = readAttrValue(r, stop, depth);
          r.sharedValues.set(key, start, stop, depth, value);
        }
      }
    } else r.skip(wire, end);
  }
  put(attrs, key, value);
}

function readStringEntry(r: WireReader, end: number, map: Record<string, string>): void {
  let key = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LENGTH) key = r.string(end);
    else if (field === 2 && wire === WIRE_LENGTH) value = r.string(end);
    else r.skip(wire, end);
  }
  put(map, key, value);
}

/** The inputs (attrs) of every node without any: one frozen value, not 200k empty ones. */
const NO_INPUTS: string[] = Object.freeze([]) as unknown as string[];
const NO_ATTRS: Record<string, AttrValue> = Object.freeze({}) as Record<string, AttrValue>;

function readNode(r: WireReader, end: number, depth: number): NodeIR {
  checkDepth(r, depth);
  const node: NodeIR = { name: '', op: '', inputs: NO_INPUTS, device: '', attr: NO_ATTRS };
  // Inputs go to an array only at the end, sized exactly: an array grown by push from []
  // keeps room for 16 more entries, which for 200k two-input nodes is most of the decode's
  // memory. Most nodes have one or two inputs, kept in locals until then.
  let first = '';
  let second = '';
  let rest: string[] | null = null;
  let inputCount = 0;
  let ownsAttrs = false;
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire !== WIRE_LENGTH) { r.skip(wire, end); continue; }
    switch (field) {
      case 1: node.name = r.internString(end); break;
      case 2: node.op = r.internString(end); break;
      case 3: {
        const input = r.internString(end);
        if (inputCount === 0) first = input;
        else if (inputCount === 1) second = input;
        else if (rest === null) rest = [first, second, input];
        else rest.push(input);
        inputCount++;
        break;
      }
      case 4: node.device = r.internString(end); break;
      case 5: ownsAttrs = readAttrRun(r, tagStart, end, node, depth + 1, ownsAttrs); break;
      default: r.skip(wire, end);
    }
  }
  if (inputCount === 1) node.inputs = [first];
  else if (inputCount === 2) node.inputs = [first, second];
  else if (rest !== null) node.inputs = rest.length === 3 ? rest : rest.slice();
  return node;
}

/**
 * A run of consecutive attr entries (protobuf writes a map's entries together) starting with
 * the entry whose tag is at `tagStart`: decoded into node.attr, or, for a short run seen
 * before in this file, the record decoded then. Returns whether node.attr is now this node's
 * own record (false: shared, to be copied before a later run adds to it).
 */
function readAttrRun(r: WireReader, tagStart: number, end: number, node: NodeIR, depth: number, ownsAttrs: boolean): boolean {
  const buf = r.buf;
  r.length(end);
  let stop = r.pos;
  // The end of the run: entries tagged (5, length-delimited) = 0x2a, one after another.
  while (stop < end && buf[stop] === 0x2a && stop - tagStart <= SHARED_MAX_BYTES) {
    r.pos = stop + 1;
    r.length(end);
    stop = r.pos;
  }
  const shareable = node.attr === NO_ATTRS && stop - tagStart <= SHARED_MAX_BYTES && (stop >= end || buf[stop] !== 0x2a);
  const key = shareable ? SharedDecodes.key(r, tagStart, stop, depth) : 0;
  if (shareable) {
    const shared = r.sharedAttrMaps.get(r, key, tagStart, stop, depth);
    if (shared !== undefined) {
      node.attr = shared;
      r.pos = stop;
      return false;
    }
  }
  const attrs = ownsAttrs ? node.attr : copyAttrs(node.attr);
  r.pos = tagStart;
  while (r.pos < stop) {
    r.varint32(stop); // the 0x2a tag
    readAttrEntry(r, r.enter(stop), attrs, depth);
  }
  node.attr = attrs;
  if (!shareable) return true;
  r.sharedAttrMaps.set(key, tagStart, stop, depth, attrs);
  return false;
}

function copyAttrs(attrs: Record<string, AttrValue>): Record<string, AttrValue> {
  const copy: Record<string, AttrValue> = {};
  for (const key of Object.keys(attrs)) put(copy, key, attrs[key]!);
  return copy;
}

function readArgDef(r: WireReader, end: number): ArgDefIR {
  const arg: ArgDefIR = { name: '' };
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LENGTH) arg.name = r.string(end);
    else if (field === 3 && wire === WIRE_VARINT) { const t = r.varint32(end) | 0; if (t !== 0) arg.type = dtypeName(t); else delete arg.type; }
    else if (field === 4 && wire === WIRE_LENGTH) { const s = r.string(end); if (s) arg.typeAttr = s; }
    else if (field === 5 && wire === WIRE_LENGTH) { const s = r.string(end); if (s) arg.numberAttr = s; }
    else if (field === 6 && wire === WIRE_LENGTH) { const s = r.string(end); if (s) arg.typeListAttr = s; }
    else if (field === 16 && wire === WIRE_VARINT) { if (r.varint64(end) !== 0) arg.isRef = true; }
    else r.skip(wire, end);
  }
  return arg;
}

function readOpDef(r: WireReader, end: number, depth: number): OpDefIR {
  checkDepth(r, depth);
  const op: OpDefIR = { name: '', inputArgs: [], outputArgs: [], attrs: [], isStateful: false };
  let summary = '';
  let description = '';
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LENGTH) op.name = r.string(end);
    else if (field === 2 && wire === WIRE_LENGTH) op.inputArgs.push(readArgDef(r, r.enter(end)));
    else if (field === 3 && wire === WIRE_LENGTH) op.outputArgs.push(readArgDef(r, r.enter(end)));
    else if (field === 4 && wire === WIRE_LENGTH) {
      const e = r.enter(end);
      const a: OpDefAttrIR = { name: '', type: '' };
      while (r.pos < e) {
        const tg = r.varint32(e);
        const f = tg >>> 3;
        const w = tg & 7;
        if (f === 1 && w === WIRE_LENGTH) a.name = r.string(e);
        else if (f === 2 && w === WIRE_LENGTH) a.type = r.string(e);
        else if (f === 3 && w === WIRE_LENGTH) a.defaultValue = readAttrValue(r, r.enter(e), depth + 1);
        else r.skip(w, e);
      }
      op.attrs.push(a);
    } else if (field === 5 && wire === WIRE_LENGTH) summary = r.string(end);
    else if (field === 6 && wire === WIRE_LENGTH) description = r.string(end);
    else if (field === 17 && wire === WIRE_VARINT) op.isStateful = r.varint64(end) !== 0;
    else r.skip(wire, end);
  }
  if (summary || description) op.description = summary || description;
  return op;
}

function readFunction(r: WireReader, end: number, depth: number): FunctionIR {
  checkDepth(r, depth);
  const fn: FunctionIR = {
    name: '',
    signature: { name: '', inputArgs: [], outputArgs: [], attrs: [], isStateful: false },
    nodes: [],
    ret: {},
    controlRet: {},
    attr: {},
  };
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire !== WIRE_LENGTH) { r.skip(wire, end); continue; }
    switch (field) {
      case 1: fn.signature = readOpDef(r, r.enter(end), depth + 1); break;
      case 3: fn.nodes.push(readNode(r, r.enter(end), depth + 1)); break;
      case 4: readStringEntry(r, r.enter(end), fn.ret); break;
      case 5: readAttrEntry(r, r.enter(end), fn.attr, depth + 1); break;
      case 6: readStringEntry(r, r.enter(end), fn.controlRet); break;
      default: r.skip(wire, end);
    }
  }
  fn.name = fn.signature.name;
  return fn;
}

/** Reads GraphDef fields into `graph` (repeated occurrences merge, as protobuf specifies). */
export function readGraphInto(r: WireReader, end: number, graph: GraphIR, depth = 0): void {
  checkDepth(r, depth);
  while (r.pos < end) {
    const tag = r.varint32(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LENGTH) {
      if (graph.nodes.length >= LIMITS.maxNodes) r.fail(`graph has more than ${LIMITS.maxNodes} nodes`);
      graph.nodes.push(readNode(r, r.enter(end), depth + 1));
    } else if (field === 2 && wire === WIRE_LENGTH) {
      const e = r.enter(end);
      while (r.pos < e) {
        const tg = r.varint32(e);
        if (tg >>> 3 === 1 && (tg & 7) === WIRE_LENGTH) {
          if (graph.library.length >= LIMITS.maxFunctions) r.fail(`library has more than ${LIMITS.maxFunctions} functions`);
          graph.library.push(readFunction(r, r.enter(e), depth + 2));
        } else r.skip(tg & 7, e);
      }
    } else if (field === 4 && wire === WIRE_LENGTH) {
      const e = r.enter(end);
      graph.producer ??= 0;
      graph.minConsumer ??= 0;
      while (r.pos < e) {
        const tg = r.varint32(e);
        if (tg >>> 3 === 1 && (tg & 7) === WIRE_VARINT) graph.producer = r.varint32(e) | 0;
        else if (tg >>> 3 === 2 && (tg & 7) === WIRE_VARINT) graph.minConsumer = r.varint32(e) | 0;
        else r.skip(tg & 7, e);
      }
    } else r.skip(wire, end);
  }
}

/**
 * Shortest byte string worth decoding as a nested GraphDef, which starts with field 1 (node)
 * length-delimited: 0x0a. Every byte string this reader returns passes through bytes().
 */
export const NESTED_GRAPH_MIN_BYTES = 8;

/** Node lists read from a file in which no byte string could hold a GraphDef. */
const withoutGraphLikeStrings = new WeakSet<NodeIR[]>();

/**
 * After a whole file is read: when none of its byte strings (attr `s`, string lists, string
 * tensors, anywhere in the file, decoded records shared between nodes included) could hold a
 * GraphDef, its node lists are marked so that the nested-graph search skips them.
 */
export function noteGraphLikeStrings(r: WireReader, graphs: GraphIR[]): void {
  if (r.graphLikeStrings !== 0) return;
  for (const graph of graphs) {
    withoutGraphLikeStrings.add(graph.nodes);
    for (const fn of graph.library) withoutGraphLikeStrings.add(fn.nodes);
  }
}

/** False only for node lists this reader read from a file without any GraphDef-like byte string. */
export function mayHoldNestedGraphs(nodes: NodeIR[]): boolean {
  return !withoutGraphLikeStrings.has(nodes);
}

export function emptyGraph(): GraphIR {
  return { nodes: [], library: [], producer: null, minConsumer: null };
}

/** Binary GraphDef → IR. Also used for graphs hidden in string constants. */
export function decodeGraphDefBytes(bytes: Uint8Array, file: string): GraphIR {
  const graph = emptyGraph();
  try {
    const r = new WireReader(bytes, file);
    readGraphInto(r, bytes.length, graph);
    noteGraphLikeStrings(r, [graph]);
  } catch (error) {
    throw wireError(file, error, 'invalid GraphDef protobuf');
  }
  return graph;
}

/** Bytes that start like text format: printable, first token an identifier or comment. */
export function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 4096);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  const head = Buffer.from(bytes.subarray(0, n)).toString('utf8').replace(/^(\s|#[^\n]*\n)*/, '');
  return /^[A-Za-z_][A-Za-z0-9_.]*\s*[:{<]/.test(head) || head.length === 0;
}

export async function readProtoFile(file: string, text: boolean): Promise<Buffer> {
  const limit = text ? LIMITS.maxTextBytes : LIMITS.maxProtoBytes;
  try {
    return await readWholeFile(file, limit);
  } catch (error) {
    throw error instanceof ModelError ? error : asModelError(file, error, 'cannot read file');
  }
}

/**
 * The whole file in one read of the size fstat gives (fs.readFile reads 512 kB at a time,
 * one thread-pool round trip each: 50 of them for a 27 MB graph). A file that grows while
 * being read is read on to its end, within `limit`.
 */
async function readWholeFile(file: string, limit: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    if (size > limit) throw new ModelError(file, `file is ${size} bytes, larger than the ${limit}-byte limit`);
    // Big files go to shared memory, which a hashing thread reads while this one decodes
    // (files.ts hashHeldBytes); never from Buffer's pool: .buffer is this file alone.
    const whole = size >= HASH_OFF_THREAD.minBytes ? Buffer.from(new SharedArrayBuffer(size)) : Buffer.allocUnsafeSlow(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(whole, filled, size - filled, filled);
      if (bytesRead === 0) return whole.subarray(0, filled); // shrank meanwhile
      filled += bytesRead;
    }
    const more: Buffer[] = [];
    let total = size;
    for (;;) {
      const chunk = Buffer.allocUnsafe(more.length === 0 ? 4096 : 1 << 20);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw new ModelError(file, `file grew past the ${limit}-byte limit while being read`);
      more.push(chunk.subarray(0, bytesRead));
    }
    return more.length === 0 ? whole : Buffer.concat([whole, ...more], total);
  } finally {
    await handle.close();
  }
}

/** A GraphDef file, binary or text format (decided by content). */
export async function readGraphDef(file: string): Promise<GraphIR> {
  const bytes = await readProtoFile(file, false);
  if (looksLikeText(bytes)) return parseGraphDefText(bytes.toString('utf8'), file);
  return decodeGraphDefBytes(bytes, file);
}

export function parseGraphDefText(text: string, file: string): GraphIR {
  if (text.length > LIMITS.maxTextBytes) throw new ModelError(file, 'text-format file larger than the limit');
  let message;
  try {
    message = parseTextProto(text, protoTypes.GraphDef, file);
  } catch (error) {
    throw asModelError(file, error, 'invalid text-format GraphDef');
  }
  try {
    return toGraphIR(message, file);
  } catch (error) {
    throw asModelError(file, error, 'invalid text-format GraphDef');
  }
}
