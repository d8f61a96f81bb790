// Matching sandbox observations to findings (main/sandbox/confirm.ts) on synthetic strace
// observations shaped like the real runs of crafted P1/P3/P5: confirmed / not-observed /
// inconclusive, disagreements between the halves, and checkpoint-against-checkpoint differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding } from '../../../shared/findings.ts';
import type { SandboxRunReport, SyscallObservation } from '../../../shared/sandbox.ts';
import { compareRuns, confirmFinding, confirmFindings, findDisagreements, behaviourSummary, findingTarget, staticVerdict } from '../../../main/sandbox/confirm.ts';
import { straceObservations } from '../../../main/sandbox/observe.ts';
import { progressFromEvents, parseRunnerEvent, RunnerEventCollector } from '../../../main/sandbox/progress.ts';
import { writeFileFinding, syntheticSandboxRun, MODEL_PATH } from '../report/synthetic-report.ts';

const OWN = `${MODEL_PATH}/variables/variables`;
const ACTIVE = `${MODEL_PATH}/ckpt_active/ckpt`;

function readFinding(path: string, overrides: Partial<Finding> = {}): Finding {
  return writeFileFinding('F2', {
    capability: 'file-read', op: 'ReadFile', node: 'ReadFile',
    arguments: [{ input: 'filename', value: path, expression: `Const('${path}')`, classification: 'sensitive-path' }],
    ...overrides,
  });
}

function exhaustionFinding(): Finding {
  return writeFileFinding('F3', {
    capability: 'resource-exhaustion', op: 'Tile', node: 'Tile', arguments: [],
    details: { elements: '10000000000', bytes: '40000000000', size: 'multiples = ReadVariableOp(reps)' },
  });
}

/** A tf-python run that reached the given runner events, with these observations. */
function run(events: string[], syscalls: SyscallObservation[], extra: Partial<SandboxRunReport> = {}): SandboxRunReport {
  const base = syntheticSandboxRun();
  const progress = progressFromEvents(events.map((e) => (e.startsWith('{') ? JSON.parse(e) : { tfaudit: e, signature: 'serving_default' }))).progress;
  return { ...base, filesWritten: [], syscalls, progress, ...extra };
}

const COMPLETE = ['tensorflow', 'loaded', 'restored', 'calling', 'outputs'];

test('file-write: a write to the target during the signature call confirms; the scratch mirror is named', () => {
  const observed = run(COMPLETE, [{ kind: 'file', call: 'openat(write)', target: '/tmp/tfaudit_canary', result: 'ok', phase: 'calling', count: 1 }], {
    filesWritten: [{ path: '/tmp/tfaudit_canary', size: 5, change: 'created' }],
  });
  const c = confirmFinding(writeFileFinding(), ACTIVE, observed);
  assert.equal(c.observed, 'confirmed');
  assert.equal(c.static, 'active');
  assert.equal(c.target, '/tmp/tfaudit_canary');
  assert.deepEqual(c.evidence, [
    'openat(write) /tmp/tfaudit_canary → ok [during the signature call]',
    "created /tmp/tfaudit_canary (5 B, in the sandbox's scratch mirror of /tmp/tfaudit_canary)",
  ]);
  // a failed attempt (read-only outside the scratch) is still the attempt
  const refused = run(COMPLETE, [{ kind: 'file', call: 'openat(write)', target: '/etc/cron.d/x', result: 'EROFS', phase: 'calling' }]);
  const cron = writeFileFinding('F1', { arguments: [{ input: 'filename', value: '/etc/cron.d/x', expression: '', classification: 'sensitive-path' }] });
  assert.equal(confirmFinding(cron, ACTIVE, refused).observed, 'confirmed');
});

test('file-write: the signature returned and nothing matched → not-observed; a relative target lands in /scratch', () => {
  const quiet = run(COMPLETE, [{ kind: 'file', call: 'openat(write)', target: '/tmp/other', result: 'ok', phase: 'calling' }]);
  const c = confirmFinding(writeFileFinding(), OWN, quiet);
  assert.equal(c.observed, 'not-observed');
  assert.equal(c.static, 'dormant');
  assert.match(c.evidence[0]!, /signature serving_default returned; no write to \/tmp\/tfaudit_canary was observed/);
  const relative = writeFileFinding('F1', { arguments: [{ input: 'filename', value: 'out/log.txt', expression: '', classification: 'local-path' }] });
  const wrote = run(COMPLETE, [{ kind: 'file', call: 'openat(write)', target: '/scratch/out/log.txt', result: 'ok', phase: 'calling' }]);
  assert.equal(confirmFinding(relative, ACTIVE, wrote).observed, 'confirmed');
});

