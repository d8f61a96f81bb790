// `tfaudit scan DIR --recursive` and `tfaudit merge` end to end on a small registry built from
// ../shared/corpus/real (two tabuse_* attacks, clean SavedModels, a Keras file, a GraphDef) plus
// one corrupt `.pb`: exit codes, JSONL lines equal to single-model JSON, shard runs that
// partition the models exactly and merge into the single run, resume, cache, SARIF, PDF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT, real, skipWithoutCorpus } from '../../helpers/corpus.ts';
import type { RegistryEntry } from '../../../shared/registry.ts';

const BIN = join(REPO_ROOT, 'bin', 'tfaudit.mjs');

function tfaudit(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function buildRegistry(): string {
  const root = mkdtempSync(join(tmpdir(), 'tfaudit-cli-registry-'));
  cpSync(real('tabuse_printv2_local_file'), join(root, 'team-a', 'printer'), { recursive: true });
  cpSync(real('tabuse_MatchingFiles'), join(root, 'team-a', 'globber'), { recursive: true });
  cpSync(real('serving_saved_model_half_plus_two_cpu', '00000123'), join(root, 'serving', 'half_plus_two', '1'), { recursive: true });
  cpSync(real('serving_saved_model_half_plus_two_cpu', '00000123'), join(root, 'serving', 'half_plus_two', '2'), { recursive: true });
  mkdirSync(join(root, 'keras'));
  cpSync(real('dl4j_keras_optimizer_adam', 'adam.h5'), join(root, 'keras', 'adam.h5'));
  cpSync(real('rust_addition_graphdef', 'model.pb'), join(root, 'graphs', 'addition.pb'), { recursive: true });
  writeFileSync(join(root, 'graphs', 'corrupt.pb'), Buffer.from('definitely not a protobuf \u0000\u0001\u0002'));
  return root;
}

let shared: string | null = null;
function registry(): string {
  shared ??= buildRegistry();
  return shared;
}

function readLines(file: string): RegistryEntry[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RegistryEntry);
}

/** What must agree between runs: everything but timing and cache provenance. */
function comparable(entries: RegistryEntry[]): object[] {
  return [...entries].sort((a, b) => a.path.localeCompare(b.path)).map(({ seconds: _s, cached: _c, ...rest }) => rest);
}

const EXPECTED_MODELS = ['graphs/addition.pb', 'graphs/corrupt.pb', 'keras/adam.h5', 'serving/half_plus_two/1', 'serving/half_plus_two/2', 'team-a/globber', 'team-a/printer'];

test('a folder of several models without --recursive exits 2 and names the option', { skip: skipWithoutCorpus }, () => {
  const result = tfaudit('scan', join(registry(), 'serving', 'half_plus_two'));
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--recursive/);
  assert.equal(tfaudit('scan', registry(), '--jobs', '2').code, 4, '--jobs without --recursive is a usage error');
  assert.equal(tfaudit('scan', registry(), '--recursive', '--shard', '3/2').code, 4);
  assert.equal(tfaudit('scan', registry(), '--recursive', '--jobs', '0').code, 4);
});

test('scan --recursive --format jsonl: one line per model, findings as scan --format json has them; exit 1', { skip: skipWithoutCorpus }, () => {
  const out = join(mkdtempSync(join(tmpdir(), 'tfaudit-out-')), 'all.jsonl');
  const result = tfaudit('scan', registry(), '--recursive', '--jobs', '2', '--format', 'jsonl', '--output', out);
  assert.equal(result.code, 1, result.stderr);
  const entries = readLines(out);
  assert.deepEqual(entries.map((e) => e.path).sort(), EXPECTED_MODELS);
  const byPath = Object.fromEntries(entries.map((e) => [e.path, e]));
  const printer = byPath['team-a/printer']!;
  assert.equal(printer.status, 'ok');
  assert.equal(printer.maxSeverity, 'high');
  assert.equal(printer.counts.high, printer.findings.filter((f) => f.severity === 'high').length);
  assert.match(printer.sha256, /^[0-9a-f]{64}$/);
  const single = JSON.parse(tfaudit('scan', join(registry(), 'team-a', 'printer'), '--format', 'json').stdout);
  assert.deepEqual(printer.findings, single.findings);
  const corrupt = byPath['graphs/corrupt.pb']!;
  assert.equal(corrupt.status, 'error');
  assert.match(corrupt.errors[0]!.message, /corrupt\.pb/);
  assert.equal(byPath['keras/adam.h5']!.status, 'ok');
  // the summary table goes to stderr when the lines go to a file
  assert.match(result.stderr, /VERDICT\s+WORST/);
  assert.match(result.stderr, /unsafe\s+high.*team-a\/printer/);
});

