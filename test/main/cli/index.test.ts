// The tfaudit CLI end to end (worker process included): exit codes, inspect JSON on real
// corpus models, scan JSON/SARIF/text on the crafted P1 model and its malicious checkpoint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, crafted, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

const BIN = join(REPO_ROOT, 'bin', 'tfaudit.mjs');

function tfaudit(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('usage errors exit 4, help exits 0', () => {
  assert.equal(tfaudit('scan').code, 4);
  assert.equal(tfaudit('frobnicate').code, 4);
  assert.equal(tfaudit('scan', 'x', '--format', 'xml').code, 4);
  assert.equal(tfaudit('--help').code, 0);
});

test('unreadable input exits 2 with a message naming the file', () => {
  const dir = tempDir();
  const bogus = join(dir, 'model.pb');
  writeFileSync(bogus, Buffer.from('this is not a protobuf at all \u0000\u0001\u0002'));
  const result = tfaudit('scan', bogus);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /model\.pb/);
  const missing = tfaudit('inspect', join(dir, 'nope'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope/);
});

test('inspect --format json on serving_saved_model_half_plus_two_cpu lists signatures, ops and variable values', { skip: skipWithoutCorpus }, () => {
  const result = tfaudit('inspect', real('serving_saved_model_half_plus_two_cpu', '00000123'), '--format', 'json');
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.equal(json.format, 'saved-model');
  assert.deepEqual(json.metaGraphs[0].tags, ['serve']);
  const sigs = json.metaGraphs[0].signatures.map((s: { key: string }) => s.key).sort();
  assert.deepEqual(sigs, ['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default']);
  assert.equal(json.metaGraphs[0].opCounts.VariableV2, 6);
  const values = Object.fromEntries(json.checkpoint.entries.map((e: { key: string; values: number[] }) => [e.key, e.values]));
  assert.deepEqual(values, { a: [0.5], a2: [0.5], b: [2], c: [3], c2: [3] });
  const text = tfaudit('inspect', real('serving_saved_model_half_plus_two_cpu', '00000123'));
  assert.equal(text.code, 0);
  assert.match(text.stdout, /serving_default/);
});

test('scan of crafted P1 exits 1 and reports the WriteFile branch active only under ckpt_active/ckpt', { skip: skipWithoutCorpus }, () => {
  const model = crafted('P1_trojan_if_writefile');
  const ckpt = join(model, 'ckpt_active', 'ckpt');
  const result = tfaudit('scan', model, '--checkpoint', ckpt, '--format', 'json');
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.schemaVersion, 1);
  assert.deepEqual(report.checkpoints.map((c: { path: string }) => c.path), [`${model}/variables/variables`, ckpt]);
  const write = report.findings.find((f: { capability: string }) => f.capability === 'file-write');
  assert.ok(write, 'a file-write finding');
  assert.equal(write.severity, 'critical');
  assert.equal(write.trigger.kind, 'variable');
  const states = Object.fromEntries(write.trigger.activation.map((a: { checkpoint: string; state: string }) => [a.checkpoint, a.state]));
  assert.equal(states[`${model}/variables/variables`], 'dormant');
  assert.equal(states[ckpt], 'active');
  assert.ok(write.evidence.length >= 3);

  const sarif = tfaudit('scan', model, '--checkpoint', ckpt, '--format', 'sarif', '--fail-on', 'critical');
  assert.equal(sarif.code, 1);
  assert.equal(JSON.parse(sarif.stdout).version, '2.1.0');

  const lenient = tfaudit('scan', model, '--fail-on', 'critical');
  assert.equal(lenient.code, 0, 'dormant under its own checkpoint: high, not critical');
});

