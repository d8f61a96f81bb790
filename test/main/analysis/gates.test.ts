// Gates on the way to an unsafe op, on models built with our writer: If inside a called
// function inside StatefulPartitionedCall, TF1 while frames, Case with an out-of-range index,
// and benign control flow that must stay quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atLeast } from '../../../shared/findings.ts';
import { buildAndScan, call, constNode, fn, node, scalar, signature, states, varHandle, attrFunc, attrList } from './models.ts';

const writeFile = (name: string, path: string) => [constNode(`${name}/filename`, 'DT_STRING', [], [path]), constNode(`${name}/contents`, 'DT_STRING', [], ['pwned']), node(name, 'WriteFile', [`${name}/filename:output:0`, `${name}/contents:output:0`])];

test('If inside a called function inside StatefulPartitionedCall: the variable is traced through two calls', async () => {
  const payload = fn('payload', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [...writeFile('WriteFile', '/home/u/.bashrc'), node('Identity', 'Identity', ['x', '^WriteFile'])], { y: 'Identity:output:0' });
  const thenB = fn('then_b', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [call('inner', 'payload', ['x'])], { y: 'inner:output:0' });
  const elseB = fn('else_b', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const decide = fn('decide', [['x', 'DT_FLOAT'], ['flag', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    node('read', 'ReadVariableOp', ['flag']),
    constNode('zero', 'DT_INT32', [], [0]),
    node('Greater', 'Greater', ['read:value:0', 'zero:output:0']),
    node('cond', 'If', ['Greater:z:0', 'x'], { then_branch: attrFunc('then_b'), else_branch: attrFunc('else_b') }),
  ], { y: 'cond:output:0' });
  const outer = fn('outer', [['x', 'DT_FLOAT'], ['handle', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [call('mid', 'decide', ['x', 'handle'])], { y: 'mid:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('mode', 'DT_INT32'), call('serve', 'outer', ['x', 'mode'])],
    library: [payload, thenB, elseB, decide, outer],
    signatures: [signature('serving_default', { y: 'serve:0' }, { x: 'x:0' })],
    own: [scalar('mode', 'DT_INT32', 0)],
    alt: [scalar('mode', 'DT_INT32', 3)],
  });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.trigger.kind, 'variable');
  assert.deepEqual(f.trigger.variables, ['mode']);
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
  assert.equal(f.severity, 'critical');
  assert.equal(f.trigger.gates.length, 1);
  assert.equal(f.trigger.gates[0].function, 'decide');
  assert.equal(f.trigger.gates[0].branchFunction, 'then_b');
  assert.equal(f.arguments[0].classification, 'sensitive-path');
  assert.deepEqual(f.entryPoints, ['signature: serving_default']);
  const chain = f.evidence.join(' → ');
  assert.ok(chain.indexOf('mode') < chain.indexOf('decide/cond (If)') && chain.indexOf('decide/cond (If)') < chain.indexOf('payload/WriteFile (WriteFile)'), chain);
});

/** A TF1 while loop: i = 0; while i < limit: WriteFile; i += 1. */
function tf1While(payload: boolean) {
  return [
    node('limit', 'VariableV2', [], {}),
    node('limit/read', 'Identity', ['limit']),
    constNode('i0', 'DT_INT32', [], [0]),
    constNode('one', 'DT_INT32', [], [1]),
    node('while/Enter', 'Enter', ['i0'], { frame_name: { type: 's', s: new TextEncoder().encode('while') } }),
    node('while/limit_enter', 'Enter', ['limit/read']),
    node('while/Merge', 'Merge', ['while/Enter', 'while/NextIteration']),
    node('while/Less', 'Less', ['while/Merge', 'while/limit_enter']),
    node('while/LoopCond', 'LoopCond', ['while/Less']),
    node('while/Switch', 'Switch', ['while/Merge', 'while/LoopCond']),
    node('while/Identity', 'Identity', ['while/Switch:1']),
    constNode('while/path', 'DT_STRING', [], ['/tmp/loop']),
    constNode('while/data', 'DT_STRING', [], ['x']),
    ...(payload ? [node('while/WriteFile', 'WriteFile', ['while/path', 'while/data', '^while/Identity'])] : []),
    node('while/add', 'AddV2', ['while/Identity', 'one', ...(payload ? ['^while/WriteFile'] : [])]),
    node('while/NextIteration', 'NextIteration', ['while/add']),
    node('while/Exit', 'Exit', ['while/Switch']),
    node('out', 'Identity', ['while/Exit']),
  ];
}

test('TF1 while frame: the unsafe op in the loop body is gated by the loop condition on the variable', async () => {
  const report = await buildAndScan({
    nodes: tf1While(true),
    signatures: [signature('serving_default', { y: 'out:0' })],
    own: [scalar('limit', 'DT_INT32', 0)],
    alt: [scalar('limit', 'DT_INT32', 5)],
  });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.trigger.kind, 'variable');
  assert.deepEqual(f.trigger.variables, ['limit']);
  assert.equal(f.trigger.gates[0].op, 'Switch');
  assert.equal(f.trigger.gates[0].branch, 'loop body');
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
  assert.equal(f.arguments[0].value, '/tmp/loop');
});

test('TF1 while frame without an unsafe op: nothing at medium or above', async () => {
  const report = await buildAndScan({ nodes: tf1While(false), signatures: [signature('serving_default', { y: 'out:0' })], own: [scalar('limit', 'DT_INT32', 3)] });
  assert.deepEqual(report.findings.filter((f) => atLeast(f.severity, 'medium')), []);
});

test('TF1 while frame: an op after the loop (fed by Exit) is not gated by the loop', async () => {
  const after = [constNode('after/path', 'DT_STRING', [], ['/tmp/after']), node('after/WriteFile', 'WriteFile', ['after/path', 'while/Exit']), node('done', 'Identity', ['out', '^after/WriteFile'])];
  const report = await buildAndScan({ nodes: [...tf1While(false), ...after], signatures: [signature('serving_default', { y: 'done:0' })], own: [scalar('limit', 'DT_INT32', 0)] });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.deepEqual(f.trigger.gates, []);
  assert.equal(f.trigger.kind, 'none');
  assert.equal(f.severity, 'high');
});

function caseModel() {
  const branch = (name: string, body: ReturnType<typeof node>[]) => fn(name, [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [...body, node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const b0 = branch('b0', []);
  const b1 = branch('b1', [constNode('p', 'DT_STRING', [], ['/etc/shadow']), node('ReadFile', 'ReadFile', ['p:output:0'])]);
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    node('idx', 'ReadVariableOp', ['r']),
    node('case', 'Case', ['idx:value:0', 'x'], { branches: attrList({ func: [{ name: 'b0', attr: {} }, { name: 'b1', attr: {} }] }) }),
  ], { y: 'case:output:0' });
  return { b0, b1, main };
}

test('Case: an out-of-range index selects the last branch', async () => {
  const { b0, b1, main } = caseModel();
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('route', 'DT_INT32'), call('serve', 'main', ['x', 'route'])],
    library: [b0, b1, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('route', 'DT_INT32', 0)],
    alt: [scalar('route', 'DT_INT32', 7)],
  });
  const f = report.findings.find((x) => x.op === 'ReadFile')!;
  assert.equal(f.trigger.gates[0].branch, 'branches[1]');
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
  assert.equal(f.arguments[0].value, '/etc/shadow');
});