test('exit codes: 2 when nothing reaches --fail-on but a model is unreadable, 0 when all is below it', { skip: skipWithoutCorpus }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tfaudit-cli-exit-'));
  cpSync(real('serving_saved_model_half_plus_two_cpu', '00000123'), join(root, 'ok', '1'), { recursive: true });
  cpSync(real('tabuse_printv2_local_file'), join(root, 'bad'), { recursive: true });
  assert.equal(tfaudit('scan', root, '--recursive', '--fail-on', 'critical').code, 0);
  writeFileSync(join(root, 'corrupt.pb'), 'garbage \u0000');
  const result = tfaudit('scan', root, '--recursive', '--fail-on', 'critical');
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stdout, /unreadable\s+-.*corrupt\.pb/);
  assert.equal(tfaudit('scan', root, '--recursive').code, 1);
  assert.equal(tfaudit('scan', mkdtempSync(join(tmpdir(), 'tfaudit-empty-')), '--recursive').code, 2, 'no model at all');
});

test('shards partition the models exactly and merge into the single run; SARIF and PDF of the merge', { skip: skipWithoutCorpus }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfaudit-shards-'));
  const single = join(dir, 'single.jsonl');
  assert.equal(tfaudit('scan', registry(), '--recursive', '--format', 'jsonl', '--output', single).code, 1);
  const shards = [1, 2].map((i) => {
    const file = join(dir, `shard-${i}.jsonl`);
    const result = tfaudit('scan', registry(), '--recursive', '--shard', `${i}/2`, '--format', 'jsonl', '--output', file);
    assert.ok(result.code === 0 || result.code === 1 || result.code === 2, result.stderr);
    return file;
  });
  const parts = shards.map((f) => (existsSync(f) && readFileSync(f, 'utf8').trim() ? readLines(f).map((e) => e.path) : []));
  const all = parts.flat().sort();
  assert.deepEqual(all, EXPECTED_MODELS, 'every model in exactly one shard');
  const merged = join(dir, 'merged.jsonl');
  const merge = tfaudit('merge', ...shards, '--format', 'jsonl', '--output', merged);
  assert.equal(merge.code, 1, merge.stderr);
  assert.deepEqual(comparable(readLines(merged)), comparable(readLines(single)));
  const text = tfaudit('merge', ...shards, '--root', registry());
  assert.equal(text.code, 1);
  assert.match(text.stdout, /7 model\(s\)/);
  const sarif = JSON.parse(tfaudit('merge', ...shards, '--format', 'sarif', '--root', registry()).stdout);
  assert.equal(sarif.runs.length, 1);
  const models = new Set(sarif.runs[0].results.map((r: { properties: { model: string } }) => r.properties.model));
  assert.ok(models.has('team-a/printer') && models.has('team-a/globber'));
  assert.ok(sarif.runs[0].invocations[0].toolExecutionNotifications.some((n: { message: { text: string } }) => /corrupt\.pb/.test(n.message.text)));
  const pdf = join(dir, 'registry.pdf');
  assert.equal(tfaudit('merge', ...shards, '--pdf', pdf, '--root', registry()).code, 1);
  const pdfText = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' }).stdout;
  assert.match(pdfText, /Model registry security audit/);
  assert.match(pdfText, /team-a\/printer/);
  assert.match(pdfText, /PrintV2/, 'a section for the model at or above --fail-on');
  // merged shards equal the single run's reports too
  const singleSarif = JSON.parse(tfaudit('merge', single, '--format', 'sarif', '--root', registry()).stdout);
  assert.deepEqual(sarif, singleSarif);
});

