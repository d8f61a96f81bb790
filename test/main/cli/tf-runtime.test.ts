// `tfaudit scan --tf-runtime` end to end on the real LeNet GraphDef of the corpus
// (dl4j_tf_lenet_frozen): its Conv2D carries CVE-2021-29526 (division by zero, fixed in 2.4.2 on
// the 2.4 line). The runtime flows CLI → worker → report, into JSON, SARIF, text and the PDF cover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

const BIN = join(REPO_ROOT, 'bin', 'tfaudit.mjs');
const LENET = real('dl4j_tf_lenet_frozen', 'lenet_frozen.pb');

function tfaudit(...args: string[]) {
  // The runtime option is what is under test, not the OS sandbox: run the worker without it.
  const result = spawnSync(process.execPath, [BIN, ...args, '--no-isolation'], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--tf-runtime rejects what is not a version (exit 4)', () => {
  const r = tfaudit('scan', LENET, '--tf-runtime', 'latest');
  assert.equal(r.code, 4);
  assert.match(r.stderr, /must be a TensorFlow release/);
});

test('LeNet on 2.4.1: Conv2D medium (input-fed denial of service), fixed in 2.4.2; on 2.4.2 nothing', { skip: skipWithoutCorpus }, () => {
  const r = tfaudit('scan', LENET, '--tf-runtime', '2.4.1', '--format', 'json', '--fail-on', 'medium');
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.analysis.tensorflowRuntime, '2.4.1');
  const conv = report.findings.filter((f: { capability: string }) => f.capability === 'known-vulnerability');
  assert.equal(conv.length, 1);
  assert.equal(conv[0].op, 'Conv2D');
  assert.equal(conv[0].severity, 'medium');
  assert.equal(conv[0].trigger.kind, 'input');
  assert.deepEqual(conv[0].advisories.map((a: { id: string; class: string; fixedIn: string }) => [a.id, a.class, a.fixedIn]), [['PYSEC-2021-454', 'division-by-zero', '2.4.2']]);
  assert.ok(conv[0].advisories[0].aliases.includes('CVE-2021-29526'));

  const fixed = JSON.parse(tfaudit('scan', LENET, '--tf-runtime', '2.4.2', '--format', 'json').stdout);
  assert.deepEqual(fixed.findings.filter((f: { capability: string }) => f.capability === 'known-vulnerability'), []);
  const introduced = JSON.parse(tfaudit('scan', LENET, '--tf-runtime', '2.4.0', '--format', 'json').stdout);
  assert.equal(introduced.findings.filter((f: { capability: string }) => f.capability === 'known-vulnerability').length, 1);
});

test('without --tf-runtime: an info line for Conv2D and the exit code of today', { skip: skipWithoutCorpus }, () => {
  const r = tfaudit('scan', LENET, '--format', 'json', '--fail-on', 'low');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const lines = report.findings.filter((f: { capability: string }) => f.capability === 'known-vulnerability');
  assert.deepEqual(lines.map((f: { op: string; severity: string }) => [f.op, f.severity]), [['Conv2D', 'info']]);
  assert.match(lines[0].message, /served on TensorFlow older than 2\.4\.2, this op has 1 advisory/);
});

test('SARIF links the advisory; text and PDF name the runtime and credit the data', { skip: skipWithoutCorpus }, () => {
  const sarif = JSON.parse(tfaudit('scan', LENET, '--tf-runtime', '2.3.0', '--format', 'sarif').stdout);
  const rule = sarif.runs[0].tool.driver.rules.find((x: { id: string }) => x.id === 'known-vulnerability/Conv2D');
  assert.equal(rule.helpUri, 'https://github.com/tensorflow/tensorflow/security/advisories/GHSA-4vf2-4xcg-65cx');
  assert.match(rule.help.markdown, /PYSEC-2021-454.*fixed in 2\.3\.3/);
  assert.match(rule.help.markdown, /PyPA Advisory Database, CC BY 4\.0/);
  const result = sarif.runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'known-vulnerability/Conv2D');
  assert.equal(result.level, 'warning');
  assert.equal(result.properties.advisories[0].fixedIn, '2.3.3');

  const text = tfaudit('scan', LENET, '--tf-runtime', '2.3.0');
  assert.match(text.stdout, /TensorFlow runtime assessed: 2\.3\.0/);
  assert.match(text.stdout, /PYSEC-2021-454 CVE-2021-29526 GHSA-4vf2-4xcg-65cx {2}division-by-zero, fixed in 2\.3\.3/);

  const pdf = join(tempDir(), 'audit.pdf');
  tfaudit('scan', LENET, '--tf-runtime', '2.3.0', '--pdf', pdf, '--format', 'json');
  assert.ok(existsSync(pdf));
  const pdftotext = spawnSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
  if (pdftotext.error) return; // poppler-utils absent: the PDF was still written
  assert.match(pdftotext.stdout, /TensorFlow runtime\s+2\.3\.0\s+assessed/, 'the cover row (its label wraps in the facts table)');
  assert.match(pdftotext.stdout, /PYSEC-2021-454/);
  assert.match(pdftotext.stdout, /Data: PyPA Advisory Database, CC BY 4\.0/);
});
