// IPC wiring through a fake electron: exactly the contract's channels, sender validation,
// payload validation before the service, error codes preserved, events routed back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNELS, INVOKE_CHANNELS, type ApiResult } from '../../../shared/api.ts';
import { registerIpcHandlers } from '../../../main/electron/ipc.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { fakeBackend } from '../web/fake-backend.ts';
import { fakeElectron, invokeEvent } from './fake-electron.ts';

const APP = 'app://tfaudit/index.html';

function setUp() {
  const fake = fakeElectron();
  const backend = fakeBackend();
  const recent: string[] = [];
  const win = new fake.electron.BrowserWindow({});
  const dispose = registerIpcHandlers(fake.electron, {
    backend: backend.backend,
    getWindow: () => win,
    recent: { add: (p) => recent.unshift(p), at: (i) => recent[i] ?? null },
  });
  const invoke = async (channel: string, payload: unknown, url = APP, subframe = false) => {
    const handler = fake.ipcHandlers.get(channel);
    assert.ok(handler, `no handler for ${channel}`);
    const event = invokeEvent(url, { subframe });
    const result = (await handler(event, payload)) as ApiResult<any>;
    return { result, event };
  };
  return { fake, backend, recent, dispose, invoke, win };
}

test('handlers exist for exactly the invoke channels of the contract, and are removable', () => {
  const { fake, dispose } = setUp();
  assert.deepEqual([...fake.ipcHandlers.keys()].sort(), [...INVOKE_CHANNELS].sort());
  const events = [CHANNELS.sandboxEvent, CHANNELS.progress, CHANNELS.menuCommand];
  assert.deepEqual(
    Object.values(CHANNELS)
      .filter((c) => !events.includes(c as never))
      .sort(),
    [...INVOKE_CHANNELS].sort(),
  );
  dispose();
  assert.equal(fake.ipcHandlers.size, 0);
});

test('a sender that is not the app:// main frame is refused on every channel before the service', async () => {
  const { invoke, backend } = setUp();
  for (const channel of INVOKE_CHANNELS) {
    for (const [url, subframe] of [
      ['https://evil.example/', false],
      ['file:///tmp/x.html', false],
      ['app://other/index.html', false],
      [APP, true],
    ] as const) {
      const { result } = await invoke(channel, { auditId: 'a1' }, url, subframe);
      assert.equal(result.ok, false, `${channel} from ${url}`);
      if (!result.ok) assert.equal(result.error.code, 'bad-request');
    }
  }
  assert.deepEqual(backend.calls, []);
});

test('payloads are validated in main: relative or odd paths, extra fields and command lines never reach the service', async () => {
  const { invoke, backend } = setUp();
  const bad: [string, unknown][] = [
    [CHANNELS.openDropped, { paths: ['relative/model'] }],
    [CHANNELS.openDropped, { paths: [] }],
    [CHANNELS.openDropped, { paths: ['/ok', 42] }],
    [CHANNELS.openDropped, { paths: ['/a\u0000b'] }],
    [CHANNELS.openDropped, { paths: ['/m'], extra: true }],
    [CHANNELS.openDropped, ['/m']],
    [CHANNELS.openDialog, { kind: 'everything' }],
    [CHANNELS.openRecent, { index: -1 }],
    [CHANNELS.openRecent, { index: 1.5 }],
    [CHANNELS.getAudit, { auditId: '../../etc' }],
    [CHANNELS.getAudit, { auditId: 'x'.repeat(200) }],
    [CHANNELS.exportPdf, { auditId: 'a1' }],
    [CHANNELS.vulnReport, { auditId: 'a1', findingId: null }],
    [CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: null, overrides: {}, command: ['/bin/sh'] }],
    [CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: null, overrides: { runner: 'custom-shell' } }],
    [CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: null, overrides: { runner: 'custom' } }],
    [CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: null, overrides: { command: ['/bin/sh'] } }],
    [CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: null, overrides: { timeoutSeconds: Infinity } }],
    [CHANNELS.sandboxPlan, { auditId: 'a1', findingId: null, overrides: { allowNetwork: 'yes' } }],
    [CHANNELS.sandboxStop, { runId: '' }],
    [CHANNELS.sandboxStop, Object.assign(Object.create({ polluted: true }), { runId: 'r' })],
  ];
  for (const [channel, payload] of bad) {
    const { result } = await invoke(channel, payload);
    assert.equal(result.ok, false, `${channel} accepted ${JSON.stringify(payload)}`);
    if (!result.ok) assert.equal(result.error.code, 'bad-request');
  }
  assert.deepEqual(backend.calls, []);
});

