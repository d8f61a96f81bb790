// GraphDefs hidden in string constants or attrs (e.g. the graph_def input of DatasetFromGraph,
// a known bypass of scanners that read only the outer graph): decoded with the GraphDef reader
// and analysed like the outer graph, depth-limited by the caller.
import type { GraphIR, NodeIR } from '../../shared/ir.ts';
import { decodeGraphDefBytes, mayHoldNestedGraphs, NESTED_GRAPH_MIN_BYTES } from '../formats/graphdef.ts';
import type { CallGraph } from './callgraph.ts';
import type { Frame } from './dataflow.ts';
import { dataEdges } from './edges.ts';

export interface NestedGraph {
  frame: Frame;
  /** The node that holds or consumes the nested graph. */
  node: number;
  label: string;
  graph: GraphIR;
}

const MIN_BYTES = NESTED_GRAPH_MIN_BYTES;
const MAX_CANDIDATES = 64;
/** Ops whose string input is a serialized GraphDef. */
const GRAPH_INPUT_OPS: Record<string, number> = { DatasetFromGraph: 0 };

/** Whether bytes could start a serialized GraphDef worth decoding (field 1, length-delimited). */
function graphLike(bytes: Uint8Array): boolean {
  return bytes.length >= MIN_BYTES && bytes[0] === 0x0a;
}

/**
 * The strings in a node's attrs (s, string tensors, string lists) that could be a GraphDef.
 * Most nodes have none: they cost a look at each attr and no allocation.
 */
function stringValues(node: NodeIR): Uint8Array[] {
  let out: Uint8Array[] | null = null;
  const attrs = Object.values(node.attr);
  for (let k = 0; k < attrs.length; k++) {
    const a = attrs[k]!;
    if (a.type === 's') {
      if (graphLike(a.s)) (out ??= []).push(a.s);
      continue;
    }
    let values: readonly Uint8Array[];
    if (a.type === 'tensor' && a.tensor.values.kind === 'string') values = a.tensor.values.values;
    else if (a.type === 'list' && a.list.s) values = a.list.s;
    else continue;
    for (const bytes of values) if (graphLike(bytes)) (out ??= []).push(bytes);
  }
  return out ?? NONE;
}

const NONE: Uint8Array[] = [];

/** Plausible GraphDef: field 1 (node, length-delimited) first, decodes, has nodes with ops. */
function tryDecode(bytes: Uint8Array): GraphIR | null {
  if (bytes.length < MIN_BYTES || bytes[0] !== 0x0a) return null;
  try {
    const g = decodeGraphDefBytes(bytes, 'nested graph');
    if (!g.nodes.length && !g.library.length) return null;
    if (!g.nodes.every((n) => n.name !== '' && /^[A-Za-z>_][\w>./-]*$/.test(n.op))) return null;
    return g;
  } catch {
    return null;
  }
}

export function nestedGraphs(cg: CallGraph, prefix: string): NestedGraph[] {
  const found: NestedGraph[] = [];
  let tried = 0;
  // A record shared by consecutive nodes (the reader shares identical encodings) that holds no candidate is looked at once.
  let emptyRecord: object | null = null;
  for (const scope of cg.scopes) {
    // The reader knows when no byte string in the whole file could be a GraphDef.
    if (!mayHoldNestedGraphs(scope.nodes)) continue;
    scope.nodes.forEach((node, i) => {
      if (tried >= MAX_CANDIDATES || node.attr === emptyRecord) return;
      // Strings in Const values and attrs of any node.
      const strings = stringValues(node);
      if (strings === NONE) emptyRecord = node.attr;
      for (const bytes of strings) {
        if (++tried > MAX_CANDIDATES) return;
        const g = tryDecode(bytes);
        if (!g) continue;
        const consumer = consumerOf(cg, scope.id, i) ?? i;
        found.push({ frame: { scope, stack: [] }, node: consumer, label: `${prefix}${scope.name ? `${scope.name}/` : ''}${node.name}`, graph: g });
      }
    });
  }
  return found;
}

/** A graph-consuming op fed by this node, so reachability follows the op that runs the graph. */
function consumerOf(cg: CallGraph, scopeId: number, producer: number): number | null {
  const scope = cg.scopes[scopeId];
  for (let j = 0; j < scope.nodes.length; j++) {
    const slot = GRAPH_INPUT_OPS[scope.nodes[j].op];
    if (slot === undefined) continue;
    const src = dataEdges(scope, j)[slot];
    if (src && src.kind === 'node' && src.node === producer) return j;
  }
  return null;
}
