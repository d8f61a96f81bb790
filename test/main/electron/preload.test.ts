// The preload's contract object (built from injected ipcRenderer/webUtils) and the preload
// bundle itself: exactly the TfauditApi, dropped files resolved to paths in the preload, no
// raw ipcRenderer, one CommonJS bundle requiring only electron.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNELS } from '../../../shared/api.ts';
import { createPreloadApi, type PreloadElectron } from '../../../main/electron/preload-api.ts';
import { buildElectron } from '../../../scripts/build.mjs';
import { REPO_ROOT, tempDir } from '../../helpers/corpus.ts';

function fakeRenderer(reply: (channel: string, payload: unknown) => unknown = () => ({ ok: true, value: 'v' })) {
  const invoked: { channel: string; payload: unknown }[] = [];
  const listeners = new Map<string, Set<(event: unknown, payload: unknown) => void>>();
  const electron: PreloadElectron = {
    ipcRenderer: {
      invoke: async (channel, payload) => {
        invoked.push({ channel, payload });
        return reply(channel, payload);
      },
      on: (channel, l) => listeners.set(channel, (listeners.get(channel) ?? new Set()).add(l)),
      removeListener: (channel, l) => listeners.get(channel)?.delete(l),
    },
    webUtils: { getPathForFile: (file: File) => (file.name === 'virtual' ? '' : `/home/u/${file.name}`) },
  };
  const emit = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l({ sender: 'ipc-event' }, payload));
  return { electron, invoked, emit, listeners };
}

const API_KEYS = [
  'addCheckpointsDialog',
  'addCheckpointsDropped',
  'exportPdf',
  'exportRegistryPdf',
  'getAudit',
  'host',
  'onMenuCommand',
  'onProgress',
  'onSandboxEvent',
  'openDialog',
  'openDropped',
  'openRecent',
  'openRegistryModel',
  'sandboxLaunch',
  'sandboxPlan',
  'sandboxStop',
  'setRuntime',
  'vulnReport',
];

test('the exposed object is exactly the contract: functions and the host tag, nothing else', () => {
  const api = createPreloadApi(fakeRenderer().electron);
  assert.deepEqual(Object.keys(api).sort(), API_KEYS);
  assert.equal(api.host, 'electron');
  for (const key of API_KEYS.filter((k) => k !== 'host')) assert.equal(typeof (api as unknown as Record<string, unknown>)[key], 'function', key);
  assert.equal(JSON.stringify(Object.values(api)).includes('ipcRenderer'), false);
});

test('dropped File objects become paths in the preload; page script passes no path', async () => {
  const r = fakeRenderer();
  const api = createPreloadApi(r.electron);
  await api.openDropped([new File(['x'], 'saved_model_dir'), new File(['y'], 'ckpt.index')]);
  assert.deepEqual(r.invoked, [{ channel: CHANNELS.openDropped, payload: { paths: ['/home/u/saved_model_dir', '/home/u/ckpt.index'] } }]);
  await api.addCheckpointsDropped('a1', [new File(['z'], 'c.index')]);
  assert.deepEqual(r.invoked[1], { channel: CHANNELS.addCheckpointsDropped, payload: { auditId: 'a1', paths: ['/home/u/c.index'] } });
  await assert.rejects(api.openDropped([new File(['x'], 'virtual')]), /bad-request: a dropped item has no file on disk/);
  await assert.rejects(api.openDropped([]), /bad-request/);
  assert.equal(r.invoked.length, 2);
});

