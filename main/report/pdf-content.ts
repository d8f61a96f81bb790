// The audit PDF's content as a pdfmake document definition: cover, contents, executive
// summary, one section per finding, sandbox runs, method and limits, appendix. Model text is
// escaped (printable) before it is placed; pdfmake never interprets strings as markup.
import { ADVISORY_DATA_CREDIT, SEVERITIES, type Finding, type Severity } from '../../shared/findings.ts';
import type { SandboxRunReport } from '../../shared/sandbox.ts';
import { branchesToUnsafe, layoutFigure } from '../../shared/figure-layout.ts';
import { figureToSvg } from '../../shared/figure-svg.ts';
import { bySeverity, capabilityPhrase, countBySeverity, coverageSummary, verdictSentence, type AuditDocument } from '../../shared/report.ts';
import { forCourier, forRoboto } from './pdf-fonts.ts';
import { findDisagreements, runCheckpointLabel, runVerdict } from '../sandbox/confirm.ts';

// Loose on purpose: pdfmake's document definition is a dynamic tree of plain objects.
export type Content = string | { [key: string]: unknown } | Content[];

export const PAGE = { width: 595.28, height: 841.89, margin: 48 };
export const CONTENT_WIDTH = PAGE.width - 2 * PAGE.margin;
const FIGURE_MAX_HEIGHT = 320;

export const SEVERITY_COLOR: Record<Severity, string> = {
  critical: '#9b1c1c',
  high: '#c2410c',
  medium: '#a16207',
  low: '#1d4ed8',
  info: '#4b5563',
};

const STATE_COLOR = { active: '#9b1c1c', dormant: '#166534', unknown: '#a16207' } as const;

const t = (s: string) => forRoboto(s);
const mono = (s: string, extra: Record<string, unknown> = {}): Content => ({ text: forCourier(s), style: 'mono', ...extra });
const label = (s: string): Content => ({ text: s, style: 'label' });

export const TABLE_LAYOUT = {
  hLineWidth: (i: number, node: { table: { body: unknown[] } }) => (i === 0 || i === node.table.body.length ? 0.8 : 0.4),
  vLineWidth: () => 0,
  hLineColor: () => '#c9ced6',
  paddingLeft: () => 4,
  paddingRight: () => 4,
  paddingTop: () => 3,
  paddingBottom: () => 3,
};

const CELL_PADDING = 8;

/**
 * Column widths as numbers: pdfmake widens '*' columns to their longest unbreakable word (a
 * long node name would push the table off the page) but hard-wraps text in fixed columns.
 */
export function fixedWidths(widths: (number | '*')[], total = CONTENT_WIDTH): number[] {
  const fixed = widths.reduce<number>((sum, w) => sum + (w === '*' ? 0 : w), 0);
  const stars = widths.filter((w) => w === '*').length;
  const star = stars > 0 ? (total - fixed - CELL_PADDING * widths.length) / stars : 0;
  return widths.map((w) => Math.floor((w === '*' ? star : w) * 100) / 100);
}

export function dataTable(headers: string[], rows: Content[][], widths: (number | '*')[]): Content {
  return {
    table: {
      headerRows: 1,
      widths: fixedWidths(widths),
      body: [headers.map((h) => ({ text: h, style: 'tableHeader' })), ...rows],
    },
    layout: TABLE_LAYOUT,
    margin: [0, 2, 0, 8],
  };
}

function factsTable(rows: [string, Content][]): Content {
  return {
    table: { widths: fixedWidths([96, '*']), body: rows.map(([k, v]) => [label(k), v]) },
    layout: TABLE_LAYOUT,
    margin: [0, 2, 0, 8],
  };
}

function heading(text: string, id: string, level: 1 | 2 = 1): Content {
  return { text, style: level === 1 ? 'h1' : 'h2', id, tocItem: level === 1, outline: true };
}

function bytes(n: number): string {
  return n.toLocaleString('en-US');
}

function basename(path: string): string {
  const parts = path.replace(/\/+$/, '').split('/');
  return parts[parts.length - 1] || path;
}

