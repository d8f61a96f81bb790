// sandboxCommand: the exact bwrap argv and nsjail config built from a policy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { derivePolicy } from '../../../main/sandbox/policy.ts';
import { sandboxCommand, confinementArgv, sandboxLayout, mountTarget, remapArgv } from '../../../main/sandbox/command.ts';

const policy = derivePolicy({
  modelPath: '/models/m', findings: [], signatures: ['serving_default'], checkpoint: '/data/ckpts/ckpt-3',
  overrides: { timeoutSeconds: 30, memoryMb: 2048 }, runner: { readOnlyMounts: ['/opt/tfvenv'] }, scratchDir: '/tmp/tfaudit-sandbox-X/scratch',
});

function pairs(argv: string[], flag: string): string[][] {
  const out: string[][] = [];
  argv.forEach((a, i) => {
    if (a === flag) out.push([argv[i + 1]!, argv[i + 2]!]);
  });
  return out;
}

test('bwrap as root: host user namespace, setpriv to 65534, no network, read-only model, one writable scratch', () => {
  const { argv, configFiles, directories } = sandboxCommand(policy, ['python3', 'run.py'], { privileged: true, backendPath: '/usr/bin/bwrap' });
  const sep = argv.indexOf('--');
  const outer = argv.slice(0, sep);
  assert.equal(argv[0], '/usr/bin/bwrap');
  for (const flag of ['--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--new-session', '--clearenv']) {
    assert.ok(outer.includes(flag), flag);
  }
  assert.ok(!outer.includes('--unshare-user'), 'root stays in the host user namespace (a userns would map the model to host root)');
  assert.ok(!outer.includes('--share-net'));
  assert.deepEqual(pairs(outer, '--bind'), [
    ['/tmp/tfaudit-sandbox-X/scratch', '/scratch'],
    ['/tmp/tfaudit-sandbox-X/scratch/tmp', '/tmp'],
    ['/tmp/tfaudit-sandbox-X/observe', '/.tfaudit'],
  ]);
  const ro = pairs(outer, '--ro-bind');
  assert.ok(ro.some(([s, d]) => s === '/models/m' && d === '/model'));
  assert.ok(ro.some(([s, d]) => s === '/data/ckpts' && d === '/checkpoint'));
  assert.ok(ro.some(([s, d]) => s === '/opt/tfvenv' && d === '/opt/tfvenv'));
  const sources = ro.map(([s]) => s);
  for (const hidden of ['/', '/etc', '/home', '/root', '/etc/shadow', '/etc/passwd', '/var', '/run']) assert.ok(!sources.includes(hidden), `${hidden} not mounted`);
  assert.ok(outer.join(' ').includes('--remount-ro /'), 'root of the sandbox read-only');
  assert.ok(pairs(outer, '--setenv').some(([k, v]) => k === 'HOME' && v === '/scratch'));
  // inner chain: limits, then the privilege drop, then the payload
  const inner = argv.slice(sep + 1);
  assert.equal(inner[0], 'prlimit');
  assert.ok(inner.includes(`--as=${2048 * 1024 * 1024}`));
  assert.ok(inner.includes('--cpu=30:32'));
  assert.ok(inner.includes(`--nproc=${policy.limits.processes}`));
  assert.ok(inner.includes('--reuid=65534') && inner.includes('--no-new-privs') && inner.includes('--bounding-set=-all'));
  assert.deepEqual(inner.slice(-2), ['python3', 'run.py']);
  assert.ok(configFiles.some((f) => f.path.endsWith('/etc/passwd') && !/root:x:0:0:root:\/root/.test(f.content)));
  assert.deepEqual(directories.find((d) => d.path === policy.scratchDir), { path: policy.scratchDir, mode: 0o700, owner: 65534 });
});

test('bwrap as a normal user: user namespace mapped to 65534, no setpriv', () => {
  const { argv } = sandboxCommand(policy, ['x'], { privileged: false });
  const sep = argv.indexOf('--');
  assert.deepEqual(argv.slice(1, 6), ['--unshare-user', '--uid', '65534', '--gid', '65534']);
  assert.ok(!argv.slice(sep).includes('setpriv'));
});

