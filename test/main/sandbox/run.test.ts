// Runs a stand-in malicious model (test/fixtures/sandbox/malicious_model.py, custom runner) in
// the real bubblewrap sandbox and checks every attempt failed inside while the HOST side stayed
// untouched: no connection accepted, files unchanged, no stray processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, statSync, symlinkSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { derivePolicy } from '../../../main/sandbox/policy.ts';
import { runSandbox, SandboxManager, prepareRun, SandboxUnavailableError, planSandboxPolicy, removeRunFiles } from '../../../main/sandbox/run.ts';
import type { SandboxEvent } from '../../../shared/api.ts';
import { tempDir, REPO_ROOT } from '../../helpers/corpus.ts';
import { countingServer, skipWithoutBwrap, waitForNoMarker, markerProcesses } from '../../fixtures/sandbox/host.ts';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sandbox');
const STAND_IN = join(FIXTURES, 'malicious_model.py');

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

test('stand-in malicious model: every attempt fails inside, the host is untouched', { skip: skipWithoutBwrap }, async () => {
  const marker = `tfaudit-marker-${randomBytes(6).toString('hex')}`;
  const hostDir = tempDir('tfaudit-sandbox-host-');
  const secret = join(hostDir, 'secret.txt');
  writeFileSync(secret, 'TOP SECRET host data\n', { mode: 0o644 });
  const outside = join(hostDir, 'outside');
  mkdirSync(outside, { mode: 0o777 });
  const model = join(hostDir, 'model');
  mkdirSync(model, { mode: 0o755 });
  writeFileSync(join(model, 'saved_model.pb'), 'not really a model', { mode: 0o644 });
  const before = { host: listing(hostDir), secret: readFileSync(secret, 'utf8'), modelMtime: statSync(model).mtimeMs };
  const server = await countingServer();
  try {
    const policy = derivePolicy({
      modelPath: model,
      findings: [],
      signatures: [],
      checkpoint: null,
      overrides: { runner: 'custom', timeoutSeconds: 6, memoryMb: 256 },
      runner: { command: ['/usr/bin/python3', '-I', STAND_IN, secret, '/model', outside, String(server.port), marker] },
    });
    const streamed: string[] = [];
    const report = await runSandbox(policy, { onOutput: (_stream, chunk) => streamed.push(chunk) });
    const stdout = streamed.join('');

    // the attempts, as the stand-in saw them
    const attempts = new Map([...stdout.matchAll(/^ATTEMPT ([\w-]+): (\w+)(?: (.*))?$/gm)].map((m) => [m[1]!, `${m[2]} ${m[3] ?? ''}`.trim()]));
    for (const name of [
      'read-host-secret', 'read-etc-shadow', 'read-root-ssh', 'write-model-dir', 'write-outside-scratch', 'write-etc', 'write-root',
      'connect-host-loopback', 'allocate-past-limit', 'fork-bomb',
    ]) {
      assert.ok(attempts.has(name), `attempt ${name} missing from the output:\n${stdout}\n${report.stderrTail}`);
      assert.match(attempts.get(name)!, /^blocked /, `${name} must fail inside the sandbox: ${attempts.get(name)}`);
    }
    assert.equal(attempts.get('read-host-secret'), 'blocked ENOENT');
    assert.equal(attempts.get('write-model-dir'), 'blocked EROFS');
    assert.equal(attempts.get('connect-host-loopback'), 'blocked ECONNREFUSED');
    assert.equal(attempts.get('allocate-past-limit'), 'blocked MemoryError');
    assert.equal(attempts.get('fork-bomb'), 'blocked EAGAIN');
    const forked = /forked (\d+) children/.exec(stdout);
    assert.ok(forked && Number(forked[1]) < policy.limits.processes, `fork bomb bounded by the process limit: ${forked?.[0]}`);
    assert.equal(attempts.get('outlive-timeout'), 'sleeping');

    // the run: killed at the wall-time limit, the scratch write listed
    assert.equal(report.timedOut, true);
    assert.equal(report.signal, 'SIGKILL');
    assert.equal(report.exitCode, null);
    assert.ok(report.wallSeconds >= 5.5 && report.wallSeconds < 30, `wall ${report.wallSeconds}`);
    assert.deepEqual(report.filesWritten.map((f) => `${f.change} ${f.path}`), ['created /scratch/evidence.txt']);
    assert.ok(existsSync(join(policy.scratchDir, 'evidence.txt')));

    // strace saw the attempts
    const seen = (kind: string, call: RegExp, target: string, result: string) =>
      report.syscalls.some((s) => s.kind === kind && call.test(s.call) && s.target === target && s.result === result);
    assert.ok(seen('file', /^open/, secret, 'ENOENT'), 'secret read traced');
    assert.ok(seen('file', /^open/, '/etc/shadow', 'ENOENT'), '/etc/shadow read traced');
    assert.ok(seen('file', /^open.*write/, '/model/pwned.txt', 'EROFS'), 'model-dir write traced');
    assert.ok(seen("network", /^connect$/, `127.0.0.1:${server.port}`, "EINPROGRESS → ECONNREFUSED"), `connect traced: ${JSON.stringify(report.syscalls.filter((s) => s.kind === "network"))}`);
    assert.ok(report.syscalls.some((s) => s.kind === 'process' && /clone|fork/.test(s.call) && s.result === 'EAGAIN'), 'failed fork traced');
    assert.ok(seen('file', /^open.*write/, '/scratch/evidence.txt', 'ok'));
    assert.ok(report.cpuSeconds !== null && report.peakMemoryMb !== null && report.peakMemoryMb > 1);

    // the host side
    assert.equal(server.accepted(), 0, 'the host server accepted no connection');
    assert.deepEqual(listing(hostDir), before.host, 'no file appeared or vanished on the host');
    assert.equal(readFileSync(secret, 'utf8'), before.secret);
    assert.equal(statSync(model).mtimeMs, before.modelMtime);
    assert.deepEqual(await waitForNoMarker(marker), [], 'no process of the run is left');
    rmSync(dirname(policy.scratchDir), { recursive: true, force: true });
  } finally {
    await server.close();
    rmSync(hostDir, { recursive: true, force: true });
  }
});

