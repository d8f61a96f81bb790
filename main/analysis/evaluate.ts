// A constant-folding interpreter over the pure ops that predicates and sizes use. It follows
// data flow across call boundaries (args ↔ call inputs, call outputs ↔ returns, If/Case pick
// their branch), TF1 Switch/Merge (a Switch port not taken is dead), runs While loops and TF1
// loop frames by bounded iteration, looks up tables built from constants or the model's own
// asset files, and reads variables from the checkpoint values it is given.
//
// THE CONTRACT (soundness): a result is `ok` only when it is the value TensorFlow computes on
// every run under the given variable values; `dead` only when it is proven that the tensor is
// never produced (a Switch port whose predicate is proven the other way). Everything else is
// unknown, with the reason:
//   - loop-carried values (a While body/cond arg the body changes, a TF1 Merge fed by
//     NextIteration) unless the loop is iterated with concrete values within the budget;
//   - time (Timestamp) unless the caller fixes `now`; randomness (every Random*/stateful RNG
//     op); files, queues, datasets, iterators, readers and Python callbacks read at run time;
//   - lookup tables that anything but a single constant/asset initialiser writes;
//   - variables the caller says it cannot prove (absent, unreadable, truncated, or written by
//     the graph itself: the caller decides that, see scan.ts);
//   - every op not modelled here, and tensors whose values were truncated.
// Callers turn unknown into "may run" and never into dormant, dead or constant-false.
import { fingerprint64 } from '../formats/fingerprint64.ts';
import type { TensorIR } from '../../shared/ir.ts';
import type { CallGraph } from './callgraph.ts';
import { argBinding, callOutputs, describeTensor, tensorKey, traceVariableNode, VARIABLE_OPS, type Frame, type Tensor, type VariableNaming } from './dataflow.ts';
import type { CallSite } from './callgraph.ts';
import { consumerIndex, dataEdges, nodesOf, type Source } from './edges.ts';
import { describeEnvironment, environmentOf } from './environment.ts';

export type Scalar = number | boolean | string;
export interface Val {
  dtype: string;
  shape: number[];
  data: Scalar[];
}

export type EvalResult = { ok: true; value: Val } | { ok: false; dead: boolean; reason: string };

export interface EvalEnv {
  /** Value of a variable by checkpoint key, or a reason it is not known. */
  variable(key: string): Val | string;
  /** Absolute path of a model file given relative to the model (`assets/foo.txt`), or null. */
  modelFile?: (relative: string) => string | null;
  maxElements?: number;
  /** Treat every Switch as passing its data (for resolving what an op would use when it runs). */
  assumeTaken?: boolean;
  /** Seconds since the epoch that Timestamp yields; absent: time is unknown (the default). */
  now?: number;
  /** Bounds for iterating one loop: iterations and wall-clock milliseconds. */
  loopBudget?: { iterations: number; millis: number };
  /** The contents of the lookup table behind a table handle, or why they are not known. */
  table?: (handle: Tensor, ev: Evaluator) => LookupTable | string;
}

/** A lookup table whose contents are proven (built from constants or the model's own files). */
export interface LookupTable {
  keyDtype: string;
  valueDtype: string;
  entries: Map<string, Scalar>;
  source: string;
}

/** A loop to iterate: a functional While node, or a TF1 loop frame named by its LoopCond. */
export type LoopSite = { kind: 'while'; frame: Frame; node: number } | { kind: 'frame'; frame: Frame; loopCond: number };

export interface LoopRun {
  /** finished: the condition was proven false after `iterations`; unknown: not decided. */
  state: 'finished' | 'unknown';
  iterations: number;
  reason: string;
  /** Loop-carried values after the last iteration (finished loops only). */
  final: EvalResult[];
}

export interface Evaluator {
  evaluate(t: Tensor): EvalResult;
  /** Variable keys read and their values as text, and decided intermediate values. */
  readonly read: Map<string, string>;
  /**
   * Iterate a loop with concrete loop-carried values. `observe` sees each iteration that runs the
   * body, with an evaluator bound to that iteration's values; returning true stops early.
   */
  runLoop(loop: LoopSite, observe?: (iteration: number, child: Evaluator) => boolean | void): LoopRun;
}

export const DEFAULT_LOOP_BUDGET = { iterations: 10_000, millis: 250 };

const MAX_DEPTH = 400;
const ARITY: Record<string, number> = { Select: 3, SelectV2: 3, Reshape: 2, ExpandDims: 2, StridedSlice: 4, Slice: 3, Gather: 2, GatherV2: 3, Sum: 2, Prod: 2, Max: 2, Min: 2, Mean: 2, All: 2, Any: 2, Fill: 2, Range: 3, Concat: 2, ConcatV2: 2, Switch: 2, RefSwitch: 2 };
const DEFAULT_MAX_ELEMENTS = 1 << 16;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

export function tensorToVal(t: TensorIR, maxElements = DEFAULT_MAX_ELEMENTS): Val | string {
  const shape = t.shape ?? [];
  const count = shape.reduce((a, b) => a * Math.max(b, 0), 1);
  if (count > maxElements) return `tensor of ${count} elements is too large to evaluate`;
  let raw: Scalar[];
  switch (t.values.kind) {
    case 'number':
    case 'bool':
      raw = t.values.values;
      break;
    case 'string':
      raw = t.values.values.map((b) => latin1.decode(b));
      break;
    default:
      return `values of ${t.dtype} cannot be evaluated`;
  }
  if (t.truncated) return 'tensor values were truncated';
  if (raw.length === 0 && count > 0) {
    const zero: Scalar = t.values.kind === 'bool' ? false : t.values.kind === 'string' ? '' : 0;
    raw = [zero];
  }
  const data = raw.length >= count ? raw.slice(0, count) : Array.from({ length: count }, (_, i) => raw[Math.min(i, raw.length - 1)]);
  return { dtype: t.dtype.replace(/_REF$/, ''), shape: [...shape], data };
}

export function renderVal(v: Val, max = 8): string {
  const show = (x: Scalar) => (typeof x === 'string' ? JSON.stringify(utf8.decode(Uint8Array.from(x, (c) => c.charCodeAt(0)))) : String(x));
  const body = v.data.slice(0, max).map(show).join(', ') + (v.data.length > max ? ', …' : '');
  return v.shape.length === 0 ? body : `[${body}] (shape ${JSON.stringify(v.shape)})`;
}

