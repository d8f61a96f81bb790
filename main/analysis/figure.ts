// The evidence figure of a finding: variable → predicate slice → control-flow op → branch
// function → calls → unsafe op, as nodes and edges the renderer and PDF draw.
import type { Figure, FigureNode, Gate } from '../../shared/findings.ts';

export interface FigureInput {
  gates: Gate[];
  /** Call chain into the unsafe op's function, as `function/node (Op)` strings (outermost first). */
  calls: string[];
  unsafe: string;
  /** Variables driving a size (resource exhaustion), when not behind a gate. */
  sizeSources?: { kind: 'variable' | 'input' | 'constant'; label: string }[];
}

export function buildFigure(input: FigureInput): Figure {
  const nodes: FigureNode[] = [];
  const edges: Figure['edges'] = [];
  const ids = new Map<string, string>();
  const add = (kind: FigureNode['kind'], label: string, detail?: string): string => {
    const key = `${kind}|${label}`;
    const known = ids.get(key);
    if (known) return known;
    const id = `n${nodes.length}`;
    const node: FigureNode = { id, label, kind };
    if (detail) node.detail = detail;
    nodes.push(node);
    ids.set(key, id);
    return id;
  };
  const link = (from: string, to: string, label?: string) => {
    if (from === to || edges.some((e) => e.from === from && e.to === to)) return;
    edges.push(label ? { from, to, label } : { from, to });
  };
  let prev: string | null = null;
  const callSet = new Set(input.calls);
  for (const gate of input.gates) {
    const pred = add('predicate', gate.predicate.nodes[0] ?? gate.predicate.expression, gate.predicate.expression);
    for (const v of gate.predicate.variables) link(add('variable', v), pred, 'read');
    for (const i of gate.predicate.inputs) link(add('input', i), pred, 'input');
    for (const e of gate.predicate.environment ?? []) link(add('environment', e.split(': ')[1] ?? e, e), pred, 'run time');
    if (!gate.predicate.variables.length && !gate.predicate.inputs.length && !gate.predicate.environment?.length && gate.predicate.source === 'constant') link(add('constant', gate.predicate.expression), pred);
    const control = add('control', `${gate.function ?? ''}/${gate.node} (${gate.op})`.replace(/^\//, ''));
    link(pred, control, 'predicate');
    if (prev) link(prev, control);
    const branch = add('branch', gate.branchFunction ?? `${gate.node}:${gate.branch}`, gate.branch);
    link(control, branch, gate.branch);
    prev = branch;
  }
  for (const c of input.calls) {
    if (!callSet.has(c)) continue;
    const id = add('call', c);
    if (prev) link(prev, id, 'calls');
    prev = id;
  }
  const unsafe = add('unsafe', input.unsafe);
  if (prev) link(prev, unsafe);
  for (const s of input.sizeSources ?? []) link(add(s.kind, s.label), unsafe, 'size');
  return { nodes, edges };
}
