// The store's registry view against a scripted API: a dropped folder yields the registry table,
// rows sort by any column, a row opens its audit and "back" returns to the table, a row that
// fails leaves the table in place, Export PDF covers the registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistryRow, RegistryView, TfauditApi } from '../../shared/api.ts';
import { createWorkbenchStore, rowVerdict, sortedRows } from '../../renderer/store.ts';
import { p1View } from './fixtures.ts';

function row(rowId: string, path: string, maxSeverity: RegistryRow['maxSeverity'], status: 'ok' | 'error' = 'ok', seconds = 1): RegistryRow {
  const counts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  if (maxSeverity) counts[maxSeverity] = 2;
  return { rowId, path, format: 'saved-model', sha256: 'x', status, maxSeverity, counts, errors: status === 'error' ? [{ file: path, message: 'truncated' }] : [], seconds, checkpoints: [], tool: { name: 'tfaudit', version: 't' }, tensorflowVersion: null };
}

const REGISTRY: RegistryView = {
  kind: 'registry', registryId: 'r1', root: '/srv/models', failOn: 'high',
  rows: [row('m1', 'a/clean', null, 'ok', 3), row('m2', 'b/reader', 'high'), row('m3', 'c/broken', null, 'error'), row('m4', 'd/globber', 'medium', 'ok', 2)],
  totals: { models: 4, ok: 3, errors: 1, bySeverity: { critical: 0, high: 1, medium: 1, low: 0, info: 0 }, atOrAbove: 1 },
  isolation: { isolated: true, description: 'bubblewrap' },
};

function api(overrides: Partial<TfauditApi> = {}): { api: TfauditApi; calls: string[] } {
  const calls: string[] = [];
  const base: TfauditApi = {
    host: 'web',
    openDropped: async () => REGISTRY,
    openDialog: async () => REGISTRY,
    addCheckpointsDropped: async () => p1View(),
    addCheckpointsDialog: async () => null,
    openRecent: async () => p1View(),
    getAudit: async () => p1View(),
    setRuntime: async () => p1View(),
    exportPdf: async () => ({ savedTo: null, downloadUrl: null }),
    vulnReport: async () => ({ markdown: '' }),
    openRegistryModel: async (registryId, rowId) => {
      calls.push(`open ${registryId} ${rowId}`);
      if (rowId === 'm3') throw new Error('unreadable-model: c/broken: truncated');
      return p1View();
    },
    exportRegistryPdf: async (registryId) => {
      calls.push(`pdf ${registryId}`);
      return { savedTo: '/tmp/registry.pdf', downloadUrl: null };
    },
    sandboxPlan: async () => {
      throw new Error('no');
    },
    sandboxLaunch: async () => ({ runId: 'r' }),
    sandboxStop: async () => undefined,
    onSandboxEvent: () => () => undefined,
    onProgress: () => () => undefined,
    onMenuCommand: () => () => undefined,
    ...overrides,
  };
  return { api: base, calls };
}

test('a dropped folder of models shows the registry, worst verdict first', async () => {
  const { api: a } = api();
  const store = createWorkbenchStore(a);
  await store.getState().openFiles([new File(['x'], 'models')]);
  const s = store.getState();
  assert.equal(s.status, 'ready');
  assert.equal(s.view, null);
  assert.equal(s.registry?.registryId, 'r1');
  assert.deepEqual(sortedRows(s.registry!, s.registrySort).map((r) => [r.path, rowVerdict(r, 'high')]), [
    ['b/reader', 'unsafe'], ['c/broken', 'unreadable'], ['d/globber', 'review'], ['a/clean', 'clean'],
  ]);
});

test('rows sort by path, findings and seconds, each click flipping the order', async () => {
  const { api: a } = api();
  const store = createWorkbenchStore(a);
  await store.getState().openDialog('folder');
  const order = () => sortedRows(store.getState().registry!, store.getState().registrySort).map((r) => r.rowId);
  store.getState().sortRegistry('path');
  assert.deepEqual(order(), ['m1', 'm2', 'm3', 'm4']);
  store.getState().sortRegistry('path');
  assert.deepEqual(order(), ['m4', 'm3', 'm2', 'm1']);
  store.getState().sortRegistry('seconds');
  assert.deepEqual(order(), ['m1', 'm4', 'm2', 'm3']);
  store.getState().sortRegistry('findings');
  assert.deepEqual(order().slice(0, 2), ['m2', 'm4']);
});

test('a row opens its full audit; back returns to the table; a failing row leaves the table with a notice', async () => {
  const { api: a, calls } = api();
  const store = createWorkbenchStore(a);
  await store.getState().openFiles([new File(['x'], 'models')]);
  await store.getState().openRegistryRow('m2');
  assert.deepEqual(calls, ['open r1 m2']);
  assert.equal(store.getState().view?.auditId, p1View().auditId);
  assert.equal(store.getState().registry?.registryId, 'r1', 'the registry stays open behind the audit');
  store.getState().backToRegistry();
  assert.equal(store.getState().view, null);
  await store.getState().openRegistryRow('m3');
  assert.equal(store.getState().status, 'ready');
  assert.equal(store.getState().registry?.registryId, 'r1');
  assert.match(store.getState().notice!.text, /c\/broken: truncated/);
  await store.getState().exportRegistryPdf();
  assert.deepEqual(calls.at(-1), 'pdf r1');
  assert.match(store.getState().notice!.text, /saved to \/tmp\/registry\.pdf/);
});

test('opening a single model afterwards closes the registry', async () => {
  const { api: a } = api({ openDialog: async () => p1View() });
  const store = createWorkbenchStore(a);
  await store.getState().openFiles([new File(['x'], 'models')]);
  await store.getState().openDialog('file');
  assert.equal(store.getState().registry, null);
  assert.ok(store.getState().view);
});
