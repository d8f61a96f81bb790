// Which tensor of a checkpoint TensorFlow restores into which variable of the model.
//
// Object-based checkpoints (TF2) are bound the way `tf.train.Checkpoint(...).read()` binds
// them: the checkpoint's TrackableObjectGraph is walked from some node in parallel with the
// model's SavedObjectGraph from its root, child by child local name; a checkpoint object with
// a VARIABLE_VALUE attribute restores the model variable it lands on. The node the model's
// root lands on depends on the restore call (`tf.train.Checkpoint(model=loaded)` binds the
// checkpoint root's child `model`), so every node that binds variables is a candidate root.
// Name-based checkpoints (TF1 Saver) are bound by variable name, after the scope remaps the
// auditor gives (`OLD=NEW`, as `tf.compat.v1.train.init_from_checkpoint` takes them).
import type { CheckpointIR, DType, MetaGraphIR, ModelIR } from '../../shared/ir.ts';
import type { CheckpointCoverage, WeightValueComparison } from '../../shared/findings.ts';
import { objectVariableKey, VARIABLE_OPS } from './dataflow.ts';
import { objectPaths } from '../formats/protobuf.ts';
import { OBJECT_GRAPH_KEY } from '../formats/tensorbundle.ts';

/** `OLD=NEW`: checkpoint names under scope OLD restore the model's variables under scope NEW. */
export interface ScopeRemap {
  checkpoint: string;
  model: string;
}

export interface ModelVariable {
  /** The key the analysis uses for the variable (its key in the model's own checkpoint). */
  key: string;
  /** Name a name-based restore uses (TF1 op name, TF2 `variable.name`). */
  name: string;
  dtype: DType | null;
  shape: number[] | null;
  /** SavedObjectGraph node, for object-based binding. */
  nodeId: number | null;
}

export interface CheckpointBinding {
  /** model key → checkpoint key, for every model variable the checkpoint restores. */
  keyMap: Map<string, string>;
  /** Name-based without remaps: a key the analysis derived itself (e.g. through the model's own Saver renames) is looked up as is. */
  byName: boolean;
  coverage: CheckpointCoverage;
}

const MAX_PAIR_VISITS = 2_000_000;
const MAX_LISTED = 200;

export function parseScopeRemap(text: string): ScopeRemap {
  const eq = text.indexOf('=');
  if (eq < 0) throw new Error(`--checkpoint-map ${JSON.stringify(text)}: expected OLD=NEW (checkpoint scope = model scope)`);
  return { checkpoint: text.slice(0, eq), model: text.slice(eq + 1) };
}

/** The variables TensorFlow would restore in the model, with the key the analysis knows them by. */
export function modelVariables(model: ModelIR): ModelVariable[] {
  const meta = model.metaGraphs[0] ?? null;
  const graph = meta?.objectGraph;
  if (meta && graph && graph.nodes.some((n) => n.kind === 'variable')) {
    const paths = objectPaths(graph.nodes.map((n) => n.children)).map((p) => p ?? '');
    const out: ModelVariable[] = [];
    const seen = new Set<string>();
    graph.nodes.forEach((n, id) => {
      if (n.kind !== 'variable' || !n.variable) return;
      const key = objectVariableKey(meta, id, model.checkpoint, paths);
      if (!key || seen.has(key)) return;
      seen.add(key);
      const dims = n.variable.shape && !n.variable.shape.unknownRank ? n.variable.shape.dims : null;
      out.push({ key, name: n.variable.name.replace(/:0$/, ''), dtype: n.variable.dtype, shape: dims && dims.every((d) => d >= 0) ? dims : null, nodeId: id });
    });
    return out;
  }
  if (model.checkpoint) {
    return model.checkpoint.entries
      .filter((e) => e.key !== OBJECT_GRAPH_KEY && e.key !== '')
      .map((e) => ({ key: e.key, name: e.key, dtype: e.dtype, shape: e.shape, nodeId: null }));
  }
  return graphVariables(meta);
}

