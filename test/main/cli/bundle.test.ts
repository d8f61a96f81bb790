// The compiled CLI (scripts/build.mjs buildCli → dist/cli) as users run it: bin/tfaudit.mjs
// picks the bundles when they are current, `--help` and a scan of crafted/P1 work from them
// alone (the copy below has no node_modules and no sources within reach, so the tsx fallback
// could not run), the worker reports its own peak RSS through --stats, and a stale or
// source-forced run does not use the bundles. Built once into a temp dir, never into dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli, WORKER_HEAP_MB } from '../../../scripts/build.mjs';
import { REPO_ROOT, crafted, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { DEFAULT_WORKER_OPTIONS } from '../../../main/service/worker-client.ts';
import { analyzerV8Flags } from '../../../main/worker/protocol.ts';
import { isolationAvailable } from '../../../main/sandbox/analyzer-isolation.ts';
import { parseProtoFiles } from '../../../main/formats/protobuf.ts';

let built: Promise<string> | null = null;

/** A root holding only bin/tfaudit.mjs and dist/cli (+ dist/proto), built from this checkout. */
function compiledRoot(): Promise<string> {
  built ??= (async () => {
    const root = tempDir('tfaudit-cli-bundle-');
    mkdirSync(join(root, 'bin'));
    copyFileSync(join(REPO_ROOT, 'bin', 'tfaudit.mjs'), join(root, 'bin', 'tfaudit.mjs'));
    await buildCli(join(root, 'dist', 'cli'));
    return root;
  })();
  return built;
}

function run(root: string, args: string[], env: Record<string, string | undefined> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // The test runner forces the sources; these runs are about the compiled CLI.
  if (!('TFAUDIT_FROM_SOURCE' in env)) delete childEnv.TFAUDIT_FROM_SOURCE;
  const result = spawnSync(process.execPath, [join(root, 'bin', 'tfaudit.mjs'), ...args], { encoding: 'utf8', cwd: tempDir(), env: childEnv, timeout: 120_000, maxBuffer: 1 << 26 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('the compiled CLI runs --help on its own', { timeout: 120_000 }, async () => {
  const root = await compiledRoot();
  const help = run(root, ['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: tfaudit/);
  assert.match(help.stdout, /scan \[options\] <path>/);
  const scanHelp = run(root, ['scan', '--help']);
  assert.match(scanHelp.stdout, /--stats <file>/);
});

test('the compiled CLI scans crafted/P1 through its compiled worker, which reports its own peak RSS', { skip: skipWithoutCorpus, timeout: 180_000 }, async () => {
  const root = await compiledRoot();
  const model = crafted('P1_trojan_if_writefile');
  const stats = join(tempDir(), 'stats.json');
  const result = run(root, ['scan', model, '--checkpoint', join(model, 'ckpt_active', 'ckpt'), '--format', 'json', '--stats', stats]);
  assert.equal(result.code, 1, result.stderr); // a critical finding
  const report = JSON.parse(result.stdout);
  assert.equal(report.analysis.isolated, isolationAvailable() === true, report.analysis.isolation);
  const writeFile = report.findings.find((f: { op: string }) => f.op === 'WriteFile');
  assert.ok(writeFile, 'WriteFile finding missing');
  const states = Object.fromEntries(writeFile.trigger.activation.map((a: { checkpoint: string; state: string }) => [a.checkpoint.slice(model.length + 1), a.state]));
  assert.deepEqual(states, { 'variables/variables': 'dormant', 'ckpt_active/ckpt': 'active' });
  const { worker } = JSON.parse(readFileSync(stats, 'utf8'));
  assert.ok(worker.peakRssMb > 20 && worker.peakRssMb < 4096, `peak RSS ${worker.peakRssMb} MB`);
  assert.ok(worker.cpuMs > 0 && worker.wallMs >= worker.phases.parse);
  assert.deepEqual(Object.keys(worker.phases), ['startup', 'parse', 'analyse', 'summary', 'encode']);
  assert.deepEqual(Object.keys(worker.cpuPhases), Object.keys(worker.phases));
  const { cli } = JSON.parse(readFileSync(stats, 'utf8'));
  assert.ok(cli.cpuMs > 0 && cli.peakRssMb > 20, JSON.stringify(cli));
  assert.deepEqual(Object.keys(cli.phases), ['startup', 'launch', 'worker', 'answer', 'report']);
  // The worker compiled its bundle from the code cache the build wrote for the default heap cap.
  assert.equal(worker.codeCache, 'accepted');
});

test('the build writes the worker\'s code cache for the flags the CLI starts it with; another --memory compiles from source and still scans', { skip: skipWithoutCorpus, timeout: 180_000 }, async () => {
  const root = await compiledRoot();
  const info = JSON.parse(readFileSync(join(root, 'dist', 'cli', 'analyzer-bundle.cjs.v8cache.json'), 'utf8'));
  assert.deepEqual(info.execArgv, analyzerV8Flags(DEFAULT_WORKER_OPTIONS.memoryMb));
  assert.equal(WORKER_HEAP_MB, DEFAULT_WORKER_OPTIONS.memoryMb);
  const stats = join(tempDir(), 'stats.json');
  const model = real('serving_saved_model_half_plus_two_tf2_cpu', '00000123');
  const result = run(root, ['scan', model, '--format', 'json', '--memory', '2048', '--stats', stats]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).model.format, 'saved-model');
  assert.equal(JSON.parse(readFileSync(stats, 'utf8')).worker.codeCache, 'stale');
});

test('the compiled CLI\'s other commands still load on use (help lists them all; serve, report-vuln and merge answer)', { timeout: 120_000 }, async () => {
  const root = await compiledRoot();
  const help = run(root, ['--help']);
  for (const name of ['inspect', 'scan', 'sandbox', 'report-vuln', 'serve', 'demo', 'merge']) assert.match(help.stdout, new RegExp(`\\n  ${name} `), name);
  assert.match(run(root, ['serve', '--help']).stdout, /--max-upload-mb/);
  assert.match(run(root, ['sandbox', '--help']).stdout, /--runner <runner>/);
  const merge = run(root, ['merge', join(tempDir(), 'missing.jsonl')]);
  assert.notEqual(merge.code, 0);
  assert.match(merge.stderr, /missing\.jsonl/);
});

test('a stale build, or TFAUDIT_FROM_SOURCE=1, runs the sources instead of the bundles', { timeout: 120_000 }, async () => {
  const root = await compiledRoot();
  // The copy has no sources or tsx next to it: falling back shows as tsx missing.
  const forced = run(root, ['--help'], { TFAUDIT_FROM_SOURCE: '1' });
  assert.notEqual(forced.code, 0);
  assert.match(forced.stderr, /tsx/);
  // Point the build's source list at a file edited after the build.
  const sources = tempDir('tfaudit-cli-sources-');
  writeFileSync(join(sources, 'edited.ts'), 'export {};\n');
  const future = new Date(Date.now() + 60_000);
  utimesSync(join(sources, 'edited.ts'), future, future);
  const infoFile = join(root, 'dist', 'cli', 'build-info.json');
  const info = readFileSync(infoFile, 'utf8');
  try {
    writeFileSync(infoFile, JSON.stringify({ ...JSON.parse(info), root: sources, sources: ['edited.ts'] }));
    const stale = run(root, ['--help']);
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /tsx/);
  } finally {
    writeFileSync(infoFile, info);
  }
  assert.equal(run(root, ['--help']).code, 0, 'current again once the source list is');
});

test('the schema the bundles load as JSON is the one the sources parse from main/proto', async () => {
  const root = await compiledRoot();
  const shipped = JSON.parse(readFileSync(join(root, 'dist', 'cli', 'proto-schema.json'), 'utf8'));
  assert.deepEqual(shipped, JSON.parse(JSON.stringify(parseProtoFiles().toJSON())));
});
