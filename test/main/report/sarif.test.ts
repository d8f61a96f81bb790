// SARIF 2.1.0 output, checked against the required fields of the SARIF 2.1.0 schema and the
// properties GitHub code scanning reads, on the synthetic P1-shaped report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderSarif, sarifLevel, mainModelFile } from '../../../main/report/sarif.ts';
import { syntheticReport, timeBombFinding, writeFileFinding, bulkFindings, MODEL_PATH, PB_SHA } from './synthetic-report.ts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const LEVELS = new Set(['none', 'note', 'warning', 'error']);

/** Structural check of the SARIF 2.1.0 schema's required properties and GitHub's limits. */
function sarifProblems(log: Json): string[] {
  const problems: string[] = [];
  const need = (cond: boolean, what: string) => {
    if (!cond) problems.push(what);
  };
  const message = (m: Json, at: string) => need(typeof m?.text === 'string' && m.text.length > 0, `${at}.text`);
  need(log.version === '2.1.0', 'version');
  need(typeof log.$schema === 'string', '$schema');
  need(Array.isArray(log.runs), 'runs');
  for (const [ri, run] of (log.runs ?? []).entries()) {
    const at = `runs[${ri}]`;
    const driver = run.tool?.driver;
    need(typeof driver?.name === 'string' && driver.name.length > 0, `${at}.tool.driver.name`);
    const ruleIds = new Set<string>();
    for (const [i, rule] of (driver?.rules ?? []).entries()) {
      const r = `${at}.tool.driver.rules[${i}]`;
      need(typeof rule.id === 'string' && rule.id.length > 0, `${r}.id`);
      need(!ruleIds.has(rule.id), `${r}.id unique`);
      ruleIds.add(rule.id);
      message(rule.shortDescription, `${r}.shortDescription`);
      message(rule.fullDescription, `${r}.fullDescription`);
      message(rule.help, `${r}.help`);
      need(typeof rule.help?.markdown === 'string', `${r}.help.markdown`);
      need(LEVELS.has(rule.defaultConfiguration?.level), `${r}.defaultConfiguration.level`);
      need(Array.isArray(rule.properties?.tags) && rule.properties.tags.every((t: Json) => typeof t === 'string'), `${r}.properties.tags`);
      const sev = Number(rule.properties?.['security-severity']);
      need(Number.isFinite(sev) && sev >= 0 && sev <= 10, `${r}.properties.security-severity`);
    }
    need(Array.isArray(run.results), `${at}.results`);
    for (const [i, res] of (run.results ?? []).entries()) {
      const r = `${at}.results[${i}]`;
      message(res.message, `${r}.message`);
      need(ruleIds.has(res.ruleId), `${r}.ruleId names a rule`);
      need(driver.rules[res.ruleIndex]?.id === res.ruleId, `${r}.ruleIndex`);
      need(LEVELS.has(res.level), `${r}.level`);
      need(Array.isArray(res.locations) && res.locations.length >= 1, `${r}.locations`);
      for (const loc of res.locations ?? []) {
        const uri = loc.physicalLocation?.artifactLocation?.uri;
        need(typeof uri === 'string' && uri.length > 0, `${r} physicalLocation.artifactLocation.uri`);
        const region = loc.physicalLocation?.region;
        need(region === undefined || (Number.isInteger(region.startLine) && region.startLine >= 1), `${r} region.startLine`);
        for (const l of loc.logicalLocations ?? []) need(typeof l.fullyQualifiedName === 'string' || typeof l.name === 'string', `${r} logicalLocation`);
      }
      const fps = Object.values(res.partialFingerprints ?? {});
      need(fps.length > 0 && fps.every((v) => typeof v === 'string'), `${r}.partialFingerprints`);
    }
    for (const [i, a] of (run.artifacts ?? []).entries()) need(typeof a.location?.uri === 'string', `${at}.artifacts[${i}].location.uri`);
  }
  return problems;
}

test('maps severities to SARIF levels', () => {
  assert.equal(sarifLevel('critical'), 'error');
  assert.equal(sarifLevel('high'), 'error');
  assert.equal(sarifLevel('medium'), 'warning');
  assert.equal(sarifLevel('low'), 'note');
  assert.equal(sarifLevel('info'), 'note');
});

