// Resource exhaustion: how much a size-driving input makes an op allocate, under one set of
// values (a checkpoint, or constants only). Sizes that follow an input's own shape end their
// slice at the Shape op and never reach here as variable- or constant-driven.
import type { NodeIR } from '../../shared/ir.ts';
import type { ActivationState } from '../../shared/findings.ts';
import type { Frame, Tensor } from './dataflow.ts';
import type { CallGraph } from './callgraph.ts';
import { dataEdges, type Scope, type Source } from './edges.ts';
import type { Evaluator, Val } from './evaluate.ts';
import type { Slice } from './slice.ts';
import { dtypeSize } from '../formats/tensor.ts';

/** Allocations at or above these are reported as active. */
export const HUGE_ELEMENTS = 1 << 28;
export const HUGE_BYTES = 1024 * 1024 * 1024;

export interface SizeVerdict {
  state: ActivationState;
  elements: number | null;
  bytes: number | null;
  reason: string;
}

const nums = (v: Val) => v.data.map((x) => (typeof x === 'number' ? x : typeof x === 'boolean' ? Number(x) : Number.NaN));

/** Element count an op produces from its evaluated size inputs (by input arg name). */
export function elementCount(op: string, sizes: Map<string, number[]>): number | null {
  const get = (n: string) => sizes.get(n);
  if (op === 'Range' || WHILE_OPS.has(op)) {
    const [s, l, d] = [get('start')?.[0] ?? 0, get('limit')?.[0], get('delta')?.[0] ?? 1];
    if (l === undefined || d === 0) return null;
    return Math.max(0, Math.ceil(Math.abs((l - s) / d)));
  }
  if (/Pad/.test(op)) {
    const all = [...sizes.values()].flat();
    return all.reduce((a, b) => a + Math.abs(b), 0);
  }
  if (op === 'RepeatDataset') {
    const c = get('count')?.[0];
    // count -1 repeats forever, but lazily: the cost is decided by whoever consumes it.
    return c === undefined || c < 0 ? null : c;
  }
  let product = 1;
  for (const values of sizes.values()) for (const v of values) product *= Math.abs(v);
  return Number.isFinite(product) || product === Infinity ? product : null;
}

function elementBytes(node: NodeIR): number {
  for (const name of ['T', 'dtype', 'Tidx', 'out_type', 'element_dtype']) {
    const a = node.attr[name];
    if (a && a.type === 'type') return dtypeSize(a.dtype) ?? 4;
  }
  return 4;
}

export function sizeFinding(node: NodeIR, tensors: { name: string; tensor: Tensor; slice: Slice }[], ev: Evaluator): SizeVerdict {
  const sizes = new Map<string, number[]>();
  for (const t of tensors) {
    const r = ev.evaluate(t.tensor);
    if (!r.ok) return { state: 'unknown', elements: null, bytes: null, reason: `${t.name}: ${r.reason}` };
    sizes.set(t.name, [...(sizes.get(t.name) ?? []), ...nums(r.value)]);
  }
  const elements = elementCount(node.op, sizes);
  if (elements === null) return { state: 'unknown', elements: null, bytes: null, reason: 'size could not be computed' };
  const bytes = WHILE_OPS.has(node.op) ? null : elements * elementBytes(node);
  const shown = [...sizes].map(([k, v]) => `${k} = [${v.slice(0, 8).join(', ')}]`).join(', ');
  const huge = elements >= HUGE_ELEMENTS || (bytes ?? 0) >= HUGE_BYTES;
  const amount = bytes === null ? `${elements} iterations` : `${elements} elements, ${bytes} bytes (${humanBytes(bytes)})`;
  return { state: huge ? 'active' : 'dormant', elements, bytes, reason: `${node.op} ${shown} → ${amount}${huge ? ' (exhausts memory or time)' : ''}` };
}

const COUNTING = new Set(['Less', 'LessEqual', 'Greater', 'GreaterEqual', 'NotEqual']);
export const WHILE_OPS = new Set(['While', 'StatelessWhile']);

/**
 * A counting While loop (cond: arg_k < bound; body: arg_k + step): the tensors that decide its
 * trip count, named like Range's inputs (start, limit, delta), or null for other loop shapes.
 */
export function whileTripTensors(cg: CallGraph, frame: Frame, node: number): { name: string; tensor: Tensor }[] | null {
  const sites = cg.siteAt.get(`${frame.scope.id}:${node}`) ?? [];
  const condSite = sites.find((s) => s.kind === 'cond');
  const bodySite = sites.find((s) => s.kind === 'body');
  if (!condSite || !bodySite) return null;
  const cond = cg.byName.get(condSite.callee)!;
  const body = cg.byName.get(bodySite.callee)!;
  const cmp = skipIdentity(cond, cond.rets[0]);
  if (!cmp || cmp.kind !== 'node' || !COUNTING.has(cond.nodes[cmp.node].op)) return null;
  const [a, b] = dataEdges(cond, cmp.node).map((s) => skipIdentity(cond, s));
  const counterSide = a?.kind === 'arg' ? 0 : b?.kind === 'arg' ? 1 : -1;
  if (counterSide < 0) return null;
  const counter = (counterSide === 0 ? a : b) as Extract<Source, { kind: 'arg' }>;
  const boundSrc = dataEdges(cond, cmp.node)[1 - counterSide];
  const init = dataEdges(frame.scope, node)[counter.arg];
  const next = skipIdentity(body, body.rets[counter.arg]);
  if (!init || !boundSrc || !next || next.kind !== 'node' || !/^(Add|AddV2|Sub)$/.test(body.nodes[next.node].op)) return null;
  const operands = dataEdges(body, next.node);
  const stepSrc = operands.find((s) => !(s.kind === 'arg' && s.arg === counter.arg));
  if (!stepSrc) return null;
  const condFrame: Frame = { scope: cond, stack: [...frame.stack, condSite] };
  const bodyFrame: Frame = { scope: body, stack: [...frame.stack, bodySite] };
  return [
    { name: 'start', tensor: { frame, source: init } },
    { name: 'limit', tensor: { frame: condFrame, source: boundSrc } },
    { name: 'delta', tensor: { frame: bodyFrame, source: stepSrc } },
  ];
}

function skipIdentity(scope: Scope, src: Source | undefined): Source | undefined {
  let cur = src;
  for (let i = 0; i < 16 && cur && cur.kind === 'node' && /^(Identity|Cast)$/.test(scope.nodes[cur.node].op); i++) cur = dataEdges(scope, cur.node)[0];
  return cur;
}

export function humanBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unbounded';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 && u > 0 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
