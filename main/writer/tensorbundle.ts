// Writes TensorFlow V2 checkpoints (tensor bundles) that TensorFlow itself restores:
// `<prefix>.data-NNNNN-of-MMMMM` shards holding the tensors' bytes and `<prefix>.index`, a
// LevelDB-format table (sorted keys, restart points, block trailers with masked crc32c,
// optional snappy blocks, footer with magic) mapping "" to a BundleHeaderProto and every key
// to a BundleEntryProto. Used for the demo's malicious checkpoint, tests and the benchmark.
import { open, writeFile } from 'node:fs/promises';
import snappy from 'snappyjs';
import type { DType } from '../../shared/ir.ts';
import { crc32c, maskCrc } from '../formats/crc32c.ts';
import { BLOCK_TRAILER_SIZE, COMPRESSION_NONE, COMPRESSION_SNAPPY, TABLE_MAGIC, compareBytes } from '../formats/leveldb-table.ts';
import { protoTypes } from '../formats/protobuf.ts';
import { baseDtype, dtypeSize, dtypeValue, elementCount } from '../formats/tensor.ts';
import { shardPath } from '../formats/tensorbundle.ts';

export interface TensorToWrite {
  key: string;
  dtype: DType;
  shape: number[];
  values: number[] | boolean[] | Uint8Array[] | string[];
}

export interface WriteBundleOptions {
  /** Snappy-compress index blocks (when it saves at least 1/8, as LevelDB does). */
  snappy?: boolean;
  /** Target uncompressed size of an index data block (TensorFlow's default is 4 KiB). */
  blockSize?: number;
  /** Number of data shards; tensors are spread over them in key order. */
  shards?: number;
  /**
   * Byte offset at which each shard's first tensor starts. The bytes before are left as a
   * hole (sparse on most file systems): lets a test or benchmark build a huge data file with
   * its tensors at high offsets without using the disk.
   */
  startOffset?: number;
  /** Keys between restart points in data blocks (LevelDB default 16). */
  restartInterval?: number;
}

const encoder = new TextEncoder();
const WRITE_BUFFER = 1024 * 1024;

