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
  index: Map<string, number>;
  args: Map<string, number>;
  /** Resolved inputs of every node, in input order (control edges included). */
  edges: Edge[][];
  /** Function output arg index → its source (functions only). */
  rets: Source[];
}

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
  const def = lookup(node.op);
  if (!def) return null;
  let offset = 0;
  for (const arg of def.outputArgs) {
    if (arg.name === port) return offset + elem;
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

function resolveOne(text: string, scope: Pick<Scope, 'nodes' | 'index' | 'args' | 'fn'>, lookup: OpDefLookup, outputZero?: (Edge | undefined)[]): Edge {
  // The common graph-level input, a plain node name: its first output, one shared Edge per producer.
  if (outputZero !== undefined && scope.fn === null && text.indexOf(':') < 0 && text.charCodeAt(0) !== 0x5e) {
    const node = scope.index.get(text);
    if (node !== undefined) return (outputZero[node] ??= { source: { kind: 'node', node, output: 0 }, control: false });
  }
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

/** Edges of every node without inputs: one frozen array. Edges are read-only once built. */
const NO_EDGES: Edge[] = Object.freeze([]) as unknown as Edge[];

export function buildScope(id: number, fn: FunctionIR | null, nodes: NodeIR[], lookup: OpDefLookup): Scope {
  const index = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) index.set(nodes[i].name, i);
  const args = new Map<string, number>();
  if (fn) fn.signature.inputArgs.forEach((a, i) => args.set(a.name, i));
  const partial = { nodes, index, args, fn };
  const outputZero: (Edge | undefined)[] = new Array(nodes.length);
  const edges: Edge[][] = new Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const inputs = nodes[i].inputs;
    if (inputs.length === 0) {
      edges[i] = NO_EDGES;
      continue;
    }
    const resolved: Edge[] = new Array(inputs.length);
    for (let k = 0; k < inputs.length; k++) resolved[k] = resolveOne(inputs[k], partial, lookup, outputZero);
    edges[i] = resolved;
  }
  const rets: Source[] = [];
  if (fn) {
    for (const out of fn.signature.outputArgs) {
      const text = fn.ret[out.name];
      rets.push(text === undefined ? { kind: 'missing', text: out.name } : resolveOne(text, partial, lookup).source);
    }
  }
  return { id, name: fn ? fn.name : null, fn, nodes, index, args, edges, rets };
}

/** Data (non-control) edges of a node. */
export function dataEdges(scope: Scope, node: number): Source[] {
  const out: Source[] = [];
  for (const e of scope.edges[node]) if (!e.control) out.push(e.source);
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