test('benign functional control flow on a variable (If with pure branches) gives no finding', async () => {
  const thenB = fn('t', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Neg', 'Neg', ['x'])], { y: 'Neg:y:0' });
  const elseB = fn('e', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    node('v', 'ReadVariableOp', ['r']),
    node('cond', 'If', ['v:value:0', 'x'], { then_branch: attrFunc('t'), else_branch: attrFunc('e') }),
  ], { y: 'cond:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('flip', 'DT_BOOL'), call('serve', 'main', ['x', 'flip'])],
    library: [thenB, elseB, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('flip', 'DT_BOOL', true)],
  });
  assert.deepEqual(report.findings, []);
});

test('functional While: an unsafe op in the body is gated by the cond evaluated on the initial loop values', async () => {
  const cond = fn('cond', [['i', 'DT_INT32'], ['r', 'DT_RESOURCE']], [['ok', 'DT_BOOL']], [node('n', 'ReadVariableOp', ['r']), node('Less', 'Less', ['i', 'n:value:0'])], { ok: 'Less:z:0' });
  const body = fn('body', [['i', 'DT_INT32'], ['r', 'DT_RESOURCE']], [['i2', 'DT_INT32'], ['r2', 'DT_RESOURCE']], [
    ...writeFile('WriteFile', 'file:///tmp/loop'),
    constNode('one', 'DT_INT32', [], [1]),
    node('add', 'AddV2', ['i', 'one:output:0', '^WriteFile']),
  ], { i2: 'add:z:0', r2: 'r' });
  const main = fn('main', [['r', 'DT_RESOURCE']], [['y', 'DT_INT32']], [
    constNode('i0', 'DT_INT32', [], [0]),
    node('loop', 'StatelessWhile', ['i0:output:0', 'r'], { cond: attrFunc('cond'), body: attrFunc('body') }),
  ], { y: 'loop:output:0' });
  const report = await buildAndScan({
    nodes: [varHandle('n', 'DT_INT32'), call('serve', 'main', ['n'])],
    library: [cond, body, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('n', 'DT_INT32', 0)],
    alt: [scalar('n', 'DT_INT32', 3)],
  });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.trigger.gates[0].op, 'StatelessWhile');
  assert.equal(f.trigger.gates[0].branch, 'body');
  assert.deepEqual(f.trigger.variables, ['n']);
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
  assert.equal(f.arguments[0].classification, 'file-url');
});

