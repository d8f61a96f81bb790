// A GraphDef hidden in a string constant and fed to DatasetFromGraph (a known scanner bypass)
// is decoded and analysed like the outer graph; its unsafe ops inherit the outer reachability.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constNode, encodeGraphDef, graph, node } from '../../../main/writer/graph.ts';
import { buildAndScan, call, fn, scalar, signature } from './models.ts';

function hiddenGraph(depth: number): Uint8Array {
  let inner = graph([constNode('path', 'DT_STRING', [], ['/etc/shadow']), node('ReadFile', 'ReadFile', ['path'])]);
  for (let i = 1; i < depth; i++) inner = graph([{ ...constNode('g', 'DT_STRING', [], [encodeGraphDef(inner)]) }, node('ds', 'DatasetFromGraph', ['g'])]);
  return encodeGraphDef(inner);
}

test('DatasetFromGraph with a GraphDef in a string constant: the inner ReadFile is found with its path', async () => {
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('graph_def', 'DT_STRING', [], [hiddenGraph(2)]),
    node('ds', 'DatasetFromGraph', ['graph_def:output:0']),
    node('Identity', 'Identity', ['x', '^ds']),
  ], { y: 'Identity:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), call('serve', 'main', ['x'])],
    library: [main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
  });
  const f = report.findings.find((x) => x.op === 'ReadFile');
  assert.ok(f, JSON.stringify(report.findings.map((x) => [x.op, x.message])));
  assert.equal(f.arguments[0].value, '/etc/shadow');
  assert.equal(f.reachability, 'signature');
  assert.equal(f.severity, 'high');
  assert.match(f.message, /nested graph/);
  const at = f.evidence.findIndex((e) => e.includes('(DatasetFromGraph)'));
  assert.ok(at >= 0 && at < f.evidence.length - 1, f.evidence.join(' → '));
  assert.equal(f.evidence[0], 'signature: serving_default');
});

import { attrFunc } from '../../../main/writer/graph.ts';
import { states, varHandle } from './models.ts';

test('a nested graph behind a variable-driven If inherits the outer gate and its checkpoint verdicts', async () => {
  const thenB = fn('then_b', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('graph_def', 'DT_STRING', [], [hiddenGraph(1)]),
    node('ds', 'DatasetFromGraph', ['graph_def:output:0']),
    node('Identity', 'Identity', ['x', '^ds']),
  ], { y: 'Identity:output:0' });
  const elseB = fn('else_b', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [node('Identity', 'Identity', ['x'])], { y: 'Identity:output:0' });
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    node('v', 'ReadVariableOp', ['r']),
    node('cond', 'If', ['v:value:0', 'x'], { then_branch: attrFunc('then_b'), else_branch: attrFunc('else_b') }),
  ], { y: 'cond:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('go', 'DT_BOOL'), call('serve', 'main', ['x', 'go'])],
    library: [thenB, elseB, main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('go', 'DT_BOOL', false)],
    alt: [scalar('go', 'DT_BOOL', true)],
  });
  const f = report.findings.find((x) => x.op === 'ReadFile')!;
  assert.deepEqual(f.trigger.variables, ['go']);
  assert.deepEqual(states(f), { own: 'dormant', alt: 'active' });
  assert.equal(f.severity, 'critical');
  assert.equal(f.trigger.gates[0].function, 'main');
});
