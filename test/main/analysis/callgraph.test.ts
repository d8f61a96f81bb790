// The call graph: every function-valued attr and direct calls, with how callee args bind to
// call inputs (If/Case skip the predicate, dataset functions bind their captured args last).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundInput, buildCallGraph } from '../../../main/analysis/callgraph.ts';
import { attrFunc, attrList, graph, node } from '../../../main/writer/graph.ts';
import type { FunctionIR } from '../../../shared/ir.ts';

const f = (name: string, args: number): FunctionIR => ({
  name,
  signature: { name, inputArgs: Array.from({ length: args }, (_, i) => ({ name: `a${i}`, type: 'DT_FLOAT' })), outputArgs: [], attrs: [], isStateful: false },
  nodes: [],
  ret: {},
  controlRet: {},
  attr: {},
});

test('sites for If, Case, While, PartitionedCall, direct calls and dataset functions', () => {
  const cg = buildCallGraph(
    graph(
      [
        node('p', 'Placeholder'),
        node('x', 'Placeholder'),
        node('if', 'If', ['p', 'x'], { then_branch: attrFunc('t'), else_branch: attrFunc('e') }),
        node('case', 'Case', ['p', 'x'], { branches: attrList({ func: [{ name: 't', attr: {} }, { name: 'e', attr: {} }] }) }),
        node('loop', 'While', ['x'], { cond: attrFunc('c'), body: attrFunc('b') }),
        node('direct', 'e', ['x']),
        node('ds', 'TensorSliceDataset', ['x']),
        node('map', 'MapDataset', ['ds', 'p'], { f: attrFunc('m'), Targuments: attrList({ type: ['DT_FLOAT'] }) }),
      ],
      [f('t', 1), f('e', 1), f('c', 1), f('b', 1), f('m', 2)],
    ),
  );
  const sites = cg.sitesByCaller.get(0)!.map((s) => `${cg.top.nodes[s.node].name}:${s.attr}:${s.kind}->${s.callee}`);
  assert.deepEqual(sites, [
    'if:then_branch:then->t',
    'if:else_branch:else->e',
    'case:branches[0]:case->t',
    'case:branches[1]:case->e',
    'loop:cond:cond->c',
    'loop:body:body->b',
    'direct:op:call->e',
    'map:f:other->m',
  ]);
  const at = (name: string, attr: string) => cg.sitesByCaller.get(0)!.find((s) => cg.top.nodes[s.node].name === name && s.attr === attr)!;
  assert.equal(boundInput(at('if', 'then_branch'), 0), 1);
  assert.equal(boundInput(at('case', 'branches[1]'), 0), 1);
  assert.equal(boundInput(at('loop', 'body'), 0), 0);
  // MapDataset: arg 0 is the element (unbound), arg 1 the captured input `p` (data input 1).
  assert.equal(boundInput(at('map', 'f'), 0), null);
  assert.equal(boundInput(at('map', 'f'), 1), 1);
  assert.deepEqual(cg.callersOf.get('e')!.length, 3);
});
