// A recording AuditBackend for wiring tests of the hosts (what reaches the service, with which
// arguments). The e2e test uses the real AuditService.
import type { AuditBackend } from '../../../main/service/backend.ts';
import type { AuditView, ProgressEvent, SandboxEvent } from '../../../shared/api.ts';
import { p1View } from '../../renderer/fixtures.ts';

export interface Call {
  method: string;
  args: unknown[];
}

export function fakeBackend(view: AuditView = p1View()) {
  const calls: Call[] = [];
  const progress = new Set<(e: ProgressEvent) => void>();
  let sandboxSink: ((e: SandboxEvent) => void) | null = null;
  const record = (method: string, ...args: unknown[]) => calls.push({ method, args });
  const backend: AuditBackend = {
    async open(paths) {
      record('open', paths);
      for (const l of progress) l({ stage: 'parse', message: 'reading', fraction: null });
      return view;
    },
    async addCheckpoints(auditId, paths) {
      record('addCheckpoints', auditId, paths);
      return view;
    },
    get(auditId) {
      record('get', auditId);
      if (auditId !== view.auditId) throw Object.assign(new Error(`no open audit ${auditId}`), { code: 'not-found' });
      return view;
    },
    async openRegistryModel(registryId, rowId) {
      record('openRegistryModel', registryId, rowId);
      return view;
    },
    async exportRegistryPdf(registryId, auditor) {
      record('exportRegistryPdf', registryId, auditor);
      return new TextEncoder().encode('%PDF-1.7 fake registry');
    },
    async setRuntime(auditId, tfRuntime) {
      record('setRuntime', auditId, tfRuntime);
      return view;
    },
    async exportPdf(auditId, auditor) {
      record('exportPdf', auditId, auditor);
      return new TextEncoder().encode('%PDF-1.7 fake');
    },
    async vulnReport(auditId, findingId) {
      record('vulnReport', auditId, findingId);
      return `# ${findingId}`;
    },
    async sandboxPlan(auditId, findingId, overrides) {
      record('sandboxPlan', auditId, findingId, overrides);
      throw Object.assign(new Error('no sandbox backend'), { code: 'sandbox-unavailable' });
    },
    async sandboxLaunch(auditId, findingId, overrides, onEvent) {
      record('sandboxLaunch', auditId, findingId, overrides);
      sandboxSink = onEvent;
      return { runId: 'run-1' };
    },
    async sandboxStop(runId) {
      record('sandboxStop', runId);
    },
    onProgress(listener) {
      progress.add(listener);
      return () => progress.delete(listener);
    },
    async dispose() {
      record('dispose');
    },
  };
  return { backend, calls, view, emitSandbox: (e: SandboxEvent) => sandboxSink?.(e) };
}
