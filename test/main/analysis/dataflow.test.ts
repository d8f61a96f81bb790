// Data flow across calls and variable naming, plus robustness: hostile graph shapes (cycles,
// missing inputs, self calls, malformed control flow) never make the analysis throw or hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildCallGraph } from '../../../main/analysis/callgraph.ts';
import { buildVariableNaming } from '../../../main/analysis/dataflow.ts';
import { scanModel } from '../../../main/analysis/scan.ts';
import { attrFunc, constNode, graph, metaGraph, node } from '../../../main/writer/graph.ts';
import type { FunctionIR, ModelIR, NodeIR } from '../../../shared/ir.ts';

test('TF1 checkpoint keys come from the Saver restore graph, not the variable node name', () => {
  const cg = buildCallGraph(graph([
    node('dense/kernel', 'VariableV2'),
    constNode('save/Const', 'DT_STRING', [], ['model']),
    constNode('save/RestoreV2/tensor_names', 'DT_STRING', [1], ['layer_0/w']),
    constNode('save/RestoreV2/shape_and_slices', 'DT_STRING', [1], ['']),
    node('save/RestoreV2', 'RestoreV2', ['save/Const', 'save/RestoreV2/tensor_names', 'save/RestoreV2/shape_and_slices']),
    node('save/Identity', 'Identity', ['save/RestoreV2']),
    node('save/Assign', 'Assign', ['dense/kernel', 'save/Identity']),
  ]));
  const naming = buildVariableNaming(cg, null);
  assert.equal(naming.keyOfNode(cg.top, 0), 'layer_0/w');
});

test('TF2 keys follow the object graph path; captured resources map through bound inputs', () => {
  const f: FunctionIR = {
    name: 'fn',
    signature: { name: 'fn', inputArgs: [{ name: 'x', type: 'DT_FLOAT' }, { name: 'res', type: 'DT_RESOURCE' }], outputArgs: [], attrs: [], isStateful: true },
    nodes: [],
    ret: {},
    controlRet: {},
    attr: {},
  };
  const g = graph([node('h', 'VarHandleOp', [], { shared_name: { type: 's', s: new TextEncoder().encode('unrelated_name') } }), node('x', 'Placeholder'), node('c', 'StatefulPartitionedCall', ['x', 'h'], { f: attrFunc('fn') })], [f]);
  const meta = metaGraph(g, {
    objectGraph: {
      nodes: [
        { id: 0, kind: 'user_object', children: [{ name: 'layer', nodeId: 1 }] },
        { id: 1, kind: 'user_object', children: [{ name: 'gate', nodeId: 2 }] },
        { id: 2, kind: 'variable', children: [], variable: { name: 'Variable', dtype: 'DT_INT32', shape: null, trainable: true } },
      ],
      concreteFunctions: { fn: { boundInputs: [2] } },
    },
  });
  const cg = buildCallGraph(g);
  const naming = buildVariableNaming(cg, meta);
  assert.equal(naming.keyOfNode(cg.top, 0), 'layer/gate/.ATTRIBUTES/VARIABLE_VALUE');
  assert.equal(naming.boundArgKey('fn', 1), 'layer/gate/.ATTRIBUTES/VARIABLE_VALUE');
  assert.equal(naming.boundArgKey('fn', 0), null);
});

const OPS = ['Identity', 'If', 'StatelessWhile', 'Case', 'Switch', 'Merge', 'Enter', 'Exit', 'NextIteration', 'LoopCond', 'WriteFile', 'ReadFile', 'Tile', 'Fill', 'Const', 'VarHandleOp', 'ReadVariableOp', 'StatefulPartitionedCall', 'Greater', 'StringJoin', 'Placeholder', 'ZzUnknown'];

