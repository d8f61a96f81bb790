// The typed contract between the renderer and the main side. The Electron preload exposes
// exactly `TfauditApi` through contextBridge; the web host serves the same calls over HTTP.
// Page script never names a file path: paths come only from dropped files resolved in the
// preload (webUtils.getPathForFile), from the main side's Open dialogs, or from uploads.
import type { ScanReport } from './findings.ts';
import type { ModelSummary } from './summary.ts';
import type { SandboxPolicy, SandboxRunReport, SandboxRunner } from './sandbox.ts';

export interface CheckpointRef {
  /** Stable id within one audit: `own` for the model's own checkpoint, then `c1`, `c2`, ... */
  id: string;
  /** The prefix as the report names it (`<model>/variables/variables` for the model's own). */
  label: string;
}

export interface AuditView {
  auditId: string;
  summary: ModelSummary;
  report: ScanReport;
  checkpoints: CheckpointRef[];
  sandboxRuns: SandboxRunReport[];
  /** Whether parsing and analysis ran inside an OS sandbox, and how. */
  isolation: { isolated: boolean; description: string };
}

export interface SandboxOverrides {
  runner?: SandboxRunner;
  allowNetwork?: boolean;
  timeoutSeconds?: number;
  memoryMb?: number;
  /** Checkpoint id (from AuditView.checkpoints) the tf-python runner restores. */
  checkpointId?: string | null;
  signature?: string | null;
}

export type SandboxEvent =
  | { runId: string; type: 'stdout' | 'stderr'; data: string }
  | { runId: string; type: 'exit'; report: SandboxRunReport }
  | { runId: string; type: 'error'; message: string };

export interface ProgressEvent {
  stage: 'upload' | 'parse' | 'analyse' | 'report';
  message: string;
  /** 0..1 when known. */
  fraction: number | null;
}

export interface ApiError {
  code: 'bad-request' | 'not-found' | 'unreadable-model' | 'worker-crashed' | 'timeout' | 'sandbox-unavailable' | 'internal';
  message: string;
}

/** Channel names for Electron IPC (invoke/handle) and the HTTP host's `/api/<channel>` routes. */
export const CHANNELS = {
  openDropped: 'audit:open-dropped',
  openDialog: 'audit:open-dialog',
  addCheckpointsDropped: 'audit:add-checkpoints-dropped',
  addCheckpointsDialog: 'audit:add-checkpoints-dialog',
  getAudit: 'audit:get',
  exportPdf: 'audit:export-pdf',
  vulnReport: 'audit:vuln-report',
  sandboxPlan: 'sandbox:plan',
  sandboxLaunch: 'sandbox:launch',
  sandboxStop: 'sandbox:stop',
  // main → renderer events
  sandboxEvent: 'sandbox:event',
  progress: 'audit:progress',
  menuCommand: 'menu:command',
} as const;

export type MenuCommand = 'open-file' | 'open-folder' | 'add-checkpoint' | 'export-pdf' | 'open-recent';

/** What the renderer sees as `window.tfaudit` (Electron) or builds over HTTP (web host). */
export interface TfauditApi {
  /** Files/folders the user dropped (DOM File objects); the first model-like one is the model. */
  openDropped(files: File[]): Promise<AuditView>;
  openDialog(kind: 'file' | 'folder'): Promise<AuditView | null>;
  addCheckpointsDropped(auditId: string, files: File[]): Promise<AuditView>;
  addCheckpointsDialog(auditId: string): Promise<AuditView | null>;
  getAudit(auditId: string): Promise<AuditView>;
  /** Electron: asks where to save and returns the path; web: returns a download URL. */
  exportPdf(auditId: string, auditor: string | null): Promise<{ savedTo: string | null; downloadUrl: string | null }>;
  vulnReport(auditId: string, findingId: string): Promise<{ markdown: string }>;
  sandboxPlan(auditId: string, findingId: string | null, overrides: SandboxOverrides): Promise<SandboxPolicy>;
  /** Takes an audit id and the editable overrides, never a command line. */
  sandboxLaunch(auditId: string, findingId: string | null, overrides: SandboxOverrides): Promise<{ runId: string }>;
  sandboxStop(runId: string): Promise<void>;
  onSandboxEvent(listener: (event: SandboxEvent) => void): () => void;
  onProgress(listener: (event: ProgressEvent) => void): () => void;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}
