// Whether an op's gates let control through under one set of values. Gates are taken in order
// (outermost first). A loop gate (functional While body, TF1 loop frame) is decided by running
// the loop with concrete loop-carried values: the gates after it live inside the loop and are
// decided once per iteration, so the verdict names the iterations that reach the op.
// Sound by the evaluator's contract: dormant only when every gate decision is proven.
import type { ActivationState } from '../../shared/findings.ts';
import type { Evaluator, LoopSite, Val } from './evaluate.ts';
import { renderVal } from './evaluate.ts';
import type { GateSite } from './gates.ts';

export interface DecidedGate<G> {
  site: GateSite;
  graph: G;
}

export interface GateDecision {
  state: ActivationState;
  reasons: string[];
  /** Gate name + ' predicate' → value, for gates decided outside loops. */
  values: Record<string, string>;
  /** Iterations (counting from 0) of the outermost loop in which the op runs, when a loop was run. */
  iterations?: { active: number[]; total: number | null };
}

const MAX_LISTED = 6;

export function gateName(site: GateSite): string {
  return `${site.frame.scope.name ?? ''}/${site.frame.scope.nodes[site.node].name}`.replace(/^\//, '');
}

function loopOf(site: GateSite): LoopSite | null {
  if (site.kind === 'while') return { kind: 'while', frame: site.frame, node: site.node };
  if (site.kind === 'switch' && site.loop && site.predicate?.source.kind === 'node') return { kind: 'frame', frame: site.frame, loopCond: site.predicate.source.node };
  return null;
}

/** `3, 4 and 9` or `10–9999` style lists of iteration numbers. */
export function listIterations(xs: number[]): string {
  const runs: [number, number][] = [];
  for (const x of xs) {
    const last = runs[runs.length - 1];
    if (last && x === last[1] + 1) last[1] = x;
    else runs.push([x, x]);
  }
  const parts = runs.flatMap(([a, b]) => (a === b ? [String(a)] : b === a + 1 ? [String(a), String(b)] : [`${a}–${b}`]));
  const shown = parts.length > MAX_LISTED ? [...parts.slice(0, MAX_LISTED), '…'] : parts;
  return shown.length > 1 ? `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}` : shown[0] ?? '';
}

export function decideGates<G>(gates: DecidedGate<G>[], evFor: (graph: G) => Evaluator, pass: (site: GateSite, v: Val) => boolean, from = 0): GateDecision {
  let state = 'active' as ActivationState;
  const reasons: string[] = [];
  const values: Record<string, string> = {};
  const worsen = (s: ActivationState) => {
    if (s === 'dormant') state = 'dormant';
    else if (s === 'unknown' && state === 'active') state = 'unknown';
  };
  for (let i = from; i < gates.length; i++) {
    const g = gates[i];
    const name = gateName(g.site);
    const loop = loopOf(g.site);
    const ev = evFor(g.graph);
    if (loop && state !== 'dormant') {
      const exitBranch = g.site.kind === 'switch' && g.site.taken === 0;
      if (exitBranch) {
        const run = ev.runLoop(loop);
        if (run.state === 'finished') reasons.push(`${name}: ${run.reason}, then exits`);
        else {
          worsen('unknown');
          reasons.push(`${name}: ${run.reason}`);
        }
        continue;
      }
      const active: number[] = [];
      const unknown: number[] = [];
      const innerReasons: string[] = [];
      const run = ev.runLoop(loop, (k, child) => {
        const inner = decideGates(gates, (graph) => (graph === g.graph ? child : evFor(graph)), pass, i + 1);
        if (inner.state === 'active') active.push(k);
        else if (inner.state === 'unknown') {
          unknown.push(k);
          if (innerReasons.length < 2) innerReasons.push(`iteration ${k}: ${inner.reasons.join('; ')}`);
        }
      });
      const total = run.state === 'finished' ? run.iterations : null;
      const of = total !== null ? `of ${total}` : `of at least ${run.iterations} (${run.reason})`;
      const iterations = { active, total };
      if (active.length) {
        reasons.push(`${name}: runs at iteration${active.length > 1 ? 's' : ''} ${listIterations(active)} ${of} (counting from 0)`);
        return { state, reasons, values, iterations };
      }
      if (unknown.length || run.state !== 'finished') {
        worsen('unknown');
        reasons.push(`${name}: ${unknown.length ? `not decided at iteration${unknown.length > 1 ? 's' : ''} ${listIterations(unknown)} ${of}: ${innerReasons.join('; ')}` : run.reason}`);
        return { state, reasons, values, iterations };
      }
      worsen('dormant');
      reasons.push(`${name}: ${total === 0 ? 'the loop body never runs' : `${run.reason}; the op is reached in none of them`}`);
      return { state, reasons, values, iterations };
    }
    const r = g.site.predicate ? ev.evaluate(g.site.predicate) : ({ ok: false, dead: false, reason: 'predicate not found' } as const);
    if (!r.ok) {
      worsen(r.dead ? 'dormant' : 'unknown');
      reasons.push(`${name}: ${r.dead ? `not reached (${r.reason})` : r.reason}`);
      continue;
    }
    const ok = pass(g.site, r.value);
    values[`${name} predicate`] = renderVal(r.value);
    reasons.push(`${name} ${g.site.branch} ${ok ? 'taken' : 'not taken'} (predicate = ${renderVal(r.value)})`);
    if (!ok) worsen('dormant');
  }
  return { state, reasons, values };
}
