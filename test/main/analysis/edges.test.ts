// Exact edge resolution: `node:out:i` inside functions becomes a flat output index from the
// op's OpDef and the node's attrs (number_attr, type_list_attr); graph-level `node:k` is flat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildScope, flatOutputIndex, parseInputName } from '../../../main/analysis/edges.ts';
import { opDefLookup } from '../../../main/analysis/callgraph.ts';
import { attrI, attrList, graph, node } from '../../../main/writer/graph.ts';
import type { FunctionIR } from '../../../shared/ir.ts';

const lookup = opDefLookup(graph([]));

test('input names: control, flat index, output arg', () => {
  assert.deepEqual(parseInputName('^a/b'), { control: true, node: 'a/b', port: null, index: 0 });
  assert.deepEqual(parseInputName('x:3'), { control: false, node: 'x', port: null, index: 3 });
  assert.deepEqual(parseInputName('split:output:2'), { control: false, node: 'split', port: 'output', index: 2 });
});

test('flat output index from number_attr and type_list_attr lengths', () => {
  // Unpack has one output arg of number_attr num; ParseExampleV2 has several list outputs.
  const unpack = node('u', 'Unpack', ['x'], { num: attrI(4) });
  assert.equal(flatOutputIndex(unpack, 'output', 3, lookup), 3);
  const parse = node('p', 'ParseExampleV2', [], {
    num_sparse: attrI(2),
    sparse_types: attrList({ type: ['DT_INT64', 'DT_FLOAT'] }),
    Tdense: attrList({ type: ['DT_FLOAT'] }),
    ragged_value_types: attrList({ type: [] }),
    ragged_split_types: attrList({ type: [] }),
  });
  // sparse_indices (2), sparse_values (2), sparse_shapes (2), then dense_values.
  assert.equal(flatOutputIndex(parse, 'dense_values', 0, lookup), 6);
  assert.equal(flatOutputIndex(parse, 'sparse_values', 1, lookup), 3);
});

test('function bodies: args by name, node:out:i, control inputs, and the library signature for calls', () => {
  const callee: FunctionIR = {
    name: 'two_outputs',
    signature: { name: 'two_outputs', inputArgs: [], outputArgs: [{ name: 'a', type: 'DT_FLOAT' }, { name: 'b', type: 'DT_FLOAT' }], attrs: [], isStateful: false },
    nodes: [],
    ret: {},
    controlRet: {},
    attr: {},
  };
  const fnLookup = opDefLookup(graph([], [callee]));
  const body: FunctionIR = {
    name: 'f',
    signature: { name: 'f', inputArgs: [{ name: 'x', type: 'DT_FLOAT' }], outputArgs: [{ name: 'y', type: 'DT_FLOAT' }], attrs: [], isStateful: false },
    nodes: [node('c', 'two_outputs'), node('add', 'AddV2', ['x', 'c:b:0', '^c'])],
    ret: { y: 'add:z:0' },
    controlRet: {},
    attr: {},
  };
  const scope = buildScope(1, body, body.nodes, fnLookup);
  assert.deepEqual(scope.edges[1], [
    { source: { kind: 'arg', arg: 0 }, control: false },
    { source: { kind: 'node', node: 0, output: 1 }, control: false },
    { source: { kind: 'node', node: 0, output: 0 }, control: true },
  ]);
  assert.deepEqual(scope.rets, [{ kind: 'node', node: 1, output: 0 }]);
});