// ---------------------------------------------------------------- cover

function cover(doc: AuditDocument): Content[] {
  const { report, summary } = doc;
  const top = bySeverity(report.findings)[0];
  const verdictColor = top && top.severity !== 'info' && top.severity !== 'low' ? SEVERITY_COLOR[top.severity] : '#166534';
  const producers = [...new Set(summary.metaGraphs.map((m) => m.producer).filter((p): p is number => p !== null))];
  const tags = summary.metaGraphs.map((m) => (m.tags.length > 0 ? m.tags.join(',') : '(no tags)'));
  const checkpoints = report.checkpoints.length > 0 ? report.checkpoints.map((c) => mono(c.path)) : [{ text: 'none' }];
  return [
    { text: 'TensorFlow Model Security Audit', style: 'title' },
    { text: t(basename(report.model.path)), style: 'subtitle' },
    {
      table: { widths: fixedWidths(['*']), body: [[{ text: verdictSentence(report), style: 'verdict', fillColor: verdictColor }]] },
      layout: 'noBorders',
      margin: [0, 6, 0, 14],
    },
    factsTable([
      ['Model path', mono(report.model.path)],
      ['Format', t(report.model.format)],
      ['TensorFlow version', t(report.model.tensorflowVersion ?? summary.tensorflowVersion ?? 'unknown')],
      ['TensorFlow runtime assessed', report.analysis.tensorflowRuntime ? t(report.analysis.tensorflowRuntime) : 'none given (known advisories listed per op, not judged)'],
      ['Producer', producers.length > 0 ? producers.join(', ') : 'unknown'],
      ['Meta graphs', tags.length > 0 ? t(tags.join('; ')) : 'none'],
      ['Checkpoints examined', { stack: checkpoints }],
      ['Report date', t(doc.generatedAt)],
      ['Tool', t(`${report.tool.name} ${report.tool.version}`)],
    ]),
    { text: 'Model files', style: 'h3' },
    dataTable(
      ['File', 'Size (bytes)', 'SHA-256'],
      report.model.files.map((f) => [mono(f.path), { text: bytes(f.size), alignment: 'right' }, mono(f.sha256, { fontSize: 6.6 })]),
      ['*', 56, 264],
    ),
    { text: 'Sign-off', style: 'h3' },
    factsTable([
      ['Auditor', doc.auditor ? t(doc.auditor) : { text: '_'.repeat(48), color: '#6b7280' }],
      ['Signature', { text: '_'.repeat(48), color: '#6b7280' }],
      ['Date', { text: '_'.repeat(24), color: '#6b7280' }],
    ]),
    { text: '', pageBreak: 'after' },
    { toc: { title: { text: 'Contents', style: 'h1' }, textMargin: [0, 2, 0, 2] } },
    { text: '', pageBreak: 'after' },
  ];
}

// ---------------------------------------------------------------- summary

function isActive(f: Finding): boolean {
  return f.trigger.activation.some((a) => a.state === 'active');
}

/** A checkpoint-driven finding that an examined checkpoint switches on. */
function switchedOn(f: Finding): boolean {
  return f.trigger.kind === 'variable' && isActive(f);
}

