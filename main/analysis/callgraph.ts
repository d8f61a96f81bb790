// One call graph over the top-level graph and the whole function library: every
// function-valued attr (f, then_branch/else_branch, branches, cond/body, dataset functions,
// any other func or func-list attr) and direct calls (a node whose op names a library function).
import type { GraphIR, OpDefIR, AttrValue, NodeIR } from '../../shared/ir.ts';
import { buildScope, dataInputCount, flatInputIndex, type OpDefLookup, type Scope } from './edges.ts';
import { registryOpDef } from './op-registry.ts';

export type CallKind = 'call' | 'then' | 'else' | 'case' | 'cond' | 'body' | 'other';

export interface CallSite {
  caller: Scope;
  node: number;
  callee: string;
  /** The attr naming the callee: `f`, `then_branch`, `branches[2]`, `body`, ... */
  attr: string;
  kind: CallKind;
  branchIndex: number;
  branchCount: number;
  /** Case: every branch index that calls the same function (the gate passes for any of them). */
  sameCallee?: number[];
  /** Callee args from argFirst on are bound to the call's data inputs argBase + (j - argFirst). */
  argFirst: number;
  argBase: number | null;
}

export interface CallGraph {
  scopes: Scope[];
  top: Scope;
  byName: Map<string, Scope>;
  sites: CallSite[];
  sitesByCaller: Map<number, CallSite[]>;
  callersOf: Map<string, CallSite[]>;
  /** Site by caller scope id and node index. */
  siteAt: Map<string, CallSite[]>;
  /** Call cycles found (each a list of function names). */
  cycles: string[][];
  lookup: OpDefLookup;
}

const CALL_OPS = new Set(['PartitionedCall', 'StatefulPartitionedCall', 'TPUPartitionedCall', 'RemoteCall', 'SymbolicGradient', 'BatchFunction', 'XlaLaunch', 'XlaLaunchV2', '_XlaLaunch']);
const IF_OPS = new Set(['If', 'StatelessIf', '_If', 'XlaIf']);
const CASE_OPS = new Set(['Case', 'StatelessCase', '_Case']);
const WHILE_OPS = new Set(['While', 'StatelessWhile', '_While']);

/** OpDef lookup: the meta graph's stripped op list first, then TensorFlow's registry, then library signatures. */
export function opDefLookup(graph: GraphIR, strippedOpList: OpDefIR[] = []): OpDefLookup {
  const stripped = new Map(strippedOpList.map((d) => [d.name, d]));
  const library = new Map(graph.library.map((f) => [f.name, f.signature]));
  const memo = new Map<string, OpDefIR | null>();
  return (op) => {
    let d = memo.get(op);
    if (d !== undefined) return d;
    d = stripped.get(op) ?? registryOpDef(op) ?? library.get(op) ?? null;
    memo.set(op, d);
    return d;
  };
}

function funcNames(value: AttrValue): { name: string; index: number; count: number }[] {
  if (value.type === 'func') return value.func.name ? [{ name: value.func.name, index: 0, count: 1 }] : [];
  if (value.type === 'list' && value.list.func) {
    const count = value.list.func.length;
    return value.list.func.map((f, index) => ({ name: f.name, index, count }));
  }
  return [];
}

function siteFor(caller: Scope, nodeIndex: number, attr: string, callee: string, index: number, count: number, lookup: OpDefLookup, calleeArgs: number): CallSite {
  const node = caller.nodes[nodeIndex];
  const base = { caller, node: nodeIndex, callee, branchIndex: index, branchCount: count, argFirst: 0 };
  if (IF_OPS.has(node.op) && (attr === 'then_branch' || attr === 'else_branch'))
    return { ...base, attr, kind: attr === 'then_branch' ? 'then' : 'else', argBase: 1 };
  if (CASE_OPS.has(node.op) && attr === 'branches') return { ...base, attr: `branches[${index}]`, kind: 'case', argBase: 1 };
  if (WHILE_OPS.has(node.op) && (attr === 'cond' || attr === 'body')) return { ...base, attr, kind: attr, argBase: 0 };
  if (CALL_OPS.has(node.op)) return { ...base, attr, kind: 'call', argBase: 0 };
  // For: body(i, inputs...) with inputs after start, limit, delta.
  if (node.op === 'For' && attr === 'body') return { ...base, attr, kind: 'other', argFirst: 1, argBase: 3 };
  // Dataset-style functions: the trailing function args are the captured inputs (a type-list input arg).
  const captured = capturedInputs(node, attr, lookup);
  if (captured && captured.length <= calleeArgs)
    return { ...base, attr: count > 1 ? `${attr}[${index}]` : attr, kind: 'other', argFirst: calleeArgs - captured.length, argBase: captured.start };
  return { ...base, attr: count > 1 ? `${attr}[${index}]` : attr, kind: 'other', argBase: null };
}

/** The input list a function attr's captured args come from: `<attr>_other_arguments`, `other_arguments`, ... */
function capturedInputs(node: NodeIR, attr: string, lookup: OpDefLookup): { start: number; length: number } | null {
  const def = lookup(node.op);
  if (!def) return null;
  const names = [`${attr}_other_arguments`, `${attr}_other_args`, 'other_arguments', 'captured_inputs', 'captured_tensors'];
  for (const name of names) {
    const arg = def.inputArgs.find((a) => a.name === name && a.typeListAttr);
    if (arg) return flatInputIndex(node, arg.name, lookup);
  }
  return null;
}

