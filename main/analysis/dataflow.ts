// Data flow across call boundaries: frames (a scope plus the call sites that led into it),
// function args ↔ call inputs, call outputs ↔ callee returns, captured resources ↔ the
// VarHandleOp/VariableV2 outside, and variables ↔ their checkpoint keys.
import type { MetaGraphIR, CheckpointIR, SavedObjectGraphIR, NodeIR } from '../../shared/ir.ts';
import { boundInput, type CallGraph, type CallSite } from './callgraph.ts';
import { dataEdges, dataUsesOfMarked, describeSource, nodesOf, type Scope, type Source } from './edges.ts';

export interface Frame {
  scope: Scope;
  /** Call sites from the root down to the call into `scope` (empty for the top graph and root functions). */
  stack: CallSite[];
}

export interface Tensor {
  frame: Frame;
  source: Source;
}

export const VARIABLE_OPS = new Set(['VarHandleOp', 'VariableV2', 'Variable', 'VarHandle', '_VarHandlesOp', 'TemporaryVariable']);
export const PLACEHOLDER_OPS = new Set(['Placeholder', 'PlaceholderV2', 'PlaceholderWithDefault', '_Arg', '_DeviceArg']);
export const SHAPE_OPS = new Set(['Shape', 'ShapeN', 'Size', 'Rank', 'TensorListLength', 'TensorArraySizeV3', 'TensorListElementShape', 'VariableShape']);
/** Ops that only forward their first data input. */
export const FORWARD_OPS = new Set(['Identity', 'RefIdentity', 'Snapshot', 'StopGradient', 'PreventGradient', 'Enter', 'RefEnter', 'Exit', 'RefExit', 'NextIteration', 'RefNextIteration', 'DisableCopyOnRead', 'EnsureShape', 'CheckNumerics', 'Print', 'DebugIdentity', 'DebugIdentityV2', 'DebugIdentityV3']);

let siteIds = new WeakMap<CallSite, number>();
let nextSiteId = 1;
function siteId(site: CallSite): number {
  let id = siteIds.get(site);
  if (id === undefined) {
    id = nextSiteId++;
    siteIds.set(site, id);
  }
  return id;
}

export function frameKey(frame: Frame): string {
  return `${frame.scope.id}@${frame.stack.map(siteId).join('.')}`;
}

export function tensorKey(t: Tensor): string {
  const s = t.source;
  return `${frameKey(t.frame)}|${s.kind === 'node' ? `${s.node}:${s.output}` : s.kind === 'arg' ? `a${s.arg}` : s.text}`;
}

export function describeTensor(t: Tensor): string {
  return describeSource(t.frame.scope, t.source);
}

/** The caller-side tensor an arg is bound to, or null when the arg is not bound by the frame. */
export function argBinding(t: Tensor): Tensor | null {
  if (t.source.kind !== 'arg' || t.frame.stack.length === 0) return null;
  const site = t.frame.stack[t.frame.stack.length - 1];
  const k = boundInput(site, t.source.arg);
  if (k === null) return null;
  const edges = dataEdges(site.caller, site.node);
  const src = edges[k];
  if (!src) return null;
  return { frame: { scope: site.caller, stack: t.frame.stack.slice(0, -1) }, source: src };
}

