// The zustand store against a scripted TfauditApi: loading/error states with what-to-do hints,
// checkpoint selection kept across added checkpoints, sandbox events routed to the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditView, MenuCommand, ProgressEvent, SandboxEvent, TfauditApi } from '../../shared/api.ts';
import { createWorkbenchStore, toUiError } from '../../renderer/store.ts';
import { p1View } from './fixtures.ts';

function scriptedApi(overrides: Partial<TfauditApi> = {}) {
  const sandbox = new Set<(e: SandboxEvent) => void>();
  const progress = new Set<(e: ProgressEvent) => void>();
  const api: TfauditApi = {
    host: 'web',
    openDropped: async () => p1View(),
    openDialog: async () => null,
    addCheckpointsDropped: async () => p1View(),
    addCheckpointsDialog: async () => null,
    openRecent: async () => p1View(),
    getAudit: async () => p1View(),
    setRuntime: async () => p1View(),
    exportPdf: async () => ({ savedTo: '/tmp/x.pdf', downloadUrl: null }),
    vulnReport: async () => ({ markdown: '' }),
    openRegistryModel: async () => p1View(),
    exportRegistryPdf: async () => ({ savedTo: '/tmp/registry.pdf', downloadUrl: null }),
    sandboxPlan: async () => {
      throw new Error('sandbox-unavailable: no bubblewrap');
    },
    sandboxLaunch: async () => ({ runId: 'r1' }),
    sandboxStop: async () => undefined,
    onSandboxEvent: (l) => (sandbox.add(l), () => sandbox.delete(l)),
    onProgress: (l) => (progress.add(l), () => progress.delete(l)),
    onMenuCommand: (_l: (c: MenuCommand) => void) => () => undefined,
    ...overrides,
  };
  return { api, emitSandbox: (e: SandboxEvent) => sandbox.forEach((l) => l(e)), emitProgress: (e: ProgressEvent) => progress.forEach((l) => l(e)) };
}

test('opening: loading, then ready with the own checkpoint and the first finding selected', async () => {
  let release!: (v: AuditView) => void;
  const { api, emitProgress } = scriptedApi({ openDropped: () => new Promise((r) => (release = r)) });
  const store = createWorkbenchStore(api);
  assert.equal(store.getState().status, 'empty');
  const opening = store.getState().openFiles([new File(['x'], 'saved_model.pb')]);
  assert.equal(store.getState().status, 'loading');
  emitProgress({ stage: 'parse', message: 'reading saved_model.pb', fraction: null });
  assert.equal(store.getState().progress?.message, 'reading saved_model.pb');
  release(p1View());
  await opening;
  const s = store.getState();
  assert.equal(s.status, 'ready');
  assert.equal(s.checkpointId, 'own');
  assert.equal(s.findingId, 'F1');
});

test('a crashed worker becomes an error state that says the app is still running', async () => {
  const { api } = scriptedApi({ openDropped: async () => Promise.reject(new Error('worker-crashed: analyzer worker was killed by SIGKILL')) });
  const store = createWorkbenchStore(api);
  await store.getState().openFiles([new File(['x'], 'evil.pb')]);
  const { status, error } = store.getState();
  assert.equal(status, 'error');
  assert.equal(error?.code, 'worker-crashed');
  assert.equal(error?.message, 'analyzer worker was killed by SIGKILL');
  assert.match(error!.hint, /still running/);
  store.getState().reset();
  assert.equal(store.getState().status, 'empty');
  assert.equal(toUiError(Object.assign(new Error('x'), { code: 'timeout' })).code, 'timeout');
  assert.equal(toUiError(new Error('plain failure')).code, 'internal');
});

test('adding a checkpoint keeps the current selection; switching is instant and local', async () => {
  const { api } = scriptedApi();
  const store = createWorkbenchStore(api);
  await store.getState().openFiles([new File(['x'], 'm')]);
  store.getState().selectCheckpoint('c1');
  await store.getState().addCheckpointFiles([new File(['x'], 'ckpt.index')]);
  assert.equal(store.getState().checkpointId, 'c1');
  assert.equal(store.getState().notice?.kind, 'info');
});

test('sandbox: plan errors are shown with a hint; output and exit reach the console and the outcome', async () => {
  const { api, emitSandbox } = scriptedApi();
  const store = createWorkbenchStore(api);
  await store.getState().openFiles([new File(['x'], 'm')]);
  await store.getState().planSandbox('F1', { allowNetwork: false });
  assert.equal(store.getState().sandbox.error?.code, 'sandbox-unavailable');
  await store.getState().launchSandbox();
  assert.equal(store.getState().sandbox.runId, 'r1');
  emitSandbox({ runId: 'other', type: 'stdout', data: 'not ours' });
  emitSandbox({ runId: 'r1', type: 'stdout', data: 'hello' });
  const report = { runId: 'r1', exitCode: 0, signal: null, timedOut: false, wallSeconds: 1.5 } as never;
  emitSandbox({ runId: 'r1', type: 'exit', report });
  const s = store.getState().sandbox;
  assert.equal(s.runId, null);
  assert.deepEqual(s.console.map((l) => l.text), ['Launching in the sandbox…\n', 'hello', 'exited: exit code 0 after 1.5 s\n']);
  assert.equal(s.outcome, report);
  assert.equal(store.getState().view?.sandboxRuns.length, 1);
});

test('TensorFlow runtime: the store sends the release, shows how many ops are exposed, and keeps the audit on errors', async () => {
  const sent: (string | null)[] = [];
  const { api } = scriptedApi({
    setRuntime: async (_auditId, tfRuntime) => {
      sent.push(tfRuntime);
      if (tfRuntime === '9.9.9') throw new Error('bad-request: "9.9.9" is not a TensorFlow release');
      const view = p1View();
      const finding = { ...view.report.findings[0]!, id: 'F9', capability: 'known-vulnerability' as const, severity: 'high' as const, op: 'StringNGrams' };
      return { ...view, report: { ...view.report, findings: [...view.report.findings, finding], analysis: { ...view.report.analysis, tensorflowRuntime: tfRuntime } } };
    },
  });
  const store = createWorkbenchStore(api);
  await store.getState().openFiles([new File(['x'], 'saved_model.pb')]);
  await store.getState().setRuntime('2.4.1');
  assert.equal(store.getState().view?.report.analysis.tensorflowRuntime, '2.4.1');
  assert.match(store.getState().notice?.text ?? '', /TensorFlow 2\.4\.1: 1 op with known kernel vulnerabilities/);
  await store.getState().setRuntime('9.9.9');
  assert.equal(store.getState().notice?.kind, 'error');
  assert.equal(store.getState().view?.report.analysis.tensorflowRuntime, '2.4.1', 'the assessed audit stays open');
  assert.deepEqual(sent, ['2.4.1', '9.9.9']);
});