export function truthy(v: Val): boolean {
  if (v.shape.length === 0) {
    const x = v.data[0];
    return typeof x === 'string' ? x.length > 0 : !!x;
  }
  return v.data.length > 0;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const isInt = (dtype: string) => /INT|UINT/.test(dtype);

function strides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

function broadcastShape(a: number[], b: number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function broadcastIndex(shape: number[], outShape: number[], flat: number): number {
  const outStrides = strides(outShape);
  const inStrides = strides(shape);
  const off = outShape.length - shape.length;
  let idx = 0;
  for (let d = 0; d < outShape.length; d++) {
    const coord = Math.floor(flat / outStrides[d]) % outShape[d];
    if (d >= off && shape[d - off] !== 1) idx += coord * inStrides[d - off];
  }
  return idx;
}

type Fail = { ok: false; dead: boolean; reason: string };
const fail = (reason: string, dead = false): Fail => ({ ok: false, dead, reason });
const ok = (value: Val): EvalResult => ({ ok: true, value });

function binary(a: Val, b: Val, dtype: string, f: (x: Scalar, y: Scalar) => Scalar, max: number): EvalResult {
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) return fail(`incompatible shapes ${JSON.stringify(a.shape)} and ${JSON.stringify(b.shape)}`);
  const n = size(shape);
  if (n > max) return fail(`result of ${n} elements exceeds the evaluation limit`);
  const data: Scalar[] = new Array(n);
  const same = a.shape.length === shape.length && b.shape.length === shape.length && size(a.shape) === n && size(b.shape) === n;
  for (let i = 0; i < n; i++) data[i] = same ? f(a.data[i], b.data[i]) : f(a.data[broadcastIndex(a.shape, shape, i)], b.data[broadcastIndex(b.shape, shape, i)]);
  return ok({ dtype, shape, data });
}

const num = (x: Scalar) => (typeof x === 'boolean' ? (x ? 1 : 0) : typeof x === 'number' ? x : Number.NaN);

function intWrap(dtype: string, x: number): number {
  if (!isInt(dtype) || !Number.isFinite(x)) return x;
  const t = Math.trunc(x);
  if (dtype === 'DT_INT32') return t | 0;
  if (dtype === 'DT_INT8') return ((t << 24) >> 24);
  if (dtype === 'DT_UINT8') return t & 0xff;
  if (dtype === 'DT_INT16') return ((t << 16) >> 16);
  if (dtype === 'DT_UINT16') return t & 0xffff;
  if (dtype === 'DT_UINT32') return t >>> 0;
  return t;
}

function arith(op: string, dtype: string): ((x: Scalar, y: Scalar) => Scalar) | null {
  const w = (v: number) => intWrap(dtype, v);
  const int = isInt(dtype);
  switch (op) {
    case 'Add':
    case 'AddV2':
      return (x, y) => (typeof x === 'string' && typeof y === 'string' ? x + y : w(num(x) + num(y)));
    case 'Sub':
      return (x, y) => w(num(x) - num(y));
    case 'Mul':
      return (x, y) => w(num(x) * num(y));
    case 'Div':
    case 'TruncateDiv':
      return (x, y) => (int || op === 'TruncateDiv' ? w(Math.trunc(num(x) / num(y))) : num(x) / num(y));
    case 'RealDiv':
      return (x, y) => (int ? w(Math.trunc(num(x) / num(y))) : num(x) / num(y));
    case 'FloorDiv':
      return (x, y) => (int ? w(Math.floor(num(x) / num(y))) : Math.floor(num(x) / num(y)));
    case 'FloorMod':
      return (x, y) => {
        const a = num(x), b = num(y);
        const r = a % b;
        return w(r !== 0 && r < 0 !== b < 0 ? r + b : r);
      };
    case 'Mod':
    case 'TruncateMod':
      return (x, y) => w(num(x) % num(y));
    case 'Maximum':
      return (x, y) => Math.max(num(x), num(y));
    case 'Minimum':
      return (x, y) => Math.min(num(x), num(y));
    case 'Pow':
      return (x, y) => w(Math.pow(num(x), num(y)));
    case 'SquaredDifference':
      return (x, y) => w((num(x) - num(y)) ** 2);
    case 'BitwiseAnd':
      return (x, y) => w(num(x) & num(y));
    case 'BitwiseOr':
      return (x, y) => w(num(x) | num(y));
    case 'BitwiseXor':
      return (x, y) => w(num(x) ^ num(y));
  }
  return null;
}

function compare(op: string): ((x: Scalar, y: Scalar) => Scalar) | null {
  const c = (x: Scalar, y: Scalar) => (typeof x === 'string' || typeof y === 'string' ? (x === y ? 0 : String(x) < String(y) ? -1 : 1) : num(x) - num(y));
  switch (op) {
    case 'Equal':
      return (x, y) => (typeof x === 'string' || typeof y === 'string' ? x === y : num(x) === num(y));
    case 'NotEqual':
      return (x, y) => (typeof x === 'string' || typeof y === 'string' ? x !== y : num(x) !== num(y));
    case 'Less':
      return (x, y) => c(x, y) < 0;
    case 'LessEqual':
      return (x, y) => c(x, y) <= 0;
    case 'Greater':
      return (x, y) => c(x, y) > 0;
    case 'GreaterEqual':
      return (x, y) => c(x, y) >= 0;
    case 'LogicalAnd':
      return (x, y) => !!x && !!y;
    case 'LogicalOr':
      return (x, y) => !!x || !!y;
  }
  return null;
}

function unary(op: string, dtype: string): ((x: Scalar) => Scalar) | null {
  const w = (v: number) => intWrap(dtype, v);
  switch (op) {
    case 'Neg':
      return (x) => w(-num(x));
    case 'Abs':
    case 'ComplexAbs':
      return (x) => Math.abs(num(x));
    case 'Square':
      return (x) => w(num(x) * num(x));
    case 'Sqrt':
      return (x) => Math.sqrt(num(x));
    case 'Sign':
      return (x) => Math.sign(num(x));
    case 'Floor':
      return (x) => Math.floor(num(x));
    case 'Ceil':
      return (x) => Math.ceil(num(x));
    case 'Round':
    case 'Rint':
      return (x) => {
        const v = num(x);
        const r = Math.round(v);
        return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r;
      };
    case 'Exp':
      return (x) => Math.exp(num(x));
    case 'Log':
      return (x) => Math.log(num(x));
    case 'Reciprocal':
    case 'Inv':
      return (x) => w(1 / num(x));
    case 'LogicalNot':
      return (x) => !x;
    case 'ZerosLike':
      return (x) => (typeof x === 'boolean' ? false : typeof x === 'string' ? '' : 0);
    case 'OnesLike':
      return (x) => (typeof x === 'boolean' ? true : 1);
    case 'StringLength':
      return (x) => (typeof x === 'string' ? x.length : Number.NaN);
    case 'IsNan':
      return (x) => Number.isNaN(num(x));
    case 'IsInf':
      return (x) => Math.abs(num(x)) === Infinity;
    case 'IsFinite':
      return (x) => Number.isFinite(num(x));
    // Strings are bytes (latin1 code units): case changes and stripping touch ASCII only, as
    // TensorFlow's default encoding does.
    case 'StringLower':
      return (x) => String(x).replace(/[A-Z]/g, (c) => c.toLowerCase());
    case 'StringUpper':
      return (x) => String(x).replace(/[a-z]/g, (c) => c.toUpperCase());
    case 'StringStrip':
      return (x) => String(x).replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
  }
  return null;
}

/** Result dtype of the element-wise ops whose output type is not their input type. */
const UNARY_RESULT: Record<string, string> = { LogicalNot: 'DT_BOOL', StringLength: 'DT_INT32', IsNan: 'DT_BOOL', IsInf: 'DT_BOOL', IsFinite: 'DT_BOOL' };

/** tf.strings.to_number: the whole string must parse, else TensorFlow raises (not evaluated). */
function stringToNumber(v: Val, outType: string): EvalResult {
  const data: Scalar[] = [];
  for (const x of v.data) {
    const text = String(x).trim();
    const integer = /INT/.test(outType);
    const valid = integer ? /^[+-]?\d+$/.test(text) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i.test(text);
    if (!valid) return fail(`StringToNumber cannot parse ${JSON.stringify(text)}`);
    const n = /^[+-]?inf/i.test(text) ? (text.startsWith('-') ? -Infinity : Infinity) : /nan/i.test(text) ? Number.NaN : Number(text);
    data.push(intWrap(outType, n));
  }
  return ok({ dtype: outType, shape: v.shape, data });
}

/** tf.strings.substr with scalar or same-shape pos/len, unit BYTE. */
function substr(v: Val, pos: Val, len: Val): EvalResult {
  const at = (p: Val, i: number) => num(p.data.length === 1 ? p.data[0] : p.data[i]);
  if ((pos.data.length !== 1 && pos.data.length !== v.data.length) || (len.data.length !== 1 && len.data.length !== v.data.length)) return fail('Substr with broadcast pos/len is not evaluated');
  const data: Scalar[] = [];
  for (let i = 0; i < v.data.length; i++) {
    const text = String(v.data[i]);
    let p = at(pos, i);
    if (p < 0) p += text.length;
    if (p < 0 || p > text.length) return fail('Substr position out of range');
    data.push(text.slice(p, p + Math.max(0, at(len, i))));
  }
  return ok({ dtype: 'DT_STRING', shape: v.shape, data });
}

/** tf.where(condition) with one input: the coordinates of the true elements, int64 [n, rank]. */
function whereCoordinates(v: Val): EvalResult {
  const st = strides(v.shape);
  const data: Scalar[] = [];
  let n = 0;
  v.data.forEach((x, i) => {
    if (typeof x === 'string' ? x.length === 0 : !x) return;
    n++;
    for (let d = 0; d < v.shape.length; d++) data.push(Math.floor(i / st[d]) % v.shape[d]);
  });
  return ok({ dtype: 'DT_INT64', shape: [n, v.shape.length], data });
}

function cast(v: Val, dst: string): Val {
  const data = v.data.map((x): Scalar => {
    if (dst === 'DT_BOOL') return typeof x === 'string' ? x.length > 0 : num(x) !== 0;
    if (dst === 'DT_STRING') return x;
    return intWrap(dst, num(x));
  });
  return { dtype: dst, shape: v.shape, data };
}

function attrInt(t: Tensor, name: string, dflt: number): number {
  if (t.source.kind !== 'node') return dflt;
  const a = t.frame.scope.nodes[t.source.node].attr[name];
  return a && a.type === 'i' ? a.i : dflt;
}

function attrType(t: Tensor, name: string): string | null {
  if (t.source.kind !== 'node') return null;
  const a = t.frame.scope.nodes[t.source.node].attr[name];
  return a && a.type === 'type' ? a.dtype : null;
}

function attrInts(t: Tensor, name: string): number[] {
  if (t.source.kind !== 'node') return [];
  const a = t.frame.scope.nodes[t.source.node].attr[name];
  return a && a.type === 'list' ? a.list.i ?? [] : [];
}

function attrString(t: Tensor, name: string): string | null {
  if (t.source.kind !== 'node') return null;
  const a = t.frame.scope.nodes[t.source.node].attr[name];
  return a && a.type === 's' ? latin1.decode(a.s) : null;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function reduce(op: string, v: Val, axesVal: Val, keep: boolean): EvalResult {
  const rank = v.shape.length;
  const axes = new Set(axesVal.data.map((a) => normAxis(num(a), rank)));
  const outShapeFull = v.shape.map((d, i) => (axes.has(i) ? 1 : d));
  const outShape = keep ? outShapeFull : v.shape.filter((_, i) => !axes.has(i));
  const n = size(outShapeFull);
  const init: Record<string, Scalar> = { Sum: 0, Prod: 1, Max: -Infinity, Min: Infinity, Mean: 0, All: true, Any: false };
  if (!(op in init)) return fail(`reduction ${op} unsupported`);
  const acc: Scalar[] = new Array(n).fill(init[op]);
  const counts = new Array(n).fill(0);
  const inStr = strides(v.shape);
  const outStr = strides(outShapeFull);
  for (let i = 0; i < v.data.length; i++) {
    let o = 0;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(i / inStr[d]) % v.shape[d];
      if (!axes.has(d)) o += c * outStr[d];
    }
    const x = v.data[i];
    counts[o]++;
    switch (op) {
      case 'Sum':
      case 'Mean':
        acc[o] = num(acc[o]) + num(x);
        break;
      case 'Prod':
        acc[o] = num(acc[o]) * num(x);
        break;
      case 'Max':
        acc[o] = Math.max(num(acc[o]), num(x));
        break;
      case 'Min':
        acc[o] = Math.min(num(acc[o]), num(x));
        break;
      case 'All':
        acc[o] = !!acc[o] && !!x;
        break;
      case 'Any':
        acc[o] = !!acc[o] || !!x;
        break;
    }
  }
  const data = op === 'Mean' ? acc.map((a, i) => intWrap(v.dtype, num(a) / Math.max(counts[i], 1))) : acc.map((a) => (typeof a === 'number' ? intWrap(v.dtype, a) : a));
  return ok({ dtype: v.dtype, shape: outShape, data });
}

/** ArgMax/ArgMin along one axis: the first index of the extreme value, as TensorFlow returns it. */
function argExtreme(op: 'ArgMax' | 'ArgMin', v: Val, axisVal: Val, outType: string): EvalResult {
  const rank = v.shape.length;
  if (rank === 0 || axisVal.data.length !== 1) return fail(`${op} needs a tensor of rank ≥ 1 and one axis`);
  const axis = normAxis(num(axisVal.data[0]), rank);
  if (axis < 0 || axis >= rank) return fail(`${op} axis out of range`);
  const len = v.shape[axis];
  if (len === 0) return fail(`${op} over an empty axis`);
  const inner = size(v.shape.slice(axis + 1));
  const outer = size(v.shape.slice(0, axis));
  const data: Scalar[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      for (let k = 1; k < len; k++) {
        const x = num(v.data[(o * len + k) * inner + i]);
        const b = num(v.data[(o * len + best) * inner + i]);
        if (op === 'ArgMax' ? x > b : x < b) best = k;
      }
      data.push(best);
    }
  }
  return ok({ dtype: outType, shape: v.shape.filter((_, d) => d !== axis), data });
}