test('file-read: stat or open of the path confirms, ENOENT included (the attempt is the proof)', () => {
  for (const call of ['newfstatat', 'openat(read)', 'statx']) {
    const r = run(['tensorflow', 'loaded', 'calling', 'error'], [{ kind: 'file', call, target: '/home/user/.ssh/id_rsa', result: 'ENOENT', phase: 'calling' }]);
    const c = confirmFinding(readFinding('/home/user/.ssh/id_rsa'), ACTIVE, r);
    assert.equal(c.observed, 'confirmed', call);
  }
  // the same read before the signature call (the runner, the import) is not the op
  const early = run(COMPLETE, [{ kind: 'file', call: 'openat(read)', target: '/etc/hostname', result: 'ENOENT', phase: 'loading' }]);
  assert.equal(confirmFinding(readFinding('/etc/hostname'), ACTIVE, early).observed, 'not-observed');
});

test('a run that dies before the signature is inconclusive, never confirmed, even when the target was touched earlier', () => {
  const died = run(['tensorflow', '{"tfaudit":"error","stage":"restore checkpoint","exception":"NotFoundError","message":"NotFoundError: no ckpt"}'], [
    { kind: 'file', call: 'openat(read)', target: '/etc/hostname', result: 'ENOENT', phase: 'loading' },
  ], { exitCode: 5 });
  const c = confirmFinding(readFinding('/etc/hostname'), ACTIVE, died);
  assert.equal(c.observed, 'inconclusive');
  assert.match(c.evidence[0]!, /signature was never called: the runner failed at “restore checkpoint”: NotFoundError: no ckpt/);
  const timedOut = run(['tensorflow', 'loaded', 'calling'], [], { timedOut: true, exitCode: null, signal: 'SIGKILL' });
  assert.equal(confirmFinding(writeFileFinding(), ACTIVE, timedOut).observed, 'inconclusive');
  assert.match(confirmFinding(writeFileFinding(), ACTIVE, timedOut).evidence[0]!, /did not return: the run hit the 120 s wall-time limit/);
});

test('unresolved targets are inconclusive with the candidate calls; no strace is inconclusive', () => {
  const f = writeFileFinding('F1', { arguments: [{ input: 'filename', value: null, expression: 'StringJoin(input x)', classification: 'unknown' }] });
  const r = run(COMPLETE, [{ kind: 'file', call: 'openat(write)', target: '/tmp/x1', result: 'ok', phase: 'calling' }]);
  const c = confirmFinding(f, ACTIVE, r);
  assert.equal(c.target, null);
  assert.equal(c.observed, 'inconclusive');
  assert.ok(c.evidence.includes('openat(write) /tmp/x1 → ok [during the signature call]'));
  const untraced = run(COMPLETE, [], { notes: ['strace not available: attempted system calls are not recorded'] });
  assert.equal(confirmFinding(readFinding('/etc/passwd'), ACTIVE, untraced).observed, 'inconclusive');
});

test('resource exhaustion: ResourceExhaustedError, a limit hit during the call, or a clean return', () => {
  const oom = run(['tensorflow', 'loaded', 'calling', '{"tfaudit":"error","stage":"call","exception":"ResourceExhaustedError","message":"ResourceExhaustedError: OOM when allocating tensor with shape[100000,100000]"}'], []);
  const c = confirmFinding(exhaustionFinding(), ACTIVE, oom);
  assert.equal(c.observed, 'confirmed');
  assert.equal(c.target, '10000000000 elements (40000000000 bytes)');
  assert.match(c.evidence[0]!, /raised ResourceExhaustedError: OOM when allocating/);
  const killed = run(['tensorflow', 'loaded', 'calling'], [], { timedOut: true, signal: 'SIGKILL', exitCode: null });
  assert.match(confirmFinding(exhaustionFinding(), ACTIVE, killed).evidence[0]!, /wall-time limit of 120 s hit during the signature call/);
  const aborted = run(['tensorflow', 'loaded', 'calling'], [], { signal: 'SIGABRT', exitCode: null, stderrTail: 'terminate called after throwing an instance of std::bad_alloc\n' });
  assert.equal(confirmFinding(exhaustionFinding(), ACTIVE, aborted).observed, 'confirmed');
  const fine = run(COMPLETE, []);
  assert.equal(confirmFinding(exhaustionFinding(), OWN, fine).observed, 'not-observed');
  // a limit hit before the signature call is not the op
  const early = run(['tensorflow'], [], { timedOut: true, signal: 'SIGKILL', exitCode: null });
  assert.equal(confirmFinding(exhaustionFinding(), ACTIVE, early).observed, 'inconclusive');
});

