// `tfaudit scan --format sarif`: SARIF 2.1.0 in the subset GitHub code scanning reads. A model
// is a binary artifact, so results point at its main file with `region.startLine` 1 (GitHub
// needs a start line to place an alert) and name the graph node in logicalLocations.
import { createHash } from 'node:crypto';
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ADVISORY_DATA_CREDIT, SEVERITY_RANK, type Finding, type ScanReport, type Severity } from '../../shared/findings.ts';
import { CAPABILITY_IMPACT, capabilityPhrase } from '../../shared/report.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifOptions {
  /** Directory the URIs are made relative to (the repository checkout); default: as given. */
  sourceRoot?: string;
}

type SarifLevel = 'error' | 'warning' | 'note';

export function sarifLevel(severity: Severity): SarifLevel {
  if (severity === 'critical' || severity === 'high') return 'error';
  return severity === 'medium' ? 'warning' : 'note';
}

// GitHub ranks security alerts by this score (CVSS-like, as a string).
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

const MAIN_FILE = [/(^|\/)saved_model\.pbtxt?$/, /\.(pb|pbtxt|meta)$/, /\.(keras|h5|hdf5|tflite)$/, /\.index$/];

/** The model file results point at: saved_model.pb, else the graph/model file, else the first. */
export function mainModelFile(report: ScanReport): string {
  const { path, files } = report.model;
  const ranked = files.map((f) => f.path);
  const pick = MAIN_FILE.map((re) => ranked.find((p) => re.test(p))).find((p) => p !== undefined) ?? ranked[0];
  if (pick === undefined) return path;
  const base = path.replace(/\/+$/, '');
  if (base === pick || base.endsWith('/' + pick)) return base;
  return `${base}/${pick}`;
}

function toUri(path: string, sourceRoot: string | undefined): string {
  if (sourceRoot && isAbsolute(path)) {
    const rel = relative(sourceRoot, path);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).map(encodeURIComponent).join('/');
  }
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return path.split('/').map(encodeURIComponent).join('/');
}