function stridedSlice(t: Tensor, v: Val, begin: Val, end: Val, stridesV: Val): EvalResult {
  if (attrInt(t, 'ellipsis_mask', 0) || attrInt(t, 'new_axis_mask', 0)) return fail('StridedSlice with ellipsis/new axis is not evaluated');
  const bm = attrInt(t, 'begin_mask', 0), em = attrInt(t, 'end_mask', 0), sm = attrInt(t, 'shrink_axis_mask', 0);
  const rank = v.shape.length;
  const ranges: number[][] = [];
  const outShape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const dim = v.shape[d];
    if (d >= begin.data.length) {
      ranges.push(Array.from({ length: dim }, (_, i) => i));
      outShape.push(dim);
      continue;
    }
    const s = num(stridesV.data[d]) || 1;
    let b = num(begin.data[d]);
    let e = num(end.data[d]);
    if (sm & (1 << d)) {
      b = b < 0 ? b + dim : b;
      if (b < 0 || b >= dim) return fail('StridedSlice index out of range');
      ranges.push([b]);
      continue;
    }
    if (bm & (1 << d)) b = s > 0 ? 0 : dim - 1;
    else b = Math.max(s > 0 ? 0 : -1, Math.min(b < 0 ? b + dim : b, s > 0 ? dim : dim - 1));
    if (em & (1 << d)) e = s > 0 ? dim : -1;
    else e = Math.max(s > 0 ? 0 : -1, Math.min(e < 0 ? e + dim : e, dim));
    const idx: number[] = [];
    for (let i = b; s > 0 ? i < e : i > e; i += s) idx.push(i);
    ranges.push(idx);
    outShape.push(idx.length);
  }
  const inStr = strides(v.shape);
  const data: Scalar[] = [];
  const rec = (d: number, off: number) => {
    if (d === rank) {
      data.push(v.data[off]);
      return;
    }
    for (const i of ranges[d]) rec(d + 1, off + i * inStr[d]);
  };
  rec(0, 0);
  return ok({ dtype: v.dtype, shape: outShape, data });
}

