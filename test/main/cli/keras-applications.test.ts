// Real Keras exports scan clean through every user path. keras.applications architectures
// (MobileNetV2 at alpha 1 and 0.35, DenseNet121, InceptionV3, ResNet50, EfficientNetB0,
// ConvNeXtTiny; weights=None, small inputs) and text models (TextVectorization + Embedding +
// LSTM + GRU) exported with Keras 3 / TensorFlow 2.21 (model.export and model.save .keras) go
// through `tfaudit scan` as a separate process in JSON, SARIF and text (PDF for two of them),
// and through the web host's upload API. Every one must scan, none may give a finding at medium
// or above. MobileNetV2, DenseNet121 and InceptionV3 failed with exit 2 when the analyzer worker
// exited before its answer had reached the pipe (issue 17).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import type { AuditView } from '../../../shared/api.ts';
import { CHANNELS } from '../../../shared/api.ts';
import { SEVERITY_RANK, type ScanReport } from '../../../shared/findings.ts';
import type { ModelSummary } from '../../../shared/summary.ts';
import { createAuditBackend, type AuditBackend } from '../../../main/service/backend.ts';
import { isolationAvailable } from '../../../main/sandbox/analyzer-isolation.ts';
import { startServer, type RunningServer } from '../../../main/web/server.ts';
import { buildRenderer } from '../../../scripts/build.mjs';
import { REPO_ROOT, tempDir } from '../../helpers/corpus.ts';
import { skipWithoutTf } from '../../helpers/tensorflow.ts';
import { ensureKerasExports, type KerasExport, type KerasExports } from '../../helpers/keras-applications.ts';

const TFAUDIT = join(REPO_ROOT, 'bin', 'tfaudit.mjs');
const ARCHITECTURES = ['MobileNetV2', 'MobileNetV2_alpha0.35', 'DenseNet121', 'InceptionV3', 'ResNet50', 'EfficientNetB0', 'ConvNeXtTiny'];
/** The exports whose analyses used to be cut off: their text run also writes the PDF. */
const WITH_PDF = new Set(['MobileNetV2', 'DenseNet121']);
const hasPdftotext = spawnSync('pdftotext', ['-v'], { encoding: 'utf8' }).error === undefined;
const isolated = isolationAvailable() === true;

let exports: KerasExports;
let work: string;

