// The evidence figure: variable → predicate → control-flow op → branch → calls → unsafe op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFigure } from '../../../main/analysis/figure.ts';

test('a gated call chain draws variable, predicate, control, branch, call and unsafe nodes in order', () => {
  const fig = buildFigure({
    gates: [
      {
        function: 'predict',
        node: 'cond',
        op: 'If',
        branch: 'then_branch',
        branchFunction: 'cond_true',
        predicate: { source: 'variable', variables: ['mode'], inputs: [], nodes: ['predict/Greater (Greater)', 'predict/ReadVariableOp (ReadVariableOp)'], expression: 'Greater(ReadVariableOp(mode), 0)' },
      },
    ],
    calls: ['cond_true/StatefulPartitionedCall (StatefulPartitionedCall)'],
    unsafe: 'canary/WriteFile (WriteFile)',
  });
  const kinds = fig.nodes.map((n) => n.kind);
  assert.deepEqual(kinds, ['predicate', 'variable', 'control', 'branch', 'call', 'unsafe']);
  const label = (id: string) => fig.nodes.find((n) => n.id === id)!.label;
  assert.deepEqual(fig.edges.map((e) => `${label(e.from)} -> ${label(e.to)}`), [
    'mode -> predict/Greater (Greater)',
    'predict/Greater (Greater) -> predict/cond (If)',
    'predict/cond (If) -> cond_true',
    'cond_true -> cond_true/StatefulPartitionedCall (StatefulPartitionedCall)',
    'cond_true/StatefulPartitionedCall (StatefulPartitionedCall) -> canary/WriteFile (WriteFile)',
  ]);
});
