// The predicate interpreter: unit checks on hand-built functions, then predicates computed
// through strings, casts and logical ops in models built with our writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCallGraph } from '../../../main/analysis/callgraph.ts';
import { buildVariableNaming } from '../../../main/analysis/dataflow.ts';
import { makeEvaluator, renderVal, tfFormat, type Val } from '../../../main/analysis/evaluate.ts';
import { attrFunc, constNode, graph, node } from '../../../main/writer/graph.ts';
import type { NodeIR } from '../../../shared/ir.ts';
import { buildAndScan, call, fn, scalar, signature, states, varHandle } from './models.ts';

const enc = new TextEncoder();

function evalTop(nodes: NodeIR[], target: string, variables: Record<string, Val> = {}) {
  const cg = buildCallGraph(graph(nodes));
  const naming = buildVariableNaming(cg, null);
  const ev = makeEvaluator(cg, naming, { variable: (k) => variables[k] ?? `no ${k}` });
  const [name, out] = target.split(':');
  return ev.evaluate({ frame: { scope: cg.top, stack: [] }, source: { kind: 'node', node: cg.top.index.get(name)!, output: Number(out ?? 0) } });
}

const value = (r: ReturnType<typeof evalTop>) => {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.value;
};

test('arithmetic broadcasts like numpy and integer division truncates', () => {
  const v = value(evalTop([constNode('a', 'DT_INT32', [2, 1], [7, -7]), constNode('b', 'DT_INT32', [2], [2, 3]), node('d', 'Div', ['a', 'b'], { T: { type: 'type', dtype: 'DT_INT32' } })], 'd'));
  assert.deepEqual(v.shape, [2, 2]);
  assert.deepEqual(v.data, [3, 2, -3, -2]);
  const f = value(evalTop([constNode('a', 'DT_INT32', [2], [7, -7]), constNode('b', 'DT_INT32', [], [2]), node('m', 'FloorMod', ['a', 'b'], { T: { type: 'type', dtype: 'DT_INT32' } })], 'm'));
  assert.deepEqual(f.data, [1, 1]);
});

test('string comparison, StringJoin and StringFormat', () => {
  const nodes = [
    constNode('a', 'DT_STRING', [], ['/tmp/']),
    constNode('b', 'DT_STRING', [2], ['x', 'y']),
    node('j', 'StringJoin', ['a', 'b'], { separator: { type: 's', s: enc.encode('') } }),
    constNode('want', 'DT_STRING', [], ['/tmp/y']),
    node('eq', 'Equal', ['j', 'want']),
    node('fmt', 'StringFormat', ['a'], { template: { type: 's', s: enc.encode('path={}') }, placeholder: { type: 's', s: enc.encode('{}') } }),
  ];
  assert.deepEqual(value(evalTop(nodes, 'j')).data, ['/tmp/x', '/tmp/y']);
  assert.deepEqual(value(evalTop(nodes, 'eq')).data, [false, true]);
  assert.equal(renderVal(value(evalTop(nodes, 'fmt'))), '"path=\\"/tmp/\\""');
});

test('tfFormat prints like tf.strings.format (checked against TensorFlow 2.21)', () => {
  assert.equal(tfFormat({ dtype: 'DT_INT32', shape: [3], data: [1, 2, 3] }, 3), '[1 2 3]');
  assert.equal(tfFormat({ dtype: 'DT_STRING', shape: [2], data: ['a', 'b'] }, 3), '["a" "b"]');
  assert.equal(tfFormat({ dtype: 'DT_BOOL', shape: [], data: [true] }, 3), '1');
  assert.equal(tfFormat({ dtype: 'DT_INT32', shape: [10], data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }, 3), '[0 1 2 ... 7 8 9]');
});

test('reductions, StridedSlice, Gather, Pack, ConcatV2, Select and Cast', () => {
  const nodes = [
    constNode('m', 'DT_INT32', [2, 3], [1, 2, 3, 4, 5, 6]),
    constNode('ax', 'DT_INT32', [], [1]),
    node('sum', 'Sum', ['m', 'ax']),
    constNode('b', 'DT_INT32', [2], [1, 0]),
    constNode('e', 'DT_INT32', [2], [2, 2]),
    constNode('s', 'DT_INT32', [2], [1, 1]),
    node('ss', 'StridedSlice', ['m', 'b', 'e', 's'], { shrink_axis_mask: { type: 'i', i: 1 } }),
    constNode('idx', 'DT_INT32', [1], [1]),
    constNode('zero', 'DT_INT32', [], [0]),
    node('g', 'GatherV2', ['m', 'idx', 'zero']),
    node('p', 'Pack', ['ax', 'zero']),
    node('c', 'ConcatV2', ['b', 'e', 'zero']),
    constNode('cond', 'DT_BOOL', [2], [true, false]),
    node('sel', 'SelectV2', ['cond', 'b', 'e']),
    node('cast', 'Cast', ['b'], { DstT: { type: 'type', dtype: 'DT_BOOL' } }),
  ];
  assert.deepEqual(value(evalTop(nodes, 'sum')).data, [6, 15]);
  assert.deepEqual(value(evalTop(nodes, 'ss')).data, [4, 5]);
  assert.deepEqual(value(evalTop(nodes, 'g')).data, [4, 5, 6]);
  assert.deepEqual(value(evalTop(nodes, 'p')).data, [1, 0]);
  assert.deepEqual(value(evalTop(nodes, 'c')).data, [1, 0, 2, 2]);
  assert.deepEqual(value(evalTop(nodes, 'sel')).data, [1, 2]);
  assert.deepEqual(value(evalTop(nodes, 'cast')).data, [true, false]);
});

