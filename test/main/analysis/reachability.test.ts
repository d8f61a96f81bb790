// When an unsafe op runs decides its severity: signatures and the init op make findings,
// TensorFlow's own saver machinery (reached only through the SaverDef) is info, dead library
// functions are low, constant-false branches are info. Models built with our writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atLeast } from '../../../shared/findings.ts';
import { buildCallGraph } from '../../../main/analysis/callgraph.ts';
import { graph } from '../../../main/writer/graph.ts';
import { attrFunc, buildAndScan, call, constNode, fn, node, scalar, signature, varHandle } from './models.ts';

function saveFn(name: string, prefix: string[]) {
  return fn(name, [['file_prefix', 'DT_STRING'], ['v', 'DT_RESOURCE']], [['out', 'DT_STRING']], [
    ...prefix.map((p, i) => constNode(`p${i}`, 'DT_STRING', [], [p])),
    constNode('names', 'DT_STRING', [1], ['v/.ATTRIBUTES/VARIABLE_VALUE']),
    constNode('slices', 'DT_STRING', [1], ['']),
    node('read', 'ReadVariableOp', ['v']),
    node('SaveV2', 'SaveV2', [prefix.length ? 'p0:output:0' : 'file_prefix', 'names:output:0', 'slices:output:0', 'read:value:0']),
    node('Identity', 'Identity', ['file_prefix', '^SaveV2']),
  ], { out: 'Identity:output:0' });
}

test('SaveV2 run by serving_default is a finding; the same op in the SaverDef machinery is info', async () => {
  const report = await buildAndScan({
    nodes: [
      varHandle('v', 'DT_FLOAT'),
      node('x', 'Placeholder'),
      call('serve', 'exfil', ['x', 'v']),
      node('saver_filename', 'Placeholder'),
      call('StatefulPartitionedCall_1', 'traced_save', ['saver_filename', 'v']),
    ],
    library: [saveFn('exfil', ['/tmp/stolen']), saveFn('traced_save', [])],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    saverDef: { filenameTensorName: 'saver_filename:0', saveTensorName: 'StatefulPartitionedCall_1:0', restoreOpName: '', version: 2, sharded: true },
    own: [scalar('v', 'DT_FLOAT', 1)],
  });
  const exfil = report.findings.find((f) => f.function === 'exfil' && f.op === 'SaveV2')!;
  assert.ok(atLeast(exfil.severity, 'high'), exfil.severity);
  assert.equal(exfil.reachability, 'signature');
  assert.equal(exfil.arguments[0].value, '/tmp/stolen');
  const machinery = report.findings.find((f) => f.function === 'traced_save' && f.op === 'SaveV2')!;
  assert.equal(machinery.reachability, 'saver');
  assert.equal(machinery.severity, 'info');
});

test('an unsafe op in the init op runs at load; one in a dead library function is low', async () => {
  const reader = fn('init_fn', [], [], [constNode('p', 'DT_STRING', [], ['/etc/passwd']), node('ReadFile', 'ReadFile', ['p:output:0'])], {});
  const dead = fn('never_called', [], [], [constNode('p', 'DT_STRING', [], ['/tmp/x']), constNode('c', 'DT_STRING', [], ['y']), node('WriteFile', 'WriteFile', ['p:output:0', 'c:output:0'])], {});
  const report = await buildAndScan({
    nodes: [node('init', 'StatefulPartitionedCall', [], { f: attrFunc('init_fn') }), node('NoOp', 'NoOp', ['^init']), node('x', 'Placeholder'), node('y', 'Identity', ['x'])],
    library: [reader, dead],
    signatures: [signature('__saved_model_init_op', { __saved_model_init_op: 'NoOp' }), signature('serving_default', { y: 'y:0' })],
    own: [scalar('unused', 'DT_FLOAT', 0)],
  });
  const read = report.findings.find((f) => f.op === 'ReadFile')!;
  assert.equal(read.reachability, 'load');
  assert.equal(read.severity, 'high');
  assert.deepEqual(read.entryPoints, ['load: __saved_model_init_op']);
  const write = report.findings.find((f) => f.op === 'WriteFile')!;
  assert.equal(write.reachability, 'dead');
  assert.equal(write.severity, 'low');
});

test('a dead branch behind a constant predicate is info, with trigger constant and dormant everywhere', async () => {
  const thenB = fn('t', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [constNode('p', 'DT_STRING', [], ['/tmp/decoy']), constNode('c', 'DT_STRING', [], ['z']), node('WriteFile', 'WriteFile', ['p:output:0', 'c:output:0']), node('Identity', 'Identity', ['x', '^WriteFile'])], { y: 'Identity:output:0' });
  const elseB = fn('e', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('f', 'DT_BOOL', [], [false]),
    constNode('t', 'DT_BOOL', [], [true]),
    node('never', 'LogicalAnd', ['f:output:0', 't:output:0']),
    node('cond', 'If', ['never:z:0', 'x'], { then_branch: attrFunc('t'), else_branch: attrFunc('e') }),
  ], { y: 'cond:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), call('serve', 'main', ['x'])],
    library: [thenB, elseB, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
    alt: [scalar('v', 'DT_FLOAT', 1)],
  });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.severity, 'info');
  assert.equal(f.trigger.kind, 'constant');
  assert.deepEqual(f.trigger.activation.map((a) => a.state), ['dormant', 'dormant']);
});

