// Registry scanning without workers (a stand-in analyser): hashing, the cache key (files, tool,
// policy), failures as error entries, shards, JSONL reading for resume/merge. Models from
// ../shared/corpus/real, copied where a test changes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { discoverModels } from '../../../main/service/registry-discovery.ts';
import { RegistryCache, cacheKey, hashModel, registryExitCode, scanRegistry } from '../../../main/service/registry-scan.ts';
import { completeLinesLength, inShard, mergeEntries, parseShard, readRegistryJsonl, shardOf } from '../../../main/service/registry-shards.ts';
import { ApiFailure } from '../../../main/service/errors.ts';
import type { AnalyseRequest, AnalyseResult } from '../../../main/worker/analyse.ts';
import type { RegistryEntry } from '../../../shared/registry.ts';
import type { Finding } from '../../../shared/findings.ts';

function fakeResult(request: AnalyseRequest, severity: Finding['severity'] | null): AnalyseResult {
  const findings = severity ? [{ id: 'F1', rule: 'r', severity, capability: 'file-read', op: 'ReadFile', node: 'n', function: null, metaGraph: null, message: request.model, evidence: [], arguments: [], reachability: 'signature', entryPoints: [], trigger: { kind: 'none', variables: [], gates: [], activation: [] }, figure: { nodes: [], edges: [] }, recommendation: '' } as Finding] : [];
  return {
    summary: {} as AnalyseResult['summary'],
    report: { schemaVersion: 1, tool: { name: 'tfaudit', version: 't' }, model: { path: request.model, format: 'saved-model', files: [], tensorflowVersion: null }, checkpoints: [], findings, errors: [], analysis: { isolated: true, isolation: 'test', opsAnalysed: 1, functionsAnalysed: 0, unknownSemantics: [], notes: [] } },
  };
}

function registry(): string {
  const root = mkdtempSync(join(tmpdir(), 'tfaudit-scan-reg-'));
  cpSync(real('tabuse_MatchingFiles'), join(root, 'a'), { recursive: true });
  cpSync(real('dl4j_keras_optimizer_adam', 'adam.h5'), join(root, 'b.h5'));
  cpSync(real('rust_addition_graphdef', 'model.pb'), join(root, 'c.pb'));
  return root;
}

