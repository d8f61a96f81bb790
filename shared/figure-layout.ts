// The one layout of an evidence figure (variable → predicate → control flow → branch → unsafe
// op), shared by the renderer's branch view and the PDF. Text is measured by an estimate, not
// the DOM, so Node and the browser produce the same coordinates.
import dagre, { type GraphLabel } from '@dagrejs/dagre';
import type { Figure, FigureNode } from './findings.ts';

export type FigureNodeKind = FigureNode['kind'];

export interface FigureKindStyle {
  fill: string;
  stroke: string;
  text: string;
  /** Short caption drawn above the label, e.g. `VARIABLE`. */
  caption: string;
}

export const FIGURE_STYLE: {
  kinds: Record<FigureNodeKind, FigureKindStyle>;
  edge: string;
  edgeLabel: string;
  active: { stroke: string; strokeWidth: number };
  fontFamily: string;
  fontSize: number;
  captionSize: number;
  /** Average glyph advance as a fraction of the font size (monospace-ish estimate). */
  charWidth: number;
} = {
  kinds: {
    variable: { fill: '#e8f0fe', stroke: '#3867d6', text: '#1b2a4a', caption: 'VARIABLE' },
    input: { fill: '#e6f4ea', stroke: '#2e7d32', text: '#1b3a1f', caption: 'INPUT' },
    environment: { fill: '#fff0f6', stroke: '#b83280', text: '#3d0f27', caption: 'RUN-TIME SOURCE' },
    constant: { fill: '#f1f3f4', stroke: '#6b7280', text: '#262b33', caption: 'CONSTANT' },
    predicate: { fill: '#fff8e1', stroke: '#b7791f', text: '#3d2c05', caption: 'PREDICATE' },
    control: { fill: '#f3e8fd', stroke: '#7b3fb3', text: '#2e1745', caption: 'CONTROL FLOW' },
    branch: { fill: '#fdf0e6', stroke: '#c05621', text: '#3f1e08', caption: 'BRANCH' },
    call: { fill: '#eef2f7', stroke: '#4a5568', text: '#1f2733', caption: 'CALL' },
    unsafe: { fill: '#fde8e8', stroke: '#c53030', text: '#4a0d0d', caption: 'UNSAFE OP' },
  },
  edge: '#5f6b7a',
  edgeLabel: '#3c4550',
  active: { stroke: '#d00000', strokeWidth: 2.5 },
  fontFamily: 'Roboto',
  fontSize: 10,
  captionSize: 7,
  charWidth: 0.6,
};

export interface LayoutOptions {
  /** Longest label line, in characters, before it wraps. */
  maxLineChars?: number;
  /** Most lines per label; longer labels end with an ellipsis. */
  maxLines?: number;
  rankSep?: number;
  nodeSep?: number;
  margin?: number;
}

export interface LaidOutNode {
  id: string;
  kind: FigureNodeKind;
  label: string;
  /** The label broken into the lines that are drawn. */
  lines: string[];
  detail?: string;
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** On the path that the analysis says is taken (the active branch). */
  active: boolean;
}

export interface LaidOutEdge {
  from: string;
  to: string;
  label?: string;
  points: { x: number; y: number }[];
  labelPosition?: { x: number; y: number };
  active: boolean;
}

export interface LaidOutFigure {
  width: number;
  height: number;
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  /** Nodes left out beyond MAX_FIGURE_NODES (a figure is a proof path, not the whole graph). */
  omittedNodes: number;
}

/** Figures are evidence paths of a few nodes; a hostile or runaway figure is cut here. */
export const MAX_FIGURE_NODES = 200;

const PAD_X = 8;
const PAD_Y = 6;
const LINE_GAP = 1.25;
const MIN_WIDTH = 70;

/** Width of a text line by the shared estimate (no DOM). */
export function estimateTextWidth(text: string, fontSize = FIGURE_STYLE.fontSize): number {
  return Array.from(text).length * fontSize * FIGURE_STYLE.charWidth;
}

/** Breaks a label into lines of at most `maxChars`, after `/`, `_`, `.`, `:`, `-`, spaces, or before `(`. */
export function wrapLabel(label: string, maxChars: number, maxLines: number): string[] {
  const chars = Array.from(label);
  const lines: string[] = [];
  let start = 0;
  while (start < chars.length) {
    if (lines.length === maxLines - 1 && chars.length - start > maxChars) {
      lines.push(chars.slice(start, start + maxChars - 1).join('') + '…');
      return lines;
    }
    if (chars.length - start <= maxChars) {
      lines.push(chars.slice(start).join(''));
      break;
    }
    let cut = start + maxChars;
    for (let i = start + maxChars; i > start + Math.floor(maxChars / 2); i--) {
      if ('/_.: -'.includes(chars[i - 1]) || chars[i] === '(') {
        cut = i;
        break;
      }
    }
    lines.push(chars.slice(start, cut).join(''));
    start = cut;
  }
  return lines.length > 0 ? lines : [''];
}

/**
 * Nodes on the active path: a node is active when the figure marks its branch kind node via
 * `activeNodeIds`, and every node from the figure's sources to an active branch through to the
 * unsafe ops it leads to is highlighted.
 */
