// Registry reports from entries alone: the summary table, one SARIF log for every model (rules
// shared, URIs relative to the registry root), the PDF's summary and per-model sections, and
// the CLI progress line. Entries are synthetic (the CLI test covers real corpus models).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, Severity } from '../../../shared/findings.ts';
import type { RegistryEntry } from '../../../shared/registry.ts';
import { compareEntries, entryVerdict } from '../../../shared/registry.ts';
import { registryPdfDefinition, renderRegistrySarif, renderRegistryText } from '../../../main/report/registry.ts';
import { formatEta, progressLine } from '../../../main/cli/progress-bar.ts';

function finding(id: string, severity: Severity, op: string): Finding {
  return { id, rule: `${op.toLowerCase()}-op`, severity, capability: 'file-read', op, node: `n_${op}`, function: 'f', metaGraph: 'serve', message: `${op} reads a file`, evidence: [`f/n_${op} (${op})`], arguments: [], reachability: 'signature', entryPoints: ['serving_default'], trigger: { kind: 'none', variables: [], gates: [], activation: [] }, figure: { nodes: [], edges: [] }, recommendation: 'Do not load.' };
}

function entry(path: string, findings: Finding[], status: 'ok' | 'error' = 'ok'): RegistryEntry {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  const order: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
  return {
    path, format: 'saved-model', sha256: 'ab'.repeat(32), status, maxSeverity: order.find((s) => counts[s] > 0) ?? null, counts, findings,
    errors: status === 'error' ? [{ file: `/r/${path}`, message: 'truncated protobuf' }] : [], seconds: 0.5, checkpoints: [],
    files: [{ path: `${path}/saved_model.pb`, size: 10, sha256: 'cd'.repeat(32) }], tool: { name: 'tfaudit', version: '0.1.0' },
    analysis: status === 'ok' ? { isolated: true, isolation: 'bubblewrap', opsAnalysed: 3, functionsAnalysed: 1, unknownSemantics: [], notes: [] } : null, tensorflowVersion: null,
  };
}

const ENTRIES = [
  entry('clean/1', [finding('F1', 'info', 'VarHandleOp')]),
  entry('bad/reader', [finding('F1', 'high', 'ReadFile'), finding('F2', 'info', 'VarHandleOp')]),
  entry('broken', [], 'error'),
  entry('bad/printer', [finding('F1', 'high', 'PrintV2'), finding('F2', 'medium', 'MatchingFiles')]),
];

test('verdicts and order: unsafe first, unreadable before review and clean', () => {
  assert.deepEqual([...ENTRIES].sort(compareEntries).map((e) => [e.path, entryVerdict(e, 'high')]), [
    ['bad/printer', 'unsafe'], ['bad/reader', 'unsafe'], ['broken', 'unreadable'], ['clean/1', 'clean'],
  ]);
  assert.equal(entryVerdict(ENTRIES[3]!, 'critical'), 'review');
});

test('the text summary lists every model with counts, totals and why unreadable ones failed', () => {
  const text = renderRegistryText(ENTRIES, { root: '/registry', threshold: 'high' });
  assert.match(text, /Registry audit of \/registry: 4 model\(s\)/);
  assert.match(text, /unsafe\s+high\s+0\s+1\s+1\s+0\s+0\s+0\.50\s+bad\/printer/);
  assert.match(text, /2 model\(s\) at or above high; 1 unreadable/);
  assert.match(text, /broken: truncated protobuf/);
  const hostile = renderRegistryText([entry('evil\u001b[2Jname', [])], { root: 'r', threshold: 'high' });
  assert.ok(!hostile.includes('\u001b[2J'), 'model names are escaped');
});

test('one SARIF run holds every model: shared rules, root-relative URIs, unreadable models as notifications', () => {
  const log = renderRegistrySarif(ENTRIES, { rootUri: 'file:///registry' }) as any;
  assert.equal(log.runs.length, 1);
  const run = log.runs[0];
  const ruleIds = run.tool.driver.rules.map((r: { id: string }) => r.id);
  assert.equal(new Set(ruleIds).size, ruleIds.length);
  assert.equal(run.results.length, 5);
  for (const r of run.results) assert.equal(ruleIds[r.ruleIndex], r.ruleId);
  const printer = run.results.find((r: any) => r.properties.model === 'bad/printer' && r.ruleId === 'printv2-op');
  assert.deepEqual(printer.locations[0].physicalLocation.artifactLocation, { uri: 'bad/printer/saved_model.pb', uriBaseId: 'REGISTRY' });
  assert.equal(run.originalUriBaseIds.REGISTRY.uri, 'file:///registry/');
  assert.match(run.invocations[0].toolExecutionNotifications[0].message.text, /broken: .*truncated protobuf/);
  assert.equal(run.invocations[0].executionSuccessful, false);
});

test('the PDF has a summary row per model and a section only for models at or above --fail-on', () => {
  const doc = registryPdfDefinition(ENTRIES, { root: '/registry', threshold: 'high', auditor: 'A. Auditor', generatedAt: '2026-01-02T03:04:05Z' }) as any;
  const table = doc.content.find((c: any) => c.table);
  assert.equal(table.table.body.length, 1 + ENTRIES.length);
  const sections = doc.content.filter((c: any) => c.style === 'h1' && typeof c.id === 'string' && c.id.startsWith('model-'));
  assert.deepEqual(sections.map((s: any) => s.text), ['bad/printer', 'bad/reader']);
  const ids = JSON.stringify(doc.content).match(/"id":"finding-[^"]+"/g)!;
  assert.equal(new Set(ids).size, ids.length, 'finding anchors are unique across models');
});

test('the progress line shows done/total, models per second and the ETA', () => {
  assert.equal(formatEta(75), '01:15');
  assert.equal(formatEta(3725), '1:02:05');
  const line = progressLine(25, 100, 5, 120, 'team/model');
  assert.match(line, /25\/100  5\.0 models\/s  ETA 00:15/);
  assert.match(line, /team\/model$/);
  assert.match(progressLine(100, 100, 10, 80), /ETA 00:00/);
});