function concat(vals: Val[], axis: number): EvalResult {
  if (!vals.length) return fail('empty concat');
  const rank = vals[0].shape.length;
  const ax = normAxis(axis, rank);
  const outer = size(vals[0].shape.slice(0, ax));
  const outShape = [...vals[0].shape];
  outShape[ax] = vals.reduce((a, v) => a + (v.shape[ax] ?? 0), 0);
  const data: Scalar[] = [];
  for (let o = 0; o < outer; o++) {
    for (const v of vals) {
      const inner = size(v.shape.slice(ax));
      data.push(...v.data.slice(o * inner, (o + 1) * inner));
    }
  }
  return ok({ dtype: vals[0].dtype, shape: outShape, data });
}

/** A tensor as tf.strings.format prints it: quoted strings, bools as 1/0, `[a b ... y z]` summaries. */
export function tfFormat(v: Val, summarize: number): string {
  const scalar = (x: Scalar) => (typeof x === 'string' ? `"${x}"` : typeof x === 'boolean' ? (x ? '1' : '0') : String(x));
  const rec = (dim: number, offset: number, indent: string): string => {
    if (dim === v.shape.length) return scalar(v.data[offset]);
    const n = v.shape[dim];
    const step = v.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
    const shown = summarize >= 0 && n > 2 * summarize ? [...Array(summarize).keys(), -1, ...Array.from({ length: summarize }, (_, i) => n - summarize + i)] : [...Array(n).keys()];
    const sep = dim === v.shape.length - 1 ? ' ' : `\n${indent} `;
    return `[${shown.map((i) => (i < 0 ? '...' : rec(dim + 1, offset + i * step, `${indent} `))).join(sep)}]`;
  };
  return rec(0, 0, '');
}

function formatString(template: string, placeholder: string, vals: Val[], summarize: number): string {
  let i = 0;
  return template.split(placeholder).reduce((acc, part, k) => {
    if (k === 0) return part;
    const v = vals[i++];
    return acc + (v ? tfFormat(v, summarize) : placeholder) + part;
  }, '');
}

export function makeEvaluator(cg: CallGraph, naming: VariableNaming, env: EvalEnv): Evaluator {
  return createEvaluator(cg, naming, env, null, new Map());
}

/** One iteration of a loop being run: the loop-carried values and which tensors depend on them. */
interface Binding {
  values: Map<string, EvalResult>;
  inside: (t: Tensor) => boolean;
  parent: Evaluator;
  nesting: number;
}

const MAX_LOOP_NESTING = 6;
const WHILE_NODE_OPS = new Set(['While', 'StatelessWhile', '_While']);
const NEXT_OPS = new Set(['NextIteration', 'RefNextIteration']);

