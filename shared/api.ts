// The typed contract between the renderer and the main side. The Electron preload exposes
// exactly `TfauditApi` through contextBridge; the web host serves the same calls over HTTP.
// Page script never names a file path: paths come only from dropped files resolved in the
// preload (webUtils.getPathForFile), from the main side's Open dialogs, or from uploads.
import type { ScanReport } from './findings.ts';
import type { ModelSummary } from './summary.ts';
import type { SandboxPolicy, SandboxRunReport, SandboxRunner } from './sandbox.ts';
import type { Severity } from './findings.ts';
import type { RegistryEntry, RegistryTotals } from './registry.ts';

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

/** One model of an opened registry: its verdict and counts; its findings open with its full audit. */
export type RegistryRow = Omit<RegistryEntry, 'findings' | 'files' | 'analysis'> & {
  /** Stable within one registry: `m1`, `m2`, ... in path order. */
  rowId: string;
};

/** A folder holding several models, audited as a registry (one row per model). */
export interface RegistryView {
  kind: 'registry';
  registryId: string;
  /** The folder as opened. */
  root: string;
  /** Severity at or above which a model is unsafe. */
  failOn: Severity;
  rows: RegistryRow[];
  totals: RegistryTotals;
  isolation: { isolated: boolean; description: string };
}

/** What opening files or a folder yields: one model's audit, or a registry of models. */
export type OpenedView = AuditView | RegistryView;

export function isRegistryView(view: OpenedView | null | undefined): view is RegistryView {
  return (view as RegistryView | null | undefined)?.kind === 'registry';
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
  /** Electron only: reopen entry N of the recent-files list main keeps (page script never names the path). */
  openRecent: 'audit:open-recent',
  getAudit: 'audit:get',
  /** Re-assess the open audit for the TensorFlow release that will serve it (null: none). */
  setRuntime: 'audit:set-runtime',
  exportPdf: 'audit:export-pdf',
  vulnReport: 'audit:vuln-report',
  openRegistryModel: 'registry:open-model',
  exportRegistryPdf: 'registry:export-pdf',
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
  /** Which host implements the contract: drop handling differs (Electron resolves dropped folders itself). */
  readonly host: 'electron' | 'web';
  /** Files/folders the user dropped (DOM File objects); the first model-like one is the model. */
  /** A folder holding several models opens as a registry. */
  openDropped(files: File[]): Promise<OpenedView>;
  openDialog(kind: 'file' | 'folder'): Promise<OpenedView | null>;
  addCheckpointsDropped(auditId: string, files: File[]): Promise<AuditView>;
  addCheckpointsDialog(auditId: string): Promise<AuditView | null>;
  getAudit(auditId: string): Promise<AuditView>;
  /** Known TensorFlow kernel advisories judged for this release (`2.11.0`), or listed per op when null. */
  setRuntime(auditId: string, tfRuntime: string | null): Promise<AuditView>;
  /** Electron: asks where to save and returns the path; web: returns a download URL. */
  exportPdf(auditId: string, auditor: string | null): Promise<{ savedTo: string | null; downloadUrl: string | null }>;
  vulnReport(auditId: string, findingId: string): Promise<{ markdown: string }>;
  sandboxPlan(auditId: string, findingId: string | null, overrides: SandboxOverrides): Promise<SandboxPolicy>;
  /** Takes an audit id and the editable overrides, never a command line. */
  sandboxLaunch(auditId: string, findingId: string | null, overrides: SandboxOverrides): Promise<{ runId: string }>;
  sandboxStop(runId: string): Promise<void>;
  onSandboxEvent(listener: (event: SandboxEvent) => void): () => void;
  onProgress(listener: (event: ProgressEvent) => void): () => void;
  /** `recentIndex` accompanies 'open-recent': pass it back to openRecent. */
  onMenuCommand(listener: (command: MenuCommand, recentIndex?: number) => void): () => void;
  /** Electron: reopens recent entry `index` (the web host has no recent list and rejects it). */
  openRecent(index: number): Promise<OpenedView>;
  /** The full audit of one registry row (the model with the checkpoints found beside it). */
  openRegistryModel(registryId: string, rowId: string): Promise<AuditView>;
  /** One PDF for the registry: summary table and a section per unsafe model. */
  exportRegistryPdf(registryId: string, auditor: string | null): Promise<{ savedTo: string | null; downloadUrl: string | null }>;
}

