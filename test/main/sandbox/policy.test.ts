// derivePolicy: defaults, overrides, the scratch dir, and rationale derived from findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Finding, Capability } from '../../../shared/findings.ts';
import { derivePolicy, customCommandMounts, insideCheckpoint, DEFAULT_LIMITS, INSIDE } from '../../../main/sandbox/policy.ts';
import { tempDir } from '../../helpers/corpus.ts';

function finding(id: string, capability: Capability, op: string, extra: Partial<Finding> = {}): Finding {
  return {
    id, rule: `${capability}-op`, severity: 'high', capability, op, node: op.toLowerCase(), function: null, metaGraph: 'serve',
    message: `${op} reached`, evidence: [], arguments: [], reachability: 'signature', entryPoints: ['serving_default'],
    trigger: { kind: 'none', variables: [], gates: [], activation: [] }, figure: { nodes: [], edges: [] }, recommendation: '',
    ...extra,
  };
}

const base = { modelPath: '/models/m', signatures: ['predict', 'serving_default'], checkpoint: null, scratchDir: '/tmp/run/scratch' };

test('defaults: no network, model read-only, serving_default, restrictive limits', () => {
  const policy = derivePolicy({ ...base, findings: [], overrides: {} });
  assert.equal(policy.backend, 'bubblewrap');
  assert.equal(policy.runner, 'tf-python');
  assert.equal(policy.allowNetwork, false);
  assert.equal(policy.signature, 'serving_default');
  assert.equal(policy.modelPath, '/models/m');
  assert.deepEqual(policy.limits, {
    memoryMb: DEFAULT_LIMITS.tfMemoryMb, cpuSeconds: 60, wallSeconds: 60, fileSizeMb: DEFAULT_LIMITS.fileSizeMb, processes: DEFAULT_LIMITS.tfProcesses,
  });
  assert.ok(policy.rationale.some((r) => /No findings/.test(r)));
  assert.ok(policy.rationale.some((r) => /Network off/.test(r)));
});

test('overrides: runner, network, timeout, memory, signature; out-of-range values clamped', () => {
  const policy = derivePolicy({
    ...base, findings: [], overrides: { runner: 'saved-model-cli', allowNetwork: true, timeoutSeconds: 1e9, memoryMb: 2, signature: 'predict' },
  });
  assert.equal(policy.runner, 'saved-model-cli');
  assert.equal(policy.allowNetwork, true);
  assert.equal(policy.limits.wallSeconds, 3600);
  assert.equal(policy.limits.cpuSeconds, 3600);
  assert.equal(policy.limits.memoryMb, 16);
  assert.equal(policy.signature, 'predict');
  assert.ok(policy.rationale.some((r) => /Network ENABLED by the auditor/.test(r)));
  const custom = derivePolicy({ ...base, findings: [], overrides: { runner: 'custom' }, runner: { command: ['/bin/true'] } });
  assert.equal(custom.limits.memoryMb, DEFAULT_LIMITS.customMemoryMb);
  assert.equal(custom.limits.processes, DEFAULT_LIMITS.processes, 'no TensorFlow thread pools: the tight process limit');
});

test('a fresh scratch dir is created, mode 700, inside its own mode-700 run dir', () => {
  const policy = derivePolicy({ ...base, scratchDir: undefined, findings: [], overrides: {} });
  try {
    assert.equal(statSync(policy.scratchDir).mode & 0o777, 0o700);
    assert.equal(statSync(dirname(policy.scratchDir)).mode & 0o777, 0o700);
    const other = derivePolicy({ ...base, scratchDir: undefined, findings: [], overrides: {} });
    assert.notEqual(other.scratchDir, policy.scratchDir);
    rmSync(dirname(other.scratchDir), { recursive: true });
  } finally {
    rmSync(dirname(policy.scratchDir), { recursive: true });
  }
});

