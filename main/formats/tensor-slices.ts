// Partitioned tensors: a checkpoint may store a variable as several slices (TensorSliceProto
// extents), V2 bundles as separate entries and V1 checkpoints as separate SavedSlices. These
// helpers check the extents and copy the slices' values into the full tensor.
import type { DType, TensorIR } from '../../shared/ir.ts';
import { LIMITS, ModelError } from './errors.ts';
import { elementCount } from './tensor.ts';

export interface SliceBounds {
  starts: number[];
  lengths: number[];
}

export interface SlicePiece extends SliceBounds {
  tensor: TensorIR;
}

/** Start and length of each dimension; a length of -1 (or none) means the whole dimension. */
export function sliceBounds(extents: readonly { start: number; length: number }[], shape: readonly number[], file: string, what: string): SliceBounds {
  if (extents.length !== shape.length) throw new ModelError(file, `${what} has rank ${extents.length}, the tensor ${shape.length}`);
  const starts: number[] = [];
  const lengths: number[] = [];
  extents.forEach((x, d) => {
    const length = x.length === -1 ? shape[d]! - x.start : x.length;
    if (!Number.isSafeInteger(x.start) || !Number.isSafeInteger(length) || x.start < 0 || length < 0 || x.start + length > shape[d]!) {
      throw new ModelError(file, `${what} spans [${x.start}, ${x.start + length}) outside dimension ${d} of size ${shape[d]}`);
    }
    starts.push(x.start);
    lengths.push(length);
  });
  return { starts, lengths };
}

/** The full tensor from slices that must cover every element exactly once. */
export function assembleSlices(dtype: DType, shape: number[], pieces: SlicePiece[], file: string, key: string): TensorIR {
  const count = elementCount(shape);
  if (count === null) throw new ModelError(file, `partitioned tensor "${key}" has no known shape`);
  if (count > LIMITS.maxDecodedElements) {
    throw new ModelError(file, `partitioned tensor "${key}" has ${count} elements, more than the ${LIMITS.maxDecodedElements} that are assembled in memory`);
  }
  if (pieces.length === 0) throw new ModelError(file, `partitioned tensor "${key}" has no slices`);
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const kind = pieces[0]!.tensor.values.kind;
  for (const piece of pieces) {
    if (piece.tensor.values.kind === 'unsupported') return { dtype, shape, elementCount: count, values: piece.tensor.values };
    if (piece.tensor.values.kind !== kind) throw new ModelError(file, `slices of "${key}" hold different kinds of values`);
  }
  const per = kind === 'complex' ? 2 : 1;
  const out: unknown[] = new Array(count * per);
  const filled = new Uint8Array(count);
  let covered = 0;
  for (const piece of pieces) {
    const values = (piece.tensor.values as { values: unknown[] }).values;
    const n = elementCount(piece.lengths)!;
    if (values.length !== n * per) throw new ModelError(file, `a slice of "${key}" holds ${values.length / per} values for ${n} elements`);
    const index = new Array<number>(piece.lengths.length).fill(0);
    for (let k = 0; k < n; k++) {
      let target = 0;
      for (let d = 0; d < index.length; d++) target += (piece.starts[d]! + index[d]!) * strides[d]!;
      if (filled[target]) throw new ModelError(file, `slices of "${key}" overlap at element ${target}`);
      filled[target] = 1;
      covered++;
      for (let c = 0; c < per; c++) out[target * per + c] = values[k * per + c];
      for (let d = index.length - 1; d >= 0; d--) {
        if (++index[d]! < piece.lengths[d]!) break;
        index[d] = 0;
      }
    }
  }
  if (covered !== count) throw new ModelError(file, `slices of "${key}" cover ${covered} of its ${count} elements`);
  return { dtype, shape, elementCount: count, values: { kind, values: out } as TensorIR['values'] };
}
