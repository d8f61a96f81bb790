// Proves op allowlist policies: loading and validation of policy files (errors name the file),
// matching by name and pattern, and the shipped policies/strict-inference.json against the real
// corpus (the TensorAbuse primitives are outside it, the benign models' compute ops inside it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOpPolicy, parseOpPolicy, policyAllows, policyViolations, PolicyError } from '../../../main/analysis/policy.ts';
import { catalogueEntry, isSaverMachineryOp } from '../../../main/analysis/catalogue.ts';
import { isTensorFlowOp } from '../../../main/analysis/op-registry.ts';
import { strictInferenceOps } from '../../../scripts/gen-strict-policy.ts';
import { REPO_ROOT, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

const STRICT = join(REPO_ROOT, 'policies', 'strict-inference.json');

function writePolicy(content: string): string {
  const file = join(tempDir(), 'policy.json');
  writeFileSync(file, content);
  return file;
}

test('a valid policy loads; names and patterns allow ops', () => {
  const file = writePolicy(JSON.stringify({ name: 'mini', description: 'tiny', allow: ['MatMul', 'AddV2'], allowPatterns: ['^Stateless'] }));
  const policy = loadOpPolicy(file);
  assert.equal(policy.name, 'mini');
  assert.equal(policy.file, file);
  assert.ok(policyAllows(policy, 'MatMul'));
  assert.ok(policyAllows(policy, 'StatelessIf'));
  assert.equal(policyAllows(policy, 'ReadFile'), false);
  assert.deepEqual(policy.warnings, []);
  const uses = new Map([['ReadFile', ['f/read']], ['MatMul', ['m']], ['AddV2', ['a']], ['WriteFile', ['w']]]);
  assert.deepEqual(policyViolations(policy, uses), [
    { op: 'ReadFile', uses: ['f/read'] },
    { op: 'WriteFile', uses: ['w'] },
  ]);
});

test('invalid policies fail with errors that name the file and the reason', () => {
  const cases: [string, RegExp][] = [
    ['{not json', /not valid JSON/],
    ['[]', /JSON object/],
    ['{"description":"x","allow":[]}', /"name"/],
    ['{"name":"x"}', /"allow" is missing/],
    ['{"name":"x","allow":"MatMul"}', /"allow" must be an array/],
    ['{"name":"x","allow":[1]}', /"allow\[0\]" must be a string/],
    ['{"name":"x","allow":["Mat Mul"]}', /not an op name/],
    ['{"name":"x","allow":[],"allowPatterns":["("]}', /allowPatterns\[0\]" is not a valid regular expression/],
    ['{"name":"x","allow":[],"deny":["ReadFile"]}', /unknown key "deny"/],
  ];
  for (const [content, reason] of cases) {
    const file = writePolicy(content);
    assert.throws(
      () => loadOpPolicy(file),
      (error: unknown) => error instanceof PolicyError && error.file === file && reason.test(error.message) && error.message.startsWith(file),
      content,
    );
  }
  assert.throws(() => loadOpPolicy('/nonexistent/policy.json'), /policy file not found/);
});

test('names that are not TensorFlow ops are warned about, not rejected', () => {
  const policy = parseOpPolicy({ name: 'x', allow: ['MatMull', 'MatMul'] }, 'inline.json');
  assert.equal(policy.warnings.length, 1);
  assert.match(policy.warnings[0], /MatMull/);
  assert.ok(policyAllows(policy, 'MatMull'));
});

test('policies/strict-inference.json is valid, current, and excludes every I/O op', () => {
  const policy = loadOpPolicy(STRICT);
  assert.equal(policy.name, 'strict-inference');
  assert.deepEqual(policy.warnings, []);
  const shipped = (JSON.parse(readFileSync(STRICT, 'utf8')) as { allow: string[] }).allow;
  assert.deepEqual(shipped, strictInferenceOps(), 'regenerate with npx tsx scripts/gen-strict-policy.ts');
  for (const op of shipped) {
    assert.ok(isTensorFlowOp(op), op);
    assert.equal(isSaverMachineryOp(op), false, op);
    assert.ok(catalogueEntry(op).every((r) => r.capability === 'resource-exhaustion'), op);
  }
  for (const op of ['MatMul', 'Conv2D', 'Relu', 'Softmax', 'If', 'StatelessWhile', 'StatefulPartitionedCall', 'VarHandleOp', 'ReadVariableOp',
    'VariableV2', 'Switch', 'Merge', 'Enter', 'Exit', 'NextIteration', 'LoopCond', 'Const', 'Placeholder', 'Identity', 'Fill', 'Tile',
    'StringJoin', 'HashTableV2', 'LookupTableFindV2', 'TensorListReserve', 'ParseExampleV2']) {
    assert.ok(policyAllows(policy, op), `${op} should be allowed`);
  }
  for (const op of ['ReadFile', 'WriteFile', 'ImmutableConst', 'PrintV2', 'Print', 'SaveV2', 'RestoreV2', 'MergeV2Checkpoints',
    'ShardedFilename', 'PyFunc', 'EagerPyFunc', 'DebugIdentityV3', 'RpcCall', 'TFRecordDatasetV2', 'TensorSliceDataset',
    'MakeIterator', 'MatchingFiles', 'CollectiveReduceV2', '_Send', 'WriteScalarSummary', 'DecodeProtoV2', 'Abort', 'FIFOQueueV2',
    'InitializeTableFromTextFileV2', 'A', 'SleepOp']) {
    assert.equal(policyAllows(policy, op), false, `${op} should not be allowed`);
  }
});

test('strict-inference on the real corpus: every tabuse primitive is a violation', { skip: skipWithoutCorpus }, () => {
  const policy = loadOpPolicy(STRICT);
  const facts = JSON.parse(readFileSync(real('FACTS.json'), 'utf8')) as Record<string, unknown>;
  const primitives = ['CSVDatasetV2', 'DataServiceDatasetV4', 'DistributedSave', 'MatchingFilesDataset', 'FixedLengthRecordDatasetV2',
    'ImmutableConst', 'MatchingFiles', 'RegisterDatasetV2', 'SaveSlices', 'Save', 'DebugIdentityV3', 'PrintV2', 'RpcCall', 'RpcClient'];
  for (const op of primitives) {
    const users = Object.keys(facts).filter((m) => m.startsWith('tabuse_') && JSON.stringify(facts[m]).includes(`"${op}"`));
    assert.ok(users.length > 0, `${op} appears in a tabuse model`);
    const violations = policyViolations(policy, new Map([[op, users]]));
    assert.equal(violations.length, 1, op);
  }
});