test('TF1 Switch/Merge: the port not taken is dead and Merge forwards the live one', () => {
  const nodes = [
    node('flag', 'VariableV2'),
    constNode('x', 'DT_INT32', [], [5]),
    node('sw', 'Switch', ['x', 'flag']),
    node('neg', 'Neg', ['sw:1']),
    node('merge', 'Merge', ['sw', 'neg']),
  ];
  const off = { flag: { dtype: 'DT_BOOL', shape: [], data: [false] } };
  const on = { flag: { dtype: 'DT_BOOL', shape: [], data: [true] } };
  assert.deepEqual(value(evalTop(nodes, 'merge', off)).data, [5]);
  assert.deepEqual(value(evalTop(nodes, 'merge', on)).data, [-5]);
  const dead = evalTop(nodes, 'neg', off);
  assert.equal(!dead.ok && dead.dead, true);
});

test('unknown ops and inputs give unknown with the reason', () => {
  const r = evalTop([node('x', 'Placeholder'), node('y', 'Neg', ['x'])], 'y');
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.reason, /input placeholder/);
  const r2 = evalTop([constNode('a', 'DT_FLOAT', [], [1]), node('y', 'Erf', ['a'])], 'y');
  assert.match(r2.ok ? '' : r2.reason, /Erf .*not evaluated/);
});

function gated(predicate: NodeIR[], predName: string, payloadPath: string) {
  const thenB = fn('then_b', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [constNode('p', 'DT_STRING', [], [payloadPath]), node('ReadFile', 'ReadFile', ['p:output:0']), node('Identity', 'Identity', ['x', '^ReadFile'])], { y: 'Identity:output:0' });
  const elseB = fn('else_b', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT'], ['r1', 'DT_RESOURCE'], ['r2', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [...predicate, node('cond', 'StatelessIf', [predName, 'x'], { then_branch: attrFunc('then_b'), else_branch: attrFunc('else_b') })], { y: 'cond:output:0' });
  return [thenB, elseB, main];
}

test('string-valued predicate: Equal on a string variable switches the branch', async () => {
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('mode', 'DT_STRING'), varHandle('unused', 'DT_INT32'), call('serve', 'main', ['x', 'mode', 'unused'])],
    library: gated([node('read', 'ReadVariableOp', ['r1']), constNode('key', 'DT_STRING', [], ['exfiltrate']), node('eq', 'Equal', ['read:value:0', 'key:output:0'])], 'eq:z:0', '/etc/passwd'),
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('mode', 'DT_STRING', 'normal'), scalar('unused', 'DT_INT32', 0)],
    alt: [scalar('mode', 'DT_STRING', 'exfiltrate'), scalar('unused', 'DT_INT32', 0)],
  });
  const f = report.findings.find((x) => x.op === 'ReadFile')!;
  assert.deepEqual(f.trigger.variables, ['mode']);
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
  assert.equal(f.trigger.activation[1].values.mode, '"exfiltrate"');
  assert.match(f.trigger.gates[0].predicate.expression, /Equal\(ReadVariableOp\(mode\), "exfiltrate"\)/);
});

test('predicate computed through Cast, LogicalNot and LogicalAnd of two variables', async () => {
  const predicate = [
    node('a', 'ReadVariableOp', ['r1']),
    node('b', 'ReadVariableOp', ['r2']),
    node('ca', 'Cast', ['a:value:0'], { DstT: { type: 'type', dtype: 'DT_BOOL' } }),
    node('cb', 'Cast', ['b:value:0'], { DstT: { type: 'type', dtype: 'DT_BOOL' } }),
    node('nb', 'LogicalNot', ['cb:y:0']),
    node('and', 'LogicalAnd', ['ca:y:0', 'nb:y:0']),
  ];
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('armed', 'DT_INT32'), varHandle('safe', 'DT_FLOAT'), call('serve', 'main', ['x', 'armed', 'safe'])],
    library: gated(predicate, 'and:z:0', '/root/.aws/credentials'),
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('armed', 'DT_INT32', 1), scalar('safe', 'DT_FLOAT', 1)],
    alt: [scalar('armed', 'DT_INT32', 7), scalar('safe', 'DT_FLOAT', 0)],
  });
  const f = report.findings.find((x) => x.op === 'ReadFile')!;
  assert.deepEqual(f.trigger.variables, ['armed', 'safe']);
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
  assert.equal(f.severity, 'critical');
});