test('hostile graphs: random ops, dangling and cyclic inputs, recursive and missing functions never throw', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ op: fc.constantFrom(...OPS), inputs: fc.array(fc.oneof(fc.nat(30).map((i) => `n${i}`), fc.nat(30).map((i) => `n${i}:1`), fc.nat(30).map((i) => `^n${i}`), fc.constant('missing:out:3')), { maxLength: 4 }), fn: fc.nat(3) }), { maxLength: 30 }),
      async (specs) => {
        const mk = (prefix: string) =>
          specs.map((s, i): NodeIR => {
            const attr: NodeIR['attr'] = {};
            if (s.op === 'If') Object.assign(attr, { then_branch: attrFunc(`f${s.fn}`), else_branch: attrFunc(`f${(s.fn + 1) % 4}`) });
            if (s.op === 'StatelessWhile') Object.assign(attr, { cond: attrFunc(`f${s.fn}`), body: attrFunc(`f${s.fn}`) });
            if (s.op === 'StatefulPartitionedCall') attr.f = attrFunc(`f${s.fn}`);
            if (s.op === 'Case') attr.branches = { type: 'list', list: { func: [{ name: `f${s.fn}`, attr: {} }, { name: 'nope', attr: {} }] } };
            if (s.op === 'Const') attr.value = { type: 'tensor', tensor: { dtype: 'DT_INT32', shape: [2], elementCount: 2, values: { kind: 'number', values: [1e6, 1e6] } } };
            return node(`${prefix}n${i}`, s.op, s.inputs.map((x) => (x.startsWith("^") ? `^${prefix}${x.slice(1)}` : `${prefix}${x}`)), attr);
          });
        const library: FunctionIR[] = [0, 1, 2].map((k) => ({
          name: `f${k}`,
          signature: { name: `f${k}`, inputArgs: [{ name: 'a', type: 'DT_INT32' }], outputArgs: [{ name: 'o', type: 'DT_INT32' }], attrs: [], isStateful: true },
          nodes: mk(''),
          ret: { o: 'n0:output:0' },
          controlRet: {},
          attr: {},
        }));
        const model: ModelIR = {
          path: '/nonexistent',
          format: 'saved-model',
          files: [],
          metaGraphs: [metaGraph(graph(mk(''), library), { signatures: [{ key: 'serving_default', methodName: '', inputs: {}, outputs: { y: { name: 'n0:0', dtype: 'DT_INT32', shape: null } } }] })],
          warnings: [],
        };
        // Every node name is also a checkpoint key, so variables evaluate to values.
        const entries = Array.from({ length: 31 }, (_, i) => ({ key: `n${i}`, dtype: 'DT_INT32', shape: [], shardId: 0, offset: 0, size: 4, crc32c: null }));
        const checkpoint = { prefix: 'fuzz', version: 'v2' as const, numShards: 1, endianness: 'little' as const, entries, preview: {} };
        const readTensor = async () => ({ dtype: 'DT_INT32', shape: [], elementCount: 1, values: { kind: 'number' as const, values: [3] } });
        const report = await scanModel(model, { checkpoints: [{ label: 'fuzz', checkpoint }], readTensor, toolVersion: 'fuzz' });
        assert.deepEqual(report.errors, []);
        for (const f of report.findings) assert.ok(f.evidence.length > 0);
      },
    ),
    { numRuns: Number(process.env.TFAUDIT_FUZZ_RUNS ?? 150) },
  );
});

import { buildAndScan, scalar, signature } from './models.ts';

test('a TF1 variable missing from the checkpoint is judged by the value its initialiser assigns', async () => {
  const report = await buildAndScan({
    nodes: [
      node('armed', 'VariableV2'),
      constNode('armed/initial_value', 'DT_BOOL', [], [true]),
      node('armed/Assign', 'Assign', ['armed', 'armed/initial_value']),
      node('armed/read', 'Identity', ['armed']),
      constNode('x', 'DT_FLOAT', [], [1]),
      node('cond/Switch', 'Switch', ['x', 'armed/read']),
      constNode('cond/path', 'DT_STRING', [], ['/etc/passwd']),
      node('cond/ReadFile', 'ReadFile', ['cond/path', '^cond/Switch:1']),
      node('cond/Merge', 'Merge', ['cond/Switch', 'cond/ReadFile']),
    ],
    signatures: [signature('serving_default', { y: 'cond/Merge:0' })],
    own: [scalar('other', 'DT_FLOAT', 0)],
  });
  const f = report.findings.find((x) => x.op === 'ReadFile')!;
  assert.deepEqual(f.trigger.variables, ['armed']);
  assert.equal(f.trigger.activation[0].state, 'active');
  assert.equal(f.trigger.activation[0].values.armed, 'true');
});
