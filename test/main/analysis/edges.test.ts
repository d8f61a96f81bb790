// Exact edge resolution: `node:out:i` inside functions becomes a flat output index from the
// op's OpDef and the node's attrs (number_attr, type_list_attr); graph-level `node:k` is flat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildScope, dataUsesOfMarked, edgesOf, flatOutputIndex, NameIndex, nodesOf, opIndex, parseInputName } from '../../../main/analysis/edges.ts';
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
  assert.deepEqual(edgesOf(scope, 1), [
    { source: { kind: 'arg', arg: 0 }, control: false },
    { source: { kind: 'node', node: 0, output: 1 }, control: false },
    { source: { kind: 'node', node: 0, output: 0 }, control: true },
  ]);
  assert.deepEqual(scope.rets, [{ kind: 'node', node: 1, output: 0 }]);
});

/** The reading parseInputName had before it stopped splitting: the reference it must match. */
function splitReading(text: string) {
  const control = text.startsWith('^');
  const body = control ? text.slice(1) : text;
  const parts = body.split(':');
  if (parts.length >= 3) {
    const index = Number(parts[parts.length - 1]);
    return { control, node: parts.slice(0, parts.length - 2).join(':'), port: parts[parts.length - 2], index: Number.isInteger(index) ? index : 0 };
  }
  if (parts.length === 2) {
    const index = Number(parts[1]);
    if (Number.isInteger(index) && index >= 0) return { control, node: parts[0], port: null, index };
    return { control, node: parts[0], port: parts[1], index: 0 };
  }
  return { control, node: body, port: null, index: 0 };
}

test('input names parse as split(":") reads them, for any text (hostile names included)', () => {
  const piece = fc.constantFrom('^', ':', 'a', 'x/y', '0', '7', '-1', '1.5', ' ', '', 'out', '1e3', '0x1');
  fc.assert(fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
    const text = pieces.join('');
    assert.deepEqual(parseInputName(text), splitReading(text));
  }), { numRuns: 3000 });
  for (const text of ['', ':', '::', '^', '^:', 'a::', ':1', 'a:b:c:d', '^a:b:1']) assert.deepEqual(parseInputName(text), splitReading(text), text);
});

test('graph-level plain inputs share one Edge per producer; control and indexed inputs keep their own', () => {
  const g = graph([node('c', 'Const'), node('a', 'AddV2', ['c', 'c']), node('b', 'AddV2', ['c', 'c:1', '^c', 'gone'])]);
  const scope = buildScope(0, null, g.nodes, lookup);
  assert.deepEqual(edgesOf(scope, 0), []);
  assert.deepEqual(edgesOf(scope, 2), [
    { source: { kind: 'node', node: 0, output: 0 }, control: false },
    { source: { kind: 'node', node: 0, output: 1 }, control: false },
    { source: { kind: 'node', node: 0, output: 0 }, control: true },
    { source: { kind: 'missing', text: 'gone' }, control: false },
  ]);
  assert.equal(edgesOf(scope, 1)![0], edgesOf(scope, 1)![1]);
  assert.equal(edgesOf(scope, 1)![0], edgesOf(scope, 2)![0]);
  assert.notEqual(edgesOf(scope, 2)![0], edgesOf(scope, 2)![2]);
});

/** The reading buildScope must agree with: one Map of names (the last node of a name wins), each input parsed in full. */
function referenceEdges(nodes: ReturnType<typeof node>[]): { kind: string; node?: number; output?: number; text?: string; control: boolean }[][] {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => index.set(n.name, i));
  return nodes.map((n) =>
    n.inputs.map((text) => {
      const p = parseInputName(text);
      const at = index.get(p.node);
      if (at === undefined) return { kind: 'missing', text, control: p.control };
      return { kind: 'node', node: at, output: p.port === null ? p.index : p.index, control: p.control };
    }),
  );
}

test('graph-level resolution agrees with a plain Map reading: repeated names, later producers, `^`, `:` and odd names', () => {
  // Names drawn from a small pool so that repeats, self references and names holding ':' or '^' occur.
  const name = fc.constantFrom('a', 'b', 'a/b', 'c:1', '^d', 'd', 'e', 'x:y', '', '0');
  const input = fc.tuple(fc.constantFrom('', '^'), name, fc.constantFrom('', ':0', ':1', ':12', ':01', ':', ':x', ':-1')).map(([c, n, s]) => `${c}${n}${s}`);
  fc.assert(
    fc.property(fc.array(fc.tuple(name, fc.array(input, { maxLength: 4 })), { minLength: 1, maxLength: 12 }), (spec) => {
      const nodes = spec.map(([n, inputs]) => node(n, 'Identity', inputs));
      const scope = buildScope(0, null, nodes, lookup);
      const got = nodes.map((_, i) => edgesOf(scope, i).map((e) => (e.source.kind === 'node' ? { kind: 'node', node: e.source.node, output: e.source.output, control: e.control } : e.source.kind === 'missing' ? { kind: 'missing', text: e.source.text, control: e.control } : { kind: 'arg', control: e.control })));
      assert.deepEqual(got, referenceEdges(nodes));
    }),
    { numRuns: 3000 },
  );
});

test('inputs naming the previous node, an earlier one, and a later one resolve alike', () => {
  const g = graph([node('p', 'Const'), node('q', 'Const'), node('r', 'AddV2', ['q', 'p']), node('s', 'AddV2', ['r', 'later']), node('later', 'Const'), node('t', 'AddV2', ['p', 'r:1'])]);
  const scope = buildScope(0, null, g.nodes, lookup);
  const sources = (i: number) => edgesOf(scope, i).map((e) => (e.source.kind === 'node' ? `${e.source.node}:${e.source.output}` : e.source.kind));
  assert.deepEqual(sources(2), ['1:0', '0:0']);
  assert.deepEqual(sources(3), ['2:0', '4:0']);
  assert.deepEqual(sources(5), ['0:0', '2:1']);
});