function executiveSummary(doc: AuditDocument): Content[] {
  const { report } = doc;
  const counts = countBySeverity(report.findings);
  const active = report.findings.filter(switchedOn).length;
  const gated = report.findings.filter((f) => f.trigger.kind === 'variable').length;
  const ordered = bySeverity(report.findings);
  const content: Content[] = [
    heading('Executive summary', 'summary'),
    { text: verdictSentence(report), style: 'lead' },
    {
      table: {
        widths: fixedWidths(SEVERITIES.map(() => '*' as const)),
        body: [
          SEVERITIES.map((s) => ({ text: s.toUpperCase(), style: 'tableHeader', color: '#ffffff', fillColor: SEVERITY_COLOR[s], alignment: 'center' })),
          SEVERITIES.map((s) => ({ text: String(counts[s]), alignment: 'center', fontSize: 14, bold: true })),
        ],
      },
      layout: TABLE_LAYOUT,
      margin: [0, 4, 0, 10],
    },
    {
      ul: [
        `${report.findings.length} finding(s) in ${report.analysis.opsAnalysed} analysed op(s) across ${report.analysis.functionsAnalysed} function(s).`,
        `${gated} finding(s) are controlled by checkpoint values; ${active} of them are switched on by an examined checkpoint.`,
        `${report.checkpoints.length} checkpoint(s) examined; ${doc.sandboxRuns.length} sandbox run(s) recorded.`,
        report.errors.length > 0 ? `${report.errors.length} part(s) of the model could not be read (see Method and limits).` : 'Every model file was read.',
      ],
      margin: [0, 0, 0, 10],
    },
  ];
  if (ordered.length > 0) {
    content.push(
      { text: 'Findings at a glance', style: 'h3' },
      dataTable(
        ['ID', 'Severity', 'Capability', 'Node', 'Checkpoints', 'Page'],
        ordered.map((f) => [
          { text: t(f.id), linkToDestination: `finding-${f.id}`, color: '#1d4ed8' },
          { text: f.severity, color: SEVERITY_COLOR[f.severity], bold: true },
          t(f.capability),
          mono(f.function ? `${f.function}/${f.node} (${f.op})` : `${f.node} (${f.op})`),
          activationSummary(f),
          { pageReference: `finding-${f.id}`, alignment: 'right' },
        ]),
        [24, 44, 62, '*', 70, 36],
      ),
    );
  }
  return content;
}

function activationSummary(f: Finding): string {
  if (f.trigger.kind !== 'variable' || f.trigger.activation.length === 0) {
    return f.trigger.kind === 'none' ? 'unconditional' : `${f.trigger.kind}-driven`;
  }
  const by = { active: 0, dormant: 0, unknown: 0 };
  for (const a of f.trigger.activation) by[a.state]++;
  return (['active', 'dormant', 'unknown'] as const).filter((s) => by[s] > 0).map((s) => `${by[s]} ${s}`).join(', ');
}

// ---------------------------------------------------------------- findings

function figureContent(f: Finding): Content | null {
  if (f.figure.nodes.length === 0) return null;
  const activeNodeIds = isActive(f) ? branchesToUnsafe(f.figure) : [];
  // Narrower boxes and rank gaps than on screen: the page is 500pt wide and chains are long.
  const figure = {
    nodes: f.figure.nodes.map((n) => ({ ...n, label: forRoboto(n.label) })),
    edges: f.figure.edges.map((e) => (e.label === undefined ? e : { ...e, label: forRoboto(e.label) })),
  };
  const laid = layoutFigure(figure, { maxLineChars: 16, maxLines: 4, rankSep: 24, activeNodeIds });
  const scale = Math.min(1, CONTENT_WIDTH / laid.width, FIGURE_MAX_HEIGHT / laid.height);
  return {
    stack: [
      { svg: figureToSvg(laid), width: laid.width * scale, height: laid.height * scale },
      {
        text:
          (isActive(f)
            ? 'Figure: evidence path; the branch an examined checkpoint activates is outlined in red.'
            : 'Figure: evidence path from the trigger to the unsafe op.') +
          (laid.omittedNodes > 0 ? ` ${laid.omittedNodes} further node(s) are not drawn; the evidence chain lists the path.` : ''),
        style: 'caption',
      },
    ],
    unbreakable: true,
    margin: [0, 4, 0, 8],
  };
}