test('each call invokes its own channel with its own payload shape', async () => {
  const r = fakeRenderer();
  const api = createPreloadApi(r.electron);
  await api.openDialog('folder');
  await api.addCheckpointsDialog('a1');
  await api.openRecent(2);
  await api.getAudit('a1');
  await api.setRuntime('a1', '2.4.1');
  await api.exportPdf('a1', null);
  await api.vulnReport('a1', 'F1');
  await api.sandboxPlan('a1', 'F1', { allowNetwork: false });
  await api.sandboxLaunch('a1', null, { runner: 'tf-python' });
  await api.sandboxStop('r1');
  assert.deepEqual(r.invoked, [
    { channel: CHANNELS.openDialog, payload: { kind: 'folder' } },
    { channel: CHANNELS.addCheckpointsDialog, payload: { auditId: 'a1' } },
    { channel: CHANNELS.openRecent, payload: { index: 2 } },
    { channel: CHANNELS.getAudit, payload: { auditId: 'a1' } },
    { channel: CHANNELS.setRuntime, payload: { auditId: 'a1', tfRuntime: '2.4.1' } },
    { channel: CHANNELS.exportPdf, payload: { auditId: 'a1', auditor: null } },
    { channel: CHANNELS.vulnReport, payload: { auditId: 'a1', findingId: 'F1' } },
    { channel: CHANNELS.sandboxPlan, payload: { auditId: 'a1', findingId: 'F1', overrides: { allowNetwork: false } } },
    { channel: CHANNELS.sandboxLaunch, payload: { auditId: 'a1', findingId: null, overrides: { runner: 'tf-python' } } },
    { channel: CHANNELS.sandboxStop, payload: { runId: 'r1' } },
  ]);
});

test('errors carry their code in the message (contextBridge keeps only messages)', async () => {
  const api = createPreloadApi(fakeRenderer(() => ({ ok: false, error: { code: 'worker-crashed', message: 'analyzer worker was killed by SIGKILL' } })).electron);
  await assert.rejects(api.getAudit('a1'), { message: 'worker-crashed: analyzer worker was killed by SIGKILL' });
});

test('event listeners get the payload only (never the IPC event) and unsubscribe cleanly', () => {
  const r = fakeRenderer();
  const api = createPreloadApi(r.electron);
  const got: unknown[] = [];
  const off = api.onSandboxEvent((e) => got.push(e));
  api.onMenuCommand((command, index) => got.push([command, index]));
  api.onProgress((p) => got.push(p));
  r.emit(CHANNELS.sandboxEvent, { runId: 'r', type: 'stdout', data: 'hi' });
  r.emit(CHANNELS.menuCommand, { command: 'open-recent', recentIndex: 3 });
  r.emit(CHANNELS.progress, { stage: 'parse', message: 'm', fraction: null });
  off();
  r.emit(CHANNELS.sandboxEvent, { runId: 'r', type: 'stdout', data: 'after' });
  assert.deepEqual(got, [{ runId: 'r', type: 'stdout', data: 'hi' }, ['open-recent', 3], { stage: 'parse', message: 'm', fraction: null }]);
  assert.equal(r.listeners.get(CHANNELS.sandboxEvent)!.size, 0);
});

test('preload.ts exposes the contract once, under window.tfaudit, and nothing else', () => {
  const source = readFileSync(join(REPO_ROOT, 'main', 'electron', 'preload.ts'), 'utf8');
  const exposures = [...source.matchAll(/exposeInMainWorld\(\s*'([^']+)'\s*,\s*([^)]*\))/g)];
  assert.equal(exposures.length, 1);
  assert.equal(exposures[0][1], 'tfaudit');
  assert.match(exposures[0][2], /^createPreloadApi\(\{ ipcRenderer, webUtils \}\)/);
  assert.doesNotMatch(source, /exposeInIsolatedWorld|process\.|require\(/);
});

test('the preload builds to one CommonJS file that requires only electron', async () => {
  const out = await buildElectron(tempDir('tfaudit-preload-'), { only: ['preload'] });
  const bundle = readFileSync(join(out, 'preload.cjs'), 'utf8');
  assert.deepEqual([...new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))], ['electron']);
  assert.doesNotMatch(bundle, /\bimport\s*\(|^import |^export /m);
  assert.match(bundle, /exposeInMainWorld\)?\("tfaudit"/);
});