// ---------------------------------------------------------------------------------------------
// Wire payloads. Every request crossing IPC or HTTP is validated in main with the validators
// below before it reaches the service; the renderer is treated as untrusted.

/** Channels the renderer invokes (request/response). */
export const INVOKE_CHANNELS = [
  CHANNELS.openDropped,
  CHANNELS.openDialog,
  CHANNELS.addCheckpointsDropped,
  CHANNELS.addCheckpointsDialog,
  CHANNELS.openRecent,
  CHANNELS.getAudit,
  CHANNELS.setRuntime,
  CHANNELS.exportPdf,
  CHANNELS.vulnReport,
  CHANNELS.openRegistryModel,
  CHANNELS.exportRegistryPdf,
  CHANNELS.sandboxPlan,
  CHANNELS.sandboxLaunch,
  CHANNELS.sandboxStop,
] as const;
export type InvokeChannel = (typeof INVOKE_CHANNELS)[number];

/** Electron: absolute paths resolved in the preload from dropped File objects. */
export interface OpenDroppedRequest { paths: string[] }
/** Web host: an upload batch already stored in the server's private workspace. */
export interface OpenUploadedRequest { uploadId: string }
export interface OpenDialogRequest { kind: 'file' | 'folder' }
export interface AddCheckpointsDroppedRequest { auditId: string; paths: string[] }
export interface AddCheckpointsUploadedRequest { auditId: string; uploadId: string }
export interface AuditIdRequest { auditId: string }
export interface OpenRecentRequest { index: number }
/** What travels on CHANNELS.menuCommand. */
export interface MenuCommandMessage { command: MenuCommand; recentIndex?: number }
export interface SetRuntimeRequest { auditId: string; tfRuntime: string | null }
export interface ExportPdfRequest { auditId: string; auditor: string | null }
export interface VulnReportRequest { auditId: string; findingId: string }
export interface OpenRegistryModelRequest { registryId: string; rowId: string }
export interface ExportRegistryPdfRequest { registryId: string; auditor: string | null }
export interface SandboxRequest { auditId: string; findingId: string | null; overrides: SandboxOverrides }
export interface SandboxStopRequest { runId: string }

/** How a call's outcome crosses IPC/HTTP: errors keep their code (Electron would flatten a thrown Error). */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export const API_ERROR_CODES: readonly ApiError['code'][] = [
  'bad-request', 'not-found', 'unreadable-model', 'worker-crashed', 'timeout', 'sandbox-unavailable', 'internal',
];

/** Thrown by validators; main turns it into `{ code: 'bad-request' }`. */
export class RequestValidationError extends Error {
  readonly code = 'bad-request' as const;
  constructor(message: string) {
    super(message);
    this.name = 'RequestValidationError';
  }
}

export const REQUEST_LIMITS = {
  maxPaths: 256,
  maxPathLength: 4096,
  maxIdLength: 128,
  maxAuditorLength: 200,
  maxTimeoutSeconds: 24 * 3600,
  maxMemoryMb: 1024 * 1024,
} as const;

/** Runners the renderer may pick. `custom` (an arbitrary command) is CLI-only: the UI never sends a command line. */
const SANDBOX_RUNNERS = ['tf-python', 'saved-model-cli', 'model-server'] as const;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

function fail(message: string): never {
  throw new RequestValidationError(message);
}

function plainObject(x: unknown, what: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) fail(`${what} must be an object`);
  const proto = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== null) fail(`${what} must be a plain object`);
  for (const key of Object.keys(x)) if (!allowed.includes(key)) fail(`${what} has an unexpected field "${key}"`);
  return x as Record<string, unknown>;
}

function checkId(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > REQUEST_LIMITS.maxIdLength || !ID_PATTERN.test(value)) {
    fail(`${field} must be an identifier (letters, digits, . _ : -; at most ${REQUEST_LIMITS.maxIdLength} characters)`);
  }
}

function checkNullableId(value: unknown, field: string): void {
  if (value !== null) checkId(value, field);
}

