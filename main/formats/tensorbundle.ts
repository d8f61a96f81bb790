// TensorFlow V2 checkpoints (tensor bundles): `<prefix>.index`, a LevelDB-format table whose
// "" key holds a BundleHeaderProto and every other key a BundleEntryProto locating a
// tensor's bytes in `<prefix>.data-NNNNN-of-MMMMM`. Tensors are read lazily: only the
// entry's byte range of its shard is read (in bounded chunks), and its crc32c is verified.
//
// openCheckpoint also accepts a `.data-*` file, a directory with a `checkpoint` state file,
// and V1 checkpoints (checkpoint-v1.ts), all returning the same CheckpointIR.
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { BundleEntryIR, BundleSliceIR, CheckpointIR, TensorIR } from '../../shared/ir.ts';
import { LIMITS, ModelError, asModelError } from './errors.ts';
import { readDirectoryBounded } from './files.ts';
import { crc32c, maskCrc, unmaskCrc } from './crc32c.ts';
import { ByteReader, TABLE_FOOTER_SIZE, TABLE_MAGIC, hasTableMagic, readTable, type TableEntry } from './leveldb-table.ts';
import { baseDtype, decodeTensorContent, dtypeName, dtypeSize, elementCount, longToNumber } from './tensor.ts';
import { protoTypes } from './protobuf.ts';
import { assembleSlices, sliceBounds, type SlicePiece } from './tensor-slices.ts';
import { isV1Checkpoint, readV1Checkpoint, readV1Tensor } from './checkpoint-v1.ts';
import { readCheckpointState } from './checkpoint-state.ts';

export const HEADER_KEY = '';
export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';
/** Tensors up to this many bytes get a preview when the checkpoint is opened. */
export const PREVIEW_MAX_BYTES = 64 * 1024;
export const PREVIEW_VALUES = 16;
/** Chunk size for streaming a tensor's bytes through the crc. */
const READ_CHUNK = 1024 * 1024;

const textDecoder = new TextDecoder();

/** Counters for one tensor read (tests and benchmarks assert laziness with them). */
export interface TensorReadStats {
  /** Bytes read from data files. */
  bytesRead: number;
  /** Bytes of buffers allocated to hold file data. */
  bytesAllocated: number;
}

export function shardPath(prefix: string, shardId: number, numShards: number): string {
  const pad = (n: number): string => String(n).padStart(5, '0');
  return `${prefix}.data-${pad(shardId)}-of-${pad(numShards)}`;
}

/** True when `bytes` (a whole `.index` file) is a tensor-bundle index rather than a V1 checkpoint. */
export function isTensorBundleIndex(bytes: Uint8Array): boolean {
  if (!hasTableMagic(bytes)) return false;
  let entries: TableEntry[];
  try {
    entries = readTable(bytes, '<bytes>');
  } catch {
    return false;
  }
  const first = entries[0];
  if (!first || first.key.length !== 0) return false;
  return headerLooksLikeBundle(first.value);
}

/**
 * BundleHeaderProto has varint fields 1 and 2 and a message field 3; the V1 meta
 * (SavedTensorSlices) starts with message field 1. Tell them apart by the wire types.
 */
function headerLooksLikeBundle(value: Uint8Array): boolean {
  try {
    const r = new ByteReader(value, '<bytes>', 'header');
    while (r.pos < value.length) {
      const tag = r.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if ((field === 1 || field === 2) && wire !== 0) return false;
      if (field === 3 && wire !== 2) return false;
      if (wire === 0) r.varint();
      else if (wire === 2) r.take(r.varint());
      else if (wire === 1) r.take(8);
      else if (wire === 5) r.take(4);
      else return false;
    }
    return true;
  } catch {
    return false;
  }
}

function decodeMessage<T>(type: { decode(bytes: Uint8Array): unknown }, bytes: Uint8Array, file: string, what: string): T {
  try {
    return type.decode(bytes) as T;
  } catch (error) {
    throw asModelError(file, error, `cannot decode ${what}`);
  }
}

interface ShapeLike {
  dim?: { size?: unknown }[] | null;
  unknown_rank?: boolean | null;
}

interface BundleEntryLike {
  dtype?: number;
  shape?: ShapeLike | null;
  shard_id?: number;
  offset?: unknown;
  size?: unknown;
  crc32c?: number;
  slices?: unknown[] | null;
}

