// Generates policies/strict-inference.json: the ops a model meant only for inference needs.
// Derived from TensorFlow's op registry minus
//   - every op the capability catalogue marks (files, network, Python, process; conditional
//     ones such as PrintV2 and the Debug ops included), except pure size-driven ops
//     (Fill, Tile, Range, …), which every model uses and which the analysis judges by value;
//   - TensorFlow's checkpoint machinery (SaveV2, RestoreV2, ShardedFilename, …);
//   - stateful ops, except the handful listed in STATEFUL_ALLOWED (variables, lookup tables,
//     TensorArrays, asserts, classic random ops, function calls);
//   - families that have no place in serving: tf.data, queues and readers, summaries,
//     collectives, TPU and device-transfer ops, internal `_` ops, TensorFlow's test ops.
// Run: npx tsx scripts/gen-strict-policy.ts [output]
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registryOpDef, registryOpNames, registryVersion } from '../main/analysis/op-registry.ts';
import { catalogueEntry, isSaverMachineryOp } from '../main/analysis/catalogue.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Stateful ops an inference graph legitimately contains. */
const STATEFUL_ALLOWED = new Set([
  // Variables: creation, reads, and the assignments TF1 init and restore graphs carry.
  'VarHandleOp', 'ReadVariableOp', 'VariableV2', 'Variable', 'VarIsInitializedOp', 'IsVariableInitialized',
  'Assign', 'AssignVariableOp', 'DisableCopyOnRead', 'DestroyResourceOp', 'ResourceGather', 'ResourceGatherNd',
  // Function calls and functional control flow (their bodies are checked op by op).
  'StatefulPartitionedCall', 'If', 'While', 'Case', 'For',
  // Lookup tables initialised from tensors in the graph (not from files).
  'HashTable', 'HashTableV2', 'MutableHashTable', 'MutableHashTableV2', 'MutableHashTableOfTensors',
  'MutableHashTableOfTensorsV2', 'MutableDenseHashTable', 'MutableDenseHashTableV2', 'AnonymousHashTable',
  'AnonymousMutableHashTable', 'AnonymousMutableHashTableOfTensors', 'AnonymousMutableDenseHashTable',
  'InitializeTable', 'InitializeTableV2', 'LookupTableFind', 'LookupTableFindV2', 'LookupTableSize',
  'LookupTableSizeV2', 'LookupTableImport', 'LookupTableImportV2', 'LookupTableExport', 'LookupTableExportV2',
  'LookupTableInsert', 'LookupTableInsertV2', 'LookupTableRemoveV2',
  // TensorArrays (TF1 dynamic_rnn, tf.map_fn in TF1 graphs).
  'TensorArrayV3', 'TensorArrayReadV3', 'TensorArrayWriteV3', 'TensorArrayGatherV3', 'TensorArrayScatterV3',
  'TensorArraySizeV3', 'TensorArrayCloseV3', 'TensorArrayConcatV3', 'TensorArraySplitV3', 'TensorArrayGradV3',
  // Checks and classic random ops (dropout, sampling) found in exported Keras graphs.
  'Assert', 'RandomUniform', 'RandomUniformInt', 'RandomStandardNormal', 'TruncatedNormal', 'RandomShuffle',
  'Multinomial', 'RandomGamma', 'RandomPoisson', 'RandomPoissonV2', 'ParameterizedTruncatedNormal',
]);

/** Name families excluded even when the registry marks them pure. */
const EXCLUDED_PATTERNS: RegExp[] = [
  /^_/, // internal ops inserted by the runtime (_Send, _Recv, _Mkl*, …)
  /Dataset/,
  /Iterator/,
  /^Optional/,
  /Summary/,
  /Reader/,
  /Queue/,
  /^Debug/,
  /^Py/,
  /^EagerPyFunc$/,
  /^Collective/,
  /^Nccl/,
  /^Rpc/,
  /TPU|Tpu/,
  /Infeed|Outfeed/,
  /^Xla(Send|Recv)/,
  /^(Send|Recv)$/,
  /Print/,
  /^Experimental/,
  /^(Save|Restore)/,
  /Checkpoint/,
  /^BoostedTrees/,
  /^(Stack|StackV2|StackPush|StackPop|StackClose)/,
  /^(Barrier|Accumulator|ConditionalAccumulator|SparseConditionalAccumulator)/,
  /SessionHandle|SessionTensor/,
  /^(Stage|Unstage|MapStage|MapUnstage|OrderedMap)/,
  /^(DatasetFromGraph|DatasetToGraph)/,
  /^(ImmutableConst|ReadFile|WriteFile|MatchingFiles)$/,
];