/** Writes a tensor bundle at `prefix` (files `<prefix>.index` and `<prefix>.data-*`). */
export async function writeTensorBundle(prefix: string, tensors: TensorToWrite[], options: WriteBundleOptions = {}): Promise<void> {
  const numShards = Math.max(1, Math.floor(options.shards ?? 1));
  const sorted = tensors
    .map((t) => ({ tensor: t, keyBytes: encoder.encode(t.key) }))
    .sort((a, b) => compareBytes(a.keyBytes, b.keyBytes));
  for (let i = 0; i < sorted.length; i++) {
    const key = sorted[i]!.tensor.key;
    if (key === '') throw new Error('a tensor key cannot be empty (the "" key holds the bundle header)');
    if (i > 0 && key === sorted[i - 1]!.tensor.key) throw new Error(`duplicate tensor key "${key}"`);
  }

  const entries: { key: Uint8Array; value: Uint8Array }[] = [];
  const header = protoTypes.BundleHeaderProto.encode(
    protoTypes.BundleHeaderProto.create({ num_shards: numShards, endianness: 0, version: protoTypes.VersionDef.create({ producer: 1 }) }),
  ).finish();
  entries.push({ key: new Uint8Array(0), value: header });

  const startOffset = Math.max(0, Math.floor(options.startOffset ?? 0));
  for (let shard = 0; shard < numShards; shard++) {
    const from = Math.floor((shard * sorted.length) / numShards);
    const to = Math.floor(((shard + 1) * sorted.length) / numShards);
    const handle = await open(shardPath(prefix, shard, numShards), 'w');
    try {
      let offset = startOffset;
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      let pendingAt = offset;
      const flush = async (): Promise<void> => {
        if (pendingBytes === 0) return;
        const joined = concat(pending, pendingBytes);
        await handle.write(joined, 0, joined.length, pendingAt);
        pendingAt += pendingBytes;
        pending = [];
        pendingBytes = 0;
      };
      for (let i = from; i < to; i++) {
        const { tensor, keyBytes } = sorted[i]!;
        const { bytes, crc } = encodeTensor(tensor);
        const entry = protoTypes.BundleEntryProto.create({
          dtype: dtypeValue(tensor.dtype) ?? 0,
          shape: protoTypes.TensorShapeProto.create({ dim: tensor.shape.map((size) => ({ size })) }),
          shard_id: shard,
          offset,
          size: bytes.length,
          crc32c: maskCrc(crc),
        });
        entries.push({ key: keyBytes, value: protoTypes.BundleEntryProto.encode(entry).finish() });
        pending.push(bytes);
        pendingBytes += bytes.length;
        offset += bytes.length;
        if (pendingBytes >= WRITE_BUFFER) await flush();
      }
      await flush();
      // A shard whose tensors start late (or that holds none) still has its full length.
      if (offset > 0) await handle.truncate(offset);
    } finally {
      await handle.close();
    }
  }

  await writeFile(`${prefix}.index`, buildTable(entries, options));
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The bytes TensorFlow stores for one tensor in a data shard, and their (unmasked) crc32c. */
export function encodeTensor(tensor: TensorToWrite): { bytes: Uint8Array; crc: number } {
  const count = elementCount(tensor.shape);
  if (count === null) throw new Error(`tensor "${tensor.key}": shape [${tensor.shape.join(',')}] is not fully defined`);
  if (dtypeValue(tensor.dtype) === null) throw new Error(`tensor "${tensor.key}": unknown dtype ${tensor.dtype}`);
  const base = baseDtype(tensor.dtype);
  const perElement = base === 'DT_COMPLEX64' || base === 'DT_COMPLEX128' ? 2 : 1;
  if (tensor.values.length !== count * perElement) {
    throw new Error(`tensor "${tensor.key}": ${tensor.values.length} values for shape [${tensor.shape.join(',')}]`);
  }
  if (base === 'DT_STRING') return encodeStrings(tensor.values as (string | Uint8Array)[]);
  const size = dtypeSize(base);
  if (size === null) throw new Error(`tensor "${tensor.key}": ${tensor.dtype} tensors cannot be written`);
  const bytes = new Uint8Array(count * size);
  const view = new DataView(bytes.buffer);
  const values = tensor.values as (number | boolean)[];
  for (let i = 0; i < values.length; i++) writeElement(view, base, i, values[i]!);
  return { bytes, crc: crc32c(bytes) };
}

function writeElement(view: DataView, base: DType, i: number, raw: number | boolean): void {
  const v = typeof raw === 'boolean' ? (raw ? 1 : 0) : Number(raw);
  switch (base) {
    case 'DT_FLOAT': case 'DT_COMPLEX64': view.setFloat32(i * 4, v, true); break;
    case 'DT_DOUBLE': case 'DT_COMPLEX128': view.setFloat64(i * 8, v, true); break;
    case 'DT_INT32': case 'DT_QINT32': view.setInt32(i * 4, v, true); break;
    case 'DT_UINT32': view.setUint32(i * 4, v, true); break;
    case 'DT_INT16': case 'DT_QINT16': view.setInt16(i * 2, v, true); break;
    case 'DT_UINT16': case 'DT_QUINT16': view.setUint16(i * 2, v, true); break;
    case 'DT_INT8': case 'DT_QINT8': view.setInt8(i, v); break;
    case 'DT_UINT8': case 'DT_QUINT8': view.setUint8(i, v); break;
    case 'DT_BOOL': view.setUint8(i, v ? 1 : 0); break;
    case 'DT_INT64': view.setBigInt64(i * 8, BigInt(Math.trunc(v)), true); break;
    case 'DT_UINT64': view.setBigUint64(i * 8, BigInt(Math.trunc(v)), true); break;
    case 'DT_HALF': view.setUint16(i * 2, floatToHalf(v), true); break;
    case 'DT_BFLOAT16': view.setUint16(i * 2, floatToBfloat16(v), true); break;
    default: throw new Error(`${base} tensors cannot be written`);
  }
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Round-to-nearest-even float32 → bfloat16 bits (NaN stays NaN). */
export function floatToBfloat16(v: number): number {
  F32[0] = v;
  const bits = U32[0]!;
  if (Number.isNaN(v)) return 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Round-to-nearest-even float → IEEE half bits. */
export function floatToHalf(v: number): number {
  F32[0] = v;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** varint64 lengths, masked crc32c of the lengths (as uint32), then the bytes. */
function encodeStrings(values: (string | Uint8Array)[]): { bytes: Uint8Array; crc: number } {
  const items = values.map((v) => (typeof v === 'string' ? encoder.encode(v) : v));
  const lengths: number[] = [];
  let crc = 0;
  const scratch = new DataView(new ArrayBuffer(8));
  const scratchBytes = new Uint8Array(scratch.buffer);
  let total = 0;
  for (const item of items) {
    pushVarint(lengths, item.length);
    scratch.setUint32(0, item.length, true);
    crc = crc32c(scratchBytes.subarray(0, 4), crc);
    total += item.length;
  }
  const out = new Uint8Array(lengths.length + 4 + total);
  out.set(lengths, 0);
  new DataView(out.buffer).setUint32(lengths.length, maskCrc(crc), true);
  crc = crc32c(out.subarray(lengths.length, lengths.length + 4), crc);
  let at = lengths.length + 4;
  for (const item of items) {
    out.set(item, at);
    crc = crc32c(item, crc);
    at += item.length;
  }
  return { bytes: out, crc };
}

function pushVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

// ---------------------------------------------------------------------------------------------
// LevelDB table builder

class BlockBuilder {
  private bytes: number[] = [];
  private restarts: number[] = [0];
  private counter = 0;
  private lastKey: Uint8Array = new Uint8Array(0);
  entries = 0;

  constructor(private readonly restartInterval: number) {}

  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.counter < this.restartInterval) {
      const n = Math.min(key.length, this.lastKey.length);
      while (shared < n && key[shared] === this.lastKey[shared]) shared++;
    } else {
      this.restarts.push(this.bytes.length);
      this.counter = 0;
    }
    pushVarint(this.bytes, shared);
    pushVarint(this.bytes, key.length - shared);
    pushVarint(this.bytes, value.length);
    for (let i = shared; i < key.length; i++) this.bytes.push(key[i]!);
    for (let i = 0; i < value.length; i++) this.bytes.push(value[i]!);
    this.lastKey = key;
    this.counter++;
    this.entries++;
  }

  get sizeEstimate(): number {
    return this.bytes.length + this.restarts.length * 4 + 4;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.bytes.length + this.restarts.length * 4 + 4);
    out.set(this.bytes, 0);
    const view = new DataView(out.buffer);
    let at = this.bytes.length;
    for (const r of this.restarts) {
      view.setUint32(at, r, true);
      at += 4;
    }
    view.setUint32(at, this.restarts.length, true);
    return out;
  }
}

/** A complete table for `entries`, which must be sorted by key (bytewise). */
export function buildTable(entries: { key: Uint8Array; value: Uint8Array }[], options: WriteBundleOptions = {}): Uint8Array {
  const blockSize = Math.max(1, options.blockSize ?? 4096);
  const restartInterval = Math.max(1, options.restartInterval ?? 16);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const writeBlock = (contents: Uint8Array): { offset: number; size: number } => {
    let stored = contents;
    let type = COMPRESSION_NONE;
    if (options.snappy) {
      const compressed = snappy.compress(contents);
      if (compressed.length < contents.length - contents.length / 8) {
        stored = compressed;
        type = COMPRESSION_SNAPPY;
      }
    }
    const trailer = new Uint8Array(BLOCK_TRAILER_SIZE);
    trailer[0] = type;
    const crc = crc32c(Uint8Array.of(type), crc32c(stored));
    new DataView(trailer.buffer).setUint32(1, maskCrc(crc), true);
    const handle = { offset, size: stored.length };
    chunks.push(stored, trailer);
    offset += stored.length + BLOCK_TRAILER_SIZE;
    return handle;
  };

  const index = new BlockBuilder(1);
  let block = new BlockBuilder(restartInterval);
  let lastKey: Uint8Array | null = null;
  const finishDataBlock = (): void => {
    if (block.entries === 0 || lastKey === null) return;
    const handle = writeBlock(block.finish());
    index.add(lastKey, encodeHandle(handle));
    block = new BlockBuilder(restartInterval);
  };
  for (const { key, value } of entries) {
    if (lastKey !== null && compareBytes(lastKey, key) >= 0) throw new Error('table keys must be unique and sorted');
    block.add(key, value);
    lastKey = key;
    if (block.sizeEstimate >= blockSize) finishDataBlock();
  }
  finishDataBlock();
  const metaindex = writeBlock(new BlockBuilder(restartInterval).finish());
  const indexHandle = writeBlock(index.finish());

  const footer = new Uint8Array(48);
  const handles: number[] = [];
  pushVarint(handles, metaindex.offset);
  pushVarint(handles, metaindex.size);
  pushVarint(handles, indexHandle.offset);
  pushVarint(handles, indexHandle.size);
  footer.set(handles, 0);
  footer.set(TABLE_MAGIC, 40);
  chunks.push(footer);
  return concat(chunks, offset + footer.length);
}

function encodeHandle(handle: { offset: number; size: number }): Uint8Array {
  const out: number[] = [];
  pushVarint(out, handle.offset);
  pushVarint(out, handle.size);
  return Uint8Array.from(out);
}