async function run(root: string, cache: RegistryCache | null, policy: string | null, analyse: (r: AnalyseRequest) => Promise<AnalyseResult>): Promise<RegistryEntry[]> {
  const entries: RegistryEntry[] = [];
  await scanRegistry({ root, models: discoverModels(root).models, analyse, concurrency: 2, cache, policy, onEntry: (e) => entries.push(e) });
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

test('a single-file model’s sha256 is the file’s; a folder’s is its manifest hash', { skip: skipWithoutCorpus }, async () => {
  const root = registry();
  const [a, b] = discoverModels(root).models;
  const hb = await hashModel(root, b!);
  assert.equal(hb.sha256, createHash('sha256').update(readFileSync(join(root, 'b.h5'))).digest('hex'));
  const ha = await hashModel(root, a!);
  const manifest = ha.files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
  assert.equal(ha.sha256, createHash('sha256').update(manifest).digest('hex'));
  assert.ok(ha.files.some((f) => f.path === 'a/variables/variables.index'));
});

test('the cache answers unchanged models and not changed files or another policy; failures are error entries, never cached', { skip: skipWithoutCorpus }, async () => {
  const root = registry();
  const cache = new RegistryCache(mkdtempSync(join(tmpdir(), 'tfaudit-cache-')));
  const calls: string[] = [];
  const analyse = async (r: AnalyseRequest) => {
    calls.push(r.model);
    if (r.model.endsWith('c.pb')) throw new ApiFailure('worker-crashed', 'analyzer worker was killed by SIGKILL while reading c.pb');
    return fakeResult(r, r.model.endsWith('/a') ? 'high' : null);
  };
  const first = await run(root, cache, null, analyse);
  assert.equal(calls.length, 3);
  assert.deepEqual(first.map((e) => [e.path, e.status, e.maxSeverity]), [['a', 'ok', 'high'], ['b.h5', 'ok', null], ['c.pb', 'error', null]]);
  assert.match(first[2]!.errors[0]!.message, /worker-crashed: .*SIGKILL/);
  assert.equal(registryExitCode(first, 'high'), 1);
  assert.equal(registryExitCode(first, 'critical'), 2);
  assert.equal(registryExitCode(first.slice(0, 2), 'critical'), 0);

  calls.length = 0;
  const second = await run(root, cache, null, analyse);
  assert.deepEqual(calls, [join(root, 'c.pb')], 'only the failed model is analysed again');
  assert.equal(second[0]!.cached, true);
  assert.deepEqual(second[0]!.findings, first[0]!.findings);

  appendFileSync(join(root, 'b.h5'), Buffer.from([0]));
  calls.length = 0;
  await run(root, cache, null, analyse);
  assert.deepEqual(calls.sort(), [join(root, 'b.h5'), join(root, 'c.pb')], 'a changed file is analysed again');

  const policy = join(root, '..', `policy-${Date.now()}.json`);
  writeFileSync(policy, '{"allow":["Const"]}');
  calls.length = 0;
  await run(root, cache, policy, analyse);
  assert.equal(calls.length, 3, 'another policy is another result');
  writeFileSync(join(cache.dir, 'torn.json'), '{"status":"ok"');
  assert.equal(cache.get('torn'), null);
});

test('--tf-runtime and --checkpoint-map reach every model’s request and key the cache: another runtime, none, or other remaps are analysed again', { skip: skipWithoutCorpus }, async () => {
  const root = registry();
  const cache = new RegistryCache(mkdtempSync(join(tmpdir(), 'tfaudit-cache-rt-')));
  const models = discoverModels(root).models;
  const requests: AnalyseRequest[] = [];
  const analyse = async (r: AnalyseRequest) => {
    requests.push(r);
    const result = fakeResult(r, null);
    return { ...result, report: { ...result.report, analysis: { ...result.report.analysis, ...(r.tfRuntime ? { tensorflowRuntime: r.tfRuntime } : {}) } } };
  };
  const scan = async (settings: { tfRuntime?: string | null; checkpointMaps?: string[] }) => {
    requests.length = 0;
    const entries: RegistryEntry[] = [];
    await scanRegistry({ root, models, analyse, concurrency: 2, cache, ...settings, onEntry: (e) => entries.push(e) });
    return entries;
  };
  await scan({});
  assert.equal(requests.length, 3);
  assert.ok(requests.every((r) => r.tfRuntime === undefined && r.checkpointMaps === undefined), 'nothing added to a plain run');

  const assessed = await scan({ tfRuntime: '2.4.1' });
  assert.equal(requests.length, 3, 'a cache without a runtime is not reused for one');
  assert.ok(requests.every((r) => r.tfRuntime === '2.4.1'));
  assert.ok(assessed.every((e) => e.cached === undefined && e.analysis?.tensorflowRuntime === '2.4.1'));

  const again = await scan({ tfRuntime: '2.4.1' });
  assert.equal(requests.length, 0);
  assert.ok(again.every((e) => e.cached === true && e.analysis?.tensorflowRuntime === '2.4.1'), 'the same runtime is answered from the cache');
  await scan({ tfRuntime: '2.4.2' });
  assert.equal(requests.length, 3, 'another runtime is another result');
  const plain = await scan({});
  assert.equal(requests.length, 0, 'the run without a runtime still finds its own results');
  assert.ok(plain.every((e) => e.analysis?.tensorflowRuntime === undefined));

  await scan({ checkpointMaps: ['old/=new/'] });
  assert.equal(requests.length, 3, 'remapped checkpoints are another result');
  assert.ok(requests.every((r) => JSON.stringify(r.checkpointMaps) === '["old/=new/"]'));
  await scan({ checkpointMaps: ['old/=new/', 'a/=b/'] });
  assert.equal(requests.length, 3);
  await scan({ checkpointMaps: ['old/=new/'] });
  assert.equal(requests.length, 0);

  const hashed = await hashModel(root, models[0]!);
  assert.notEqual(cacheKey(models[0]!, hashed, null, { tfRuntime: '2.4.1' }), cacheKey(models[0]!, hashed, null, { tfRuntime: '2.4.1', checkpointMaps: ['x/=y/'] }));
  assert.equal(cacheKey(models[0]!, hashed, null), cacheKey(models[0]!, hashed, null, { tfRuntime: null, checkpointMaps: [] }), 'caches written before these settings stay valid');
});

test('shard arithmetic: i/n parses strictly and shards partition any set of paths exactly', () => {
  assert.deepEqual(parseShard('2/8'), { index: 2, count: 8 });
  for (const bad of ['0/3', '4/3', '1/0', 'a/b', '1', '-1/3', '1/3/4']) assert.throws(() => parseShard(bad), /expected i\/n/);
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 30 }), { maxLength: 60 }), fc.integer({ min: 1, max: 9 }), (paths, n) => {
      const models = paths.map((relativePath) => ({ relativePath }));
      const parts = Array.from({ length: n }, (_, i) => inShard(models, { index: i + 1, count: n }).map((m) => m.relativePath));
      assert.deepEqual(parts.flat().sort(), [...paths].sort());
      for (const p of paths) assert.equal(shardOf(p, n), shardOf(p, n));
    }),
  );
});

