// `tfaudit scan DIR --recursive --tf-runtime` and `merge` on a registry of two real GraphDefs of
// ../shared/corpus/real: the LeNet of dl4j_tf_lenet_frozen (its Conv2D carries CVE-2021-29526,
// fixed in 2.4.2 on the 2.4 line) and rust_addition_graphdef (no op with an advisory). The runtime
// reaches every model's analysis, keys the cache, and is recorded in JSONL, JSON, SARIF, text, PDF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { REPO_ROOT, real, skipWithoutCorpus } from '../../helpers/corpus.ts';
import type { RegistryEntry } from '../../../shared/registry.ts';

const BIN = join(REPO_ROOT, 'bin', 'tfaudit.mjs');

function tfaudit(...args: string[]) {
  // The runtime and the cache are under test, not the OS sandbox: workers run without it.
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function scan(root: string, ...args: string[]) {
  return tfaudit('scan', root, '--recursive', '--jobs', '1', '--no-isolation', '--format', 'jsonl', ...args);
}

function lines(text: string): Record<string, RegistryEntry> {
  const entries = text.trim().split('\n').map((l) => JSON.parse(l) as RegistryEntry);
  return Object.fromEntries(entries.map((e) => [e.path, e]));
}

const knownVulnerabilities = (e: RegistryEntry) => e.findings.filter((f) => f.capability === 'known-vulnerability');

function buildRegistry(): string {
  const root = mkdtempSync(join(tmpdir(), 'tfaudit-registry-runtime-'));
  mkdirSync(join(root, 'vision'));
  cpSync(real('dl4j_tf_lenet_frozen', 'lenet_frozen.pb'), join(root, 'vision', 'lenet.pb'));
  cpSync(real('rust_addition_graphdef', 'model.pb'), join(root, 'addition.pb'));
  return root;
}

test('scan --recursive --tf-runtime: the advisory finding only where the runtime is affected, on both sides of the 2.4.2 fix; no usage error', { skip: skipWithoutCorpus }, () => {
  const root = buildRegistry();
  const affected = scan(root, '--tf-runtime', '2.4.1', '--fail-on', 'medium');
  assert.equal(affected.code, 1, affected.stderr);
  assert.doesNotMatch(affected.stderr, /not supported with --recursive/);
  const byPath = lines(affected.stdout);
  const lenet = knownVulnerabilities(byPath['vision/lenet.pb']!);
  assert.deepEqual(lenet.map((f) => [f.op, f.severity]), [['Conv2D', 'medium']]);
  assert.deepEqual(lenet[0]!.advisories!.map((a) => [a.id, a.fixedIn]), [['PYSEC-2021-454', '2.4.2']]);
  assert.deepEqual(knownVulnerabilities(byPath['addition.pb']!), []);
  for (const e of Object.values(byPath)) assert.equal(e.analysis?.tensorflowRuntime, '2.4.1', `${e.path} records the runtime`);
  assert.match(affected.stderr, /TensorFlow runtime assessed: 2\.4\.1/);

  // the same findings as one model scanned on its own
  const single = JSON.parse(tfaudit('scan', join(root, 'vision', 'lenet.pb'), '--tf-runtime', '2.4.1', '--format', 'json', '--no-isolation').stdout);
  assert.deepEqual(byPath['vision/lenet.pb']!.findings, single.findings);

  const fixed = scan(root, '--tf-runtime', '2.4.2', '--fail-on', 'medium');
  assert.equal(fixed.code, 0, fixed.stderr);
  for (const e of Object.values(lines(fixed.stdout))) {
    assert.deepEqual(knownVulnerabilities(e), [], `${e.path} on 2.4.2`);
    assert.equal(e.analysis?.tensorflowRuntime, '2.4.2');
  }
});

test('--cache: results without a runtime are not reused with one, nor one runtime’s for another or with --checkpoint-map; the same runtime is', { skip: skipWithoutCorpus }, () => {
  const root = buildRegistry();
  const cache = join(mkdtempSync(join(tmpdir(), 'tfaudit-runtime-cache-')), 'cache');
  const plain = lines(scan(root, '--cache', cache).stdout);
  assert.deepEqual(knownVulnerabilities(plain['vision/lenet.pb']!).map((f) => f.severity), ['info'], 'without a runtime: listed, not judged');

  const assessed = lines(scan(root, '--cache', cache, '--tf-runtime', '2.4.1').stdout);
  for (const e of Object.values(assessed)) assert.equal(e.cached, undefined, `${e.path} analysed again for the runtime`);
  assert.deepEqual(knownVulnerabilities(assessed['vision/lenet.pb']!).map((f) => f.severity), ['medium']);

  const again = lines(scan(root, '--cache', cache, '--tf-runtime', '2.4.1').stdout);
  for (const e of Object.values(again)) assert.equal(e.cached, true, `${e.path} from the cache`);
  assert.deepEqual(again['vision/lenet.pb']!.findings, assessed['vision/lenet.pb']!.findings);

  const remapped = lines(scan(root, '--cache', cache, '--tf-runtime', '2.4.1', '--checkpoint-map', 'old/=new/').stdout);
  for (const e of Object.values(remapped)) assert.equal(e.cached, undefined, `${e.path} analysed again with --checkpoint-map`);

  const other = lines(scan(root, '--cache', cache, '--tf-runtime', '2.4.2').stdout);
  for (const e of Object.values(other)) assert.equal(e.cached, undefined, `${e.path} analysed again for 2.4.2`);
  assert.deepEqual(knownVulnerabilities(other['vision/lenet.pb']!), []);

  const none = lines(scan(root, '--cache', cache).stdout);
  assert.equal(none['vision/lenet.pb']!.cached, true);
  assert.equal(none['vision/lenet.pb']!.analysis?.tensorflowRuntime, undefined, 'the plain run gets its own result back');
});

test('merge: JSON, SARIF and PDF record the runtime; shards assessed for different runtimes are named', { skip: skipWithoutCorpus }, () => {
  const root = buildRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'tfaudit-runtime-merge-'));
  const assessed = join(dir, 'assessed.jsonl');
  assert.equal(scan(root, '--tf-runtime', '2.4.1', '--output', assessed).code, 0);

  const json = JSON.parse(tfaudit('merge', assessed, '--format', 'json', '--root', root).stdout);
  assert.equal(json.tensorflowRuntime, '2.4.1');
  assert.equal(json.tensorflowRuntimes, undefined);
  const sarif = JSON.parse(tfaudit('merge', assessed, '--format', 'sarif', '--root', root).stdout);
  assert.equal(sarif.runs[0].properties.tensorflowRuntime, '2.4.1');
  const conv = sarif.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'known-vulnerability/Conv2D');
  assert.equal(conv.properties.tensorflowRuntime, '2.4.1');
  assert.equal(conv.properties.model, 'vision/lenet.pb');
  const pdf = join(dir, 'registry.pdf');
  assert.equal(tfaudit('merge', assessed, '--pdf', pdf, '--root', root, '--fail-on', 'medium').code, 1);
  const pdftotext = spawnSync('pdftotext', [pdf, '-'], { encoding: 'utf8' });
  if (!pdftotext.error) {
    assert.match(pdftotext.stdout, /TensorFlow runtime assessed: 2\.4\.1/);
    assert.match(pdftotext.stdout, /PYSEC-2021-454/);
  }

  // one shard with the runtime, one without: the merge says so rather than report one runtime
  const plain = join(dir, 'plain.jsonl');
  scan(root, '--output', plain);
  const lenetLine = readFileSync(assessed, 'utf8').split('\n').find((l) => l.includes('"vision/lenet.pb"'))!;
  const additionLine = readFileSync(plain, 'utf8').split('\n').find((l) => l.includes('"addition.pb"'))!;
  writeFileSync(join(dir, 'shard-1.jsonl'), `${lenetLine}\n`);
  writeFileSync(join(dir, 'shard-2.jsonl'), `${additionLine}\n`);
  const mixed = tfaudit('merge', join(dir, 'shard-1.jsonl'), join(dir, 'shard-2.jsonl'), '--format', 'json');
  assert.match(mixed.stderr, /different TensorFlow runtimes \(2\.4\.1, none\)/);
  const merged = JSON.parse(mixed.stdout);
  assert.equal(merged.tensorflowRuntime, null);
  assert.deepEqual(merged.tensorflowRuntimes, ['2.4.1', 'none']);
});