test('--resume continues an interrupted run; --cache skips unchanged models and redoes changed ones', { skip: skipWithoutCorpus }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfaudit-resume-'));
  const full = join(dir, 'full.jsonl');
  tfaudit('scan', registry(), '--recursive', '--format', 'jsonl', '--output', full);
  const lines = readFileSync(full, 'utf8').split('\n').filter(Boolean);
  // an interruption after three models, the fourth line half written
  const partial = join(dir, 'partial.jsonl');
  writeFileSync(partial, `${lines.slice(0, 3).join('\n')}\n${lines[3]!.slice(0, 40)}`);
  const resumed = tfaudit('scan', registry(), '--recursive', '--format', 'jsonl', '--resume', partial);
  assert.equal(resumed.code, 1, resumed.stderr);
  assert.match(resumed.stderr, /4 model\(s\) to audit .*3 already in/);
  assert.deepEqual(comparable(readLines(partial)), comparable(readLines(full)));

  const cache = join(dir, 'cache');
  const first = join(dir, 'c1.jsonl');
  const second = join(dir, 'c2.jsonl');
  tfaudit('scan', registry(), '--recursive', '--format', 'jsonl', '--output', first, '--cache', cache);
  const copy = mkdtempSync(join(tmpdir(), 'tfaudit-cache-reg-'));
  cpSync(registry(), copy, { recursive: true });
  tfaudit('scan', copy, '--recursive', '--format', 'jsonl', '--output', join(dir, 'other.jsonl'), '--cache', cache);
  tfaudit('scan', registry(), '--recursive', '--format', 'jsonl', '--output', second, '--cache', cache);
  const again = readLines(second);
  assert.ok(again.filter((e) => e.status === 'ok').every((e) => e.cached === true), 'every readable model from the cache');
  assert.ok(again.filter((e) => e.status === 'error').every((e) => e.cached !== true), 'errors are retried, never cached');
  assert.deepEqual(comparable(again), comparable(readLines(first)));
  // a changed file is a different model
  cpSync(real('tabuse_printv2_local_file', 'saved_model.pb'), join(copy, 'team-a', 'globber', 'saved_model.pb'));
  const changed = readLinesOf(tfaudit('scan', copy, '--recursive', '--format', 'jsonl', '--cache', cache).stdout);
  assert.equal(changed.find((e) => e.path === 'team-a/globber')!.cached, undefined);
  assert.equal(changed.find((e) => e.path === 'team-a/printer')!.cached, true);
});

function readLinesOf(text: string): RegistryEntry[] {
  return text.trim().split('\n').map((l) => JSON.parse(l) as RegistryEntry);
}

test('on a terminal the run draws a progress line (done/total, models per second, ETA), then the table', { skip: skipWithoutCorpus || (spawnSync('script', ['--version']).status !== 0 && 'util-linux script is not installed') }, () => {
  const root = mkdtempSync(join(tmpdir(), 'tfaudit-tty-'));
  cpSync(real('rust_addition_graphdef', 'model.pb'), join(root, 'a.pb'));
  cpSync(real('rust_multiplication_graphdef', 'multiplication.pb'), join(root, 'b.pb'));
  const command = [process.execPath, BIN, 'scan', root, '--recursive', '--jobs', '1'].map((a) => `'${a}'`).join(' ');
  const run = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000 });
  assert.equal(run.status, 0, run.stdout);
  assert.match(run.stdout, /\[[#.]+\] 2\/2 +[\d.]+ models\/s +ETA 00:00/);
  assert.match(run.stdout, /VERDICT\s+WORST/);
});