test('network and process targets', () => {
  const net = writeFileFinding('F4', { capability: 'network', op: 'DebugIdentityV2', arguments: [{ input: 'attr:debug_urls', value: 'grpc://10.1.2.3:6064', expression: '', classification: 'grpc' }] });
  const connect = run(COMPLETE, [{ kind: 'network', call: 'connect', target: '10.1.2.3:6064', result: 'ENETUNREACH', phase: 'calling' }]);
  assert.equal(confirmFinding(net, ACTIVE, connect).observed, 'confirmed');
  const other = run(COMPLETE, [{ kind: 'network', call: 'connect', target: '10.9.9.9:6064', result: 'ENETUNREACH', phase: 'calling' }]);
  assert.equal(confirmFinding(net, ACTIVE, other).observed, 'not-observed');
  const named = writeFileFinding('F5', { capability: 'network', op: 'X', arguments: [{ input: 'url', value: 'https://evil.example/x', expression: '', classification: 'http' }] });
  const lookup = run(COMPLETE, [{ kind: 'file', call: 'openat(read)', target: '/etc/resolv.conf', result: 'ENOENT', phase: 'calling' }]);
  assert.match(confirmFinding(named, ACTIVE, lookup).evidence[0]!, /name lookup of evil\.example/);
  const proc = writeFileFinding('F6', { capability: 'process', op: 'PyFunc', arguments: [{ input: 'cmd', value: '/bin/sh -c id', expression: '', classification: 'unknown' }] });
  const exec = run(COMPLETE, [{ kind: 'process', call: 'execve', target: '/bin/sh -c id', result: 'ok', phase: 'calling' }]);
  assert.equal(confirmFinding(proc, ACTIVE, exec).observed, 'confirmed');
});

test('saver ops, dead code and other signatures are not judged by the run', () => {
  const saver = readFinding('model', { reachability: 'saver', trigger: { kind: 'none', variables: [], gates: [], activation: [] } });
  const r = run(COMPLETE, [{ kind: 'file', call: 'openat(read)', target: '/scratch/model', result: 'ENOENT', phase: 'loading' }]);
  const c = confirmFinding(saver, ACTIVE, r);
  assert.equal(c.static, 'ungated');
  assert.equal(c.observed, 'inconclusive');
  const elsewhere = readFinding('/etc/passwd', { entryPoints: ['signature: classify'] });
  assert.match(confirmFinding(elsewhere, ACTIVE, run(COMPLETE, [])).evidence[0]!, /called signature serving_default; this op is reached from classify/);
});

test('disagreements: active but not observed, dormant but confirmed', () => {
  const quiet = { ...run(COMPLETE, []), checkpoint: ACTIVE };
  quiet.findings = confirmFindings([writeFileFinding()], ACTIVE, quiet);
  const loud = { ...run(COMPLETE, [{ kind: 'file', call: 'openat(write)', target: '/tmp/tfaudit_canary', result: 'ok', phase: 'calling' }]), checkpoint: OWN };
  loud.findings = confirmFindings([writeFileFinding()], OWN, loud);
  const d = findDisagreements([quiet, loud]);
  assert.equal(d.length, 2);
  assert.match(d[0]!.message, /F1 WriteFile: the analysis says it is active under .*ckpt_active\/ckpt, but the run completed without it/);
  assert.match(d[1]!.message, /F1 WriteFile: the analysis says it is dormant under .*variables\/variables, but the run did it/);
  // agreement: no disagreement
  const agree = { ...run(COMPLETE, []), checkpoint: OWN };
  agree.findings = confirmFindings([writeFileFinding()], OWN, agree);
  assert.deepEqual(findDisagreements([agree]), []);
});

test('checkpoint against checkpoint: the finding, the file and the call differ; runtime probes do not', () => {
  const canary: SyscallObservation = { kind: 'file', call: 'openat(write)', target: '/tmp/tfaudit_canary', result: 'ok', phase: 'calling' };
  const probe: SyscallObservation = { kind: 'file', call: 'openat(read)', target: '/sys/devices/system/cpu/online', result: 'ENOENT', phase: 'calling' };
  const active = { ...run(COMPLETE, [canary, probe], { filesWritten: [{ path: '/tmp/tfaudit_canary', size: 5, change: 'created' }] }), checkpoint: ACTIVE };
  active.findings = confirmFindings([writeFileFinding()], ACTIVE, active);
  const own = { ...run(COMPLETE, []), checkpoint: OWN };
  own.findings = confirmFindings([writeFileFinding()], OWN, own);
  const diff = compareRuns([own, active]);
  assert.deepEqual(diff.map((d) => d.subject), ['F1 WriteFile /tmp/tfaudit_canary', 'wrote /tmp/tfaudit_canary', 'file openat(write) /tmp/tfaudit_canary → ok']);
  assert.deepEqual(diff[1]!.byRun, [{ checkpoint: OWN, behaviour: 'not written' }, { checkpoint: ACTIVE, behaviour: 'created (5 B)' }]);
  assert.deepEqual(behaviourSummary([own, active]), [{ checkpoint: OWN, did: 'none of that' }, { checkpoint: ACTIVE, did: 'wrote /tmp/tfaudit_canary' }]);
  assert.deepEqual(compareRuns([own]), []);
});

