// The evaluator's soundness contract (main/analysis/evaluate.ts, issue 16): what cannot be proven
// is unknown, and unknown never becomes dormant, dead or constant-false, nor lowers a severity.
// Hand-built graphs: loops, TF1 loop merges, the clock, randomness, lookup tables, variables the
// graph writes itself. Real-TensorFlow counterparts: soundness-tensorflow.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCallGraph } from '../../../main/analysis/callgraph.ts';
import { buildVariableNaming, type Tensor } from '../../../main/analysis/dataflow.ts';
import { makeEvaluator, type EvalEnv } from '../../../main/analysis/evaluate.ts';
import { listIterations } from '../../../main/analysis/decide.ts';
import { findingSeverity } from '../../../main/analysis/severity.ts';
import { SEVERITY_RANK } from '../../../shared/findings.ts';
import { join } from 'node:path';
import { attrFunc, attrType, constNode, graph, metaGraph, node } from '../../../main/writer/graph.ts';
import { writeSavedModelDir } from '../../../main/writer/savedmodel.ts';
import { openModel } from '../../../main/formats/index.ts';
import { scanModel } from '../../../main/analysis/scan.ts';
import { tempDir } from '../../helpers/corpus.ts';
import type { FunctionIR, NodeIR } from '../../../shared/ir.ts';
import { buildAndScan, call, fn, scalar, signature, states, varHandle } from './models.ts';

const INT = { T: attrType('DT_INT32') };

/** while (i < limit) { i += 1 }: cond and body functions. */
function counting(limit: number | null): FunctionIR[] {
  const cond = fn('cond', [['i', 'DT_INT32']], [['ok', 'DT_BOOL']], limit === null ? [constNode('t', 'DT_BOOL', [], [true])] : [constNode('limit', 'DT_INT32', [], [limit]), node('less', 'Less', ['i', 'limit:output:0'], INT)], { ok: limit === null ? 't:output:0' : 'less:z:0' });
  const body = fn('body', [['i', 'DT_INT32']], [['i2', 'DT_INT32']], [constNode('one', 'DT_INT32', [], [1]), node('add', 'AddV2', ['i', 'one:output:0'], INT)], { i2: 'add:z:0' });
  return [cond, body];
}

function evaluator(nodes: NodeIR[], library: FunctionIR[] = [], env: Partial<EvalEnv> = {}) {
  const cg = buildCallGraph(graph(nodes, library));
  const naming = buildVariableNaming(cg, null);
  const ev = makeEvaluator(cg, naming, { variable: (k) => `no ${k}`, ...env });
  const at = (name: string, output = 0): Tensor => ({ frame: { scope: cg.top, stack: [] }, source: { kind: 'node', node: cg.top.index.get(name)!, output } });
  return { cg, ev, at };
}

test('contract: a While body arg is loop-carried (unknown), never its initial value', () => {
  const { cg, ev } = evaluator([constNode('i0', 'DT_INT32', [], [0]), node('loop', 'While', ['i0'], { cond: attrFunc('cond'), body: attrFunc('body') })], counting(5));
  const site = cg.sitesByCaller.get(0)!.find((s) => s.kind === 'body')!;
  const body = cg.byName.get('body')!;
  const r = ev.evaluate({ frame: { scope: body, stack: [site] }, source: { kind: 'arg', arg: 0 } });
  assert.equal(r.ok, false);
  assert.ok(!r.ok && !r.dead && /carried by loop loop/.test(r.reason), JSON.stringify(r));
});

test('contract: a While output is computed by iterating; past the budget it is unknown', () => {
  const done = evaluator([constNode('i0', 'DT_INT32', [], [0]), node('loop', 'While', ['i0'], { cond: attrFunc('cond'), body: attrFunc('body') })], counting(7));
  const r = done.ev.evaluate(done.at('loop'));
  assert.ok(r.ok && r.value.data[0] === 7, JSON.stringify(r));
  const forever = evaluator([constNode('i0', 'DT_INT32', [], [0]), node('loop', 'While', ['i0'], { cond: attrFunc('cond'), body: attrFunc('body') })], counting(null), { loopBudget: { iterations: 50, millis: 1000 } });
  const f = forever.ev.evaluate(forever.at('loop'));
  assert.ok(!f.ok && !f.dead && /still running after 50 iterations/.test(f.reason), JSON.stringify(f));
});

