// LevelDB-format sorted string table, as written by TensorFlow's table builder
// (tensorflow/tsl/lib/io/table): the container of tensor-bundle `.index` files and of V1
// checkpoints.
//
//   [data block + trailer]* [metaindex block + trailer] [index block + trailer] [footer]
//   trailer = 1 byte compression type (0 none, 1 snappy) + 4 bytes masked crc32c
//             over the stored block contents and the type byte
//   footer  = metaindex handle, index handle (varint64 offset, varint64 size each),
//             zero padding to 40 bytes, 8-byte magic 0xdb4775248b80fb57 little-endian
//   block   = entries (varint32 shared, varint32 non_shared, varint32 value_length,
//             key delta, value), then uint32 restart offsets, then uint32 restart count
//
// Every offset is checked against the file size and every allocation is bounded, since the
// table comes from an untrusted model.
import { readSync } from 'node:fs';
import snappy from 'snappyjs';
import { LIMITS, ModelError } from './errors.ts';
import { crc32c, unmaskCrc } from './crc32c.ts';

export const TABLE_FOOTER_SIZE = 48;
export const BLOCK_TRAILER_SIZE = 5;
/** The magic number 0xdb4775248b80fb57 as stored (little-endian). */
export const TABLE_MAGIC = Uint8Array.of(0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb);

export const COMPRESSION_NONE = 0;
export const COMPRESSION_SNAPPY = 1;

/** Largest single block, stored or decompressed (a V1 checkpoint keeps whole tensors in one value). */
const MAX_BLOCK_BYTES = LIMITS.maxTensorReadBytes;

/** Random access to the bytes of a table: a whole file in memory, or an open descriptor. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  // A plain view: Buffer.subarray is several times slower than Uint8Array.subarray.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { size: view.length, read: (offset, length) => view.subarray(offset, offset + length) };
}

/** Reads from an open file descriptor with positioned reads; never reads more than asked. */
export function fileSource(fd: number, size: number): ByteSource {
  return {
    size,
    read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      return done === length ? out : out.subarray(0, done);
    },
  };
}

export interface BlockHandle {
  offset: number;
  size: number;
}

export interface TableFooter {
  metaindex: BlockHandle;
  index: BlockHandle;
}

export interface TableEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/** Counters a caller can inspect (tests, benchmarks). */
export interface TableStats {
  blocksRead: number;
  snappyBlocks: number;
  bytesRead: number;
}

export function newTableStats(): TableStats {
  return { blocksRead: 0, snappyBlocks: 0, bytesRead: 0 };
}

/** True when `bytes` (a whole file, or at least its last 8 bytes) ends in the table magic. */
export function hasTableMagic(bytes: Uint8Array): boolean {
  if (bytes.length < TABLE_MAGIC.length) return false;
  const tail = bytes.length - TABLE_MAGIC.length;
  for (let i = 0; i < TABLE_MAGIC.length; i++) if (bytes[tail + i] !== TABLE_MAGIC[i]) return false;
  return true;
}

/** A cursor over a byte array that reads varints and fixed ints with bounds checks. */
export class ByteReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    readonly what: string,
    pos = 0,
    readonly end = bytes.length,
  ) {
    this.pos = pos;
  }

  fail(reason: string): never {
    throw new ModelError(this.file, `${this.what}: ${reason} (at byte ${this.pos})`);
  }

  /** Unsigned varint up to 2^53 - 1 (larger values cannot be offsets or sizes here). */
  varint(maxBytes = 10): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) this.fail('varint value too large');
        return result;
      }
      scale *= 128;
    }
    return this.fail('malformed varint');
  }

  varint32(): number {
    const v = this.varint(5);
    if (v > 0xffffffff) this.fail('varint32 out of range');
    return v;
  }

  uint32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated uint32');
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  take(length: number): Uint8Array {
    if (length < 0 || this.pos + length > this.end) this.fail(`length ${length} runs past the end`);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
}

function readHandle(reader: ByteReader): BlockHandle {
  const offset = reader.varint();
  const size = reader.varint();
  return { offset, size };
}