test('the real corpus splits into shards of similar size', { skip: skipWithoutCorpus }, () => {
  const { models } = discoverModels(real());
  const sizes = [1, 2, 3, 4].map((i) => inShard(models, { index: i, count: 4 }).length);
  assert.equal(sizes.reduce((a, b) => a + b, 0), models.length);
  for (const s of sizes) assert.ok(s > models.length / 8, `shard sizes ${sizes}`);
});

test('JSONL reading: a torn last line is dropped for resume, refused for merge; merge keeps a later ok over an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfaudit-jsonl-'));
  const entry = (path: string, status: 'ok' | 'error', sha256 = 'x'): RegistryEntry => ({ path, format: 'saved-model', sha256, status, maxSeverity: null, counts: { critical: 0, high: 0, medium: 0, low: 0, info: 0 }, findings: [], errors: [], seconds: 1, checkpoints: [], files: [], tool: { name: 'tfaudit', version: 't' }, analysis: null, tensorflowVersion: null });
  const file = join(dir, 'a.jsonl');
  const full = `${JSON.stringify(entry('m1', 'ok'))}\n${JSON.stringify(entry('m2', 'error'))}\n`;
  writeFileSync(file, `${full}{"path":"m3","sta`);
  assert.deepEqual(readRegistryJsonl(file, true).map((e) => e.path), ['m1', 'm2']);
  assert.throws(() => readRegistryJsonl(file, false), /a\.jsonl:3: not a JSON line/);
  assert.equal(completeLinesLength(file), Buffer.byteLength(full));
  writeFileSync(join(dir, 'b.jsonl'), '{"hello":1}\n');
  assert.throws(() => readRegistryJsonl(join(dir, 'b.jsonl'), false), /b\.jsonl:1: not a tfaudit registry entry/);
  const merged = mergeEntries([
    { file: 'one', entries: [entry('m2', 'error'), entry('m1', 'ok')] },
    { file: 'two', entries: [entry('m2', 'ok'), entry('m1', 'ok', 'y')] },
  ]);
  assert.deepEqual(merged.entries.map((e) => [e.path, e.status, e.sha256]), [['m1', 'ok', 'y'], ['m2', 'ok', 'x']]);
  assert.match(merged.warnings[0]!, /m1: different contents in one and two/);
});
