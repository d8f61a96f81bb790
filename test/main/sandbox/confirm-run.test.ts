// The sandbox proves or refutes each finding, for real: a stand-in that does the opposite of what
// the analysis predicts (the disagreement shows), a stand-in that dies before the signature
// (inconclusive, never confirmed), and real TensorFlow on the crafted corpus through
// `tfaudit sandbox --format json`: P1 (WriteFile, checkpoint against checkpoint), P2 (TF1 ReadFile),
// P3 (ReadFile of a missing path), P5 (Tile exhausting memory). Needs bubblewrap; the TF part needs /opt/tfvenv.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../../../shared/findings.ts';
import type { SandboxComparison, SandboxRunReport } from '../../../shared/sandbox.ts';
import { derivePolicy } from '../../../main/sandbox/policy.ts';
import { runSandbox } from '../../../main/sandbox/run.ts';
import { compareRuns, confirmFindings, findDisagreements } from '../../../main/sandbox/confirm.ts';
import { renderComparisonText, sandboxCli, SANDBOX_EXIT } from '../../../main/cli/sandbox.ts';
import { crafted, copyToTemp, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { skipWithoutTf } from '../../helpers/tensorflow.ts';
import { skipWithoutBwrap } from '../../fixtures/sandbox/host.ts';
import { writeFileFinding } from '../report/synthetic-report.ts';

const STAND_IN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'sandbox', 'confirm_stand_in.py');
const CKPT = '/models/stand-in/ckpt_x';

/** What a (wrong) analysis says about the stand-in under CKPT. */
function predictedFindings(): Finding[] {
  const activation = (state: 'active' | 'dormant') => [{ checkpoint: CKPT, state, values: {}, reason: 'test' }];
  const gate = (state: 'active' | 'dormant') => ({ ...writeFileFinding().trigger, activation: activation(state) });
  return [
    writeFileFinding('F1', { trigger: gate('active') }),
    writeFileFinding('F2', {
      capability: 'file-read', op: 'ReadFile', node: 'ReadFile', trigger: gate('dormant'),
      arguments: [{ input: 'filename', value: '/etc/hostname', expression: "Const('/etc/hostname')", classification: 'local-path' }],
    }),
  ];
}

async function standIn(mode: 'opposite' | 'die'): Promise<SandboxRunReport> {
  const model = tempDir('tfaudit-confirm-model-');
  try {
    const policy = derivePolicy({
      modelPath: model, findings: [], signatures: [], checkpoint: null, overrides: { runner: 'custom', timeoutSeconds: 20 },
      runner: { command: ['/usr/bin/python3', '-I', STAND_IN, mode] },
    });
    const report = await runSandbox(policy);
    rmSync(dirname(policy.scratchDir), { recursive: true, force: true });
    report.checkpoint = CKPT;
    report.findings = confirmFindings(predictedFindings(), CKPT, report);
    return report;
  } finally {
    rmSync(model, { recursive: true, force: true });
  }
}

test('a stand-in doing the opposite of the prediction: both halves disagree, shown first', { skip: skipWithoutBwrap }, async () => {
  const run = await standIn('opposite');
  assert.equal(run.exitCode, 0, run.stderrTail);
  assert.deepEqual(run.progress, { phases: ['tensorflow', 'loaded', 'calling', 'outputs'], signature: 'serving_default', called: true, returned: true, error: null });
  const [write, read] = run.findings!;
  assert.equal(write!.observed, 'not-observed', JSON.stringify(write));
  assert.equal(read!.observed, 'confirmed', JSON.stringify(run.syscalls));
  assert.match(read!.evidence[0]!, /^openat\(read\) \/etc\/hostname → ENOENT \[during the signature call\]$/);
  const disagreements = findDisagreements([run]);
  assert.deepEqual(disagreements.map((d) => [d.findingId, d.static, d.observed]), [['F1', 'active', 'not-observed'], ['F2', 'dormant', 'confirmed']]);
  const text = renderComparisonText({ runs: [run], differences: compareRuns([run]), disagreements });
  assert.match(text, /^DISAGREEMENT between the static analysis and the sandbox \(2\):\n {2}! F1 WriteFile: the analysis says it is active under \/models\/stand-in\/ckpt_x/);
  assert.match(text, /F2 +ReadFile \(file-read \/etc\/hostname\): static dormant, sandbox CONFIRMED/);
});

test('a stand-in that dies before the signature: inconclusive, never confirmed, though it touched the target', { skip: skipWithoutBwrap }, async () => {
  const run = await standIn('die');
  assert.equal(run.exitCode, 4);
  assert.ok(run.syscalls.some((s) => s.target === '/etc/hostname' && s.phase === 'loading'), 'the early read is traced, in the loading phase');
  for (const finding of run.findings!) {
    assert.equal(finding.observed, 'inconclusive', JSON.stringify(finding));
    assert.match(finding.evidence[0]!, /the signature was never called: the runner failed at “load”: OSError: stand-in refuses to load/);
  }
  assert.deepEqual(findDisagreements([run]), []);
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, opts: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) } };
}

async function sandboxJson(model: string, options: Parameters<typeof sandboxCli>[1]): Promise<{ code: number; doc: SandboxComparison; err: string }> {
  const c = capture();
  const code = await sandboxCli(model, { ...c.opts, format: 'json', isolation: false, timeout: 150, ...options });
  const doc = JSON.parse(c.out.join('')) as SandboxComparison;
  for (const run of doc.runs) rmSync(dirname(run.policy.scratchDir), { recursive: true, force: true });
  return { code, doc, err: c.err.join('') };
}