function shapeDims(shape: ShapeLike | null | undefined, file: string, key: string): number[] {
  const dims = (shape?.dim ?? []).map((d) => longToNumber(d?.size ?? 0));
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ModelError(file, `entry "${key}": invalid dimension ${d}`);
  }
  return dims;
}

/** Reads `<prefix>.index` and previews the small tensors. */
export async function readTensorBundle(prefix: string): Promise<CheckpointIR> {
  const indexFile = `${prefix}.index`;
  let size: number;
  try {
    size = (await stat(indexFile)).size;
  } catch (error) {
    throw asModelError(indexFile, error, 'cannot read checkpoint index');
  }
  if (size > LIMITS.maxIndexBytes) throw new ModelError(indexFile, `index of ${size} bytes exceeds the ${LIMITS.maxIndexBytes}-byte limit`);
  const bytes = await readFile(indexFile);
  const ckpt = parseBundleIndex(prefix, bytes, indexFile);
  await fillPreviews(ckpt);
  return ckpt;
}

/** The CheckpointIR described by index bytes (no data files are touched). */
export function parseBundleIndex(prefix: string, bytes: Uint8Array, indexFile = `${prefix}.index`): CheckpointIR {
  const table = readTable(bytes, indexFile);
  const first = table[0];
  if (!first || first.key.length !== 0) throw new ModelError(indexFile, 'tensor bundle has no header entry (key "")');
  if (!headerLooksLikeBundle(first.value)) {
    throw new ModelError(indexFile, 'header entry is not a BundleHeaderProto (this looks like a V1 checkpoint table)');
  }
  const header = decodeMessage<{ num_shards?: number; endianness?: number; version?: { producer?: number; min_consumer?: number } }>(
    protoTypes.BundleHeaderProto,
    first.value,
    indexFile,
    'bundle header',
  );
  const numShards = header.num_shards ?? 0;
  if (numShards < 0 || numShards > 100_000) throw new ModelError(indexFile, `header num_shards ${numShards} is out of range`);
  const endianness = header.endianness === 1 ? 'big' : 'little';
  if (header.endianness !== undefined && header.endianness !== 0 && header.endianness !== 1) {
    throw new ModelError(indexFile, `header endianness ${header.endianness} is unknown`);
  }
  const entries: BundleEntryIR[] = [];
  const seen = new Set<string>();
  const parts = new Map<string, BundleSliceIR[]>();
  for (let i = 1; i < table.length; i++) {
    const { key: keyBytes, value } = table[i]!;
    const key = textDecoder.decode(keyBytes);
    if (keyBytes.length === 0) throw new ModelError(indexFile, 'second header entry (key "")');
    // Slices of partitioned tensors live under OrderedCode keys starting with a 0 byte; they
    // are attached to the full tensor's entry (sliceParts) below.
    const sliceKey = keyBytes[0] === 0 ? decodeSliceKey(keyBytes, indexFile) : null;
    const what = sliceKey ? `slice of "${sliceKey.name}"` : `entry "${key}"`;
    if (!sliceKey) {
      if (seen.has(key)) throw new ModelError(indexFile, `duplicate entry "${key}"`);
      seen.add(key);
    }
    const e = decodeMessage<BundleEntryLike>(protoTypes.BundleEntryProto, value, indexFile, what);
    const shardId = e.shard_id ?? 0;
    const offset = longToNumber(e.offset ?? 0);
    const entrySize = longToNumber(e.size ?? 0);
    const slices = e.slices?.length ?? 0;
    if (slices === 0 && (shardId < 0 || shardId >= Math.max(numShards, 1))) {
      throw new ModelError(indexFile, `${what}: shard ${shardId} is outside the ${numShards} shards`);
    }
    if (!Number.isSafeInteger(offset) || offset < 0) throw new ModelError(indexFile, `${what}: invalid offset ${offset}`);
    if (!Number.isSafeInteger(entrySize) || entrySize < 0) throw new ModelError(indexFile, `${what}: invalid size ${entrySize}`);
    if (sliceKey) {
      const part: BundleSliceIR = { extents: sliceKey.extents, shardId, offset, size: entrySize, crc32c: e.crc32c ?? null };
      const list = parts.get(sliceKey.name) ?? [];
      list.push(part);
      parts.set(sliceKey.name, list);
      continue;
    }
    const entry: BundleEntryIR = {
      key,
      dtype: dtypeName(e.dtype ?? 0),
      shape: shapeDims(e.shape, indexFile, key),
      shardId,
      offset,
      size: entrySize,
      // A partitioned tensor's own entry holds no bytes, so no crc either.
      crc32c: slices > 0 ? null : (e.crc32c ?? null),
    };
    if (slices > 0) entry.slices = slices;
    entries.push(entry);
  }
  for (const entry of entries) {
    const found = parts.get(entry.key);
    if (found && entry.slices) entry.sliceParts = found;
  }
  return { prefix, version: 'v2', numShards, endianness, entries, preview: {} };
}