test('the P1-shaped report is valid SARIF that points at saved_model.pb and the node', () => {
  const log: Json = JSON.parse(JSON.stringify(renderSarif(syntheticReport())));
  assert.deepEqual(sarifProblems(log), []);
  const run = log.runs[0];
  assert.equal(run.tool.driver.rules.length, 1);
  assert.equal(run.tool.driver.rules[0].id, 'variable-gated-file-write');
  assert.ok(run.tool.driver.rules[0].properties.tags.includes('file-write'));
  assert.equal(run.tool.driver.rules[0].defaultConfiguration.level, 'error');
  const res = run.results[0];
  assert.equal(res.level, 'error');
  assert.equal(res.locations[0].physicalLocation.artifactLocation.uri, `file://${MODEL_PATH}/saved_model.pb`);
  assert.equal(res.locations[0].logicalLocations[0].fullyQualifiedName, '__inference_canary_42/WriteFile');
  assert.equal(res.properties.capability, 'file-write');
  assert.equal(res.properties.trigger.kind, 'variable');
  assert.equal(res.properties.evidence.length, 6);
  assert.equal(run.artifacts[0].hashes['sha-256'], PB_SHA);
});

test('URIs are relative to the source root when the model is inside it', () => {
  const log: Json = renderSarif(syntheticReport(), { sourceRoot: '/models' });
  assert.equal(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, 'P1_trojan_if_writefile/saved_model.pb');
  const outside: Json = renderSarif(syntheticReport(), { sourceRoot: '/elsewhere' });
  assert.match(outside.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri, /^file:\/\//);
});

test('main file choice for single-file models', () => {
  const report = syntheticReport();
  report.model.path = '/m/frozen.pb';
  report.model.files = [{ path: 'frozen.pb', size: 1, sha256: PB_SHA }];
  assert.equal(mainModelFile(report), '/m/frozen.pb');
});

test('fingerprints are stable across runs and distinct across findings; rules deduplicated', () => {
  const a: Json = renderSarif(syntheticReport(bulkFindings(20)));
  const b: Json = renderSarif(syntheticReport(bulkFindings(20)));
  assert.deepEqual(sarifProblems(a), []);
  const fps = a.runs[0].results.map((r: Json) => r.partialFingerprints['tfauditFinding/v1']);
  assert.deepEqual(fps, b.runs[0].results.map((r: Json) => r.partialFingerprints['tfauditFinding/v1']));
  assert.equal(new Set(fps).size, 20);
  assert.equal(a.runs[0].tool.driver.rules.length, 1);
  const levels = new Set(a.runs[0].results.map((r: Json) => r.level));
  assert.deepEqual([...levels].sort(), ['error', 'note', 'warning']);
});

test('several rules get their own descriptors and indexes; errors become notifications', () => {
  const report = syntheticReport([
    writeFileFinding('F1'),
    writeFileFinding('F2', { rule: 'custom-op', capability: 'custom-op', op: 'Zap', severity: 'medium' }),
  ]);
  report.errors.push({ file: 'variables/variables.index', message: 'bad crc' });
  const log: Json = renderSarif(report);
  assert.deepEqual(sarifProblems(log), []);
  assert.equal(log.runs[0].results[1].ruleIndex, 1);
  assert.equal(log.runs[0].tool.driver.rules[1].defaultConfiguration.level, 'warning');
  assert.equal(log.runs[0].invocations[0].executionSuccessful, false);
  assert.match(log.runs[0].invocations[0].toolExecutionNotifications[0].message.text, /bad crc/);
});

test('the structural check itself rejects broken logs', () => {
  const log: Json = JSON.parse(JSON.stringify(renderSarif(syntheticReport())));
  delete log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri;
  log.runs[0].results[0].level = 'critical';
  assert.equal(sarifProblems(log).length, 2);
});

test('an environment-triggered finding keeps its kind and sources in SARIF and says it is decided at run time', () => {
  const log: Json = JSON.parse(JSON.stringify(renderSarif(syntheticReport([timeBombFinding('F1')]))));
  assert.deepEqual(sarifProblems(log), []);
  const res = log.runs[0].results[0];
  assert.equal(res.properties.trigger.kind, 'environment');
  assert.deepEqual(res.properties.trigger.environment, ['the clock: Timestamp (__inference_predict_31/Timestamp (Timestamp))']);
  assert.match(res.message.text, /decided at run time\]$/);
});