function humanize(rule: string): string {
  const words = rule.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function pascal(rule: string): string {
  return rule
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function ruleDescriptor(rule: string, findings: Finding[]) {
  const capabilities = [...new Set(findings.map((f) => f.capability))].sort();
  const ops = [...new Set(findings.map((f) => f.op))].sort();
  const worst = findings.reduce((w, f) => (SEVERITY_RANK[f.severity] > SEVERITY_RANK[w] ? f.severity : w), 'info' as Severity);
  const impact = capabilities.map((c) => CAPABILITY_IMPACT[c] ?? '').filter(Boolean);
  const phrases = capabilities.map(capabilityPhrase).join(', ');
  const recommendation = findings[0].recommendation;
  const explanation =
    'Each alert names the graph node, the function holding it, the chain of nodes that proves it and, for checkpoint-driven branches, whether each examined checkpoint activates it.';
  const advisories = [...new Map(findings.flatMap((f) => f.advisories ?? []).map((a) => [a.id, a])).values()];
  const advisoryLines = advisories.length ? [`Advisories: ${advisories.map((a) => `${[a.id, ...a.aliases].join(' / ')} (${a.class}${a.fixedIn ? `, fixed in ${a.fixedIn}` : ''}) ${a.url}`).join('; ')}. ${ADVISORY_DATA_CREDIT}.`] : [];
  const text = [
    `${humanize(rule)}: TensorFlow ops (${ops.join(', ')}) with ${phrases}.`,
    ...impact,
    ...advisoryLines,
    explanation,
    recommendation ? `Recommendation: ${recommendation}` : '',
    'Reproduce safely with `tfaudit sandbox <model> --checkpoint <prefix>`.',
  ].filter(Boolean);
  return {
    id: rule,
    name: pascal(rule) || 'Finding',
    shortDescription: { text: `${humanize(rule)} (${phrases})` },
    fullDescription: { text: text.slice(0, 2).join(' ') },
    help: {
      text: text.join('\n\n'),
      markdown: [
        `## ${humanize(rule)}`,
        `Ops: ${ops.map((o) => '`' + o + '`').join(', ')}. Capability: ${phrases}.`,
        ...impact,
        ...advisories.map((a) => `- [${a.id}](${a.url}) ${a.aliases.join(', ')}: ${a.class}${a.fixedIn ? `, fixed in ${a.fixedIn}` : ''}`),
        advisories.length ? `_${ADVISORY_DATA_CREDIT}._` : '',
        explanation,
        recommendation ? `**Recommendation:** ${recommendation}` : '',
        'Reproduce safely: `tfaudit sandbox <model> --checkpoint <prefix>`.',
      ]
        .filter(Boolean)
        .join('\n\n'),
    },
    ...advisoryHelp(findings),
    defaultConfiguration: { level: sarifLevel(worst) },
    properties: {
      tags: ['security', 'tensorflow', 'model', ...capabilities],
      precision: 'high',
      'security-severity': SECURITY_SEVERITY[worst],
    },
  };
}

/** The file an integrity finding names: the data shard or index its first problem cites, else the checkpoint prefix. */
function integrityFile(f: Finding): string {
  const cited = /^(\/[^:]+?\.(?:index|data-\d+-of-\d+)):/.exec(f.evidence[0] ?? '');
  return cited?.[1] ?? f.details!.file!;
}

/** Known-vulnerability rules link to the advisory (the first one; all are listed in the help text). */
function advisoryHelp(findings: Finding[]): { helpUri?: string } {
  const first = findings.flatMap((f) => f.advisories ?? [])[0];
  return first ? { helpUri: first.url } : {};
}

function fingerprint(f: Finding): string {
  const key = [f.rule, f.metaGraph ?? '', f.function ?? '', f.node, f.op, f.capability].join('\u0000');
  return createHash('sha256').update(key).digest('hex');
}

export function renderSarif(report: ScanReport, options: SarifOptions = {}): object {
  const byRule = new Map<string, Finding[]>();
  for (const f of report.findings) {
    const list = byRule.get(f.rule) ?? [];
    list.push(f);
    byRule.set(f.rule, list);
  }
  const ruleIds = [...byRule.keys()];
  const rules = ruleIds.map((id) => ruleDescriptor(id, byRule.get(id)!));
  const mainUri = toUri(mainModelFile(report), options.sourceRoot);
  const base = report.model.path.replace(/\/+$/, '');
  const artifacts = report.model.files.map((file) => ({
    location: { uri: toUri(base.endsWith('/' + file.path) || base === file.path ? base : `${base}/${file.path}`, options.sourceRoot) },
    length: file.size,
    hashes: { 'sha-256': file.sha256 },
  }));

  const results = report.findings.map((f) => ({
    ruleId: f.rule,
    ruleIndex: ruleIds.indexOf(f.rule),
    level: sarifLevel(f.severity),
    message: { text: `${f.message} [${f.id}, ${f.severity}${f.trigger.kind === 'environment' ? ', decided at run time' : ''}]` },
    locations: [
      {
        // An integrity finding points at the checkpoint file that failed, not at the model.
        physicalLocation: { artifactLocation: { uri: f.capability === 'integrity' && f.details?.file ? toUri(integrityFile(f), options.sourceRoot) : mainUri }, region: { startLine: 1 } },
        logicalLocations: [
          {
            name: f.node,
            fullyQualifiedName: f.function ? `${f.function}/${f.node}` : f.node,
            kind: 'member',
          },
        ],
      },
    ],
    partialFingerprints: { 'tfauditFinding/v1': fingerprint(f) },
    properties: {
      findingId: f.id,
      severity: f.severity,
      capability: f.capability,
      op: f.op,
      function: f.function,
      metaGraph: f.metaGraph,
      reachability: f.reachability,
      entryPoints: f.entryPoints,
      trigger: f.trigger,
      evidence: f.evidence,
      arguments: f.arguments,
      ...(f.advisories ? { advisories: f.advisories, advisoryData: ADVISORY_DATA_CREDIT } : {}),
    },
  }));

  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: report.tool.name,
            version: report.tool.version,
            ...(/^\d+\.\d+\.\d+/.test(report.tool.version) ? { semanticVersion: report.tool.version } : {}),
            rules,
          },
        },
        artifacts,
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: report.errors.map((e) => ({
              level: 'error',
              message: { text: `${e.file}: ${e.message}` },
            })),
          },
        ],
        results,
        properties: {
          modelFormat: report.model.format,
          tensorflowVersion: report.model.tensorflowVersion,
          checkpoints: report.checkpoints.map((c) => c.path),
          analysis: report.analysis,
        },
      },
    ],
  };
}
