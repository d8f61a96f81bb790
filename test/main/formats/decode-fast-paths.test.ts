// The big-graph fast paths of the wire decoder and the model open path, against the general
// path (protobufjs reflection + toGraphIR) and against plain reads and hashes:
// - a generated 30k-node graph built to defeat the decode caches (distinct, permuted and
//   colliding attr maps, big and small tensors, 0..40 inputs, UTF-8, invalid UTF-8, long names);
// - every binary protobuf of ../shared/corpus/real decoded from shared memory (how big files
//   are read) gives the same IR, which holds no view of the file and survives structuredClone;
// - readProtoFile, the thread-hashed held file and listModelFiles; the one-pass summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttrValue, GraphIR, ModelIR, NodeIR } from '../../../shared/ir.ts';
import { decodeGraphDefBytes, readProtoFile } from '../../../main/formats/graphdef.ts';
import { decodeSavedModelBytes } from '../../../main/formats/savedmodel.ts';
import { decodeMetaGraphDefBytes } from '../../../main/formats/metagraph.ts';
import { protoTypes, toGraphIR } from '../../../main/formats/protobuf.ts';
import { HASH_OFF_THREAD, hashHeldBytes, listModelFiles, startModelFileListing, type HeldFile } from '../../../main/formats/files.ts';
import { LIMITS, ModelError } from '../../../main/formats/errors.ts';
import { opCounts, summarizeModel } from '../../../main/formats/summary.ts';
import { graphOnlyMetaGraph, openModel } from '../../../main/formats/index.ts';
import { attrB, attrF, attrI, attrList, attrS, attrShape, attrTensor, attrType, encodeGraphDef, graph, node } from '../../../main/writer/graph.ts';
import { REAL, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

/** The off-thread threshold, lowered so these tests use 1 MB files instead of 64 MB ones. */
const SMALL_THRESHOLD = 1024 * 1024;
HASH_OFF_THREAD.minBytes = SMALL_THRESHOLD;

/** A deterministic generator (xorshift32), so a failure names a reproducible graph. */
function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** The attrs in a shuffled insertion order: protobuf writes map entries in that order. */
function shuffled(attrs: Record<string, AttrValue>, rnd: () => number): Record<string, AttrValue> {
  const keys = Object.keys(attrs);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  return Object.fromEntries(keys.map((k) => [k, attrs[k]!]));
}

function generatedGraph(count: number, seed: number): GraphIR {
  const rnd = random(seed);
  const nodes: NodeIR[] = [];
  const names: string[] = [];
  const pick = () => names[Math.floor(rnd() * names.length)]!;
  for (let i = 0; i < count; i++) {
    const kind = i % 7;
    const name = kind === 5 ? `ünïcode/节点_${i}` : kind === 6 ? `model/very_long_scope_name_that_is_past_the_intern_limit/layer_${i}/MatMul` : `g/n${i}`;
    let n: NodeIR;
    if (kind === 0 || names.length === 0) {
      // Scalars from a small pool (shared decodes hit) and from a big one (slots collide).
      const value = rnd() < 0.5 ? Math.floor(rnd() * 4) : Math.fround(Math.floor(rnd() * 100000) / 7);
      n = node(name, 'Const', [], shuffled({ value: attrTensor('DT_FLOAT', [], [value]), dtype: attrType('DT_FLOAT'), _class: attrList({ s: [new TextEncoder().encode(`loc:@${pick() ?? 'x'}`)] }) }, rnd));
    } else if (kind === 1) {
      const values = Array.from({ length: 64 + Math.floor(rnd() * 64) }, () => Math.fround(rnd()));
      n = node(name, 'Const', [], shuffled({ value: attrTensor('DT_FLOAT', [values.length], values), dtype: attrType('DT_FLOAT') }, rnd));
    } else if (kind === 2) {
      const inputs = Array.from({ length: Math.floor(rnd() * 41) }, (_, k) => (k % 9 === 8 ? `^${pick()}` : k % 5 === 4 ? `${pick()}:${k}` : pick()));
      n = node(name, 'AddN', inputs, shuffled({ T: attrType('DT_FLOAT'), N: attrI(inputs.length), _output_shapes: attrList({ shape: [attrShapeIR(rnd)] }) }, rnd));
    } else if (kind === 3) {
      n = node(name, 'AddV2', [pick(), pick()], { T: attrType(rnd() < 0.5 ? 'DT_FLOAT' : 'DT_INT32') }, rnd() < 0.3 ? '/device:CPU:0' : '');
    } else {
      n = node(name, 'Identity', [pick()], shuffled({ T: attrType('DT_FLOAT'), flag: attrB(rnd() < 0.5), scale: attrF(Math.fround(rnd())), note: attrS(`note ${Math.floor(rnd() * 50)}`), shape: attrShape([Math.floor(rnd() * 4), -1]) }, rnd));
    }
    nodes.push(n);
    names.push(name);
  }
  return graph(nodes);
}

function attrShapeIR(rnd: () => number) {
  return { unknownRank: false, dims: [Math.floor(rnd() * 3), 8] };
}

/** Bytes in a SharedArrayBuffer, as readProtoFile holds files of HASH_OFF_THREAD.minBytes and more. */
function inSharedMemory(bytes: Uint8Array): Buffer {
  const shared = Buffer.from(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  return shared;
}

/** Every typed array or DataView reachable from `value`. */
function views(value: unknown, out: ArrayBufferView[] = [], seen = new Set<object>()): ArrayBufferView[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    out.push(value);
    return out;
  }
  for (const child of Array.isArray(value) ? value : Object.values(value)) views(child, out, seen);
  return out;
}

function assertNoViewOf(ir: unknown, file: ArrayBufferLike, label: string): void {
  for (const view of views(ir)) {
    assert.notEqual(view.buffer, file, `${label}: the IR holds a view of the file's memory`);
    assert.ok(!(view.buffer instanceof SharedArrayBuffer), `${label}: the IR holds shared memory`);
  }
}

test('a generated 30k-node graph that defeats the decode caches decodes as protobufjs reflection does, from plain and shared memory', () => {
  const input = generatedGraph(30_000, 15);
  const bytes = encodeGraphDef(input);
  const reflected = toGraphIR(protoTypes.GraphDef.decode(bytes), 'generated.pb');
  const fast = decodeGraphDefBytes(bytes, 'generated.pb');
  assert.deepEqual(fast, reflected);
  assert.deepEqual(fast.nodes, input.nodes, 'and as the graph was built');
  const shared = inSharedMemory(bytes);
  const fromShared = decodeGraphDefBytes(shared, 'generated.pb');
  assert.deepEqual(fromShared, reflected);
  assertNoViewOf(fromShared, shared.buffer, 'generated.pb');
  // Each node owns its inputs (gathered in a scratch array, then copied out).
  const withInputs = fast.nodes.filter((n) => n.inputs.length > 0);
  assert.equal(new Set(withInputs.map((n) => n.inputs)).size, withInputs.length);
  assert.ok(withInputs.some((n) => n.inputs.length === 40 || n.inputs.length > 30), 'long input lists are in the sample');
});

test('names with invalid UTF-8 and inputs split around attr runs decode as reflection does', () => {
  // NodeDef fields in any order, repeated inputs interleaved with attrs and device: legal protobuf.
  const field = (num: number, payload: number[]): number[] => [(num << 3) | 2, payload.length, ...payload];
  const text = (s: string): number[] => [...Buffer.from(s)];
  const bad = [0x62, 0xff, 0x61, 0xc3]; // 'b', invalid byte, 'a', truncated 2-byte sequence
  const producer = field(1, [...field(1, bad), ...field(2, text('Const'))]);
  const consumer = field(1, [
    ...field(3, bad), ...field(5, [...field(1, text('T')), ...field(2, [0x30, 0x01])]), ...field(1, text('c')),
    ...field(3, text('^x')), ...field(4, text('/cpu:0')), ...field(2, text('AddV2')), ...field(3, [...bad, ...text(':1')]),
  ]);
  const bytes = Uint8Array.from([...producer, ...consumer, ...producer]);
  const fast = decodeGraphDefBytes(bytes, 'utf8.pb');
  assert.deepEqual(fast, toGraphIR(protoTypes.GraphDef.decode(bytes), 'utf8.pb'));
  assert.equal(fast.nodes[0]!.name, 'b\ufffda\ufffd');
  assert.deepEqual(fast.nodes[1]!.inputs, ['b\ufffda\ufffd', '^x', 'b\ufffda\ufffd:1']);
  assert.equal(fast.nodes[1]!.inputs[0], fast.nodes[2]!.name);
});

/** Every binary SavedModel / MetaGraphDef / GraphDef file FACTS.json lists. */
function corpusProtoFiles(): { file: string; decode: (bytes: Uint8Array, file: string) => unknown }[] {
  const facts = JSON.parse(readFileSync(join(REAL, 'FACTS.json'), 'utf8')) as Record<string, { files: Record<string, { kind: string | null }> }>;
  const decoders: Record<string, (bytes: Uint8Array, file: string) => unknown> = {
    saved_model: (b, f) => decodeSavedModelBytes(b, f).metaGraphs,
    metagraph: decodeMetaGraphDefBytes,
    graphdef: decodeGraphDefBytes,
  };
  const out: { file: string; decode: (bytes: Uint8Array, file: string) => unknown }[] = [];
  for (const [folder, entry] of Object.entries(facts)) {
    for (const [name, info] of Object.entries(entry.files)) {
      const decode = info.kind ? decoders[info.kind] : undefined;
      const file = join(REAL, folder, name);
      if (!decode || !existsSync(file) || !statSync(file).isFile()) continue;
      const head = readFileSync(file).subarray(0, 64);
      if (head.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127))) continue; // text format
      out.push({ file, decode });
    }
  }
  return out;
}