/** One finding's section; `anchor` keeps ids unique when several models share a document. */
export function findingSection(f: Finding, anchor: { idPrefix: string; parentId: string } = { idPrefix: '', parentId: 'findings' }): Content[] {
  const where = f.function ? `${f.function}/${f.node}` : f.node;
  const head: Content[] = [
    {
      text: [
        { text: `${t(f.id)}  `, color: '#111827' },
        { text: f.severity.toUpperCase(), color: SEVERITY_COLOR[f.severity] },
        { text: `  ${t(f.capability)}: ${t(f.op)}`, color: '#111827' },
      ],
      style: 'h2',
      id: `finding-${anchor.idPrefix}${f.id}`,
      outline: true,
      outlineText: `${f.id} ${f.severity} ${f.capability} ${f.op}`,
      outlineParentId: anchor.parentId,
    },
    { text: t(f.message), margin: [0, 0, 0, 6] },
    factsTable([
      ['Severity', { text: f.severity, color: SEVERITY_COLOR[f.severity], bold: true }],
      ['Capability', `${t(f.capability)} (${capabilityPhrase(f.capability)})`],
      ['Rule', mono(f.rule)],
      ['Node', mono(`${where} (${f.op})`)],
      ['Function', f.function ? mono(f.function) : 'graph level'],
      ['Meta graph', f.metaGraph ? t(f.metaGraph) : '-'],
      ['Runs at', f.reachability],
      ['Entry points', f.entryPoints.length > 0 ? t(f.entryPoints.join(', ')) : 'none (not reached)'],
    ]),
  ];
  const body: Content[] = [{ stack: head, unbreakable: true }];

  if (f.arguments.length > 0) {
    body.push(
      { text: 'Resolved arguments', style: 'h3' },
      dataTable(
        ['Input', 'Value or expression', 'Classification'],
        f.arguments.map((a) => [
          mono(a.input),
          a.value !== null ? mono(JSON.stringify(a.value)) : mono(a.expression, { italics: true }),
          `${t(a.classification)}${a.note ? `: ${t(a.note)}` : ''}`,
        ]),
        [70, '*', 110],
      ),
    );
  }

  const tr = f.trigger;
  body.push({ text: 'Trigger', style: 'h3' }, {
    text: [
      { text: 'Kind: ', bold: true },
      tr.kind,
      ...(tr.variables.length > 0 ? [{ text: '   Variables: ', bold: true }, { text: tr.variables.map(forCourier).join(', '), font: 'Courier', fontSize: 8 }] : []),
    ],
    margin: [0, 0, 0, 4],
  });
  if (tr.environment?.length)
    body.push({ text: [{ text: 'Decided at run time by: ', bold: true }, { text: tr.environment.map(forCourier).join('; '), font: 'Courier', fontSize: 8 }, ' (nothing in the model, its checkpoint or the caller decides it)'], margin: [0, 0, 0, 4] });
  if (tr.selfWritten?.length)
    body.push({ text: [{ text: 'Written by the model itself: ', bold: true }, { text: tr.selfWritten.map(forCourier).join('; '), font: 'Courier', fontSize: 8 }, ' (a checkpoint value holds only until the first write)'], margin: [0, 0, 0, 4] });
  if (tr.gates.length > 0) {
    body.push(
      dataTable(
        ['Gate', 'Branch needed', 'Predicate'],
        tr.gates.map((g) => [
          mono(`${g.function ? `${g.function}/` : ''}${g.node} (${g.op})`),
          mono(`${g.branch}${g.branchFunction ? ` -> ${g.branchFunction}` : ''}`),
          { stack: [mono(g.predicate.expression), { text: `source: ${g.predicate.source}${g.predicate.environment?.length ? ` (${g.predicate.environment.join('; ')})` : ''}`, style: 'small' }] },
        ]),
        [140, 110, '*'],
      ),
    );
  }
  if (tr.activation.length > 0) {
    body.push(
      { text: 'Checkpoint verdicts', style: 'h3' },
      dataTable(
        ['Checkpoint', 'State', 'Values', 'Why'],
        tr.activation.map((a) => [
          mono(a.checkpoint),
          { text: a.state.toUpperCase(), bold: true, color: STATE_COLOR[a.state] },
          { stack: Object.entries(a.values).map(([k, v]) => mono(`${k} = ${v}`)) },
          t(a.reason),
        ]),
        [130, 46, 130, '*'],
      ),
    );
  }

  if (f.evidence.length > 0) {
    body.push({ text: 'Evidence chain', style: 'h3' }, {
      table: {
        widths: fixedWidths([16, '*']),
        body: f.evidence.map((e, i) => [{ text: `${i + 1}.`, style: 'small', alignment: 'right' }, mono(e)]),
      },
      layout: { ...TABLE_LAYOUT, hLineWidth: () => 0, paddingTop: () => 1, paddingBottom: () => 1 },
      margin: [0, 0, 0, 6],
    });
  }
  const figure = figureContent(f);
  if (figure) body.push(figure);
  if (f.advisories && f.advisories.length > 0) {
    body.push(
      { text: 'Advisories', style: 'h3' },
      dataTable(
        ['Advisory', 'Aliases', 'Class', 'Fixed in'],
        f.advisories.map((a) => [{ text: t(a.id), link: a.url, color: '#1d4ed8' }, mono(a.aliases.join(', ')), t(a.class), t(a.fixedIn ?? 'no fix recorded')]),
        [84, '*', 90, 60],
      ),
      { text: ADVISORY_DATA_CREDIT, style: 'small', margin: [0, 0, 0, 6] },
    );
  }
  if (f.details && Object.keys(f.details).length > 0) {
    body.push(
      { text: 'Details', style: 'h3' },
      factsTable(Object.entries(f.details).map(([k, v]) => [t(k), t(v)])),
    );
  }
  body.push({
    stack: [{ text: 'Recommendation', style: 'h3' }, { text: t(f.recommendation || 'No recommendation recorded.') }],
    unbreakable: true,
    margin: [0, 0, 0, 16],
  });
  return body;
}

