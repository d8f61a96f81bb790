// TensorFlow V1 checkpoints (tf.train.Saver with write_version=V1, TensorSliceWriter): one
// LevelDB-format table. Key "" holds SavedTensorSlices.meta (every tensor's name, dtype,
// shape and saved slices); every other key is an OrderedCode encoding of (name, slice) whose
// value is SavedTensorSlices.data, a SavedSlice with the values in a TensorProto whose dtype
// is left unset (the dtype comes from the meta).
//
// The file is read through a descriptor block by block, so a large V1 file is never held in
// memory at once.
import { closeSync, fstatSync, openSync } from 'node:fs';
import type { BundleEntryIR, CheckpointIR, TensorIR } from '../../shared/ir.ts';
import { LIMITS, ModelError, asModelError } from './errors.ts';
import { fileSource, readBlock, readIndex, parseBlock, readFooter, type ByteSource, type TableEntry } from './leveldb-table.ts';
import { dtypeName, elementCount, longToNumber, tensorProtoToIR, type TensorProtoLike } from './tensor.ts';
import { protoTypes } from './protobuf.ts';
import { assembleSlices, sliceBounds, type SlicePiece } from './tensor-slices.ts';

const PREVIEW_MAX_BYTES = 64 * 1024;
const PREVIEW_VALUES = 16;
const textDecoder = new TextDecoder();

interface SliceLike {
  extent?: { start?: unknown; length?: unknown }[] | null;
}
interface SavedSliceMetaLike {
  name?: string;
  shape?: { dim?: { size?: unknown }[] | null; unknown_rank?: boolean } | null;
  type?: number;
  slice?: SliceLike[] | null;
}
interface SavedTensorSlicesLike {
  meta?: { tensor?: SavedSliceMetaLike[] | null } | null;
  data?: { name?: string; slice?: SliceLike | null; data?: TensorProtoLike | null } | null;
}

function withSource<T>(path: string, run: (source: ByteSource) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw asModelError(path, error, 'cannot open V1 checkpoint');
  }
  try {
    return run(fileSource(fd, fstatSync(fd).size));
  } finally {
    closeSync(fd);
  }
}

/** Visits the table's entries block by block; `visit` returns true to stop. */
function walk(source: ByteSource, file: string, visit: (entry: TableEntry, blockOffset: number) => boolean): void {
  const budget = { bytes: Math.max(64 * 1024 * 1024, source.size * 4) };
  for (const { handle } of readIndex(source, file)) {
    const block = readBlock(source, handle, file, 'data');
    for (const entry of parseBlock(block, file, `data block at offset ${handle.offset}`, budget)) {
      if (visit(entry, handle.offset)) return;
    }
  }
}

function decodeSlices(value: Uint8Array, file: string, what: string): SavedTensorSlicesLike {
  try {
    return protoTypes.SavedTensorSlices.decode(value) as unknown as SavedTensorSlicesLike;
  } catch (error) {
    throw asModelError(file, error, `cannot decode ${what}`);
  }
}

/**
 * The tensor name inside an OrderedCode slice key: a 0 byte (the number 0), then the name with
 * 0x00 escaped as 00 FF and 0xFF as FF 00, ended by 00 01. Null when the key is not of that form.
 */
export function sliceKeyName(key: Uint8Array): string | null {
  if (key.length < 3 || key[0] !== 0) return null;
  const out: number[] = [];
  for (let i = 1; i < key.length; i++) {
    const b = key[i]!;
    const next = key[i + 1];
    if (b === 0x00) {
      if (next === 0x01) return textDecoder.decode(Uint8Array.from(out));
      if (next !== 0xff) return null;
      out.push(0);
      i++;
    } else if (b === 0xff) {
      if (next !== 0x00) return null;
      out.push(0xff);
      i++;
    } else {
      out.push(b);
    }
  }
  return null;
}

function metaShape(meta: SavedSliceMetaLike): number[] {
  return (meta.shape?.dim ?? []).map((d) => longToNumber(d?.size ?? 0));
}