test('a self-recursive and mutually recursive library is analysed without hanging and the cycles are named', () => {
  const a = fn('a', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [call('c', 'b', ['x'])], { y: 'c:output:0' });
  const b = fn('b', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [call('c', 'a', ['x'])], { y: 'c:output:0' });
  const s = fn('s', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [call('c', 's', ['x'])], { y: 'c:output:0' });
  const cg = buildCallGraph(graph([node('x', 'Placeholder'), call('top', 'a', ['x'])], [a, b, s]));
  assert.deepEqual(cg.cycles.map((c) => [...c].sort()).sort(), [['a', 'b'], ['s']]);
});

test('variables reach a function through captured resource inputs of the top-level call', async () => {
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [node('v', 'ReadVariableOp', ['r']), node('mul', 'Mul', ['x', 'v:value:0'])], { y: 'mul:z:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('w', 'DT_FLOAT'), call('serve', 'main', ['x', 'w'])],
    library: [main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('w', 'DT_FLOAT', 2)],
  });
  assert.deepEqual(report.findings, []);
  assert.equal(report.analysis.functionsAnalysed, 1);
});

test('the serving path is preferred for the evidence, but a payload also exposed as a saved object method is not dormant', async () => {
  const payload = fn('payload', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [constNode('p', 'DT_STRING', [], ['/tmp/p']), constNode('c', 'DT_STRING', [], ['z']), node('WriteFile', 'WriteFile', ['p:output:0', 'c:output:0']), node('Identity', 'Identity', ['x', '^WriteFile'])], { y: 'Identity:output:0' });
  const thenB = fn('t', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [call('c', 'payload', ['x'])], { y: 'c:output:0' });
  const elseB = fn('e', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [node('v', 'ReadVariableOp', ['r']), node('cond', 'If', ['v:value:0', 'x'], { then_branch: attrFunc('t'), else_branch: attrFunc('e') })], { y: 'cond:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('on', 'DT_BOOL'), call('serve', 'main', ['x', 'on'])],
    library: [payload, thenB, elseB, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    objectGraph: {
      nodes: [
        { id: 0, kind: 'user_object', children: [{ name: 'on', nodeId: 1 }, { name: 'payload', nodeId: 2 }] },
        { id: 1, kind: 'variable', children: [], variable: { name: 'on', dtype: 'DT_BOOL', shape: null, trainable: false } },
        { id: 2, kind: 'function', children: [], concreteFunctions: ['payload'] },
      ],
      concreteFunctions: { payload: { boundInputs: [] } },
    },
    own: [scalar('on/.ATTRIBUTES/VARIABLE_VALUE', 'DT_BOOL', false)],
    alt: [scalar('on/.ATTRIBUTES/VARIABLE_VALUE', 'DT_BOOL', true)],
  });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.deepEqual(f.trigger.variables, ['on/.ATTRIBUTES/VARIABLE_VALUE']);
  // `loaded.payload(x)` runs the write with no gate at all: the variable gate closes only the serving path.
  assert.deepEqual(f.trigger.activation.map((a) => a.state), ['active', 'active']);
  assert.match(f.trigger.activation[0].reason, /also reached through payload called directly: no gate/);
  assert.deepEqual([...f.entryPoints].sort(), ['object: payload', 'signature: serving_default']);
});

test('a payload hidden in the restore function runs at load; a SaveV2 there aimed away from the SaverDef filename is no machinery', async () => {
  const restore = fn('traced_restore', [['file_prefix', 'DT_STRING'], ['v', 'DT_RESOURCE']], [['out', 'DT_STRING']], [
    constNode('names', 'DT_STRING', [1], ['v/.ATTRIBUTES/VARIABLE_VALUE']),
    constNode('slices', 'DT_STRING', [1], ['']),
    node('RestoreV2', 'RestoreV2', ['file_prefix', 'names:output:0', 'slices:output:0'], { dtypes: { type: 'list', list: { type: ['DT_FLOAT'] } } }),
    node('Assign', 'AssignVariableOp', ['v', 'RestoreV2:tensors:0']),
    constNode('evil', 'DT_STRING', [], ['/home/u/.config/autostart/x']),
    node('read', 'ReadVariableOp', ['v']),
    node('SaveV2', 'SaveV2', ['evil:output:0', 'names:output:0', 'slices:output:0', 'read:value:0']),
    constNode('c', 'DT_STRING', [], ['#!/bin/sh']),
    node('WriteFile', 'WriteFile', ['evil:output:0', 'c:output:0']),
    node('Identity', 'Identity', ['file_prefix', '^Assign', '^SaveV2', '^WriteFile']),
  ], { out: 'Identity:output:0' });
  const report = await buildAndScan({
    nodes: [varHandle('v', 'DT_FLOAT'), node('saver_filename', 'Placeholder'), call('restore', 'traced_restore', ['saver_filename', 'v'])],
    library: [restore],
    signatures: [],
    saverDef: { filenameTensorName: 'saver_filename:0', saveTensorName: '', restoreOpName: 'restore', version: 2, sharded: true },
    own: [scalar('v/.ATTRIBUTES/VARIABLE_VALUE', 'DT_FLOAT', 1)],
  });
  // Capability findings only: the op's known TensorFlow advisories are an info line of their own.
  const by = (op: string) => report.findings.filter((f) => f.op === op && f.capability !== 'known-vulnerability');
  assert.deepEqual(by('RestoreV2').map((f) => [f.reachability, f.severity]), [['saver', 'info']]);
  assert.ok(by('WriteFile').every((f) => f.reachability === 'load' && f.severity === 'high'), JSON.stringify(by('WriteFile').map((f) => [f.reachability, f.severity])));
  assert.ok(by('SaveV2').every((f) => f.reachability === 'load' && atLeast(f.severity, 'high')), JSON.stringify(by('SaveV2').map((f) => [f.reachability, f.severity])));
});