test('scan --pdf writes a PDF next to the JSON report', { skip: skipWithoutCorpus }, () => {
  const dir = tempDir();
  const pdf = join(dir, 'audit.pdf');
  const out = join(dir, 'report.json');
  const result = tfaudit('scan', crafted('P5_tile_dos'), '--format', 'json', '--output', out, '--pdf', pdf, '--auditor', 'A. Auditor');
  assert.ok(result.code === 0 || result.code === 1, result.stderr);
  assert.ok(existsSync(pdf));
  assert.equal(readFileSync(pdf).subarray(0, 5).toString(), '%PDF-');
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).schemaVersion, 1);
});

test('scan --policy policies/strict-inference.json: benign TF2 export passes, P1 WriteFile is outside the policy', { skip: skipWithoutCorpus }, () => {
  const policy = join(REPO_ROOT, 'policies', 'strict-inference.json');
  const benign = tfaudit('scan', real('serving_saved_model_half_plus_two_tf2_cpu'), '--policy', policy, '--fail-on', 'medium', '--format', 'json');
  assert.equal(benign.code, 0, 'save/restore machinery outside the policy is only info');
  assert.ok(JSON.parse(benign.stdout).findings.some((f: { capability: string; severity: string }) => f.capability === 'policy' && f.severity === 'info'));
  const attack = tfaudit('scan', crafted('P1_trojan_if_writefile'), '--policy', policy, '--format', 'json');
  assert.equal(attack.code, 1);
  const violation = JSON.parse(attack.stdout).findings.find((f: { capability: string; op: string }) => f.capability === 'policy' && f.op === 'WriteFile');
  assert.ok(violation, 'WriteFile is reported as outside the policy');
  const badPolicy = join(tempDir(), 'policy.json');
  writeFileSync(badPolicy, '{"allow": 42}');
  const usage = tfaudit('scan', crafted('P1_trojan_if_writefile'), '--policy', badPolicy);
  assert.notEqual(usage.code, 0);
  assert.match(usage.stderr, /policy\.json/);
});

test('scan --checkpoint DIR (a CheckpointManager folder) evaluates its latest ckpt-N; a corrupted one is an integrity finding (crafted P1)', { skip: skipWithoutCorpus }, () => {
  const model = crafted('P1_trojan_if_writefile');
  const dir = tempDir();
  const manager = join(dir, 'manager');
  mkdirSync(manager);
  // ckpt-1 = the model's own (dormant) variables, ckpt-2 = the malicious checkpoint.
  for (const [from, to] of [[join(model, 'variables', 'variables'), 'ckpt-1'], [join(model, 'ckpt_active', 'ckpt'), 'ckpt-2']] as const) {
    copyFileSync(`${from}.index`, join(manager, `${to}.index`));
    copyFileSync(`${from}.data-00000-of-00001`, join(manager, `${to}.data-00000-of-00001`));
  }
  writeFileSync(join(manager, 'checkpoint'), 'model_checkpoint_path: "ckpt-2"\nall_model_checkpoint_paths: "ckpt-1"\nall_model_checkpoint_paths: "ckpt-2"\n');
  const broken = join(dir, 'broken');
  mkdirSync(broken);
  copyFileSync(join(model, 'ckpt_active', 'ckpt.index'), join(broken, 'ckpt.index'));
  const data = readFileSync(join(model, 'ckpt_active', 'ckpt.data-00000-of-00001'));
  writeFileSync(join(broken, 'ckpt.data-00000-of-00001'), data.subarray(0, Math.floor(data.length / 2)));
  const result = tfaudit('scan', model, '--checkpoint', manager, '--checkpoint', join(broken, 'ckpt'), '--format', 'json', '--no-isolation');
  assert.equal(result.code, 1, result.stderr);
  const report = JSON.parse(result.stdout);
  const entry = report.checkpoints.find((c: { path: string }) => c.path === manager);
  assert.deepEqual(entry.siblings.map((s: string) => s.split('/').pop()), ['ckpt-1', 'ckpt-2']);
  assert.equal(entry.coverage.root, '');
  const write = report.findings.find((f: { op: string }) => f.op === 'WriteFile');
  const states = Object.fromEntries(write.trigger.activation.map((a: { checkpoint: string; state: string }) => [a.checkpoint, a.state]));
  assert.equal(states[manager], 'active');
  assert.equal(states[join(broken, 'ckpt')], 'unknown');
  const integrity = report.findings.find((f: { capability: string }) => f.capability === 'integrity');
  assert.match(integrity.message, /broken\/ckpt/);
  assert.match(integrity.evidence.join('\n'), /broken\/ckpt\.data-00000-of-00001: tensor ".*" at offset \d+ with \d+ bytes points outside/);
  assert.equal(tfaudit('scan', model, '--checkpoint-map', 'no-equals-sign').code, 4);
  const text = tfaudit('scan', model, '--checkpoint', manager, '--no-isolation');
  assert.match(text.stdout, /object graph, root \(checkpoint root\): \d+ of \d+ variables matched/);
  assert.match(text.stdout, /CheckpointManager folder: ckpt-1, ckpt-2; the latest, ckpt-2, is evaluated/);
});