/** True for a LevelDB table whose "" entry is a SavedTensorSlices meta. Reads only two blocks. */
export async function isV1Checkpoint(path: string): Promise<boolean> {
  try {
    return withSource(path, (source) => {
      readFooter(source, path);
      const index = readIndex(source, path);
      const first = index[0];
      if (!first) return false;
      const entries = parseBlock(readBlock(source, first.handle, path, 'data'), path, 'data block', { bytes: 64 * 1024 * 1024 });
      const head = entries[0];
      if (!head || head.key.length !== 0) return false;
      // SavedTensorSlices starts with field 1 (meta) as a length-delimited message.
      if (head.value[0] !== 0x0a) return false;
      const decoded = decodeSlices(head.value, path, 'V1 checkpoint meta');
      return !!decoded.meta;
    });
  } catch {
    return false;
  }
}

export async function readV1Checkpoint(path: string): Promise<CheckpointIR> {
  return withSource(path, (source) => {
    let metas: SavedSliceMetaLike[] | null = null;
    const where = new Map<string, { offset: number; size: number }>();
    const preview: Record<string, TensorIR> = {};
    const byName = new Map<string, SavedSliceMetaLike>();
    const pieces = new Map<string, SlicePiece[]>();
    walk(source, path, (entry, blockOffset) => {
      if (entry.key.length === 0) {
        const decoded = decodeSlices(entry.value, path, 'V1 checkpoint meta');
        if (!decoded.meta) throw new ModelError(path, 'V1 checkpoint: key "" holds no SavedTensorSliceMeta');
        metas = decoded.meta.tensor ?? [];
        for (const m of metas) byName.set(m.name ?? '', m);
        return false;
      }
      if (metas === null) throw new ModelError(path, 'V1 checkpoint: data entries before the "" meta entry');
      const name = sliceKeyName(entry.key);
      if (name === null) throw new ModelError(path, `V1 checkpoint: key ${JSON.stringify(textDecoder.decode(entry.key))} is not a tensor slice key`);
      const meta = byName.get(name);
      if (!meta) throw new ModelError(path, `V1 checkpoint: data for "${name}", which the meta does not list`);
      const seen = where.get(name);
      where.set(name, { offset: seen?.offset ?? blockOffset, size: (seen?.size ?? 0) + entry.value.length });
      if ((seen?.size ?? 0) + entry.value.length > PREVIEW_MAX_BYTES) {
        pieces.delete(name);
        return false;
      }
      const decoded = decodeSlices(entry.value, path, `data of "${name}"`);
      if ((meta.slice?.length ?? 1) === 1) {
        preview[name] = firstValues(sliceTensor(meta, decoded, path, name), PREVIEW_VALUES);
      } else {
        // A slice of a partitioned tensor: kept until all slices are seen.
        const shape = metaShape(meta);
        const bounds = sliceBounds(sliceExtents(decoded.data?.slice, shape.length), shape, path, `a slice of "${name}"`);
        const tensor = sliceTensor({ ...meta, shape: { dim: bounds.lengths.map((size) => ({ size })) } }, decoded, path, name);
        pieces.set(name, [...(pieces.get(name) ?? []), { ...bounds, tensor }]);
      }
      return false;
    });
    for (const [name, list] of pieces) {
      const meta = byName.get(name)!;
      try {
        preview[name] = firstValues(assembleSlices(dtypeName(meta.type ?? 0), metaShape(meta), list, path, name), PREVIEW_VALUES);
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        preview[name] = { dtype: dtypeName(meta.type ?? 0), shape: metaShape(meta), elementCount: elementCount(metaShape(meta)), values: { kind: 'unsupported', reason: error.reason } };
      }
    }
    if (metas === null) throw new ModelError(path, 'V1 checkpoint has no "" meta entry');
    const entries: BundleEntryIR[] = (metas as SavedSliceMetaLike[]).map((meta) => {
      const name = meta.name ?? '';
      const located = where.get(name);
      const entry: BundleEntryIR = {
        key: name,
        dtype: dtypeName(meta.type ?? 0),
        shape: metaShape(meta),
        shardId: 0,
        offset: located?.offset ?? 0,
        size: located?.size ?? 0,
        crc32c: null,
      };
      const slices = meta.slice?.length ?? 0;
      if (slices > 1) entry.slices = slices;
      return entry;
    });
    return { prefix: path, version: 'v1', numShards: 1, endianness: 'little', entries, preview };
  });
}