/** Fills `preview` (first values of small tensors) and `objectGraph`, opening each shard once. */
async function fillPreviews(ckpt: CheckpointIR): Promise<void> {
  const shards = new Map<number, Promise<OpenShard>>();
  try {
    for (const entry of ckpt.entries) {
      const bytes = entry.sliceParts ? entry.sliceParts.reduce((n, p) => n + p.size, 0) : entry.size;
      if (bytes > PREVIEW_MAX_BYTES || (entry.slices && !entry.sliceParts)) continue;
      try {
        const tensor = entry.slices ? await readPartitionedTensor(ckpt, entry, undefined, shards) : await readEntryTensor(ckpt, entry, undefined, shards);
        ckpt.preview[entry.key] = firstValues(tensor, PREVIEW_VALUES);
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        const reason = `${basename(error.file)}: ${error.reason}`;
        ckpt.preview[entry.key] = { dtype: entry.dtype, shape: entry.shape, elementCount: elementCount(entry.shape), values: { kind: 'unsupported', reason } };
      }
    }
    const graphEntry = entryByKey(ckpt, OBJECT_GRAPH_KEY);
    if (graphEntry && graphEntry.dtype === 'DT_STRING' && !graphEntry.slices) {
      try {
        const tensor = await readEntryTensor(ckpt, graphEntry, undefined, shards);
        if (tensor.values.kind === 'string' && tensor.values.values.length === 1) {
          ckpt.objectGraph = decodeObjectGraph(tensor.values.values[0]!, shardPath(ckpt.prefix, graphEntry.shardId, ckpt.numShards));
        }
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        (ckpt.warnings ??= []).push(error.message);
      }
    }
  } finally {
    for (const pending of shards.values()) {
      const shard = await pending.catch(() => null);
      if (shard) await shard.handle.close();
    }
  }
}

export function firstValues(tensor: TensorIR, n: number): TensorIR {
  const v = tensor.values;
  if (v.kind === 'unsupported') return tensor;
  const per = v.kind === 'complex' ? 2 : 1;
  if (v.values.length <= n * per) return tensor;
  const cut = { ...v, values: v.values.slice(0, n * per) } as TensorIR['values'];
  return { ...tensor, values: cut, truncated: true };
}

export function decodeObjectGraph(bytes: Uint8Array, file: string): NonNullable<CheckpointIR['objectGraph']> {
  const graph = decodeMessage<{
    nodes?: { children?: { node_id?: number; local_name?: string }[]; attributes?: { name?: string; checkpoint_key?: string }[] }[];
  }>(protoTypes.TrackableObjectGraph, bytes, file, OBJECT_GRAPH_KEY);
  const nodes = graph.nodes ?? [];
  return {
    nodes: nodes.map((node) => ({
      children: (node.children ?? []).map((c) => ({ name: c.local_name ?? '', nodeId: c.node_id ?? 0 })),
      attributes: (node.attributes ?? []).map((a) => ({ name: a.name ?? '', checkpointKey: a.checkpoint_key ?? '' })),
    })),
  };
}

/**
 * Reads one tensor: only its byte range of its shard, verifying its crc32c. Memory use is
 * bounded by the decoded-element limit, not by the tensor's or the shard's size.
 */
export async function readCheckpointTensor(ckpt: CheckpointIR, key: string, stats?: TensorReadStats): Promise<TensorIR> {
  if (ckpt.version === 'v1') return readV1Tensor(ckpt, key);
  const entry = entryByKey(ckpt, key);
  if (!entry) throw new ModelError(`${ckpt.prefix}.index`, `no tensor "${key}" in the checkpoint`);
  if (entry.slices) return readPartitionedTensor(ckpt, entry, stats);
  return readEntryTensor(ckpt, entry, stats);
}

const entryIndexes = new WeakMap<CheckpointIR, Map<string, BundleEntryIR>>();