test('every corpus protobuf (Keras exports included) decodes the same from shared memory; the IR holds no view of the file and clones', { skip: skipWithoutCorpus }, () => {
  let compared = 0;
  for (const { file, decode } of corpusProtoFiles()) {
    const plain = readFileSync(file);
    const ir = decode(plain, file);
    const shared = inSharedMemory(plain);
    const fromShared = decode(shared, file);
    assert.deepEqual(fromShared, ir, file);
    assertNoViewOf(ir, plain.buffer, file);
    assertNoViewOf(fromShared, shared.buffer, file);
    assert.deepEqual(structuredClone(fromShared), ir, `${file}: structured clone`);
    compared++;
  }
  assert.ok(compared >= 60, `compared ${compared} files`);
});

test('readProtoFile reads the whole file, big files into shared memory, within the size limit', async () => {
  const dir = tempDir();
  const small = join(dir, 'small.pb');
  writeFileSync(small, Uint8Array.from([8, 1, 18, 0]));
  const smallRead = await readProtoFile(small, false);
  assert.deepEqual([...smallRead], [8, 1, 18, 0]);
  assert.ok(!(smallRead.buffer instanceof SharedArrayBuffer));
  assert.equal(smallRead.buffer.byteLength, 4, 'its own memory, not a slice of a pool');

  const big = join(dir, 'big.pb');
  const data = Buffer.alloc(SMALL_THRESHOLD + 12345);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i >>> 12) & 0xff;
  writeFileSync(big, data);
  const bigRead = await readProtoFile(big, false);
  assert.ok(bigRead.buffer instanceof SharedArrayBuffer);
  assert.ok(bigRead.equals(data));

  const empty = join(dir, 'empty.pb');
  writeFileSync(empty, '');
  assert.equal((await readProtoFile(empty, false)).length, 0);

  const limits = LIMITS as { maxProtoBytes: number };
  const saved = limits.maxProtoBytes;
  limits.maxProtoBytes = 3;
  try {
    await assert.rejects(readProtoFile(small, false), (e: unknown) => e instanceof ModelError && e.file === small && /larger than the 3-byte limit/.test(e.reason));
  } finally {
    limits.maxProtoBytes = saved;
  }
  await assert.rejects(readProtoFile(join(dir, 'missing.pb'), false), (e: unknown) => e instanceof ModelError && /cannot read file/.test(e.reason));
});