before(() => {
  if (skipWithoutTf) return;
  exports = ensureKerasExports();
  work = tempDir('tfaudit-keras-apps-');
  const names = exports.models.map((m) => m.name);
  for (const name of [...ARCHITECTURES, 'TextLSTM']) assert.ok(names.includes(name), `${name} missing from ${exports.dir}`);
  assert.ok(exports.models.some((m) => m.kind === 'keras'), 'at least one .keras archive');
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tfaudit` as a user runs it: its own process, standard output read from a pipe to the end. */
function tfaudit(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TFAUDIT, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr }));
  });
}

/**
 * `tfaudit` with a slow reader: once output starts, the pipe is left unread for a second, so an
 * answer larger than the pipe buffer is still being written when the CLI has nothing else to do.
 * A CLI that exited once it had called write would cut it off.
 */
function tfauditSlowReader(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TFAUDIT, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.once('data', () => {
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 1000);
    });
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr }));
  });
}

/** Runs the jobs two at a time (each is a CLI process plus an analyzer worker). */
async function inPairs<T, R>(items: T[], job: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index]!);
    }
  };
  await Promise.all([lane(), lane()]);
  return results;
}

function mediumOrAbove(report: ScanReport): string[] {
  return report.findings.filter((f) => SEVERITY_RANK[f.severity] >= SEVERITY_RANK.medium).map((f) => `${f.id} ${f.severity} ${f.rule}`);
}

/** What every report of a real export must show: read whole, analysed, nothing at medium or above. */
function assertCleanReport(model: KerasExport, report: ScanReport, how: string): void {
  assert.equal(report.schemaVersion, 1, `${model.name} (${how})`);
  assert.equal(report.model.format, model.kind === 'keras' ? 'keras-v3' : 'saved-model', `${model.name} (${how})`);
  assert.deepEqual(report.errors, [], `${model.name} (${how}): errors`);
  assert.deepEqual(mediumOrAbove(report), [], `${model.name} (${how}): findings at medium or above`);
  if (model.kind === 'savedmodel') {
    // the whole graph was analysed, not an empty shell: thousands of ops for the image models
    assert.ok(report.analysis.opsAnalysed > (model.name === 'TextLSTM' ? 100 : 1000), `${model.name} (${how}): ${report.analysis.opsAnalysed} ops analysed`);
    assert.equal(report.model.tensorflowVersion, exports.tensorflow, `${model.name} (${how})`);
  }
  assert.equal(report.analysis.isolated, isolated, `${model.name} (${how}): ${report.analysis.isolation}`);
}

test('tfaudit scan --format json: every real Keras export scans, whole and clean', { skip: skipWithoutTf }, async () => {
  const runs = await inPairs(exports.models, (model) => tfaudit(['scan', model.path, '--format', 'json']));
  exports.models.forEach((model, i) => {
    const run = runs[i]!;
    assert.equal(run.code, 0, `${model.name}: exit ${run.code}: ${run.stderr}`);
    assertCleanReport(model, JSON.parse(run.stdout) as ScanReport, 'json');
  });
});

test('tfaudit scan --format sarif: valid SARIF 2.1.0 with no result above note', { skip: skipWithoutTf }, async () => {
  const runs = await inPairs(exports.models, (model) => tfaudit(['scan', model.path, '--format', 'sarif']));
  exports.models.forEach((model, i) => {
    const run = runs[i]!;
    assert.equal(run.code, 0, `${model.name}: exit ${run.code}: ${run.stderr}`);
    const sarif = JSON.parse(run.stdout) as { version: string; runs: { tool: { driver: { name: string } }; results: { level: string; properties: { severity: string } }[] }[] };
    assert.equal(sarif.version, '2.1.0', model.name);
    assert.equal(sarif.runs.length, 1, model.name);
    assert.equal(sarif.runs[0]!.tool.driver.name, 'tfaudit', model.name);
    for (const result of sarif.runs[0]!.results) {
      assert.ok(SEVERITY_RANK[result.properties.severity as keyof typeof SEVERITY_RANK] < SEVERITY_RANK.medium, `${model.name}: ${JSON.stringify(result.properties)}`);
      assert.equal(result.level, 'note', model.name);
    }
  });
});

test('tfaudit scan --format text (and --pdf): a clean verdict, PDF readable', { skip: skipWithoutTf }, async () => {
  const runs = await inPairs(exports.models, (model) =>
    tfaudit(['scan', model.path, '--format', 'text', ...(WITH_PDF.has(model.name) ? ['--pdf', join(work, `${model.name}.pdf`)] : [])]),
  );
  exports.models.forEach((model, i) => {
    const run = runs[i]!;
    assert.equal(run.code, 0, `${model.name}: exit ${run.code}: ${run.stderr}`);
    assert.ok(run.stdout.startsWith(`tfaudit `) && run.stdout.includes(model.path), `${model.name}: ${run.stdout.slice(0, 200)}`);
    assert.match(run.stdout, /^0 critical, 0 high, 0 medium, \d+ low, \d+ info$/m, model.name);
    assert.match(run.stdout, /No unsafe capability (at medium or higher severity )?found by static analysis/, model.name);
  });
  for (const name of WITH_PDF) {
    const pdf = readFileSync(join(work, `${name}.pdf`));
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', name);
    if (!hasPdftotext) continue;
    const text = spawnSync('pdftotext', ['-layout', join(work, `${name}.pdf`), '-'], { encoding: 'utf8' });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /TensorFlow Model Security Audit/);
    assert.ok(text.stdout.includes(name), `${name}: title in the PDF`);
    assert.match(text.stdout, /No unsafe capability at medium or higher severity found by static analysis/, name);
    assert.ok(text.stdout.includes(exports.tensorflow), `${name}: TensorFlow version in the PDF`);
  }
});

test('tfaudit inspect --format json: a summary far larger than the pipe buffer reaches a slow reader whole', { skip: skipWithoutTf }, async () => {
  const model = exports.models.find((m) => m.name === 'DenseNet121')!;
  const run = await tfauditSlowReader(['inspect', model.path, '--format', 'json']);
  assert.equal(run.code, 0, run.stderr);
  let summary: ModelSummary;
  try {
    summary = JSON.parse(run.stdout) as ModelSummary;
  } catch (error) {
    assert.fail(`the output was cut off at ${run.stdout.length} bytes: ${(error as Error).message}`);
  }
  assert.ok(run.stdout.length > 256 * 1024, `${run.stdout.length} bytes: the check needs an answer well beyond the 64 KiB pipe buffer`);
  assert.equal(summary.format, 'saved-model');
  const ops = summary.metaGraphs.reduce((n: number, m) => n + m.nodeCount, 0);
  assert.ok(ops > 1000, `${ops} nodes`);
  // DenseNet121: 120 convolutions in the forward graph (traced in several functions)
  const convolutions = summary.metaGraphs.reduce((n: number, m) => n + (m.opCounts.Conv2D ?? 0), 0);
  assert.ok(convolutions >= 120, `${convolutions} Conv2D`);
});

/** `tfaudit` whose reader goes away: at once (`| true`), or after the first chunk (`| head -c`). */
function tfauditClosedReader(args: string[], when: 'at-once' | 'after-first-chunk'): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TFAUDIT, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (when === 'at-once') child.stdout.destroy();
    else {
      child.stdout.once('data', (chunk: Buffer) => {
        stdout = chunk.toString('utf8');
        child.stdout.destroy();
      });
    }
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a reader that closes the pipe early: tfaudit stops quietly with the SIGPIPE status, never 0', { skip: skipWithoutTf }, async () => {
  const text = exports.models.find((m) => m.name === 'TextLSTM')!;
  const atOnce = await tfauditClosedReader(['scan', text.path, '--format', 'json'], 'at-once');
  assert.equal(atOnce.code, 141, atOnce.stderr);
  assert.equal(atOnce.stderr, '', 'no EPIPE stack trace');

  const densenet = exports.models.find((m) => m.name === 'DenseNet121')!;
  const early = await tfauditClosedReader(['inspect', densenet.path, '--format', 'json'], 'after-first-chunk');
  assert.equal(early.code, 141, early.stderr);
  assert.equal(early.stderr, '', 'no EPIPE stack trace');
  assert.ok(early.stdout.startsWith('{'), early.stdout.slice(0, 100));
});

// ------------------------------------------------------------------------------------ web host

interface Reply {
  status: number;
  body: Buffer;
}

function send(server: RunningServer, method: string, path: string, body?: string | { file: string }): Promise<Reply> {
  const headers: Record<string, string | number> = { Authorization: `Bearer ${server.token}` };
  if (typeof body === 'string') headers['Content-Type'] = 'application/json';
  if (body && typeof body !== 'string') headers['Content-Length'] = statSync(body.file).size;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body && typeof body !== 'string') createReadStream(body.file).on('error', reject).pipe(req);
    else req.end(body);
  });
}

async function api<T>(server: RunningServer, channel: string, payload: unknown): Promise<T> {
  const reply = await send(server, 'POST', `/api/${channel}`, JSON.stringify(payload));
  const answer = JSON.parse(reply.body.toString('utf8')) as { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
  if (!answer.ok) throw new Error(`${channel}: HTTP ${reply.status} ${answer.error.code}: ${answer.error.message}`);
  return answer.value;
}

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => filesUnder(join(path, name)));
}

/** What the browser does with a dropped folder or file: one upload batch, one PUT per file. */
async function uploadAndOpen(server: RunningServer, model: KerasExport): Promise<AuditView> {
  const { uploadId } = JSON.parse((await send(server, 'POST', '/api/uploads')).body.toString('utf8')) as { uploadId: string };
  const parent = join(model.path, '..');
  for (const file of filesUnder(model.path)) {
    const reply = await send(server, 'PUT', `/api/uploads/${uploadId}?path=${encodeURIComponent(relative(parent, file))}`, { file });
    assert.equal(reply.status, 200, `${model.name}: upload ${file}: ${reply.body.toString('utf8')}`);
  }
  return api<AuditView>(server, CHANNELS.openDropped, { uploadId });
}

test('web host: every real Keras export uploads, opens and shows a clean audit; the PDF downloads', { skip: skipWithoutTf }, async () => {
  let backend: AuditBackend | null = null;
  let server: RunningServer | null = null;
  try {
    const rendererDir = await buildRenderer(join(work, 'renderer'), { minify: false });
    backend = await createAuditBackend({ isolation: 'auto' });
    const web = await startServer({ backend, rendererDir });
    server = web;
    const page = await send(web, 'GET', '/');
    assert.equal(page.status, 200);
    for (const model of exports.models) {
      const opened = await uploadAndOpen(web, model);
      const view = await api<AuditView>(web, CHANNELS.getAudit, { auditId: opened.auditId });
      assert.equal(view.auditId, opened.auditId);
      assert.equal(view.isolation.isolated, isolated, `${model.name}: ${view.isolation.description}`);
      assert.deepEqual(mediumOrAbove(view.report), [], `${model.name} (web): findings at medium or above`);
      assert.deepEqual(view.report.errors, [], `${model.name} (web): errors`);
      if (model.kind === 'keras') {
        assert.equal(view.summary.format, 'keras-v3', model.name);
        assert.ok((view.summary.keras?.layerCount ?? 0) > 3, `${model.name}: ${view.summary.keras?.layerCount} layers`);
      } else {
        const nodes = view.summary.metaGraphs.reduce((n: number, m) => n + m.nodeCount, 0);
        assert.ok(nodes > (model.name === 'TextLSTM' ? 100 : 1000), `${model.name}: ${nodes} nodes in the summary`);
        assert.ok(view.report.analysis.opsAnalysed > 0, model.name);
      }
      if (model.name === 'InceptionV3') {
        const { downloadUrl } = await api<{ downloadUrl: string }>(web, CHANNELS.exportPdf, { auditId: view.auditId, auditor: 'CI' });
        const pdf = await send(web, 'GET', downloadUrl);
        assert.equal(pdf.status, 200);
        assert.equal(pdf.body.subarray(0, 5).toString('latin1'), '%PDF-');
      }
    }
  } finally {
    await server?.close();
    await backend?.dispose();
  }
});