function checkAbsolutePaths(value: unknown, field: string): void {
  if (!Array.isArray(value) || value.length === 0) fail(`${field} must be a non-empty array of paths`);
  if (value.length > REQUEST_LIMITS.maxPaths) fail(`${field} has more than ${REQUEST_LIMITS.maxPaths} paths`);
  for (const p of value) {
    if (typeof p !== 'string' || p.length === 0 || p.length > REQUEST_LIMITS.maxPathLength) fail(`${field} holds an empty or over-long path`);
    if (p.includes('\0')) fail(`${field} holds a path with a NUL byte`);
    const absolute = p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
    if (!absolute) fail(`${field} holds a relative path; only paths resolved from dropped files or dialogs are accepted`);
  }
}

function checkOverrides(value: unknown): void {
  const o = plainObject(value, 'overrides', ['runner', 'allowNetwork', 'timeoutSeconds', 'memoryMb', 'checkpointId', 'signature']);
  if (o.runner !== undefined && !(SANDBOX_RUNNERS as readonly unknown[]).includes(o.runner)) fail(`overrides.runner must be one of ${SANDBOX_RUNNERS.join(', ')}`);
  if (o.allowNetwork !== undefined && typeof o.allowNetwork !== 'boolean') fail('overrides.allowNetwork must be a boolean');
  const positive = (v: unknown, field: string, max: number) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max)) fail(`overrides.${field} must be a number in (0, ${max}]`);
  };
  positive(o.timeoutSeconds, 'timeoutSeconds', REQUEST_LIMITS.maxTimeoutSeconds);
  positive(o.memoryMb, 'memoryMb', REQUEST_LIMITS.maxMemoryMb);
  if (o.checkpointId !== undefined) checkNullableId(o.checkpointId, 'overrides.checkpointId');
  if (o.signature !== undefined && o.signature !== null && (typeof o.signature !== 'string' || o.signature.length > 256 || o.signature.includes('\0'))) {
    fail('overrides.signature must be a signature key or null');
  }
}

export function validateOpenDroppedRequest(x: unknown): asserts x is OpenDroppedRequest {
  const o = plainObject(x, 'request', ['paths']);
  checkAbsolutePaths(o.paths, 'paths');
}

export function validateOpenUploadedRequest(x: unknown): asserts x is OpenUploadedRequest {
  const o = plainObject(x, 'request', ['uploadId']);
  checkId(o.uploadId, 'uploadId');
}

export function validateOpenDialogRequest(x: unknown): asserts x is OpenDialogRequest {
  const o = plainObject(x, 'request', ['kind']);
  if (o.kind !== 'file' && o.kind !== 'folder') fail('kind must be "file" or "folder"');
}

export function validateAddCheckpointsDroppedRequest(x: unknown): asserts x is AddCheckpointsDroppedRequest {
  const o = plainObject(x, 'request', ['auditId', 'paths']);
  checkId(o.auditId, 'auditId');
  checkAbsolutePaths(o.paths, 'paths');
}

export function validateAddCheckpointsUploadedRequest(x: unknown): asserts x is AddCheckpointsUploadedRequest {
  const o = plainObject(x, 'request', ['auditId', 'uploadId']);
  checkId(o.auditId, 'auditId');
  checkId(o.uploadId, 'uploadId');
}

export function validateAddCheckpointsDialogRequest(x: unknown): asserts x is AuditIdRequest {
  const o = plainObject(x, 'request', ['auditId']);
  checkId(o.auditId, 'auditId');
}

export function validateOpenRecentRequest(x: unknown): asserts x is OpenRecentRequest {
  const o = plainObject(x, 'request', ['index']);
  if (typeof o.index !== 'number' || !Number.isInteger(o.index) || o.index < 0 || o.index > 99) fail('index must be an integer in 0..99');
}

export function validateGetAuditRequest(x: unknown): asserts x is AuditIdRequest {
  const o = plainObject(x, 'request', ['auditId']);
  checkId(o.auditId, 'auditId');
}

/** A release as PyPI spells it: `2.11.0`, `2.4.0rc1`, `2.16.0-rc0` (main checks it again when parsing). */
const RUNTIME_PATTERN = /^\d{1,4}(\.\d{1,6}){0,3}([-_.]?(a|b|rc)\d{0,4})?$/;

