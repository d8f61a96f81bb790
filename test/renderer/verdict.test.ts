// The renderer's pure view logic over AuditView fixtures shaped like crafted/P1's analysis:
// per-checkpoint state, the overall verdict flipping, sorting, filtering, driving variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayPath, drivingVariables, filterFindings, findingState, lookupValue, overallVerdict, sortFindings } from '../../renderer/verdict.ts';
import { activeStartNodes, nodeValue } from '../../renderer/components/BranchView.tsx';
import { ACTIVE, MODEL, OWN, p1View, writeFileFinding } from './fixtures.ts';

const own = { id: 'own', label: OWN };
const active = { id: 'c1', label: ACTIVE };

test('a variable-gated finding is dormant under the own checkpoint and active under ckpt_active', () => {
  const f = writeFileFinding();
  assert.equal(findingState(f, own), 'dormant');
  assert.equal(findingState(f, active), 'active');
  assert.equal(findingState(f, { id: 'c9', label: '/elsewhere/ckpt' }), 'unknown');
  assert.equal(findingState(f, null), 'unknown');
  assert.equal(findingState(writeFileFinding({ trigger: { kind: 'none', variables: [], gates: [], activation: [] } }), own), 'unconditional');
  assert.equal(findingState(writeFileFinding({ trigger: { kind: 'input', variables: [], gates: [], activation: [] } }), own), 'input-gated');
});

test('the overall verdict flips with the selected checkpoint', () => {
  const view = p1View();
  const dormant = overallVerdict(view, own);
  assert.equal(dormant.level, 'dormant');
  assert.match(dormant.headline, /^Dormant with checkpoint variables\/variables/);
  const unsafe = overallVerdict(view, active);
  assert.equal(unsafe.level, 'unsafe');
  assert.equal(unsafe.worst, 'critical');
  assert.match(unsafe.headline, /^Unsafe to run with checkpoint ckpt_active\/ckpt$/);
  assert.equal(overallVerdict(p1View([]), own).level, 'clean');
  // Informational and dead-code findings do not make a model unsafe.
  const quiet = p1View([writeFileFinding({ severity: 'info', trigger: { kind: 'none', variables: [], gates: [], activation: [] } }), writeFileFinding({ id: 'F2', reachability: 'dead', trigger: { kind: 'none', variables: [], gates: [], activation: [] } })]);
  assert.equal(overallVerdict(quiet, own).level, 'clean');
  const medium = p1View([writeFileFinding({ severity: 'medium', trigger: { kind: 'none', variables: [], gates: [], activation: [] } })]);
  assert.equal(overallVerdict(medium, own).level, 'warning');
});

test('checkpoints display relative to the model, or by their last two segments', () => {
  assert.equal(displayPath(OWN, MODEL), 'variables/variables');
  assert.equal(displayPath(ACTIVE, MODEL), 'ckpt_active/ckpt');
  assert.equal(displayPath('/elsewhere/deep/c/ckpt', MODEL), 'c/ckpt');
  assert.equal(displayPath('/tmp/tfaudit-serve-x/uploads/u0123456789abcdef01234567/ckpt', MODEL), 'ckpt');
});

test('sorting by severity, id, capability and state; ties keep report order', () => {
  const findings = [
    writeFileFinding({ id: 'F1', severity: 'medium', capability: 'network' }),
    writeFileFinding({ id: 'F2', severity: 'critical', capability: 'file-read' }),
    writeFileFinding({ id: 'F10', severity: 'medium', capability: 'file-write', trigger: { kind: 'none', variables: [], gates: [], activation: [] } }),
    writeFileFinding({ id: 'F3', severity: 'low', capability: 'process' }),
  ];
  const ids = (fs: typeof findings) => fs.map((f) => f.id);
  assert.deepEqual(ids(sortFindings(findings, 'severity', true, own)), ['F2', 'F1', 'F10', 'F3']);
  assert.deepEqual(ids(sortFindings(findings, 'severity', false, own)), ['F3', 'F1', 'F10', 'F2']);
  assert.deepEqual(ids(sortFindings(findings, 'id', false, own)), ['F1', 'F2', 'F3', 'F10']);
  assert.deepEqual(ids(sortFindings(findings, 'capability', false, own)), ['F2', 'F10', 'F1', 'F3']);
  assert.deepEqual(ids(sortFindings(findings, 'state', true, own)), ['F10', 'F1', 'F2', 'F3']);
  assert.deepEqual(ids(sortFindings(findings, 'state', true, active)), ['F1', 'F2', 'F3', 'F10']);
});