export function buildCallGraph(graph: GraphIR, strippedOpList: OpDefIR[] = []): CallGraph {
  const lookup = opDefLookup(graph, strippedOpList);
  const top = buildScope(0, null, graph.nodes, lookup);
  const scopes: Scope[] = [top];
  const byName = new Map<string, Scope>();
  for (const fn of graph.library) {
    if (byName.has(fn.name)) continue;
    const s = buildScope(scopes.length, fn, fn.nodes, lookup);
    scopes.push(s);
    byName.set(fn.name, s);
  }
  const sites: CallSite[] = [];
  const sitesByCaller = new Map<number, CallSite[]>();
  const callersOf = new Map<string, CallSite[]>();
  const siteAt = new Map<string, CallSite[]>();
  const add = (site: CallSite) => {
    sites.push(site);
    sitesByCaller.get(site.caller.id)!.push(site);
    const list = callersOf.get(site.callee);
    if (list) list.push(site);
    else callersOf.set(site.callee, [site]);
    const key = `${site.caller.id}:${site.node}`;
    const at = siteAt.get(key);
    if (at) at.push(site);
    else siteAt.set(key, [site]);
  };
  for (const scope of scopes) sitesByCaller.set(scope.id, []);
  // Without a library nothing can be called. Nodes often share one attr record (the reader
  // shares identical encodings): a record without function values is looked at once.
  let plainRecord: object | null = null;
  for (const scope of byName.size ? scopes : []) {
    for (let i = 0; i < scope.nodes.length; i++) {
      const node = scope.nodes[i];
      if (byName.has(node.op)) add({ caller: scope, node: i, callee: node.op, attr: 'op', kind: 'call', branchIndex: 0, branchCount: 1, argFirst: 0, argBase: 0 });
      if (node.attr === plainRecord) continue;
      let plain = true;
      for (const attr in node.attr) {
        const value = node.attr[attr];
        if (value.type !== 'func' && value.type !== 'list') continue;
        plain = false;
        for (const f of funcNames(value)) {
          const callee = byName.get(f.name);
          if (callee) add(siteFor(scope, i, attr, f.name, f.index, f.count, lookup, callee.fn!.signature.inputArgs.length));
        }
      }
      if (plain) plainRecord = node.attr;
    }
  }
  mergeSameBranches(sites);
  const cg: CallGraph = { scopes, top, byName, sites, sitesByCaller, callersOf, siteAt, cycles: [], lookup };
  cg.cycles = findCycles(cg);
  return cg;
}

/** Data-input index a callee arg is bound to at a call site, or null when not bound. */
export function boundInput(site: CallSite, arg: number): number | null {
  if (site.argBase === null || arg < site.argFirst) return null;
  const k = site.argBase + arg - site.argFirst;
  return k < dataInputCount(site.caller.nodes[site.node]) ? k : null;
}

/** Call cycles (strongly connected components with more than one function, or a self call), iteratively. */
export function findCycles(cg: CallGraph): string[][] {
  const n = cg.scopes.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  const succ = (v: number) => (cg.sitesByCaller.get(v) ?? []).map((s) => cg.byName.get(s.callee)!.id);
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: { v: number; next: number[]; i: number }[] = [];
    const open = (v: number) => {
      index[v] = low[v] = counter++;
      stack.push(v);
      onStack[v] = 1;
      work.push({ v, next: succ(v), i: 0 });
    };
    open(root);
    while (work.length) {
      const top = work[work.length - 1];
      if (top.i < top.next.length) {
        const w = top.next[top.i++];
        if (index[w] === -1) open(w);
        else if (onStack[w]) low[top.v] = Math.min(low[top.v], index[w]);
        continue;
      }
      work.pop();
      if (work.length) low[work[work.length - 1].v] = Math.min(low[work[work.length - 1].v], low[top.v]);
      if (low[top.v] === index[top.v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== top.v);
        const selfLoop = comp.length === 1 && top.next.includes(top.v);
        if (comp.length > 1 || selfLoop) cycles.push(comp.map((c) => cg.scopes[c].name ?? '(graph)'));
      }
    }
  }
  return cycles;
}

/**
 * A function called by every branch of an If/Case runs whichever way it goes: those sites are
 * plain calls. For a Case where several (not all) branches call it, each site records them all.
 */
function mergeSameBranches(sites: CallSite[]): void {
  const byNode = new Map<string, CallSite[]>();
  for (const site of sites) {
    if (site.kind !== 'then' && site.kind !== 'else' && site.kind !== 'case') continue;
    const key = `${site.caller.id}:${site.node}`;
    const list = byNode.get(key);
    if (list) list.push(site);
    else byNode.set(key, [site]);
  }
  for (const group of byNode.values()) {
    const count = group[0].kind === 'case' ? group[0].branchCount : 2;
    for (const site of group) {
      const same = group.filter((g) => g.callee === site.callee);
      if (same.length >= count) site.kind = 'call';
      else if (site.kind === 'case') site.sameCallee = same.map((g) => g.branchIndex).sort((a, b) => a - b);
    }
  }
}