function graphVariables(meta: MetaGraphIR | null): ModelVariable[] {
  const out: ModelVariable[] = [];
  for (const n of meta?.graph.nodes ?? []) {
    if (!VARIABLE_OPS.has(n.op)) continue;
    const dtypeAttr = n.attr.dtype;
    const shapeAttr = n.attr.shape;
    const dtype = dtypeAttr?.type === 'type' ? dtypeAttr.dtype : null;
    const shape = shapeAttr?.type === 'shape' && !shapeAttr.shape.unknownRank ? shapeAttr.shape.dims : null;
    out.push({ key: n.name, name: n.name, dtype, shape: shape && shape.every((d) => d >= 0) ? shape : null, nodeId: null });
  }
  return out;
}

/**
 * Every way the checkpoint can be bound to the model, the one TensorFlow binds for the usual
 * restore call first. A checkpoint that binds nothing still gets one (empty) binding, which
 * says plainly that it belongs to another model.
 */
export function candidateBindings(model: ModelIR, checkpoint: CheckpointIR, remaps: ScopeRemap[] = []): CheckpointBinding[] {
  const variables = modelVariables(model);
  const objectGraph = model.metaGraphs[0]?.objectGraph;
  if (checkpoint.objectGraph && objectGraph && variables.some((v) => v.nodeId !== null) && remaps.length === 0) {
    const roots = objectRoots(objectGraph, checkpoint.objectGraph, variables);
    if (roots.length) return roots.map((r, i) => finish(checkpoint, variables, r.keyMap, 'object-graph', r.path, roots.length, i === 0 ? roots.slice(1).map((x) => x.path) : [], r.notes));
  }
  return [nameBinding(checkpoint, variables, remaps)];
}

/** The binding TensorFlow uses for the usual restore call. */
export function bindCheckpoint(model: ModelIR, checkpoint: CheckpointIR, remaps: ScopeRemap[] = []): CheckpointBinding {
  return candidateBindings(model, checkpoint, remaps)[0]!;
}

type CkptGraph = NonNullable<CheckpointIR['objectGraph']>;
type SavedGraph = NonNullable<MetaGraphIR['objectGraph']>;

interface RootMatch {
  path: string[];
  keyMap: Map<string, string>;
  notes: string[];
}

/** Candidate roots: checkpoint nodes from which the parallel walk restores at least one variable. */
function objectRoots(saved: SavedGraph, ckpt: CkptGraph, variables: ModelVariable[]): RootMatch[] {
  const keyByNode = new Map(variables.filter((v) => v.nodeId !== null).map((v) => [v.nodeId!, v.key]));
  const ckptPaths = ckptNodePaths(ckpt);
  const rootNames = new Set(saved.nodes[0]?.children.map((c) => c.name) ?? []);
  const budget = { left: MAX_PAIR_VISITS };
  const found: RootMatch[] = [];
  const notes: string[] = [];
  ckpt.nodes.forEach((node, id) => {
    if (ckptPaths[id] === null || !node.children.some((c) => rootNames.has(c.name))) return;
    const keyMap = parallelWalk(saved, ckpt, id, keyByNode, budget);
    if (keyMap.size) found.push({ path: ckptPaths[id]!, keyMap, notes });
  });
  if (budget.left <= 0) notes.push(`object graphs too large: binding stopped after ${MAX_PAIR_VISITS} object pairs`);
  // Most variables first; among equals, the shallowest root (the usual restore call), then the
  // conventional `model`, then the checkpoint's own order.
  const conventional = (m: RootMatch) => (m.path[m.path.length - 1] === 'model' ? 0 : 1);
  found.sort((a, b) => b.keyMap.size - a.keyMap.size || a.path.length - b.path.length || conventional(a) - conventional(b));
  return found;
}

