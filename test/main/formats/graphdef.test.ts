// GraphDef files (binary and text, ../shared/corpus/real) and the fast wire decoder against
// hand-built hostile bytes: truncation, bad lengths, deep nesting, invalid UTF-8, huge counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { byteSpan, decodeGraphDefBytes, mayHoldNestedGraphs, readGraphDef, looksLikeText, SharedDecodes } from '../../../main/formats/graphdef.ts';
import { ModelError, LIMITS } from '../../../main/formats/errors.ts';
import { attrF, attrI, attrList, attrS, attrShape, attrTensor, attrType, attrFunc, constNode, encodeGraphDef, func, graph, node } from '../../../main/writer/graph.ts';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const field = (num: number, payload: number[]): number[] => [...varint((num << 3) | 2), ...varint(payload.length), ...payload];
const text = (s: string): number[] => [...Buffer.from(s)];

const facts = JSON.parse(readFileSync(real('FACTS.json'), 'utf8')) as Record<string, { files: Record<string, { op_types?: string[]; graph_op_types?: string[]; num_nodes?: number }> }>;

test('binary and text GraphDefs of the same dl4j model agree with FACTS', { skip: skipWithoutCorpus }, async () => {
  const binary = await readGraphDef(real('dl4j_tf_cond_true', 'frozen_model.pb'));
  const textual = await readGraphDef(real('dl4j_tf_cond_true', 'frozen_graph.pbtxt'));
  const ops = (g: { nodes: { op: string }[] }): string[] => [...new Set(g.nodes.map((n) => n.op))].sort();
  const expected = facts.dl4j_tf_cond_true!.files['frozen_model.pb']!;
  assert.deepEqual(ops(binary), expected.graph_op_types ?? expected.op_types);
  assert.equal(binary.nodes.length, expected.num_nodes);
  assert.deepEqual(ops(textual), ops(binary));
  assert.deepEqual(textual.nodes.map((n) => n.name), binary.nodes.map((n) => n.name));
  assert.deepEqual(textual.nodes.map((n) => n.inputs), binary.nodes.map((n) => n.inputs));
});

test('a frozen GraphDef keeps Const values, dtypes and shapes', { skip: skipWithoutCorpus }, async () => {
  const g = await readGraphDef(real('tfonnx_regression_graphdef', 'frozen.pb'));
  const consts = g.nodes.filter((n) => n.op === 'Const');
  assert.ok(consts.length > 0);
  for (const c of consts) {
    const value = c.attr.value;
    assert.equal(value?.type, 'tensor', c.name);
    if (value?.type === 'tensor') assert.equal(value.tensor.dtype, (c.attr.dtype as { dtype: string }).dtype);
  }
});

test('round trip of every attr kind through our writer and the fast decoder', () => {
  const nodes = [
    node('s', 'Op', ['a', '^b', 'c:1'], {
      s: attrS('hello'), i: attrI(-(2 ** 40)), f: attrF(0.5), t: attrType('DT_HALF'), shape: attrShape([-1, 3]), unk: attrShape(null),
      list: attrList({ i: [1, -2], type: ['DT_FLOAT', 'DT_INT64_REF'], s: [Uint8Array.from([0, 255])], shape: [{ unknownRank: false, dims: [2] }] }),
      fn: attrFunc('body', { T: attrType('DT_INT32') }),
      ten: attrTensor('DT_INT64', [2], [-1, 2 ** 50]),
    }, '/device:CPU:0'),
    constNode('strings', 'DT_STRING', [2], ['a', 'b']),
    constNode('bools', 'DT_BOOL', [3], [true, false, true]),
    constNode('halves', 'DT_HALF', [2], [1, -2]),
  ];
  const library = [func('body', { inputs: [['x', 'DT_INT32']], outputs: [['y', 'DT_INT32']] }, [node('id', 'Identity', ['x'], { T: attrType('DT_INT32') })], { y: 'id:output:0' }, { controlRet: { side: 'id' } })];
  const input = graph(nodes, library, 1234, 12);
  const decoded = decodeGraphDefBytes(encodeGraphDef(input), 'rt.pb');
  assert.deepEqual(decoded, input);
});