test('as an ordinary user (user-namespace mode) the same attempts fail and the host is untouched', {
  skip: skipWithoutBwrap || (process.getuid?.() !== 0 ? 'needs root to start the check as uid 65534 (non-root runs use this mode already)' : false),
}, async () => {
  const marker = `tfaudit-marker-${randomBytes(6).toString('hex')}`;
  // a place uid 65534 can reach (tempDir() makes mode-700 dirs)
  const hostDir = tempDir('tfaudit-sandbox-userns-');
  chmodSync(hostDir, 0o755);
  const secret = join(hostDir, 'secret.txt');
  writeFileSync(secret, 'TOP SECRET host data\n', { mode: 0o644 });
  const model = join(hostDir, 'model');
  mkdirSync(model, { mode: 0o755 });
  const outside = join(hostDir, 'outside');
  mkdirSync(outside, { mode: 0o777 });
  const before = listing(hostDir);
  const server = await countingServer();
  try {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '--import', 'tsx', join(FIXTURES, 'unprivileged_run.ts'), secret, model, outside, String(server.port), marker], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: hostDir }, cwd: REPO_ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.stderr!.on('data', (c) => (stderr += c));
    const status = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(status, 0, stderr);
    const report = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.ok(report.notes.some((n: string) => /user namespace/.test(n)), 'ran in user-namespace mode');
    const out: string = report.stdoutTail;
    for (const name of ['read-host-secret', 'read-etc-shadow', 'write-model-dir', 'write-outside-scratch', 'write-root', 'connect-host-loopback', 'allocate-past-limit', 'fork-bomb']) {
      assert.match(out, new RegExp(`^ATTEMPT ${name}: blocked `, 'm'), `${name}:\n${out}`);
    }
    assert.equal(report.timedOut, true);
    assert.ok(report.syscalls.some((s: { target: string; result: string }) => s.target === secret && s.result === 'ENOENT'), 'strace works in user-namespace mode');
    assert.equal(server.accepted(), 0);
    assert.deepEqual(listing(hostDir), before);
    assert.deepEqual(await waitForNoMarker(marker), []);
    rmSync(dirname(report.policy.scratchDir), { recursive: true, force: true });
  } finally {
    await server.close();
    rmSync(hostDir, { recursive: true, force: true });
  }
});