test('contract: a TF1 Merge fed by NextIteration is unknown outside an iteration', () => {
  const { ev, at } = evaluator([
    constNode('i0', 'DT_INT32', [], [0]),
    node('enter', 'Enter', ['i0'], { frame_name: { type: 's', s: new TextEncoder().encode('loop') } }),
    node('merge', 'Merge', ['enter', 'next']),
    constNode('five', 'DT_INT32', [], [5]),
    node('less', 'Less', ['merge', 'five'], INT),
    node('cond', 'LoopCond', ['less']),
    node('switch', 'Switch', ['merge', 'cond']),
    node('body', 'Identity', ['switch:1']),
    constNode('one', 'DT_INT32', [], [1]),
    node('add', 'AddV2', ['body', 'one'], INT),
    node('next', 'NextIteration', ['add']),
    node('exit', 'Exit', ['switch']),
  ]);
  const m = ev.evaluate(at('merge'));
  assert.ok(!m.ok && !m.dead && /carried by a TF1 loop/.test(m.reason), JSON.stringify(m));
  // The loop's result is computed by running the frame.
  const e = ev.evaluate(at('exit'));
  assert.ok(e.ok && e.value.data[0] === 5, JSON.stringify(e));
});

test('contract: the clock is unknown unless the caller fixes now; randomness is always unknown', () => {
  const nodes = [node('t', 'Timestamp'), node('r', 'RandomUniform', ['shape'], { dtype: attrType('DT_FLOAT'), T: attrType('DT_INT32') }), constNode('shape', 'DT_INT32', [0], [])];
  const blind = evaluator(nodes);
  const t = blind.ev.evaluate(blind.at('t'));
  assert.ok(!t.ok && !t.dead && /clock/.test(t.reason));
  const r = blind.ev.evaluate(blind.at('r'));
  assert.ok(!r.ok && !r.dead && /random number generator/.test(r.reason), JSON.stringify(r));
  const timed = evaluator(nodes, [], { now: 1_800_000_000 });
  const v = timed.ev.evaluate(timed.at('t'));
  assert.ok(v.ok && v.value.data[0] === 1_800_000_000);
});

test('contract: a lookup table is unknown without a proven initialiser', () => {
  const { ev, at } = evaluator([
    node('table', 'MutableHashTableV2', [], { key_dtype: attrType('DT_STRING'), value_dtype: attrType('DT_INT64') }),
    constNode('k', 'DT_STRING', [], ['on']),
    constNode('d', 'DT_INT64', [], [-1]),
    node('find', 'LookupTableFindV2', ['table', 'k', 'd']),
  ]);
  const r = ev.evaluate(at('find'));
  assert.ok(!r.ok && !r.dead, JSON.stringify(r));
});

test('iterations are listed as TensorFlow counts them, from 0', () => {
  assert.equal(listIterations([10, 11]), '10 and 11');
  assert.equal(listIterations([4]), '4');
  assert.equal(listIterations([1, 2, 3, 4, 9]), '1–4 and 9');
});

test('severity: environment never below high for host access, critical when it holds now; unknown never lowers', () => {
  const base = { base: 'high' as const, reachability: 'signature' as const, constantFalse: false, saverMachinery: false, benignTargets: false };
  assert.equal(findingSeverity({ ...base, triggerKind: 'environment', activation: ['unknown'], capability: 'file-write' }), 'high');
  assert.equal(findingSeverity({ ...base, base: 'medium', triggerKind: 'environment', activation: ['unknown'], capability: 'network' }), 'high');
  assert.equal(findingSeverity({ ...base, triggerKind: 'environment', activation: ['active'], capability: 'file-write' }), 'critical');
  assert.equal(findingSeverity({ ...base, base: 'medium', triggerKind: 'environment', activation: ['unknown'], capability: 'custom-op' }), 'medium');
  assert.equal(findingSeverity({ ...base, triggerKind: 'variable', activation: ['unknown'], capability: 'file-write' }), 'high');
});

