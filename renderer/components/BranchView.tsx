// The branch view: the finding's evidence figure (variable → predicate slice → control-flow op
// → branches → unsafe op) laid out by shared/figure-layout and drawn as SVG. The path the
// selected checkpoint takes is marked; variables carry their values under that checkpoint.
import { useMemo, useState } from 'react';
import type { Figure, Finding, FigureNode } from '../../shared/findings.ts';
import type { CheckpointRef } from '../../shared/api.ts';
import { FIGURE_STYLE, layoutFigure, type LaidOutEdge, type LaidOutNode } from '../../shared/figure-layout.ts';
import { selectedCheckpoint, useWorkbench } from '../store.ts';
import { activationFor, displayPath, findingState, lookupValue, type FindingState } from '../verdict.ts';
import { SeverityBadge, StateBadge, onActivate } from './common.tsx';

/** Nodes from which the taken path starts, given what the checkpoint does to the finding. */
export function activeStartNodes(finding: Finding, state: FindingState): string[] {
  const nodes = finding.figure.nodes;
  const incoming = new Set(finding.figure.edges.map((e) => e.to));
  if (state === 'unconditional') return nodes.filter((n) => !incoming.has(n.id)).map((n) => n.id);
  if (state !== 'active') return [];
  const branches = nodes.filter((n) => n.kind === 'branch').map((n) => n.id);
  return branches.length ? branches : nodes.filter((n) => n.kind === 'unsafe').map((n) => n.id);
}

/** `fn/node (Op)` → `fn/node`. */
function nodeName(label: string): string {
  return label.replace(/ \([^()]*\)$/, '');
}

/**
 * The value a figure node shows under the checkpoint: variables by their checkpoint key, and a
 * predicate by what the analysis decided for the control-flow op it feeds (`<op> predicate`).
 */
export function nodeValue(node: FigureNode, values: Record<string, string>, figure: Figure): string | undefined {
  if (node.kind === 'predicate') {
    const controls = figure.edges.filter((e) => e.from === node.id).map((e) => figure.nodes.find((n) => n.id === e.to && n.kind === 'control'));
    for (const control of controls) {
      const decided = control ? values[`${nodeName(control.label)} predicate`] : undefined;
      if (decided !== undefined) return decided;
    }
  }
  if (node.kind !== 'variable' && node.kind !== 'predicate' && node.kind !== 'input' && node.kind !== 'constant') return undefined;
  return lookupValue(values, node.label) ?? (node.detail ? lookupValue(values, node.detail) : undefined) ?? lookupValue(values, node.id);
}

const CAPTION = 7.5;
const FONT = FIGURE_STYLE.fontSize;

