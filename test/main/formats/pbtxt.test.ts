// The protobuf text-format parser: every text proto in ../shared/corpus/real parses and
// round-trips, tf_cc_chunked_saved_model's saved_model.pbtxt equals the binary
// non_chunked_model/saved_model.pb, Python's protobuf text_format (Debian python3-protobuf
// over protoc-compiled copies of the same schema) is an independent oracle, and each syntax
// feature and malformed input is checked on its own.
import { test } from 'node:test';
import { skipWithout } from '../../helpers/toolchain.ts';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import protobuf from 'protobufjs';
import fc from 'fast-check';
import { parseTextProto } from '../../../main/formats/pbtxt.ts';
import { LIMITS, ModelError } from '../../../main/formats/errors.ts';
import { PROTO_DIR, protoTypes } from '../../../main/formats/protobuf.ts';
import { REAL, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

/** Canonical JSON of a message: map entries sorted by key (the wire order of maps is unspecified). */
const asJson = (type: protobuf.Type, m: protobuf.Message): string =>
  JSON.stringify(type.toObject(m, { longs: String, bytes: String, enums: Number, arrays: false, objects: false, oneofs: true }), (_key, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );

/** Text protos of the corpus and the message type each holds. */
function corpusTextProtos(): { file: string; type: protobuf.Type }[] {
  const facts = JSON.parse(readFileSync(join(REAL, 'FACTS.json'), 'utf8')) as Record<string, { files: Record<string, { kind: string | null }> }>;
  const out: { file: string; type: protobuf.Type }[] = [];
  for (const [folder, entry] of Object.entries(facts)) {
    for (const [name, f] of Object.entries(entry.files)) {
      const file = join(REAL, folder, name);
      if (f.kind === 'graphdef_text') out.push({ file, type: protoTypes.GraphDef });
      else if (f.kind === 'checkpoint_state') out.push({ file, type: protoTypes.CheckpointState });
      else if (name.endsWith('saved_model.pbtxt')) out.push({ file, type: protoTypes.SavedModel });
    }
  }
  // PROVENANCE.md fact 8: a TEXT MetaGraphDef behind a binary name.
  out.push({ file: real('tf_framework_metrics_export_meta_graph', 'metrics_export_meta_graph.pb'), type: protoTypes.MetaGraphDef });
  return out;
}

test('every text proto in the corpus parses and survives encode → decode unchanged', { skip: skipWithoutCorpus }, () => {
  const files = corpusTextProtos();
  assert.ok(files.length >= 28, `found ${files.length} text protos`);
  for (const { file, type } of files) {
    const parsed = parseTextProto(readFileSync(file, 'utf8'), type, file);
    const again = type.decode(type.encode(parsed).finish());
    assert.equal(asJson(type, again), asJson(type, parsed), file);
  }
  const mnist = parseTextProto(readFileSync(real('tf_trt_mnist_ckpt', 'checkpoint'), 'utf8'), protoTypes.CheckpointState, 'checkpoint') as unknown as {
    model_checkpoint_path: string;
    all_model_checkpoint_paths: string[];
  };
  assert.equal(mnist.model_checkpoint_path, 'model.ckpt-46900');
  assert.deepEqual(mnist.all_model_checkpoint_paths, ['model.ckpt-0', 'model.ckpt-46900']);
  const half = parseTextProto(readFileSync(real('tf_cc_half_plus_two_pbtxt', '00000123', 'saved_model.pbtxt'), 'utf8'), protoTypes.SavedModel, 'x') as unknown as {
    meta_graphs: { meta_info_def: { tags: string[] }; signature_def: Record<string, unknown>; graph_def: { node: { op: string }[] } }[];
  };
  assert.deepEqual(half.meta_graphs[0]!.meta_info_def.tags, ['serve']);
  assert.ok(Object.keys(half.meta_graphs[0]!.signature_def).includes('serving_default'));
  assert.ok(half.meta_graphs[0]!.graph_def.node.some((n) => n.op === 'RestoreV2'));
});

test('tf_cc_chunked_saved_model: chunked_model/saved_model.pbtxt equals non_chunked_model/saved_model.pb', { skip: skipWithoutCorpus }, () => {
  const T = protoTypes.SavedModel;
  const dir = real('tf_cc_chunked_saved_model');
  const text = parseTextProto(readFileSync(join(dir, 'chunked_model', 'saved_model.pbtxt'), 'utf8'), T, 'saved_model.pbtxt');
  const binary = T.decode(readFileSync(join(dir, 'non_chunked_model', 'saved_model.pb')));
  assert.equal(asJson(T, text), asJson(T, binary));
});

// ------------------------------------------------------------------------------------------
// A schema with every scalar kind, maps, enums, nesting and Any.

const TEST_PROTO = `syntax = "proto3";
package pbt;
import "google/protobuf/any.proto";
enum Color { RED = 0; GREEN = 1; BLUE = 2; }
message All {
  int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4;
  sint32 s32 = 5; sint64 s64 = 6; fixed32 f32 = 7; fixed64 f64 = 8;
  sfixed32 sf32 = 9; sfixed64 sf64 = 10; float fl = 11; double db = 12;
  bool bo = 13; string st = 14; bytes by = 15; Color color = 16;
  repeated int32 ri = 17; repeated string rs = 18; repeated All children = 19; All child = 20;
  map<string, int32> counts = 21; map<int64, string> names = 22; map<string, All> subs = 23;
  repeated float rf = 24; repeated Color rc = 25; google.protobuf.Any any = 26;
  repeated google.protobuf.Any anys = 27; repeated double rd = 28; map<bool, Color> flags = 29;
}
`;

function testRoot(): protobuf.Root {
  const root = protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/any.proto')!);
  protobuf.parse(TEST_PROTO, root, { keepCase: true });
  root.resolveAll();
  return root;
}
const root = testRoot();
const All = root.lookupType('pbt.All');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const parse = (text: string, type: protobuf.Type = All): any => parseTextProto(text, type, 'test.pbtxt');

function fails(text: string, pattern: RegExp, type: protobuf.Type = All): void {
  assert.throws(() => parseTextProto(text, type, 'bad.pbtxt'), (e: unknown) => {
    assert.ok(e instanceof ModelError, String(e));
    assert.equal(e.file, 'bad.pbtxt');
    assert.match(e.reason, pattern);
    return true;
  });
}

test('comments, separators, repeated fields in both forms, nested {} and <>, optional ":" before messages', () => {
  const m = parse(`# leading comment
    i32: 5  # trailing comment
    ri: 1 ri: 2; ri: [3, 4], ri: []
    rs: ["a", 'b'] rs: "c"
    child { st: "x" child < i32: 7 > }
    child: { i64: 9 }
    children { i32: 1 } children: < i32: 2 >
    children: [{ i32: 3 }, < i32: 4 >]
  `);
  assert.equal(m.i32, 5);
  assert.deepEqual(m.ri, [1, 2, 3, 4]);
  assert.deepEqual(m.rs, ['a', 'b', 'c']);
  // Singular message fields given twice merge, as in the binary format.
  assert.equal(m.child.st, 'x');
  assert.equal(m.child.child.i32, 7);
  assert.equal(String(m.child.i64), '9');
  assert.deepEqual(m.children.map((c: { i32: number }) => c.i32), [1, 2, 3, 4]);
});

test('string escapes: octal, hex, \\u \\U, named escapes, quotes, adjacent concatenation, raw UTF-8', () => {
  const m = parse(String.raw`by: "\000\001\377\x7f\xA\n\t\r\a\b\f\v\\\'\"\?" st: "caf\303\251 " 'and ' "\u00e9\U0001F600 ü"`);
  assert.deepEqual([...m.by], [0, 1, 255, 127, 10, 10, 9, 13, 7, 8, 12, 11, 92, 39, 34, 63]);
  assert.equal(m.st, 'café and é😀 ü');
  assert.ok(m.by instanceof Uint8Array);
  const tensor = parseTextProto(String.raw`dtype: DT_FLOAT tensor_shape { dim { size: 2 } } tensor_content: "\000\000\000?\000\000\000@"`, protoTypes.TensorProto, 't') as unknown as { tensor_content: Uint8Array };
  assert.deepEqual([...new Float32Array(Uint8Array.from(tensor.tensor_content).buffer)], [0.5, 2]);
});

test('numbers: every integer kind with ranges, hex and octal, floats with suffix f, inf/-inf/nan/-nan', () => {
  const m = parse(`i32: -2147483648 i64: -9223372036854775808 u32: 4294967295 u64: 18446744073709551615
    s32: -7 s64: -0x10 f32: 0xffffffff f64: 0777 sf32: -1 sf64: 9007199254740993
    fl: 1.5f db: -2.5e-3 rf: [inf, -inf, nan, -nan, Infinity, 1e3F, .5, 7, 0x10]
    rd: [ -INF, 1E+2, 3. ]`);
  assert.equal(m.i32, -2147483648);
  assert.equal(String(m.i64), '-9223372036854775808');
  assert.equal(m.u32, 4294967295);
  assert.equal(String(m.u64), '18446744073709551615');
  assert.equal(m.s32, -7);
  assert.equal(String(m.s64), '-16');
  assert.equal(m.f32, 4294967295);
  assert.equal(String(m.f64), '511');
  assert.equal(m.sf32, -1);
  assert.equal(String(m.sf64), '9007199254740993', '64-bit values beyond 2^53 are exact (Long, as decode gives)');
  assert.equal(m.fl, 1.5);
  assert.equal(m.db, -0.0025);
  assert.deepEqual(m.rf.slice(0, 2), [Infinity, -Infinity]);
  assert.ok(Number.isNaN(m.rf[2]) && Number.isNaN(m.rf[3]));
  assert.deepEqual(m.rf.slice(4), [Infinity, 1000, 0.5, 7, 16]);
  assert.deepEqual(m.rd, [-Infinity, 100, 3]);
  // float fields round to float32 exactly like a binary decode.
  assert.equal(parse('fl: 0.1').fl, Math.fround(0.1));
});

test('bools, enums by name and number, maps as repeated key/value entries', () => {
  const m = parse(`bo: t color: BLUE rc: [RED, 1, BLUE] rc: 2
    counts { key: "a" value: 1 } counts { value: 2 key: "b" } counts: [{ key: "a" value: 3 }]
    names { key: 5 value: "five" } names { key: -1 value: "neg" }
    subs { key: "s" value { i32: 4 } }
    flags { key: true value: GREEN }`);
  assert.equal(m.bo, true);
  for (const [text, value] of [['true', true], ['false', false], ['t', true], ['f', false], ['1', true], ['0', false], ['True', true], ['False', false]] as const) {
    assert.equal(Boolean(parse(`bo: ${text}`).bo), value, text);
  }
  assert.equal(m.color, 2);
  assert.deepEqual(m.rc, [0, 1, 2, 2]);
  assert.deepEqual({ ...m.counts }, { a: 3, b: 2 }, 'a later entry for a key wins');
  assert.equal(m.subs.s.i32, 4);
  assert.equal(m.flags.true, 1);
  assert.equal(Object.keys(m.names).length, 2);
  // The TF schema: NodeDef.attr map<string, AttrValue>, DataType enum names.
  const node = parseTextProto(`name: "n" op: "Const" attr { key: "dtype" value { type: DT_INT64 } } attr { key: "value" value { list { i: [1, 2] type: [DT_FLOAT, DT_HALF] } } }`, protoTypes.NodeDef, 'node') as unknown as {
    attr: Record<string, { type?: number; list?: { i: unknown[]; type: number[] } }>;
  };
  assert.equal(node.attr.dtype!.type, 9);
  assert.deepEqual(node.attr.value!.list!.type, [1, 19]);
  assert.deepEqual(node.attr.value!.list!.i.map(String), ['1', '2']);
});

test('Any expansion [type.googleapis.com/...] is encoded into the Any; extensions are skipped', () => {
  const m = parse(`any { [type.googleapis.com/pbt.All] { i32: 42 rs: "x" } }
    anys [ { [type.googleapis.com/pbt.All] < st: "in" > }, { type_url: "raw" value: "\\001" } ]
    [some.extension.field]: 5
    [other.ext] { a: 1 b { c: "x" } d: [1, 2] }
    i32: 1`);
  assert.equal(m.any.type_url, 'type.googleapis.com/pbt.All');
  const inner = All.decode(m.any.value) as unknown as { i32: number; rs: string[] };
  assert.equal(inner.i32, 42);
  assert.deepEqual(inner.rs, ['x']);
  assert.equal((All.decode(m.anys[0].value) as unknown as { st: string }).st, 'in');
  assert.equal(m.anys[1].type_url, 'raw');
  assert.equal(m.i32, 1);
  fails('any { [type.googleapis.com/pbt.Nope] { } }', /line 1:7: Any holds type "pbt.Nope", which the schema does not define/);
  // CollectionDef.AnyList in the TF schema holds Anys too.
  const c = parseTextProto(`any_list { value { [type.googleapis.com/tensorflow.VersionDef] { producer: 12 } } }`, protoTypes.CollectionDef, 'c') as unknown as {
    any_list: { value: { type_url: string; value: Uint8Array }[] };
  };
  assert.equal((protoTypes.VersionDef.decode(c.any_list.value[0]!.value) as unknown as { producer: number }).producer, 12);
});

test('malformed input: each error names the file and line:column', () => {
  fails('i32: 1\n  nope: 2', /^line 2:3: no field "nope" in pbt\.All/);
  fails('st: "abc', /line 1:\d+: unterminated string/);
  fails('st: "a\nb"', /newline inside a string/);
  fails('st: "\\q"', /unknown escape "\\q"/);
  fails('st: "\\400"', /octal escape above \\377/);
  fails('i32: 2147483648', /line 1:6: 2147483648 is out of range for int32 field "i32"/);
  fails('u32: -1', /out of range for uint32/);
  fails('u64: 18446744073709551616', /out of range for uint64/);
  fails('i32: 1.5', /"1.5" is not an integer/);
  fails('i32: abc', /expected an integer/);
  fails('fl: 1..2', /"1..2" is not a number/);
  fails('bo: yes', /expected true or false/);
  fails('color: PURPLE', /line 1:8: unknown Color value "PURPLE"/);
  fails('child { i32: 1', /expected "}" but found end of input/);
  fails('child < i32: 1 }', /line 1:16: expected a field name but found "}"/);
  fails('i32 5', /line 1:5: expected ":" after field "i32"/);
  fails('i32: [1, 2]', /not repeated but has a list value/);
  fails('ri: [1 2]', /expected ","/);
  fails('child: 5', /expected "{" or "<" for message field "child"/);
  fails('{', /expected a field name but found "{"/);
  fails('counts { key: "a" other: 1 }', /expected "key" or "value" in map entry/);
  fails('[unterminated', /unterminated "\[" name/);
});

test('nesting beyond LIMITS.maxNestingDepth is refused, not a stack overflow', () => {
  const deep = 'child { '.repeat(LIMITS.maxNestingDepth + 5) + '}'.repeat(LIMITS.maxNestingDepth + 5);
  fails(deep, /nested deeper than 100/);
  const ok = 'child { '.repeat(50) + 'i32: 1 ' + '}'.repeat(50);
  let m = parse(ok);
  for (let i = 0; i < 50; i++) m = m.child;
  assert.equal(m.i32, 1);
  const skipped = '[ext] { a { '.repeat(200) + '} }'.repeat(200);
  fails(skipped, /nested deeper than 100/);
});

test('unknown fields may be skipped on request', () => {
  const m = parseTextProto('zzz { a: 1 } i32: 3 yyy: "s"', All, 'x', { allowUnknownFields: true }) as unknown as { i32: number };
  assert.equal(m.i32, 3);
});

// ------------------------------------------------------------------------------------------
// Independent oracle: Python's text_format over protoc-compiled copies of the same schemas.

const PYTHON = '/usr/bin/python3';
const oracleSkip = skipWithout('protoc', 'python3-protobuf');

const ORACLE_SCRIPT = `
import sys, importlib
sys.path.insert(0, sys.argv[1])
from google.protobuf import text_format
for line in sys.stdin.read().splitlines():
    mod, name, src, dst = line.split('\\t')
    m = getattr(importlib.import_module(mod), name)()
    text_format.Parse(open(src, encoding='utf-8').read(), m)
    open(dst, 'wb').write(m.SerializeToString())
`;

function compileSchemas(dir: string): void {
  const tf = readdirSync(PROTO_DIR).filter((f) => f.endsWith('.proto')).map((f) => join(PROTO_DIR, f));
  let r = spawnSync('protoc', [`-I${PROTO_DIR}`, '-I/usr/include', `--python_out=${dir}`, ...tf], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  writeFileSync(join(dir, 'pbt_test.proto'), TEST_PROTO);
  r = spawnSync('protoc', [`-I${dir}`, '-I/usr/include', `--python_out=${dir}`, join(dir, 'pbt_test.proto')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('Python protobuf text_format agrees with us on every corpus text proto and on a feature sample', { skip: skipWithoutCorpus || oracleSkip }, () => {
  const dir = tempDir('tfaudit-pbtxt-oracle-');
  compileSchemas(dir);
  const moduleOf: Record<string, [string, string]> = {
    '.tensorflow.GraphDef': ['graph_pb2', 'GraphDef'],
    '.tensorflow.SavedModel': ['saved_model_pb2', 'SavedModel'],
    '.tensorflow.MetaGraphDef': ['meta_graph_pb2', 'MetaGraphDef'],
    '.tensorflow.CheckpointState': ['checkpoint_state_pb2', 'CheckpointState'],
  };
  const sample = join(dir, 'sample.pbtxt');
  writeFileSync(sample, String.raw`# sample
    i32: -5 i64: 0x7fffffffffffffff u64: 18446744073709551615 s32: -3 s64: -077 f32: 7 f64: 8 sf32: -9 sf64: -10
    fl: 1.25f db: -inf bo: t st: "caf\303\251 " 'x' by: "\000\x01\377" color: GREEN
    ri: [1, 2] ri: 3 rs: "a" child < i32: 1 st: "m" > children { st: "c" } children: < i32: 2 >
    counts { key: "k" value: 1 } names { key: -4 value: "n" } subs { key: "s" value { bo: true } }
    rf: [inf, 2.5, 1e-3] rc: [BLUE, 0] flags { key: false value: BLUE }
    any { [type.googleapis.com/pbt.All] { i32: 9 } }
  `);
  const jobs: { file: string; type: protobuf.Type; mod: string; name: string; out: string }[] = corpusTextProtos().map(({ file, type }, i) => {
    const [mod, name] = moduleOf[type.fullName]!;
    return { file, type, mod, name, out: join(dir, `out${i}.bin`) };
  });
  jobs.push({ file: sample, type: All, mod: 'pbt_test_pb2', name: 'All', out: join(dir, 'sample.bin') });
  const r = spawnSync(PYTHON, ['-c', ORACLE_SCRIPT, dir], { input: jobs.map((j) => [j.mod, j.name, j.file, j.out].join('\t')).join('\n'), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const job of jobs) {
    const ours = parseTextProto(readFileSync(job.file, 'utf8'), job.type, job.file);
    const theirs = job.type.decode(readFileSync(job.out));
    assert.equal(asJson(job.type, ours), asJson(job.type, theirs), job.file);
  }
});

test('fuzz: mutated corpus text protos give a message or a ModelError with line:column, never another exception', { skip: skipWithoutCorpus }, (t) => {
  const sources = [
    { text: readFileSync(real('tf_lite_control_flow_v1_pbtxt', 'control_flow_v1.pbtxt'), 'utf8'), type: protoTypes.GraphDef },
    { text: readFileSync(real('tf_framework_metrics_export_meta_graph', 'metrics_export_meta_graph.pb'), 'utf8'), type: protoTypes.MetaGraphDef },
    { text: readFileSync(real('tf_trt_mnist_ckpt', 'checkpoint'), 'utf8'), type: protoTypes.CheckpointState },
  ];
  const alphabet = fc.constantFrom(...'{}<>[]:;,#"\'\\-.0123456789abefinstxuDT_ \n'.split(''));
  let runs = 0;
  let parsed = 0;
  fc.assert(
    fc.property(fc.nat({ max: sources.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 2 }), fc.string({ unit: alphabet, minLength: 1, maxLength: 4 }), (which, at, kind, piece) => {
      const { text, type } = sources[which]!;
      const pos = at % (text.length + 1);
      const mutated = kind === 0 ? text.slice(0, pos) + piece + text.slice(pos) : kind === 1 ? text.slice(0, pos) + text.slice(pos + piece.length) : text.slice(0, pos) + piece + text.slice(pos + piece.length);
      runs++;
      try {
        parseTextProto(mutated, type, 'mutated.pbtxt');
        parsed++;
      } catch (error) {
        assert.ok(error instanceof ModelError, String(error));
        assert.equal(error.file, 'mutated.pbtxt');
        assert.match(error.reason, /^line \d+:\d+: |does not form a valid/);
      }
    }),
    { numRuns: 5000, interruptAfterTimeLimit: 4000, markInterruptAsFailure: false },
  );
  t.diagnostic(`${runs} runs, ${parsed} still parsed`);
  assert.ok(runs >= 200);
});
