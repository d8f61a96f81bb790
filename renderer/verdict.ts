// Pure view logic over an AuditView: what a finding does under the selected checkpoint, the
// overall verdict, sorting and filtering. No React, no store: unit-tested in test/renderer.
import { SEVERITY_RANK, type Capability, type Finding, type Severity } from '../shared/findings.ts';
import type { AuditView, CheckpointRef } from '../shared/api.ts';
import { sameCheckpointLabel, type DynamicVerdict, type SandboxRunReport } from '../shared/sandbox.ts';

/** What a finding does when the model runs with the selected checkpoint. */
export type FindingState = 'active' | 'dormant' | 'unconditional' | 'input-gated' | 'unknown';

export const STATE_LABEL: Record<FindingState, string> = {
  active: 'Active',
  dormant: 'Dormant',
  unconditional: 'Always',
  'input-gated': 'Input-gated',
  unknown: 'Unknown',
};

export function findingState(finding: Finding, checkpoint: CheckpointRef | null): FindingState {
  const trigger = finding.trigger;
  if (trigger.kind === 'none') return 'unconditional';
  if (checkpoint) {
    const activation = trigger.activation.find((a) => a.checkpoint === checkpoint.label);
    if (activation) return activation.state === 'active' ? 'active' : activation.state === 'dormant' ? 'dormant' : 'unknown';
  }
  if (trigger.kind === 'input') return 'input-gated';
  return 'unknown';
}

/** Runs (or may run) under this checkpoint. */
export function isLive(state: FindingState): boolean {
  return state === 'active' || state === 'unconditional' || state === 'input-gated' || state === 'unknown';
}

export function activationFor(finding: Finding, checkpoint: CheckpointRef | null) {
  return checkpoint ? (finding.trigger.activation.find((a) => a.checkpoint === checkpoint.label) ?? null) : null;
}

export type VerdictLevel = 'unsafe' | 'warning' | 'dormant' | 'clean';

export interface Verdict {
  level: VerdictLevel;
  headline: string;
  detail: string;
  /** The worst severity among live findings, if any. */
  worst: Severity | null;
  liveCount: number;
  dormantCount: number;
}

function worstOf(findings: Finding[]): Severity | null {
  let worst: Severity | null = null;
  for (const f of findings) if (worst === null || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}

/** Findings that matter for the verdict: dead library code and TF's own saver ops do not run. */
function counts(f: Finding): boolean {
  return f.reachability !== 'dead' && f.severity !== 'info';
}

export function overallVerdict(view: AuditView, checkpoint: CheckpointRef | null): Verdict {
  const findings = view.report.findings.filter(counts);
  const states = findings.map((f) => ({ f, s: findingState(f, checkpoint) }));
  const live = states.filter((x) => isLive(x.s)).map((x) => x.f);
  const dormant = states.filter((x) => x.s === 'dormant').map((x) => x.f);
  const worst = worstOf(live);
  const where = checkpoint ? ` with checkpoint ${displayCheckpoint(checkpoint, view)}` : '';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (worst && SEVERITY_RANK[worst] >= SEVERITY_RANK.high) {
    const active = states.filter((x) => x.s === 'active').length;
    return {
      level: 'unsafe',
      worst,
      liveCount: live.length,
      dormantCount: dormant.length,
      headline: `Unsafe to run${where}`,
      detail: `${plural(live.length, 'finding')} can run (worst: ${worst})${active ? `, ${active} switched on by this checkpoint` : ''}${dormant.length ? `; ${dormant.length} more gated off` : ''}.`,
    };
  }
  if (worst) {
    return {
      level: 'warning',
      worst,
      liveCount: live.length,
      dormantCount: dormant.length,
      headline: `Review before running${where}`,
      detail: `${plural(live.length, 'finding')} can run (worst: ${worst})${dormant.length ? `; ${dormant.length} gated off by checkpoint values` : ''}.`,
    };
  }
  if (dormant.length > 0) {
    return {
      level: 'dormant',
      worst: null,
      liveCount: 0,
      dormantCount: dormant.length,
      headline: `Dormant${where}: unsafe code present but switched off`,
      detail: `${plural(dormant.length, 'finding')} (worst: ${worstOf(dormant)}) sit behind branches these checkpoint values do not take. Another checkpoint can switch them on.`,
    };
  }
  return {
    level: 'clean',
    worst: null,
    liveCount: 0,
    dormantCount: 0,
    headline: 'No unsafe behaviour found',
    detail: view.report.errors.length ? `${plural(view.report.errors.length, 'file')} could not be read: see Overview.` : 'No file, network, process or resource-exhaustion capability was found.',
  };
}

/** A checkpoint as people name it: relative to the model folder, or its last two path segments. */
export function displayCheckpoint(checkpoint: CheckpointRef, view: AuditView): string {
  return displayPath(checkpoint.label, view.report.model.path);
}

export function displayPath(path: string, modelPath: string): string {
  const model = modelPath.replace(/\/+$/, '');
  if (path.startsWith(model + '/')) return path.slice(model.length + 1);
  // The web host keeps each upload in a batch folder (`u` + 24 hex digits): not a name people gave.
  const parts = path.split(/[\\/]/).filter(Boolean);
  const tail = parts.slice(-2);
  if (tail.length === 2 && /^u[0-9a-f]{24}$/.test(tail[0])) tail.shift();
  return tail.join('/') || path;
}

export function modelName(view: AuditView): string {
  return view.report.model.path.split(/[\\/]/).filter(Boolean).pop() ?? view.report.model.path;
}

export type SortKey = 'severity' | 'id' | 'capability' | 'op' | 'state' | 'reachability';

export interface FindingFilter {
  severities: Severity[];
  capabilities: Capability[];
  text: string;
}

export function filterFindings(findings: Finding[], filter: FindingFilter): Finding[] {
  const text = filter.text.trim().toLowerCase();
  return findings.filter(
    (f) =>
      (filter.severities.length === 0 || filter.severities.includes(f.severity)) &&
      (filter.capabilities.length === 0 || filter.capabilities.includes(f.capability)) &&
      (!text || [f.id, f.rule, f.op, f.node, f.function ?? '', f.message, ...f.evidence].some((s) => s.toLowerCase().includes(text))),
  );
}

const STATE_RANK: Record<FindingState, number> = { active: 4, unconditional: 3, 'input-gated': 2, unknown: 1, dormant: 0 };

function idNumber(id: string): number {
  const n = Number(id.replace(/^\D+/, ''));
  return Number.isFinite(n) ? n : 0;
}

export function sortFindings(findings: Finding[], key: SortKey, descending: boolean, checkpoint: CheckpointRef | null): Finding[] {
  const value = (f: Finding): number | string => {
    switch (key) {
      case 'severity':
        return SEVERITY_RANK[f.severity];
      case 'id':
        return idNumber(f.id);
      case 'capability':
        return f.capability;
      case 'op':
        return f.op;
      case 'state':
        return STATE_RANK[findingState(f, checkpoint)];
      case 'reachability':
        return f.reachability;
    }
  };
  const dir = descending ? -1 : 1;
  // Ties stay in report order whichever way the primary key runs.
  return [...findings].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return c !== 0 ? c * dir : idNumber(a.id) - idNumber(b.id);
  });
}

