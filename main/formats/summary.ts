// Reduces a ModelIR to the facts a person reads: what `tfaudit inspect` prints, the overview
// panel shows and the PDF cover/appendix lists.
import type { AttrValue, CheckpointIR, GraphIR, MetaGraphIR, ModelIR, NodeIR, SavedObjectIR, TensorIR } from '../../shared/ir.ts';
import type { CheckpointObject, CheckpointSummary, MetaGraphSummary, ModelSummary, TensorPreview, VariableSummary } from '../../shared/summary.ts';

const PREVIEW_VALUES = 16;
const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';
const VARIABLE_OPS = new Set(['VarHandleOp', 'VariableV2', 'Variable', '_VarHandlesOp']);

export function summarizeModel(model: ModelIR): ModelSummary {
  const metaGraphs = model.metaGraphs.map((meta) => summarizeMetaGraph(meta, model.checkpoint ?? null));
  const summary: ModelSummary = {
    path: model.path,
    format: model.format,
    files: model.files,
    tensorflowVersion: model.metaGraphs.find((m) => m.tensorflowVersion)?.tensorflowVersion ?? null,
    metaGraphs,
    checkpoint: model.checkpoint ? summarizeCheckpoint(model.checkpoint) : null,
    warnings: model.warnings,
  };
  if (model.keras) {
    summary.keras = { kerasVersion: model.keras.kerasVersion, backend: model.keras.backend, layerCount: model.keras.layers.length };
  }
  if (model.tflite) {
    summary.tflite = {
      version: model.tflite.version,
      description: model.tflite.description,
      operatorCodes: model.tflite.operatorCodes.map((c) => c.customCode ?? c.builtin),
    };
  }
  return summary;
}

export function opCounts(graph: GraphIR): Record<string, number> {
  return sortedCounts(tallyOps(graph).counts);
}

interface OpTally {
  count: number;
  /** The op declares a variable (VARIABLE_OPS), decided once per op name. */
  variable: boolean;
}

/**
 * One pass over a graph's nodes (400k of them in a big model): how many of each op, and the
 * top-level variable nodes in order. A Map, not an object: an op named `constructor` or
 * `__proto__` is counted like any other.
 */
function tallyOps(graph: GraphIR): { counts: Map<string, OpTally>; variables: NodeIR[] } {
  const counts = new Map<string, OpTally>();
  const variables: NodeIR[] = [];
  const tally = (op: string): OpTally => {
    let entry = counts.get(op);
    if (entry === undefined) {
      entry = { count: 0, variable: VARIABLE_OPS.has(op) };
      counts.set(op, entry);
    }
    entry.count++;
    return entry;
  };
  const nodes = graph.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (tally(node.op).variable) variables.push(node);
  }
  for (const fn of graph.library) for (const node of fn.nodes) tally(node.op);
  return { counts, variables };
}

