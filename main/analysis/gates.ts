// Control gates: which If/Case/While/Switch must be passed, and which way, for an op to run.
// Functional control flow comes from the call path into the op's function; TF1 control flow
// (Switch/Merge, while frames with Enter/Merge/Switch/LoopCond/NextIteration/Exit) from the
// switch context of the op inside its own graph body.
import type { CallGraph, CallSite } from './callgraph.ts';
import type { Frame, Tensor } from './dataflow.ts';
import { consumerIndex, dataEdges, edgesOf, nodesOf, type ConsumerIndex, type Scope, type Source } from './edges.ts';

export interface SwitchCtx {
  id: number;
  parent: number;
  /** The Switch node and the port taken. */
  node: number;
  port: number;
  depth: number;
}

interface ScopeContexts {
  table: SwitchCtx[];
  ofNode: Int32Array;
}

const ROOT: SwitchCtx = { id: 0, parent: 0, node: -1, port: -1, depth: 0 };
const cache = new WeakMap<Scope, ScopeContexts>();

const SWITCH = new Set(['Switch', 'RefSwitch', '_SwitchN']);
const MERGE = new Set(['Merge', 'RefMerge']);
const EXIT = new Set(['Exit', 'RefExit']);
const NEXT = new Set(['NextIteration', 'RefNextIteration']);

function computeContexts(scope: Scope): ScopeContexts {
  const n = scope.nodes.length;
  const table: SwitchCtx[] = [ROOT];
  const intern = new Map<string, number>();
  const ofNode = new Int32Array(n);
  const done = new Uint8Array(n);
  const child = (parent: number, node: number, port: number) => {
    const key = `${parent}|${node}|${port}`;
    let id = intern.get(key);
    if (id === undefined) {
      id = table.length;
      table.push({ id, parent, node, port, depth: table[parent].depth + 1 });
      intern.set(key, id);
    }
    return id;
  };
  const lca = (a: number, b: number) => {
    while (table[a].depth > table[b].depth) a = table[a].parent;
    while (table[b].depth > table[a].depth) b = table[b].parent;
    while (a !== b) {
      a = table[a].parent;
      b = table[b].parent;
    }
    return a;
  };
  const edgeCtx = (src: Source): number | null => {
    if (src.kind !== 'node' || !done[src.node]) return null;
    const producer = scope.nodes[src.node];
    if (SWITCH.has(producer.op)) return child(ofNode[src.node], src.node, src.output);
    return ofNode[src.node];
  };
  const compute = (v: number) => {
    const node = scope.nodes[v];
    let ctx = 0;
    if (MERGE.has(node.op)) {
      let acc: number | null = null;
      for (const e of edgesOf(scope, v)) {
        if (e.control) continue;
        if (e.source.kind === 'node' && NEXT.has(scope.nodes[e.source.node].op)) continue;
        const c = edgeCtx(e.source);
        if (c === null) continue;
        acc = acc === null ? c : lca(acc, c);
      }
      ctx = acc ?? 0;
    } else if (EXIT.has(node.op)) {
      const e = edgesOf(scope, v).find((x) => !x.control);
      if (e && e.source.kind === 'node' && done[e.source.node]) ctx = SWITCH.has(scope.nodes[e.source.node].op) ? ofNode[e.source.node] : ofNode[e.source.node];
    } else {
      for (const e of edgesOf(scope, v)) {
        const c = edgeCtx(e.source);
        if (c !== null && table[c].depth > table[ctx].depth) ctx = c;
      }
    }
    ofNode[v] = ctx;
    done[v] = 1;
  };
  // Only nodes forward of a Switch can be inside a switch context; every other node is in the
  // root context, settled from the start. Within that region: Kahn's order over edges, ignoring
  // NextIteration back edges; leftovers (hostile cycles) in index order.
  const region = new Uint8Array(n);
  const members: number[] = [];
  let readers: ConsumerIndex | null = null;
  for (const v of nodesOf(scope, (op) => SWITCH.has(op))) {
    if (region[v]) continue;
    readers ??= consumerIndex(scope);
    const stack = [v];
    while (stack.length) {
      const u = stack.pop()!;
      if (region[u]) continue;
      region[u] = 1;
      members.push(u);
      for (let k = readers.start[u]; k < readers.start[u + 1]; k++) if (!region[readers.list[k]]) stack.push(readers.list[k]);
    }
  }
  if (readers === null) return { table, ofNode };
  members.sort((a, b) => a - b);
  for (let v = 0; v < n; v++) if (!region[v]) done[v] = 1;
  const isBackEdge = (from: number, to: number) => NEXT.has(scope.nodes[from].op) && MERGE.has(scope.nodes[to].op);
  const indeg = new Int32Array(n);
  for (const v of members)
    for (const e of edgesOf(scope, v)) if (e.source.kind === 'node' && region[e.source.node] && !isBackEdge(e.source.node, v)) indeg[v]++;
  const queue: number[] = [];
  for (const v of members) if (indeg[v] === 0) queue.push(v);
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi];
    compute(v);
    for (let k = readers.start[v]; k < readers.start[v + 1]; k++) {
      const w = readers.list[k];
      if (region[w] && !isBackEdge(v, w) && --indeg[w] === 0) queue.push(w);
    }
  }
  for (const v of members) if (!done[v]) compute(v);
  return { table, ofNode };
}