/** Whether two call stacks agree on their first n sites. */
function samePrefix(a: CallSite[], b: CallSite[], n: number): boolean {
  if (a.length < n || b.length < n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A While body returns arg k unchanged (through identities): loop var k is loop-invariant. */
export function loopInvariant(cg: CallGraph, site: CallSite, arg: number): boolean {
  const sites = cg.siteAt.get(`${site.caller.id}:${site.node}`) ?? [];
  const bodySite = sites.find((s) => s.kind === 'body');
  const body = bodySite ? cg.byName.get(bodySite.callee) : undefined;
  if (!body) return false;
  let src = body.rets[arg];
  for (let i = 0; i < 32 && src && src.kind === 'node' && /^(Identity|Snapshot)$/.test(body.nodes[src.node].op); i++) src = dataEdges(body, src.node)[0];
  return !!src && src.kind === 'arg' && src.arg === arg;
}

function createEvaluator(cg: CallGraph, naming: VariableNaming, env: EvalEnv, binding: Binding | null, read: Map<string, string>): Evaluator {
  const memo = new Map<string, EvalResult>();
  const max = env.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const budget = env.loopBudget ?? DEFAULT_LOOP_BUDGET;
  let depth = 0;
  let self: Evaluator;

  const variableValue = (key: string): EvalResult => {
    const v = env.variable(key);
    if (typeof v === 'string') {
      read.set(key, `unknown (${v})`);
      return fail(`variable ${key}: ${v}`);
    }
    read.set(key, renderVal(v));
    return ok(v);
  };

  const readResource = (t: Tensor): EvalResult => {
    const v = traceVariableNode(cg, t);
    if (!v) return fail(`resource ${describeTensor(t)} not traced to a variable`);
    if (v.source.kind === 'node') {
      const asset = naming.assetOfNode(v.frame.scope, v.source.node);
      const assetPath = asset && env.modelFile?.(asset);
      if (assetPath) return ok({ dtype: 'DT_STRING', shape: [], data: [assetPath] });
      return variableValue(naming.keyOfNode(v.frame.scope, v.source.node));
    }
    if (v.source.kind === 'arg' && v.frame.scope.name) {
      const key = naming.boundArgKey(v.frame.scope.name, v.source.arg);
      if (key) return variableValue(key);
    }
    return fail(`resource ${describeTensor(v)} is not bound to a saved variable`);
  };

  const evaluate = (t: Tensor | undefined): EvalResult => {
    if (!t) return fail('an input is missing');
    if (binding && !binding.inside(t)) return binding.parent.evaluate(t);
    const key = tensorKey(t);
    const bound = binding?.values.get(key);
    if (bound) return bound;
    const hit = memo.get(key);
    if (hit) return hit;
    if (depth > MAX_DEPTH) return fail('evaluation too deep');
    memo.set(key, fail('cyclic dependency'));
    depth++;
    let r: EvalResult;
    try {
      r = step(t);
    } finally {
      depth--;
    }
    memo.set(key, r);
    return r;
  };

  /** The loop-carried tensors of a loop, their values before the first iteration, and how to step. */
  const loopShape = (loop: LoopSite): { carried: Tensor[][]; init: Tensor[]; cond: Tensor; next: Tensor[]; inside: (t: Tensor) => boolean; name: string } | string => {
    const frame = loop.frame;
    if (loop.kind === 'while') {
      const sites = cg.siteAt.get(`${frame.scope.id}:${loop.node}`) ?? [];
      const condSite = sites.find((s) => s.kind === 'cond');
      const bodySite = sites.find((s) => s.kind === 'body');
      const condScope = condSite && cg.byName.get(condSite.callee);
      const bodyScope = bodySite && cg.byName.get(bodySite.callee);
      if (!condSite || !bodySite || !condScope || !bodyScope || !condScope.rets[0]) return 'While without cond/body functions';
      const condFrame: Frame = { scope: condScope, stack: [...frame.stack, condSite] };
      const bodyFrame: Frame = { scope: bodyScope, stack: [...frame.stack, bodySite] };
      const ins = dataEdges(frame.scope, loop.node);
      const n = ins.length;
      const carried: Tensor[][] = [];
      for (let k = 0; k < n; k++) carried.push([{ frame: condFrame, source: { kind: 'arg', arg: k } }, { frame: bodyFrame, source: { kind: 'arg', arg: k } }]);
      const d = frame.stack.length;
      return {
        carried,
        init: ins.map((source) => ({ frame, source })),
        cond: { frame: condFrame, source: condScope.rets[0] },
        next: Array.from({ length: n }, (_, k) => ({ frame: bodyFrame, source: bodyScope.rets[k] ?? { kind: 'missing', text: `body output ${k}` } })),
        inside: (t) => t.frame.stack.length > d && (t.frame.stack[d] === condSite || t.frame.stack[d] === bodySite) && samePrefix(t.frame.stack, frame.stack, d),
        name: frame.scope.nodes[loop.node].name,
      };
    }
    const scope = frame.scope;
    const merges: number[] = [];
    for (const i of nodesOf(scope, (op) => /^(Ref)?Switch$/.test(op))) {
      const [data, pred] = dataEdges(scope, i);
      if (pred?.kind === 'node' && pred.node === loop.loopCond && data?.kind === 'node' && /^(Ref)?Merge$/.test(scope.nodes[data.node].op) && !merges.includes(data.node)) merges.push(data.node);
    }
    if (!merges.length) return 'TF1 loop frame without Merge nodes';
    const init: Tensor[] = [];
    const next: Tensor[] = [];
    for (const m of merges) {
      const ins = dataEdges(scope, m);
      const back = ins.find((x) => x.kind === 'node' && NEXT_OPS.has(scope.nodes[x.node].op));
      const enter = ins.find((x) => x !== back);
      if (!back || !enter || back.kind !== 'node') return `Merge ${scope.nodes[m].name} is not a loop merge`;
      init.push({ frame, source: enter });
      const fed = dataEdges(scope, back.node)[0];
      next.push({ frame, source: fed ?? { kind: 'missing', text: 'NextIteration input' } });
    }
    // The loop body: everything forward of the merges up to the Exit nodes.
    const inLoop = new Set<number>();
    const readers = consumerIndex(scope);
    const queue = [...merges];
    while (queue.length) {
      const v = queue.pop()!;
      if (inLoop.has(v)) continue;
      inLoop.add(v);
      if (/^(Ref)?Exit$/.test(scope.nodes[v].op)) continue;
      for (let k = readers.start[v]; k < readers.start[v + 1]; k++) queue.push(readers.list[k]);
    }
    inLoop.forEach((v) => /^(Ref)?Exit$/.test(scope.nodes[v].op) && inLoop.delete(v));
    const d = frame.stack.length;
    return {
      carried: merges.map((m) => [{ frame, source: { kind: 'node', node: m, output: 0 } }]),
      init,
      cond: { frame, source: { kind: 'node', node: loop.loopCond, output: 0 } },
      next,
      // Loop nodes of this frame, and anything in functions called from them.
      inside: (t) =>
        samePrefix(t.frame.stack, frame.stack, d) &&
        (t.frame.stack.length === d ? t.frame.scope === scope && t.source.kind === 'node' && inLoop.has(t.source.node) : t.frame.stack[d].caller === scope && inLoop.has(t.frame.stack[d].node)),
      name: scope.nodes[loop.loopCond].name,
    };
  };

  const lookup = (t: Tensor, op: string, ins: Tensor[]): EvalResult => {
    if (!ins[0]) return fail(`${op} without a table`);
    const table = env.table ? env.table(ins[0], self) : 'lookup tables are not evaluated here';
    if (typeof table === 'string') return fail(`table ${describeTensor(ins[0])}: ${table}`);
    if (op === 'LookupTableSizeV2' || op === 'LookupTableSize') return ok({ dtype: 'DT_INT64', shape: [], data: [table.entries.size] });
    const v = all([ins[1], ins[2]]);
    if (!Array.isArray(v)) return v;
    const [keys, dflt] = v;
    const data: Scalar[] = [];
    for (let i = 0; i < keys.data.length; i++) {
      const hit = table.entries.get(tableKey(keys.data[i]));
      data.push(hit !== undefined ? hit : dflt.data.length === keys.data.length ? dflt.data[i] : dflt.data[0]);
    }
    read.set(`${describeTensor(t)}`, `looked up in ${table.source}`);
    return ok({ dtype: table.valueDtype, shape: keys.shape, data });
  };

  const runLoop = (loop: LoopSite, observe?: (iteration: number, child: Evaluator) => boolean | void): LoopRun => {
    const shape = loopShape(loop);
    if (typeof shape === 'string') return { state: 'unknown', iterations: 0, reason: shape, final: [] };
    if ((binding?.nesting ?? 0) >= MAX_LOOP_NESTING) return { state: 'unknown', iterations: 0, reason: `loops nested deeper than ${MAX_LOOP_NESTING} are not iterated`, final: [] };
    let state: EvalResult[] = shape.init.map((t) => evaluate(t));
    const started = Date.now();
    for (let i = 0; ; i++) {
      if (i >= budget.iterations || Date.now() - started > budget.millis)
        return { state: 'unknown', iterations: i, reason: `loop ${shape.name} still running after ${i} iterations (the evaluation budget is ${budget.iterations} iterations, ${budget.millis} ms)`, final: [] };
      const values = new Map<string, EvalResult>();
      shape.carried.forEach((ts, k) => ts.forEach((t) => values.set(tensorKey(t), state[k])));
      const child = createEvaluator(cg, naming, env, { values, inside: shape.inside, parent: self, nesting: (binding?.nesting ?? 0) + 1 }, read);
      const c = child.evaluate(shape.cond);
      if (!c.ok) return { state: 'unknown', iterations: i, reason: `loop ${shape.name}, condition at iteration ${i}: ${c.reason}`, final: [] };
      if (!truthy(c.value)) return { state: 'finished', iterations: i, reason: `loop ${shape.name} runs ${i} iteration${i === 1 ? '' : 's'}`, final: state };
      if (observe?.(i, child)) return { state: 'unknown', iterations: i + 1, reason: `stopped at iteration ${i}`, final: [] };
      state = shape.next.map((t) => child.evaluate(t));
    }
  };

  const inputs = (t: Tensor): Tensor[] => (t.source.kind === 'node' ? dataEdges(t.frame.scope, t.source.node).map((s: Source) => ({ frame: t.frame, source: s })) : []);

  const all = (ts: (Tensor | undefined)[]): Val[] | Fail => {
    const out: Val[] = [];
    for (const x of ts) {
      const r = evaluate(x);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return out;
  };

  const step = (t: Tensor): EvalResult => {
    const s = t.source;
    if (s.kind === 'missing') return fail(`input ${s.text} does not exist`);
    if (s.kind === 'arg') {
      const site = t.frame.stack[t.frame.stack.length - 1];
      if (site && (site.kind === 'body' || site.kind === 'cond') && !loopInvariant(cg, site, s.arg))
        return fail(`${describeTensor(t)} is carried by loop ${site.caller.nodes[site.node].name} (its value changes from one iteration to the next)`);
      const b = argBinding(t);
      if (b) return evaluate(b);
      const asset = t.frame.scope.name ? naming.assetOfArg(t.frame.scope.name, s.arg) : null;
      const assetPath = asset && env.modelFile?.(asset);
      if (assetPath) return ok({ dtype: 'DT_STRING', shape: [], data: [assetPath] });
      const key = t.frame.scope.name ? naming.boundArgKey(t.frame.scope.name, s.arg) : null;
      if (key) return fail(`${describeTensor(t)} is a variable handle`);
      if (site?.kind === 'other') return fail(`${describeTensor(t)} is fed at run time by ${site.caller.nodes[site.node].op} ${site.caller.nodes[site.node].name}`);
      return fail(`${describeTensor(t)} is an input`);
    }
    const node = t.frame.scope.nodes[s.node];
    const op = node.op;
    const ins = inputs(t);
    const calls = callOutputs(cg, t);
    const asset = naming.assetOfNode(t.frame.scope, s.node);
    const assetPath = asset && env.modelFile?.(asset);
    if (assetPath) return ok({ dtype: 'DT_STRING', shape: [], data: [assetPath] });
    if (op === 'Const') {
      const a = node.attr.value;
      if (!a || a.type !== 'tensor') return fail(`Const ${node.name} has no value`);
      const v = tensorToVal(a.tensor, max);
      return typeof v === 'string' ? fail(v) : ok(v);
    }
    if (VARIABLE_OPS.has(op)) {
      if (op === 'VarHandleOp' || op === 'VarHandle') return fail('resource handle');
      return variableValue(naming.keyOfNode(t.frame.scope, s.node));
    }
    if (op === 'ReadVariableOp' || op === 'ResourceRead') return ins[0] ? readResource(ins[0]) : fail('ReadVariableOp without input');
    if (op === 'Placeholder' || op === 'PlaceholderV2') return fail(`${node.name} is an input placeholder`);
    if (op === 'PlaceholderWithDefault') {
      // Not a signature input: nobody can feed it, so it always holds its default.
      if (!naming.isFed(t.frame.scope, s.node)) return evaluate(ins[0]);
      return fail(`${node.name} is an input (default ${ins[0] ? describeTensor(ins[0]) : 'none'})`);
    }
    if ((op === 'Switch' || op === 'RefSwitch') && env.assumeTaken) return evaluate(ins[0]);
    if (op === 'Switch' || op === 'RefSwitch') {
      const pred = evaluate(ins[1]);
      if (!pred.ok) return pred;
      if (truthy(pred.value) !== (s.output === 1)) return fail('branch not taken', true);
      return evaluate(ins[0]);
    }
    if ((op === 'Merge' || op === 'RefMerge') && ins.some((x) => x.source.kind === 'node' && NEXT_OPS.has(x.frame.scope.nodes[x.source.node].op)))
      return fail(`${node.name} is carried by a TF1 loop (its value changes from one iteration to the next)`);
    if (op === 'Merge' || op === 'RefMerge') {
      // The value of the one live input: proven only when every other input is proven dead.
      let live: { r: EvalResult; index: number } | null = null;
      let unknown: EvalResult | null = null;
      ins.forEach((x, index) => {
        const r = evaluate(x);
        if (r.ok) live ??= { r, index };
        else if (!r.dead) unknown ??= r;
      });
      if (unknown) return unknown;
      if (!live) return fail('no live input', true);
      const { r, index } = live;
      return s.output === 1 ? ok({ dtype: 'DT_INT32', shape: [], data: [index] }) : r;
    }
    if (calls.length && calls.every((c) => c.site.kind === 'call')) return evaluate(calls[0].tensor);
    if (calls.length && (op === 'If' || op === 'StatelessIf')) {
      const pred = evaluate(ins[0]);
      if (!pred.ok) return pred;
      const want = truthy(pred.value) ? 'then' : 'else';
      const c = calls.find((x) => x.site.kind === want);
      return c ? evaluate(c.tensor) : fail('branch missing');
    }
    if (calls.length && (op === 'Case' || op === 'StatelessCase')) {
      const idx = evaluate(ins[0]);
      if (!idx.ok) return idx;
      const n = calls[0].site.branchCount;
      let k = num(idx.value.data[0]);
      if (k < 0 || k >= n) k = n - 1;
      const c = calls.find((x) => x.site.branchIndex === k);
      return c ? evaluate(c.tensor) : fail('branch missing');
    }
    if (WHILE_NODE_OPS.has(op)) {
      const run = runLoop({ kind: 'while', frame: t.frame, node: s.node });
      if (run.state !== 'finished') return fail(run.reason);
      return run.final[s.output] ?? fail(`${node.name} has no output ${s.output}`);
    }
    if (op === 'Exit' || op === 'RefExit') {
      // Exit(Switch(Merge, LoopCond):0): the merge's value when the condition turns false.
      const sw = ins[0]?.source.kind === 'node' ? ins[0].source.node : -1;
      const [merge, pred] = sw >= 0 ? dataEdges(t.frame.scope, sw) : [];
      if (!merge || merge.kind !== 'node' || !pred || pred.kind !== 'node' || t.frame.scope.nodes[pred.node].op !== 'LoopCond') return fail(`${node.name} is the result of a TF1 loop of unknown shape`);
      const run = runLoop({ kind: 'frame', frame: t.frame, loopCond: pred.node });
      if (run.state !== 'finished') return fail(run.reason);
      const shape = loopShape({ kind: 'frame', frame: t.frame, loopCond: pred.node });
      const k = typeof shape === 'string' ? -1 : shape.carried.findIndex((c) => c[0].source.kind === 'node' && c[0].source.node === merge.node);
      return run.final[k] ?? fail(`${node.name}: loop value not found`);
    }
    if (op === 'Timestamp') {
      if (env.now === undefined) return fail(`${node.name} reads the clock (time is unknown)`);
      return ok({ dtype: 'DT_DOUBLE', shape: [], data: [env.now] });
    }
    if (op === 'LookupTableFindV2' || op === 'LookupTableFind' || op === 'LookupTableSizeV2' || op === 'LookupTableSize') return lookup(t, op, ins);
    const envKind = environmentOf(op);
    if (envKind) return fail(`${node.name} reads ${describeEnvironment(envKind, op, node.name).split(':')[0]} (not known before it runs)`);
    if (/^(Identity|RefIdentity|Snapshot|StopGradient|PreventGradient|Enter|RefEnter|LoopCond|EnsureShape|CheckNumerics|DebugIdentity\w*)$/.test(op))
      return ins[0] ? evaluate(ins[0]) : fail(`${op} without input`);
    if (op === 'IdentityN') return ins[s.output] ? evaluate(ins[s.output]) : fail('IdentityN output out of range');
    if (op === 'Cast') {
      const r = evaluate(ins[0]);
      if (!r.ok) return r;
      return ok(cast(r.value, attrType(t, 'DstT') ?? r.value.dtype));
    }
    const u = unary(op, attrType(t, 'T') ?? '');
    if (u && ins.length === 1) {
      const r = evaluate(ins[0]);
      if (!r.ok) return r;
      const dtype = UNARY_RESULT[op] ?? r.value.dtype;
      return ok({ dtype, shape: r.value.shape, data: r.value.data.map(u) });
    }
    if ((op === 'LogicalAnd' || op === 'LogicalOr') && ins.length === 2) {
      // One operand decides the result on its own (false for And, true for Or), even when the other is unknown.
      const rs = ins.map((x) => evaluate(x));
      const decisive = op === 'LogicalOr';
      for (const r of rs) if (r.ok && r.value.data.length > 0 && r.value.data.every((x) => !!x === decisive)) return ok({ dtype: 'DT_BOOL', shape: r.value.shape, data: r.value.data.map(() => decisive) });
    }
    const cmp = compare(op);
    const ar = cmp ? null : arith(op, attrType(t, 'T') ?? '');
    if ((cmp || ar) && ins.length === 2) {
      const v = all(ins);
      if (!Array.isArray(v)) return v;
      return binary(v[0], v[1], cmp ? 'DT_BOOL' : v[0].dtype, (cmp ?? ar)!, max);
    }
    if (ins.length < (ARITY[op] ?? 0)) return fail(`${op} ${node.name} has ${ins.length} inputs, needs ${ARITY[op]}`);
    switch (op) {
      case 'Select':
      case 'SelectV2': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const [c, x, y] = v;
        if (op === 'Select' && c.shape.length === 1 && x.shape.length > 1) {
          const inner = size(x.shape.slice(1));
          return ok({ dtype: x.dtype, shape: x.shape, data: x.data.map((xv, i) => (c.data[Math.floor(i / inner)] ? xv : y.data[i])) });
        }
        const xy = binary(x, y, x.dtype, (a) => a, max);
        if (!xy.ok) return xy;
        const shape = broadcastShape(c.shape, xy.value.shape);
        if (!shape) return fail('Select shapes incompatible');
        const n = size(shape);
        const data: Scalar[] = [];
        for (let i = 0; i < n; i++) data.push(c.data[broadcastIndex(c.shape, shape, i)] ? x.data[broadcastIndex(x.shape, shape, i)] : y.data[broadcastIndex(y.shape, shape, i)]);
        return ok({ dtype: x.dtype, shape, data });
      }
      case 'Reshape': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const dims = v[1].data.map(num);
        const known = dims.filter((d) => d >= 0).reduce((a, b) => a * b, 1);
        const shape = dims.map((d) => (d < 0 ? v[0].data.length / Math.max(known, 1) : d));
        if (size(shape) !== v[0].data.length) return fail('Reshape size mismatch');
        return ok({ ...v[0], shape });
      }
      case 'Squeeze': {
        const r = evaluate(ins[0]);
        if (!r.ok) return r;
        const dims = attrInts(t, 'squeeze_dims').map((d) => normAxis(d, r.value.shape.length));
        return ok({ ...r.value, shape: r.value.shape.filter((d, i) => (dims.length ? !dims.includes(i) : d !== 1)) });
      }
      case 'ExpandDims': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const shape = [...v[0].shape];
        let ax = num(v[1].data[0]);
        if (ax < 0) ax += shape.length + 1;
        shape.splice(ax, 0, 1);
        return ok({ ...v[0], shape });
      }
      case 'StridedSlice': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        return stridedSlice(t, v[0], v[1], v[2], v[3]);
      }
      case 'Slice': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const b = v[1].data.map(num);
        const sz = v[2].data.map(num).map((d, i) => (d < 0 ? v[0].shape[i] - b[i] : d));
        const e = b.map((x, i) => x + sz[i]);
        const one = { dtype: 'DT_INT32', shape: [b.length], data: b.map(() => 1) };
        return stridedSlice(t, v[0], { dtype: 'DT_INT32', shape: [b.length], data: b }, { dtype: 'DT_INT32', shape: [b.length], data: e }, one);
      }
      case 'Gather':
      case 'GatherV2': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const axis = op === 'GatherV2' ? num(v[2].data[0]) : 0;
        if (axis !== 0 || attrInt(t, 'batch_dims', 0) !== 0) return fail('Gather beyond axis 0 is not evaluated');
        const inner = size(v[0].shape.slice(1));
        const data: Scalar[] = [];
        for (const i of v[1].data.map(num)) {
          if (i < 0 || i >= (v[0].shape[0] ?? 0)) return fail('Gather index out of range');
          data.push(...v[0].data.slice(i * inner, (i + 1) * inner));
        }
        return ok({ dtype: v[0].dtype, shape: [...v[1].shape, ...v[0].shape.slice(1)], data });
      }
      case 'StringToHashBucketFast': {
        // tf.strings.to_hash_bucket_fast: Fingerprint64(bytes) mod num_buckets.
        const buckets = attrInt(t, 'num_buckets', 0);
        if (buckets <= 0) return fail('StringToHashBucketFast without num_buckets');
        const r = ins[0] ? evaluate(ins[0]) : fail('StringToHashBucketFast without input');
        if (!r.ok) return r;
        const data = r.value.data.map((x) => Number(fingerprint64(Uint8Array.from(String(x), (c) => c.charCodeAt(0) & 0xff)) % BigInt(buckets)));
        return ok({ dtype: 'DT_INT64', shape: r.value.shape, data });
      }
      case 'StringToNumber': {
        const r = ins[0] ? evaluate(ins[0]) : fail('StringToNumber without input');
        return r.ok ? stringToNumber(r.value, attrType(t, 'out_type') ?? 'DT_FLOAT') : r;
      }
      case 'Substr': {
        if (attrString(t, 'unit') === 'UTF8_CHAR') return fail('Substr in UTF8_CHAR units is not evaluated');
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        return v.length === 3 ? substr(v[0], v[1], v[2]) : fail('Substr needs input, pos and len');
      }
      case 'Where': {
        if (ins.length !== 1) return fail('Where with x and y is evaluated as SelectV2 only');
        const r = evaluate(ins[0]);
        return r.ok ? whereCoordinates(r.value) : r;
      }
      case 'ArgMax':
      case 'ArgMin': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        return argExtreme(op, v[0], v[1], attrType(t, 'output_type') ?? 'DT_INT64');
      }
      case 'Sum':
      case 'Prod':
      case 'Max':
      case 'Min':
      case 'Mean':
      case 'All':
      case 'Any': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        return reduce(op, v[0], v[1], attrBool(t, 'keep_dims'));
      }
      case 'Shape':
      case 'Size':
      case 'Rank': {
        const r = evaluate(ins[0]);
        if (!r.ok) return r;
        const sh = r.value.shape;
        const dtype = attrType(t, 'out_type') ?? 'DT_INT32';
        if (op === 'Shape') return ok({ dtype, shape: [sh.length], data: [...sh] });
        return ok({ dtype: op === 'Rank' ? 'DT_INT32' : dtype, shape: [], data: [op === 'Rank' ? sh.length : size(sh)] });
      }
      case 'StringJoin': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const sep = attrString(t, 'separator') ?? '';
        const shape = v.reduce<number[] | null>((acc, x) => (acc === null ? null : broadcastShape(acc, x.shape)), []);
        if (!shape) return fail('StringJoin shapes incompatible');
        const n = size(shape);
        const data: Scalar[] = [];
        for (let i = 0; i < n; i++) data.push(v.map((x) => String(x.data[broadcastIndex(x.shape, shape, i)])).join(sep));
        return ok({ dtype: 'DT_STRING', shape, data });
      }
      case 'StringFormat': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        return ok({ dtype: 'DT_STRING', shape: [], data: [formatString(attrString(t, 'template') ?? '', attrString(t, 'placeholder') ?? '{}', v, attrInt(t, 'summarize', 3))] });
      }
      case 'Pack': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const axis = normAxis(attrInt(t, 'axis', 0), (v[0]?.shape.length ?? 0) + 1);
        const expanded = v.map((x) => ({ ...x, shape: [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)] }));
        return concat(expanded, axis);
      }
      case 'ConcatV2':
      case 'Concat': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const axisVal = op === 'ConcatV2' ? v[v.length - 1] : v[0];
        const parts = op === 'ConcatV2' ? v.slice(0, -1) : v.slice(1);
        return concat(parts, num(axisVal.data[0]));
      }
      case 'Fill': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const shape = v[0].data.map(num);
        if (size(shape) > max) return fail(`Fill of ${size(shape)} elements exceeds the evaluation limit`);
        return ok({ dtype: v[1].dtype, shape, data: new Array(size(shape)).fill(v[1].data[0]) });
      }
      case 'Range': {
        const v = all(ins);
        if (!Array.isArray(v)) return v;
        const [a, b, d] = v.map((x) => num(x.data[0]));
        const n = d === 0 ? Infinity : Math.max(0, Math.ceil((b - a) / d));
        if (n > max) return fail(`Range of ${n} elements exceeds the evaluation limit`);
        return ok({ dtype: v[0].dtype, shape: [n], data: Array.from({ length: n }, (_, i) => a + i * d) });
      }
      case 'StaticRegexFullMatch': {
        const r = evaluate(ins[0]);
        if (!r.ok) return r;
        const pattern = attrString(t, 'pattern') ?? '';
        let re: RegExp;
        try {
          re = new RegExp(`^(?:${pattern})$`, 's');
        } catch {
          return fail('regex not supported');
        }
        return ok({ dtype: 'DT_BOOL', shape: r.value.shape, data: r.value.data.map((x) => re.test(String(x))) });
      }
    }
    return fail(`op ${op} (${node.name}) is not evaluated`);
  };

  self = { evaluate, read, runLoop };
  return self;
}

/** Key of a lookup-table entry: numbers and strings never collide. */
export function tableKey(x: Scalar): string {
  return typeof x === 'string' ? `s:${x}` : `n:${Number(x)}`;
}


function attrBool(t: Tensor, name: string): boolean {
  if (t.source.kind !== 'node') return false;
  const a = t.frame.scope.nodes[t.source.node].attr[name];
  return !!a && a.type === 'b' && a.b;
}

/** Evaluate a gate predicate and say whether the gate lets control through. */
export function evaluatePredicate(ev: Evaluator, predicate: Tensor, decide: (v: Val) => boolean): { state: 'active' | 'dormant' | 'unknown'; value: string; reason: string } {
  const r = ev.evaluate(predicate);
  if (!r.ok) return r.dead ? { state: 'dormant', value: 'dead', reason: r.reason } : { state: 'unknown', value: 'unknown', reason: r.reason };
  const pass = decide(r.value);
  return { state: pass ? 'active' : 'dormant', value: renderVal(r.value), reason: `${describeTensor(predicate)} = ${renderVal(r.value)}` };
}
