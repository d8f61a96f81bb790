// Terminal report on the synthetic P1-shaped report (If on variable `mode` → WriteFile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTextReport } from '../../../main/report/text.ts';
import { syntheticReport, timeBombFinding, writeFileFinding, MODEL_PATH } from './synthetic-report.ts';

test('groups findings by severity, most severe first, each with its chain', () => {
  const report = syntheticReport([
    writeFileFinding('F1', { severity: 'medium', node: 'MediumNode' }),
    writeFileFinding('F2', { severity: 'critical', node: 'CriticalNode' }),
    writeFileFinding('F3', { severity: 'info', node: 'InfoNode' }),
  ]);
  const text = renderTextReport(report);
  const crit = text.indexOf('CRITICAL (1)');
  const med = text.indexOf('MEDIUM (1)');
  const info = text.indexOf('INFO (1)');
  assert.ok(crit > 0 && crit < med && med < info);
  assert.ok(text.indexOf('CriticalNode') > crit && text.indexOf('CriticalNode') < med);
  assert.ok(!text.includes('HIGH ('), 'empty groups are left out');
  assert.match(text, /chain:\n\s+variables\/mode \(VarHandleOp\)\n\s+→ __inference_predict_31\/ReadVariableOp/);
  assert.match(text, /ACTIVE  .*ckpt_active\/ckpt  mode\/\.ATTRIBUTES\/VARIABLE_VALUE=1/);
  assert.match(text, /dormant .*variables\/variables/);
  assert.ok(text.includes('filename = "/tmp/tfaudit_canary"  [local-path]'));
  assert.ok(text.includes('gate __inference_predict_31/cond (If) must take then_branch → cond_true_17'));
  assert.ok(text.includes('1 critical, 0 high, 1 medium, 0 low, 1 info'));
  assert.ok(text.includes(MODEL_PATH));
  assert.ok(text.includes('not modelled (unknown semantics): MyCustomOp'));
});

test('no colour unless asked; colour uses ANSI SGR', () => {
  const plain = renderTextReport(syntheticReport());
  assert.ok(!plain.includes('\u001b'));
  const coloured = renderTextReport(syntheticReport(), { color: true });
  assert.match(coloured, /\u001b\[1;97;41mCRITICAL/);
});

test('model-controlled text cannot inject terminal escapes or hide characters', () => {
  const report = syntheticReport([
    writeFileFinding('F1', { node: 'evil\u001b[2J\u001b]0;title\u0007', message: 'msg\u202egnp.exe\nfake line' }),
  ]);
  const text = renderTextReport(report);
  assert.ok(!text.includes('\u001b'));
  assert.ok(!text.includes('\u202e'));
  assert.ok(text.includes('evil\\x1b[2J\\x1b]0;title\\x07'));
  assert.ok(text.includes('msg\\u{202e}gnp.exe\\nfake line'));
});

test('clean report says so and lists errors', () => {
  const report = syntheticReport([]);
  report.errors.push({ file: 'saved_model.pb', message: 'truncated' });
  const text = renderTextReport(report);
  assert.ok(text.includes('Inconclusive'));
  assert.ok(text.includes('ERRORS (1)'));
  assert.ok(text.includes('saved_model.pb: truncated'));
  assert.ok(renderTextReport(syntheticReport([])).includes('No unsafe capability found'));
});

test('an environment trigger names its run-time source and a self-written variable its writes', () => {
  const bomb = timeBombFinding();
  bomb.trigger.selfWritten = ['calls/.ATTRIBUTES/VARIABLE_VALUE: AssignAddVariableOp f/AssignAdd (+1 per run)'];
  const text = renderTextReport(syntheticReport([bomb]));
  assert.match(text, /trigger: environment/);
  assert.match(text, /run-time source: the clock: Timestamp/);
  assert.match(text, /written by the model itself: calls\/\.ATTRIBUTES\/VARIABLE_VALUE: AssignAddVariableOp/);
  assert.match(text, /predicate \[environment\] Greater\(Timestamp\(\), 1\.7e\+09\)  \(reads the clock: Timestamp/);
});