/** serving → main(x, v): reads v, assigns it from a value, and If(v > 0) → evil (WriteFile). */
function selfWriting(write: NodeIR[]): Parameters<typeof buildAndScan>[0] {
  const evil = fn('evil', [], [['o', 'DT_INT32']], [constNode('p', 'DT_STRING', [], ['/tmp/evil']), constNode('c', 'DT_STRING', [], ['x']), node('w', 'WriteFile', ['p:output:0', 'c:output:0']), constNode('o', 'DT_INT32', [], [0])], { o: 'o:output:0' });
  const safe = fn('safe', [], [['o', 'DT_INT32']], [constNode('o', 'DT_INT32', [], [0])], { o: 'o:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT'], ['v', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    ...write,
    node('read', 'ReadVariableOp', ['v'], { dtype: attrType('DT_INT32') }),
    constNode('zero', 'DT_INT32', [], [0]),
    node('gt', 'Greater', ['read:value:0', 'zero:output:0'], INT),
    node('if', 'If', ['gt:z:0'], { then_branch: attrFunc('evil'), else_branch: attrFunc('safe'), Tin: { type: 'list', list: { type: [] } }, Tout: { type: 'list', list: { type: ['DT_INT32'] } } }),
    node('y', 'Identity', ['x', '^if']),
  ], { y: 'y:output:0' });
  return {
    nodes: [node('x', 'Placeholder', [], { dtype: attrType('DT_FLOAT') }), varHandle('v', 'DT_INT32'), call('serve', 'main', ['x', 'v'])],
    library: [evil, safe, main],
    signatures: [signature('serving_default', { y: 'serve:0' }, { x: 'x:0' })],
    own: [scalar('v', 'DT_INT32', 0)],
  };
}

test('a gating variable the graph assigns from an input is unknown, never dormant on the checkpoint value', async () => {
  const report = await buildAndScan(selfWriting([node('cast', 'Cast', ['x'], { SrcT: attrType('DT_FLOAT'), DstT: attrType('DT_INT32') }), node('assign', 'AssignVariableOp', ['v', 'cast:y:0'], { dtype: attrType('DT_INT32') })]));
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.deepEqual(states(f), { own: 'unknown' });
  assert.match(f.trigger.activation[0].reason, /the model writes it itself/);
  assert.ok(f.trigger.selfWritten?.[0].startsWith('v: AssignVariableOp'), JSON.stringify(f.trigger.selfWritten));
  assert.equal(f.severity, 'high');
});

test('a gating variable the graph only ever sets to constants is decided over every value it can hold', async () => {
  const never = await buildAndScan(selfWriting([constNode('minus', 'DT_INT32', [], [-3]), node('assign', 'AssignVariableOp', ['v', 'minus:output:0'], { dtype: attrType('DT_INT32') })]));
  const f = never.findings.find((x) => x.op === 'WriteFile')!;
  assert.deepEqual(states(f), { own: 'dormant' });
  assert.match(f.trigger.activation[0].reason, /dormant for every value it can hold \(0, -3\)/);
  const armed = await buildAndScan(selfWriting([constNode('one', 'DT_INT32', [], [1]), node('assign', 'AssignVariableOp', ['v', 'one:output:0'], { dtype: attrType('DT_INT32') })]));
  const g = armed.findings.find((x) => x.op === 'WriteFile')!;
  assert.deepEqual(states(g), { own: 'active' });
  assert.equal(g.severity, 'critical');
});

test('a counter counting down from the checkpoint value never opens a > 0 gate within the bound: unknown, not dormant', async () => {
  const report = await buildAndScan(selfWriting([constNode('one', 'DT_INT32', [], [1]), node('sub', 'AssignSubVariableOp', ['v', 'one:output:0'], { dtype: attrType('DT_INT32') })]));
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.deepEqual(states(f), { own: 'unknown' });
  assert.match(f.trigger.activation[0].reason, /not active within 1000 steps/);
});