test('the model runs as an unprivileged uid with a clean environment and no host home', { skip: skipWithoutBwrap }, async () => {
  const model = tempDir('tfaudit-sandbox-model-');
  process.env.TFAUDIT_TEST_LEAK = 'leaked-secret-value';
  try {
    const policy = derivePolicy({
      modelPath: model,
      findings: [],
      signatures: [],
      checkpoint: null,
      overrides: { runner: 'custom', timeoutSeconds: 10 },
      runner: { command: ['/bin/sh', '-c', 'id -u; env; ls -a /; ls /root /home 2>&1; cat /proc/self/status | grep CapEff'] },
    });
    const report = await runSandbox(policy);
    assert.equal(report.exitCode, 0, report.stderrTail);
    const lines = report.stdoutTail.split('\n');
    // as root: a fresh unused uid per run; otherwise 65534 inside the user namespace
    const expected = process.getuid?.() === 0 ? /runs as uid (\d+)/.exec(report.notes.join('\n'))![1]! : '65534';
    assert.equal(lines[0], expected);
    assert.notEqual(lines[0], '0');
    assert.ok(!report.stdoutTail.includes('leaked-secret-value'), 'host environment does not leak in');
    assert.match(report.stdoutTail, /^HOME=\/scratch$/m);
    assert.match(report.stdoutTail, /CapEff:\s+0+$/m);
    assert.ok(!/^home$/m.test(report.stdoutTail), 'no /home inside');
    rmSync(dirname(policy.scratchDir), { recursive: true, force: true });
  } finally {
    delete process.env.TFAUDIT_TEST_LEAK;
    rmSync(model, { recursive: true, force: true });
  }
});

