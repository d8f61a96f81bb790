// Proves the capability catalogue against TensorFlow's op registry (every named input/attr
// exists) and against the real TensorAbuse attack SavedModels in ../shared/corpus/real
// (tabuse_*): each attack primitive, decoded with the attrs the model really carries, gets a
// rule. Also the crafted P6_custom_op model (ZzCustomExfil is not a TensorFlow op).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { AttrValue, NodeIR, OpDefIR } from '../../../shared/ir.ts';
import { CAPABILITIES, SEVERITIES, type Capability } from '../../../shared/findings.ts';
import {
  CAPABILITY_DESCRIPTIONS,
  capabilityRules,
  catalogueEntry,
  catalogueOps,
  flexToTensorFlowOp,
  isFileReaderOp,
  isSaverMachineryOp,
  isUnknownOp,
  sizeDrivingInputs,
} from '../../../main/analysis/catalogue.ts';
import { isTensorFlowOp, registryOpDef, registryOpNames } from '../../../main/analysis/op-registry.ts';
import { decodeMessage, protoTypes, toGraphIR, toOpDefIR } from '../../../main/formats/protobuf.ts';
import { crafted, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { TF_PYTHON, skipWithoutTf } from '../../helpers/tensorflow.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const s = (text: string): AttrValue => ({ type: 's', s: bytes(text) });
const sList = (...items: string[]): AttrValue => ({ type: 'list', list: { s: items.map(bytes) } });

function node(op: string, attr: Record<string, AttrValue> = {}): NodeIR {
  return { name: `n_${op}`, op, inputs: [], device: '', attr };
}

const capabilitiesOf = (n: NodeIR): Capability[] => capabilityRules(n).map((r) => r.capability).sort();

interface DecodedModel {
  nodes: { fn: string | null; node: NodeIR }[];
  strippedOps: OpDefIR[];
}

/** Every node of a SavedModel's first meta graph (graph and function library), as the IR. */
function decodeSavedModel(dir: string): DecodedModel {
  const file = join(dir, 'saved_model.pb');
  const message = decodeMessage(protoTypes.SavedModel, readFileSync(file), file);
  const meta = message.meta_graphs[0];
  const graph = toGraphIR(meta.graph_def, file);
  const nodes = [
    ...graph.nodes.map((n) => ({ fn: null, node: n })),
    ...graph.library.flatMap((f) => f.nodes.map((n) => ({ fn: f.name, node: n }))),
  ];
  const strippedOps = (meta.meta_info_def?.stripped_op_list?.op ?? []).map((op: unknown) => toOpDefIR(op, file));
  return { nodes, strippedOps };
}

test('every catalogue input, size input and attr name exists in the op registry (catches typos)', () => {
  const ops = catalogueOps();
  assert.ok(ops.length > 150, `catalogue has only ${ops.length} ops`);
  for (const op of ops) {
    const def = registryOpDef(op);
    assert.ok(def, `${op} is in the catalogue but not a TensorFlow op`);
    const inputs = def.inputArgs.map((a) => a.name);
    const attrs = def.attrs.map((a) => a.name);
    for (const rule of catalogueEntry(op)) {
      for (const name of [...rule.targetInputs, ...(rule.sizeInputs ?? [])]) {
        assert.ok(inputs.includes(name), `${op}: input "${name}" not in [${inputs.join(', ')}]`);
      }
      for (const name of rule.targetAttrs) assert.ok(attrs.includes(name), `${op}: attr "${name}" not in [${attrs.join(', ')}]`);
      assert.ok(SEVERITIES.includes(rule.baseSeverity));
      assert.ok(rule.description.length > 10, `${op} needs a description`);
      if (rule.capability === 'resource-exhaustion') assert.ok((rule.sizeInputs ?? []).length > 0, `${op}: size rule without sizeInputs`);
    }
  }
});

test('every registry op with an I/O-looking name is catalogued, saver machinery, or reviewed as in-memory only', () => {
  // Reviewed: these produce protos/handles in memory, move data between host and device, or
  // (Print) write to stderr. Anything new matching the pattern after a registry update fails here.
  const reviewedPure = new Set([
    'AudioSummary', 'AudioSummaryV2', 'BoostedTreesExampleDebugOutputs', 'BoostedTreesMakeStatsSummary', 'CollectiveAssignGroupV2',
    'CollectivePermute', 'DebugGradientIdentity', 'DebugGradientRefIdentity', 'DebugNumericSummaryV2', 'DecodeCSV',
    'DeleteRpcFutureResource', 'ExperimentalStatsAggregatorSummary', 'HistogramSummary', 'IdentityReader', 'IdentityReaderV2',
    'ImageSummary', 'MergeSummary', 'Print', 'ReaderNumRecordsProduced', 'ReaderNumRecordsProducedV2', 'ReaderRestoreState',
    'ReaderRestoreStateV2', 'RecvTPUEmbeddingActivations', 'RpcCheckStatus', 'RpcGetValue', 'ScalarSummary',
    'SendTPUEmbeddingGradients', 'Snapshot', 'SnapshotNestedDatasetReader', 'StatsAggregatorSummary', 'SummaryWriter',
    'TensorArrayWrite', 'TensorArrayWriteV2', 'TensorArrayWriteV3', 'TensorSummary', 'TensorSummaryV2', 'XlaRecv',
    'XlaRecvFromHost', 'XlaRecvTPUEmbeddingActivations', 'XlaRecvTPUEmbeddingActivationsV2', 'XlaRecvTPUEmbeddingDeduplicationData',
    'XlaRecvTPUEmbeddingDeduplicationDataV2', 'XlaSend', 'XlaSendTPUEmbeddingGradients', 'XlaSendTPUEmbeddingGradientsV2',
    'XlaSendToHost', '_NcclBroadcastRecv', '_NcclBroadcastSend', '_NcclReduceRecv', '_NcclReduceSend', '_XlaRecvAtHost',
    '_XlaRecvAtHostV2', '_XlaSendFromHost', '_XlaSendFromHostV2',
  ]);
  const pattern =
    /File|Save|Restore|Rpc|PyFunc|Matching|Sql|LMDB|TextLine|CSV|Record|Summary|Debug|Snapshot|DataService|RegisterDataset|Immutable|Remote|Write|Print|Collective|Send|Recv|Sleep|Reader$|ReaderV2$/;
  const missing = registryOpNames().filter(
    (op) => pattern.test(op) && catalogueEntry(op).length === 0 && !isSaverMachineryOp(op) && !reviewedPure.has(op),
  );
  assert.deepEqual(missing, []);
});

test('pure ops have no capability', () => {
  for (const op of ['MatMul', 'AddV2', 'Const', 'Identity', 'ReadVariableOp', 'VarHandleOp', 'StringJoin', 'If', 'StatefulPartitionedCall', 'Print', 'IteratorGetNext']) {
    assert.deepEqual(capabilityRules(node(op)), [], op);
  }
  assert.deepEqual(sizeDrivingInputs('MatMul'), []);
});

test('CAPABILITY_DESCRIPTIONS describes every capability', () => {
  for (const c of CAPABILITIES) assert.ok(CAPABILITY_DESCRIPTIONS[c].length > 20, c);
});

test('size-driving inputs use the registry input names', () => {
  assert.deepEqual(sizeDrivingInputs('Tile'), ['multiples']);
  assert.deepEqual(sizeDrivingInputs('Fill'), ['dims']);
  assert.deepEqual(sizeDrivingInputs('Empty'), ['shape']);
  assert.deepEqual(sizeDrivingInputs('BroadcastTo'), ['shape']);
  assert.deepEqual(sizeDrivingInputs('Range'), ['start', 'limit', 'delta']);
  assert.deepEqual(sizeDrivingInputs('RandomUniform'), ['shape']);
  assert.deepEqual(sizeDrivingInputs('OneHot'), ['depth']);
  assert.deepEqual(sizeDrivingInputs('UnsortedSegmentSum'), ['num_segments']);
  assert.deepEqual(sizeDrivingInputs('RepeatDataset'), ['count']);
  assert.deepEqual(sizeDrivingInputs('TensorArrayV3'), ['size']);
});

test('checkpoint machinery is marked saverMachinery, and only it', () => {
  for (const op of ['SaveV2', 'RestoreV2', 'MergeV2Checkpoints', 'Save', 'SaveSlices', 'Restore', 'RestoreSlice']) {
    assert.ok(catalogueEntry(op).length > 0 && catalogueEntry(op).every((r) => r.saverMachinery === true), op);
    assert.ok(isSaverMachineryOp(op), op);
  }
  assert.ok(isSaverMachineryOp('ShardedFilename'));
  assert.ok(isSaverMachineryOp('ShardedFilespec'));
  for (const op of ['ReadFile', 'WriteFile', 'SaveDataset', 'StringJoin']) assert.equal(isSaverMachineryOp(op), false, op);
  assert.deepEqual(catalogueEntry('SaveV2')[0].targetInputs, ['prefix']);
});

test('PrintV2 writes a file only when output_stream is file://', () => {
  assert.deepEqual(capabilitiesOf(node('PrintV2')), []);
  assert.deepEqual(capabilitiesOf(node('PrintV2', { output_stream: s('stderr') })), []);
  assert.deepEqual(capabilitiesOf(node('PrintV2', { output_stream: s('log(warning)') })), []);
  const rules = capabilityRules(node('PrintV2', { output_stream: s('file:///tmp/x') }));
  assert.equal(rules.length, 1);
  assert.equal(rules[0].capability, 'file-write');
  assert.deepEqual(rules[0].targetAttrs, ['output_stream']);
  // Catalogue view lists the conditional rule with its condition.
  assert.match(catalogueEntry('PrintV2')[0].condition ?? '', /file:\/\//);
});

test("attr defaults come from TensorFlow, not from the model's own OpDef", () => {
  // A stripped op list claiming a file:// default does not make TensorFlow write a file: the
  // runtime fills omitted attrs from its own registry (output_stream defaults to stderr).
  const forged: OpDefIR = {
    name: 'PrintV2',
    inputArgs: [{ name: 'input', type: 'DT_STRING' }],
    outputArgs: [],
    attrs: [{ name: 'output_stream', type: 'string', defaultValue: s('file:///tmp/x') }],
    isStateful: true,
  };
  assert.deepEqual(capabilityRules(node('PrintV2'), forged), []);
  assert.equal(capabilityRules(node('PrintV2', { output_stream: s('file:///tmp/x') }), forged).length, 1);
});

test('Debug ops: grpc:// is network, file:// is file-write, empty or memcbk:// is nothing', () => {
  for (const op of ['DebugIdentity', 'DebugIdentityV2', 'DebugIdentityV3', 'DebugNanCount', 'DebugNumericSummary']) {
    assert.deepEqual(capabilitiesOf(node(op)), [], op);
    assert.deepEqual(capabilitiesOf(node(op, { debug_urls: sList() })), [], op);
    assert.deepEqual(capabilitiesOf(node(op, { debug_urls: sList('memcbk://hook') })), [], op);
    assert.deepEqual(capabilitiesOf(node(op, { debug_urls: sList('grpc://10.0.0.1:6064') })), ['network'], op);
    assert.deepEqual(capabilitiesOf(node(op, { debug_urls: sList('file:///tmp/dump') })), ['file-write'], op);
    assert.deepEqual(capabilitiesOf(node(op, { debug_urls: sList('file:///tmp/d', 'grpc://h:1') })), ['file-write', 'network'], op);
  }
  assert.deepEqual(capabilitiesOf(node('DebugNumericSummaryV2')), []);
});

test('DecodeProtoV2 / EncodeProto read a descriptor file only for a path descriptor_source', () => {
  for (const op of ['DecodeProtoV2', 'EncodeProto']) {
    assert.deepEqual(capabilitiesOf(node(op)), [], op);
    assert.deepEqual(capabilitiesOf(node(op, { descriptor_source: s('local://') })), [], op);
    assert.deepEqual(capabilitiesOf(node(op, { descriptor_source: s('bytes://\n\x05a.proto') })), [], op);
    assert.deepEqual(capabilitiesOf(node(op, { descriptor_source: s('/etc/descriptors.bin') })), ['file-read'], op);
  }
});

test('Send/Recv are network only across tasks', () => {
  const same = { send_device: s('/job:localhost/replica:0/task:0/device:CPU:0'), recv_device: s('/job:localhost/replica:0/task:0/device:GPU:0') };
  const cross = { send_device: s('/job:worker/replica:0/task:0/device:CPU:0'), recv_device: s('/job:ps/replica:0/task:3/device:CPU:0') };
  for (const op of ['Send', '_Send', '_HostSend', 'Recv', '_Recv', '_HostRecv']) {
    assert.deepEqual(capabilitiesOf(node(op, same)), [], op);
    assert.deepEqual(capabilitiesOf(node(op, cross)), ['network'], op);
  }
  assert.deepEqual(capabilityRules(node('_Send', cross))[0].targetAttrs, ['recv_device']);
  assert.deepEqual(capabilityRules(node('_Recv', cross))[0].targetAttrs, ['send_device']);
});

test('FixedUnigramCandidateSampler reads a file only with a vocab_file', () => {
  assert.deepEqual(capabilitiesOf(node('FixedUnigramCandidateSampler', { vocab_file: s('') })), []);
  assert.deepEqual(capabilitiesOf(node('FixedUnigramCandidateSampler', { vocab_file: s('/data/vocab.txt') })), ['file-read']);
});

test('unconditional rules for the classic primitives', () => {
  assert.deepEqual(capabilitiesOf(node('ReadFile')), ['file-read']);
  assert.deepEqual(capabilityRules(node('ReadFile'))[0].targetInputs, ['filename']);
  assert.deepEqual(capabilitiesOf(node('WriteFile')), ['file-write']);
  assert.deepEqual(capabilitiesOf(node('PyFunc')), ['python-code']);
  assert.deepEqual(capabilitiesOf(node('EagerPyFunc')), ['python-code']);
  assert.deepEqual(capabilitiesOf(node('PyFuncStateless')), ['python-code']);
  assert.deepEqual(capabilitiesOf(node('ImmutableConst')), ['file-read']);
  assert.deepEqual(capabilitiesOf(node('Tile')), ['resource-exhaustion']);
  assert.ok(isFileReaderOp('WholeFileReaderV2'));
  assert.equal(isFileReaderOp('IdentityReaderV2'), false);
});

test('Flex ops map to the TensorFlow op behind them', () => {
  assert.equal(flexToTensorFlowOp('FlexReadFile'), 'ReadFile');
  assert.equal(flexToTensorFlowOp('FlexPrintV2'), 'PrintV2');
  assert.equal(flexToTensorFlowOp('Flex'), 'Flex');
  assert.equal(flexToTensorFlowOp('CONV_2D'), 'CONV_2D');
  assert.deepEqual(capabilitiesOf(node(flexToTensorFlowOp('FlexWriteFile'))), ['file-write']);
});

test('unknown ops: not in TensorFlow registry → custom op; historic TF ops are known', () => {
  assert.equal(isUnknownOp('ZzCustomExfil'), true);
  assert.equal(isUnknownOp('MatMul'), false);
  assert.equal(isUnknownOp('TRTEngineOp'), false);
  assert.equal(isUnknownOp('FlexReadFile'), true);
  assert.equal(isUnknownOp('WordpieceTokenizeWithOffsets'), true, 'TF-Text ops are add-on native code, not TensorFlow');
});

// Each TensorAbuse model's attack primitive and the capabilities it must get, read from the
// real SavedModel with its real attrs (PROVENANCE.md describes each model).
const TABUSE_PRIMITIVES: Record<string, Record<string, Capability[]>> = {
  tabuse_CsvDataset_passwd: { CSVDatasetV2: ['file-read'] },
  tabuse_DataServiceDatasetV2: { DataServiceDatasetV4: ['network'] },
  tabuse_DistributedSave_passwd: { DistributedSave: ['file-write', 'network'], FixedLengthRecordDatasetV2: ['file-read'] },
  tabuse_ExperimentalMatchingFilesDataset: { MatchingFilesDataset: ['filesystem-enumeration'] },
  tabuse_FixedLengthRecordDatasetV2_local_file: { FixedLengthRecordDatasetV2: ['file-read'] },
  tabuse_ImmutableConst_local_file: { ImmutableConst: ['file-read'] },
  tabuse_ImmutableConst_passwd: { ImmutableConst: ['file-read'] },
  tabuse_MatchingFiles: { MatchingFiles: ['filesystem-enumeration'] },
  tabuse_MatchingFilesDataset: { MatchingFilesDataset: ['filesystem-enumeration'] },
  tabuse_RegisterDataset_get_content: { RegisterDatasetV2: ['network'] },
  tabuse_SaveSlices_tmp_file: { SaveSlices: ['file-write'] },
  tabuse_Save_tmp_file: { Save: ['file-write'] },
  tabuse_debug_identity_v3: { DebugIdentityV3: ['network'] },
  tabuse_demo_tensorabuse_savedmodel: { ImmutableConst: ['file-read'] },
  tabuse_printv2_local_file: { PrintV2: ['file-write'] },
  tabuse_printv2_tmp_file: { PrintV2: ['file-write'] },
  tabuse_rpc_call: { RpcClient: ['network'], RpcCall: ['network'] },
  tabuse_rpc_client: { RpcClient: ['network'], RpcCall: ['network'] },
};

for (const [model, primitives] of Object.entries(TABUSE_PRIMITIVES)) {
  test(`${model}: the attack primitive gets a capability rule (real attrs)`, { skip: skipWithoutCorpus }, () => {
    const { nodes } = decodeSavedModel(real(model));
    for (const [op, expected] of Object.entries(primitives)) {
      const found = nodes.filter((n) => n.node.op === op);
      assert.ok(found.length > 0, `${model} has no ${op} node`);
      // At least one node of the op carries the capability (tabuse_rpc_client's PrintV2s print to stderr).
      const withRules = found.filter((n) => capabilityRules(n.node, registryOpDef(op)).length > 0);
      assert.ok(withRules.length > 0, `${model}: no ${op} node got a rule`);
      for (const n of withRules) {
        const caps = [...new Set(capabilityRules(n.node, registryOpDef(op)).map((r) => r.capability))].sort();
        assert.deepEqual(caps, expected, `${model} ${n.fn}/${n.node.name}`);
      }
      for (const n of found) assert.equal(isUnknownOp(n.node.op), false);
    }
  });
}

test('tabuse_ImmutableConst_passwd: the path is the memory_region_name attr (/etc/passwd)', { skip: skipWithoutCorpus }, () => {
  const { nodes } = decodeSavedModel(real('tabuse_ImmutableConst_passwd'));
  const immutable = nodes.find((n) => n.node.op === 'ImmutableConst');
  assert.ok(immutable);
  const rule = capabilityRules(immutable.node)[0];
  assert.deepEqual(rule.targetAttrs, ['memory_region_name']);
  const value = immutable.node.attr.memory_region_name;
  assert.ok(value && value.type === 's');
  assert.equal(new TextDecoder().decode(value.s), '/etc/passwd');
});

test('tabuse_debug_identity_v3 carries debug_urls grpc://0.0.0.0:1111; its stderr PrintV2 elsewhere gets nothing', { skip: skipWithoutCorpus }, () => {
  const debug = decodeSavedModel(real('tabuse_debug_identity_v3')).nodes.find((n) => n.node.op === 'DebugIdentityV3');
  assert.ok(debug);
  const urls = debug.node.attr.debug_urls;
  assert.ok(urls && urls.type === 'list');
  assert.deepEqual((urls.list.s ?? []).map((b) => new TextDecoder().decode(b)), ['grpc://0.0.0.0:1111']);
  const prints = decodeSavedModel(real('tabuse_CsvDataset_passwd')).nodes.filter((n) => n.node.op === 'PrintV2');
  assert.ok(prints.length > 0);
  for (const p of prints) assert.deepEqual(capabilityRules(p.node), [], 'PrintV2 to stderr is not a file write');
});

test('tabuse_demo_lambda_savedmodel: its graph holds only benign ops and the saver (the attack is the Keras Lambda metadata)', { skip: skipWithoutCorpus }, () => {
  const { nodes } = decodeSavedModel(real('tabuse_demo_lambda_savedmodel'));
  for (const { node: n } of nodes) {
    assert.equal(isUnknownOp(n.op), false, n.op);
    for (const r of capabilityRules(n)) {
      // Only size-driven ops (dropout's RandomUniform) and the checkpoint saver every SavedModel carries.
      assert.ok(r.capability === 'resource-exhaustion' || r.saverMachinery === true, `${n.op} has ${r.capability}`);
    }
  }
});

test('crafted P6_custom_op: ZzCustomExfil is unknown even though its OpDef is in the stripped op list', { skip: skipWithoutCorpus }, () => {
  const { nodes, strippedOps } = decodeSavedModel(crafted('P6_custom_op'));
  const custom = nodes.find((n) => n.node.op === 'ZzCustomExfil');
  assert.ok(custom, 'ZzCustomExfil node present');
  assert.ok(strippedOps.some((o) => o.name === 'ZzCustomExfil'), 'its OpDef is in stripped_op_list');
  assert.equal(isUnknownOp('ZzCustomExfil', strippedOps), true);
  assert.equal(isTensorFlowOp('ZzCustomExfil'), false);
  assert.deepEqual(capabilityRules(custom.node), []);
  const others = nodes.filter((n) => n.node.op !== 'ZzCustomExfil').map((n) => n.node.op);
  for (const op of others) assert.equal(isUnknownOp(op, strippedOps), false, op);
});

test('capabilityRules never throws on hostile attrs and only returns catalogued rules (fuzz)', () => {
  const attrValue: fc.Arbitrary<AttrValue> = fc.oneof(
    fc.string({ maxLength: 40 }).map((t) => s(t)),
    fc.constantFrom('file:///x', 'grpc://h:1', 'memcbk://', 'local://', '/job:a/task:1', '/job:b/task:2').map((t) => s(t)),
    fc.array(fc.constantFrom('file:///x', 'grpc://h:1', '', 'memcbk://c', 'zz://'), { maxLength: 4 }).map((items) => sList(...items)),
    fc.integer().map((i): AttrValue => ({ type: 'i', i })),
    fc.constant<AttrValue>({ type: 'none' }),
    fc.constant<AttrValue>({ type: 'list', list: {} }),
  );
  const ops = fc.constantFrom(...catalogueOps(), 'MatMul', '__proto__', 'constructor', 'toString', 'ZzCustom');
  const names = fc.constantFrom('output_stream', 'debug_urls', 'descriptor_source', 'vocab_file', 'send_device', 'recv_device', '__proto__');
  fc.assert(
    fc.property(ops, fc.dictionary(names, attrValue, { maxKeys: 4 }), (op, attr) => {
      const rules = capabilityRules({ name: 'x', op, inputs: [], device: '', attr });
      const entry = catalogueEntry(op);
      for (const r of rules) assert.ok(entry.some((e) => e.capability === r.capability && e.description === r.description), op);
    }),
    { numRuns: 3000 },
  );
});

// Real TensorFlow confirms the attr conditions: its own defaults are harmless, and PrintV2
// with a file:// output_stream really appends to that file (run in a temp dir).

test('real TensorFlow: conditional attrs default to harmless values; PrintV2 file:// writes the file', { skip: skipWithoutTf }, () => {
  const dir = tempDir();
  const script = [
    'import json, os, sys',
    'import tensorflow as tf',
    'from tensorflow.python.framework import op_def_registry',
    'out = {}',
    'for op, name in json.loads(sys.argv[1]):',
    '    attr = [a for a in op_def_registry.get(op).attr if a.name == name][0].default_value',
    '    out[op + "." + name] = [s.decode() for s in attr.list.s] if attr.HasField("list") else attr.s.decode()',
    'tf.raw_ops.PrintV2(input="payload", output_stream="file://" + os.path.join(sys.argv[2], "printed.txt"))',
    'tf.raw_ops.PrintV2(input="to stderr", output_stream="stderr")',
    'out["files"] = sorted(os.listdir(sys.argv[2]))',
    'out["printed"] = open(os.path.join(sys.argv[2], "printed.txt")).read()',
    'print("RESULT" + json.dumps(out))',
  ].join('\n');
  const attrs: [string, string][] = [
    ['PrintV2', 'output_stream'],
    ...(['DebugIdentity', 'DebugIdentityV2', 'DebugIdentityV3', 'DebugNanCount', 'DebugNumericSummary'].map((op): [string, string] => [op, 'debug_urls'])),
    ['DecodeProtoV2', 'descriptor_source'],
    ['EncodeProto', 'descriptor_source'],
    ['FixedUnigramCandidateSampler', 'vocab_file'],
  ];
  const run = spawnSync(TF_PYTHON, ['-c', script, JSON.stringify(attrs), dir], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', CUDA_VISIBLE_DEVICES: '' },
    timeout: 300_000,
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT'));
  assert.ok(line, `TensorFlow run failed: ${run.stderr.slice(-2000)}`);
  const result = JSON.parse(line.slice('RESULT'.length)) as Record<string, unknown>;
  for (const [op, name] of attrs) {
    const value = result[`${op}.${name}`];
    const asNode = node(op, { [name]: Array.isArray(value) ? sList(...(value as string[])) : s(value as string) });
    assert.deepEqual(capabilityRules(asNode), [], `${op}.${name} default ${JSON.stringify(value)} must be harmless`);
  }
  assert.deepEqual(result.files, ['printed.txt'], 'only the file:// PrintV2 wrote a file');
  assert.equal(result.printed, 'payload\n');
});