function contexts(scope: Scope): ScopeContexts {
  let c = cache.get(scope);
  if (!c) {
    c = computeContexts(scope);
    cache.set(scope, c);
  }
  return c;
}

export function switchContext(scope: Scope, node: number): SwitchCtx {
  const c = contexts(scope);
  return c.table[c.ofNode[node]] ?? ROOT;
}

/** A gate with the tensor that decides it. */
export interface GateSite {
  frame: Frame;
  node: number;
  op: string;
  branch: string;
  branchFunction: string | null;
  kind: 'if' | 'case' | 'while' | 'switch';
  /** Port for Switch, branch index for Case, 1/0 for then/else, 1 for a loop body. */
  taken: number;
  /** Case: all branch indices that lead to the same function. */
  takenAny?: number[];
  branchCount: number;
  /** The tensor deciding the gate (for While: the cond function's result in the cond frame). */
  predicate: Tensor | null;
  /** TF1 loop switch (predicate from LoopCond). */
  loop: boolean;
}

export function switchGates(frame: Frame, node: number): GateSite[] {
  const c = contexts(frame.scope);
  const gates: GateSite[] = [];
  let ctx = c.table[c.ofNode[node]];
  while (ctx && ctx.depth > 0) {
    const sw = frame.scope.nodes[ctx.node];
    const pred = dataEdges(frame.scope, ctx.node)[1];
    const predNode = pred && pred.kind === 'node' ? frame.scope.nodes[pred.node] : null;
    const loop = !!predNode && predNode.op === 'LoopCond';
    gates.push({
      frame,
      node: ctx.node,
      op: sw.op,
      branch: loop ? (ctx.port === 1 ? 'loop body' : 'loop exit') : ctx.port === 1 ? 'output_true' : 'output_false',
      branchFunction: null,
      kind: 'switch',
      taken: ctx.port,
      branchCount: 2,
      predicate: pred ? { frame, source: pred } : null,
      loop,
    });
    ctx = c.table[ctx.parent];
  }
  return gates.reverse();
}

export function callGate(cg: CallGraph, site: CallSite, stack: CallSite[]): GateSite | null {
  const frame: Frame = { scope: site.caller, stack };
  const node = site.caller.nodes[site.node];
  const pred = dataEdges(site.caller, site.node)[0];
  if (site.kind === 'then' || site.kind === 'else')
    return { frame, node: site.node, op: node.op, branch: site.attr, branchFunction: site.callee, kind: 'if', taken: site.kind === 'then' ? 1 : 0, branchCount: 2, predicate: pred ? { frame, source: pred } : null, loop: false };
  if (site.kind === 'case') {
    const any = site.sameCallee && site.sameCallee.length > 1 ? site.sameCallee : undefined;
    const branch = any ? `branches[${any.join('|')}]` : site.attr;
    return { frame, node: site.node, op: node.op, branch, branchFunction: site.callee, kind: 'case', taken: site.branchIndex, takenAny: any, branchCount: site.branchCount, predicate: pred ? { frame, source: pred } : null, loop: false };
  }
  if (site.kind === 'body') {
    const condSite = (cg.siteAt.get(`${site.caller.id}:${site.node}`) ?? []).find((s) => s.kind === 'cond');
    const condScope = condSite ? cg.byName.get(condSite.callee) : undefined;
    const ret = condScope?.rets[0];
    const predicate = condSite && condScope && ret ? { frame: { scope: condScope, stack: [...stack, condSite] }, source: ret } : null;
    return { frame, node: site.node, op: node.op, branch: 'body', branchFunction: site.callee, kind: 'while', taken: 1, branchCount: 2, predicate, loop: true };
  }
  return null;
}

/** Every gate on the way to `node` in the frame's scope, outermost first. */
export function branchGates(cg: CallGraph, frame: Frame, node: number): GateSite[] {
  const gates: GateSite[] = [];
  frame.stack.forEach((site, i) => {
    const stack = frame.stack.slice(0, i);
    gates.push(...switchGates({ scope: site.caller, stack }, site.node));
    const g = callGate(cg, site, stack);
    if (g) gates.push(g);
  });
  gates.push(...switchGates(frame, node));
  return gates;
}
