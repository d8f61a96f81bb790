// scanModel against the reference corpus: the crafted cases P1..P6 (expect.json is the ground
// truth) and every real TensorFlow-written model (tabuse_* attacks must be caught with their
// target; the benign models must give nothing at medium or above).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crafted, real, REAL, CRAFTED, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { openModel } from '../../../main/formats/index.ts';
import { openCheckpoint } from '../../../main/formats/tensorbundle.ts';
import { scanModel, type ScanCheckpoint } from '../../../main/analysis/scan.ts';
import { atLeast, type Finding, type ScanReport, type Severity } from '../../../shared/findings.ts';
import type { ModelIR } from '../../../shared/ir.ts';

interface Expect {
  must: { capability: string; trigger: string; variables: string[]; activation: Record<string, string> }[];
  mustNot: { capability: string; minSeverity: Severity }[];
}

async function scanCrafted(name: string): Promise<ScanReport> {
  const dir = crafted(name);
  const model = await openModel(dir);
  const checkpoints: ScanCheckpoint[] = [];
  if (model.checkpoint) checkpoints.push({ label: 'variables/variables', checkpoint: model.checkpoint });
  if (existsSync(join(dir, 'ckpt_active', 'ckpt.index'))) checkpoints.push({ label: 'ckpt_active/ckpt', checkpoint: await openCheckpoint(join(dir, 'ckpt_active', 'ckpt')) });
  return scanModel(model, { checkpoints, toolVersion: 'test' });
}

const craftedCases = existsSync(CRAFTED) ? readdirSync(CRAFTED).filter((d) => /^P[1-6]_/.test(d)).sort() : [];

for (const name of craftedCases) {
  test(`crafted ${name} yields what expect.json says`, { skip: skipWithoutCorpus }, async () => {
    const expect = JSON.parse(readFileSync(crafted(name, 'expect.json'), 'utf8')) as Expect;
    const report = await scanCrafted(name);
    assert.deepEqual(report.errors, []);
    for (const m of expect.must) {
      const matching = report.findings.filter(
        (f) =>
          f.capability === m.capability &&
          f.trigger.kind === m.trigger &&
          m.variables.every((v) => f.trigger.variables.some((k) => k.includes(v))) &&
          (m.variables.length > 0 || f.trigger.variables.length === 0) &&
          Object.entries(m.activation).every(([ck, state]) => f.trigger.activation.find((a) => a.checkpoint === ck)?.state === state),
      );
      assert.ok(matching.length > 0, `${name}: no finding matches ${JSON.stringify(m)}; got ${JSON.stringify(report.findings.map((f) => [f.capability, f.node, f.trigger.kind, f.trigger.variables, f.trigger.activation.map((a) => a.state)]))}`);
      for (const f of matching) {
        assert.ok(f.evidence.length >= 2, 'evidence chain');
        assert.equal(f.evidence[f.evidence.length - 1].endsWith(`(${f.op})`), true, 'chain ends at the unsafe op');
        assert.ok(f.figure.nodes.some((n) => n.kind === 'unsafe'));
      }
    }
    for (const m of expect.mustNot) {
      const bad = report.findings.filter((f) => f.capability === m.capability && atLeast(f.severity, m.minSeverity));
      assert.deepEqual(bad.map((f) => `${f.severity} ${f.node}`), [], `${name}: unexpected ${m.capability} at ≥ ${m.minSeverity}`);
    }
    assert.deepEqual(report.findings.map((f) => f.id), report.findings.map((_, i) => `F${i + 1}`));
  });
}

test('P1: the trojan WriteFile is critical, names its target, and its chain starts at the variable', { skip: skipWithoutCorpus }, async () => {
  const report = await scanCrafted('P1_trojan_if_writefile');
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.severity, 'critical');
  assert.equal(f.arguments[0].value, '/tmp/tfaudit_canary');
  assert.match(f.evidence[0], /mode/);
  assert.ok(f.evidence.some((e) => e.includes('(If)')));
  assert.equal(f.trigger.gates[0].branch, 'then_branch');
  assert.equal(f.trigger.activation[1].values['mode/.ATTRIBUTES/VARIABLE_VALUE'], '1');
  assert.deepEqual(report.checkpoints, [{ path: 'variables/variables' }, { path: 'ckpt_active/ckpt' }]);
});

