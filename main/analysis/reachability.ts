// What runs when: at load (__saved_model_init_op, main_op/legacy_init_op, table initialisers,
// resource initialiser functions), per signature, per object-graph function (callable after
// tf.saved_model.load), through the SaverDef only (TensorFlow's own save/restore machinery), or
// never (dead library functions). Also the least-gated call path into every function.
import type { MetaGraphIR } from '../../shared/ir.ts';
import type { Reachability } from '../../shared/findings.ts';
import type { CallGraph, CallSite } from './callgraph.ts';
import { consumersOf, edgesOf, INPUT_NODE, parseInputName, type Scope } from './edges.ts';
import { VARIABLE_OPS } from './dataflow.ts';
import { switchContext } from './gates.ts';

export type EntryKind = 'load' | 'signature' | 'graph' | 'saver';

export interface EntryPoint {
  label: string;
  kind: EntryKind;
  topNodes: number[];
  functions: string[];
}

export interface ReachInfo {
  entries: EntryPoint[];
  /** Entry ids reaching each top-level node. */
  topEntries: (number[] | undefined)[];
  /** Entry ids reaching each function scope (by scope id). */
  fnEntries: (number[] | undefined)[];
  /** Least-gated call site into each function (by scope id); null for roots / unreached. */
  parent: (CallSite | null)[];
  /** Functions that are entry roots themselves (object-graph functions). */
  rootFunctions: Set<number>;
}

const INIT_COLLECTIONS = ['saved_model_main_op', 'legacy_init_op', 'table_initializer'];
const RANK: Record<EntryKind, number> = { load: 3, signature: 2, graph: 1, saver: 0 };

function tensorNode(top: Scope, name: string): number | null {
  if (!name) return null;
  const p = parseInputName(name);
  return top.index.get(p.node) ?? null;
}

/** Paths of saved objects (root children by name), for entry labels. */
function objectLabels(meta: MetaGraphIR): Map<number, string> {
  const labels = new Map<number, string>();
  const graph = meta.objectGraph;
  if (!graph || graph.nodes.length === 0) return labels;
  labels.set(0, '');
  const queue = [0];
  for (let qi = 0; qi < queue.length; qi++) {
    const id = queue[qi];
    for (const c of graph.nodes[id]?.children ?? []) {
      if (labels.has(c.nodeId) || !graph.nodes[c.nodeId]) continue;
      labels.set(c.nodeId, labels.get(id) ? `${labels.get(id)}.${c.name}` : c.name);
      queue.push(c.nodeId);
    }
  }
  return labels;
}

export function findEntryPoints(cg: CallGraph, meta: MetaGraphIR | null): EntryPoint[] {
  const top = cg.top;
  const entries: EntryPoint[] = [];
  const nodesOf = (names: string[]) => names.map((n) => tensorNode(top, n)).filter((n): n is number => n !== null);
  if (meta) {
    for (const sig of meta.signatures) {
      const outs = Object.values(sig.outputs).flatMap((t) => [t.name, ...(t.components ?? [])]);
      const isInit = sig.key === '__saved_model_init_op';
      entries.push({ label: isInit ? 'load: __saved_model_init_op' : `signature: ${sig.key}`, kind: isInit ? 'load' : 'signature', topNodes: nodesOf(outs), functions: [] });
    }
    for (const c of INIT_COLLECTIONS) {
      const col = meta.collections[c];
      if (col && col.kind === 'node_list' && col.values.length) entries.push({ label: `load: ${c}`, kind: 'load', topNodes: nodesOf(col.values), functions: [] });
    }
    if (meta.saverDef) {
      const s = meta.saverDef;
      entries.push({ label: 'saver: restore (runs at load)', kind: 'saver', topNodes: nodesOf([s.restoreOpName]), functions: [] });
      entries.push({ label: 'saver: save', kind: 'saver', topNodes: nodesOf([s.saveTensorName, s.filenameTensorName]), functions: [] });
    }
    const graph = meta.objectGraph;
    if (graph) {
      const labels = objectLabels(meta);
      const covered = new Set<string>();
      const parents = new Map<number, string>();
      graph.nodes.forEach((o) => o.children.forEach((c) => parents.has(c.nodeId) || parents.set(c.nodeId, o.kind)));
      graph.nodes.forEach((obj, id) => {
        const fns = (obj.concreteFunctions ?? []).filter((f) => cg.byName.has(f) && !covered.has(f));
        if (!fns.length) return;
        fns.forEach((f) => covered.add(f));
        const label = labels.get(id);
        if (label === undefined) return;
        // Functions of a resource object (_create_resource/_initialize) run when the model is loaded.
        const parentKind = parents.get(id) ?? '';
        const atLoad = parentKind === 'resource' || parentKind === 'asset';
        entries.push({ label: `${atLoad ? 'load' : 'object'}: ${label || '(root)'}`, kind: atLoad ? 'load' : 'signature', topNodes: [], functions: fns });
      });
    }
  }
  if (!entries.some((e) => e.kind === 'signature')) {
    // No serving signature: any top-level node outside the saver may be fetched by name (TF1 session, bare GraphDef).
    const saver = new Uint8Array(top.nodes.length);
    const stack = entries.filter((e) => e.kind === 'saver').flatMap((e) => e.topNodes);
    while (stack.length) {
      const v = stack.pop()!;
      if (saver[v]) continue;
      saver[v] = 1;
      for (let k = top.inputStart[v]; k < top.inputStart[v + 1]; k++) if ((top.inputKind[k] & 3) === INPUT_NODE) stack.push(top.inputRef[k]);
    }
    entries.push({ label: 'graph', kind: 'graph', topNodes: top.nodes.map((_, i) => i).filter((i) => !saver[i]), functions: [] });
  }
  return entries;
}