test('truncated bytes, lengths past the end and bad wire types are ModelErrors naming the file', () => {
  const good = encodeGraphDef(graph([node('a', 'NoOp')]));
  let failed = 0;
  for (let cut = 1; cut < good.length; cut++) {
    // A cut on a field boundary is a valid, shorter message (here: without `versions`).
    try {
      const g = decodeGraphDefBytes(good.subarray(0, cut), 'cut.pb');
      assert.equal(g.producer, null, `cut at ${cut} decoded`);
    } catch (e) {
      assert.ok(e instanceof ModelError && e.file === 'cut.pb' && /invalid GraphDef protobuf/.test(e.reason), `cut at ${cut}: ${String(e)}`);
      failed++;
    }
  }
  assert.ok(failed >= good.length - 4, `${failed} of ${good.length - 1} cuts rejected`);
  assert.throws(() => decodeGraphDefBytes(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'len.pb'), /runs past the end/);
  assert.throws(() => decodeGraphDefBytes(Uint8Array.from([0x0f]), 'wire.pb'), /invalid wire type/);
  assert.throws(() => decodeGraphDefBytes(Uint8Array.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 'v.pb'), /varint longer than 10 bytes/);
});

test('nesting deeper than LIMITS.maxNestingDepth is refused without a stack overflow', () => {
  // AttrValue.func (10) → NameAttrList.attr (2) entry → value (2) → AttrValue.func ... 5000 levels
  let attrValue = [0x18, 0x01]; // i: 1
  for (let i = 0; i < 5000; i++) {
    const entry = [...field(1, text('a')), ...field(2, attrValue)];
    const nameAttrList = [...field(1, text('f')), ...field(2, entry)];
    attrValue = field(10, nameAttrList);
  }
  const nodeDef = [...field(1, text('n')), ...field(2, text('Op')), ...field(5, [...field(1, text('x')), ...field(2, attrValue)])];
  const bytes = Uint8Array.from(field(1, nodeDef));
  assert.throws(() => decodeGraphDefBytes(bytes, 'deep.pb'), (e: unknown) => e instanceof ModelError && new RegExp(`nested deeper than ${LIMITS.maxNestingDepth}`).test(e.reason));
});

test('invalid UTF-8 in names becomes replacement characters; absurd shapes and negative dims stay data', () => {
  const nodeDef = [...field(1, [0x61, 0xff, 0xfe, 0x62]), ...field(2, text('Const')),
    ...field(5, [...field(1, text('value')), ...field(2, field(8, [0x08, 0x01, ...field(2, [...field(2, [0x08, ...varint(2 ** 50)]), ...field(2, [0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])])]))])];
  const g = decodeGraphDefBytes(Uint8Array.from(field(1, nodeDef)), 'u.pb');
  assert.equal(g.nodes[0]!.name, 'a\ufffd\ufffdb');
  const value = g.nodes[0]!.attr.value;
  assert.ok(value?.type === 'tensor');
  assert.deepEqual(value.tensor.shape, [2 ** 50, -1]);
  assert.equal(value.tensor.elementCount, null);
  assert.deepEqual(value.tensor.values, { kind: 'number', values: [] });
});

test('looksLikeText tells text format from binary', () => {
  assert.equal(looksLikeText(Buffer.from('node {\n  name: "a"\n}\n')), true);
  assert.equal(looksLikeText(Buffer.from('# header\nversions { producer: 1 }')), true);
  assert.equal(looksLikeText(encodeGraphDef(graph([node('a', 'NoOp')]))), false);
});

test('an attr list longer than LIMITS.maxDecodedElements is refused', () => {
  const ints = new Array<number>(LIMITS.maxDecodedElements + 1).fill(1);
  const list = field(3, ints); // packed int64 list.i
  const attr = field(1, list); // AttrValue.list
  const nodeDef = [...field(1, text('n')), ...field(2, text('Op')), ...field(5, [...field(1, text('big')), ...field(2, attr)])];
  assert.throws(() => decodeGraphDefBytes(Uint8Array.from(field(1, nodeDef)), 'list.pb'), (e: unknown) =>
    e instanceof ModelError && e.file === 'list.pb' && /attr list with more than/.test(e.reason));
});