test('rationale follows the findings: network, file-write targets, file-read, exhaustion, custom op', () => {
  const findings = [
    finding('F1', 'network', 'DebugIdentityV3', {
      arguments: [{ input: 'attr:debug_urls', value: 'grpc://evil.example:6064', expression: '', classification: 'grpc' }],
    }),
    finding('F2', 'file-write', 'WriteFile', { arguments: [{ input: 'filename', value: '/tmp/tfaudit_canary', expression: '', classification: 'local-path' }] }),
    finding('F3', 'file-read', 'ReadFile', { arguments: [{ input: 'filename', value: '/etc/passwd', expression: '', classification: 'sensitive-path' }] }),
    finding('F4', 'resource-exhaustion', 'Tile'),
    finding('F5', 'custom-op', 'Zero_Out'),
    finding('F6', 'process', 'PyFunc'),
  ];
  const policy = derivePolicy({ ...base, findings, overrides: {} });
  const text = policy.rationale.join('\n');
  assert.match(text, /Network findings present \(F1 DebugIdentityV3; targets: grpc:\/\/evil\.example:6064\): network stays off/);
  assert.match(text, /enable only to observe exfiltration attempts/i);
  assert.match(text, /File-write findings present \(F2 WriteFile; targets: \/tmp\/tfaudit_canary\)/);
  assert.match(text, /File-read findings present \(F3 ReadFile; targets: \/etc\/passwd\)/);
  assert.match(text, /Resource-exhaustion findings present \(F4 Tile\)/);
  assert.match(text, /Custom-op \/ Python-code findings present \(F5 Zero_Out\)/);
  assert.match(text, new RegExp(`Process findings present \\(F6 PyFunc\\): at most ${policy.limits.processes} processes`));
  assert.equal(policy.allowNetwork, false, 'findings never turn the network on');
});

test('checkpoint: the findings it activates are named; without it, gated findings point at it', () => {
  const gated = finding('F1', 'file-write', 'WriteFile', {
    trigger: {
      kind: 'variable', variables: ['mode'], gates: [],
      activation: [
        { checkpoint: 'm/variables/variables', state: 'dormant', values: {}, reason: '' },
        { checkpoint: 'm/ckpt_active/ckpt', state: 'active', values: {}, reason: '' },
      ],
    },
  });
  const withCkpt = derivePolicy({ ...base, checkpoint: '/models/m/ckpt_active/ckpt', findings: [gated], overrides: {} });
  assert.match(withCkpt.rationale.join('\n'), /Checkpoint \/models\/m\/ckpt_active\/ckpt is restored before running; the analysis says it activates F1 WriteFile/);
  const own = derivePolicy({ ...base, checkpoint: '/models/m/variables/variables', findings: [gated], overrides: {} });
  assert.doesNotMatch(own.rationale.join('\n'), /activates F1/);
  const none = derivePolicy({ ...base, findings: [gated], overrides: {} });
  assert.match(none.rationale.join('\n'), /active only under a checkpoint: choose it/);
});

test('checkpoint inside the model maps under /model, outside it gets its own mount', () => {
  const inside = derivePolicy({ ...base, checkpoint: '/models/m/ckpt_active/ckpt', findings: [], overrides: {} });
  assert.deepEqual(insideCheckpoint(inside), { prefix: `${INSIDE.model}/ckpt_active/ckpt`, mountDir: null });
  const outside = derivePolicy({ ...base, checkpoint: '/data/other/ckpt-5', findings: [], overrides: {} });
  assert.deepEqual(insideCheckpoint(outside), { prefix: `${INSIDE.checkpoint}/ckpt-5`, mountDir: '/data/other' });
});

test('custom command: only its program and script are mounted, never other host paths it names', () => {
  const dir = tempDir();
  try {
    const script = join(dir, 'probe.py');
    const secret = join(dir, 'secret.txt');
    writeFileSync(script, 'print(1)');
    writeFileSync(secret, 'x');
    assert.deepEqual(customCommandMounts(['/usr/bin/python3', '-I', script, secret, dir]), [script]);
    const policy = derivePolicy({ ...base, findings: [], overrides: { runner: 'custom' }, runner: { command: ['/usr/bin/python3', script, secret] } });
    assert.deepEqual(policy.readOnlyMounts, [script]);
    assert.deepEqual(policy.command, ['/usr/bin/python3', script, secret]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('checkpoint rationale names gated findings only, never the ungated saver ops active under every checkpoint', () => {
  const gated = finding('F1', 'file-read', 'ReadFile', {
    trigger: { kind: 'variable', variables: ['flag'], gates: [], activation: [{ checkpoint: './m/ckpt_active/ckpt', state: 'active', values: {}, reason: '' }] },
  });
  const saver = finding('F2', 'file-read', 'RestoreV2', {
    reachability: 'saver',
    trigger: { kind: 'none', variables: [], gates: [], activation: [{ checkpoint: './m/ckpt_active/ckpt', state: 'active', values: {}, reason: '' }] },
  });
  const policy = derivePolicy({ ...base, modelPath: resolve('m'), checkpoint: resolve('m/ckpt_active/ckpt'), findings: [gated, saver], overrides: {} });
  const text = policy.rationale.join('\n');
  assert.match(text, /the analysis says it activates F1 ReadFile: the run confirms or refutes it/);
  assert.doesNotMatch(text, /activates[^\n]*F2 RestoreV2/);
});
