// Exact edge resolution. Graph-level inputs name flat output indices (`node:k`); inside a
// FunctionDef they name element i of an output ARG (`node:out:i`), which we turn into a flat
// index from the op's OpDef (stripped_op_list, then TensorFlow's registry, then the library's
// own signatures) and the node's attrs (number_attr N, type_list_attr lengths).
import type { FunctionIR, NodeIR, OpDefIR, ArgDefIR } from '../../shared/ir.ts';

export type OpDefLookup = (op: string) => OpDefIR | null;

/** Where one input edge comes from. */
export type Source =
  | { kind: 'node'; node: number; output: number }
  | { kind: 'arg'; arg: number }
  | { kind: 'missing'; text: string };

export interface Edge {
  source: Source;
  control: boolean;
}

/** One graph body: the top-level graph (name null) or a library function. */
export interface Scope {
  id: number;
  name: string | null;
  fn: FunctionIR | null;
  nodes: NodeIR[];
  index: NameIndex;
  args: Map<string, number>;
  /**
   * Resolved inputs of every node in input order (control edges included), CSR over typed
   * arrays: node v's inputs are entries inputStart[v] .. inputStart[v + 1]. Read them with
   * `edgesOf` (objects, built on first use) or, in whole-graph loops, straight from the arrays.
   */
  inputStart: Int32Array;
  /** INPUT_NODE, INPUT_ARG or INPUT_MISSING, plus INPUT_CONTROL for a control edge. */
  inputKind: Uint8Array;
  /** The producing node (INPUT_NODE) or function arg index (INPUT_ARG); -1 when missing. */
  inputRef: Int32Array;
  /** The producer's flat output index (INPUT_NODE). */
  inputOutput: Int32Array;
  /** Function output arg index → its source (functions only). */
  rets: Source[];
}

export const INPUT_NODE = 0;
export const INPUT_ARG = 1;
export const INPUT_MISSING = 2;
export const INPUT_CONTROL = 4;

export interface ParsedInput {
  control: boolean;
  node: string;
  /** Output arg name (function bodies), or null. */
  port: string | null;
  index: number;
}

export function parseInputName(text: string): ParsedInput {
  const control = text.charCodeAt(0) === 0x5e; // '^'
  const body = control ? text.slice(1) : text;
  // Same reading as body.split(':'), without building the parts.
  const last = body.lastIndexOf(':');
  if (last < 0) return { control, node: body, port: null, index: 0 };
  const before = last > 0 ? body.lastIndexOf(':', last - 1) : -1;
  if (before >= 0) {
    const index = Number(body.slice(last + 1));
    return { control, node: body.slice(0, before), port: body.slice(before + 1, last), index: Number.isInteger(index) ? index : 0 };
  }
  const head = body.slice(0, last);
  const tail = body.slice(last + 1);
  const index = Number(tail);
  if (Number.isInteger(index) && index >= 0) return { control, node: head, port: null, index };
  return { control, node: head, port: tail, index: 0 };
}

/** How many tensors one output/input arg expands to on a given node; null when unknown. */
export function argLength(arg: ArgDefIR, node: NodeIR): number | null {
  if (arg.numberAttr) {
    const v = node.attr[arg.numberAttr];
    return v && v.type === 'i' ? v.i : null;
  }
  if (arg.typeListAttr) {
    const v = node.attr[arg.typeListAttr];
    if (v && v.type === 'list') return v.list.type?.length ?? 0;
    return null;
  }
  return 1;
}

/** Flat index of element `elem` of output arg `port` of `node`; null when it cannot be computed. */
export function flatOutputIndex(node: NodeIR, port: string, elem: number, lookup: OpDefLookup): number | null {
  const offset = outputArgOffset(node, lookup, port, 0, port.length);
  return offset === null ? null : offset + elem;
}

/**
 * Flat index of the first output of the output arg named text[start, end) on `node` (the name
 * compared in place, so an input's port needs no substring); null when it cannot be computed.
 */
function outputArgOffset(node: NodeIR, lookup: OpDefLookup, text: string, start: number, end: number): number | null {
  const def = lookup(node.op);
  if (!def) return null;
  let offset = 0;
  for (const arg of def.outputArgs) {
    if (arg.name.length === end - start && text.startsWith(arg.name, start)) return offset;
    const len = argLength(arg, node);
    if (len === null) return null;
    offset += len;
  }
  return null;
}

