// The analyzer worker's own sandbox: a probe script reads an allowed input, tries a host file
// outside the allowed paths and a TCP connection to the host's loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isolatedNodeCommand } from '../../../main/sandbox/analyzer-isolation.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { countingServer, skipWithoutBwrap } from '../../fixtures/sandbox/host.ts';

const PROBE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sandbox', 'isolation_probe.mjs');

test('isolated analyzer: allowed input readable; host files and the network are not', { skip: skipWithoutBwrap }, async () => {
  const dir = tempDir('tfaudit-isolation-');
  const allowed = join(dir, 'model.pb');
  const secret = join(dir, 'secret.txt');
  writeFileSync(allowed, 'model bytes');
  writeFileSync(secret, 'host secret');
  const server = await countingServer();
  try {
    const command = isolatedNodeCommand({ script: PROBE, args: [allowed, secret, String(server.port)], readOnlyPaths: [allowed], memoryMb: 256, timeoutSeconds: 30 });
    assert.equal(command.isolated, true, command.isolated ? '' : command.reason);
    if (!command.isolated) return;
    assert.match(command.description, /no network/);
    // spawnSync would block the event loop that the counting server needs: run it async
    const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolvePromise) => {
      const child = spawn(command.argv[0]!, command.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (c) => (stdout += c));
      child.stderr!.on('data', (c) => (stderr += c));
      child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
    });
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim());
    assert.deepEqual(out.readAllowed, { ok: true, value: 'model bytes' });
    assert.deepEqual(out.readSecret, { ok: false, error: 'ENOENT' });
    assert.deepEqual(out.readEtcShadow, { ok: false, error: 'ENOENT' });
    assert.equal(out.connect.ok, false);
    assert.equal(server.accepted(), 0, 'no connection reached the host');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('isolated analyzer: memory limit applies', { skip: skipWithoutBwrap }, () => {
  const dir = tempDir('tfaudit-isolation-');
  try {
    const script = join(dir, 'hog.mjs');
    writeFileSync(script, 'const a = []; for (let i = 0; i < 64; i++) a.push(Buffer.alloc(64 * 1024 * 1024, 1)); console.log("allocated 4 GiB");\n');
    const command = isolatedNodeCommand({ script, args: [], readOnlyPaths: [], memoryMb: 256, timeoutSeconds: 30 });
    assert.ok(command.isolated);
    if (!command.isolated) return;
    const result = spawnSync(command.argv[0]!, command.argv.slice(1), { encoding: 'utf8', timeout: 60000 });
    assert.notEqual(result.status, 0);
    assert.doesNotMatch(result.stdout, /allocated 4 GiB/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without bubblewrap the analyzer is reported as not isolated, with the reason', () => {
  const command = isolatedNodeCommand({ script: PROBE, args: [], readOnlyPaths: [], memoryMb: 256, timeoutSeconds: 10, pathEnv: '/nonexistent' });
  assert.equal(command.isolated, false);
  if (!command.isolated) assert.match(command.reason, /apt-get install bubblewrap/);
  assert.equal(isolatedNodeCommand({ script: 'relative.mjs', args: [], readOnlyPaths: [], memoryMb: 1, timeoutSeconds: 1 }).isolated, false);
});

test('isolated analyzer: a code root whose node_modules links elsewhere (a git worktree) still resolves its packages', { skip: skipWithoutBwrap }, () => {
  const dir = tempDir('tfaudit-isolation-');
  try {
    const shared = join(dir, 'shared-install', 'node_modules');
    mkdirSync(join(shared, 'probe-package'), { recursive: true });
    writeFileSync(join(shared, 'probe-package', 'package.json'), JSON.stringify({ name: 'probe-package', type: 'module', exports: './index.js' }));
    writeFileSync(join(shared, 'probe-package', 'index.js'), 'export const answer = 42;\n');
    const codeRoot = join(dir, 'worktree');
    mkdirSync(codeRoot);
    symlinkSync(shared, join(codeRoot, 'node_modules'));
    const script = join(codeRoot, 'entry.mjs');
    writeFileSync(script, "import { answer } from 'probe-package';\nprocess.stdout.write(`answer ${answer}\\n`);\n");
    const command = isolatedNodeCommand({ script, args: [], codeRoot, readOnlyPaths: [], memoryMb: 256, timeoutSeconds: 30 });
    assert.ok(command.isolated);
    if (!command.isolated) return;
    const result = spawnSync(command.argv[0]!, command.argv.slice(1), { encoding: 'utf8', timeout: 60000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'answer 42\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