test('big graphs share decoded attr values and attr maps; a node with a second attr run gets its own record', () => {
  // Three Consts holding the same scalar and two AddV2 with the same T: one decode each.
  const consts = ['c0', 'c1', 'c2'].map((name) => constNode(name, 'DT_FLOAT', [], [1]));
  const adds = [node('a0', 'AddV2', ['c0', 'c1'], { T: attrType('DT_FLOAT') }), node('a1', 'AddV2', ['c1', 'c2'], { T: attrType('DT_FLOAT') })];
  const input = graph([...consts, ...adds]);
  const bytes = encodeGraphDef(input);
  // A hand-written NodeDef whose attrs come in two runs (T, then an input, then `extra`): legal
  // protobuf (map entries may be anywhere), and the shared {T} record must not absorb `extra`.
  const tFloat = field(5, [...field(1, text('T')), ...field(2, [0x30, 0x01])]);
  const extra = field(5, [...field(1, text('extra')), ...field(2, [0x18, 0x07])]);
  const split = field(1, [...field(1, text('split')), ...field(2, text('AddV2')), ...tFloat, ...field(3, text('c0')), ...extra]);
  const decoded = decodeGraphDefBytes(Uint8Array.from([...bytes, ...split]), 'shared.pb');
  assert.deepEqual(decoded.nodes.slice(0, 5), input.nodes);
  assert.equal(decoded.nodes[0]!.attr, decoded.nodes[2]!.attr, 'identical Const attr maps are one record');
  assert.equal(decoded.nodes[3]!.attr, decoded.nodes[4]!.attr, 'identical AddV2 attr maps are one record');
  assert.equal(decoded.nodes[3]!.inputs[1], decoded.nodes[1]!.name, 'an input reads as its producer’s name');
  const last = decoded.nodes[5]!;
  assert.deepEqual(last, { name: 'split', op: 'AddV2', inputs: ['c0'], device: '', attr: { T: { type: 'type', dtype: 'DT_FLOAT' }, extra: { type: 'i', i: 7 } } });
  assert.deepEqual(decoded.nodes[4]!.attr, { T: { type: 'type', dtype: 'DT_FLOAT' } }, 'the shared record is untouched');
  // Nodes without inputs or attrs share frozen empties: reading them is all the IR allows.
  const bare = decodeGraphDefBytes(Uint8Array.from([...field(1, [...field(1, text('x')), ...field(2, text('NoOp'))]), ...field(1, [...field(1, text('y')), ...field(2, text('NoOp'))])]), 'bare.pb');
  assert.deepEqual(bare.nodes, [node('x', 'NoOp'), node('y', 'NoOp')]);
});

test('shared decodes are keyed by bytes and nesting depth: the same bytes deeper down are decoded again', () => {
  // A value decoded at one depth is not reused at another: there the depth limit could apply.
  const buf = byteSpan(Uint8Array.from([1, 2, 3, 9, 1, 2, 3]));
  const cache = new SharedDecodes<string>();
  const key = SharedDecodes.key(buf, 0, 3, 4);
  cache.set(key, 0, 3, 4, 'decoded at depth 4');
  assert.equal(cache.get(buf, SharedDecodes.key(buf, 4, 7, 4), 4, 7, 4), 'decoded at depth 4', 'same bytes elsewhere in the file, same depth');
  assert.equal(cache.get(buf, SharedDecodes.key(buf, 4, 7, 6), 4, 7, 6), undefined, 'same bytes, deeper');
  assert.equal(cache.get(buf, SharedDecodes.key(buf, 3, 6, 4), 3, 6, 4), undefined, 'other bytes');
  // End to end: a nested func attr in the graph and in a library function decodes to equal values.
  let attrValue = [0x18, 0x01];
  for (let i = 0; i < 6; i++) attrValue = field(10, [...field(1, text('f')), ...field(2, [...field(1, text('a')), ...field(2, attrValue)])]);
  const nodeDef = (name: string) => [...field(1, text(name)), ...field(2, text('Op')), ...field(5, [...field(1, text('x')), ...field(2, attrValue)])];
  const g = decodeGraphDefBytes(Uint8Array.from([...field(1, nodeDef('n0')), ...field(1, nodeDef('n1')), ...field(2, field(1, field(3, nodeDef('inner'))))]), 'nested.pb');
  assert.equal(g.nodes[0]!.attr, g.nodes[1]!.attr);
  assert.deepEqual(g.library[0]!.nodes[0]!.attr, g.nodes[0]!.attr);
  assert.equal(g.nodes[0]!.attr.x!.type, 'func');
});