function entryByKey(ckpt: CheckpointIR, key: string): BundleEntryIR | undefined {
  let index = entryIndexes.get(ckpt);
  if (!index || index.size !== ckpt.entries.length) {
    index = new Map(ckpt.entries.map((e) => [e.key, e]));
    entryIndexes.set(ckpt, index);
  }
  return index.get(key);
}

interface OpenShard {
  handle: FileHandle;
  size: number;
  file: string;
}

async function openShard(ckpt: CheckpointIR, shardId: number, key: string): Promise<OpenShard> {
  const file = shardPath(ckpt.prefix, shardId, ckpt.numShards);
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw asModelError(file, error, `cannot open data shard for "${key}"`);
  }
  try {
    return { handle, size: (await handle.stat()).size, file };
  } catch (error) {
    await handle.close();
    throw asModelError(file, error, 'cannot stat data shard');
  }
}

/** Reads one (unpartitioned) entry; `shards` lets a caller reading many tensors keep shards open. */
async function readEntryTensor(ckpt: CheckpointIR, entry: BundleEntryIR, stats?: TensorReadStats, shards?: Map<number, Promise<OpenShard>>): Promise<TensorIR> {
  const key = entry.key;
  const file = shardPath(ckpt.prefix, entry.shardId, ckpt.numShards);
  if (entry.size > LIMITS.maxTensorReadBytes) {
    throw new ModelError(file, `tensor "${key}" has ${entry.size} bytes, more than the ${LIMITS.maxTensorReadBytes}-byte read limit`);
  }
  let shard: OpenShard;
  if (shards) {
    let pending = shards.get(entry.shardId);
    if (!pending) {
      pending = openShard(ckpt, entry.shardId, key);
      pending.catch(() => undefined);
      shards.set(entry.shardId, pending);
    }
    shard = await pending;
  } else {
    shard = await openShard(ckpt, entry.shardId, key);
  }
  try {
    return await readFromShard(ckpt, entry, shard, stats);
  } finally {
    if (!shards) await shard.handle.close();
  }
}

async function readFromShard(ckpt: CheckpointIR, entry: BundleEntryIR, shard: OpenShard, stats?: TensorReadStats): Promise<TensorIR> {
  const { key } = entry;
  const { file } = shard;
  const count = elementCount(entry.shape);
  const base = baseDtype(entry.dtype);
  if (entry.offset + entry.size > shard.size) {
    throw new ModelError(file, `tensor "${key}" at offset ${entry.offset} with ${entry.size} bytes runs past the end of the ${shard.size}-byte shard`);
  }
  const reader = new RangeReader(shard.handle, entry.offset, entry.size, file, stats);
  if (base === 'DT_STRING') {
    if (count === null) throw new ModelError(file, `string tensor "${key}" has no known element count`);
    const bytes = await reader.readAll();
    return decodeStringTensor(entry, count, bytes, ckpt.endianness, file);
  }
  const elementSize = dtypeSize(base);
  if (elementSize === null) {
    // Resources and variants: verify the bytes, but their values are not decoded here.
    const crc = await reader.crcOnly();
    checkCrc(entry, crc, file);
    return { dtype: entry.dtype, shape: entry.shape, elementCount: count, values: { kind: 'unsupported', reason: `${entry.dtype} values are not decoded` } };
  }
  if (count !== null && count * elementSize !== entry.size) {
    throw new ModelError(file, `tensor "${key}": ${entry.dtype}[${entry.shape.join(',')}] needs ${count * elementSize} bytes but the entry says ${entry.size}`);
  }
  const keep = Math.min(entry.size, LIMITS.maxDecodedElements * elementSize);
  const { head, crc } = await reader.headAndCrc(keep);
  checkCrc(entry, crc, file);
  if (ckpt.endianness === 'big') swapElements(head, base === 'DT_COMPLEX64' || base === 'DT_COMPLEX128' ? elementSize / 2 : elementSize);
  return decodeTensorContent(entry.dtype, entry.shape, head, file);
}

/**
 * A partitioned tensor: each saved slice is its own bundle entry (crc-checked), copied into
 * place in the full tensor. Slices must cover the tensor exactly once.
 */
