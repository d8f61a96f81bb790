// Reports of a registry audit (many models): the terminal summary table, JSON, one SARIF log
// holding every model, and one PDF with a summary table and a section per model at or above the
// threshold. Each renders from RegistryEntry lines alone, so merged shard files and a single run
// produce the same reports.
import pdfmake from 'pdfmake';
import { SEVERITIES, SEVERITY_RANK, type ScanReport, type Severity } from '../../shared/findings.ts';
import { bySeverity } from '../../shared/report.ts';
import { assessedRuntimes, compareEntries, entryRuntime, entryVerdict, registryTotals, runtimeSentence, type RegistryEntry } from '../../shared/registry.ts';
import { printable as p } from './printable.ts';
import { renderSarif } from './sarif.ts';
import { dataTable, findingSection, PAGE, SEVERITY_COLOR, STYLES, type Content } from './pdf-content.ts';
import { COURIER, forCourier, forRoboto, ROBOTO } from './pdf-fonts.ts';

export interface RegistryReportOptions {
  /** The registry root as the user named it. */
  root: string;
  threshold: Severity;
}

const SHORT: Record<Severity, string> = { critical: 'C', high: 'H', medium: 'M', low: 'L', info: 'I' };

// ---------------------------------------------------------------- text

export function renderRegistryText(entries: RegistryEntry[], options: RegistryReportOptions & { color?: boolean }): string {
  const paint = (code: string, text: string) => (options.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const rows = [...entries].sort(compareEntries);
  const header = ['VERDICT', 'WORST', ...SEVERITIES.map((s) => SHORT[s]), 'SECONDS', 'MODEL'];
  const table = rows.map((e) => [
    entryVerdict(e, options.threshold),
    e.maxSeverity ?? (e.status === 'error' ? '-' : 'none'),
    ...SEVERITIES.map((s) => String(e.counts[s])),
    `${e.seconds.toFixed(2)}${e.cached ? '*' : ''}`,
    p(e.path),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const verdictColor = { unsafe: '1;31', unreadable: '1;35', review: '1;33', clean: '32' } as const;
  const runtime = runtimeSentence(entries);
  const out = [`Registry audit of ${p(options.root)}: ${entries.length} model(s)`, ...(runtime ? [p(runtime)] : []), '', paint('1', line(header))];
  for (const [i, row] of table.entries()) {
    const verdict = entryVerdict(rows[i]!, options.threshold);
    out.push(line(row).replace(verdict, paint(verdictColor[verdict], verdict)));
  }
  const totals = registryTotals(entries, options.threshold);
  out.push('');
  out.push(
    `${totals.atOrAbove} model(s) at or above ${options.threshold}; ${totals.errors} unreadable; ` +
      SEVERITIES.map((s) => `${totals.bySeverity[s]} worst ${s}`).join(', ') +
      (entries.some((e) => e.cached) ? '; * = from cache' : ''),
  );
  const failed = rows.filter((e) => e.status === 'error');
  if (failed.length > 0) {
    out.push('', 'Unreadable models:');
    for (const e of failed) out.push(`  ${p(e.path)}: ${e.errors.map((x) => p(x.message)).join('; ')}`);
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- JSON

export function renderRegistryJson(entries: RegistryEntry[], options: RegistryReportOptions): object {
  const totals = registryTotals(entries, options.threshold);
  const { runtime, mixed } = assessedRuntimes(entries);
  return { schemaVersion: 1, kind: 'registry', root: options.root, failOn: options.threshold, tensorflowRuntime: runtime, ...(mixed ? { tensorflowRuntimes: mixed } : {}), totals, models: [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

// ---------------------------------------------------------------- SARIF

/** The single-model report an entry came from, as far as SARIF needs it (paths relative to the registry root). */
function entryAsReport(e: RegistryEntry): ScanReport {
  const base = e.path === '.' ? '' : `${e.path}/`;
  const own = e.files.filter((f) => base && f.path.startsWith(base)).map((f) => ({ ...f, path: f.path.slice(base.length) }));
  const files = own.length > 0 ? own : e.files.filter((f) => f.path === e.path).map((f) => ({ ...f, path: f.path.split('/').pop()! }));
  return {
    schemaVersion: 1,
    tool: e.tool,
    model: { path: e.path, format: e.format, files, tensorflowVersion: e.tensorflowVersion },
    checkpoints: e.checkpoints.map((path) => ({ path })),
    findings: e.findings,
    errors: e.errors,
    analysis: e.analysis ?? { isolated: false, isolation: 'not analysed', opsAnalysed: 0, functionsAnalysed: 0, unknownSemantics: [], notes: [] },
  };
}

interface SarifRun {
  tool: { driver: { rules: { id: string }[]; [k: string]: unknown } };
  artifacts: { location: { uri: string; uriBaseId?: string } }[];
  results: { ruleId: string; ruleIndex: number; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[]; properties: Record<string, unknown> }[];
}

/**
 * One SARIF log, one run, every model: URIs are relative to the registry root (uriBaseId
 * REGISTRY, resolved by `originalUriBaseIds` when the root's absolute location is known).
 */
export function renderRegistrySarif(entries: RegistryEntry[], options: { rootUri?: string } = {}): object {
  const ordered = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const rules: { id: string }[] = [];
  const results: SarifRun['results'] = [];
  const artifacts: { location: { uri: string; uriBaseId: string }; length: number; hashes: Record<string, string> }[] = [];
  const notifications: object[] = [];
  let driver: Record<string, unknown> | null = null;
  for (const e of ordered) {
    const log = renderSarif(entryAsReport(e)) as { runs: SarifRun[] };
    const run = log.runs[0]!;
    driver ??= run.tool.driver;
    for (const r of run.results) {
      const rule = run.tool.driver.rules[r.ruleIndex]!;
      let index = rules.findIndex((x) => x.id === rule.id);
      if (index < 0) index = rules.push(rule) - 1;
      for (const loc of r.locations) loc.physicalLocation.artifactLocation.uriBaseId = 'REGISTRY';
      results.push({ ...r, ruleIndex: index, properties: { ...r.properties, model: e.path, modelSha256: e.sha256, tensorflowRuntime: entryRuntime(e) } });
    }
    for (const f of e.files) artifacts.push({ location: { uri: f.path.split('/').map(encodeURIComponent).join('/'), uriBaseId: 'REGISTRY' }, length: f.size, hashes: { 'sha-256': f.sha256 } });
    for (const err of e.errors) notifications.push({ level: e.status === 'error' ? 'error' : 'warning', message: { text: `${e.path}: ${err.file ? `${err.file}: ` : ''}${err.message}` } });
  }
  const runtimes = assessedRuntimes(ordered);
  const base = renderSarif(entryAsReport({ path: '.', format: 'registry', sha256: '', status: 'ok', maxSeverity: null, counts: { critical: 0, high: 0, medium: 0, low: 0, info: 0 }, findings: [], errors: [], seconds: 0, checkpoints: [], files: [], tool: ordered[0]?.tool ?? { name: 'tfaudit', version: '' }, analysis: null, tensorflowVersion: null })) as { $schema: string; version: string; runs: SarifRun[] };
  return {
    $schema: base.$schema,
    version: base.version,
    runs: [
      {
        tool: { driver: { ...(driver ?? base.runs[0]!.tool.driver), rules } },
        ...(options.rootUri ? { originalUriBaseIds: { REGISTRY: { uri: options.rootUri.endsWith('/') ? options.rootUri : `${options.rootUri}/` } } } : {}),
        artifacts,
        invocations: [{ executionSuccessful: ordered.every((e) => e.status === 'ok'), toolExecutionNotifications: notifications }],
        results,
        properties: {
          models: ordered.length,
          unreadable: ordered.filter((e) => e.status === 'error').map((e) => e.path),
          tensorflowRuntime: runtimes.runtime,
          ...(runtimes.mixed ? { tensorflowRuntimes: runtimes.mixed } : {}),
        },
      },
    ],
  };
}

// ---------------------------------------------------------------- PDF

export interface RegistryPdfOptions extends RegistryReportOptions {
  auditor: string | null;
  /** ISO 8601, pinned by the caller. */
  generatedAt: string;
}

const VERDICT_COLOR = { unsafe: SEVERITY_COLOR.critical, unreadable: '#7e22ce', review: SEVERITY_COLOR.medium, clean: '#166534' } as const;

function modelSection(e: RegistryEntry, index: number): Content[] {
  const id = `model-${index + 1}`;
  const content: Content[] = [
    { text: forRoboto(e.path), style: 'h1', id, tocItem: true, outline: true, pageBreak: 'before' },
    dataTable(
      ['Format', 'Worst', 'Findings', 'SHA-256'],
      [[forRoboto(e.format), { text: e.maxSeverity ?? 'none', color: e.maxSeverity ? SEVERITY_COLOR[e.maxSeverity] : '#166534', bold: true }, SEVERITIES.map((s) => `${e.counts[s]} ${s}`).join(', '), { text: forCourier(e.sha256), font: 'Courier', fontSize: 7 }]],
      [70, 50, 130, '*'],
    ),
  ];
  if (e.analysis) content.push({ text: `TensorFlow runtime assessed: ${forRoboto(entryRuntime(e) ?? 'none given (known advisories listed per op, not judged)')}`, style: 'small', margin: [0, 0, 0, 6] });
  if (e.checkpoints.length > 0) content.push({ text: `Checkpoints evaluated with it: ${forRoboto(e.checkpoints.join(', '))}`, style: 'small', margin: [0, 0, 0, 6] });
  for (const err of e.errors) content.push({ text: forRoboto(`${err.file}: ${err.message}`), color: SEVERITY_COLOR.high, margin: [0, 0, 0, 4] });
  for (const f of bySeverity(e.findings)) content.push(...findingSection(f, { idPrefix: `${id}-`, parentId: id }));
  return content;
}

export function registryPdfDefinition(entries: RegistryEntry[], options: RegistryPdfOptions): object {
  const date = new Date(options.generatedAt);
  if (Number.isNaN(date.getTime())) throw new Error(`generatedAt is not an ISO date: ${JSON.stringify(options.generatedAt)}`);
  const rows = [...entries].sort(compareEntries);
  const totals = registryTotals(entries, options.threshold);
  const detailed = rows.filter((e) => e.maxSeverity !== null && SEVERITY_RANK[e.maxSeverity] >= SEVERITY_RANK[options.threshold]);
  const tool = entries[0]?.tool ?? { name: 'tfaudit', version: '' };
  const content: Content[] = [
    { text: 'Model registry security audit', style: 'title' },
    { text: forRoboto(options.root), style: 'subtitle' },
    {
      text:
        `${totals.models} model(s) audited: ${totals.atOrAbove} at or above ${options.threshold}, ${totals.errors} unreadable, ` +
        `${totals.models - totals.atOrAbove - totals.errors} below the threshold.`,
      style: 'lead',
    },
    { text: forRoboto(runtimeSentence(entries) ?? 'TensorFlow runtime assessed: none given (known advisories listed per op, not judged)'), margin: [0, 0, 0, 6] },
    { text: `Generated ${options.generatedAt} by ${tool.name} ${tool.version}${options.auditor ? ` for ${forRoboto(options.auditor)}` : ''}. Unreadable models could not be analysed and must be treated as unsafe until they are.`, margin: [0, 0, 0, 10] },
    { text: 'Summary', style: 'h1', id: 'summary', outline: true },
    dataTable(
      ['Model', 'Verdict', 'Worst', ...SEVERITIES.map((s) => SHORT[s])],
      rows.map((e) => {
        const verdict = entryVerdict(e, options.threshold);
        const at = detailed.indexOf(e);
        const name = { text: forRoboto(e.path), ...(at >= 0 ? { linkToDestination: `model-${at + 1}`, color: '#1d4ed8' } : {}) };
        return [name, { text: verdict, color: VERDICT_COLOR[verdict], bold: true }, e.maxSeverity ?? '-', ...SEVERITIES.map((s) => String(e.counts[s]))];
      }),
      ['*', 52, 44, 18, 18, 18, 18, 18],
    ),
  ];
  if (detailed.length === 0) content.push({ text: `No model has a finding at or above ${options.threshold}.`, margin: [0, 6, 0, 0] });
  detailed.forEach((e, i) => content.push(...modelSection(e, i)));
  return {
    pageSize: 'A4',
    pageMargins: [PAGE.margin, PAGE.margin, PAGE.margin, PAGE.margin + 8],
    info: {
      title: `Registry security audit of ${forRoboto(options.root)}`,
      author: options.auditor ?? '',
      subject: `${totals.atOrAbove} of ${totals.models} models at or above ${options.threshold}`,
      creator: `${tool.name} ${tool.version}`,
      producer: 'pdfmake',
      creationDate: date,
      modDate: date,
    },
    language: 'en',
    defaultStyle: { font: 'Roboto', fontSize: 9.5, lineHeight: 1.15, color: '#1f2933' },
    styles: { ...STYLES, title: { ...STYLES.title, margin: [0, 20, 0, 4] } },
    footer: (currentPage: number, pageCount: number) => ({
      columns: [
        { text: `Registry audit: ${forRoboto(options.root)}`.slice(0, 90), fontSize: 7.5, color: '#6b7280' },
        { text: `Page ${currentPage} of ${pageCount}`, alignment: 'right', fontSize: 7.5, color: '#6b7280' },
      ],
      margin: [PAGE.margin, 16, PAGE.margin, 0],
    }),
    content,
  };
}

export async function renderRegistryPdf(entries: RegistryEntry[], options: RegistryPdfOptions): Promise<Buffer> {
  const fonts = { Roboto: { ...ROBOTO }, Courier: { ...COURIER } };
  const allowed = new Set([...Object.values(ROBOTO), ...Object.values(COURIER)]);
  pdfmake.setFonts(fonts);
  pdfmake.setUrlAccessPolicy(() => false);
  pdfmake.setLocalAccessPolicy((path) => allowed.has(path));
  return pdfmake.createPdf(registryPdfDefinition(entries, options)).getBuffer();
}
