// The audit service behind the app and the web host: dropped-path grouping, a real analysis
// of crafted P1 in the worker, and a worker that dies or hangs leaving the service usable.
import { test } from 'node:test';
import { isRegistryView, type AuditView } from '../../../shared/api.ts';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { AuditService, ApiFailure, splitDroppedPaths } from '../../../main/service/audit-service.ts';
import { BENCH, crafted, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { existsSync } from 'node:fs';

test('splitDroppedPaths groups checkpoint files by prefix and finds the model', () => {
  assert.deepEqual(splitDroppedPaths(['/m', '/c/ckpt.index', '/c/ckpt.data-00000-of-00001']), { model: '/m', checkpoints: ['/c/ckpt'] });
  assert.deepEqual(splitDroppedPaths(['/c/a.index', '/c/a.data-00000-of-00001']), { model: '/c/a', checkpoints: [] });
  assert.throws(() => splitDroppedPaths([]), ApiFailure);
  assert.throws(() => splitDroppedPaths(['/m1', '/m2']), /one model at a time/);
});

test('crafted P1: open with a dropped second checkpoint, verdict per checkpoint, PDF export', { skip: skipWithoutCorpus }, async () => {
  const service = new AuditService({ isolation: 'off' });
  const progress: { stage: string; message: string; fraction: number | null }[] = [];
  service.onProgress((e) => progress.push(e));
  try {
    const model = crafted('P1_trojan_if_writefile');
    const view = (await service.open([model, join(model, 'ckpt_active', 'ckpt.index'), join(model, 'ckpt_active', 'ckpt.data-00000-of-00001')])) as AuditView;
    assert.deepEqual(view.checkpoints.map((c) => c.id), ['own', 'c1']);
    assert.ok(progress.some((e) => e.stage === 'parse' && /hashing model files/.test(e.message) && e.fraction !== null && e.fraction > 0), JSON.stringify(progress));
    assert.ok(progress.some((e) => e.stage === 'analyse'));
    const write = view.report.findings.find((f) => f.capability === 'file-write');
    assert.ok(write);
    const states = write.trigger.activation.map((a) => a.state);
    assert.deepEqual(states, ['dormant', 'active']);
    const pdf = await service.exportPdf(view.auditId, 'Tester');
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    const policy = await service.sandboxPlan(view.auditId, write.id, {});
    assert.equal(policy.allowNetwork, false);
    assert.equal(policy.checkpoint, join(model, 'ckpt_active', 'ckpt'), 'the triggering checkpoint is restored by default');
  } finally {
    await service.dispose();
  }
});

test('a worker that runs out of memory or time rejects; the service keeps working', { skip: skipWithoutCorpus || (!existsSync(join(BENCH, 'nodes_100000')) && 'bench model missing') }, async () => {
  const starved = new AuditService({ isolation: 'off', workerMemoryMb: 16 });
  await assert.rejects(starved.open([join(BENCH, 'nodes_100000')]), (e: unknown) => e instanceof ApiFailure && e.code === 'worker-crashed');
  const slow = new AuditService({ isolation: 'off', workerTimeoutMs: 50 });
  await assert.rejects(slow.open([crafted('P1_trojan_if_writefile')]), (e: unknown) => e instanceof ApiFailure && e.code === 'timeout');
  const fine = new AuditService({ isolation: 'off' });
  const view = (await fine.open([crafted('P5_tile_dos')])) as AuditView;
  assert.ok(view.report.findings.length > 0);
  await Promise.all([starved.dispose(), slow.dispose(), fine.dispose()]);
});

test('setRuntime analyses the audit again for that TensorFlow release and keeps it for added checkpoints', async () => {
  const requests: { tfRuntime?: string | null; checkpoints: string[] }[] = [];
  const { p1View } = await import('../../renderer/fixtures.ts');
  const service = new AuditService({
    isolation: 'off',
    analyse: async (request) => {
      requests.push({ tfRuntime: request.tfRuntime, checkpoints: request.checkpoints });
      const view = p1View();
      return { summary: view.summary, report: { ...view.report, analysis: { ...view.report.analysis, ...(request.tfRuntime ? { tensorflowRuntime: request.tfRuntime } : {}) } } };
    },
  });
  try {
    const opened = await service.open(['/models/m']);
    assert.ok(!isRegistryView(opened));
    const view = opened;
    const assessed = await service.setRuntime(view.auditId, '2.4.1');
    assert.equal(assessed.report.analysis.tensorflowRuntime, '2.4.1');
    await service.addCheckpoints(view.auditId, ['/c/x.index']);
    await assert.rejects(service.setRuntime(view.auditId, 'newest'), { code: 'bad-request' });
    const cleared = await service.setRuntime(view.auditId, null);
    assert.equal(cleared.report.analysis.tensorflowRuntime, undefined);
    assert.deepEqual(requests.map((r) => r.tfRuntime ?? null), [null, '2.4.1', '2.4.1', null]);
    assert.deepEqual(requests[2]!.checkpoints, ['/c/x']);
  } finally {
    await service.dispose();
  }
});