async function readPartitionedTensor(ckpt: CheckpointIR, entry: BundleEntryIR, stats?: TensorReadStats, shards?: Map<number, Promise<OpenShard>>): Promise<TensorIR> {
  const indexFile = `${ckpt.prefix}.index`;
  const parts = entry.sliceParts ?? [];
  if (parts.length === 0) throw new ModelError(indexFile, `tensor "${entry.key}" lists ${entry.slices} slices but the index holds none of them`);
  const count = elementCount(entry.shape);
  if (count !== null && count > LIMITS.maxDecodedElements) {
    throw new ModelError(indexFile, `partitioned tensor "${entry.key}" has ${count} elements, more than the ${LIMITS.maxDecodedElements} that are assembled in memory`);
  }
  const pieces: SlicePiece[] = [];
  for (const [i, part] of parts.entries()) {
    const bounds = sliceBounds(part.extents, entry.shape, indexFile, `slice ${i} of "${entry.key}"`);
    const piece = { key: `${entry.key} (slice ${i})`, dtype: entry.dtype, shape: bounds.lengths, shardId: part.shardId, offset: part.offset, size: part.size, crc32c: part.crc32c };
    pieces.push({ ...bounds, tensor: await readEntryTensor(ckpt, piece, stats, shards) });
  }
  return assembleSlices(entry.dtype, entry.shape, pieces, indexFile, entry.key);
}

/**
 * The (name, slice) behind a slice key: OrderedCode number 0, the name (0x00 escaped as 00 FF,
 * 0xFF as FF 00, ended by 00 01), the rank as an OrderedCode number, then start and length of
 * each dimension as OrderedCode signed numbers (length -1 = the whole dimension).
 */
export function decodeSliceKey(key: Uint8Array, file: string): { name: string; extents: { start: number; length: number }[] } {
  const fail = (why: string): never => {
    throw new ModelError(file, `malformed slice key ${Buffer.from(key).toString('hex')}: ${why}`);
  };
  let pos = 1;
  const name: number[] = [];
  for (;;) {
    if (pos + 1 >= key.length) fail('unterminated name');
    const b = key[pos]!;
    const next = key[pos + 1]!;
    if (b === 0x00 && next === 0x01) {
      pos += 2;
      break;
    }
    if (b === 0x00 || b === 0xff) {
      if ((b === 0x00 && next !== 0xff) || (b === 0xff && next !== 0x00)) fail('bad escape in name');
      name.push(b);
      pos += 2;
    } else {
      name.push(b);
      pos++;
    }
  }
  const rankLength = key[pos];
  if (rankLength === undefined || rankLength > 8 || pos + 1 + rankLength > key.length) fail('bad rank');
  let rank = 0;
  for (let i = 0; i < rankLength!; i++) rank = rank * 256 + key[pos + 1 + i]!;
  pos += 1 + rankLength!;
  if (rank > 64) fail(`rank ${rank}`);
  const extents: { start: number; length: number }[] = [];
  const signed = (): number => {
    if (pos >= key.length) fail('truncated number');
    const negative = (key[pos]! & 0x80) === 0;
    const flip = negative ? 0xff : 0;
    // Size bits: the run of bits equal to the sign bit right after it.
    let extra = 0;
    for (let bit = 1; bit < 16; bit++) {
      const byte = key[pos + (bit >> 3)];
      if (byte === undefined) fail('truncated number');
      if ((((byte! ^ flip) >> (7 - (bit & 7))) & 1) === 0) break;
      extra++;
    }
    const length = extra + 1;
    if (length > 10 || pos + length > key.length) fail('number too long');
    let raw = 0n;
    for (let i = 0; i < length; i++) raw = (raw << 8n) | BigInt(key[pos + i]!);
    pos += length;
    const bits = BigInt(7 * length - 1);
    let value = raw & ((1n << bits) - 1n);
    if (negative) value -= 1n << bits;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) fail('number out of range');
    return Number(value);
  };
  for (let d = 0; d < rank; d++) extents.push({ start: signed(), length: signed() });
  if (pos !== key.length) fail('trailing bytes');
  return { name: textDecoder.decode(Uint8Array.from(name)), extents };
}

function checkCrc(entry: BundleEntryIR, actual: number, file: string): void {
  if (entry.crc32c === null) return;
  if (unmaskCrc(entry.crc32c) !== actual) {
    throw new ModelError(file, `tensor "${entry.key}": crc32c mismatch (index says ${entry.crc32c}, data gives ${maskCrc(actual)})`);
  }
}