function findings(doc: AuditDocument): Content[] {
  const ordered = bySeverity(doc.report.findings);
  const content: Content[] = [{ ...(heading('Findings', 'findings') as object), pageBreak: 'before' }];
  if (ordered.length === 0) content.push({ text: 'The analysis reported no findings.', margin: [0, 0, 0, 10] });
  for (const f of ordered) content.push(...findingSection(f));
  return content;
}

// ---------------------------------------------------------------- sandbox

function sandboxRun(run: SandboxRunReport, index: number): Content[] {
  const p = run.policy;
  const outcome = run.timedOut
    ? 'timed out'
    : run.signal
      ? `killed by ${run.signal}`
      : run.exitCode === null
        ? 'no exit code'
        : `exit code ${run.exitCode}`;
  const content: Content[] = [
    { text: `Run ${index + 1}: ${t(run.runId)}`, style: 'h2', outline: true, outlineParentId: 'sandbox' },
    factsTable([
      ['Started', t(run.startedAt)],
      ['Command', mono(run.command.join(' '))],
      ['Backend / runner', `${p.backend} / ${p.runner}`],
      ['Network', p.allowNetwork ? 'allowed' : 'blocked'],
      ['Checkpoint', run.checkpoint ? mono(run.checkpoint) : p.checkpoint ? mono(p.checkpoint) : "model's own"],
      ['Signature', p.signature ? t(p.signature) : '-'],
      ['Inputs', run.inputs && Object.keys(run.inputs).length > 0
        ? mono(Object.entries(run.inputs).map(([n, i]) => `${n}: ${i.dtype}[${i.shape.join(',')}] ${i.source} ${JSON.stringify(i.value).slice(0, 120)}`).join('\n'))
        : 'not reported by the runner'],
      ['Limits', `${p.limits.memoryMb} MB memory, ${p.limits.cpuSeconds} s CPU, ${p.limits.wallSeconds} s wall, ${p.limits.fileSizeMb} MB per file, ${p.limits.processes} processes`],
      ['Outcome', `${outcome}; ${run.wallSeconds.toFixed(1)} s wall${run.cpuSeconds !== null ? `, ${run.cpuSeconds.toFixed(1)} s CPU` : ''}${run.peakMemoryMb !== null ? `, peak ${run.peakMemoryMb} MB` : ''}`],
    ]),
  ];
  if (p.rationale.length > 0) content.push({ text: 'Policy rationale', style: 'h3' }, { ul: p.rationale.map(t), margin: [0, 0, 0, 6] });
  content.push({ text: 'Files written', style: 'h3' });
  content.push(
    run.filesWritten.length > 0
      ? dataTable(['Path', 'Change', 'Size'], run.filesWritten.map((w) => [mono(w.path), w.change, { text: bytes(w.size), alignment: 'right' }]), ['*', 60, 60])
      : { text: 'None.', margin: [0, 0, 0, 6] },
  );
  content.push({ text: 'Observed system calls', style: 'h3' });
  content.push(
    run.syscalls.length > 0
      ? dataTable(['Kind', 'Call', 'Target', 'Result'], run.syscalls.map((s) => [s.kind, mono(s.call), mono(s.target), mono(s.result)]), [46, 60, '*', 80])
      : { text: 'None recorded.', margin: [0, 0, 0, 6] },
  );
  if (run.notes.length > 0) content.push({ ul: run.notes.map(t), margin: [0, 0, 0, 6] });
  return content;
}