test('P2: TF1 Switch gate resolves the ReadFile path through the Switch and keys the variable by its bare name', { skip: skipWithoutCorpus }, async () => {
  const report = await scanCrafted('P2_tf1_switch_readfile');
  const f = report.findings.find((x) => x.op === 'ReadFile')!;
  assert.deepEqual(f.trigger.variables, ['flag']);
  assert.equal(f.arguments[0].value, '/etc/passwd');
  assert.equal(f.arguments[0].classification, 'sensitive-path');
  assert.equal(f.trigger.gates[0].op, 'Switch');
  assert.equal(f.trigger.gates[0].branch, 'output_true');
});

test('P4: the decoy behind Const(false) is info and not attributed to the toggle variable', { skip: skipWithoutCorpus }, async () => {
  const report = await scanCrafted('P4_decoy_constant_pred');
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.severity, 'info');
  assert.deepEqual(f.trigger.variables, []);
});

test('P5: Tile multiples from a variable: element count and bytes per checkpoint', { skip: skipWithoutCorpus }, async () => {
  const report = await scanCrafted('P5_tile_dos');
  const f = report.findings.find((x) => x.capability === 'resource-exhaustion')!;
  assert.equal(f.severity, 'critical');
  const active = f.trigger.activation.find((a) => a.checkpoint === 'ckpt_active/ckpt')!;
  assert.equal(active.values.elements, String(1e10));
  assert.equal(active.values.bytes, String(4e10));
  assert.equal(f.trigger.activation[0].values.elements, '1');
});

// ---------------------------------------------------------------------------------------------
// Real corpus.

const MODEL_FILE = /\.(pb|pbtxt|meta|tflite|h5|hdf5|keras|cpb)$|^checkpoint$/;

/** Every model in a corpus folder: the folder itself when it opens, else the models inside it. */
async function modelsIn(dir: string, depth = 0): Promise<ModelIR[]> {
  try {
    return [await openModel(dir)];
  } catch {
    if (depth > 3) return [];
  }
  const out: ModelIR[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...(await modelsIn(full, depth + 1)));
    else if (MODEL_FILE.test(name) && !/^(fingerprint|keras_metadata|saved_model_config)\.pb$/.test(name)) {
      try {
        out.push(await openModel(full));
      } catch {
        // Not a model on its own (intentionally broken files are the readers' tests).
      }
    }
  }
  return out;
}

async function scanFolder(folder: string): Promise<{ reports: ScanReport[] }> {
  const reports: ScanReport[] = [];
  for (const model of await modelsIn(real(folder))) {
    const checkpoints = model.checkpoint ? [{ label: `${folder}/variables/variables`, checkpoint: model.checkpoint }] : [];
    reports.push(await scanModel(model, { checkpoints, toolVersion: 'test' }));
  }
  return { reports };
}

const realFolders = existsSync(REAL) ? readdirSync(REAL).filter((d) => statSync(join(REAL, d)).isDirectory()).sort() : [];
const excluded = (d: string) => d.startsWith('binja_') || d === 'dl4j_keras_lambda';

/** Strings each attack's report must show (its resolved path or address), from PROVENANCE.md. */
const ATTACK_TARGETS: Record<string, string> = {
  tabuse_CsvDataset_passwd: '/etc/passwd',
  tabuse_DataServiceDatasetV2: '172.24.89.186:1236',
  tabuse_DistributedSave_passwd: '172.24.89.186:1235',
  tabuse_ExperimentalMatchingFilesDataset: './*.py',
  tabuse_FixedLengthRecordDatasetV2_local_file: './test',
  tabuse_ImmutableConst_local_file: './test.txt',
  tabuse_ImmutableConst_passwd: '/etc/passwd',
  tabuse_MatchingFiles: './*.py',
  tabuse_MatchingFilesDataset: './*.py',
  tabuse_RegisterDataset_get_content: '172.24.89.186:1236',
  tabuse_SaveSlices_tmp_file: '/tmp/test2.txt',
  tabuse_Save_tmp_file: '/tmp/test.txt',
  tabuse_debug_identity_v3: 'grpc://0.0.0.0:1111',
  tabuse_demo_lambda_savedmodel: 'exploit',
  tabuse_demo_tensorabuse_savedmodel: '/etc/passwd',
  tabuse_printv2_local_file: 'file://./payload',
  tabuse_printv2_tmp_file: 'file:///tmp/payload',
  tabuse_rpc_call: '172.24.89.186:1111',
  tabuse_rpc_client: '172.24.89.186:1235',
};

