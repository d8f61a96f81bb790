// Resource exhaustion: sizes and loop trip counts decided by variables or huge constants are
// findings, evaluated per checkpoint; sizes that follow an input's own shape are normal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elementCount } from '../../../main/analysis/exhaustion.ts';
import { attrFunc, buildAndScan, call, constNode, fn, node, scalar, signature, states, varHandle } from './models.ts';

test('element counts: products, Range and paddings', () => {
  assert.equal(elementCount('Tile', new Map([['multiples', [100000, 100000]]])), 1e10);
  assert.equal(elementCount('Range', new Map([['start', [0]], ['limit', [10]], ['delta', [3]]])), 4);
  assert.equal(elementCount('Pad', new Map([['paddings', [0, 0, 5, 5]]])), 10);
});

function loopModel(limitFromVariable: boolean) {
  const cond = fn('cond', [['i', 'DT_INT32'], ['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['ok', 'DT_BOOL']], [
    ...(limitFromVariable ? [node('n', 'ReadVariableOp', ['r'])] : [constNode('n', 'DT_INT32', [], [10])]),
    node('Less', 'Less', ['i', limitFromVariable ? 'n:value:0' : 'n:output:0']),
  ], { ok: 'Less:z:0' });
  const body = fn('body', [['i', 'DT_INT32'], ['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['i2', 'DT_INT32'], ['x2', 'DT_FLOAT'], ['r2', 'DT_RESOURCE']], [
    constNode('one', 'DT_INT32', [], [1]),
    node('add', 'AddV2', ['i', 'one:output:0']),
    node('sq', 'Square', ['x']),
  ], { i2: 'add:z:0', x2: 'sq:y:0', r2: 'r' });
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    constNode('i0', 'DT_INT32', [], [0]),
    node('loop', 'While', ['i0:output:0', 'x', 'r'], { cond: attrFunc('cond'), body: attrFunc('body') }),
  ], { y: 'loop:output:1' });
  return [cond, body, main];
}

test('While trip count from a variable: dormant at 10 iterations, active at 2^40', async () => {
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('steps', 'DT_INT64'), call('serve', 'main', ['x', 'steps'])],
    library: loopModel(true),
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('steps', 'DT_INT64', 10)],
    alt: [scalar('steps', 'DT_INT64', 2 ** 40)],
  });
  const f = report.findings.find((x) => x.op === 'While')!;
  assert.equal(f.capability, 'resource-exhaustion');
  assert.deepEqual(f.trigger.variables, ['steps']);
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
  assert.equal(f.trigger.activation[1].values.elements, String(2 ** 40));
});

test('a While loop with a small constant bound is not a finding', async () => {
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('steps', 'DT_INT64'), call('serve', 'main', ['x', 'steps'])],
    library: loopModel(false),
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('steps', 'DT_INT64', 10)],
  });
  assert.deepEqual(report.findings, []);
});

test('Tile with huge constant multiples is an unconditional finding; Fill from the input shape (LSTM state) is not', async () => {
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT'], ['z', 'DT_FLOAT']], [
    constNode('reps', 'DT_INT32', [2], [65536, 65536]),
    node('Tile', 'Tile', ['x', 'reps:output:0']),
    node('Shape', 'Shape', ['x']),
    constNode('begin', 'DT_INT32', [1], [0]),
    constNode('end', 'DT_INT32', [1], [1]),
    constNode('stride', 'DT_INT32', [1], [1]),
    node('batch', 'StridedSlice', ['Shape:output:0', 'begin:output:0', 'end:output:0', 'stride:output:0'], { shrink_axis_mask: { type: 'i', i: 1 } }),
    constNode('units', 'DT_INT32', [], [128]),
    node('dims', 'Pack', ['batch:output:0', 'units:output:0']),
    constNode('zero', 'DT_FLOAT', [], [0]),
    node('Fill', 'Fill', ['dims:output:0', 'zero:output:0']),
  ], { y: 'Tile:output:0', z: 'Fill:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), call('serve', 'main', ['x'])],
    library: [main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
  });
  const tile = report.findings.find((f) => f.op === 'Tile')!;
  assert.equal(tile.trigger.kind, 'none');
  assert.equal(tile.severity, 'high');
  assert.equal(tile.details?.elements, String(65536 * 65536));
  assert.equal(report.findings.some((f) => f.op === 'Fill'), false);
});