const skipTf = skipWithoutTf || skipWithoutBwrap || skipWithoutCorpus;

test('real TensorFlow, crafted P1: WriteFile confirmed under ckpt_active, not observed under its own checkpoint', { skip: skipTf, timeout: 400000 }, async () => {
  const model = copyToTemp(crafted('P1_trojan_if_writefile'));
  const inputs = join(dirname(model), 'inputs.json');
  writeFileSync(inputs, JSON.stringify({ x: [3] }));
  try {
    const active = join(model, 'ckpt_active', 'ckpt');
    const { code, doc, err } = await sandboxJson(model, { compare: [active], inputs });
    assert.equal(code, SANDBOX_EXIT.ran, err);
    assert.deepEqual(doc.runs.map((r) => r.checkpoint), [`${model}/variables/variables`, active]);
    const [own, underActive] = doc.runs.map((r) => r.findings!.find((f) => f.op === 'WriteFile')!);
    assert.equal(own!.static, 'dormant');
    assert.equal(own!.observed, 'not-observed', JSON.stringify(own));
    assert.equal(underActive!.static, 'active');
    assert.equal(underActive!.observed, 'confirmed', JSON.stringify(underActive));
    assert.equal(underActive!.target, '/tmp/tfaudit_canary');
    assert.ok(underActive!.evidence.includes('openat(write) /tmp/tfaudit_canary → ok [during the signature call]'), underActive!.evidence.join('\n'));
    // the same given input in both runs, shown
    for (const run of doc.runs) assert.deepEqual(run.inputs, { x: { dtype: 'float32', shape: [1], value: { dtype: 'float32', shape: [1], values: [3], truncated: false }, source: 'given' } });
    // the else branch is a*x+b = 0.5*3+2; the then branch returns x
    assert.match(doc.runs[0]!.stdoutTail, /"values": \[3\.5\]/);
    assert.deepEqual(doc.disagreements, []);
    const subjects = doc.differences.map((d) => d.subject);
    assert.ok(subjects.includes('wrote /tmp/tfaudit_canary'), subjects.join('\n'));
    assert.ok(subjects.some((s) => s.endsWith('WriteFile /tmp/tfaudit_canary')));
    // saver ops are never counted as the model's behaviour
    for (const f of doc.runs[1]!.findings!.filter((f) => f.op !== 'WriteFile')) assert.equal(f.observed, 'inconclusive');
  } finally {
    rmSync(dirname(model), { recursive: true, force: true });
  }
});

test('real TensorFlow, crafted P2, P3 and P5 under ckpt_active: the reads and the Tile exhaustion are confirmed', { skip: skipTf, timeout: 500000 }, async () => {
  // TF1 graph with reference variables (VariableV2): the runner restores them in a v1 Session
  const p2 = resolve(crafted('P2_tf1_switch_readfile'));
  const tf1 = await sandboxJson(p2, { checkpoint: join(p2, 'ckpt_active', 'ckpt') });
  assert.equal(tf1.code, SANDBOX_EXIT.ran, tf1.err);
  assert.match(tf1.doc.runs[0]!.stdoutTail, /"mode": "tf1-session"/);
  const passwd = tf1.doc.runs[0]!.findings!.find((f) => f.op === 'ReadFile')!;
  assert.deepEqual([passwd.static, passwd.observed, passwd.target], ['active', 'confirmed', '/etc/passwd']);
  assert.match(passwd.evidence[0]!, /^openat\(read\) \/etc\/passwd → ok.* \[during the signature call\]$/);

  const p3 = resolve(crafted('P3_case_exfil'));
  const read = await sandboxJson(p3, { checkpoint: join(p3, 'ckpt_active', 'ckpt') });
  assert.equal(read.code, SANDBOX_EXIT.failed, 'ReadFile of a missing path raises NotFoundError');
  const run = read.doc.runs[0]!;
  assert.equal(run.progress?.error?.exceptionClass, 'NotFoundError');
  const readFile = run.findings!.find((f) => f.op === 'ReadFile')!;
  assert.equal(readFile.observed, 'confirmed', JSON.stringify(readFile));
  assert.match(readFile.evidence[0]!, /\/home\/user\/\.ssh\/id_rsa → ENOENT.*\[during the signature call\]/);
  // the WriteFile after it never ran: the call raised first
  const writeFile = run.findings!.find((f) => f.op === 'WriteFile')!;
  assert.equal(writeFile.observed, 'inconclusive');
  assert.match(writeFile.evidence[0]!, /the signature call raised NotFoundError/);

  const p5 = resolve(crafted('P5_tile_dos'));
  const dos = await sandboxJson(p5, { checkpoint: join(p5, 'ckpt_active', 'ckpt'), memory: 2048 });
  const tile = dos.doc.runs[0]!.findings!.find((f) => f.op === 'Tile')!;
  assert.equal(tile.capability, 'resource-exhaustion');
  assert.equal(tile.static, 'active');
  assert.equal(tile.observed, 'confirmed', JSON.stringify(dos.doc.runs[0]!.progress));
  assert.match(tile.evidence[0]!, /ResourceExhaustedError|limit|SIGKILL/);
  assert.deepEqual(dos.doc.disagreements, []);
});