/** main calls helper(flag) twice, with the constants given; helper's If(flag) guards a WriteFile. */
function twoCallers(first: boolean, second: boolean): Parameters<typeof buildAndScan>[0] {
  const evil = fn('evil', [], [['o', 'DT_INT32']], [constNode('p', 'DT_STRING', [], ['/tmp/evil']), constNode('c', 'DT_STRING', [], ['x']), node('w', 'WriteFile', ['p:output:0', 'c:output:0']), constNode('o', 'DT_INT32', [], [0])], { o: 'o:output:0' });
  const safe = fn('safe', [], [['o', 'DT_INT32']], [constNode('o', 'DT_INT32', [], [0])], { o: 'o:output:0' });
  const IfAttrs = { then_branch: attrFunc('evil'), else_branch: attrFunc('safe'), Tin: { type: 'list' as const, list: { type: [] } }, Tout: { type: 'list' as const, list: { type: ['DT_INT32'] } } };
  const helper = fn('helper', [['flag', 'DT_BOOL']], [['o', 'DT_INT32']], [node('if', 'If', ['flag'], IfAttrs)], { o: 'if:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('a', 'DT_BOOL', [], [first]),
    constNode('b', 'DT_BOOL', [], [second]),
    call('first', 'helper', ['a:output:0']),
    call('second', 'helper', ['b:output:0']),
    node('y', 'Identity', ['x', '^first', '^second']),
  ], { y: 'y:output:0' });
  return {
    nodes: [node('x', 'Placeholder', [], { dtype: attrType('DT_FLOAT') }), call('serve', 'main', ['x'])],
    library: [evil, safe, helper, main],
    signatures: [signature('serving_default', { y: 'serve:0' }, { x: 'x:0' })],
    own: [scalar('unused', 'DT_INT32', 0)],
  };
}

test('a function called from two places is constant-false only when every call path closes its gate', async () => {
  const open = (await buildAndScan(twoCallers(false, true))).findings.find((x) => x.op === 'WriteFile')!;
  assert.doesNotMatch(open.message, /constant-false/);
  assert.equal(open.severity, 'high');
  assert.deepEqual(states(open), { own: 'active' });
  const closed = (await buildAndScan(twoCallers(false, false))).findings.find((x) => x.op === 'WriteFile')!;
  assert.match(closed.message, /constant-false/);
  assert.equal(closed.severity, 'info');
});

test('contract: a TF1 Merge is proven only when every other input is proven dead', () => {
  const { ev, at } = evaluator([
    node('x', 'Placeholder', [], { dtype: attrType('DT_BOOL') }),
    constNode('a', 'DT_INT32', [], [1]),
    constNode('b', 'DT_INT32', [], [2]),
    node('sw', 'Switch', ['a', 'x']),
    node('merge', 'Merge', ['sw', 'b']),
    constNode('f', 'DT_BOOL', [], [false]),
    node('sw2', 'Switch', ['a', 'f']),
    node('merge2', 'Merge', ['sw2:1', 'b']),
  ]);
  const m = ev.evaluate(at('merge'));
  assert.ok(!m.ok && !m.dead && /input/.test(m.reason), JSON.stringify(m));
  const m2 = ev.evaluate(at('merge2'));
  assert.ok(m2.ok && m2.value.data[0] === 2, JSON.stringify(m2));
});

