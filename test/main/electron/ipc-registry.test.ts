// The registry calls over Electron IPC (fake electron, recording backend): validated payloads,
// the row's full audit, and the registry PDF written where the user chose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNELS, type ApiResult } from '../../../shared/api.ts';
import { registerIpcHandlers } from '../../../main/electron/ipc.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { fakeBackend } from '../web/fake-backend.ts';
import { fakeElectron, invokeEvent } from './fake-electron.ts';

test('registry rows open and the registry PDF exports through IPC; bad payloads never reach the service', async () => {
  const fake = fakeElectron();
  const backend = fakeBackend();
  const win = new fake.electron.BrowserWindow({});
  registerIpcHandlers(fake.electron, { backend: backend.backend, getWindow: () => win, recent: { add: () => undefined, at: () => null } });
  const invoke = async (channel: string, payload: unknown) => (await fake.ipcHandlers.get(channel)!(invokeEvent('app://tfaudit/index.html', { subframe: false }), payload)) as ApiResult<any>;

  const opened = await invoke(CHANNELS.openRegistryModel, { registryId: 'r1', rowId: 'm3' });
  assert.equal(opened.ok, true);
  assert.deepEqual(backend.calls.at(-1), { method: 'openRegistryModel', args: ['r1', 'm3'] });
  const before = backend.calls.length;
  for (const bad of [{ registryId: 'r1' }, { registryId: '../x', rowId: 'm1' }, { registryId: 'r1', rowId: 'm1', path: '/etc' }]) {
    const result = await invoke(CHANNELS.openRegistryModel, bad);
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.error.code, 'bad-request');
  }
  assert.equal(backend.calls.length, before);

  const target = join(tempDir(), 'registry.pdf');
  fake.dialogAnswers.save = { canceled: false, filePath: target };
  const exported = await invoke(CHANNELS.exportRegistryPdf, { registryId: 'r1', auditor: null });
  assert.deepEqual(exported, { ok: true, value: { savedTo: target, downloadUrl: null } });
  assert.equal(readFileSync(target, 'utf8'), '%PDF-1.7 fake registry');
  assert.equal(fake.dialogCalls.at(-1)!.options.defaultPath, 'registry-audit.pdf');
});