test('observers come before the limits; network allowed only when the policy says so', () => {
  const { argv } = sandboxCommand({ ...policy, allowNetwork: true }, ['x'], { privileged: true, observers: ['/usr/bin/strace', '-o', '/.tfaudit/s', '--'] });
  assert.ok(argv.includes('--share-net') && !argv.includes('--unshare-net'));
  const sep = argv.indexOf('--');
  assert.deepEqual(argv.slice(sep + 1, sep + 5), ['/usr/bin/strace', '-o', '/.tfaudit/s', '--']);
  assert.equal(argv[sep + 5], 'prlimit');
  if (existsSync('/etc/resolv.conf')) assert.ok(pairs(argv, '--ro-bind').some(([s]) => s === '/etc/resolv.conf'), 'DNS config only with network');
  assert.ok(!pairs(sandboxCommand(policy, ['x'], { privileged: true }).argv, '--ro-bind').some(([s]) => s === '/etc/resolv.conf'));
});

test('parents of mounts are created 0755 before binding (bwrap would make them 0700)', () => {
  const { argv } = sandboxCommand(policy, ['x'], { privileged: true });
  const dirs = pairs(argv, '--dir').map(([d]) => d);
  assert.ok(dirs.includes('/opt'));
  assert.ok(argv.indexOf('/opt') < argv.indexOf('/opt/tfvenv'));
});

test('confinement limits: file size, processes, no core dumps', () => {
  const argv = confinementArgv(policy, false);
  assert.deepEqual(argv.slice(0, 1), ['prlimit']);
  assert.ok(argv.includes(`--fsize=${policy.limits.fileSizeMb * 1024 * 1024}`));
  assert.ok(argv.includes('--core=0'));
  assert.ok(!argv.includes('setpriv'));
});

test('nsjail: protobuf-text config with the same policy', () => {
  const { argv, configFiles } = sandboxCommand({ ...policy, backend: 'nsjail' }, ['python3', 'run.py'], { privileged: true, backendPath: '/usr/bin/nsjail' });
  const layout = sandboxLayout(policy);
  const cfgPath = `${layout.runRoot}/nsjail.cfg`;
  assert.deepEqual(argv.slice(0, 4), ['/usr/bin/nsjail', '--config', cfgPath, '--']);
  assert.deepEqual(argv.slice(-2), ['python3', 'run.py']);
  const cfg = configFiles.find((f) => f.path === cfgPath)!.content;
  for (const line of [
    'mode: ONCE', 'time_limit: 30', 'rlimit_as: 2048', 'rlimit_cpu: 30', `rlimit_nproc: ${policy.limits.processes}`, 'clone_newnet: true',
    'keep_env: false', 'uidmap { inside_id: "65534" outside_id: "65534" count: 1 }',
    'mount { src: "/models/m" dst: "/model" is_bind: true rw: false }',
    'mount { src: "/tmp/tfaudit-sandbox-X/scratch" dst: "/scratch" is_bind: true rw: true }',
    'mount { dst: "/proc" fstype: "proc" is_bind: false rw: false }',
    'envar: "HOME=/scratch"',
  ]) {
    assert.ok(cfg.split('\n').includes(line), `nsjail config has ${line}\n${cfg}`);
  }
});

test('root mode with a per-run uid: setpriv, scratch owner and the generated passwd all use it', () => {
  const { argv, directories, configFiles } = sandboxCommand(policy, ['x'], { privileged: true, runUid: 1900000123 });
  assert.ok(argv.includes('--reuid=1900000123') && argv.includes('--regid=1900000123'));
  assert.equal(directories.find((d) => d.path === policy.scratchDir)!.owner, 1900000123);
  assert.match(configFiles.find((f) => f.path.endsWith('/etc/passwd'))!.content, /^sandbox:x:1900000123:1900000123:/m);
});

test('read-only mounts under the sandbox’s own /tmp appear under /host and the command follows them', () => {
  assert.equal(mountTarget('/tmp/ci/repo/script.py'), '/host/tmp/ci/repo/script.py');
  assert.equal(mountTarget('/opt/tfvenv'), '/opt/tfvenv');
  assert.equal(mountTarget('/tmpfoo/x'), '/tmpfoo/x');
  assert.deepEqual(remapArgv(['/usr/bin/python3', '/tmp/ci/repo/script.py', '--flag', '/tmp/other'], ['/tmp/ci/repo/script.py']), [
    '/usr/bin/python3',
    '/host/tmp/ci/repo/script.py',
    '--flag',
    '/tmp/other',
  ]);
});
