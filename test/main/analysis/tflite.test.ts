// TFLite findings: Flex ops built here with the flatbuffers Builder (FlexWriteFile / FlexReadFile
// with NodeDefs and constant paths) go through the capability catalogue; unknown custom ops,
// well-known custom kernels and serving_parse_example_tflite's ParseExampleV2 are rated by what
// they are; the builtin-only corpus models have no findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { atLeast } from '../../../shared/findings.ts';
import { readTflite } from '../../../main/formats/tflite.ts';
import { protoTypes } from '../../../main/formats/protobuf.ts';
import { tfliteFindings } from '../../../main/analysis/tflite.ts';
import { real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { buildTflite, flexVectorOfStrings, tfliteStrings, type TfliteSpec } from '../formats/writers.ts';

function flexSpec(customCode: string, op: string, inputNames: string[], path: string | null): TfliteSpec {
  const nodeDef = protoTypes.NodeDef.encode(protoTypes.NodeDef.fromObject({ name: `${op}_node`, op, input: inputNames })).finish();
  return {
    operatorCodes: [{ builtin: 32, custom: customCode }],
    tensors: [
      { name: 'path', type: 5, shape: [], buffer: path === null ? 0 : 1 },
      { name: 'data', type: 5, shape: [], buffer: 0 },
      { name: 'out', type: 5, shape: [], buffer: 0 },
    ],
    inputs: path === null ? [0, 1] : [1],
    outputs: [2],
    operators: [{ opcode: 0, inputs: inputNames.map((_, i) => i), outputs: op === 'WriteFile' ? [] : [2], customOptions: flexVectorOfStrings([new TextEncoder().encode(op), nodeDef]) }],
    buffers: path === null ? [new Uint8Array(0)] : [new Uint8Array(0), tfliteStrings([path])],
    signature: { key: 'serving_default', inputs: [['data', 1]], outputs: [['out', 2]] },
  };
}

async function scan(spec: TfliteSpec) {
  const file = join(tempDir(), 'model.tflite');
  writeFileSync(file, buildTflite(spec));
  return tfliteFindings(await readTflite(file));
}

test('FlexWriteFile with a NodeDef and a constant path: file-write finding naming the path', async () => {
  const findings = await scan(flexSpec('FlexWriteFile', 'WriteFile', ['filename', 'contents'], '/home/user/.bashrc'));
  assert.equal(findings.length, 1);
  const [f] = findings;
  assert.equal(f.capability, 'file-write');
  assert.equal(f.op, 'WriteFile');
  assert.equal(f.severity, 'high');
  assert.equal(f.reachability, 'signature');
  assert.deepEqual(f.entryPoints, ['serving_default']);
  assert.deepEqual(f.trigger, { kind: 'none', variables: [], gates: [], activation: [] });
  assert.equal(f.arguments.length, 1);
  assert.equal(f.arguments[0].input, 'filename');
  assert.equal(f.arguments[0].value, '/home/user/.bashrc');
  assert.equal(f.arguments[0].classification, 'sensitive-path');
  assert.deepEqual(f.evidence, ['main (subgraph 0)', 'main/operator 0 (FlexWriteFile)', 'main/WriteFile_node (WriteFile)', 'filename = "/home/user/.bashrc"']);
  assert.equal(f.details!.nodeDef, 'decoded from custom options');
});

test('FlexReadFile whose path is a subgraph input: file-read finding with an unresolved argument', async () => {
  const findings = await scan(flexSpec('FlexReadFile', 'ReadFile', ['filename'], null));
  assert.deepEqual(findings.map((f) => [f.capability, f.op, f.arguments[0].value]), [['file-read', 'ReadFile', null]]);
  assert.match(findings[0].arguments[0].expression, /tensor path \(STRING \[\]\), a subgraph input/);
});

test('a Flex op without custom options still maps through the catalogue by its name', async () => {
  const spec = flexSpec('FlexWriteFile', 'WriteFile', ['filename', 'contents'], '/tmp/out.txt');
  delete spec.operators[0].customOptions;
  const findings = await scan(spec);
  assert.deepEqual(findings.map((f) => [f.capability, f.op, f.arguments[0].value, f.details!.nodeDef]), [['file-write', 'WriteFile', '/tmp/out.txt', 'not present']]);
});

test('pure Flex ops give nothing; Flex names TensorFlow does not define are custom ops', async () => {
  assert.deepEqual(await scan(flexSpec('FlexAddV2', 'AddV2', ['x', 'y'], null)), []);
  const unknown = await scan(flexSpec('FlexTotallyNotAnOp', 'TotallyNotAnOp', ['x'], null));
  assert.deepEqual(unknown.map((f) => [f.capability, f.severity, f.rule]), [['custom-op', 'high', 'tflite-flex-unknown-op']]);
});

test('custom ops: unknown ones medium, well-known kernels low with a note', async () => {
  const spec = (code: string): TfliteSpec => ({
    operatorCodes: [{ builtin: 32, custom: code }],
    tensors: [{ name: 'x', type: 0, shape: [1] }, { name: 'y', type: 0, shape: [1] }],
    inputs: [0],
    outputs: [1],
    operators: [{ opcode: 0, inputs: [0], outputs: [1] }],
    buffers: [new Uint8Array(0)],
  });
  const unknown = await scan(spec('MyVendorKernel'));
  assert.deepEqual(unknown.map((f) => [f.capability, f.severity, f.node]), [['custom-op', 'medium', 'y']]);
  const known = await scan(spec('TFLite_Detection_PostProcess'));
  assert.deepEqual(known.map((f) => [f.capability, f.severity]), [['custom-op', 'low']]);
  assert.match(known[0].details!.note, /SSD detection/);
});

test('serving_parse_example_tflite: ParseExampleV2 is reported below medium, with a note', { skip: skipWithoutCorpus }, async () => {
  const findings = tfliteFindings(await readTflite(real('serving_parse_example_tflite', '00000123', 'model.tflite')));
  assert.equal(findings.length, 1);
  assert.equal(findings[0].capability, 'custom-op');
  assert.ok(!atLeast(findings[0].severity, 'medium'));
  assert.match(findings[0].details!.note, /parse_example/);
});

test('builtin-only corpus TFLite models have no findings', { skip: skipWithoutCorpus }, async () => {
  for (const file of [
    real('serving_saved_model_half_plus_two_tflite', '00000123', 'model.tflite'),
    real('serving_saved_model_half_plus_two_tflite_with_sigdef', '00000123', 'model.tflite'),
    real('tf_lite_testdata_converter', 'multi_signatures.bin'),
    real('tf_lite_testdata_converter', 'while_op_with_forwarding_input.bin'),
    real('tf_lite_testdata_flatc_from_json', 'add.bin'),
    real('tfonnx_regression_tflite', 'model.tflite'),
  ]) {
    assert.deepEqual(tfliteFindings(await readTflite(file)), [], file);
  }
});
