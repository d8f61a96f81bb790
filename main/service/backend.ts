// The slice of the main-side AuditService the hosts (Electron IPC and the web host) call.
// Hosts take it as a parameter so their wiring is testable; production passes the real service.
import type { AuditView, OpenedView, ProgressEvent, SandboxEvent, SandboxOverrides } from '../../shared/api.ts';
import type { SandboxPolicy } from '../../shared/sandbox.ts';
import type { AnalyseRequest, AnalyseResult } from '../worker/analyse.ts';

export interface AuditBackend {
  /** One dropped folder holding several models opens as a registry. */
  open(paths: string[]): Promise<OpenedView>;
  openRegistryModel(registryId: string, rowId: string): Promise<AuditView>;
  exportRegistryPdf(registryId: string, auditor: string | null): Promise<Uint8Array>;
  addCheckpoints(auditId: string, paths: string[]): Promise<AuditView>;
  get(auditId: string): AuditView;
  setRuntime(auditId: string, tfRuntime: string | null): Promise<AuditView>;
  exportPdf(auditId: string, auditor: string | null): Promise<Uint8Array>;
  vulnReport(auditId: string, findingId: string): Promise<string>;
  sandboxPlan(auditId: string, findingId: string | null, overrides: SandboxOverrides): Promise<SandboxPolicy>;
  sandboxLaunch(
    auditId: string,
    findingId: string | null,
    overrides: SandboxOverrides,
    onEvent: (e: SandboxEvent) => void,
  ): Promise<{ runId: string }>;
  sandboxStop(runId: string): Promise<void>;
  onProgress(listener: (e: ProgressEvent) => void): () => void;
  dispose(): Promise<void>;
}

export interface BackendOptions {
  isolation?: 'auto' | 'off';
  workerMemoryMb?: number;
  workerTimeoutMs?: number;
  /** Replaces the child-process worker (Electron passes its utilityProcess analyser). */
  analyse?: (request: AnalyseRequest) => Promise<AnalyseResult>;
}

/** The real service (parsing and analysis in a worker process). Loaded lazily: it is heavy. */
export async function createAuditBackend(options: BackendOptions = {}): Promise<AuditBackend> {
  const { AuditService } = await import('./audit-service.ts');
  return new AuditService(options);
}