/** The embedded fonts lack the arrow glyph. */
const arrows = (s: string) => s.replace(/→/g, '->');

const VERDICT_COLOR = { confirmed: '#9b1c1c', 'not-observed': '#166534', inconclusive: '#a16207' } as const;

function runName(run: SandboxRunReport, index: number): string {
  const checkpoint = runCheckpointLabel(run).split('/').slice(-2).join('/');
  return `Run ${index + 1} (${checkpoint})`;
}

/** Per finding and run: what the static half predicted and what the sandbox observed; disagreements first. */
function dynamicConfirmation(doc: AuditDocument): Content[] {
  const runs = doc.sandboxRuns.map((run) => ({ ...run, checkpoint: runCheckpointLabel(run), findings: doc.report.findings.map((f) => runVerdict(f, run)) }));
  const content: Content[] = [{ text: 'Dynamic confirmation', style: 'h2', outline: true, outlineParentId: 'sandbox', id: 'dynamic-confirmation' }];
  content.push({
    text:
      'Each finding is matched against what the sandbox observed while the op could run: confirmed (a system call on the finding\'s target, or the limit ' +
      'or ResourceExhausted error for resource exhaustion), not observed (that phase ran to its end and nothing matched), or inconclusive ' +
      '(the run failed or timed out before it, or the target is unresolved).',
    margin: [0, 0, 0, 6],
  });
  const disagreements = findDisagreements(runs);
  if (disagreements.length > 0) {
    content.push({ text: 'Disagreements between the static analysis and the sandbox', style: 'h3', color: '#9b1c1c' });
    content.push({ ul: disagreements.map((d) => ({ text: t(arrows(d.message)), color: '#9b1c1c' })), margin: [0, 0, 0, 6] });
  }
  if (doc.report.findings.length === 0) {
    content.push({ text: 'No findings to confirm.', margin: [0, 0, 0, 6] });
    return content;
  }
  const shown = runs.slice(0, 4);
  const rows = doc.report.findings.map((f, i) => [
    t(f.id),
    t(f.op),
    mono(runs[0]!.findings[i]!.target ?? '(unresolved)'),
    ...shown.map((run) => {
      const c = run.findings[i]!;
      return { text: [{ text: `${c.observed}\n`, color: VERDICT_COLOR[c.observed], bold: true }, { text: `static: ${c.static}`, color: '#4b5563' }] };
    }),
  ]);
  content.push(dataTable(['Finding', 'Op', 'Target', ...shown.map(runName)], rows, [40, 70, '*', ...shown.map(() => 72)]));
  for (const [index, run] of shown.entries()) {
    const confirmed = run.findings.filter((c) => c.observed === 'confirmed');
    if (confirmed.length === 0) continue;
    content.push({ text: `Evidence, ${runName(run, index)}`, style: 'h3' });
    content.push({ ul: confirmed.map((c) => [t(`${c.id} ${c.op}:`), ...c.evidence.map((e) => mono(arrows(e)))]), margin: [0, 0, 0, 6] });
  }
  return content;
}

