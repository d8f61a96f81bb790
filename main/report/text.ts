// `tfaudit scan --format text`: findings grouped by severity, each with the chain that proves
// it, for reading in a terminal. Colour (ANSI) only when asked; model text is always escaped.
import { ADVISORY_DATA_CREDIT, SEVERITIES, type Finding, type ScanReport, type Severity } from '../../shared/findings.ts';
import { countBySeverity, coverageSummary, verdictSentence } from '../../shared/report.ts';
import { printable as p } from './printable.ts';

export interface TextReportOptions {
  color?: boolean;
}

type Paint = (code: string, text: string) => string;

const SEVERITY_COLOR: Record<Severity, string> = {
  critical: '1;97;41',
  high: '1;31',
  medium: '1;33',
  low: '36',
  info: '2',
};

function locationOf(f: Finding): string {
  return f.function ? `${f.function}/${f.node}` : f.node;
}

function findingLines(f: Finding, paint: Paint): string[] {
  const out: string[] = [];
  out.push(`  ${paint('1', `[${p(f.id)}]`)} ${paint(SEVERITY_COLOR[f.severity], f.severity.toUpperCase())} ${f.capability}  ${p(f.op)}  ${p(locationOf(f))}`);
  out.push(`      ${p(f.message)}`);
  const reached = f.entryPoints.length > 0 ? ` via ${f.entryPoints.map(p).join(', ')}` : '';
  out.push(`      rule ${p(f.rule)}; runs at ${f.reachability}${reached}${f.metaGraph ? `; meta graph ${p(f.metaGraph)}` : ''}`);
  if (f.arguments.length > 0) {
    out.push('      arguments:');
    for (const a of f.arguments) {
      const shown = a.value !== null ? JSON.stringify(p(a.value)) : p(a.expression);
      out.push(`        ${p(a.input)} = ${shown}  [${p(a.classification)}${a.note ? `: ${p(a.note)}` : ''}]`);
    }
  }
  const t = f.trigger;
  out.push(`      trigger: ${t.kind}${t.variables.length > 0 ? ` (${t.variables.map(p).join(', ')})` : ''}`);
  for (const e of t.environment ?? []) out.push(`        run-time source: ${p(e)}`);
  for (const w of t.selfWritten ?? []) out.push(`        written by the model itself: ${p(w)}`);
  for (const g of t.gates) {
    const where = g.function ? `${g.function}/${g.node}` : g.node;
    out.push(`        gate ${p(where)} (${p(g.op)}) must take ${p(g.branch)}${g.branchFunction ? ` → ${p(g.branchFunction)}` : ''}`);
    out.push(`          predicate [${g.predicate.source}] ${p(g.predicate.expression)}${g.predicate.environment?.length ? `  (reads ${g.predicate.environment.map(p).join('; ')})` : ''}`);
  }
  for (const a of t.activation) {
    const state = a.state === 'active' ? paint('1;31', 'ACTIVE ') : a.state === 'dormant' ? paint('32', 'dormant') : paint('33', 'unknown');
    const values = Object.entries(a.values).map(([k, v]) => `${p(k)}=${p(v)}`).join(', ');
    out.push(`        ${state} ${p(a.checkpoint)}${values ? `  ${values}` : ''}`);
    if (a.reason) out.push(`                ${p(a.reason)}`);
  }
  if (f.evidence.length > 0) {
    out.push('      chain:');
    f.evidence.forEach((step, i) => out.push(`        ${i === 0 ? '  ' : '→ '}${p(step)}`));
  }
  if (f.details) {
    for (const [k, v] of Object.entries(f.details)) out.push(`      ${p(k)}: ${p(v)}`);
  }
  if (f.advisories && f.advisories.length > 0) {
    out.push(`      advisories (${ADVISORY_DATA_CREDIT}):`);
    for (const a of f.advisories) out.push(`        ${p(a.id)} ${a.aliases.map(p).join(' ')}  ${p(a.class)}${a.fixedIn ? `, fixed in ${p(a.fixedIn)}` : ', no fix recorded'}  ${p(a.url)}`);
  }
  if (f.recommendation) out.push(`      ${paint('1', 'recommendation:')} ${p(f.recommendation)}`);
  return out;
}

export function renderTextReport(report: ScanReport, options: TextReportOptions = {}): string {
  const paint: Paint = options.color ? (code, text) => `\u001b[${code}m${text}\u001b[0m` : (_code, text) => text;
  const lines: string[] = [];
  const m = report.model;
  lines.push(paint('1', `${p(report.tool.name)} ${p(report.tool.version)}: ${p(m.path)}`));
  lines.push(`format ${p(m.format)}, TensorFlow ${m.tensorflowVersion ? p(m.tensorflowVersion) : 'unknown'}, ${m.files.length} file(s)`);
  if (report.analysis.tensorflowRuntime) lines.push(`TensorFlow runtime assessed: ${p(report.analysis.tensorflowRuntime)}`);
  for (const c of report.checkpoints) {
    lines.push(`checkpoint ${p(c.path)}`);
    const coverage = coverageSummary(c);
    if (coverage) lines.push(`  ${p(coverage)}`);
  }
  const counts = countBySeverity(report.findings);
  lines.push('');
  lines.push(paint('1', verdictSentence(report)));
  lines.push(SEVERITIES.map((s) => `${counts[s]} ${s}`).join(', '));

  for (const severity of SEVERITIES) {
    const group = report.findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    lines.push('');
    lines.push(paint(SEVERITY_COLOR[severity], `${severity.toUpperCase()} (${group.length})`));
    for (const f of group) {
      lines.push(...findingLines(f, paint));
      lines.push('');
    }
    lines.pop();
  }

  if (report.errors.length > 0) {
    lines.push('');
    lines.push(paint('1;31', `ERRORS (${report.errors.length})`));
    for (const e of report.errors) lines.push(`  ${p(e.file)}: ${p(e.message)}`);
  }
  const a = report.analysis;
  lines.push('');
  lines.push(`analysed ${a.opsAnalysed} op(s) in ${a.functionsAnalysed} function(s); ${a.isolated ? `isolated (${p(a.isolation)})` : 'not isolated'}`);
  if (a.unknownSemantics.length > 0) lines.push(`not modelled (unknown semantics): ${a.unknownSemantics.map(p).join(', ')}`);
  for (const n of a.notes) lines.push(`note: ${p(n)}`);
  return lines.join('\n') + '\n';
}