function sortedCounts(counts: Map<string, OpTally>): Record<string, number> {
  const ops = [...counts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(ops.map((op) => [op, counts.get(op)!.count]));
}

function summarizeMetaGraph(meta: MetaGraphIR, checkpoint: CheckpointIR | null): MetaGraphSummary {
  const { counts, variables } = tallyOps(meta.graph);
  return {
    tags: meta.tags,
    tensorflowVersion: meta.tensorflowVersion,
    producer: meta.graph.producer,
    signatures: meta.signatures,
    opCounts: sortedCounts(counts),
    nodeCount: meta.graph.nodes.length + meta.graph.library.reduce((n, f) => n + f.nodes.length, 0),
    functions: meta.graph.library.map((f) => ({ name: f.name, nodeCount: f.nodes.length })),
    variables: variableSummaries(meta, checkpoint, variables),
  };
}

/** Variables of a meta graph with the checkpoint key that restores each, where it can be told. */
export function graphVariables(meta: MetaGraphIR, checkpoint: CheckpointIR | null): VariableSummary[] {
  return variableSummaries(meta, checkpoint, meta.graph.nodes.filter((n) => VARIABLE_OPS.has(n.op)));
}

function variableSummaries(meta: MetaGraphIR, checkpoint: CheckpointIR | null, variableNodes: readonly NodeIR[]): VariableSummary[] {
  const keys = new Set(checkpoint?.entries.map((e) => e.key) ?? []);
  const objectKeys = objectGraphVariableKeys(meta);
  const out: VariableSummary[] = [];
  const seen = new Set<string>();
  for (const node of variableNodes) {
    const shared = attrString(node.attr['shared_name']);
    const name = shared || node.name;
    if (seen.has(name)) continue;
    seen.add(name);
    const key = objectKeys.get(name) ?? objectKeys.get(node.name) ?? (keys.has(name) ? name : keys.has(node.name) ? node.name : null);
    out.push({ name, checkpointKey: key, dtype: attrDtype(node.attr['dtype']), shape: attrShape(node.attr['shape']) });
  }
  // TF2 models whose variables appear only in the object graph (no top-level handle node).
  const listedKeys = new Set(out.map((v) => v.checkpointKey));
  const objectVariables = new Map<string, NonNullable<SavedObjectIR['variable']>>();
  for (const n of meta.objectGraph?.nodes ?? []) if (n.variable && !objectVariables.has(n.variable.name)) objectVariables.set(n.variable.name, n.variable);
  for (const [name, key] of objectKeys) {
    if (seen.has(name) || listedKeys.has(key)) continue;
    const objVar = objectVariables.get(name);
    seen.add(name);
    listedKeys.add(key);
    out.push({ name, checkpointKey: key, dtype: objVar?.dtype ?? 'DT_INVALID', shape: objVar?.shape?.unknownRank ? null : objVar?.shape?.dims ?? null });
  }
  return out;
}

/** Variable name (as in VarHandleOp shared_name / object graph) → checkpoint key. */
function objectGraphVariableKeys(meta: MetaGraphIR): Map<string, string> {
  const result = new Map<string, string>();
  const graph = meta.objectGraph;
  if (!graph) return result;
  for (const node of graph.nodes) {
    if (!node.variable) continue;
    const key = node.checkpointKeys?.find((k) => k.endsWith('.ATTRIBUTES/VARIABLE_VALUE')) ?? node.checkpointKeys?.[0];
    if (key) result.set(node.variable.name, key);
  }
  return result;
}

export function summarizeCheckpoint(ckpt: CheckpointIR): CheckpointSummary {
  const summary: CheckpointSummary = {
    prefix: ckpt.prefix,
    version: ckpt.version,
    entries: ckpt.entries.map((entry) => {
      const preview = ckpt.preview[entry.key];
      // The object graph is shown decoded (objects), not as escaped bytes.
      const decoded = entry.key === OBJECT_GRAPH_KEY && ckpt.objectGraph;
      const result: TensorPreview = { key: entry.key, dtype: entry.dtype, shape: entry.shape, values: preview && !decoded ? previewValues(preview) : [] };
      return result;
    }),
  };
  if (ckpt.objectGraph) {
    const { objects, truncated } = checkpointObjects(ckpt.objectGraph);
    summary.objects = objects;
    if (truncated) summary.objectsTruncated = true;
  }
  return summary;
}

const MAX_LISTED_OBJECTS = 5000;

/** The object graph as a tree, depth first from the root; an object reached again is listed once more as a reference. */
export function checkpointObjects(graph: NonNullable<CheckpointIR['objectGraph']>): { objects: CheckpointObject[]; truncated: boolean } {
  const objects: CheckpointObject[] = [];
  const firstPath = new Map<number, string[]>();
  const stack: { id: number; path: string[] }[] = graph.nodes.length ? [{ id: 0, path: [] }] : [];
  while (stack.length && objects.length < MAX_LISTED_OBJECTS) {
    const { id, path } = stack.pop()!;
    const node = graph.nodes[id];
    if (!node) continue;
    const seen = firstPath.get(id);
    if (seen) {
      objects.push({ path, attributes: [], sameAs: seen });
      continue;
    }
    firstPath.set(id, path);
    objects.push({ path, attributes: node.attributes.map((a) => ({ name: a.name, checkpointKey: a.checkpointKey })) });
    for (let i = node.children.length - 1; i >= 0; i--) {
      const c = node.children[i]!;
      if (c.nodeId >= 0 && c.nodeId < graph.nodes.length) stack.push({ id: c.nodeId, path: [...path, c.name] });
    }
  }
  return { objects, truncated: stack.length > 0 };
}

export function previewValues(tensor: TensorIR, max = PREVIEW_VALUES): (number | boolean | string)[] {
  const v = tensor.values;
  switch (v.kind) {
    case 'number':
    case 'complex':
      return v.values.slice(0, max);
    case 'bool':
      return v.values.slice(0, max);
    case 'string':
      return v.values.slice(0, max).map(bytesToText);
    default:
      return [];
  }
}

/** Bytes shown as text: UTF-8 when valid, otherwise escaped so nothing hostile reaches a terminal. */
export function bytesToText(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
  }
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function attrString(value: AttrValue | undefined): string {
  return value?.type === 's' ? bytesToText(value.s) : '';
}

function attrDtype(value: AttrValue | undefined): string {
  return value?.type === 'type' ? value.dtype : 'DT_INVALID';
}

function attrShape(value: AttrValue | undefined): number[] | null {
  if (value?.type !== 'shape' || value.shape.unknownRank) return null;
  return value.shape.dims;
}