test('SandboxManager: streams output, stop() kills the whole tree', { skip: skipWithoutBwrap }, async () => {
  const marker = `tfaudit-marker-${randomBytes(6).toString('hex')}`;
  const model = tempDir('tfaudit-sandbox-model-');
  try {
    const policy = derivePolicy({
      modelPath: model,
      findings: [],
      signatures: [],
      checkpoint: null,
      overrides: { runner: 'custom', timeoutSeconds: 60 },
      runner: { command: ['/bin/sh', '-c', `echo started; (sleep 300; echo ${marker}) & (sleep 301; echo ${marker}) & wait`] },
    });
    const manager = new SandboxManager();
    const events: SandboxEvent[] = [];
    manager.on('event', (e: SandboxEvent) => events.push(e));
    const own: SandboxEvent[] = [];
    const runId = manager.launch(policy, (e) => own.push(e));
    const deadline = Date.now() + 20000;
    while (!events.some((e) => e.type === 'stdout' && e.data.includes('started')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(markerProcesses(marker).length >= 2, 'the payload is running');
    assert.equal(manager.stop(runId), true);
    const report = await manager.wait(runId);
    assert.equal(report.signal, 'SIGKILL');
    assert.equal(report.timedOut, false);
    assert.ok(report.notes.some((n) => /stopped by the auditor/.test(n)));
    assert.ok(report.wallSeconds < 30);
    assert.deepEqual(await waitForNoMarker(marker), []);
    assert.equal(manager.stop(runId), false, 'nothing left to stop');
    assert.ok(events.some((e) => e.type === 'exit' && e.runId === runId));
    assert.deepEqual(own.map((e) => e.type).filter((t) => t !== 'stderr'), events.map((e) => e.type).filter((t) => t !== 'stderr'), 'the per-run listener sees the same events');
    rmSync(dirname(policy.scratchDir), { recursive: true, force: true });
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

test('the sandbox dies with its parent (parent SIGKILLed)', { skip: skipWithoutBwrap }, async () => {
  const marker = `tfaudit-marker-${randomBytes(6).toString('hex')}`;
  const model = tempDir('tfaudit-sandbox-model-');
  try {
    const parent = spawn(process.execPath, ['--import', 'tsx', join(FIXTURES, 'launch_and_hang.ts'), marker, model], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('launcher did not start the sandbox')), 30000);
      parent.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('spawned')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // wait until the payload itself runs (bwrap has armed its parent-death signals by then)
    const cmdline = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return ''; // exited between the listing and the read
      }
    };
    const payloadRunning = () => markerProcesses(marker).some((pid) => cmdline(pid).startsWith('/bin/sh\0'));
    const deadline = Date.now() + 15000;
    while (!payloadRunning() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(payloadRunning(), 'sandbox payload running');
    parent.kill('SIGKILL');
    assert.deepEqual(await waitForNoMarker(marker, 5000), [], 'sandbox processes died with the parent');
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

test('a missing runtime is a clear error, not a crash', { skip: skipWithoutBwrap }, async () => {
  const model = tempDir('tfaudit-sandbox-model-');
  try {
    const policy = derivePolicy({
      modelPath: model,
      findings: [],
      signatures: [],
      checkpoint: null,
      overrides: { runner: 'custom' },
      runner: { command: ['no-such-program-tfaudit', '--x'] },
    });
    await assert.rejects(prepareRun(policy), /no-such-program-tfaudit not found/);
    await assert.rejects(
      prepareRun(policy, { detection: { backend: null, message: 'No sandbox backend found: install bubblewrap (`apt-get install bubblewrap`)' } }),
      (error: unknown) => error instanceof SandboxUnavailableError && /apt-get install bubblewrap/.test(error.message),
    );
    rmSync(dirname(policy.scratchDir), { recursive: true, force: true });
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

test('CPU-time and file-size limits: SIGXCPU stops a spinner, writes past the size limit fail', { skip: skipWithoutBwrap }, async () => {
  const model = tempDir('tfaudit-sandbox-model-');
  try {
    const base = derivePolicy({
      modelPath: model, findings: [], signatures: [], checkpoint: null, overrides: { runner: 'custom', timeoutSeconds: 30 },
      runner: { command: ['/usr/bin/python3', '-c', 'while True: pass'] },
    });
    const spin = await runSandbox({ ...base, limits: { ...base.limits, cpuSeconds: 1 } });
    assert.equal(spin.signal, 'SIGXCPU', JSON.stringify(spin.notes));
    assert.equal(spin.timedOut, false);
    assert.ok(spin.cpuSeconds !== null && spin.cpuSeconds >= 0.5 && spin.cpuSeconds < 5, `cpu ${spin.cpuSeconds}`);
    assert.ok(spin.notes.some((n) => /CPU-time limit of 1 s reached/.test(n)));

    const big = derivePolicy({
      modelPath: model, findings: [], signatures: [], checkpoint: null, overrides: { runner: 'custom', timeoutSeconds: 30 },
      runner: { command: ['/usr/bin/python3', '-c', 'open("/scratch/big", "wb").write(b"x" * (3 << 20))'] },
    });
    const fill = await runSandbox({ ...big, limits: { ...big.limits, fileSizeMb: 1 } });
    // Python ignores SIGXFSZ, so the write fails with EFBIG instead of the process being killed
    assert.ok(fill.signal === 'SIGXFSZ' || (fill.exitCode !== 0 && /File too large/.test(fill.stderrTail)), `${fill.signal} ${fill.exitCode} ${fill.stderrTail}`);
    const written = fill.filesWritten.find((f) => f.path === '/scratch/big');
    assert.ok(written && written.size <= 1 << 20, `file capped at 1 MB: ${JSON.stringify(written)}`);
    for (const p of [spin.policy, fill.policy]) rmSync(dirname(p.scratchDir), { recursive: true, force: true });
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
});

test('as root, a model the sandbox uid cannot read is bound as a readable copy; its symlinks are never followed', {
  skip: skipWithoutBwrap || (process.getuid?.() !== 0 ? 'root-mode behaviour' : false),
}, async () => {
  const hostDir = tempDir('tfaudit-sandbox-private-');
  const secret = join(hostDir, 'host-secret.txt');
  writeFileSync(secret, 'HOST SECRET', { mode: 0o600 });
  const model = join(hostDir, 'model');
  mkdirSync(model, { mode: 0o700 });
  writeFileSync(join(model, 'saved_model.pb'), 'model bytes', { mode: 0o600 });
  symlinkSync(secret, join(model, 'link-to-secret'));
  try {
    const policy = derivePolicy({
      modelPath: model, findings: [], signatures: [], checkpoint: null, overrides: { runner: 'custom', timeoutSeconds: 20 },
      runner: { command: ['/bin/sh', '-c', 'cat /model/saved_model.pb; echo; cat /model/link-to-secret; echo; touch /model/new'] },
    });
    const report = await runSandbox(policy);
    assert.match(report.stdoutTail, /^model bytes$/m);
    assert.doesNotMatch(report.stdoutTail, /HOST SECRET/);
    assert.match(report.stderrTail, /link-to-secret: No such file or directory/);
    assert.match(report.stderrTail, /Read-only file system/);
    assert.ok(report.notes.some((n) => /a readable copy is bound read-only instead/.test(n)));
    assert.equal(statSync(join(model, 'saved_model.pb')).mode & 0o777, 0o600, 'the original keeps its permissions');
    assert.deepEqual(readdirSync(model).sort(), ['link-to-secret', 'saved_model.pb']);
    rmSync(dirname(policy.scratchDir), { recursive: true, force: true });
  } finally {
    rmSync(hostDir, { recursive: true, force: true });
  }
});

test('planSandboxPolicy: a missing runtime is stated in the rationale, not thrown', { skip: skipWithoutBwrap }, async () => {
  const saved = process.env.PATH;
  process.env.PATH = '/usr/bin:/bin';
  try {
    const policy = await planSandboxPolicy({ modelPath: '/models/m', findings: [], signatures: [], checkpoint: null, overrides: { runner: 'model-server' } });
    assert.match(policy.rationale[0]!, /^Cannot launch with runner model-server: tensorflow_model_server not found/);
    removeRunFiles(policy);
    assert.ok(!existsSync(dirname(policy.scratchDir)));
  } finally {
    process.env.PATH = saved;
  }
});