function firstValues(tensor: TensorIR, n: number): TensorIR {
  const v = tensor.values;
  if (v.kind === 'unsupported') return tensor;
  const per = v.kind === 'complex' ? 2 : 1;
  if (v.values.length <= n * per) return tensor;
  return { ...tensor, values: { ...v, values: v.values.slice(0, n * per) } as TensorIR['values'], truncated: true };
}

/** The values of a full-tensor slice, typed by the meta (the stored TensorProto has no dtype). */
function sliceTensor(meta: SavedSliceMetaLike, slices: SavedTensorSlicesLike, file: string, name: string): TensorIR {
  const data = slices.data;
  if (!data || data.name !== name) throw new ModelError(file, `V1 checkpoint: entry for "${name}" holds no SavedSlice of that name`);
  const proto: TensorProtoLike = { ...(data.data ?? {}), dtype: meta.type ?? 0, tensor_shape: meta.shape ?? { dim: [] } };
  const tensor = tensorProtoToIR(proto, file);
  const count = elementCount(tensor.shape);
  const v = tensor.values;
  if (count !== null && v.kind !== 'unsupported' && !tensor.truncated) {
    const stored = v.kind === 'complex' ? v.values.length / 2 : v.values.length;
    if (stored !== count) throw new ModelError(file, `V1 checkpoint: "${name}" has ${stored} values for ${count} elements`);
  }
  return tensor;
}

/** The extents of a SavedSlice; none at all is read as the full tensor, whatever its rank. */
function sliceExtents(slice: SliceLike | null | undefined, rank: number): { start: number; length: number }[] {
  const extents = slice?.extent ?? [];
  if (extents.length === 0) return Array.from({ length: rank }, () => ({ start: 0, length: -1 }));
  return extents.map((x) => ({
    start: longToNumber(x.start ?? 0),
    // An extent without a length covers the whole dimension.
    length: Object.prototype.hasOwnProperty.call(x, 'length') ? longToNumber(x.length) : -1,
  }));
}

/** One tensor; the slices of a partitioned V1 tensor are assembled (each SavedSlice says where it goes). */
export async function readV1Tensor(ckpt: CheckpointIR, key: string): Promise<TensorIR> {
  const path = ckpt.prefix;
  const entry = ckpt.entries.find((e) => e.key === key);
  if (!entry) throw new ModelError(path, `no tensor "${key}" in the checkpoint`);
  if (entry.size > LIMITS.maxTensorReadBytes) throw new ModelError(path, `tensor "${key}" has ${entry.size} bytes, more than the read limit`);
  return withSource(path, (source) => {
    let meta: SavedSliceMetaLike | undefined;
    const pieces: SlicePiece[] = [];
    const wanted = entry.slices ?? 1;
    walk(source, path, (e) => {
      if (e.key.length === 0) {
        meta = decodeSlices(e.value, path, 'V1 checkpoint meta').meta?.tensor?.find((t) => t.name === key);
        if (!meta) throw new ModelError(path, `V1 checkpoint meta does not list "${key}"`);
        return false;
      }
      if (sliceKeyName(e.key) !== key) return false;
      if (!meta) throw new ModelError(path, 'V1 checkpoint: data entries before the "" meta entry');
      const decoded = decodeSlices(e.value, path, `data of "${key}"`);
      const shape = metaShape(meta);
      const bounds = sliceBounds(sliceExtents(decoded.data?.slice, shape.length), shape, path, `a slice of "${key}"`);
      const sliceMeta: SavedSliceMetaLike = { ...meta, shape: { dim: bounds.lengths.map((size) => ({ size })) } };
      pieces.push({ ...bounds, tensor: sliceTensor(sliceMeta, decoded, path, key) });
      return pieces.length >= wanted;
    });
    if (pieces.length === 0) throw new ModelError(path, `V1 checkpoint: no data for "${key}"`);
    const shape = metaShape(meta!);
    const only = pieces[0]!;
    if (pieces.length === 1 && only.lengths.every((n, d) => n === shape[d])) return { ...only.tensor, shape };
    return assembleSlices(entry.dtype, shape, pieces, path, key);
  });
}