function swapElements(bytes: Uint8Array, size: number): void {
  if (size <= 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** Streams one byte range of an open file in bounded chunks. */
class RangeReader {
  constructor(
    private readonly handle: FileHandle,
    private readonly offset: number,
    private readonly size: number,
    private readonly file: string,
    private readonly stats?: TensorReadStats,
  ) {}

  private async readInto(buffer: Uint8Array, length: number, position: number): Promise<void> {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw new ModelError(this.file, `unexpected end of file at byte ${position + done}`);
      done += bytesRead;
    }
    if (this.stats) this.stats.bytesRead += length;
  }

  private alloc(n: number): Uint8Array {
    if (this.stats) this.stats.bytesAllocated += n;
    return new Uint8Array(n);
  }

  async readAll(): Promise<Uint8Array> {
    const out = this.alloc(this.size);
    await this.readInto(out, this.size, this.offset);
    return out;
  }

  /** The first `keep` bytes, and the crc32c of the whole range. */
  async headAndCrc(keep: number): Promise<{ head: Uint8Array; crc: number }> {
    const head = this.alloc(keep);
    await this.readInto(head, keep, this.offset);
    let crc = crc32c(head);
    if (keep < this.size) crc = await this.crcFrom(keep, crc);
    return { head, crc };
  }

  async crcOnly(): Promise<number> {
    return this.crcFrom(0, 0);
  }

  private async crcFrom(start: number, crc: number): Promise<number> {
    const chunk = this.alloc(Math.min(READ_CHUNK, this.size - start));
    for (let at = start; at < this.size; at += chunk.length) {
      const n = Math.min(chunk.length, this.size - at);
      await this.readInto(chunk, n, this.offset + at);
      crc = crc32c(chunk.subarray(0, n), crc);
    }
    return crc;
  }
}

/**
 * String tensor layout: varint64 length of each element, a masked crc32c (4 bytes) over the
 * lengths as uint32 (uint64 when ≥ 2^32), then the bytes. The entry crc covers the lengths
 * (same uint32/uint64 form), the stored length checksum, then the bytes. The same reader
 * handles bundles written before lengths became varint64 (their lengths fit varint32).
 */
export function decodeStringTensor(entry: BundleEntryIR, count: number, bytes: Uint8Array, endianness: 'little' | 'big', file: string): TensorIR {
  const result: TensorIR = { dtype: entry.dtype, shape: entry.shape, elementCount: count, values: { kind: 'string', values: [] } };
  if (entry.size === 0) {
    if (count !== 0) throw new ModelError(file, `string tensor "${entry.key}" has ${count} elements but no bytes`);
    return result;
  }
  // Every length takes at least one byte.
  if (count > bytes.length) throw new ModelError(file, `string tensor "${entry.key}" claims ${count} elements in ${bytes.length} bytes`);
  const reader = new ByteReader(bytes, file, `string tensor "${entry.key}"`);
  const lengths = new Array<number>(count);
  const scratch = new DataView(new ArrayBuffer(8));
  const scratchBytes = new Uint8Array(scratch.buffer);
  let crc = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const len = reader.varint();
    lengths[i] = len;
    total += len;
    if (len <= 0xffffffff) {
      scratch.setUint32(0, len, endianness === 'little');
      crc = crc32c(scratchBytes.subarray(0, 4), crc);
    } else {
      scratch.setBigUint64(0, BigInt(len), endianness === 'little');
      crc = crc32c(scratchBytes, crc);
    }
  }
  const lengthCrcBytes = reader.take(4);
  const stored = new DataView(lengthCrcBytes.buffer, lengthCrcBytes.byteOffset, 4).getUint32(0, endianness === 'little');
  if (unmaskCrc(stored) !== crc) {
    throw new ModelError(file, `string tensor "${entry.key}": length checksum mismatch`);
  }
  crc = crc32c(lengthCrcBytes, crc);
  if (reader.pos + total !== bytes.length) {
    throw new ModelError(file, `string tensor "${entry.key}": lengths add up to ${total} bytes but ${bytes.length - reader.pos} follow`);
  }
  crc = crc32c(bytes.subarray(reader.pos), crc);
  checkCrc(entry, crc, file);
  const keep = Math.min(count, LIMITS.maxDecodedElements);
  const values: Uint8Array[] = new Array(keep);
  for (let i = 0; i < keep; i++) values[i] = reader.take(lengths[i]!);
  result.values = { kind: 'string', values };
  if (keep < count) result.truncated = true;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Opening a checkpoint from whatever path the user gives.

const DATA_SUFFIX = /\.data-\d{5}-of-\d{5}$/;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads the last 48 bytes and the first table entry of a file to tell V1 from V2. */
async function fileKind(path: string): Promise<'bundle-index' | 'v1' | 'other'> {
  const st = await stat(path);
  if (!st.isFile() || st.size < TABLE_FOOTER_SIZE) return 'other';
  const handle = await open(path, 'r');
  const tail = new Uint8Array(TABLE_MAGIC.length);
  try {
    await handle.read(tail, 0, tail.length, st.size - tail.length);
  } finally {
    await handle.close();
  }
  if (!hasTableMagic(tail)) return 'other';
  if (await isV1Checkpoint(path)) return 'v1';
  if (st.size > LIMITS.maxIndexBytes) return 'other';
  const bytes = await readFile(path);
  return isTensorBundleIndex(bytes) ? 'bundle-index' : 'other';
}

/**
 * Opens a checkpoint given its prefix (`model.ckpt-1000`), its `.index` file, one of its
 * `.data-*` shards, a directory (with a `checkpoint` state file, or one `.index` inside), or a
 * V1 checkpoint file.
 */
export async function openCheckpoint(pathOrPrefix: string): Promise<CheckpointIR> {
  const path = resolve(pathOrPrefix);
  if (await isDirectory(path)) return openCheckpointDirectory(path);
  if (await exists(path)) {
    if (path.endsWith('.index')) {
      const kind = await fileKind(path);
      if (kind === 'bundle-index') return readTensorBundle(path.slice(0, -'.index'.length));
      if (kind === 'v1') return readV1Checkpoint(path);
      throw new ModelError(path, 'not a tensor-bundle index (no LevelDB table with a BundleHeaderProto)');
    }
    if (DATA_SUFFIX.test(path)) {
      const prefix = path.replace(DATA_SUFFIX, '');
      if (!(await exists(`${prefix}.index`))) throw new ModelError(path, `data shard without its index file ${basename(prefix)}.index`);
      return readTensorBundle(prefix);
    }
    const kind = await fileKind(path);
    if (kind === 'v1') return readV1Checkpoint(path);
    if (kind === 'bundle-index') return readTensorBundle(path.replace(/\.index$/, ''));
    if (await exists(`${path}.index`)) return readTensorBundle(path);
    if (basename(path) === 'checkpoint') return openFromStateFile(path);
    throw new ModelError(path, 'not a checkpoint (neither a tensor-bundle index, a V1 checkpoint nor a checkpoint state file)');
  }
  if (await exists(`${path}.index`)) return readTensorBundle(path);
  throw new ModelError(path, 'no such checkpoint: neither the path nor <path>.index exists');
}

async function openCheckpointDirectory(dir: string): Promise<CheckpointIR> {
  const stateFile = join(dir, 'checkpoint');
  if (await exists(stateFile)) return openFromStateFile(stateFile);
  const names = await readDirectoryBounded(dir);
  const indexes = names.filter((n) => n.endsWith('.index')).sort();
  if (indexes.length === 1) return readTensorBundle(join(dir, indexes[0]!.slice(0, -'.index'.length)));
  if (indexes.includes('variables.index')) return readTensorBundle(join(dir, 'variables'));
  if (names.includes('variables') && (await exists(join(dir, 'variables', 'variables.index')))) {
    return readTensorBundle(join(dir, 'variables', 'variables'));
  }
  if (indexes.length > 1) {
    throw new ModelError(dir, `directory holds ${indexes.length} checkpoints (${indexes.slice(0, 5).join(', ')}) and no checkpoint state file; name one`);
  }
  // No V2 checkpoint: a V1 checkpoint file has no fixed name, so look at each file's content.
  const v1: string[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    if ((await fileKind(path).catch(() => 'other')) === 'v1') v1.push(path);
  }
  if (v1.length === 1) return readV1Checkpoint(v1[0]!);
  if (v1.length > 1) throw new ModelError(dir, `directory holds ${v1.length} V1 checkpoints (${v1.slice(0, 5).map((p) => basename(p)).join(', ')}); name one`);
  throw new ModelError(dir, 'no checkpoint in this directory (no `checkpoint` state file, no .index file, no V1 checkpoint)');
}

/** Follows `model_checkpoint_path` of a text CheckpointState file. */
async function openFromStateFile(stateFile: string): Promise<CheckpointIR> {
  const state = await readCheckpointState(stateFile);
  const target = state.modelCheckpointPath;
  if (!target) throw new ModelError(stateFile, 'checkpoint state has no model_checkpoint_path');
  const dir = dirname(stateFile);
  const candidates = isAbsolute(target) ? [target, join(dir, basename(target))] : [join(dir, target)];
  for (const candidate of candidates) {
    if ((await exists(`${candidate}.index`)) && !(await isDirectory(candidate))) return readTensorBundle(candidate);
    if ((await exists(candidate)) && !(await isDirectory(candidate)) && (await isV1Checkpoint(candidate))) return readV1Checkpoint(candidate);
  }
  throw new ModelError(stateFile, `model_checkpoint_path "${target}" points at no checkpoint (looked for ${candidates.join(' and ')})`);
}

/** Bytes of data shards verified per checkpoint; beyond it the rest is reported as unverified. */
export const MAX_VERIFY_BYTES = 8 * 1024 * 1024 * 1024;

/**
 * Checks every stored tensor of a V2 checkpoint as TensorFlow's reader would before trusting
 * it: its byte range lies inside its data shard, a fixed-size dtype's shape agrees with the
 * byte count, and the bytes match the entry's crc32c. Returns one problem per failing entry,
 * each naming the file; an empty list means every entry verified.
 */
export async function verifyCheckpoint(ckpt: CheckpointIR): Promise<string[]> {
  if (ckpt.version !== 'v2') return [];
  const problems: string[] = [];
  const shards = new Map<number, OpenShard | string>();
  let budget = MAX_VERIFY_BYTES;
  const shardOf = async (shardId: number, key: string): Promise<OpenShard | string> => {
    let s = shards.get(shardId);
    if (s === undefined) {
      s = await openShard(ckpt, shardId, key).catch((e: unknown) => (e instanceof ModelError ? e.message : String(e)));
      shards.set(shardId, s);
      if (typeof s === 'string') problems.push(s);
    }
    return s;
  };
  const check = async (piece: { key: string; dtype: BundleEntryIR['dtype']; shape: number[]; shardId: number; offset: number; size: number; crc32c: number | null }) => {
    const shard = await shardOf(piece.shardId, piece.key);
    if (typeof shard === 'string') return;
    const base = baseDtype(piece.dtype);
    const fixedSize = base === 'DT_STRING' ? null : dtypeSize(base);
    const elements = elementCount(piece.shape);
    if (fixedSize !== null && elements !== null && elements * fixedSize !== piece.size) {
      problems.push(`${shard.file}: tensor "${piece.key}": shape ${piece.dtype}[${piece.shape.join(',')}] needs ${elements * fixedSize} bytes but the entry holds ${piece.size}`);
      return;
    }
    if (piece.offset + piece.size > shard.size) {
      problems.push(`${shard.file}: tensor "${piece.key}" at offset ${piece.offset} with ${piece.size} bytes points outside the ${shard.size}-byte data file`);
      return;
    }
    if (base === 'DT_STRING') {
      // The crc of a string tensor covers its decoded lengths, not the raw bytes: decode it.
      if (piece.size > LIMITS.maxTensorReadBytes || budget < piece.size) return;
      budget -= piece.size;
      try {
        await readFromShard(ckpt, { ...piece }, shard);
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        problems.push(error.message);
      }
      return;
    }
    if (piece.crc32c === null) return;
    // Tensors past the budget are still crc-checked when the analysis reads them.
    if (budget < piece.size) return;
    budget -= piece.size;
    const crc = await new RangeReader(shard.handle, piece.offset, piece.size, shard.file).crcOnly();
    if (unmaskCrc(piece.crc32c) !== crc) problems.push(`${shard.file}: tensor "${piece.key}": block crc32c mismatch (index says ${piece.crc32c}, data gives ${maskCrc(crc)})`);
  };
  try {
    for (const entry of ckpt.entries) {
      if (entry.key === HEADER_KEY) continue;
      if (entry.sliceParts) {
        for (const [i, part] of entry.sliceParts.entries()) {
          await check({ key: `${entry.key} (slice ${i})`, dtype: entry.dtype, shape: part.extents.map((e, d) => (e.length < 0 ? entry.shape[d] ?? 0 : e.length)), shardId: part.shardId, offset: part.offset, size: part.size, crc32c: part.crc32c });
        }
      } else if (!entry.slices) await check(entry);
    }
  } finally {
    for (const s of shards.values()) if (typeof s !== 'string') await s.handle.close();
  }
  return problems;
}
