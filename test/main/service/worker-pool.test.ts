// The batch worker pool: long-lived workers serve many models each; a model that crashes its
// worker or runs past the limit is that model's error and a fresh worker takes the next one;
// workers are recycled after N models or past an RSS threshold. Misbehaviour comes from a
// fixture worker (test/fixtures/worker/serve-fixture.mjs); the real analyzer serves corpus models
// (../shared/corpus/real) under bubblewrap when it is usable here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT, REAL, copyToTemp, real, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { WorkerPool, type PoolOptions } from '../../../main/service/worker-pool.ts';
import { PROTOCOL_PREFIX } from '../../../main/worker/protocol.ts';
import { isolationAvailable } from '../../../main/sandbox/analyzer-isolation.ts';
import { ApiFailure } from '../../../main/service/errors.ts';
import { runAnalysisWorker } from '../../../main/service/worker-client.ts';
import { spawnSync } from 'node:child_process';

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'worker', 'serve-fixture.mjs');

function fixturePool(overrides: Partial<PoolOptions> = {}): WorkerPool {
  return new WorkerPool({
    memoryMb: 256, timeoutMs: 20_000, isolation: 'off', entry: FIXTURE,
    size: 2, readOnlyRoots: [], recycleAfter: 100, recycleRssMb: 1024, ...overrides,
  });
}

type FakeReport = { pid: number; served: number };

test('the fixture speaks the real protocol prefix', () => {
  assert.equal(PROTOCOL_PREFIX, '@@tfaudit-worker ');
});

test('one worker serves many models; a crash fails only its model and the worker is replaced', async () => {
  const pool = fixturePool({ size: 1 });
  try {
    const first = (await pool.run({ model: 'a', checkpoints: [] })).report as unknown as FakeReport;
    const second = (await pool.run({ model: 'b', checkpoints: [] })).report as unknown as FakeReport;
    assert.equal(first.pid, second.pid, 'the same process served both');
    assert.equal(second.served, 2);
    await assert.rejects(pool.run({ model: 'x/crash', checkpoints: [] }), (e: unknown) => e instanceof ApiFailure && e.code === 'worker-crashed' && /exited with code 7 while reading x\/crash/.test(e.message));
    const third = (await pool.run({ model: 'c', checkpoints: [] })).report as unknown as FakeReport;
    assert.notEqual(third.pid, first.pid, 'a fresh worker after the crash');
    await assert.rejects(pool.run({ model: 'd/unreadable', checkpoints: [] }), (e: unknown) => e instanceof ApiFailure && e.code === 'unreadable-model');
    const fourth = (await pool.run({ model: 'e', checkpoints: [] })).report as unknown as FakeReport;
    assert.equal(fourth.pid, third.pid, 'an unreadable model does not cost the worker');
    assert.equal(pool.stats.failed, 1);
    assert.equal(pool.stats.started, 2);
  } finally {
    await pool.close();
  }
});

function fixtureProcesses(): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.includes('serve-fixture.mjs') && !l.includes('bwrap'));
}

test('a model past the time limit is a timeout error; the others in the batch finish; no process is left behind', async () => {
  const before = fixtureProcesses().length;
  // under bubblewrap when usable: killing the sandbox must take the worker inside with it
  const pool = fixturePool({ timeoutMs: 1500, isolation: 'auto' });
  try {
    const outcomes = await Promise.allSettled(['m1', 'slow/hang', 'm2', 'm3', 'm4'].map((model) => pool.run({ model, checkpoints: [] })));
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    const reason = (outcomes[1] as PromiseRejectedResult).reason as ApiFailure;
    assert.equal(reason.code, 'timeout');
    assert.match(reason.message, /slow\/hang took longer than 2 s/);
    assert.equal(pool.stats.failed, 1);
  } finally {
    await pool.close();
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fixtureProcesses().length, before, fixtureProcesses().join('\n'));
});

test('workers that cannot start fail every model with the reason instead of respawning forever', async () => {
  const pool = fixturePool({ entry: join(REPO_ROOT, 'test', 'fixtures', 'worker', 'broken-worker.mjs') });
  try {
    const outcomes = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((model) => pool.run({ model, checkpoints: [] })));
    assert.ok(outcomes.every((o) => o.status === 'rejected'));
    for (const o of outcomes) assert.match(String((o as PromiseRejectedResult).reason.message), /Cannot find package 'tsx'/);
    assert.ok(pool.stats.started <= 4, `${pool.stats.started} workers started`);
    await assert.rejects(pool.run({ model: 'f', checkpoints: [] }), /analyzer workers cannot start/);
  } finally {
    await pool.close();
  }
});

test('workers are recycled after N models and when their memory passes the threshold', async () => {
  const pool = fixturePool({ size: 1, recycleAfter: 3 });
  try {
    const pids: number[] = [];
    for (const model of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) pids.push(((await pool.run({ model, checkpoints: [] })).report as unknown as FakeReport).pid);
    assert.equal(new Set(pids.slice(0, 3)).size, 1);
    assert.equal(new Set(pids).size, 3, `3 workers for 7 models at 3 each: ${pids}`);
    assert.equal(pool.stats.recycled, 2);
    const big = ((await pool.run({ model: 'big', checkpoints: [] })).report as unknown as FakeReport).pid;
    const after = ((await pool.run({ model: 'h', checkpoints: [] })).report as unknown as FakeReport).pid;
    assert.notEqual(after, big, 'recycled once its RSS passed the threshold');
    assert.ok(pool.stats.peakWorkerRssBytes >= 8 * 1024 ** 3);
  } finally {
    await pool.close();
  }
});

test('the real analyzer serves corpus models in one isolated worker each, reports identical to one-shot runs', { skip: skipWithoutCorpus }, async () => {
  const isolated = isolationAvailable() === true;
  const pool = new WorkerPool({ memoryMb: 1024, timeoutMs: 120_000, isolation: 'auto', size: 1, readOnlyRoots: [REAL], recycleAfter: 10, recycleRssMb: 2048 });
  try {
    const models = [real('tabuse_MatchingFiles'), real('serving_saved_model_half_plus_two_cpu', '00000123'), real('tabuse_printv2_local_file')];
    const results = [];
    for (const model of models) results.push(await pool.run({ model, checkpoints: [] }));
    assert.equal(pool.stats.started, 1);
    const oneShot = await runAnalysisWorker({ model: models[0]!, checkpoints: [] }, { memoryMb: 1024, timeoutMs: 120_000, isolation: 'auto' });
    assert.deepEqual(results[0]!.report.findings, oneShot.report.findings);
    assert.deepEqual(results[0]!.summary, oneShot.summary);
    assert.equal(results[0]!.report.analysis.isolated, isolated);
    if (isolated) assert.match(results[0]!.report.analysis.isolation, /bubblewrap.*120 s limit per model/);
    assert.ok(results[2]!.report.findings.some((f) => f.op === 'PrintV2' && f.severity === 'high'));
    // outside the mounted root nothing is visible to an isolated worker
    if (isolated) {
      const outside = copyToTemp(real('tabuse_MatchingFiles'));
      await assert.rejects(pool.run({ model: outside, checkpoints: [] }), /no such file or directory/);
      assert.equal(pool.stats.started, 1, 'an unreadable model does not cost the worker');
    }
  } finally {
    await pool.close();
  }
});
