// `tfaudit report-vuln` end to end on crafted case P1_trojan_if_writefile (If on variable
// `mode` → WriteFile, switched on by ckpt_active/ckpt), plus its input checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../main/cli/index.ts';
import { readSandboxRun, reportDate } from '../../../main/cli/report-vuln.ts';
import { crafted, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { syntheticSandboxRun } from '../report/synthetic-report.ts';

const P1 = crafted('P1_trojan_if_writefile');

test('report date honours SOURCE_DATE_EPOCH', () => {
  assert.equal(reportDate({ SOURCE_DATE_EPOCH: '1700000000' }), '2023-11-14T22:13:20.000Z');
  assert.equal(reportDate({}, () => new Date('2026-01-02T00:00:00Z')), '2026-01-02T00:00:00.000Z');
  assert.equal(reportDate({ SOURCE_DATE_EPOCH: 'soon' }, () => new Date(0)), '1970-01-01T00:00:00.000Z');
});

test('sandbox run files are checked before use', () => {
  const dir = tempDir();
  const good = join(dir, 'run.json');
  writeFileSync(good, JSON.stringify(syntheticSandboxRun()));
  assert.deepEqual(readSandboxRun(good).map((r) => r.runId), ['run-1']);
  // what `tfaudit sandbox --format json` writes: one run per checkpoint
  writeFileSync(good, JSON.stringify({ runs: [syntheticSandboxRun(), { ...syntheticSandboxRun(), runId: 'run-2' }], differences: [], disagreements: [] }));
  assert.deepEqual(readSandboxRun(good).map((r) => r.runId), ['run-1', 'run-2']);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ runId: 3 }));
  assert.throws(() => readSandboxRun(bad), /not a sandbox run report/);
  writeFileSync(bad, '{');
  assert.throws(() => readSandboxRun(bad), /not a readable JSON sandbox run/);
});

test('writes the draft for the most severe P1 finding, with the triggering checkpoint and a recorded run', { skip: skipWithoutCorpus }, async () => {
  const dir = tempDir();
  const out = join(dir, 'draft.md');
  const run = join(dir, 'run.json');
  writeFileSync(run, JSON.stringify(syntheticSandboxRun()));
  const ckpt = join(P1, 'ckpt_active', 'ckpt');
  const code = await main(['report-vuln', '--no-isolation', P1, '--checkpoint', ckpt, '--sandbox-run', run, '--output', out]);
  assert.equal(code, 0);
  const md = readFileSync(out, 'utf8');
  assert.match(md, /^# Draft vulnerability report: file writes in model `P1_trojan_if_writefile`/);
  assert.ok(md.includes('Unsafe op: `WriteFile`'));
  assert.ok(md.includes(`Checkpoint that triggers it: \`${ckpt}\``));
  assert.ok(md.includes(`tfaudit sandbox ${P1} --checkpoint ${ckpt}`));
  assert.ok(md.includes('`/tmp/tfaudit_canary`'));
  assert.ok(md.includes('### Recorded sandbox runs'));
});

test('unknown finding id and bad sandbox run file are usage errors', { skip: skipWithoutCorpus }, async () => {
  const dir = tempDir();
  assert.equal(await main(['report-vuln', '--no-isolation', P1, '--finding', 'F999', '--output', join(dir, 'x.md')]), 4);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '[]');
  assert.equal(await main(['report-vuln', '--no-isolation', P1, '--sandbox-run', bad]), 4);
});