test('a big held file is hashed on a worker thread; listModelFiles takes held hashes and rereads on a size mismatch', async () => {
  const dir = tempDir();
  const data = Buffer.alloc(SMALL_THRESHOLD + 1, 0x5a);
  writeFileSync(join(dir, 'saved_model.pb'), data);
  writeFileSync(join(dir, 'other.bin'), 'other');
  const expected = createHash('sha256').update(data).digest('hex');
  assert.equal(await hashHeldBytes(inSharedMemory(data)).sha256, expected, 'thread hash');
  assert.equal(await hashHeldBytes(Uint8Array.from(data)).sha256, expected, 'in-place hash of unshared bytes');

  // A held hash is used as is (the file is not read again): a marker proves it.
  const marker = 'f'.repeat(64);
  const held = new Map<string, HeldFile>([[join(dir, 'saved_model.pb'), { size: data.length, sha256: Promise.resolve(marker) }]]);
  const listed = await listModelFiles(dir, [], true, held);
  assert.deepEqual(listed.map((f) => [f.path, f.sha256]), [['other.bin', createHash('sha256').update('other').digest('hex')], ['saved_model.pb', marker]]);
  // Changed size since it was read, or a failed thread hash: hashed from disk.
  const stale = new Map<string, HeldFile>([[join(dir, 'saved_model.pb'), { size: 3, sha256: Promise.resolve(marker) }]]);
  assert.equal((await listModelFiles(dir, [], true, stale))[1]!.sha256, expected);
  const failed = new Map<string, HeldFile>([[join(dir, 'saved_model.pb'), { size: data.length, sha256: Promise.resolve(null) }]]);
  assert.equal((await listModelFiles(dir, [], true, failed))[1]!.sha256, expected);
  // A single file given directly uses its held hash too.
  const single = await listModelFiles(join(dir, 'saved_model.pb'), [], true, held);
  assert.deepEqual(single, [{ path: 'saved_model.pb', size: data.length, sha256: marker }]);
});