/** Flat index of the first data input of input arg `name` (or null). */
export function flatInputIndex(node: NodeIR, name: string, lookup: OpDefLookup): { start: number; length: number } | null {
  const def = lookup(node.op);
  if (!def) return null;
  let offset = 0;
  for (const arg of def.inputArgs) {
    const len = argLength(arg, node);
    if (arg.name === name) return { start: offset, length: len ?? dataInputCount(node) - offset };
    if (len === null) return null;
    offset += len;
  }
  return null;
}

export function dataInputCount(node: NodeIR): number {
  let n = 0;
  for (const i of node.inputs) if (!i.startsWith('^')) n++;
  return n;
}

/**
 * Node name → index of one graph body (the last node wins for a duplicated name, as with a Map).
 * Built without random writes into a big table: the names' hashes are radix-sorted (stable, so
 * equal hashes stay in node order) and a directory over the top hash bits points into the
 * sorted run. A V8 Map of 400k fresh strings costs ~5× more, and a hash table of that size
 * misses the cache on every insert.
 */
export class NameIndex {
  private readonly names: readonly string[];
  /** (hash, node index) pairs sorted by hash (unsigned), node order within a hash. */
  private readonly hashes: Int32Array;
  private readonly nodesByHash: Int32Array;
  /** Pairs whose hash has top bits b are directory[b] .. directory[b + 1]. */
  private readonly directory: Int32Array;
  private readonly shift: number;
  /** Whether two nodes share a name. */
  readonly repeated: boolean;

  constructor(names: readonly string[]) {
    const n = names.length;
    this.names = names;
    let hashes: Int32Array = hashAll(names);
    let order: Int32Array = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    // LSD radix sort on the unsigned hash, 11 bits a pass: 3 passes, each a sequential read and a
    // scatter over 2048 cursors that stay in cache. One small function per loop, called per pass:
    // a scan runs once, and V8 optimises a function it calls again sooner than a long loop in place.
    if (n > 1) {
      let hashesOut: Int32Array = new Int32Array(n);
      let orderOut: Int32Array = new Int32Array(n);
      const counts = new Int32Array(2048);
      for (let bits = 0; bits < 33; bits += 11) {
        radixPass(hashes, order, hashesOut, orderOut, bits, counts);
        [hashes, hashesOut] = [hashesOut, hashes];
        [order, orderOut] = [orderOut, order];
      }
    }
    this.hashes = hashes;
    this.nodesByHash = order;
    let bits = 1;
    while (bits < 20 && 1 << bits < n) bits++;
    this.shift = 32 - bits;
    this.directory = hashDirectory(hashes, bits);
    this.repeated = anyRepeated(names, hashes, order);
  }

  /** Index of the node named `name`. */
  get(name: string): number | undefined {
    return this.find(name, hashName(name, 0, name.length), 0, name.length);
  }