function edgePath(e: LaidOutEdge): string {
  if (e.points.length === 0) return '';
  const [first, ...rest] = e.points;
  if (rest.length === 0) return `M${first.x},${first.y}`;
  // A smooth curve through dagre's control points.
  let d = `M${first.x},${first.y}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i];
    const q = rest[i + 1];
    d += ` Q${p.x},${p.y} ${(p.x + q.x) / 2},${(p.y + q.y) / 2}`;
  }
  const last = rest[rest.length - 1];
  return `${d} L${last.x},${last.y}`;
}

function NodeShape({ node, value, dimmed, selected, onSelect }: { node: LaidOutNode; value?: string; dimmed: boolean; selected: boolean; onSelect: () => void }) {
  const caption = FIGURE_STYLE.kinds[node.kind].caption;
  const cx = node.x + node.width / 2;
  return (
    <g
      className={`fig-node fig-${node.kind}${node.active ? ' active' : ''}${dimmed ? ' dimmed' : ''}${selected ? ' selected' : ''}`}
      tabIndex={0}
      role="button"
      aria-label={`${caption.toLowerCase()} ${node.label}${value !== undefined ? ` = ${value}` : ''}${node.active ? ' (taken)' : ''}`}
      onClick={onSelect}
      onKeyDown={onActivate(onSelect)}
      data-testid={`fig-node-${node.kind}`}
    >
      <rect x={node.x} y={node.y} width={node.width} height={node.height} rx={4} ry={4} />
      <text className="fig-caption" x={cx} y={node.y + 5 + CAPTION} textAnchor="middle">
        {caption}
      </text>
      {node.lines.map((line, i) => (
        <text key={i} className="fig-label" x={cx} y={node.y + 6 + FIGURE_STYLE.captionSize * 1.25 + (i + 1) * FONT * 1.25 - 2} textAnchor="middle">
          {line}
        </text>
      ))}
      {value !== undefined && (
        <g className="fig-value">
          <rect x={node.x + node.width - 6} y={node.y - 9} width={Math.max(22, value.length * 6.4 + 10)} height={16} rx={8} />
          <text x={node.x + node.width - 1} y={node.y + 2.5}>
            = {value.length > 24 ? value.slice(0, 23) + '…' : value}
          </text>
        </g>
      )}
    </g>
  );
}

export function BranchView() {
  const view = useWorkbench((s) => s.view)!;
  const checkpoint = useWorkbench((s) => selectedCheckpoint(s));
  const findingId = useWorkbench((s) => s.findingId);
  const selectFinding = useWorkbench((s) => s.selectFinding);
  const withFigures = view.report.findings.filter((f) => f.figure.nodes.length > 0);
  const finding = withFigures.find((f) => f.id === findingId) ?? withFigures[0] ?? null;

  if (!finding) {
    return (
      <div className="empty-panel">
        <h2>No branch to draw</h2>
        <p className="muted">No finding carries an evidence figure. Branch views appear for findings whose unsafe op sits behind control flow or is reached from a signature.</p>
      </div>
    );
  }

  return (
    <div className="branch-layout">
      <nav className="branch-list" aria-label="Findings with a branch view">
        {withFigures.map((f) => (
          <button key={f.id} type="button" className={`branch-item${f.id === finding.id ? ' on' : ''}`} aria-current={f.id === finding.id} onClick={() => selectFinding(f.id)}>
            <span className="row-line">
              <SeverityBadge severity={f.severity} /> <span className="mono">{f.id}</span> <span className="mono strong">{f.op}</span>
            </span>
            <span className="row-line">
              <StateBadge state={findingState(f, checkpoint)} quiet={f.severity === 'info'} /> <span className="muted small ellipsis">{f.capability}</span>
            </span>
          </button>
        ))}
      </nav>
      <FigurePanel key={finding.id} finding={finding} checkpoint={checkpoint} modelPath={view.report.model.path} />
    </div>
  );
}

function FigurePanel({ finding, checkpoint, modelPath }: { finding: Finding; checkpoint: CheckpointRef | null; modelPath: string }) {
  // null: fit the panel's width (never above 140%); a number: explicit scale.
  const [zoom, setZoom] = useState<number | null>(null);
  const [selectedNode, setSelectedNode] = useState<string | null>(null);
  const state = findingState(finding, checkpoint);
  const activation = activationFor(finding, checkpoint);
  const values = activation?.values ?? {};
  const laid = useMemo(() => layoutFigure(finding.figure, { activeNodeIds: activeStartNodes(finding, state), maxLineChars: 30, rankSep: 56, nodeSep: 22, margin: 18 }), [finding, state]);
  const pad = 12;
  const width = laid.width + pad * 2;
  const height = laid.height + pad * 2 + 10;

  return (
    <section className="figure-panel" aria-label={`Branch view of ${finding.id}`} data-testid="branch-view">
      <header className="figure-head">
        <div>
          <div className="figure-title">
            <SeverityBadge severity={finding.severity} /> <span className="mono strong">{finding.op}</span> <span className="muted">{finding.capability}</span>
          </div>
          <div className="muted small">
            {checkpoint ? (
              <>
                Under <strong>{displayPath(checkpoint.label, modelPath)}</strong> the branch is <StateBadge state={state} /> {activation?.reason}
              </>
            ) : (
              'No checkpoint selected.'
            )}
          </div>
        </div>
        <div className="zoom" role="group" aria-label="Zoom">
          <button type="button" className="btn small" aria-label="Zoom out" onClick={() => setZoom((z) => Math.max(0.4, (z ?? 1) / 1.2))}>
            −
          </button>
          <button type="button" className="btn small ghost" aria-pressed={zoom === null} onClick={() => setZoom(null)}>
            {zoom === null ? 'Fit' : `${Math.round(zoom * 100)}%`}
          </button>
          <button type="button" className="btn small" aria-label="Zoom in" onClick={() => setZoom((z) => Math.min(3, (z ?? 1) * 1.2))}>
            +
          </button>
        </div>
      </header>
      <div className="figure-canvas">
        <svg className={zoom === null ? 'fit' : undefined} width={zoom === null ? '100%' : width * zoom} height={zoom === null ? undefined : height * zoom} style={zoom === null ? { maxWidth: width * 1.6 } : undefined} viewBox={`${-pad} ${-pad - 10} ${width} ${height}`} role="img" aria-label="Evidence figure">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" className="fig-arrow" />
            </marker>
            <marker id="arrow-active" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" className="fig-arrow active" />
            </marker>
          </defs>
          {laid.edges.map((e, i) => (
            <g key={i} className={`fig-edge${e.active ? ' active' : ''}${state === 'dormant' && isIntoBranch(e, laid.nodes) ? ' not-taken' : ''}`}>
              <path d={edgePath(e)} markerEnd={`url(#${e.active ? 'arrow-active' : 'arrow'})`} />
              {e.label && e.labelPosition && (
                <text className="fig-edge-label" x={e.labelPosition.x} y={e.labelPosition.y} textAnchor="middle">
                  {e.label}
                </text>
              )}
            </g>
          ))}
          {laid.nodes.map((n) => (
            <NodeShape
              key={n.id}
              node={n}
              value={nodeValue({ id: n.id, label: n.label, kind: n.kind, detail: n.detail }, values, finding.figure)}
              dimmed={state === 'dormant' && (n.kind === 'branch' || n.kind === 'call' || n.kind === 'unsafe')}
              selected={n.id === selectedNode}
              onSelect={() => setSelectedNode(n.id === selectedNode ? null : n.id)}
            />
          ))}
        </svg>
      </div>
      <footer className="figure-foot">
        <div className="legend" aria-label="Legend">
          {(['variable', 'environment', 'predicate', 'control', 'branch', 'call', 'unsafe'] as const).map((k) => (
            <span key={k} className={`legend-item fig-${k}`}>
              <i aria-hidden="true" /> {FIGURE_STYLE.kinds[k].caption.toLowerCase()}
            </span>
          ))}
          <span className="legend-item taken">
            <i aria-hidden="true" /> taken under this checkpoint
          </span>
        </div>
      </footer>
      <div className="figure-steps">
        <table className="grid dense" aria-label="Path, step by step">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Node</th>
              <th scope="col">Detail</th>
              <th scope="col">Under this checkpoint</th>
            </tr>
          </thead>
          <tbody>
            {orderedNodes(laid.nodes, finding.figure).map((n) => {
              const value = nodeValue({ id: n.id, label: n.label, kind: n.kind, detail: n.detail }, values, finding.figure);
              return (
                <tr key={n.id} className={n.id === selectedNode ? 'selected' : undefined} onClick={() => setSelectedNode(n.id)}>
                  <td>
                    <span className={`kind-tag fig-${n.kind}`}>{FIGURE_STYLE.kinds[n.kind].caption.toLowerCase()}</span>
                  </td>
                  <td className="mono">{n.label}</td>
                  <td className="mono small muted">{n.detail ?? ''}</td>
                  <td className="mono small">
                    {value !== undefined ? <strong>= {value}</strong> : null}
                    {n.active ? <span className="taken-mark"> taken</span> : state === 'dormant' && (n.kind === 'branch' || n.kind === 'call' || n.kind === 'unsafe') ? <span className="muted"> not taken</span> : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Figure nodes sources first (Kahn order), ties in figure order: the reading order of the path. */
function orderedNodes(nodes: LaidOutNode[], figure: Figure): LaidOutNode[] {
  const indegree = new Map(nodes.map((n) => [n.id, 0]));
  for (const e of figure.edges) if (indegree.has(e.to) && indegree.has(e.from)) indegree.set(e.to, indegree.get(e.to)! + 1);
  const out: LaidOutNode[] = [];
  const ready = nodes.filter((n) => indegree.get(n.id) === 0);
  const seen = new Set<string>();
  while (ready.length > 0) {
    const n = ready.shift()!;
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    out.push(n);
    for (const e of figure.edges.filter((x) => x.from === n.id)) {
      const left = indegree.get(e.to)! - 1;
      indegree.set(e.to, left);
      const next = nodes.find((m) => m.id === e.to);
      if (left === 0 && next) ready.push(next);
    }
  }
  return [...out, ...nodes.filter((n) => !seen.has(n.id))];
}

function isIntoBranch(e: LaidOutEdge, nodes: LaidOutNode[]): boolean {
  const to = nodes.find((n) => n.id === e.to);
  return to?.kind === 'branch';
}
