// The Electron analyzer transport (utilityProcess) through a fake: the request goes over
// postMessage after spawn, a V8 heap cap is set, and a crash or a hang rejects with a code
// while the caller (the app) carries on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { appAnalyser, utilityProcessAnalyser } from '../../../main/electron/analyzer-process.ts';
import { isolationAvailable } from '../../../main/sandbox/analyzer-isolation.ts';
import { buildElectron } from '../../../scripts/build.mjs';
import { crafted, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { ApiFailure } from '../../../main/service/errors.ts';
import type { Electron } from '../../../main/electron/security.ts';
import { Emitter } from './fake-electron.ts';
import { p1View } from '../../renderer/fixtures.ts';

class FakeChild extends Emitter {
  posted: unknown[] = [];
  killed = false;
  postMessage(m: unknown) {
    this.posted.push(m);
  }
  kill() {
    this.killed = true;
    return true;
  }
}

function fakeUtility(script: (child: FakeChild) => void) {
  const forks: { path: string; args: string[]; options: any; child: FakeChild }[] = [];
  const electron = {
    utilityProcess: {
      fork: (path: string, args: string[], options: unknown) => {
        const child = new FakeChild();
        forks.push({ path, args, options, child });
        setImmediate(() => {
          child.emit('spawn');
          script(child);
        });
        return child;
      },
    },
  } as unknown as Electron;
  return { electron, forks };
}

const request = { model: '/m/P1', checkpoints: ['/c/ckpt'] };

test('one process per analysis with a heap cap; the result comes back over messages', async () => {
  const view = p1View();
  const { electron, forks } = fakeUtility((child) => {
    child.emit('message', { type: 'progress', stage: 'parse', message: 'reading' });
    child.emit('message', { type: 'result', result: { summary: view.summary, report: view.report } });
    child.emit('exit', 0);
  });
  const result = await utilityProcessAnalyser(electron, '/app/dist/electron/analyzer.cjs', { memoryMb: 1024, timeoutMs: 5000 })(request);
  assert.equal(result.report.findings[0].op, 'WriteFile');
  assert.equal(forks.length, 1);
  assert.equal(forks[0].path, '/app/dist/electron/analyzer.cjs');
  assert.deepEqual(forks[0].options.execArgv, ['--max-old-space-size=1024', '--initial-old-space-size=256', '--max-semi-space-size=8']);
  assert.deepEqual(forks[0].child.posted, [{ ...request, isolation: { isolated: false, description: 'analysis ran in a separate Electron utility process (no OS sandbox)' } }]);
});

test('a worker that dies (OOM, abort) rejects with worker-crashed', async () => {
  const { electron } = fakeUtility((child) => child.emit('exit', 134));
  await assert.rejects(
    utilityProcessAnalyser(electron, '/a.cjs', { memoryMb: 64, timeoutMs: 5000 })(request),
    (e: unknown) => e instanceof ApiFailure && e.code === 'worker-crashed' && /code 134/.test(e.message) && /64 MB/.test(e.message),
  );
});

test('a worker that hangs is killed at the timeout', async () => {
  let child: FakeChild | null = null;
  const { electron } = fakeUtility((c) => (child = c));
  await assert.rejects(utilityProcessAnalyser(electron, '/a.cjs', { memoryMb: 64, timeoutMs: 50 })(request), (e: unknown) => e instanceof ApiFailure && e.code === 'timeout');
  assert.equal(child!.killed, true);
});

test('a model the worker cannot read is unreadable-model, naming the file', async () => {
  const { electron } = fakeUtility((child) => child.emit('message', { type: 'error', error: { file: '/m/P1/saved_model.pb', message: 'truncated varint' } }));
  await assert.rejects(utilityProcessAnalyser(electron, '/a.cjs', { memoryMb: 64, timeoutMs: 5000 })(request), {
    code: 'unreadable-model',
    message: '/m/P1/saved_model.pb: truncated varint',
  });
});

test('appAnalyser: the built analyzer bundle runs under bubblewrap with the host Node (crafted P1), no utilityProcess', { skip: skipWithoutCorpus || (isolationAvailable() === true ? false : 'bubblewrap unavailable'), timeout: 180_000 }, async () => {
  const appRoot = tempDir('tfaudit-app-');
  await buildElectron(join(appRoot, 'dist', 'electron'), { only: ['analyzer'] });
  const { electron, forks } = fakeUtility(() => assert.fail('utilityProcess must not be used when the sandbox is available'));
  const analyse = appAnalyser(electron, appRoot, { memoryMb: 2048, timeoutMs: 120_000, pathEnv: `${dirname(process.execPath)}:/usr/bin:/bin` });
  const model = crafted('P1_trojan_if_writefile');
  const result = await analyse({ model, checkpoints: [join(model, 'ckpt_active', 'ckpt')] });
  assert.equal(forks.length, 0);
  assert.equal(result.report.analysis.isolated, true, result.report.analysis.isolation);
  const write = result.report.findings.find((f) => f.capability === 'file-write');
  assert.deepEqual(write?.trigger.activation.map((a) => a.state), ['dormant', 'active']);
});

test('appAnalyser falls back to a utilityProcess, and says why, when no host Node can run the sandboxed worker', async () => {
  const { electron, forks } = fakeUtility((child) => child.emit('message', { type: 'result', result: { summary: p1View().summary, report: p1View().report } }));
  const analyse = appAnalyser(electron, tempDir('tfaudit-app-'), { memoryMb: 512, timeoutMs: 10_000, pathEnv: '/nonexistent' });
  await analyse({ model: '/m', checkpoints: [] });
  assert.equal(forks.length, 1);
  const posted = forks[0]!.child.posted[0] as { isolation: { isolated: boolean; description: string } };
  assert.equal(posted.isolation.isolated, false);
  assert.match(posted.isolation.description, /no Node\.js|bwrap|bubblewrap/);
});