test('the op index lists every node under its op, in node order, however the ops alternate', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('Const', 'AddV2', 'Identity', 'Switch'), { maxLength: 40 }), (ops) => {
      const scope = buildScope(0, null, ops.map((op, i) => node(`n${i}`, op)), lookup);
      const expected = new Map<string, number[]>();
      ops.forEach((op, i) => expected.set(op, [...(expected.get(op) ?? []), i]));
      assert.deepEqual(new Map([...opIndex(scope)].sort()), new Map([...expected].sort()));
      assert.deepEqual(nodesOf(scope, (op) => op !== 'Const'), ops.flatMap((op, i) => (op !== 'Const' ? [i] : [])));
    }),
    { numRuns: 500 },
  );
});

/** Data readers of `producer` read off each node's edges: (reader, data input slot). */
function dataUses(scope: ReturnType<typeof buildScope>, producer: number): { node: number; slot: number }[] {
  const out: { node: number; slot: number }[] = [];
  scope.nodes.forEach((_, reader) => {
    let slot = 0;
    for (const e of edgesOf(scope, reader)) {
      if (e.control) continue;
      if (e.source.kind === 'node' && e.source.node === producer) out.push({ node: reader, slot });
      slot++;
    }
  });
  return out;
}

test('data readers of marked producers match every node\'s own edges, slot by slot', () => {
  const input = fc.tuple(fc.constantFrom('', '^'), fc.integer({ min: 0, max: 7 }), fc.constantFrom('', ':1')).map(([c, n, s]) => `${c}n${n}${c ? '' : s}`);
  fc.assert(
    fc.property(fc.array(fc.array(input, { maxLength: 4 }), { minLength: 8, maxLength: 8 }), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (inputs, marks) => {
      const scope = buildScope(0, null, inputs.map((ins, i) => node(`n${i}`, 'Identity', ins)), lookup);
      const uses = dataUsesOfMarked(scope, Uint8Array.from(marks.map(Number)));
      marks.forEach((m, i) => assert.deepEqual(uses.get(i) ?? [], m ? dataUses(scope, i) : []));
    }),
    { numRuns: 500 },
  );
});

test('function-body resolution agrees with the full reading: args, `node:out:i`, ports of list outputs, `^`, missing', () => {
  // Split has one output arg `output` of number_attr num_split; Unique has `y` then `idx`.
  const opLookup = opDefLookup(graph([]));
  const bodyNodes = [
    node('s', 'Split', ['x', 'x'], { num_split: attrI(3) }),
    node('u', 'Unique', ['x']),
    node('x', 'Identity', ['x']),
  ];
  const name = fc.constantFrom('s', 'u', 'x', 'y', 'gone', 's:output');
  const port = fc.constantFrom('', ':output', ':y', ':idx', ':nope', ':');
  const elem = fc.constantFrom('', ':0', ':2', ':01', ':x', ':-1');
  const input = fc.tuple(fc.constantFrom('', '^'), name, port, elem).map(([c, n, p, e]) => `${c}${n}${p}${e}`);
  fc.assert(
    fc.property(fc.array(input, { minLength: 1, maxLength: 6 }), (inputs) => {
      const nodes = [...bodyNodes, node('t', 'IdentityN', inputs)];
      const body: FunctionIR = {
        name: 'f',
        signature: { name: 'f', inputArgs: [{ name: 'x', type: 'DT_FLOAT' }, { name: 'y', type: 'DT_FLOAT' }], outputArgs: [], attrs: [], isStateful: false },
        nodes,
        ret: {},
        controlRet: {},
        attr: {},
      };
      const scope = buildScope(1, body, nodes, opLookup);
      const index = new Map(nodes.map((n, i) => [n.name, i]));
      const args = new Map([['x', 0], ['y', 1]]);
      const expected = inputs.map((text) => {
        const p = parseInputName(text);
        if (!text.includes(':') && !(p.control && index.has(p.node)) && args.has(p.node)) return { source: { kind: 'arg', arg: args.get(p.node) }, control: p.control };
        const at = index.get(p.node);
        if (at === undefined) return args.has(p.node) ? { source: { kind: 'arg', arg: args.get(p.node) }, control: p.control } : { source: { kind: 'missing', text }, control: p.control };
        const output = p.port === null ? p.index : (flatOutputIndex(nodes[at]!, p.port, p.index, opLookup) ?? p.index);
        return { source: { kind: 'node', node: at, output }, control: p.control };
      });
      assert.deepEqual(edgesOf(scope, nodes.length - 1), expected);
    }),
    { numRuns: 3000 },
  );
});

test('the name index answers as a Map of the names would (the last node of a name wins), small and large', () => {
  const check = (names: string[]) => {
    const index = new NameIndex(names);
    const map = new Map<string, number>();
    names.forEach((name, i) => map.set(name, i));
    for (const [name, i] of map) {
      assert.equal(index.get(name), i, name);
      assert.equal(index.getRange(`<${name}>`, 1, name.length + 1), i, name);
    }
    assert.equal(index.repeated, map.size < names.length);
    for (const absent of ['', 'absent', `${names[0] ?? ''}x`]) if (!map.has(absent)) assert.equal(index.get(absent), undefined);
  };
  fc.assert(fc.property(fc.array(fc.string({ maxLength: 4 }), { maxLength: 60 }), check), { numRuns: 1000 });
  // Enough names for every directory bit and radix pass; a few repeats spread through.
  const many = Array.from({ length: 50_000 }, (_, i) => `layer_${i % 49_990}/wé`);
  check(many);
  check(many.slice(0, 49_990));
});
