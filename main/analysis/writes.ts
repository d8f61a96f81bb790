// Variables the graph writes itself. A checkpoint only gives a variable's value when the model is
// loaded; every assignment an entry point can run (signatures, the init op, saved functions, a
// bare graph's nodes) may change it before a gate reads it. TensorFlow's own restore and TF1
// initialisers are not such writes. A write is a simple counter step when it adds a constant
// with no gate (or loop) on the way to it: those can be simulated call by call.
import type { CallGraph, CallSite } from './callgraph.ts';
import { traceVariableNode, type Tensor, type VariableNaming } from './dataflow.ts';
import { dataEdges, describeNode, nodesOf, type Source } from './edges.ts';
import type { Evaluator, Val } from './evaluate.ts';
import { branchGates } from './gates.ts';
import { allCallPaths, callPath, entryIds, type ReachInfo } from './reachability.ts';

export interface VariableWrite {
  key: string;
  op: string;
  node: string;
  /** Entry point labels that run the write. */
  entries: string[];
  /** The constant added on every run (AssignAdd/AssignSub), when it is one and nothing gates the write. */
  step: number | null;
  /** The constant it sets the variable to (AssignVariableOp/Assign of a constant), gated or not. */
  value: Val | null;
  /** Why it is not a simple counter step, when it is not. */
  why: string | null;
  /** How many times one call of an entry may run the write (Infinity when not known). */
  paths: number;
}

const WRITE_OPS = /^(AssignVariableOp|AssignAddVariableOp|AssignSubVariableOp|Assign|AssignAdd|AssignSub|Resource(Scatter\w+|StridedSliceAssign|Apply\w+|SparseApply\w+|CountUpTo)|Scatter(Update|Add|Sub|Mul|Div|Min|Max|NdUpdate|NdAdd|NdSub|NdMin|NdMax)|StridedSliceAssign|(Sparse)?Apply[A-Z]\w*|CountUpTo)$/;
const RESTORE = /^(RestoreV2|Restore|RestoreSlice)$/;
const PASS = /^(Identity|Snapshot|RefIdentity)$/;

function fromRestore(cg: CallGraph, scope: CallGraph['top'], src: Source | undefined): boolean {
  let cur = src;
  for (let i = 0; i < 16 && cur && cur.kind === 'node'; i++) {
    const op = scope.nodes[cur.node].op;
    if (RESTORE.test(op)) return true;
    if (!PASS.test(op)) return false;
    cur = dataEdges(scope, cur.node)[0];
  }
  return false;
}

export function variableWrites(cg: CallGraph, naming: VariableNaming, reach: ReachInfo, constants: Evaluator): Map<string, VariableWrite[]> {
  const out = new Map<string, VariableWrite[]>();
  for (const scope of cg.scopes) {
    let stack: ReturnType<typeof callPath> | null = null;
    for (const i of nodesOf(scope, (op) => WRITE_OPS.test(op))) {
      const n = scope.nodes[i];
      const ids = entryIds(reach, scope, i).filter((e) => reach.entries[e].kind !== 'saver');
      if (!ids.length) continue;
      const [target, value] = dataEdges(scope, i);
      if (!target) continue;
      if (fromRestore(cg, scope, value)) continue;
      stack ??= callPath(cg, reach, scope);
      const frame = { scope, stack };
      const v = traceVariableNode(cg, { frame, source: target });
      let key: string | null = null;
      if (v?.source.kind === 'node') key = naming.keyOfNode(v.frame.scope, v.source.node);
      else if (v?.source.kind === 'arg' && v.frame.scope.name) key = naming.boundArgKey(v.frame.scope.name, v.source.arg);
      if (!key) key = '*';
      const entries = ids.map((e) => reach.entries[e].label);
      // TF2 asset paths and TF1 initialisers only (re)state the value the model is loaded with.
      if (scope === cg.top && value?.kind === 'node' && naming.assetOfNode(scope, value.node)) continue;
      const init = key !== '*' ? naming.initializerOf(key) : null;
      if (init && scope === cg.top && value && init.source.kind === value.kind && JSON.stringify(init.source) === JSON.stringify(value) && ids.every((e) => reach.entries[e].kind === 'graph')) continue;
      let step: number | null = null;
      let set: Val | null = null;
      let why: string | null = null;
      const add = /^(AssignAddVariableOp|AssignAdd)$/.test(n.op) ? 1 : /^(AssignSubVariableOp|AssignSub)$/.test(n.op) ? -1 : 0;
      const assign = /^(AssignVariableOp|Assign)$/.test(n.op);
      // The value written, on every call path into the function (each caller may pass other arguments).
      const paths = scope === cg.top ? { paths: [stack], complete: true } : allCallPaths(cg, reach, scope);
      const written = value ? paths.paths.map((p) => constants.evaluate({ frame: { scope, stack: p }, source: value } as Tensor)) : [];
      const single = paths.complete && written.length > 0 && written.every((r) => r.ok && sameVal(r.value, (written[0] as { value: Val }).value)) ? (written[0] as { value: Val }).value : null;
      if (!assign && !add) why = `${n.op} changes it in a way that is not simulated`;
      else if (!single) why = `${n.op} writes a value that is not one constant`;
      else if (assign) set = single;
      else if (branchGates(cg, frame, i).length) why = 'the write is under a condition or in a loop';
      else if (single.data.length !== 1 || typeof single.data[0] !== 'number') why = 'the amount added is not a constant number';
      else step = add * single.data[0];
      const w: VariableWrite = { key, op: n.op, node: describeNode(scope, i), entries, step, value: set, why, paths: !paths.complete ? Infinity : runsPerCall(paths.paths) };
      out.set(key, [...(out.get(key) ?? []), w]);
    }
  }
  return out;
}

/** How many times one call of an entry can run a write: the most paths that start at the same call. */
function runsPerCall(paths: CallSite[][]): number {
  const groups = new Map<string, number>();
  for (const p of paths) {
    const key = p.length ? `${p[0].caller.id}:${p[0].caller.id === 0 ? p[0].node : ''}` : 'direct';
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return Math.max(1, ...groups.values());
}

function sameVal(a: Val, b: Val): boolean {
  return a.dtype === b.dtype && a.shape.join() === b.shape.join() && a.data.every((x, i) => x === b.data[i]);
}

/** Writes that may change a key: its own, and writes whose target could not be traced. */
export function writesOf(writes: Map<string, VariableWrite[]>, key: string): VariableWrite[] {
  return [...(writes.get(key) ?? []), ...(writes.get('*') ?? [])];
}