function activeSet(figure: Figure, activeNodeIds: string[] | undefined): Set<string> {
  const active = new Set<string>(activeNodeIds ?? []);
  if (active.size === 0) return active;
  const out = new Map<string, string[]>();
  for (const e of figure.edges) {
    const list = out.get(e.from) ?? [];
    list.push(e.to);
    out.set(e.from, list);
  }
  const stack = [...active];
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const next of out.get(id) ?? []) {
      if (!active.has(next)) {
        active.add(next);
        stack.push(next);
      }
    }
  }
  return active;
}

export function layoutFigure(
  input: Figure,
  options: LayoutOptions & { activeNodeIds?: string[] } = {},
): LaidOutFigure {
  const firstById = new Map<string, FigureNode>();
  for (const n of input.nodes) if (!firstById.has(n.id)) firstById.set(n.id, n);
  const unique = [...firstById.values()];
  const kept = unique.slice(0, MAX_FIGURE_NODES);
  const keptIds = new Set(kept.map((n) => n.id));
  const figure: Figure = {
    nodes: kept,
    edges: input.edges.filter((e) => keptIds.has(e.from) && keptIds.has(e.to)).slice(0, 4 * MAX_FIGURE_NODES),
  };
  const maxLineChars = options.maxLineChars ?? 28;
  const maxLines = options.maxLines ?? 3;
  const margin = options.margin ?? 12;
  const ids = new Set(figure.nodes.map((n) => n.id));
  const active = activeSet(figure, options.activeNodeIds);

  const g = new dagre.graphlib.Graph<GraphLabel, { width: number; height: number; x?: number; y?: number }, object>({
    multigraph: true,
  });
  g.setGraph({
    rankdir: 'LR',
    nodesep: options.nodeSep ?? 18,
    ranksep: options.rankSep ?? 46,
    edgesep: 10,
    marginx: margin,
    marginy: margin,
  });
  g.setDefaultEdgeLabel(() => ({}));

  const measured = new Map<string, { lines: string[]; width: number; height: number }>();
  for (const node of figure.nodes) {
    if (measured.has(node.id)) continue;
    const lines = wrapLabel(node.label, maxLineChars, maxLines);
    const textWidth = Math.max(
      ...lines.map((l) => estimateTextWidth(l)),
      estimateTextWidth(FIGURE_STYLE.kinds[node.kind].caption, FIGURE_STYLE.captionSize),
    );
    const width = Math.max(MIN_WIDTH, Math.ceil(textWidth + 2 * PAD_X));
    const height = Math.ceil(
      2 * PAD_Y + FIGURE_STYLE.captionSize * LINE_GAP + lines.length * FIGURE_STYLE.fontSize * LINE_GAP,
    );
    measured.set(node.id, { lines, width, height });
    g.setNode(node.id, { width, height });
  }
  figure.edges.forEach((edge, index) => {
    if (!ids.has(edge.from) || !ids.has(edge.to)) return;
    const labelWidth = edge.label ? estimateTextWidth(edge.label, FIGURE_STYLE.captionSize) : 0;
    g.setEdge(
      edge.from,
      edge.to,
      edge.label
        ? { width: labelWidth, height: FIGURE_STYLE.captionSize * LINE_GAP, labelpos: 'c' }
        : {},
      String(index),
    );
  });

  dagre.layout(g);

  const seen = new Set<string>();
  const nodes: LaidOutNode[] = [];
  for (const node of figure.nodes) {
    if (seen.has(node.id)) continue;
    seen.add(node.id);
    const pos = g.node(node.id);
    const m = measured.get(node.id)!;
    nodes.push({
      id: node.id,
      kind: node.kind,
      label: node.label,
      lines: m.lines,
      ...(node.detail !== undefined ? { detail: node.detail } : {}),
      x: round((pos.x ?? 0) - m.width / 2),
      y: round((pos.y ?? 0) - m.height / 2),
      width: m.width,
      height: m.height,
      active: active.has(node.id),
    });
  }

  const edges: LaidOutEdge[] = [];
  figure.edges.forEach((edge, index) => {
    if (!ids.has(edge.from) || !ids.has(edge.to)) return;
    const laid = g.edge({ v: edge.from, w: edge.to, name: String(index) }) as
      | { points?: { x: number; y: number }[]; x?: number; y?: number }
      | undefined;
    edges.push({
      from: edge.from,
      to: edge.to,
      ...(edge.label !== undefined ? { label: edge.label } : {}),
      points: (laid?.points ?? []).map((p) => ({ x: round(p.x), y: round(p.y) })),
      ...(edge.label !== undefined && laid?.x !== undefined && laid?.y !== undefined
        ? { labelPosition: { x: round(laid.x), y: round(laid.y) } }
        : {}),
      active: active.has(edge.from) && active.has(edge.to),
    });
  });

  const graph = g.graph();
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    nodes,
    edges,
    omittedNodes: unique.length - kept.length,
  };
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Branch nodes from which an unsafe op is reachable: the branch a finding needs taken. */
export function branchesToUnsafe(figure: Figure): string[] {
  const into = new Map<string, string[]>();
  for (const e of figure.edges) {
    const list = into.get(e.to) ?? [];
    list.push(e.from);
    into.set(e.to, list);
  }
  const kind = new Map(figure.nodes.map((n) => [n.id, n.kind]));
  const seen = new Set<string>();
  const stack = figure.nodes.filter((n) => n.kind === 'unsafe').map((n) => n.id);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(into.get(id) ?? []));
  }
  return [...seen].filter((id) => kind.get(id) === 'branch').sort();
}