/** The callee return tensors a call node's output comes from (one per reached branch). */
export function callOutputs(cg: CallGraph, t: Tensor): { site: CallSite; tensor: Tensor }[] {
  if (t.source.kind !== 'node') return [];
  const sites = cg.siteAt.get(`${t.frame.scope.id}:${t.source.node}`) ?? [];
  const out: { site: CallSite; tensor: Tensor }[] = [];
  for (const site of sites) {
    if (site.kind === 'cond' || site.kind === 'other') continue;
    const callee = cg.byName.get(site.callee)!;
    const ret = callee.rets[t.source.output];
    if (!ret) continue;
    out.push({ site, tensor: { frame: { scope: callee, stack: [...t.frame.stack, site] }, source: ret } });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Variables and their checkpoint keys.

export interface VariableNaming {
  /** Checkpoint key of a variable-creating node in a scope (top graph or function). */
  keyOfNode(scope: Scope, node: number): string;
  /** Root functions' args bound to saved objects: function name → arg index → checkpoint key. */
  boundArgKey(fn: string, arg: number): string | null;
  /** Asset file (path relative to the model, `assets/…`) a top-level node or bound arg stands for. */
  assetOfNode(scope: Scope, node: number): string | null;
  assetOfArg(fn: string, arg: number): string | null;
  /** The initial value assigned to a variable in the top graph (TF1 initialisers), by checkpoint key. */
  initializerOf(key: string): Tensor | null;
  /** Whether a caller can feed this placeholder (a signature input, or any node when there are no signatures). */
  isFed(scope: Scope, node: number): boolean;
}

function objectPaths(graph: SavedObjectGraphIR): string[] {
  const paths: string[] = new Array(graph.nodes.length).fill('');
  const seen = new Uint8Array(graph.nodes.length);
  if (graph.nodes.length === 0) return paths;
  const queue = [0];
  seen[0] = 1;
  for (let qi = 0; qi < queue.length; qi++) {
    const id = queue[qi];
    for (const c of graph.nodes[id]?.children ?? []) {
      if (c.nodeId < 0 || c.nodeId >= graph.nodes.length || seen[c.nodeId]) continue;
      seen[c.nodeId] = 1;
      paths[c.nodeId] = paths[id] ? `${paths[id]}/${c.name}` : c.name;
      queue.push(c.nodeId);
    }
  }
  return paths;
}

export function objectVariableKey(meta: MetaGraphIR, id: number, checkpoint: CheckpointIR | undefined, paths: string[]): string | null {
  const obj = meta.objectGraph?.nodes[id];
  if (!obj) return null;
  const own = obj.checkpointKeys?.find((k) => k.endsWith('VARIABLE_VALUE'));
  if (own) return own;
  const attr = checkpoint?.objectGraph?.nodes[id]?.attributes.find((a) => a.name === 'VARIABLE_VALUE');
  if (attr) return attr.checkpointKey;
  if (obj.kind !== 'variable') return null;
  return paths[id] ? `${paths[id]}/.ATTRIBUTES/VARIABLE_VALUE` : null;
}

function stringAttr(scope: Scope, node: number, name: string): string {
  const v = scope.nodes[node].attr[name];
  return v && v.type === 's' ? new TextDecoder().decode(v.s) : '';
}

/** Follow a resource/ref tensor back through identities, args and calls to the variable node. */
export function traceVariableNode(cg: CallGraph, t: Tensor, limit = 256): Tensor | null {
  let cur: Tensor | null = t;
  for (let i = 0; cur && i < limit; i++) {
    const s: Source = cur.source;
    if (s.kind === 'missing') return null;
    if (s.kind === 'arg') {
      const b = argBinding(cur);
      if (!b) return cur;
      cur = b;
      continue;
    }
    const node: NodeIR = cur.frame.scope.nodes[s.node];
    if (VARIABLE_OPS.has(node.op)) return cur;
    if (FORWARD_OPS.has(node.op) || node.op === 'IdentityN') {
      const edges = dataEdges(cur.frame.scope, s.node);
      const e: Source | undefined = node.op === 'IdentityN' ? edges[s.output] : edges[0];
      if (!e) return null;
      cur = { frame: cur.frame, source: e };
      continue;
    }
    const outs = callOutputs(cg, cur);
    if (outs.length) {
      cur = outs[0].tensor;
      continue;
    }
    return null;
  }
  return null;
}

export function buildVariableNaming(cg: CallGraph, meta: MetaGraphIR | null, checkpoint?: CheckpointIR): VariableNaming {
  const top = cg.top;
  const topKeys = new Map<number, string>();
  const boundArgs = new Map<string, (string | null)[]>();
  const objectGraph = meta?.objectGraph ?? null;
  const entryKeys = new Set(checkpoint?.entries.map((e) => e.key) ?? []);
  const assetNodes = new Map<number, string>();
  const assetArgs = new Map<string, (string | null)[]>();
  for (const a of meta?.assetFiles ?? []) {
    const node = top.index.get(a.tensorName.split(':')[0]);
    if (node !== undefined) assetNodes.set(node, `assets/${a.filename}`);
  }
  // TF1 before asset_file_def: the asset_filepaths collection lists Consts holding the file name.
  const assetCollection = meta?.collections.asset_filepaths;
  if (assetCollection?.kind === 'node_list')
    for (const name of assetCollection.values) {
      const node = top.index.get(name.split(':')[0]);
      const file = node === undefined ? null : constStrings(top, { kind: 'node', node, output: 0 })?.[0];
      if (node !== undefined && file && !assetNodes.has(node)) assetNodes.set(node, `assets/${file.split('/').pop()}`);
    }
  if (meta && objectGraph) {
    const paths = objectPaths(objectGraph);
    const byVarName = new Map<string, number[]>();
    objectGraph.nodes.forEach((o, id) => {
      if (o.variable) byVarName.set(o.variable.name, [...(byVarName.get(o.variable.name) ?? []), id]);
    });
    for (const [fnName, cf] of Object.entries(objectGraph.concreteFunctions)) {
      const scope = cg.byName.get(fnName);
      if (!scope) continue;
      const nArgs = scope.fn!.signature.inputArgs.length;
      const first = nArgs - cf.boundInputs.length;
      const keys: (string | null)[] = new Array(nArgs).fill(null);
      const assets: (string | null)[] = new Array(nArgs).fill(null);
      cf.boundInputs.forEach((id, j) => {
        if (first + j < 0) return;
        keys[first + j] = objectVariableKey(meta, id, checkpoint, paths);
        const obj = objectGraph.nodes[id];
        const file = obj?.kind === 'asset' && obj.assetFileDefIndex !== undefined ? meta.assetFiles[obj.assetFileDefIndex]?.filename : undefined;
        if (file) assets[first + j] = `assets/${file}`;
      });
      boundArgs.set(fnName, keys);
      assetArgs.set(fnName, assets);
      // Top-level calls of this function bind the same captures to VarHandleOps.
      for (const site of cg.callersOf.get(fnName) ?? []) {
        if (site.caller !== top) continue;
        cf.boundInputs.forEach((_id, j) => {
          const k = boundInput(site, first + j);
          if (k === null) return;
          const src = dataEdges(top, site.node)[k];
          if (!src) return;
          const v = traceVariableNode(cg, { frame: { scope: top, stack: [] }, source: src });
          const key = keys[first + j];
          if (v && v.frame.scope === top && v.source.kind === 'node' && key && !topKeys.has(v.source.node)) topKeys.set(v.source.node, key);
        });
      }
    }
    for (const i of nodesOf(top, (op) => VARIABLE_OPS.has(op))) {
      const n = top.nodes[i];
      if (topKeys.has(i)) continue;
      const shared = stringAttr(top, i, 'shared_name') || n.name;
      const ids = byVarName.get(shared);
      if (ids && ids.length === 1) {
        const key = objectVariableKey(meta, ids[0], checkpoint, paths);
        if (key) topKeys.set(i, key);
      }
    }
  }
  restoreMapping(cg, topKeys);
  // TF2 keeps asset paths in variables assigned at load from the asset placeholders.
  const assigns = nodesOf(top, (op) => op === 'AssignVariableOp' || op === 'Assign');
  for (const i of assetNodes.size === 0 ? [] : assigns) {
    const [target, value] = dataEdges(top, i);
    if (!target || !value || value.kind !== 'node') continue;
    const asset = assetNodes.get(value.node);
    const v = traceVariableNode(cg, { frame: { scope: top, stack: [] }, source: target });
    if (asset && v && v.frame.scope === top && v.source.kind === 'node') assetNodes.set(v.source.node, asset);
  }
  const initializers = new Map<number, Tensor>();
  for (const i of assigns) {
    const [target, value] = dataEdges(top, i);
    if (!target || !value) continue;
    const v = traceVariableNode(cg, { frame: { scope: top, stack: [] }, source: target });
    if (!v || v.frame.scope !== top || v.source.kind !== 'node' || initializers.has(v.source.node)) continue;
    if (value.kind === 'node' && /^(RestoreV2|Restore|RestoreSlice)$/.test(top.nodes[traceForward(top, value.node)].op)) continue;
    initializers.set(v.source.node, { frame: { scope: top, stack: [] }, source: value });
  }
  let initByKey: Map<string, Tensor> | null = null;
  const servingSignatures = (meta?.signatures ?? []).filter((sig) => sig.key !== '__saved_model_init_op');
  const fed = new Set<number>();
  for (const sig of servingSignatures)
    for (const info of Object.values(sig.inputs))
      for (const name of [info.name, ...(info.components ?? [])]) {
        const n = top.index.get(name.replace(/^\^/, '').split(':')[0]);
        if (n !== undefined) fed.add(n);
      }
  const naming: VariableNaming = {
    isFed(scope, node) {
      return scope !== top || servingSignatures.length === 0 || fed.has(node);
    },
    initializerOf(key) {
      if (!initByKey) {
        initByKey = new Map();
        for (const [node, t] of initializers) initByKey.set(naming.keyOfNode(top, node), t);
      }
      return initByKey.get(key) ?? null;
    },
    keyOfNode(scope, node) {
      if (scope === top) {
        const k = topKeys.get(node);
        if (k) return k;
      }
      const n = scope.nodes[node];
      const shared = stringAttr(scope, node, 'shared_name');
      if (shared && entryKeys.has(shared)) return shared;
      if (entryKeys.has(n.name)) return n.name;
      return shared || n.name;
    },
    boundArgKey(fn, arg) {
      return boundArgs.get(fn)?.[arg] ?? null;
    },
    assetOfNode(scope, node) {
      return scope === top ? assetNodes.get(node) ?? null : null;
    },
    assetOfArg(fn, arg) {
      return assetArgs.get(fn)?.[arg] ?? null;
    },
  };
  return naming;
}

/** The producer behind a chain of identities. */
function traceForward(scope: Scope, node: number): number {
  let cur = node;
  for (let i = 0; i < 16 && FORWARD_OPS.has(scope.nodes[cur].op); i++) {
    const e = dataEdges(scope, cur)[0];
    if (!e || e.kind !== 'node') break;
    cur = e.node;
  }
  return cur;
}

/** TF1 savers: RestoreV2/Restore outputs assigned to variables name their checkpoint keys. */
function restoreMapping(cg: CallGraph, keys: Map<number, string>): void {
  const top = cg.top;
  const restores = nodesOf(top, (op) => op === 'RestoreV2' || op === 'Restore' || op === 'RestoreSlice');
  if (restores.length === 0) return;
  // Readers are asked for only of restore ops and the identities after them: only those are kept.
  const marked = new Uint8Array(top.nodes.length);
  for (const i of [...restores, ...nodesOf(top, (op) => FORWARD_OPS.has(op))]) marked[i] = 1;
  const uses = dataUsesOfMarked(top, marked);
  for (const i of restores) {
    const n = top.nodes[i];
    const names = constStrings(top, dataEdges(top, i)[1]);
    if (!names) continue;
    // Output k (the tensor named names[k]) feeds, through identities, an Assign whose input 0 is the variable.
    for (const first of uses.get(i) ?? []) {
      const e = dataEdges(top, first.node)[first.slot];
      if (!e || e.kind !== 'node') continue;
      const key = names[n.op === 'RestoreV2' ? e.output : 0];
      if (key === undefined) continue;
      const queue = [first];
      const seen = new Set<number>();
      for (let qi = 0; qi < queue.length && qi < 64; qi++) {
        const c = queue[qi];
        if (seen.has(c.node)) continue;
        seen.add(c.node);
        const op = top.nodes[c.node].op;
        if (FORWARD_OPS.has(op)) queue.push(...(uses.get(c.node) ?? []));
        else if ((op === 'Assign' || op === 'AssignVariableOp') && c.slot === 1) {
          const v = traceVariableNode(cg, { frame: { scope: top, stack: [] }, source: dataEdges(top, c.node)[0] });
          if (v && v.frame.scope === top && v.source.kind === 'node' && !keys.has(v.source.node)) keys.set(v.source.node, key);
        }
      }
    }
  }
}

function constStrings(scope: Scope, src: Source | undefined): string[] | null {
  if (!src || src.kind !== 'node') return null;
  const n = scope.nodes[src.node];
  if (n.op !== 'Const') return null;
  const v = n.attr.value;
  if (!v || v.type !== 'tensor' || v.tensor.values.kind !== 'string') return null;
  const dec = new TextDecoder();
  return v.tensor.values.values.map((b) => dec.decode(b));
}

// Dataset functions (MapDataset, FlatMapDataset, Interleave, Filter, ...): the args before the
// captured ones are the components of each element of `input_dataset`. When that dataset is
// sliced from tensors (TensorSliceDataset/TensorDataset, possibly behind pass-through datasets),
// the element comes from those tensors: `TextLineDataset(path)` in TF2 reads its file name this way.
const ELEMENT_SOURCES = new Set(['TensorSliceDataset', 'TensorDataset']);
const PASS_THROUGH_DATASETS = new Set([
  'PrefetchDataset', 'CacheDataset', 'CacheDatasetV2', 'ShuffleDataset', 'ShuffleDatasetV2', 'ShuffleDatasetV3', 'ShuffleAndRepeatDataset',
  'ShuffleAndRepeatDatasetV2', 'RepeatDataset', 'TakeDataset', 'SkipDataset', 'OptimizeDataset', 'OptimizeDatasetV2', 'ModelDataset',
  'BatchDataset', 'BatchDatasetV2', 'PaddedBatchDataset', 'PaddedBatchDatasetV2', 'UnbatchDataset', 'RebatchDataset', 'RebatchDatasetV2',
  'ShardDataset', 'AssertCardinalityDataset', 'OptionsDataset', 'MaxIntraOpParallelismDataset', 'PrivateThreadPoolDataset',
  'AssertNextDataset', 'AssertPrevDataset', 'FilterDataset', 'DummyIterationCounter',
]);
const MAX_DATASET_HOPS = 32;

/** The tensor a dataset function's element arg is sliced from, or null when it cannot be told. */
export function datasetElement(t: Tensor): Tensor | null {
  if (t.source.kind !== 'arg' || t.frame.stack.length === 0) return null;
  const site = t.frame.stack[t.frame.stack.length - 1];
  if (site.kind !== 'other' || site.argBase === null || t.source.arg >= site.argFirst) return null;
  const caller: Frame = { scope: site.caller, stack: t.frame.stack.slice(0, -1) };
  let source = dataEdges(site.caller, site.node)[0];
  for (let hop = 0; hop < MAX_DATASET_HOPS && source?.kind === 'node'; hop++) {
    const producer = site.caller.nodes[source.node];
    if (ELEMENT_SOURCES.has(producer.op)) {
      const component = dataEdges(site.caller, source.node)[t.source.arg];
      return component ? { frame: caller, source: component } : null;
    }
    if (!PASS_THROUGH_DATASETS.has(producer.op)) return null;
    source = dataEdges(site.caller, source.node)[0];
  }
  return null;
}