export function readFooter(source: ByteSource, file: string): TableFooter {
  if (source.size < TABLE_FOOTER_SIZE) {
    throw new ModelError(file, `not a table: ${source.size} bytes is shorter than the ${TABLE_FOOTER_SIZE}-byte footer`);
  }
  const footer = source.read(source.size - TABLE_FOOTER_SIZE, TABLE_FOOTER_SIZE);
  if (footer.length !== TABLE_FOOTER_SIZE) throw new ModelError(file, 'table footer could not be read');
  if (!hasTableMagic(footer)) throw new ModelError(file, 'not a table: footer magic 0xdb4775248b80fb57 missing');
  const reader = new ByteReader(footer, file, 'table footer', 0, TABLE_FOOTER_SIZE - TABLE_MAGIC.length);
  const metaindex = readHandle(reader);
  const index = readHandle(reader);
  return { metaindex, index };
}

function checkHandle(handle: BlockHandle, source: ByteSource, file: string, what: string): void {
  const limit = source.size - TABLE_FOOTER_SIZE;
  if (handle.offset + handle.size + BLOCK_TRAILER_SIZE > limit) {
    throw new ModelError(
      file,
      `${what} block at offset ${handle.offset} with size ${handle.size} runs past the end of the table (${limit} bytes before the footer)`,
    );
  }
}

/** Reads one block, verifies its trailer crc and decompresses it. */
export function readBlock(
  source: ByteSource,
  handle: BlockHandle,
  file: string,
  what: string,
  stats?: TableStats,
): Uint8Array {
  checkHandle(handle, source, file, what);
  if (handle.size > MAX_BLOCK_BYTES) throw new ModelError(file, `${what} block at offset ${handle.offset} has ${handle.size} bytes, more than the ${MAX_BLOCK_BYTES}-byte limit`);
  const raw = source.read(handle.offset, handle.size + BLOCK_TRAILER_SIZE);
  if (raw.length !== handle.size + BLOCK_TRAILER_SIZE) throw new ModelError(file, `${what} block at offset ${handle.offset} is truncated`);
  const type = raw[handle.size]!;
  const stored = new ByteReader(raw, file, what, handle.size + 1).uint32();
  const actual = crc32c(raw.subarray(0, handle.size + 1));
  if (unmaskCrc(stored) !== actual) {
    throw new ModelError(file, `${what} block at offset ${handle.offset}: crc32c mismatch (stored ${unmaskCrc(stored)}, computed ${actual})`);
  }
  if (stats) {
    stats.blocksRead++;
    stats.bytesRead += raw.length;
  }
  const contents = raw.subarray(0, handle.size);
  if (type === COMPRESSION_NONE) return contents;
  if (type === COMPRESSION_SNAPPY) {
    if (stats) stats.snappyBlocks++;
    try {
      return snappy.uncompress(contents, MAX_BLOCK_BYTES);
    } catch (error) {
      throw new ModelError(file, `${what} block at offset ${handle.offset}: bad snappy data: ${(error as Error).message}`);
    }
  }
  throw new ModelError(file, `${what} block at offset ${handle.offset}: unknown compression type ${type}`);
}

/**
 * Parses the entries of a decompressed block. `keyBudget` caps the bytes spent rebuilding
 * shared-prefix keys (a hostile block can otherwise make key copies grow quadratically).
 */