  /** Index of the node named text[start, end). */
  getRange(text: string, start: number, end: number): number | undefined {
    return this.find(text, hashName(text, start, end), start, end);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  private find(text: string, hash: number, start: number, end: number): number | undefined {
    const whole = start === 0 && end === text.length;
    const top = hash >>> this.shift;
    let found: number | undefined;
    for (let k = this.directory[top]; k < this.directory[top + 1]; k++) {
      if (this.hashes[k] !== hash) continue;
      const at = this.nodesByHash[k];
      const name = this.names[at]!;
      // Node order within a hash: the last match is the last node of that name.
      if (whole ? name === text : name.length === end - start && text.startsWith(name, start)) found = at;
    }
    return found;
  }
}

function hashAll(names: readonly string[]): Int32Array {
  const hashes = new Int32Array(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    hashes[i] = hashName(name, 0, name.length);
  }
  return hashes;
}

/** One stable counting-sort pass on hash bits [bits, bits + 11). */
function radixPass(hashes: Int32Array, order: Int32Array, hashesOut: Int32Array, orderOut: Int32Array, bits: number, counts: Int32Array): void {
  const n = hashes.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[(hashes[i] >>> bits) & 2047]++;
  let sum = 0;
  for (let d = 0; d < 2048; d++) {
    const c = counts[d];
    counts[d] = sum;
    sum += c;
  }
  for (let i = 0; i < n; i++) {
    const at = counts[(hashes[i] >>> bits) & 2047]++;
    hashesOut[at] = hashes[i];
    orderOut[at] = order[i];
  }
}

/** Start of each run of sorted hashes sharing their top `bits` bits, and the end. */
function hashDirectory(hashes: Int32Array, bits: number): Int32Array {
  const shift = 32 - bits;
  const directory = new Int32Array((1 << bits) + 1);
  for (let i = 0; i < hashes.length; i++) directory[(hashes[i] >>> shift) + 1]++;
  for (let d = 0; d < 1 << bits; d++) directory[d + 1] += directory[d];
  return directory;
}

function anyRepeated(names: readonly string[], hashes: Int32Array, order: Int32Array): boolean {
  for (let i = 1; i < hashes.length; i++) if (hashes[i] === hashes[i - 1] && sameNameBefore(names, hashes, order, i)) return true;
  return false;
}

/** Whether the name at sorted position i equals one before it with the same hash. */
function sameNameBefore(names: readonly string[], hashes: Int32Array, order: Int32Array, i: number): boolean {
  for (let j = i - 1; j >= 0 && hashes[j] === hashes[i]; j--) if (names[order[j]] === names[order[i]]) return true;
  return false;
}

/** FNV-1a over UTF-16 code units of text[start, end). */
function hashName(text: string, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash | 0;
}

function resolveOne(text: string, scope: Pick<Scope, 'nodes' | 'index' | 'args' | 'fn'>, lookup: OpDefLookup): Edge {
  const p = parseInputName(text);
  // Inside a function body a bare name (no `:`) is a function arg; node outputs are `node:out:i`.
  if (scope.fn !== null && !text.includes(':') && !(p.control && scope.index.has(p.node))) {
    const arg = scope.args.get(p.node);
    if (arg !== undefined) return { source: { kind: 'arg', arg }, control: p.control };
  }
  const node = scope.index.get(p.node);
  if (node === undefined) {
    const arg = scope.args.get(p.node);
    if (arg !== undefined) return { source: { kind: 'arg', arg }, control: p.control };
    return { source: { kind: 'missing', text }, control: p.control };
  }
  if (p.port === null) return { source: { kind: 'node', node, output: p.index }, control: p.control };
  const flat = flatOutputIndex(scope.nodes[node], p.port, p.index, lookup);
  return { source: { kind: 'node', node, output: flat ?? p.index }, control: p.control };
}

/** text[from..] as a decimal without sign or leading zeros (`0` itself allowed) below 2^31, or -1. */
function plainIndex(text: string, from: number): number {
  const len = text.length - from;
  if (len < 1 || len > 9) return -1;
  if (len > 1 && text.charCodeAt(from) === 0x30) return -1;
  let value = 0;
  for (let i = from; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** Edges of every node without inputs: one frozen array. Edges are read-only once built. */
const NO_EDGES: Edge[] = Object.freeze([]) as unknown as Edge[];

export function buildScope(id: number, fn: FunctionIR | null, nodes: NodeIR[], lookup: OpDefLookup): Scope {
  const n = nodes.length;
  const names: string[] = new Array(n);
  const inputStart = new Int32Array(n + 1);
  // Sized for two inputs a node, grown when a graph has more.
  let inputKind = new Uint8Array(Math.max(16, 2 * n));
  let inputRef = new Int32Array(inputKind.length);
  let inputOutput = new Int32Array(inputKind.length);
  const ops = new Map<string, number[]>();
  let lastOp: string | null = null;
  let lastOpNodes: number[] = [];
  let otherOp: string | null = null;
  let otherOpNodes: number[] = [];
  const args = new Map<string, number>();
  if (fn) fn.signature.inputArgs.forEach((a, i) => args.set(a.name, i));
  // One pass over the nodes: names into the index, ops into the op index, inputs resolved.
  // Graph-level inputs mostly name one of the last two nodes: those are resolved on the way,
  // the rest once the name index is built. A repeated name (the last one wins) redoes them all.
  const later: number[] = [];
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    names[i] = node.name;
    // Graphs repeat short op patterns (Const, AddV2, Const, …): the last two ops skip the Map.
    const op = node.op;
    if (op !== lastOp) {
      if (op === otherOp) {
        otherOp = lastOp;
        lastOp = op;
        const swap = lastOpNodes;
        lastOpNodes = otherOpNodes;
        otherOpNodes = swap;
      } else {
        otherOp = lastOp;
        otherOpNodes = lastOpNodes;
        lastOp = op;
        lastOpNodes = ops.get(op) ?? [];
        if (lastOpNodes.length === 0) ops.set(op, lastOpNodes);
      }
    }
    lastOpNodes.push(i);
    const inputs = node.inputs;
    const base = inputStart[i];
    const end = base + inputs.length;
    inputStart[i + 1] = end;
    if (end > inputKind.length) {
      const size = Math.max(end, inputKind.length * 2);
      inputKind = grown(inputKind, new Uint8Array(size));
      inputRef = grown(inputRef, new Int32Array(size));
      inputOutput = grown(inputOutput, new Int32Array(size));
    }
    if (fn !== null) continue;
    for (let j = 0; j < inputs.length; j++) {
      const text = inputs[j];
      // Most inputs name one of the last nodes read (often the very same string, interned by the
      // reader): output 0 of it, unless the text says more (`^`, `:`), which the general reading takes.
      const recent = i > 0 && text === names[i - 1] ? i - 1 : i > 1 && text === names[i - 2] ? i - 2 : -1;
      if (recent >= 0 && text.charCodeAt(0) !== 0x5e && text.indexOf(':') < 0) inputRef[base + j] = recent;
      else later.push(base + j);
    }
  }
  const index = new NameIndex(names);
  const repeated = index.repeated;
  const inputCount = inputStart[n];
  if (inputKind.length > inputCount + (inputCount >> 2) + 16) {
    inputKind = inputKind.slice(0, inputCount);
    inputRef = inputRef.slice(0, inputCount);
    inputOutput = inputOutput.slice(0, inputCount);
  }
  const partial = { nodes, index, args, fn };
  const resolve = (i: number, k: number) => {
    const text = nodes[i].inputs[k - inputStart[i]];
    if (fn === null ? resolvePlain(text, index, inputKind, inputRef, inputOutput, k) : resolveInBody(text, partial, lookup, inputKind, inputRef, inputOutput, k)) return;
    const edge = resolveOne(text, partial, lookup);
    const src = edge.source;
    inputKind[k] = (src.kind === 'node' ? INPUT_NODE : src.kind === 'arg' ? INPUT_ARG : INPUT_MISSING) | (edge.control ? INPUT_CONTROL : 0);
    inputRef[k] = src.kind === 'node' ? src.node : src.kind === 'arg' ? src.arg : -1;
    inputOutput[k] = src.kind === 'node' ? src.output : 0;
  };
  if (fn !== null || repeated) {
    for (let i = 0; i < n; i++) for (let k = inputStart[i]; k < inputStart[i + 1]; k++) resolve(i, k);
  } else if (later.length) {
    let i = 0;
    for (const k of later) {
      while (inputStart[i + 1] <= k) i++;
      resolve(i, k);
    }
  }
  const rets: Source[] = [];
  if (fn) {
    for (const out of fn.signature.outputArgs) {
      const text = fn.ret[out.name];
      rets.push(text === undefined ? { kind: 'missing', text: out.name } : resolveOne(text, partial, lookup).source);
    }
  }
  const scope: Scope = { id, name: fn ? fn.name : null, fn, nodes, index, args, inputStart, inputKind, inputRef, inputOutput, rets };
  opIndexes.set(scope, ops);
  return scope;
}

/** `to` holding `from`'s values first. */
function grown<T extends Uint8Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/**
 * The common graph-level inputs, `name`, `name:k` (k a plain decimal) and `^name`, resolved
 * without parsing or substrings; false when the input needs the general reading.
 */
function resolvePlain(text: string, index: NameIndex, kind: Uint8Array, ref: Int32Array, output: Int32Array, k: number): boolean {
  const control = text.charCodeAt(0) === 0x5e;
  const colon = text.lastIndexOf(':');
  let node: number | undefined;
  let out = 0;
  if (colon < 0) node = control ? index.getRange(text, 1, text.length) : index.get(text);
  else {
    if (control) return false;
    out = plainIndex(text, colon + 1);
    if (out < 0 || text.lastIndexOf(':', colon - 1) >= 0) return false;
    node = index.getRange(text, 0, colon);
  }
  if (node === undefined) return false;
  kind[k] = INPUT_NODE | (control ? INPUT_CONTROL : 0);
  ref[k] = node;
  output[k] = out;
  return true;
}

/**
 * The common function-body inputs, an arg `x`, a node `x` and `node:out:i`, resolved as
 * resolveOne reads them but without parsing into parts; false when the general reading is needed.
 */
function resolveInBody(text: string, scope: Pick<Scope, 'nodes' | 'index' | 'args'>, lookup: OpDefLookup, kind: Uint8Array, ref: Int32Array, output: Int32Array, k: number): boolean {
  if (text.charCodeAt(0) === 0x5e) return false;
  const first = text.indexOf(':');
  if (first < 0) {
    const arg = scope.args.get(text);
    if (arg !== undefined) {
      kind[k] = INPUT_ARG;
      ref[k] = arg;
      return true;
    }
    const node = scope.index.get(text);
    if (node === undefined) return false;
    kind[k] = INPUT_NODE;
    ref[k] = node;
    output[k] = 0;
    return true;
  }
  const last = text.lastIndexOf(':');
  if (last === first || text.indexOf(':', first + 1) !== last) return false;
  const elem = plainIndex(text, last + 1);
  if (elem < 0) return false;
  const node = scope.index.getRange(text, 0, first);
  if (node === undefined) return false;
  // As flatOutputIndex, with the port compared in place.
  const offset = outputArgOffset(scope.nodes[node], lookup, text, first + 1, last);
  kind[k] = INPUT_NODE;
  ref[k] = node;
  output[k] = offset === null ? elem : offset + elem;
  return true;
}

interface EdgeCache {
  byNode: (Edge[] | undefined)[];
  /** One shared Edge per producer for plain data edges from output 0. */
  outputZero: (Edge | undefined)[];
}

const edgeCaches = new WeakMap<Scope, EdgeCache>();

/** Resolved inputs of node v as Edge objects (built once per node, then shared; read-only). */
export function edgesOf(scope: Scope, v: number): Edge[] {
  let cache = edgeCaches.get(scope);
  if (!cache) {
    cache = { byNode: new Array(scope.nodes.length), outputZero: new Array(scope.nodes.length) };
    edgeCaches.set(scope, cache);
  }
  const cached = cache.byNode[v];
  if (cached !== undefined) return cached;
  const start = scope.inputStart[v];
  const end = scope.inputStart[v + 1];
  if (start === end) return (cache.byNode[v] = NO_EDGES);
  const edges: Edge[] = new Array(end - start);
  for (let k = start; k < end; k++) {
    const kind = scope.inputKind[k];
    const control = (kind & INPUT_CONTROL) !== 0;
    const ref = scope.inputRef[k];
    switch (kind & 3) {
      case INPUT_NODE: {
        const output = scope.inputOutput[k];
        edges[k - start] = !control && output === 0 ? (cache.outputZero[ref] ??= { source: { kind: 'node', node: ref, output: 0 }, control: false }) : { source: { kind: 'node', node: ref, output }, control };
        break;
      }
      case INPUT_ARG:
        edges[k - start] = { source: { kind: 'arg', arg: ref }, control };
        break;
      default:
        edges[k - start] = { source: { kind: 'missing', text: scope.nodes[v].inputs[k - start] }, control };
    }
  }
  return (cache.byNode[v] = edges);
}

/** Data (non-control) edges of a node. */
export function dataEdges(scope: Scope, node: number): Source[] {
  const out: Source[] = [];
  for (const e of edgesOf(scope, node)) if (!e.control) out.push(e.source);
  return out;
}

/** `function/node (Op)` as used in evidence chains. */
export function describeNode(scope: Scope, node: number): string {
  const n = scope.nodes[node];
  return `${scope.name ?? ''}/${n.name} (${n.op})`.replace(/^\//, '');
}

export function describeSource(scope: Scope, source: Source): string {
  if (source.kind === 'node') return describeNode(scope, source.node);
  if (source.kind === 'arg') return `${scope.name ?? ''}/${scope.fn?.signature.inputArgs[source.arg]?.name ?? `arg${source.arg}`} (_Arg)`;
  return `${scope.name ?? ''}/${source.text} (missing)`;
}

/**
 * Who reads each node: CSR over every edge (data and control). The readers of node v are
 * list[start[v] .. start[v + 1]), in node order; a node reading v k times is listed k times.
 * Built once per scope, in two passes over typed arrays: no array per node.
 */
export interface ConsumerIndex {
  start: Int32Array;
  list: Int32Array;
}

const consumerIndexes = new WeakMap<Scope, ConsumerIndex>();

export function consumerIndex(scope: Scope): ConsumerIndex {
  let index = consumerIndexes.get(scope);
  if (index) return index;
  const n = scope.nodes.length;
  const start = new Int32Array(n + 1);
  const { inputStart, inputKind, inputRef } = scope;
  const total = inputStart[n];
  for (let k = 0; k < total; k++) if ((inputKind[k] & 3) === INPUT_NODE) start[inputRef[k] + 1]++;
  for (let v = 0; v < n; v++) start[v + 1] += start[v];
  const fill = start.slice(0, n);
  const list = new Int32Array(start[n]);
  for (let i = 0; i < n; i++) {
    for (let k = inputStart[i]; k < inputStart[i + 1]; k++) if ((inputKind[k] & 3) === INPUT_NODE) list[fill[inputRef[k]]++] = i;
  }
  index = { start, list };
  consumerIndexes.set(scope, index);
  return index;
}

/** Readers of `node` (data and control edges) in node order, once per edge. */
export function consumersOf(scope: Scope, node: number): number[] {
  const { start, list } = consumerIndex(scope);
  return Array.from(list.subarray(start[node], start[node + 1]));
}

/**
 * Data readers of every marked producer: producer → (reader, data input slot), in node and
 * input order. One pass over the input arrays; no consumer index is built.
 */
export function dataUsesOfMarked(scope: Scope, marked: Uint8Array): Map<number, { node: number; slot: number }[]> {
  const out = new Map<number, { node: number; slot: number }[]>();
  const { inputStart, inputKind, inputRef } = scope;
  for (let i = 0; i < scope.nodes.length; i++) {
    let slot = 0;
    for (let k = inputStart[i]; k < inputStart[i + 1]; k++) {
      const kind = inputKind[k];
      if (kind & INPUT_CONTROL) continue;
      if (kind === INPUT_NODE && marked[inputRef[k]]) {
        const list = out.get(inputRef[k]);
        if (list) list.push({ node: i, slot });
        else out.set(inputRef[k], [{ node: i, slot }]);
      }
      slot++;
    }
  }
  return out;
}

/** Node indices of every op type in a scope, in node order: one pass, then questions about ops cost per op type. */
const opIndexes = new WeakMap<Scope, Map<string, number[]>>();

export function opIndex(scope: Scope): Map<string, number[]> {
  let index = opIndexes.get(scope);
  if (index) return index;
  index = new Map();
  const nodes = scope.nodes;
  let lastOp: string | null = null;
  let last: number[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const op = nodes[i].op;
    if (op !== lastOp) {
      lastOp = op;
      last = index.get(op) ?? [];
      if (last.length === 0) index.set(op, last);
    }
    last.push(i);
  }
  opIndexes.set(scope, index);
  return index;
}

/** Indices of the nodes whose op passes `test` (asked once per op type), ascending. */
export function nodesOf(scope: Scope, test: (op: string) => boolean): number[] {
  let out: number[] | null = null;
  let lists = 0;
  for (const [op, nodes] of opIndex(scope)) {
    if (!test(op)) continue;
    out = lists === 0 ? nodes.slice() : out!.concat(nodes);
    lists++;
  }
  if (out === null) return [];
  if (lists > 1) out.sort((a, b) => a - b);
  return out;
}