export function computeReach(cg: CallGraph, entries: EntryPoint[]): ReachInfo {
  const top = cg.top;
  const n = top.nodes.length;
  const topEntries: (number[] | undefined)[] = new Array(n);
  const fnEntries: (number[] | undefined)[] = new Array(cg.scopes.length);
  const mark = new Int32Array(n).fill(-1);
  const fnMark = new Int32Array(cg.scopes.length).fill(-1);
  const rootFunctions = new Set<number>();
  const servingRoots = new Set<number>();
  entries.forEach((entry, e) => {
    const stack = [...entry.topNodes];
    const fnQueue: number[] = [];
    for (const f of entry.functions) {
      const s = cg.byName.get(f);
      if (s) {
        fnQueue.push(s.id);
        rootFunctions.add(s.id);
        if (entry.kind === 'load') servingRoots.add(s.id);
      }
    }
    while (stack.length) {
      const v = stack.pop()!;
      if (mark[v] === e) continue;
      mark[v] = e;
      (topEntries[v] ??= []).push(e);
      for (const s of cg.siteAt.get(`0:${v}`) ?? []) fnQueue.push(cg.byName.get(s.callee)!.id);
      for (let k = top.inputStart[v]; k < top.inputStart[v + 1]; k++) if ((top.inputKind[k] & 3) === INPUT_NODE && mark[top.inputRef[k]] !== e) stack.push(top.inputRef[k]);
    }
    while (fnQueue.length) {
      const f = fnQueue.pop()!;
      if (fnMark[f] === e) continue;
      fnMark[f] = e;
      (fnEntries[f] ??= []).push(e);
      for (const s of cg.sitesByCaller.get(f) ?? []) fnQueue.push(cg.byName.get(s.callee)!.id);
    }
  });
  // Paths from signatures, the graph and load-time roots come first: that is what serving runs.
  // Object-graph functions (callable from Python after tf.saved_model.load) only fill the rest.
  const parent = leastGatedParents(cg, topEntries, servingRoots, true, null);
  const rest = leastGatedParents(cg, topEntries, rootFunctions, false, parent);
  return { entries, topEntries, fnEntries, parent: parent.map((p, i) => p ?? rest[i]), rootFunctions };
}

const GATED: ReadonlySet<string> = new Set(['then', 'else', 'case', 'body']);

/**
 * Bucketed shortest paths over call sites: gated calls (branches, loop bodies, calls under a
 * Switch) cost 1. `fixed` marks functions already given a path by an earlier pass.
 */
function leastGatedParents(cg: CallGraph, topEntries: (number[] | undefined)[], roots: Set<number>, fromTop: boolean, fixed: (CallSite | null)[] | null): (CallSite | null)[] {
  const count = cg.scopes.length;
  const dist = new Float64Array(count).fill(Infinity);
  const parent: (CallSite | null)[] = new Array(count).fill(null);
  const buckets: number[][] = [];
  const push = (f: number, d: number) => (buckets[d] ??= []).push(f);
  const cost = (site: CallSite) => (GATED.has(site.kind) ? 1 : 0) + (switchContext(site.caller, site.node).depth > 0 ? 1 : 0);
  const relax = (site: CallSite, base: number) => {
    const callee = cg.byName.get(site.callee)!.id;
    if (fixed?.[callee] || roots.has(callee)) return;
    const d = base + cost(site);
    if (d < dist[callee]) {
      dist[callee] = d;
      parent[callee] = site;
      push(callee, d);
    }
  };
  for (const r of roots) {
    if (fixed?.[r]) continue;
    dist[r] = 0;
    push(r, 0);
  }
  if (fromTop) for (const site of cg.sitesByCaller.get(0) ?? []) if (topEntries[site.node]) relax(site, 0);
  for (let d = 0; d < buckets.length; d++) {
    const bucket = buckets[d];
    if (!bucket) continue;
    for (let i = 0; i < bucket.length; i++) {
      const f = bucket[i];
      if (dist[f] !== d) continue;
      for (const site of cg.sitesByCaller.get(f) ?? []) relax(site, d);
    }
  }
  return parent;
}