test('the corpus has the 19 TensorAbuse attacks this table names', { skip: skipWithoutCorpus }, () => {
  assert.deepEqual(realFolders.filter((d) => d.startsWith('tabuse_')), Object.keys(ATTACK_TARGETS).sort());
});

const shown = (f: Finding) => JSON.stringify([f.message, f.arguments, f.details ?? {}, f.evidence]);

for (const folder of realFolders.filter((d) => !excluded(d))) {
  const attack = folder.startsWith('tabuse_');
  test(`real ${folder}: ${attack ? 'attack caught with its target' : 'benign, nothing at medium or above'}`, { skip: skipWithoutCorpus }, async () => {
    const { reports } = await scanFolder(folder);
    const findings = reports.flatMap((r) => r.findings);
    const serious = findings.filter((f) => atLeast(f.severity, 'medium'));
    if (attack) {
      assert.ok(reports.length > 0, 'the model opens');
      const target = ATTACK_TARGETS[folder];
      assert.ok(
        serious.some((f) => shown(f).includes(target)),
        `${folder}: no medium+ finding shows ${target}: ${JSON.stringify(serious.map((f) => [f.severity, f.op, f.arguments]))}`,
      );
    } else {
      assert.deepEqual(serious.map((f) => `${f.severity} ${f.capability} ${f.function ?? ''}/${f.node} (${f.op})`), []);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Op policy, custom ops and add-on libraries on a model built with our writer.

import { buildAndScan, call, fn, node as wnode, scalar, signature } from './models.ts';
import type { OpPolicy } from '../../../main/analysis/policy.ts';

test('op policy: one finding per op type outside the allowlist; unknown ops are custom-op, known add-on ops low', async () => {
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    wnode('a', 'Softmax', ['x']),
    wnode('b', 'Softmax', ['a:softmax:0']),
    wnode('evil', 'QqTotallyNativeKernel', ['b:softmax:0']),
    wnode('tok', 'WordpieceTokenizeWithOffsets', ['x']),
    wnode('Identity', 'Identity', ['b:softmax:0', '^evil', '^tok']),
  ], { y: 'Identity:output:0' });
  const dir = await buildAndScanWithPolicy(main);
  const policy = dir.findings.filter((f) => f.capability === 'policy');
  assert.deepEqual(policy.map((f) => f.op).sort(), ['QqTotallyNativeKernel', 'Softmax', 'WordpieceTokenizeWithOffsets']);
  assert.equal(policy.find((f) => f.op === 'Softmax')!.details?.policyNodes, '2');
  const custom = dir.findings.filter((f) => f.capability === 'custom-op');
  assert.equal(custom.find((f) => f.op === 'QqTotallyNativeKernel')!.severity, 'high');
  const addon = custom.find((f) => f.op === 'WordpieceTokenizeWithOffsets')!;
  assert.equal(addon.severity, 'low');
  assert.equal(addon.details?.library, 'TensorFlow Text');
});

async function buildAndScanWithPolicy(main: ReturnType<typeof fn>): Promise<ScanReport> {
  const report = await buildAndScan({
    nodes: [wnode('x', 'Placeholder'), call('serve', 'main', ['x'])],
    library: [main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
    policy: { name: 'test', description: '', file: '', allow: new Set(['Placeholder', 'StatefulPartitionedCall', 'Identity', 'Const']), allowPatterns: [], warnings: [] } satisfies OpPolicy,
  });
  return report;
}