/** Breadth-first like TensorFlow's restore: each checkpoint object binds at most one model object. */
function parallelWalk(saved: SavedGraph, ckpt: CkptGraph, root: number, keyByNode: Map<number, string>, budget: { left: number }): Map<string, string> {
  const keyMap = new Map<string, string>();
  const boundCkpt = new Set<number>([root]);
  const boundSaved = new Set<number>([0]);
  const queue: [number, number][] = [[root, 0]];
  for (let q = 0; q < queue.length && budget.left > 0; q++) {
    budget.left--;
    const [c, s] = queue[q]!;
    const cNode = ckpt.nodes[c];
    const sNode = saved.nodes[s];
    if (!cNode || !sNode) continue;
    const key = keyByNode.get(s);
    const value = cNode.attributes.find((a) => a.name === 'VARIABLE_VALUE');
    if (key && value && !keyMap.has(key)) keyMap.set(key, value.checkpointKey);
    for (const child of cNode.children) {
      if (boundCkpt.has(child.nodeId) || child.nodeId < 0 || child.nodeId >= ckpt.nodes.length) continue;
      const match = sNode.children.find((x) => x.name === child.name);
      if (!match || boundSaved.has(match.nodeId)) continue;
      boundCkpt.add(child.nodeId);
      boundSaved.add(match.nodeId);
      queue.push([child.nodeId, match.nodeId]);
    }
  }
  return keyMap;
}

/** Local names from the checkpoint root to each node (first breadth-first path), null when unreachable. */
function ckptNodePaths(ckpt: CkptGraph): (string[] | null)[] {
  const paths: (string[] | null)[] = ckpt.nodes.map(() => null);
  if (!ckpt.nodes.length) return paths;
  paths[0] = [];
  const queue = [0];
  for (let q = 0; q < queue.length; q++) {
    const id = queue[q]!;
    for (const c of ckpt.nodes[id]!.children) {
      if (c.nodeId < 0 || c.nodeId >= ckpt.nodes.length || paths[c.nodeId] !== null) continue;
      paths[c.nodeId] = [...paths[id]!, c.name];
      queue.push(c.nodeId);
    }
  }
  return paths;
}

function nameBinding(checkpoint: CheckpointIR, variables: ModelVariable[], remaps: ScopeRemap[]): CheckpointBinding {
  const entries = new Set(checkpoint.entries.map((e) => e.key));
  const keyMap = new Map<string, string>();
  for (const v of variables) {
    // With remaps, only what they cover is restored (init_from_checkpoint's assignment_map).
    const candidates = remaps.length ? [...remapped(v.name, remaps), ...remapped(v.key, remaps)] : [v.key, v.name];
    const hit = candidates.find((k) => entries.has(k));
    if (hit) keyMap.set(v.key, hit);
  }
  const notes: string[] = [];
  if (remaps.length) notes.push(`scope remaps: ${remaps.map((r) => `${r.checkpoint || '(root)'} → ${r.model || '(root)'}`).join(', ')}`);
  const binding = finish(checkpoint, variables, keyMap, 'names', null, 0, [], notes, remaps.length > 0);
  if (keyMap.size < variables.length) {
    const hint = scopeHint(checkpoint, variables.filter((v) => !keyMap.has(v.key)));
    if (hint) {
      // The model's own names under another scope: the same model, saved by a renaming Saver.
      binding.coverage.notes.push(hint);
      binding.coverage.differentModel = false;
    }
  }
  return binding;
}

/** Model name under NEW → checkpoint name under OLD. */
function remapped(name: string, remaps: ScopeRemap[]): string[] {
  const out: string[] = [];
  for (const r of remaps) {
    if (name === r.model) out.push(r.checkpoint);
    else if (name.startsWith(r.model)) out.push(`${r.checkpoint}${name.slice(r.model.length)}`);
  }
  return out;
}

/** When the checkpoint holds the model's names under one extra scope, say which remap restores them. */
function scopeHint(checkpoint: CheckpointIR, missing: ModelVariable[]): string | null {
  const counts = new Map<string, number>();
  for (const v of missing)
    for (const e of checkpoint.entries) {
      if (e.key !== v.name && e.key.endsWith(`/${v.name}`)) {
        const scope = e.key.slice(0, e.key.length - v.name.length);
        counts.set(scope, (counts.get(scope) ?? 0) + 1);
      }
    }
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  return best ? `${best[1]} of the missing variables are in the checkpoint under scope ${best[0]}: --checkpoint-map ${best[0]}= restores them as init_from_checkpoint would` : null;
}