function sandbox(doc: AuditDocument): Content[] {
  if (doc.sandboxRuns.length === 0) return [];
  return [{ ...(heading('Sandbox runs', 'sandbox') as object), pageBreak: 'before' }, ...dynamicConfirmation(doc), ...doc.sandboxRuns.flatMap(sandboxRun)];
}

// ---------------------------------------------------------------- method and limits

function method(doc: AuditDocument): Content[] {
  const { report, summary } = doc;
  const a = report.analysis;
  const content: Content[] = [
    { ...(heading('Method and limits', 'method') as object), pageBreak: 'before' },
    {
      text:
        'The model was parsed without TensorFlow and without executing anything from it. The analysis followed data and control flow through the graph and its whole function library, found every op with an unsafe capability, the control-flow gates that guard it and the sources of each gate predicate, and evaluated those predicates with the values of each examined checkpoint.',
      margin: [0, 0, 0, 8],
    },
    factsTable([
      ['Ops analysed', String(a.opsAnalysed)],
      ['Functions analysed', String(a.functionsAnalysed)],
      ['Meta graphs', String(summary.metaGraphs.length)],
      ['Checkpoints', report.checkpoints.length > 0 ? { stack: report.checkpoints.flatMap((c) => [mono(c.path), ...(c.coverage ? [{ text: t(coverageSummary(c)), fontSize: 8, margin: [0, 0, 0, 4] as [number, number, number, number] }] : [])]) } : 'none examined'],
      ['Isolation', a.isolated ? `isolated: ${t(a.isolation)}` : `NOT isolated${a.isolation ? `: ${t(a.isolation)}` : ''}`],
    ]),
    { text: 'What was not analysed', style: 'h3' },
    {
      ul: [
        a.unknownSemantics.length > 0
          ? { text: [`Ops whose semantics are not modelled (their effects are unknown): `, { text: a.unknownSemantics.map(forCourier).join(', '), font: 'Courier', fontSize: 8 }] }
          : 'Every op in the model has modelled semantics.',
        'Checkpoints other than the ones listed above: a dormant branch may be switched on by a checkpoint that was not examined.',
        'Values that depend on inputs at serving time: input-driven gates are reported, not decided.',
        'Native kernels of custom ops: their code is outside the model file and was not inspected.',
        'The static verdict is not a proof of safety; run the model in the sandbox before trusting a clean report.',
      ],
      margin: [0, 0, 0, 8],
    },
  ];
  if (a.notes.length > 0) content.push({ text: 'Analysis notes', style: 'h3' }, { ul: a.notes.map(t), margin: [0, 0, 0, 8] });
  const warnings = summary.warnings;
  if (report.errors.length > 0 || warnings.length > 0) {
    content.push(
      { text: 'Errors and warnings', style: 'h3' },
      dataTable(
        ['File', 'Message'],
        [...report.errors.map((e) => [mono(e.file), t(e.message)]), ...warnings.map((w) => [{ text: 'warning' }, t(w)])],
        [150, '*'],
      ),
    );
  }
  return content;
}

// ---------------------------------------------------------------- appendix

