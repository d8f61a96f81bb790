// The severity rule of thumb from the issue, case by case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findingSeverity, type SeverityInput } from '../../../main/analysis/severity.ts';

const base: SeverityInput = { base: 'high', reachability: 'signature', triggerKind: 'none', activation: ['active'], constantFalse: false, saverMachinery: false, benignTargets: false };

test('checkpoint-switchable: critical when a checkpoint activates it, high when dormant under all', () => {
  assert.equal(findingSeverity({ ...base, triggerKind: 'variable', activation: ['dormant', 'active'] }), 'critical');
  assert.equal(findingSeverity({ ...base, triggerKind: 'variable', activation: ['dormant', 'dormant'] }), 'high');
  assert.equal(findingSeverity({ ...base, base: 'medium', triggerKind: 'variable', activation: ['unknown'] }), 'high');
});

test('unconditional keeps its base; input-driven at most medium; constant false info', () => {
  assert.equal(findingSeverity(base), 'high');
  assert.equal(findingSeverity({ ...base, triggerKind: 'input' }), 'medium');
  assert.equal(findingSeverity({ ...base, base: 'low', triggerKind: 'input' }), 'low');
  assert.equal(findingSeverity({ ...base, triggerKind: 'constant', constantFalse: true }), 'info');
});

test('saver machinery info, dead code low, the model reading its own assets info', () => {
  assert.equal(findingSeverity({ ...base, reachability: 'saver', saverMachinery: true }), 'info');
  assert.equal(findingSeverity({ ...base, reachability: 'dead' }), 'low');
  assert.equal(findingSeverity({ ...base, reachability: 'dead', saverMachinery: true }), 'info');
  assert.equal(findingSeverity({ ...base, benignTargets: true }), 'info');
  assert.equal(findingSeverity({ ...base, reachability: 'load', saverMachinery: true }), 'high');
});

test('resource exhaustion driven by a variable: low while modest under every checkpoint, critical when one makes it huge', () => {
  const base = { base: 'medium' as const, reachability: 'signature' as const, triggerKind: 'variable' as const, constantFalse: false, saverMachinery: false, benignTargets: false, availabilityOnly: true };
  assert.equal(findingSeverity({ ...base, activation: ['dormant'] }), 'low');
  assert.equal(findingSeverity({ ...base, activation: ['dormant', 'active'] }), 'critical');
  assert.equal(findingSeverity({ ...base, activation: ['unknown'] }), 'high', 'a size that cannot be evaluated stays high');
  assert.equal(findingSeverity({ ...base, availabilityOnly: false, activation: ['dormant'] }), 'high', 'file/network capability dormant stays high');
});