export function parseBlock(block: Uint8Array, file: string, what: string, keyBudget: { bytes: number }): TableEntry[] {
  const head = new ByteReader(block, file, what);
  if (block.length < 4) head.fail('block shorter than its restart count');
  head.pos = block.length - 4;
  const numRestarts = head.uint32();
  const maxRestarts = Math.floor((block.length - 4) / 4);
  if (numRestarts > maxRestarts) head.fail(`restart count ${numRestarts} does not fit in a ${block.length}-byte block`);
  const restartsStart = block.length - 4 - numRestarts * 4;
  const restarts = new Uint32Array(numRestarts);
  head.pos = restartsStart;
  for (let i = 0; i < numRestarts; i++) {
    const r = head.uint32();
    if (r >= restartsStart && !(r === 0 && restartsStart === 0)) head.fail(`restart point ${r} outside the entries`);
    restarts[i] = r;
  }
  restarts.sort();
  let nextRestart = 0;

  const entries: TableEntry[] = [];
  const reader = new ByteReader(block, file, what, 0, restartsStart);
  let previous: Uint8Array = new Uint8Array(0);
  while (reader.pos < restartsStart) {
    const at = reader.pos;
    const shared = reader.varint32();
    const nonShared = reader.varint32();
    const valueLength = reader.varint32();
    if (shared > previous.length) reader.fail(`entry shares ${shared} bytes with a ${previous.length}-byte previous key`);
    while (nextRestart < restarts.length && restarts[nextRestart]! < at) nextRestart++;
    if (shared !== 0 && restarts[nextRestart] === at) reader.fail('entry at a restart point shares a prefix');
    const delta = reader.take(nonShared);
    const value = reader.take(valueLength);
    let key: Uint8Array;
    if (shared === 0) {
      key = delta;
    } else {
      keyBudget.bytes -= shared + nonShared;
      if (keyBudget.bytes < 0) reader.fail('shared-prefix keys expand beyond the size limit');
      key = new Uint8Array(shared + nonShared);
      key.set(previous.subarray(0, shared), 0);
      key.set(delta, shared);
    }
    entries.push({ key, value });
    previous = key;
  }
  return entries;
}

function keyBudgetFor(source: ByteSource): { bytes: number } {
  return { bytes: Math.max(64 * 1024 * 1024, source.size * 4) };
}

/** The data-block handles listed in the table's index block, checked to be disjoint and in order. */
export function readIndex(source: ByteSource, file: string, stats?: TableStats): { lastKey: Uint8Array; handle: BlockHandle }[] {
  const footer = readFooter(source, file);
  checkHandle(footer.metaindex, source, file, 'metaindex');
  const indexBlock = readBlock(source, footer.index, file, 'index', stats);
  const indexEntries = parseBlock(indexBlock, file, 'index block', keyBudgetFor(source));
  const result: { lastKey: Uint8Array; handle: BlockHandle }[] = [];
  let end = 0;
  for (const entry of indexEntries) {
    const reader = new ByteReader(entry.value, file, 'index entry');
    const handle = readHandle(reader);
    if (handle.offset < end) {
      throw new ModelError(file, `index: data block at offset ${handle.offset} overlaps the previous block (ends at ${end})`);
    }
    checkHandle(handle, source, file, 'data');
    end = handle.offset + handle.size + BLOCK_TRAILER_SIZE;
    result.push({ lastKey: entry.key, handle });
  }
  return result;
}

/** Every key/value of the table in stored order. */
export function readTableEntries(source: ByteSource, file: string, stats?: TableStats): TableEntry[] {
  const budget = keyBudgetFor(source);
  const entries: TableEntry[] = [];
  for (const { handle } of readIndex(source, file, stats)) {
    const block = readBlock(source, handle, file, 'data', stats);
    for (const entry of parseBlock(block, file, `data block at offset ${handle.offset}`, budget)) entries.push(entry);
  }
  return entries;
}

/** Convenience for a table held in memory. */
export function readTable(bytes: Uint8Array, file: string, stats?: TableStats): TableEntry[] {
  return readTableEntries(bytesSource(bytes), file, stats);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Looks up one key, reading only the index block and the one data block whose range covers
 * it (the index keys are upper bounds of their blocks, as in LevelDB).
 */
export function findInTable(
  source: ByteSource,
  file: string,
  key: Uint8Array,
  index = readIndex(source, file),
  stats?: TableStats,
): Uint8Array | null {
  for (const { lastKey, handle } of index) {
    if (compareBytes(key, lastKey) > 0) continue;
    const block = readBlock(source, handle, file, 'data', stats);
    for (const entry of parseBlock(block, file, `data block at offset ${handle.offset}`, keyBudgetFor(source))) {
      if (compareBytes(entry.key, key) === 0) return entry.value;
    }
    return null;
  }
  return null;
}