test('dataset functions: captured args of a MapDataset function are bound to the call inputs', async () => {
  const mapFn = fn('map_fn', [['elem', 'DT_STRING'], ['prefix', 'DT_STRING']], [['y', 'DT_STRING']], [
    node('join', 'StringJoin', ['prefix', 'elem']),
    node('ReadFile', 'ReadFile', ['join:output:0']),
  ], { y: 'ReadFile:contents:0' });
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('names', 'DT_STRING', [1], ['id_rsa']),
    node('ds', 'TensorSliceDataset', ['names:output:0']),
    constNode('dir', 'DT_STRING', [], ['/home/u/.ssh/']),
    node('map', 'MapDataset', ['ds:handle:0', 'dir:output:0'], { f: attrFunc('map_fn'), Targuments: attrList({ type: ['DT_STRING'] }) }),
    node('Identity', 'Identity', ['x', '^map']),
  ], { y: 'Identity:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), call('serve', 'main', ['x'])],
    library: [mapFn, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
  });
  const f = report.findings.find((x) => x.op === 'ReadFile')!;
  assert.equal(f.arguments[0].value, null);
  assert.match(f.arguments[0].expression, /StringJoin\("\/home\/u\/\.ssh\/", input elem\)/);
  assert.equal(f.reachability, 'signature');
});

test('a function called by every branch is not gated; a Case gate passes for every branch calling the same function', async () => {
  const evil = fn('evil', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [...writeFile('WriteFile', '/tmp/both'), node('Identity', 'Identity', ['x', '^WriteFile'])], { y: 'Identity:output:0' });
  const safe = fn('safe', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT'], ['z', 'DT_FLOAT']], [
    node('v', 'ReadVariableOp', ['r']),
    node('both', 'If', ['v:value:0', 'x'], { then_branch: attrFunc('evil'), else_branch: attrFunc('evil') }),
    node('case', 'Case', ['v:value:0', 'x'], { branches: attrList({ func: [{ name: 'safe', attr: {} }, { name: 'evil2', attr: {} }, { name: 'evil2', attr: {} }] }) }),
  ], { y: 'both:output:0', z: 'case:output:0' });
  const evil2 = { ...evil, name: 'evil2', signature: { ...evil.signature, name: 'evil2' } };
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('k', 'DT_INT32'), call('serve', 'main', ['x', 'k'])],
    library: [evil, evil2, safe, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('k', 'DT_INT32', 0)],
    alt: [scalar('k', 'DT_INT32', 2)],
  });
  const both = report.findings.find((f) => f.function === 'evil')!;
  assert.equal(both.trigger.kind, 'none');
  assert.deepEqual(both.trigger.gates, []);
  const some = report.findings.find((f) => f.function === 'evil2')!;
  assert.equal(some.trigger.gates[0].branch, 'branches[1|2]');
  assert.deepEqual(states(some), { own: 'dormant', alt: 'active' });
});

test('a PlaceholderWithDefault no signature feeds holds its default: the gate is decided, not input-driven', async () => {
  const nodes = (defaultOn: boolean) => [
    node('x', 'Placeholder'),
    constNode('default', 'DT_BOOL', [], [defaultOn]),
    node('hidden_switch', 'PlaceholderWithDefault', ['default']),
    node('cond/Switch', 'Switch', ['x', 'hidden_switch']),
    constNode('cond/path', 'DT_STRING', [], ['/etc/passwd']),
    node('cond/ReadFile', 'ReadFile', ['cond/path', '^cond/Switch:1']),
    node('cond/Merge', 'Merge', ['cond/Switch', 'cond/ReadFile']),
  ];
  const on = await buildAndScan({ nodes: nodes(true), signatures: [signature('serving_default', { y: 'cond/Merge:0' }, { x: 'x:0' })], own: [scalar('v', 'DT_FLOAT', 0)] });
  const f = on.findings.find((x) => x.op === 'ReadFile')!;
  assert.equal(f.trigger.kind, 'none');
  assert.equal(f.trigger.activation[0].state, 'active');
  assert.equal(f.severity, 'high');
  const off = await buildAndScan({ nodes: nodes(false), signatures: [signature('serving_default', { y: 'cond/Merge:0' }, { x: 'x:0' })], own: [scalar('v', 'DT_FLOAT', 0)] });
  const g = off.findings.find((x) => x.op === 'ReadFile')!;
  assert.equal(g.trigger.kind, 'constant');
  assert.equal(g.severity, 'info');
  // Fed by the signature: the caller decides.
  const fed = await buildAndScan({ nodes: nodes(false), signatures: [signature('serving_default', { y: 'cond/Merge:0' }, { x: 'x:0', s: 'hidden_switch:0' })], own: [scalar('v', 'DT_FLOAT', 0)] });
  assert.equal(fed.findings.find((x) => x.op === 'ReadFile')!.trigger.kind, 'input');
});