function finish(checkpoint: CheckpointIR, variables: ModelVariable[], keyMap: Map<string, string>, method: CheckpointCoverage['method'], root: string[] | null, candidateCount: number, alternatives: string[][], notes: string[], hasRemaps = false): CheckpointBinding {
  const entries = new Map(checkpoint.entries.map((e) => [e.key, e]));
  const mismatches: CheckpointCoverage['mismatches'] = [];
  for (const v of variables) {
    const ck = keyMap.get(v.key);
    const e = ck === undefined ? undefined : entries.get(ck);
    if (!ck || !e) continue;
    if (v.dtype && e.dtype !== v.dtype) mismatches.push({ variable: v.key, checkpointKey: ck, reason: `dtype ${e.dtype} in the checkpoint, ${v.dtype} in the model` });
    else if (v.shape && (e.shape.length !== v.shape.length || e.shape.some((d, i) => d !== v.shape![i]))) mismatches.push({ variable: v.key, checkpointKey: ck, reason: `shape [${e.shape.join(',')}] in the checkpoint, [${v.shape.join(',')}] in the model` });
  }
  const used = new Set(keyMap.values());
  const extra = checkpoint.entries.map((e) => e.key).filter((k) => k !== OBJECT_GRAPH_KEY && k !== '' && !used.has(k));
  const missing = variables.filter((v) => !keyMap.has(v.key)).map((v) => v.key);
  const coverage: CheckpointCoverage = {
    method,
    root: root ? root.join('/') : null,
    rootPath: root ? [...root] : null,
    restoreCall: method === 'object-graph' ? restoreCall(root ?? []) : keyMap.size ? 'tf.compat.v1.train.Saver(var_list).restore(sess, prefix)' : null,
    matched: keyMap.size,
    total: variables.length,
    missing: missing.slice(0, MAX_LISTED),
    extra: extra.slice(0, MAX_LISTED),
    extraCount: extra.length,
    mismatches,
    refused: mismatches.length ? `TensorFlow will refuse this checkpoint: ${mismatches.slice(0, 3).map((m) => `${m.variable} has ${m.reason}`).join('; ')}` : null,
    differentModel: variables.length > 0 && keyMap.size === 0,
    candidates: candidateCount,
    alternatives: alternatives.map((p) => p.join('/')),
    notes: [...notes],
  };
  if (missing.length > MAX_LISTED) coverage.notes.push(`${missing.length - MAX_LISTED} more missing variables not listed`);
  return { keyMap, byName: method === 'names' && !hasRemaps, coverage };
}

/** The Python call that binds the model's root at this checkpoint path. */
export function restoreCall(path: string[]): string {
  if (path.length === 0) return 'tf.train.Checkpoint(root=loaded).read(prefix).expect_partial()';
  const id = (s: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : null);
  if (path.length === 1 && id(path[0]!)) return `tf.train.Checkpoint(${path[0]}=loaded).read(prefix).expect_partial()`;
  return `tf.train.Checkpoint(root=holder).read(prefix).expect_partial(), with loaded tracked at ${path.map((p) => JSON.stringify(p)).join(' → ')} under holder`;
}