test('valid calls reach the service; its error codes survive IPC', async () => {
  const { invoke, backend, recent } = setUp();
  const opened = await invoke(CHANNELS.openDropped, { paths: ['/models/P1', '/ckpts/ckpt.index'] });
  assert.equal(opened.result.ok, true);
  assert.deepEqual(backend.calls[0], { method: 'open', args: [['/models/P1', '/ckpts/ckpt.index']] });
  assert.deepEqual(recent, ['/models/P1']);
  const missing = await invoke(CHANNELS.getAudit, { auditId: 'nope' });
  assert.deepEqual(missing.result, { ok: false, error: { code: 'not-found', message: 'no open audit nope' } });
  const plan = await invoke(CHANNELS.sandboxPlan, { auditId: 'a1', findingId: 'F1', overrides: { allowNetwork: false, memoryMb: 512 } });
  assert.equal(plan.result.ok, false);
  if (!plan.result.ok) assert.equal(plan.result.error.code, 'sandbox-unavailable');
  const recentOpen = await invoke(CHANNELS.openRecent, { index: 0 });
  assert.equal(recentOpen.result.ok, true);
  assert.deepEqual(backend.calls.at(-1), { method: 'open', args: [['/models/P1']] });
  const noRecent = await invoke(CHANNELS.openRecent, { index: 5 });
  assert.equal(noRecent.result.ok, false);
});

test('sandbox launch takes an audit id and overrides; its events go back to the sender', async () => {
  const { invoke, backend } = setUp();
  const { result, event } = await invoke(CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: 'F1', overrides: { runner: 'tf-python', checkpointId: 'c1' } });
  assert.deepEqual(result, { ok: true, value: { runId: 'run-1' } });
  assert.deepEqual(backend.calls.at(-1), { method: 'sandboxLaunch', args: ['a1', 'F1', { runner: 'tf-python', checkpointId: 'c1' }] });
  backend.emitSandbox({ runId: 'run-1', type: 'stderr', data: 'x' });
  assert.deepEqual(event.sender.sent, [{ channel: CHANNELS.sandboxEvent, payload: { runId: 'run-1', type: 'stderr', data: 'x' } }]);
});

test('open and export dialogs run in main; the PDF is written where the user chose', async () => {
  const { invoke, fake, backend } = setUp();
  const folder = await invoke(CHANNELS.openDialog, { kind: 'folder' });
  assert.equal(folder.result.ok, true);
  assert.deepEqual(fake.dialogCalls[0].options.properties, ['openDirectory']);
  assert.deepEqual(backend.calls.at(-1), { method: 'open', args: [['/models/m']] });
  fake.dialogAnswers.open = { canceled: true, filePaths: [] };
  assert.deepEqual((await invoke(CHANNELS.openDialog, { kind: 'file' })).result, { ok: true, value: null });
  const target = join(tempDir(), 'out.pdf');
  fake.dialogAnswers.save = { canceled: false, filePath: target };
  const exported = await invoke(CHANNELS.exportPdf, { auditId: 'a1', auditor: 'Ada Lovelace' });
  assert.deepEqual(exported.result, { ok: true, value: { savedTo: target, downloadUrl: null } });
  assert.equal(readFileSync(target, 'utf8'), '%PDF-1.7 fake');
  assert.equal(fake.dialogCalls.at(-1)!.options.defaultPath, 'P1_trojan_if_writefile-audit.pdf');
});

test('service progress is forwarded to the window', async () => {
  const { invoke, win } = setUp();
  await invoke(CHANNELS.openDropped, { paths: ['/m'] });
  const sent = (win.webContents as unknown as { sent: { channel: string; payload: unknown }[] }).sent;
  assert.deepEqual(sent, [{ channel: CHANNELS.progress, payload: { stage: 'parse', message: 'reading', fraction: null } }]);
});

test('a dropped checkpoint folder reaches the service as its checkpoint files', async () => {
  const { invoke, backend } = setUp();
  const dir = join(tempDir(), 'ckpt_active');
  mkdirSync(dir);
  for (const name of ['ckpt.index', 'ckpt.data-00000-of-00001', 'checkpoint']) writeFileSync(join(dir, name), 'x');
  const { result } = await invoke(CHANNELS.addCheckpointsDropped, { auditId: 'a1', paths: [dir] });
  assert.equal(result.ok, true);
  assert.deepEqual(backend.calls.at(-1), { method: 'addCheckpoints', args: ['a1', [join(dir, 'ckpt.data-00000-of-00001'), join(dir, 'ckpt.index')]] });
});