test('filtering by severity, capability and text', () => {
  const findings = [writeFileFinding({ id: 'F1' }), writeFileFinding({ id: 'F2', severity: 'low', capability: 'network', op: 'DebugIdentityV3', node: 'dbg', function: null, evidence: ['dbg (DebugIdentityV3)'], message: 'grpc://x' })];
  const ids = (fs: typeof findings) => fs.map((f) => f.id);
  assert.deepEqual(ids(filterFindings(findings, { severities: ['low'], capabilities: [], text: '' })), ['F2']);
  assert.deepEqual(ids(filterFindings(findings, { severities: [], capabilities: ['file-write'], text: '' })), ['F1']);
  assert.deepEqual(ids(filterFindings(findings, { severities: [], capabilities: [], text: 'GRPC' })), ['F2']);
  assert.deepEqual(ids(filterFindings(findings, { severities: [], capabilities: [], text: 'canary' })), ['F1']);
  assert.deepEqual(ids(filterFindings(findings, { severities: ['critical'], capabilities: ['network'], text: '' })), []);
});

test('driving variables list each predicate variable with its value per checkpoint', () => {
  assert.deepEqual(drivingVariables(p1View()), [{ key: 'mode/.ATTRIBUTES/VARIABLE_VALUE', findings: ['F1'], values: { own: '0', c1: '1' } }]);
  assert.equal(lookupValue({ 'mode/.ATTRIBUTES/VARIABLE_VALUE': '1' }, 'mode'), '1');
  assert.equal(lookupValue({ mode: '1' }, 'mode/.ATTRIBUTES/VARIABLE_VALUE'), '1');
  assert.equal(lookupValue({ other: '1' }, 'mode'), undefined);
});

test('branch view: the taken path starts at the branch when active, nowhere when dormant; values land on nodes', () => {
  const f = writeFileFinding();
  assert.deepEqual(activeStartNodes(f, 'active'), ['b']);
  assert.deepEqual(activeStartNodes(f, 'dormant'), []);
  assert.deepEqual(activeStartNodes(f, 'unconditional'), ['v']);
  const variable = f.figure.nodes[0];
  assert.equal(nodeValue(variable, { 'mode/.ATTRIBUTES/VARIABLE_VALUE': '1' }, f.figure), '1');
  const predicate = f.figure.nodes[1];
  assert.equal(nodeValue(predicate, { '__inference_predict_60/cond predicate': 'true' }, f.figure), 'true');
  assert.equal(nodeValue(f.figure.nodes[5], { WriteFile: 'x' }, f.figure), undefined);
});

test('Sandbox column: the latest run under the selected checkpoint decides; other checkpoints are listed; none is "not run"', async () => {
  const { sandboxVerdict } = await import('../../renderer/verdict.ts');
  const f = writeFileFinding();
  const run = (checkpoint: string, observed: 'confirmed' | 'not-observed' | 'inconclusive', runId: string) =>
    ({
      runId, checkpoint,
      findings: [{ id: f.id, op: f.op, capability: f.capability, target: '/tmp/tfaudit_canary', static: 'active', observed, evidence: [`${observed} evidence`] }],
    }) as unknown as import('../../shared/sandbox.ts').SandboxRunReport;
  assert.deepEqual(sandboxVerdict(f, [], active), { verdict: 'not-run', evidence: [], elsewhere: [] });
  const runs = [run(ACTIVE, 'inconclusive', 'r1'), run(OWN, 'not-observed', 'r2'), run(ACTIVE, 'confirmed', 'r3')];
  assert.deepEqual(sandboxVerdict(f, runs, active), { verdict: 'confirmed', evidence: ['confirmed evidence'], elsewhere: [`not-observed under ${OWN}`] });
  assert.equal(sandboxVerdict(f, runs, own).verdict, 'not-observed');
  // a run labelled with a relative path still matches the absolute checkpoint
  assert.equal(sandboxVerdict(f, [run('ws2/ckpt_active/ckpt', 'confirmed', 'r4')], active).verdict, 'confirmed');
  assert.equal(sandboxVerdict(writeFileFinding({ id: 'F9' }), runs, active).verdict, 'not-run');
});

test('an environment-triggered finding (time bomb, random gate) is live under every checkpoint and makes the model unsafe', () => {
  const bomb = writeFileFinding({ severity: 'high', trigger: { kind: 'environment', variables: [], environment: ['a random number generator: RandomUniform (f/RandomUniform (RandomUniform))'], gates: [], activation: [{ checkpoint: OWN, state: 'unknown', values: {}, reason: 'f/cond: random_uniform/RandomUniform reads a random number generator' }] } });
  assert.equal(findingState(bomb, own), 'unknown');
  assert.equal(findingState(bomb, null), 'unknown');
  const verdict = overallVerdict(p1View([bomb]), own);
  assert.equal(verdict.level, 'unsafe');
  assert.equal(verdict.worst, 'high');
});