function appendix(doc: AuditDocument): Content[] {
  const { summary } = doc;
  const content: Content[] = [{ ...(heading('Appendix', 'appendix') as object), pageBreak: 'before' }];
  summary.metaGraphs.forEach((mg, i) => {
    const tag = mg.tags.length > 0 ? mg.tags.join(',') : `#${i + 1}`;
    const ops = Object.entries(mg.opCounts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    content.push({ text: `Op inventory (meta graph ${t(tag)}: ${mg.nodeCount} nodes, ${mg.functions.length} functions)`, style: 'h2' });
    const half = Math.ceil(ops.length / 2);
    const rows: Content[][] = [];
    for (let r = 0; r < half; r++) {
      const left = ops[r];
      const right = ops[r + half];
      rows.push([mono(left[0]), { text: String(left[1]), alignment: 'right' }, right ? mono(right[0]) : '', right ? { text: String(right[1]), alignment: 'right' } : '']);
    }
    content.push(rows.length > 0 ? dataTable(['Op', 'Count', 'Op', 'Count'], rows, ['*', 40, '*', 40]) : { text: 'No ops.', margin: [0, 0, 0, 6] });

    content.push({ text: `Signatures (meta graph ${t(tag)})`, style: 'h2' });
    const tensor = (m: Record<string, { dtype: string; shape: { unknownRank: boolean; dims: number[] } | null }>) =>
      Object.entries(m).map(([k, v]) => mono(`${k}: ${v.dtype.replace(/^DT_/, '').toLowerCase()}${v.shape ? (v.shape.unknownRank ? '[?]' : `[${v.shape.dims.join(',')}]`) : ''}`));
    content.push(
      mg.signatures.length > 0
        ? dataTable(
            ['Signature', 'Method', 'Inputs', 'Outputs'],
            mg.signatures.map((s) => [mono(s.key), mono(s.methodName), { stack: tensor(s.inputs) }, { stack: tensor(s.outputs) }]),
            [90, 100, '*', '*'],
          )
        : { text: 'No signatures.', margin: [0, 0, 0, 6] },
    );
  });

  const entries = new Map((summary.checkpoint?.entries ?? []).map((e) => [e.key, e]));
  const variables = summary.metaGraphs.flatMap((m) => m.variables);
  content.push({ text: 'Variables', style: 'h2' });
  if (summary.checkpoint) content.push({ text: [`Values from checkpoint `, { text: forCourier(summary.checkpoint.prefix), font: 'Courier', fontSize: 8 }, ` (first values of each tensor).`], style: 'small', margin: [0, 0, 0, 4] });
  const valueOf = (key: string | null): Content => {
    const e = key ? entries.get(key) : undefined;
    if (!e) return { text: '-', color: '#6b7280' };
    if (e.error) return { text: t(e.error), color: SEVERITY_COLOR.high };
    return mono(e.values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v))).join(', ') + (e.values.length >= 16 ? ', ...' : ''));
  };
  content.push(
    variables.length > 0
      ? dataTable(
          ['Variable', 'Checkpoint key', 'Type', 'Value'],
          variables.map((v) => [mono(v.name), v.checkpointKey ? mono(v.checkpointKey) : '-', mono(`${v.dtype.replace(/^DT_/, '').toLowerCase()}${v.shape ? `[${v.shape.join(',')}]` : ''}`), valueOf(v.checkpointKey)]),
          [110, '*', 60, 110],
        )
      : { text: 'No variables.', margin: [0, 0, 0, 6] },
  );
  return content;
}

export function auditContent(doc: AuditDocument): Content[] {
  return [...cover(doc), ...executiveSummary(doc), ...findings(doc), ...sandbox(doc), ...method(doc), ...appendix(doc)];
}

export const STYLES = {
  title: { fontSize: 24, bold: true, color: '#0f2a4a', margin: [0, 60, 0, 4] },
  subtitle: { fontSize: 14, color: '#374151', margin: [0, 0, 0, 10] },
  verdict: { fontSize: 13, bold: true, color: '#ffffff', margin: [10, 8, 10, 8] },
  lead: { fontSize: 12, bold: true, margin: [0, 0, 0, 8] },
  h1: { fontSize: 17, bold: true, color: '#0f2a4a', margin: [0, 0, 0, 10] },
  h2: { fontSize: 12.5, bold: true, color: '#0f2a4a', margin: [0, 14, 0, 4] },
  h3: { fontSize: 10, bold: true, color: '#374151', margin: [0, 6, 0, 3] },
  label: { bold: true, color: '#4b5563', fontSize: 8.5 },
  mono: { font: 'Courier', fontSize: 8 },
  tableHeader: { bold: true, fontSize: 8.5, color: '#1f2937', fillColor: '#eef1f5' },
  small: { fontSize: 7.5, color: '#4b5563' },
  caption: { fontSize: 7.5, italics: true, color: '#4b5563', margin: [0, 2, 0, 0] },
};