export function validateSetRuntimeRequest(x: unknown): asserts x is SetRuntimeRequest {
  const o = plainObject(x, 'request', ['auditId', 'tfRuntime']);
  checkId(o.auditId, 'auditId');
  if (o.tfRuntime !== null && (typeof o.tfRuntime !== 'string' || !RUNTIME_PATTERN.test(o.tfRuntime))) fail('tfRuntime must be a TensorFlow release such as 2.11.0 or 2.4.0rc1, or null');
}

function checkAuditor(o: Record<string, unknown>): void {
  if (o.auditor !== null && (typeof o.auditor !== 'string' || o.auditor.length > REQUEST_LIMITS.maxAuditorLength || /[\u0000-\u001f]/.test(o.auditor))) {
    fail(`auditor must be a name of at most ${REQUEST_LIMITS.maxAuditorLength} printable characters, or null`);
  }
}

export function validateExportPdfRequest(x: unknown): asserts x is ExportPdfRequest {
  const o = plainObject(x, 'request', ['auditId', 'auditor']);
  checkId(o.auditId, 'auditId');
  checkAuditor(o);
}

export function validateOpenRegistryModelRequest(x: unknown): asserts x is OpenRegistryModelRequest {
  const o = plainObject(x, 'request', ['registryId', 'rowId']);
  checkId(o.registryId, 'registryId');
  checkId(o.rowId, 'rowId');
}

export function validateExportRegistryPdfRequest(x: unknown): asserts x is ExportRegistryPdfRequest {
  const o = plainObject(x, 'request', ['registryId', 'auditor']);
  checkId(o.registryId, 'registryId');
  checkAuditor(o);
}

export function validateVulnReportRequest(x: unknown): asserts x is VulnReportRequest {
  const o = plainObject(x, 'request', ['auditId', 'findingId']);
  checkId(o.auditId, 'auditId');
  checkId(o.findingId, 'findingId');
}

function validateSandboxRequest(x: unknown): asserts x is SandboxRequest {
  const o = plainObject(x, 'request', ['auditId', 'findingId', 'overrides']);
  checkId(o.auditId, 'auditId');
  checkNullableId(o.findingId, 'findingId');
  checkOverrides(o.overrides);
}

export function validateSandboxPlanRequest(x: unknown): asserts x is SandboxRequest {
  validateSandboxRequest(x);
}

/** Takes an audit id and overrides only: a `command` (or any other field) is rejected. */
export function validateSandboxLaunchRequest(x: unknown): asserts x is SandboxRequest {
  validateSandboxRequest(x);
}

export function validateSandboxStopRequest(x: unknown): asserts x is SandboxStopRequest {
  const o = plainObject(x, 'request', ['runId']);
  checkId(o.runId, 'runId');
}

/** Validator per invoke channel, for the Electron IPC payloads. */
export const IPC_VALIDATORS: Record<InvokeChannel, (x: unknown) => void> = {
  [CHANNELS.openDropped]: validateOpenDroppedRequest,
  [CHANNELS.openDialog]: validateOpenDialogRequest,
  [CHANNELS.addCheckpointsDropped]: validateAddCheckpointsDroppedRequest,
  [CHANNELS.addCheckpointsDialog]: validateAddCheckpointsDialogRequest,
  [CHANNELS.openRecent]: validateOpenRecentRequest,
  [CHANNELS.getAudit]: validateGetAuditRequest,
  [CHANNELS.setRuntime]: validateSetRuntimeRequest,
  [CHANNELS.exportPdf]: validateExportPdfRequest,
  [CHANNELS.vulnReport]: validateVulnReportRequest,
  [CHANNELS.openRegistryModel]: validateOpenRegistryModelRequest,
  [CHANNELS.exportRegistryPdf]: validateExportRegistryPdfRequest,
  [CHANNELS.sandboxPlan]: validateSandboxPlanRequest,
  [CHANNELS.sandboxLaunch]: validateSandboxLaunchRequest,
  [CHANNELS.sandboxStop]: validateSandboxStopRequest,
};

/** Turns anything thrown into the wire error shape. */
export function toApiError(err: unknown): ApiError {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    if (typeof e.code === 'string' && (API_ERROR_CODES as readonly string[]).includes(e.code)) return { code: e.code as ApiError['code'], message };
    return { code: 'internal', message };
  }
  return { code: 'internal', message: String(err) };
}
