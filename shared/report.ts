// What an exported audit is made of: the scan, the model facts, the sandbox runs and who signs
// it. The PDF (main/report/pdf.ts) and the vulnerability draft (main/report/vuln.ts) render it;
// the renderer builds it for the Export buttons.
import type { CheckpointReport, Finding, ScanReport, Severity, WeightValueComparison } from './findings.ts';
import { SEVERITIES, SEVERITY_RANK } from './findings.ts';
import type { ModelSummary } from './summary.ts';
import type { SandboxRunReport } from './sandbox.ts';

export interface AuditDocument {
  report: ScanReport;
  summary: ModelSummary;
  auditor: string | null;
  /** ISO 8601; pinned by the caller so the same audit renders to the same bytes. */
  generatedAt: string;
  sandboxRuns: SandboxRunReport[];
}

export function countBySeverity(findings: Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** Findings ordered most severe first, report order within a severity. */
export function bySeverity(findings: Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => SEVERITY_RANK[b.f.severity] - SEVERITY_RANK[a.f.severity] || a.i - b.i)
    .map((x) => x.f);
}

const CAPABILITY_PHRASE: Record<string, string> = {
  'file-read': 'file reads',
  'file-write': 'file writes',
  'filesystem-enumeration': 'file-system enumeration',
  network: 'network access',
  process: 'process execution',
  'python-code': 'Python code execution',
  'resource-exhaustion': 'resource exhaustion',
  'custom-op': 'custom native code',
  policy: 'ops outside the allowed policy',
  integrity: 'a checkpoint that fails its integrity checks',
  'known-vulnerability': 'known TensorFlow kernel vulnerabilities',
};

export function capabilityPhrase(capability: string): string {
  return CAPABILITY_PHRASE[capability] ?? capability;
}

/** Plain-words impact of a capability, for the report and the vulnerability draft. */
export const CAPABILITY_IMPACT: Record<string, string> = {
  'file-read':
    'Loading or serving the model reads files from the host with the privileges of the TensorFlow process; their contents can flow into outputs, logs or other writes (information disclosure).',
  'file-write':
    'Loading or serving the model creates or overwrites files on the host with the privileges of the TensorFlow process: planted code, corrupted data or configuration, or persistence.',
  'filesystem-enumeration':
    'The model lists directories on the host, revealing user names, projects and secrets locations, and can feed the names into reads or writes.',
  network:
    'The model opens network connections from the serving host, which can exfiltrate data or reach internal services (server-side request forgery).',
  process: 'The model starts processes or runs native code on the host: full compromise of the serving process.',
  'python-code':
    'The model runs arbitrary Python in the loading process: full compromise of the host account running TensorFlow.',
  'resource-exhaustion':
    'The model allocates memory or compute sized by attacker-controlled values, exhausting the host (denial of service).',
  'custom-op':
    'The model needs an op outside TensorFlow: its kernel is arbitrary native code loaded from a library, which runs with the process privileges.',
  policy: 'The model uses ops outside the allowed inference policy; their effects were not approved.',
  integrity:
    'A checkpoint is corrupt or was changed after export: its values cannot be read or trusted, so which branches it switches on cannot be judged.',
  'known-vulnerability':
    'The TensorFlow release that will serve the model has published bugs in the kernels of ops this model uses (out-of-bounds memory access, null dereferences, CHECK failures): inputs that reach those ops can crash the server or corrupt its memory.',
};