test('scan --stats writes the worker’s own peak RSS, CPU and phase times (serving_saved_model_half_plus_two_cpu)', { skip: skipWithoutCorpus }, () => {
  const stats = join(tempDir(), 'stats.json');
  const result = tfaudit('scan', real('serving_saved_model_half_plus_two_cpu', '00000123'), '--format', 'json', '--no-isolation', '--stats', stats);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).schemaVersion, 1, 'the report itself is unchanged on stdout');
  const { worker } = JSON.parse(readFileSync(stats, 'utf8'));
  assert.ok(worker.peakRssMb > 20, `peak RSS ${worker.peakRssMb} MB`);
  for (const phase of ['startup', 'parse', 'analyse', 'summary', 'encode']) assert.equal(typeof worker.phases[phase], 'number', phase);
  assert.ok(worker.wallMs >= worker.phases.startup + worker.phases.parse);
  assert.equal(worker.codeCache, undefined, 'from the sources: no compiled bundle, no code cache');
  // The CLI's own phases: start-up until the worker is launched, the wait for it, the report.
  const { cli } = JSON.parse(readFileSync(stats, 'utf8'));
  assert.deepEqual(Object.keys(cli.phases), ['startup', 'launch', 'worker', 'answer', 'report']);
  assert.equal(cli.phases.worker, worker.wallMs);
  assert.ok(cli.phases.startup > 0 && cli.phases.launch >= 0 && cli.phases.answer >= -1 && cli.phases.report >= 0, JSON.stringify(cli.phases));
  const sum = Object.values(cli.phases as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(cli.wallMs - sum) < 1, `the phases add up to the CLI's wall time: ${JSON.stringify(cli)}`);
  assert.ok(Math.abs(worker.startedAt - Date.now()) < 120_000, 'the worker start is an epoch time');
});

test('a scan or inspect command line defines only its own command; any other gets every command, in help order', async () => {
  const { buildProgram } = await import('../../../main/cli/index.ts');
  const names = async (argv: string[]) => (await buildProgram(argv)).commands.map((c) => c.name());
  assert.deepEqual(await names(['scan', 'model']), ['scan']);
  assert.deepEqual(await names(['inspect', 'model']), ['inspect']);
  const all = ['inspect', 'scan', 'sandbox', 'report-vuln', 'serve', 'demo', 'merge'];
  assert.deepEqual(await names([]), all);
  assert.deepEqual(await names(['--help']), all);
  assert.deepEqual(await names(['help', 'scan']), all);
  assert.deepEqual(await names(['serve', '--port', '0']), all);
  const help = tfaudit('--help');
  for (const name of all) assert.match(help.stdout, new RegExp(`\\n  ${name} `), name);
  assert.match(tfaudit('scan', '--help').stdout, /--tf-runtime <version>/);
  assert.match(tfaudit('help', 'serve').stdout, /--max-file-mb/);
});