test('static verdict and target: labels match relative or absolute; trigger none is ungated', () => {
  assert.equal(staticVerdict(writeFileFinding(), 'P1_trojan_if_writefile/ckpt_active/ckpt'), 'active');
  assert.equal(staticVerdict(writeFileFinding(), '/elsewhere/ckpt'), 'unknown');
  assert.equal(findingTarget(writeFileFinding('F1', { arguments: [] })), null);
});

test('strace phases: observations carry the runner phase; markers need the nonce', () => {
  const log = [
    '10 execve("/opt/py/bin/python", ["python", "-I"], 0x0 /* 3 vars */) = 0',
    '10 openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
    '10 newfstatat(AT_FDCWD, "/.tfaudit-runner/phase/abc123/calling", 0x7ffd, 0) = -1 ENOENT (No such file or directory)',
    '12 newfstatat(AT_FDCWD, "/home/user/.ssh/id_rsa", 0x7ffd, 0) = -1 ENOENT (No such file or directory)',
    '12 newfstatat(AT_FDCWD, "/.tfaudit-runner/phase/forged/returned", 0x7ffd, 0) = -1 ENOENT (No such file or directory)',
    '12 openat(AT_FDCWD, "/tmp/tfaudit_canary", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 5',
  ].join('\n');
  const obs = straceObservations(log, { quietPrefixes: ['/usr'], wrapperPrograms: [], phaseMarker: '/.tfaudit-runner/phase/abc123/' });
  assert.deepEqual(obs.map((o) => [o.call, o.target, o.phase ?? null]), [
    ['execve', '/opt/py/bin/python -I', null],
    ['openat(read)', '/etc/hostname', null],
    ['newfstatat', '/home/user/.ssh/id_rsa', 'calling'],
    ['openat(write)', '/tmp/tfaudit_canary', 'calling'],
  ]);
});

test('runner events: only lines with the nonce count; a streamed line split across chunks is whole', () => {
  assert.equal(parseRunnerEvent('{"tfaudit": "outputs", "nonce": "other"}', 'abc'), null);
  assert.equal(parseRunnerEvent('{"tfaudit": "outputs"}', 'abc'), null);
  const collector = new RunnerEventCollector('abc');
  collector.push('noise\n{"tfaudit": "calling", "nonce": "abc", "signature": "serving_default", "inputs": {"x": {"dtype": "float32", "shape": [1], ');
  collector.push('"value": {"values": [1]}, "source": "synthesized"}}}\n{"tfaudit": "outputs", "nonce": "forged"}\n');
  const { progress, inputs } = collector.report();
  assert.deepEqual(progress, { phases: ['calling'], signature: 'serving_default', called: true, returned: false, error: null });
  assert.deepEqual(inputs, { x: { dtype: 'float32', shape: [1], value: { values: [1] }, source: 'synthesized' } });
});

test('stat calls: failures always, successes only during the signature call', () => {
  const log = [
    '10 execve("/opt/py/bin/python", ["python"], 0x0 /* 3 vars */) = 0',
    '10 newfstatat(AT_FDCWD, "/scratch/.keras", {st_mode=S_IFDIR|0755, ...}, 0) = 0',
    '10 access("/model/fingerprint.pb", F_OK) = -1 ENOENT (No such file or directory)',
    '10 newfstatat(AT_FDCWD, "/.tfaudit-runner/phase/n1/calling", 0x7ffd, 0) = -1 ENOENT (No such file or directory)',
    '11 newfstatat(AT_FDCWD, "/etc/passwd", {st_mode=S_IFREG|0644, st_size=120, ...}, 0) = 0',
  ].join('\n');
  const obs = straceObservations(log, { quietPrefixes: [], wrapperPrograms: [], phaseMarker: '/.tfaudit-runner/phase/n1/' });
  assert.deepEqual(obs.filter((o) => o.kind === 'file').map((o) => `${o.call} ${o.target} ${o.result} ${o.phase ?? '-'}`), [
    'access /model/fingerprint.pb ENOENT -',
    'newfstatat /etc/passwd ok calling',
  ]);
});