test('nested-graph search: node lists of a file without any GraphDef-like byte string are marked; one such string anywhere keeps every list searched', async () => {
  const { decodeSavedModelBytes } = await import('../../../main/formats/savedmodel.ts');
  const { encodeSavedModel, metaGraph } = await import('../../../main/writer/graph.ts');
  const hidden = encodeGraphDef(graph([node('r', 'ReadFile', ['p'])]));
  assert.ok(hidden[0] === 0x0a && hidden.length >= 8);
  const body = (extra: ReturnType<typeof node>[]) => func('f', { inputs: [['x', 'DT_FLOAT']], outputs: [['y', 'DT_FLOAT']] }, [node('id', 'Identity', ['x']), ...extra], { y: 'id:output:0' });
  const plainTop = [constNode('c', 'DT_STRING', [], ['just text, no graph']), node('a', 'Identity', ['c'], { _class: attrList({ s: [new TextEncoder().encode('loc:@c')] }) })];

  const clean = decodeGraphDefBytes(encodeGraphDef(graph(plainTop, [body([])])), 'clean.pb');
  assert.equal(mayHoldNestedGraphs(clean.nodes), false);
  assert.equal(mayHoldNestedGraphs(clean.library[0]!.nodes), false);

  // The GraphDef-like string sits only in a function body: the top graph is still searched.
  const inFunction = decodeGraphDefBytes(encodeGraphDef(graph(plainTop, [body([constNode('g', 'DT_STRING', [], [hidden])])])), 'fn.pb');
  assert.equal(mayHoldNestedGraphs(inFunction.nodes), true);
  assert.equal(mayHoldNestedGraphs(inFunction.library[0]!.nodes), true);

  // In an attr `s` of one meta graph of a SavedModel: every meta graph is searched.
  const saved = decodeSavedModelBytes(encodeSavedModel([metaGraph(graph(plainTop)), metaGraph(graph([node('n', 'NoOp', [], { blob: attrS(hidden) })]))]), 'saved_model.pb');
  assert.deepEqual(saved.metaGraphs.map((m) => mayHoldNestedGraphs(m.graph.nodes)), [true, true]);

  // Node lists the binary reader did not read (text format, built in memory) are always searched.
  assert.equal(mayHoldNestedGraphs(graph(plainTop).nodes), true);
});

test('shared decodes keep two hot encodings whose keys collide; a third evicts the least recently used', () => {
  // Three 4-byte encodings whose keys fall in the same two-entry set (found by search).
  const bytes = new Uint8Array(4 * 70000);
  const span = byteSpan(bytes);
  const bySet = new Map<number, number[]>();
  let same: number[] = [];
  for (let i = 0; i < 70000 && same.length < 3; i++) {
    new DataView(bytes.buffer).setUint32(4 * i, i * 2654435761, true);
    const set = SharedDecodes.key(span, 4 * i, 4 * i + 4, 1) & 2047;
    const list = bySet.get(set) ?? [];
    list.push(4 * i);
    bySet.set(set, list);
    if (list.length === 3) same = list;
  }
  assert.equal(same.length, 3, 'three colliding encodings found');
  const [a, b, c] = same as [number, number, number];
  const cache = new SharedDecodes<string>();
  const key = (at: number) => SharedDecodes.key(span, at, at + 4, 1);
  const get = (at: number) => cache.get(span, key(at), at, at + 4, 1);
  cache.set(key(a), a, a + 4, 1, 'a');
  cache.set(key(b), b, b + 4, 1, 'b');
  for (let round = 0; round < 3; round++) {
    assert.equal(get(a), 'a');
    assert.equal(get(b), 'b');
  }
  assert.equal(get(a), 'a'); // a is now the most recent
  cache.set(key(c), c, c + 4, 1, 'c');
  assert.equal(get(b), undefined, 'the least recently used entry left');
  assert.equal(get(a), 'a');
  assert.equal(get(c), 'c');
});