/** TensorFlow's test-only ops (tensorflow/python/framework/test_ops.cc), registered in the pip package. */
const TEST_OPS = new Set([
  'A', 'Attr', 'AttrBool', 'AttrBoolList', 'AttrDefault', 'AttrEmptyListDefault', 'AttrEnum', 'AttrEnumList', 'AttrFloat',
  'AttrListDefault', 'AttrListMin', 'AttrListTypeDefault', 'AttrMin', 'AttrPartialShape', 'AttrPartialShapeList', 'AttrShape',
  'AttrShapeList', 'AttrTypeDefault', 'B', 'Binary', 'ComplexStruct', 'CopyOp', 'DefaultAttrs', 'DevicePlacementOp',
  'DtypeWithDefaultOp', 'FiveFloatOutputs', 'FloatInput', 'FloatOutput', 'FloatOutputStringOutput', 'Foo1', 'Foo2', 'Foo3',
  'FuncAttr', 'FuncListAttr', 'GetDeadline', 'GraphDefVersion', 'InPolymorphicTwice', 'Int64Output', 'IntAttr', 'IntInput',
  'IntInputFloatInput', 'IntInputIntOutput', 'IntOutput', 'IntOutputFloatOutput', 'IsResourceHandleRefCounting',
  'IsTensorFloat32Enabled', 'KernelLabel', 'KernelLabelRequired', 'ListInput', 'ListOutput', 'MakeWeakResourceHandle',
  'MixedStruct', 'NInPolymorphicTwice', 'NInTwice', 'NInTwoTypeVariables', 'NIntsIn', 'NIntsOut', 'NIntsOutDefault',
  'NPolymorphicIn', 'NPolymorphicOut', 'NPolymorphicOutDefault', 'NPolymorphicRestrictIn', 'NPolymorphicRestrictOut',
  'Namespace>TestStringOutput', 'None', 'Old', 'OpWithDefaultAttr', 'OpWithFutureDefaultAttr', 'OutT', 'OutTypeList',
  'OutTypeListRestrict', 'Polymorphic', 'PolymorphicDefaultOut', 'PolymorphicOut', 'RefIn', 'RefInputFloatInput',
  'RefInputFloatInputIntOutput', 'RefInputIntInput', 'RefOut', 'RefOutput', 'RefOutputFloatOutput', 'RequiresOlderGraphVersion',
  'ReservedAttr', 'ReservedInput', 'ResourceCreateOp', 'ResourceInitializedOp', 'ResourceUsingOp', 'Restrict', 'Simple',
  'SimpleStruct', 'SleepIdentityOp', 'SleepOp', 'StringListAttr', 'StubResourceHandleOp', 'TestAttr', 'TestStringOutput',
  'TwoFloatInputs', 'TwoFloatInputsFloatOutput', 'TwoFloatInputsIntOutput', 'TwoFloatOutputs', 'TwoIntInputs', 'TwoIntOutputs',
  'TwoRefsIn', 'TypeList', 'TypeListRestrict', 'TypeListTwice', 'Unary',
]);

export function strictInferenceOps(): string[] {
  const allowed: string[] = [];
  for (const op of registryOpNames()) {
    if (TEST_OPS.has(op)) continue;
    if (EXCLUDED_PATTERNS.some((pattern) => pattern.test(op)) && !STATEFUL_ALLOWED.has(op)) continue;
    if (isSaverMachineryOp(op)) continue;
    if (catalogueEntry(op).some((rule) => rule.capability !== 'resource-exhaustion')) continue;
    const def = registryOpDef(op);
    if (!def) continue;
    if (def.isStateful && !STATEFUL_ALLOWED.has(op)) continue;
    allowed.push(op);
  }
  return allowed.sort();
}

function main(): void {
  const output = resolve(process.argv[2] ?? resolve(ROOT, 'policies', 'strict-inference.json'));
  const allow = strictInferenceOps();
  const policy = {
    name: 'strict-inference',
    description:
      `Ops an inference-only model needs (TensorFlow ${registryVersion()} registry): math, neural-network, array, string and ` +
      'control-flow ops, variable reads, lookup tables filled from the graph. Excludes every op that reads or writes files, ' +
      'talks to the network, calls Python or acts on the process, tf.data, checkpoint save/restore, Debug and Print ops, ' +
      'summaries, queues, collectives, TPU ops and custom ops. Generated by scripts/gen-strict-policy.ts.',
    allow,
  };
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, `${JSON.stringify(policy, null, 2)}\n`);
  console.log(`${allow.length} ops -> ${output}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