/** The chain of call sites from a root into `scope` (empty for the top graph and roots). */
export function callPath(cg: CallGraph, reach: ReachInfo, scope: Scope): CallSite[] {
  const path: CallSite[] = [];
  const seen = new Set<number>();
  let cur = scope;
  while (cur !== cg.top && !seen.has(cur.id)) {
    seen.add(cur.id);
    let site = reach.parent[cur.id];
    if (!site) {
      if (reach.rootFunctions.has(cur.id)) break;
      // Dead function: walk up through any caller, for evidence only.
      site = (cg.callersOf.get(cur.name!) ?? []).find((s) => !seen.has(s.caller.id)) ?? null;
      if (!site) break;
    }
    path.push(site);
    cur = site.caller;
  }
  return path.reverse();
}

export function entryIds(reach: ReachInfo, scope: Scope, node: number): number[] {
  return (scope.id === 0 ? reach.topEntries[node] : reach.fnEntries[scope.id]) ?? [];
}

export function reachabilityOf(reach: ReachInfo, scope: Scope, node: number): Reachability {
  const ids = entryIds(reach, scope, node);
  if (!ids.length) return 'dead';
  let best: EntryKind = 'saver';
  for (const id of ids) if (RANK[reach.entries[id].kind] > RANK[best]) best = reach.entries[id].kind;
  return best;
}

export function entryLabels(reach: ReachInfo, scope: Scope, node: number): string[] {
  return entryIds(reach, scope, node).map((id) => reach.entries[id].label);
}

const SAVE_OPS = new Set(['SaveV2', 'Save', 'SaveSlices']);
const RESTORE_OPS = new Set(['RestoreV2', 'Restore', 'RestoreSlice']);
const PASS = new Set(['Identity', 'ReadVariableOp', 'Snapshot', 'RefIdentity']);

/** True when a source (through identities and reads) is a variable. */
function fromVariable(scope: Scope, src: { kind: string; node?: number }, limit = 8): boolean {
  let cur = src;
  for (let i = 0; i < limit && cur.kind === 'node'; i++) {
    const n = scope.nodes[cur.node!];
    if (VARIABLE_OPS.has(n.op)) return true;
    if (!PASS.has(n.op)) return false;
    const next = edgesOf(scope, cur.node!).find((e) => !e.control);
    if (!next) return false;
    cur = next.source;
  }
  return false;
}

/**
 * TensorFlow's Saver shape, for graphs that carry no SaverDef (bare GraphDefs): a save op whose
 * tensors are all variables, a restore op whose outputs are all assigned to variables, or a
 * MergeV2Checkpoints that runs after such a save.
 */
export function saverShaped(cg: CallGraph, scope: Scope, node: number): boolean {
  const n = scope.nodes[node];
  if (SAVE_OPS.has(n.op)) {
    const data = edgesOf(scope, node).filter((e) => !e.control).slice(n.op === 'SaveSlices' ? 3 : n.op === 'Save' ? 2 : 3);
    return data.length > 0 && data.every((e) => fromVariable(scope, e.source));
  }
  if (RESTORE_OPS.has(n.op)) {
    const consumers = consumersOf(scope, node);
    if (!consumers.length) return false;
    return consumers.every((c) => {
      let cur = c;
      for (let i = 0; i < 8; i++) {
        const op = scope.nodes[cur].op;
        if (op === 'Assign' || op === 'AssignVariableOp') return fromVariable(scope, edgesOf(scope, cur).find((e) => !e.control)!.source);
        if (!PASS.has(op)) return false;
        const next = consumersOf(scope, cur);
        if (next.length !== 1) return false;
        cur = next[0];
      }
      return false;
    });
  }
  if (n.op === 'MergeV2Checkpoints') {
    const seen = new Set<number>();
    const stack = [node];
    while (stack.length && seen.size < 64) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      if (v !== node && SAVE_OPS.has(scope.nodes[v].op)) return saverShaped(cg, scope, v);
      for (const e of edgesOf(scope, v)) if (e.source.kind === 'node') stack.push(e.source.node);
    }
  }
  return false;
}


/**
 * Every call path from an entry into `scope` (up to `limit`), for verdicts that must hold on all
 * of them: a function called from two places sees different arguments on each. `complete` is
 * false when paths were left out (the limit, or call cycles).
 */
export function allCallPaths(cg: CallGraph, reach: ReachInfo, scope: Scope, limit = 16): { paths: CallSite[][]; complete: boolean } {
  let complete = true;
  const walk = (s: Scope, seen: Set<number>): CallSite[][] => {
    if (s === cg.top) return [[]];
    const out: CallSite[][] = [];
    // A saved function Python can call directly: its args are the caller's, unbound.
    if (reach.rootFunctions.has(s.id)) out.push([]);
    for (const site of cg.callersOf.get(s.name!) ?? []) {
      const callerReached = site.caller === cg.top ? !!reach.topEntries[site.node]?.length : !!reach.fnEntries[site.caller.id]?.length;
      if (!callerReached) continue;
      if (seen.has(site.caller.id)) {
        complete = false;
        continue;
      }
      for (const p of walk(site.caller, new Set([...seen, site.caller.id]))) {
        if (out.length >= limit) {
          complete = false;
          return out;
        }
        out.push([...p, site]);
      }
    }
    return out;
  };
  return { paths: walk(scope, new Set([scope.id])), complete };
}