test('ArgMax/ArgMin return the first index of the extreme along the axis (tf.switch_case(tf.argmax(v)))', () => {
  const m = [constNode('m', 'DT_FLOAT', [2, 3], [0.1, 0.9, 0.9, 5, -1, 5])];
  const axis1 = constNode('ax1', 'DT_INT32', [], [1]);
  const axis0 = constNode('ax0', 'DT_INT32', [], [0]);
  assert.deepEqual(value(evalTop([...m, axis1, node('a', 'ArgMax', ['m', 'ax1'], { output_type: { type: 'type', dtype: 'DT_INT32' } })], 'a')), { dtype: 'DT_INT32', shape: [2], data: [1, 0] });
  assert.deepEqual(value(evalTop([...m, axis0, node('a', 'ArgMin', ['m', 'ax0'])], 'a')), { dtype: 'DT_INT64', shape: [3], data: [0, 1, 0] });
  assert.equal(evalTop([constNode('s', 'DT_FLOAT', [], [1]), axis0, node('a', 'ArgMax', ['s', 'ax0'])], 'a').ok, false, 'a scalar has no axis');
});

test('string and float-class ops used in hidden switches: StringToNumber, Substr, StringLower, StringStrip, IsNan, Where', () => {
  const s = (name: string, v: string[]) => constNode(name, 'DT_STRING', [v.length], v);
  assert.deepEqual(value(evalTop([s('a', [' 9', '-2.5e1']), node('n', 'StringToNumber', ['a'])], 'n')).data, [9, -25]);
  assert.deepEqual(value(evalTop([s('a', ['7']), node('n', 'StringToNumber', ['a'], { out_type: { type: 'type', dtype: 'DT_INT32' } })], 'n')), { dtype: 'DT_INT32', shape: [1], data: [7] });
  assert.equal(evalTop([s('a', ['nine']), node('n', 'StringToNumber', ['a'])], 'n').ok, false, 'TensorFlow raises on unparsable strings');
  const sub = [s('a', ['gogo', 'xy']), constNode('p', 'DT_INT32', [], [0]), constNode('l', 'DT_INT32', [], [2]), node('sub', 'Substr', ['a', 'p', 'l'])];
  assert.deepEqual(value(evalTop(sub, 'sub')).data, ['go', 'xy']);
  assert.deepEqual(value(evalTop([s('a', ['YeS']), node('lo', 'StringLower', ['a'])], 'lo')).data, ['yes']);
  assert.deepEqual(value(evalTop([s('a', ['  on\t']), node('st', 'StringStrip', ['a'])], 'st')).data, ['on']);
  assert.deepEqual(value(evalTop([constNode('f', 'DT_FLOAT', [3], [Number.NaN, 1, Infinity]), node('n', 'IsNan', ['f'])], 'n')), { dtype: 'DT_BOOL', shape: [3], data: [true, false, false] });
  assert.deepEqual(value(evalTop([constNode('b', 'DT_BOOL', [2, 2], [false, true, true, false]), node('w', 'Where', ['b'])], 'w')), { dtype: 'DT_INT64', shape: [2, 2], data: [0, 1, 1, 0] });
});

test('Size(Where(v > 0)) follows the variable values, not only a shape: the switch is variable-driven', async () => {
  const writeFile = [constNode('fname', 'DT_STRING', [], ['/tmp/x']), constNode('data', 'DT_STRING', [], ['x']), node('WriteFile', 'WriteFile', ['fname:output:0', 'data:output:0'])];
  const thenB = fn('t', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [...writeFile, node('Identity', 'Identity', ['x', '^WriteFile'])], { y: 'Identity:output:0' });
  const elseB = fn('e', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    node('v', 'ReadVariableOp', ['r']),
    constNode('zero', 'DT_INT32', [], [0]),
    node('pos', 'Greater', ['v:value:0', 'zero:output:0']),
    node('where', 'Where', ['pos:z:0']),
    node('count', 'Size', ['where:index:0']),
    constNode('one', 'DT_INT32', [], [1]),
    node('many', 'Greater', ['count:output:0', 'one:output:0']),
    node('cond', 'If', ['many:z:0', 'x'], { then_branch: attrFunc('t'), else_branch: attrFunc('e') }),
  ], { y: 'cond:output:0' });
  const vector = (values: number[]) => [{ key: 'v', dtype: 'DT_INT32', shape: [3], values }];
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('v', 'DT_INT32'), call('serve', 'main', ['x', 'v'])],
    library: [thenB, elseB, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: vector([0, 0, 5]),
    alt: vector([1, 2, 0]),
  });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.trigger.kind, 'variable');
  assert.deepEqual(f.trigger.variables, ['v']);
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
});

test('StringToHashBucketFast is Fingerprint64 mod num_buckets (TensorFlow 2.21: "a" → 9, "trigger" → 8 of 10)', () => {
  const hashed = value(evalTop([constNode('s', 'DT_STRING', [2], ['a', 'trigger']), node('h', 'StringToHashBucketFast', ['s'], { num_buckets: { type: 'i', i: 10 } })], 'h'));
  assert.deepEqual(hashed, { dtype: 'DT_INT64', shape: [2], data: [9, 8] });
});