/** Where a Keras weight sits, the same in a `.keras` archive's model.weights.h5 and a `.weights.h5`; legacy `.h5` models keep theirs under `model_weights/`. */
function kerasWeightPath(path: string): string {
  return path.replace(/^\/+/, '').replace(/^model_weights\//, '');
}

/**
 * A Keras weights file against a `.keras` / `.h5` model: which of the model's weights it sets,
 * which it lacks, which it adds, and which shapes disagree (Keras refuses to load those).
 * The model's layers are code Keras runs, so no branch is evaluated: this is coverage only.
 */
export function bindKerasWeights(modelWeights: { path: string; dtype: string; shape: number[] }[], fileWeights: { path: string; dtype: string; shape: number[] }[]): CheckpointBinding {
  const inFile = new Map(fileWeights.map((w) => [kerasWeightPath(w.path), w]));
  const keyMap = new Map<string, string>();
  const mismatches: CheckpointCoverage['mismatches'] = [];
  const missing: string[] = [];
  for (const w of modelWeights) {
    const hit = inFile.get(kerasWeightPath(w.path));
    if (!hit) {
      missing.push(w.path);
      continue;
    }
    keyMap.set(w.path, hit.path);
    if (hit.shape.length !== w.shape.length || hit.shape.some((d, i) => d !== w.shape[i])) mismatches.push({ variable: w.path, checkpointKey: hit.path, reason: `shape [${hit.shape.join(',')}] in the weights file, [${w.shape.join(',')}] in the model` });
    else if (hit.dtype !== w.dtype) mismatches.push({ variable: w.path, checkpointKey: hit.path, reason: `dtype ${hit.dtype} in the weights file, ${w.dtype} in the model` });
  }
  const used = new Set(keyMap.values());
  const extra = fileWeights.map((w) => w.path).filter((p) => !used.has(p));
  const notes = ["Keras layers are Python code Keras runs: the weights' effect on branches is not evaluated; shown is which weights this file sets and which of them it changes"];
  const v3 = (ws: { path: string }[]) => ws.some((w) => /(^|\/)vars\/\d+$/.test(w.path));
  const otherLayout = keyMap.size === 0 && modelWeights.length > 0 && fileWeights.length > 0 && v3(modelWeights) !== v3(fileWeights);
  if (otherLayout) notes.push(`the weights file uses the ${v3(fileWeights) ? 'Keras 3' : 'legacy HDF5'} layout and the model the ${v3(modelWeights) ? 'Keras 3' : 'legacy HDF5'} one: Keras matches those by layer order, which is not mapped here`);
  const shapeMismatch = mismatches.filter((m) => m.reason.startsWith('shape'));
  const coverage: CheckpointCoverage = {
    method: 'keras-weights',
    root: null,
    rootPath: null,
    restoreCall: 'model.load_weights(path)',
    matched: keyMap.size,
    total: modelWeights.length,
    missing: missing.slice(0, MAX_LISTED),
    extra: extra.slice(0, MAX_LISTED),
    extraCount: extra.length,
    mismatches,
    refused: shapeMismatch.length ? `Keras will refuse these weights: ${shapeMismatch.slice(0, 3).map((m) => `${m.variable} has ${m.reason}`).join('; ')}` : null,
    differentModel: modelWeights.length > 0 && keyMap.size === 0 && !otherLayout,
    candidates: 1,
    alternatives: [],
    notes,
  };
  return { keyMap, byName: false, coverage };
}

const MAX_VALUES_LISTED = 50;

type KerasWeight = { path: string; dtype: string; shape: number[] };
export type WeightValueResult = { compared: true; elementsChanged: number; elements: number; maxAbsDiff: number | null } | { compared: false; reason: string };

/** The matched weights whose values can be compared (same shape and dtype), as (model path, file path, elements). */
export function kerasValuePairs(modelWeights: KerasWeight[], binding: CheckpointBinding): { variable: string; checkpointKey: string; elements: number; skip: string | null }[] {
  const mismatched = new Map(binding.coverage.mismatches.map((m) => [m.variable, m.reason]));
  const out: { variable: string; checkpointKey: string; elements: number; skip: string | null }[] = [];
  for (const w of modelWeights) {
    const ck = binding.keyMap.get(w.path);
    if (ck === undefined) continue;
    const reason = mismatched.get(w.path);
    out.push({ variable: w.path, checkpointKey: ck, elements: w.shape.reduce((a, d) => a * d, 1), skip: reason ? `${reason}: values not compared` : null });
  }
  return out;
}

/** Changed / unchanged / not compared, from one result per pair (in the same order). */
export function weightValueComparison(pairs: { variable: string; checkpointKey: string }[], results: WeightValueResult[], limits: WeightValueComparison['limits']): WeightValueComparison {
  const out: WeightValueComparison = { changed: 0, unchanged: 0, notCompared: 0, changedWeights: [], notComparedWeights: [], limits };
  pairs.forEach((p, i) => {
    const r = results[i] ?? { compared: false, reason: 'no comparison result' };
    if (!r.compared) {
      out.notCompared++;
      if (out.notComparedWeights.length < MAX_VALUES_LISTED) out.notComparedWeights.push({ variable: p.variable, reason: r.reason });
    } else if (r.elementsChanged > 0) {
      out.changed++;
      if (out.changedWeights.length < MAX_VALUES_LISTED) out.changedWeights.push({ variable: p.variable, checkpointKey: p.checkpointKey, elementsChanged: r.elementsChanged, elements: r.elements, maxAbsDiff: r.maxAbsDiff });
    } else out.unchanged++;
  });
  return out;
}