test('the summary counts ops and finds variables in one pass; ops named like Object members count too', () => {
  const nodes: NodeIR[] = [
    node('v', 'VariableV2', [], { dtype: attrType('DT_FLOAT'), shape: attrShape([2]), shared_name: attrS('') }),
    node('c', 'constructor'),
    node('p', '__proto__'),
    node('p2', '__proto__'),
    node('h', 'VarHandleOp', [], { dtype: attrType('DT_INT32'), shape: attrShape([]), shared_name: attrS('handle') }),
    node('t', 'toString'),
    node('h2', 'VarHandleOp', [], { dtype: attrType('DT_INT32'), shape: attrShape([]), shared_name: attrS('handle') }),
  ];
  const g = graph(nodes);
  g.library.push({ name: 'f', signature: { name: 'f', inputArgs: [], outputArgs: [], attrs: [], isStateful: false }, nodes: [node('in_fn', 'VariableV2'), node('x', 'constructor')], ret: {}, controlRet: {}, attr: {} });
  const counts = opCounts(g);
  assert.deepEqual(Object.entries(counts), [['VarHandleOp', 2], ['VariableV2', 2], ['__proto__', 2], ['constructor', 2], ['toString', 1]]);
  assert.equal(JSON.parse(JSON.stringify(counts)).__proto__, 2);
  const model: ModelIR = { path: '/m', format: 'graph-def', files: [], metaGraphs: [graphOnlyMetaGraph(g)], warnings: [] };
  const summary = summarizeModel(model);
  assert.deepEqual(summary.metaGraphs[0]!.opCounts, counts);
  assert.equal(summary.metaGraphs[0]!.nodeCount, 9);
  // Top-level variables only, in graph order, one per shared name.
  assert.deepEqual(summary.metaGraphs[0]!.variables, [
    { name: 'v', checkpointKey: null, dtype: 'DT_FLOAT', shape: [2] },
    { name: 'handle', checkpointKey: null, dtype: 'DT_INT32', shape: [] },
  ]);
});

test('big files of a model are hashed on a worker thread started before the graph is decoded; a cancelled listing stops', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'variables'));
  const shard = Buffer.alloc(SMALL_THRESHOLD + 4097);
  for (let i = 0; i < shard.length; i += 513) shard[i] = i & 0xff;
  writeFileSync(join(dir, 'variables', 'variables.data-00000-of-00001'), shard);
  writeFileSync(join(dir, 'small.txt'), 'small');
  const warnings: string[] = [];
  const listing = await startModelFileListing(dir, warnings);
  assert.deepEqual(await listing.entries(), [
    { path: 'small.txt', size: 5, sha256: createHash('sha256').update('small').digest('hex') },
    { path: 'variables/variables.data-00000-of-00001', size: shard.length, sha256: createHash('sha256').update(shard).digest('hex') },
  ]);
  assert.deepEqual(warnings, []);
  const cancelled = await startModelFileListing(dir, []);
  cancelled.cancel(); // no hang, no unhandled rejection

  // End to end: a SavedModel whose checkpoint shard is big; the listing equals a plain hash of every file.
  const model = join(dir, 'model');
  mkdirSync(join(model, 'variables'), { recursive: true });
  const source = join(REAL, 'serving_saved_model_half_plus_two_cpu', '00000123');
  if (existsSync(source)) {
    writeFileSync(join(model, 'saved_model.pb'), readFileSync(join(source, 'saved_model.pb')));
    writeFileSync(join(model, 'variables', 'extra.bin'), shard);
    const opened = await openModel(model);
    for (const file of opened.files) assert.equal(file.sha256, createHash('sha256').update(readFileSync(join(model, file.path))).digest('hex'), file.path);
    assert.ok(opened.files.some((f) => f.path === 'variables/extra.bin'));
  }
});