test('a gate that reads an input but that constants prove open is not input-gated (no medium for an op that always runs)', async () => {
  const evil = fn('evil', [], [['o', 'DT_INT32']], [constNode('p', 'DT_STRING', [], ['/tmp/evil']), constNode('c', 'DT_STRING', [], ['x']), node('w', 'WriteFile', ['p:output:0', 'c:output:0']), constNode('o', 'DT_INT32', [], [0])], { o: 'o:output:0' });
  const safe = fn('safe', [], [['o', 'DT_INT32']], [constNode('o', 'DT_INT32', [], [0])], { o: 'o:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('zero', 'DT_FLOAT', [], [0]),
    node('gt', 'Greater', ['x', 'zero:output:0'], { T: attrType('DT_FLOAT') }),
    constNode('t', 'DT_BOOL', [], [true]),
    node('or', 'LogicalOr', ['gt:z:0', 't:output:0']),
    node('if', 'If', ['or:z:0'], { then_branch: attrFunc('evil'), else_branch: attrFunc('safe'), Tin: { type: 'list', list: { type: [] } }, Tout: { type: 'list', list: { type: ['DT_INT32'] } } }),
    node('y', 'Identity', ['x', '^if']),
  ], { y: 'y:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder', [], { dtype: attrType('DT_FLOAT') }), call('serve', 'main', ['x'])],
    library: [evil, safe, main],
    signatures: [signature('serving_default', { y: 'serve:0' }, { x: 'x:0' })],
    own: [scalar('unused', 'DT_INT32', 0)],
  });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.trigger.kind, 'none');
  assert.equal(f.severity, 'high');
});

test('a time bomb with no checkpoint to judge under is still dated against the clock and critical once past', async () => {
  const evil = fn('evil', [], [['o', 'DT_INT32']], [constNode('p', 'DT_STRING', [], ['/tmp/evil']), constNode('c', 'DT_STRING', [], ['x']), node('w', 'WriteFile', ['p:output:0', 'c:output:0']), constNode('o', 'DT_INT32', [], [0])], { o: 'o:output:0' });
  const safe = fn('safe', [], [['o', 'DT_INT32']], [constNode('o', 'DT_INT32', [], [0])], { o: 'o:output:0' });
  const nodes = [
    node('x', 'Placeholder', [], { dtype: attrType('DT_FLOAT') }),
    node('now', 'Timestamp'),
    constNode('when', 'DT_DOUBLE', [], [1_700_000_000]),
    node('gt', 'Greater', ['now', 'when'], { T: attrType('DT_DOUBLE') }),
    node('if', 'If', ['gt', 'x'], { then_branch: attrFunc('evil'), else_branch: attrFunc('safe'), Tin: { type: 'list', list: { type: [] } }, Tout: { type: 'list', list: { type: ['DT_INT32'] } } }),
  ];
  const dir = join(tempDir('tfaudit-bomb-'), 'model');
  await writeSavedModelDir(dir, { metaGraphs: [metaGraph(graph(nodes, [evil, safe]), { signatures: [signature('serving_default', { y: 'if:0' }, { x: 'x:0' })] })], variables: [] });
  const report = await scanModel(await openModel(dir), { checkpoints: [], toolVersion: 'test', now: new Date('2026-01-01T00:00:00Z') });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.trigger.kind, 'environment');
  assert.equal(f.severity, 'critical');
  assert.match(f.message, /true since 2023-11-14 22:13:2\d UTC \(no checkpoint given; constants only\)/);
});

test('a helper that assigns its argument, called with different constants, is not one constant write', async () => {
  // main: setter(-3); setter(5); then If(v > 0) → WriteFile. Only the first call's -3 would look "dormant for every value".
  const base = selfWriting([call('first', 'setter', ['v', 'minus:output:0']), call('second', 'setter', ['v', 'five:output:0']), constNode('minus', 'DT_INT32', [], [-3]), constNode('five', 'DT_INT32', [], [5])]);
  const setter = fn('setter', [['r', 'DT_RESOURCE'], ['value', 'DT_INT32']], [], [node('assign', 'AssignVariableOp', ['r', 'value'], { dtype: attrType('DT_INT32') })], {});
  const report = await buildAndScan({ ...base, library: [...base.library!, setter] });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.notEqual(states(f).own, 'dormant', f.trigger.activation[0].reason);
  assert.match(f.trigger.activation[0].reason, /writes a value that is not one constant/);
  assert.ok(SEVERITY_RANK[f.severity] >= SEVERITY_RANK.high);
});