/** How a checkpoint binds to the model, in one line for the text report, the PDF and the UI. */
export function coverageSummary(entry: CheckpointReport): string {
  const c = entry.coverage;
  if (!c) return '';
  const parts: string[] = [];
  if (c.integrity) parts.push(`integrity: ${c.integrity}${c.method === 'own' ? '' : ' (verdicts under it are unknown)'}`);
  if (c.method === 'own') parts.push(`the model's own checkpoint: ${c.total} variable(s)`);
  else if (c.differentModel) parts.push(`a checkpoint of a different model: none of the model's ${c.total} variables is in it; TensorFlow restores nothing and the model keeps its own values`);
  else {
    const where = c.method === 'object-graph' ? `object graph, root ${c.root === '' ? '(checkpoint root)' : c.root}` : c.method === 'keras-weights' ? 'Keras weights by layer path' : 'by name';
    parts.push(`${where}: ${c.matched} of ${c.total} variables matched`);
    if (c.matched < c.total) parts.push(`${c.total - c.matched} not in the checkpoint keep the model's own value (${c.missing.slice(0, 5).join(', ')}${c.missing.length > 5 ? ', …' : ''})`);
  }
  if (c.values) parts.push(valueSummary(c.values));
  if (c.restoreCall && !c.differentModel) parts.push(`TensorFlow binds it with ${c.restoreCall}`);
  if (c.extraCount) parts.push(`${c.extraCount} extra key(s) ignored, as expect_partial() does (${c.extra.slice(0, 4).join(', ')}${c.extraCount > 4 ? ', …' : ''})`);
  if (c.refused) parts.push(c.refused);
  if (c.candidates > 1 && c.alternatives.length) parts.push(`${c.candidates} candidate roots; also evaluated at ${c.alternatives.map((a) => a || '(checkpoint root)').join(', ')}`);
  for (const n of c.notes) parts.push(n);
  return parts.join('; ');
}

/** Which matched weights the file changes: N changed (first few, with their largest difference) / M unchanged / K not compared. */
export function valueSummary(v: WeightValueComparison): string {
  const listed = v.changedWeights.slice(0, 5).map((w) => `${w.variable} (${w.elementsChanged} of ${w.elements} values, max |Δ| ${w.maxAbsDiff === null ? 'non-finite' : formatDiff(w.maxAbsDiff)})`);
  let text = `values against the model's own: ${v.changed} changed, ${v.unchanged} unchanged, ${v.notCompared} not compared`;
  if (listed.length) text += `; changed: ${listed.join(', ')}${v.changed > listed.length ? ', …' : ''}`;
  if (v.notCompared) text += `; not compared (their effect is unknown): ${v.notComparedWeights.slice(0, 3).map((w) => `${w.variable}: ${w.reason}`).join(', ')}${v.notCompared > 3 ? ', …' : ''}`;
  return text;
}

function formatDiff(d: number): string {
  return d !== 0 && (Math.abs(d) < 1e-3 || Math.abs(d) >= 1e6) ? d.toExponential(3) : String(Number(d.toPrecision(6)));
}

/** One sentence: the audit's verdict. */
export function verdictSentence(report: ScanReport): string {
  const ordered = bySeverity(report.findings);
  const top = ordered[0];
  if (!top || top.severity === 'info' || top.severity === 'low') {
    if (report.errors.length > 0) return 'Inconclusive: parts of the model could not be read; see errors.';
    return report.findings.length === 0
      ? 'No unsafe capability found by static analysis.'
      : 'No unsafe capability at medium or higher severity found by static analysis.';
  }
  const phrase = capabilityPhrase(top.capability);
  if (top.capability === 'known-vulnerability') {
    const runtime = report.analysis.tensorflowRuntime ?? 'the given TensorFlow';
    return top.severity === 'high' || top.severity === 'critical'
      ? `Unsafe on TensorFlow ${runtime}: any caller can reach ops with ${phrase} (upgrade TensorFlow).`
      : `Caution on TensorFlow ${runtime}: the model uses ops with ${phrase} that crash the server or need a crafted model or checkpoint to trigger.`;
  }
  switch (top.severity) {
    case 'critical':
      if (top.trigger.kind === 'environment') return `Unsafe: the run-time environment (clock, randomness or data read at run time) triggers ${phrase}, and it does now.`;
      return top.trigger.kind === 'variable'
        ? `Unsafe: a checkpoint can activate ${phrase}, and an examined checkpoint does.`
        : `Unsafe: the model performs ${phrase}.`;
    case 'high':
      if (top.trigger.kind === 'environment') return `Unsafe: ${phrase} is decided at run time by the clock, randomness or data read at run time.`;
      return top.trigger.kind === 'variable'
        ? `Unsafe: a checkpoint can activate ${phrase} (dormant in the examined checkpoints).`
        : `Unsafe: the model can perform ${phrase}.`;
    default:
      return top.trigger.kind === 'input'
        ? `Caution: inputs can trigger ${phrase}.`
        : `Caution: the model contains ${phrase} reached only in limited conditions.`;
  }
}
