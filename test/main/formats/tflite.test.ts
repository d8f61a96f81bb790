// TFLite reader against every .tflite/.bin of the corpus (operator codes, subgraphs, tensors,
// signatures and metadata as FACTS.json lists them), the two malformed ones, a Flex model built
// here with the flatbuffers Builder, hostile offsets and a bounded fuzz run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ModelError } from '../../../main/formats/errors.ts';
import { decodeFlexBuffer, parseTflite, readTflite, stringTensorValues } from '../../../main/formats/tflite.ts';
import { protoTypes } from '../../../main/formats/protobuf.ts';
import { REAL, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { buildTflite, flexVectorOfStrings, tfliteStrings, type TfliteSpec } from './writers.ts';

interface FactTensor { name: string; type: string; shape: number[] }
interface FactSubgraph { name: string | null; inputs: string[]; outputs: string[]; num_operators: number; num_tensors: number; tensors: FactTensor[] }
interface FactTflite { kind: string; version: number; description: string | null; operator_codes: string[]; subgraphs: FactSubgraph[]; metadata: string[]; signature_defs: { key: string; subgraph_index: number; inputs: string[]; outputs: string[] }[] }

function tfliteFacts(): [string, FactTflite][] {
  const facts = JSON.parse(readFileSync(join(REAL, 'FACTS.json'), 'utf8')) as Record<string, { folder: string; files: Record<string, FactTflite> }>;
  const out: [string, FactTflite][] = [];
  for (const entry of Object.values(facts)) for (const [file, f] of Object.entries(entry.files)) if (f.kind === 'tflite') out.push([join(entry.folder, file), f]);
  return out;
}

test('every corpus TFLite file opens with the tables FACTS.json records', { skip: skipWithoutCorpus }, async () => {
  const files = tfliteFacts();
  assert.ok(files.length >= 10, `found ${files.length} TFLite files in FACTS.json`);
  for (const [file, fact] of files) {
    const model = await readTflite(real(file));
    const t = model.tflite!;
    assert.equal(model.format, 'tflite');
    assert.equal(t.version, fact.version, file);
    assert.equal(t.description, fact.description ?? '', file);
    assert.deepEqual(t.operatorCodes.map((o) => o.customCode ?? o.builtin), fact.operator_codes, file);
    assert.equal(t.subgraphs.length, fact.subgraphs.length, file);
    fact.subgraphs.forEach((fs, i) => {
      const sg = t.subgraphs[i];
      assert.equal(sg.name, fs.name ?? '', file);
      assert.equal(sg.operators.length, fs.num_operators, file);
      assert.equal(sg.tensors.length, fs.num_tensors, file);
      // FACTS.json lists at most the first dozen tensors of a subgraph.
      assert.deepEqual(sg.tensors.slice(0, fs.tensors.length).map((x) => ({ name: x.name, type: x.type, shape: x.shape })), fs.tensors.map((x) => ({ name: x.name, type: x.type, shape: x.shape })), file);
      assert.deepEqual(sg.inputs.map((k) => sg.tensors[k].name), fs.inputs, file);
      assert.deepEqual(sg.outputs.map((k) => sg.tensors[k].name), fs.outputs, file);
    });
    assert.deepEqual(t.metadata.map((m) => m.name), fact.metadata, file);
    assert.deepEqual(t.signatureDefs.map((s) => ({ key: s.key, subgraph_index: s.subgraph, inputs: s.inputs, outputs: s.outputs })), fact.signature_defs, file);
    assert.equal(model.files[0].size, readFileSync(real(file)).length);
  }
});

test('serving_parse_example_tflite: the single custom op ParseExampleV2', { skip: skipWithoutCorpus }, async () => {
  const t = (await readTflite(real('serving_parse_example_tflite', '00000123', 'model.tflite'))).tflite!;
  assert.deepEqual(t.operatorCodes, [{ builtin: 'CUSTOM', customCode: 'ParseExampleV2', version: 1 }]);
  const op = t.subgraphs[0].operators[0];
  assert.equal(op.opcode, 'ParseExampleV2');
  assert.equal(op.custom, true);
  assert.equal(op.flexOp, undefined);
  assert.deepEqual(t.subgraphs[0].tensors[1].stringValues, ['x', 'y']);
});

test('tf_lite_testdata_flatc_from_json/test_model_broken.bin: no TFL3 identifier is a clear ModelError', { skip: skipWithoutCorpus }, async () => {
  const file = real('tf_lite_testdata_flatc_from_json', 'test_model_broken.bin');
  await assert.rejects(readTflite(file), (e: unknown) => e instanceof ModelError && e.file === file && /file identifier .* expected "TFL3"/.test(e.reason));
});

test('tf_lite_testdata_converter/segment_sum_invalid_buffer.bin: opens, warning about the constant with no data', { skip: skipWithoutCorpus }, async () => {
  const model = await readTflite(real('tf_lite_testdata_converter', 'segment_sum_invalid_buffer.bin'));
  assert.deepEqual(model.tflite!.operatorCodes.map((o) => o.builtin), ['SEGMENT_SUM']);
  assert.equal(model.warnings.length, 1);
  assert.match(model.warnings[0], /segment_sum_invalid_buffer\.bin: .*reads tensor 2 "pyx\/y".*buffer 0 is empty/);
  const clean = await readTflite(real('tf_lite_testdata_converter', 'while_op_with_forwarding_input.bin'));
  assert.deepEqual(clean.warnings, []);
});

function flexWriteFileSpec(path: string): TfliteSpec {
  const nodeDef = protoTypes.NodeDef.encode(
    protoTypes.NodeDef.fromObject({ name: 'WriteFile', op: 'WriteFile', input: ['filename', 'contents'], attr: {} }),
  ).finish();
  return {
    operatorCodes: [{ builtin: 32, custom: 'FlexWriteFile' }],
    tensors: [
      { name: 'filename', type: 5, shape: [], buffer: 1 },
      { name: 'contents', type: 5, shape: [], buffer: 0 },
    ],
    inputs: [1],
    outputs: [],
    operators: [{ opcode: 0, inputs: [0, 1], outputs: [], customOptions: flexVectorOfStrings([new TextEncoder().encode('WriteFile'), nodeDef]) }],
    buffers: [new Uint8Array(0), tfliteStrings([path])],
    signature: { key: 'serving_default', inputs: [['contents', 1]], outputs: [] },
  };
}

test('crafted Flex model (FlexWriteFile with a NodeDef) decodes the NodeDef and the constant path', async () => {
  const dir = tempDir();
  const file = join(dir, 'flex.tflite');
  writeFileSync(file, buildTflite(flexWriteFileSpec('/home/user/.bashrc')));
  const model = await readTflite(file);
  const t = model.tflite!;
  assert.deepEqual(model.warnings, []);
  assert.equal(t.subgraphs[0].operators[0].opcode, 'FlexWriteFile');
  assert.equal(t.subgraphs[0].operators[0].flexOp, 'WriteFile');
  assert.equal(t.flexNodes.length, 1);
  assert.equal(t.flexNodes[0].node.op, 'WriteFile');
  assert.deepEqual(t.flexNodes[0].node.inputs, ['filename', 'contents']);
  assert.deepEqual(t.subgraphs[0].tensors[0].stringValues, ['/home/user/.bashrc']);
  assert.deepEqual(t.signatureDefs, [{ key: 'serving_default', subgraph: 0, inputs: ['contents'], outputs: [] }]);
});

test('a Flex op whose options are not a FlexBuffer, or whose NodeDef names another op, gives warnings', () => {
  const spec = flexWriteFileSpec('/tmp/x');
  spec.operators[0].customOptions = new Uint8Array([1, 2, 3, 250, 9]);
  const warnings: string[] = [];
  const t = parseTflite(buildTflite(spec), 'bad-options.tflite', warnings);
  assert.equal(t.flexNodes.length, 0);
  assert.match(warnings.join('\n'), /bad-options\.tflite \(subgraph 0 operator 0 FlexWriteFile\): custom options are not a valid FlexBuffer/);
  const other = flexWriteFileSpec('/tmp/x');
  const readNode = protoTypes.NodeDef.encode(protoTypes.NodeDef.fromObject({ name: 'r', op: 'ReadFile', input: ['filename'] })).finish();
  other.operators[0].customOptions = flexVectorOfStrings([new TextEncoder().encode('ReadFile'), readNode]);
  const w2: string[] = [];
  const t2 = parseTflite(buildTflite(other), 'mismatch.tflite', w2);
  assert.equal(t2.flexNodes[0].node.op, 'ReadFile');
  assert.match(w2.join('\n'), /custom code names WriteFile but the NodeDef runs ReadFile/);
});

test('FlexBuffer decoder: maps, typed vectors and hostile offsets', async () => {
  const { encode } = await import('flatbuffers/mjs/flexbuffers.js');
  const value = { a: 1, b: [1, 2, 3], c: 'text', d: true, e: 2.5, f: [1.5, 'x'] };
  assert.deepEqual(decodeFlexBuffer(encode(value)), value);
  assert.throws(() => decodeFlexBuffer(new Uint8Array([0xff, 0xff, 0x28, 1])), /out of range|invalid/);
  assert.throws(() => decodeFlexBuffer(new Uint8Array([1])), /shorter/);
});

test('string tensor buffers with inconsistent offsets are ignored, not trusted', () => {
  assert.deepEqual(stringTensorValues(tfliteStrings(['a', 'bc'])), ['a', 'bc']);
  const bad = tfliteStrings(['abc']);
  new DataView(bad.buffer).setInt32(8, 1000, true);
  assert.equal(stringTensorValues(bad), null);
});

test('hostile flatbuffers: out-of-range root, vtable and vector offsets end in ModelError naming the file', () => {
  const good = buildTflite(flexWriteFileSpec('/tmp/x'));
  const cases: [string, (b: Uint8Array) => void][] = [
    ['root offset past the end', (b) => new DataView(b.buffer).setUint32(0, b.length + 100, true)],
    ['short file', () => undefined],
  ];
  for (const [label, mutate] of cases) {
    const copy = label === 'short file' ? good.slice(0, 12) : good.slice();
    mutate(copy);
    assert.throws(() => parseTflite(copy, 'hostile.tflite'), (e: unknown) => e instanceof ModelError && e.file === 'hostile.tflite' && /malformed TFLite flatbuffer|not a TFLite/.test(e.reason), label);
  }
  // Every 4-byte word replaced by a huge value: always an error or a parse, never a crash.
  for (let pos = 8; pos + 4 <= good.length; pos += 4) {
    const copy = good.slice();
    new DataView(copy.buffer).setUint32(pos, 0x7ffffff0, true);
    try {
      parseTflite(copy, 'hostile.tflite');
    } catch (error) {
      assert.ok(error instanceof ModelError, `offset ${pos}: ${String(error)}`);
    }
  }
});

test('fuzz: mutated TFLite files never crash or hang the reader (bounded run)', { skip: skipWithoutCorpus }, () => {
  const seeds = [
    readFileSync(real('tf_lite_testdata_converter', 'while_op_with_forwarding_input.bin')),
    readFileSync(real('serving_parse_example_tflite', '00000123', 'model.tflite')),
    buildTflite(flexWriteFileSpec('/etc/passwd')),
  ].map((b) => new Uint8Array(b));
  const deadline = Date.now() + 15_000;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }), fc.nat(), (seed, edits, cut) => {
      if (Date.now() > deadline) return;
      const data = seeds[seed].slice();
      for (const [pos, value] of edits) if (pos % data.length >= 8) data[pos % data.length] = value;
      const input = cut % 5 === 0 ? data.subarray(0, Math.max(8, cut % data.length)) : data;
      try {
        parseTflite(input, 'fuzz.tflite');
      } catch (error) {
        assert.ok(error instanceof ModelError, String(error));
      }
    }),
    { numRuns: 3000 },
  );
});

test('warnings are capped: a file with hundreds of bad tensor references lists the first 200 and a count', () => {
  const spec: TfliteSpec = {
    operatorCodes: [{ builtin: 0 }],
    tensors: [{ name: 'x', type: 0, shape: [1] }],
    inputs: [0],
    outputs: [0],
    operators: Array.from({ length: 300 }, () => ({ opcode: 0, inputs: [0, 99], outputs: [0] })),
    buffers: [new Uint8Array(0)],
  };
  const warnings: string[] = [];
  const t = parseTflite(buildTflite(spec), 'many.tflite', warnings);
  assert.equal(t.subgraphs[0].operators.length, 300);
  assert.equal(warnings.length, 201);
  assert.match(warnings[0], /many\.tflite: subgraph 0 operator 0 \(ADD\) refers to tensor 99, but the subgraph has 1/);
  assert.equal(warnings[200], 'many.tflite: 100 more warnings not listed');
});