/**
 * Variables that drive predicates, with their value per checkpoint: the rows of the checkpoint
 * panel. Values come from each finding's activation (what the analysis read), falling back to
 * the model's own checkpoint preview.
 */
export function drivingVariables(view: AuditView): { key: string; findings: string[]; values: Record<string, string> }[] {
  const rows = new Map<string, { key: string; findings: string[]; values: Record<string, string> }>();
  for (const f of view.report.findings) {
    for (const key of f.trigger.variables) {
      const row = rows.get(key) ?? { key, findings: [], values: {} };
      if (!row.findings.includes(f.id)) row.findings.push(f.id);
      for (const a of f.trigger.activation) {
        const value = lookupValue(a.values, key);
        if (value !== undefined) {
          const ref = view.checkpoints.find((c) => c.label === a.checkpoint);
          if (ref) row.values[ref.id] = value;
        }
      }
      rows.set(key, row);
    }
  }
  const own = view.summary.checkpoint;
  const ownRef = view.checkpoints.find((c) => c.id === 'own');
  if (own && ownRef) {
    for (const row of rows.values()) {
      if (row.values[ownRef.id] !== undefined) continue;
      const entry = own.entries.find((e) => e.key === row.key || e.key.startsWith(row.key + '/'));
      if (entry && !entry.error) row.values[ownRef.id] = entry.values.length === 1 ? String(entry.values[0]) : `[${entry.values.join(', ')}${entry.shape.reduce((a, b) => a * b, 1) > entry.values.length ? ', …' : ''}]`;
    }
  }
  return [...rows.values()].sort((a, b) => a.key.localeCompare(b.key));
}

/** A value by exact key, or by a checkpoint key that extends the variable name (`mode/.ATTRIBUTES/...`). */
export function lookupValue(values: Record<string, string>, key: string): string | undefined {
  if (key in values) return values[key];
  const ext = Object.keys(values).find((k) => k.startsWith(key + '/') || key.startsWith(k + '/'));
  return ext === undefined ? undefined : values[ext];
}

/** The findings table's Sandbox column. */
export type SandboxColumn = DynamicVerdict | 'not-run';

export const SANDBOX_LABEL: Record<SandboxColumn, string> = {
  confirmed: 'Confirmed',
  'not-observed': 'Not observed',
  inconclusive: 'Inconclusive',
  'not-run': 'Not run',
};

/**
 * What the sandbox said about a finding under the selected checkpoint: the latest run that
 * restored it decides; runs under other checkpoints are listed as `elsewhere`.
 */
export function sandboxVerdict(
  finding: Finding,
  runs: SandboxRunReport[],
  checkpoint: CheckpointRef | null,
): { verdict: SandboxColumn; evidence: string[]; elsewhere: string[] } {
  const under = (run: SandboxRunReport) => !checkpoint || (run.checkpoint !== undefined && sameCheckpointLabel(run.checkpoint, checkpoint.label));
  const verdictIn = (run: SandboxRunReport) => run.findings?.find((c) => c.id === finding.id && c.op === finding.op);
  const mine = runs.filter((r) => under(r) && verdictIn(r));
  const latest = mine[mine.length - 1];
  const elsewhere = runs
    .filter((r) => !under(r) && verdictIn(r))
    .map((r) => `${verdictIn(r)!.observed} under ${r.checkpoint ?? 'another checkpoint'}`);
  if (!latest) return { verdict: 'not-run', evidence: [], elsewhere };
  const c = verdictIn(latest)!;
  return { verdict: c.observed, evidence: c.evidence, elsewhere };
}
