// The renderer's state (zustand): the open audit, the selected checkpoint and finding, table
// filters, and the sandbox run. Actions call the TfauditApi (preload or HTTP client).
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { isRegistryView, type AuditView, type CheckpointRef, type OpenedView, type ProgressEvent, type RegistryRow, type RegistryView, type SandboxEvent, type SandboxOverrides, type TfauditApi } from '../shared/api.ts';
import { SEVERITY_RANK } from '../shared/findings.ts';
import type { Capability, Severity } from '../shared/findings.ts';
import type { SandboxPolicy, SandboxRunReport } from '../shared/sandbox.ts';
import type { SortKey } from './verdict.ts';

export type Tab = 'findings' | 'branch' | 'checkpoints' | 'overview' | 'sandbox';
export const TABS: { id: Tab; label: string }[] = [
  { id: 'findings', label: 'Findings' },
  { id: 'branch', label: 'Branch view' },
  { id: 'checkpoints', label: 'Checkpoints' },
  { id: 'overview', label: 'Model overview' },
  { id: 'sandbox', label: 'Sandbox' },
];

export interface UiError {
  code: string;
  message: string;
  /** What the auditor can do about it. */
  hint: string;
}

export interface SandboxState {
  findingId: string | null;
  overrides: SandboxOverrides;
  policy: SandboxPolicy | null;
  planning: boolean;
  runId: string | null;
  console: { stream: 'stdout' | 'stderr' | 'info'; text: string }[];
  outcome: SandboxRunReport | null;
  error: UiError | null;
}

export type RegistrySortKey = 'verdict' | 'path' | 'format' | 'worst' | 'findings' | 'seconds';

export interface WorkbenchState {
  api: TfauditApi;
  status: 'empty' | 'loading' | 'ready' | 'error';
  view: AuditView | null;
  /** An opened registry (a folder of models): shown when no model of it is open. */
  registry: RegistryView | null;
  registrySort: { key: RegistrySortKey; descending: boolean };
  error: UiError | null;
  /** A failed action on an open audit (export, add checkpoint): shown without closing it. */
  notice: { kind: 'error' | 'info'; text: string } | null;
  progress: ProgressEvent | null;
  busy: string | null;
  tab: Tab;
  checkpointId: string | null;
  findingId: string | null;
  expanded: string[];
  filter: { severities: Severity[]; capabilities: Capability[]; text: string };
  sort: { key: SortKey; descending: boolean };
  sandbox: SandboxState;

  openFiles(files: File[]): Promise<void>;
  openDialog(kind: 'file' | 'folder'): Promise<void>;
  openRecent(index: number): Promise<void>;
  /** Opens the full audit of one registry row; backToRegistry returns to the table. */
  openRegistryRow(rowId: string): Promise<void>;
  backToRegistry(): void;
  sortRegistry(key: RegistrySortKey): void;
  exportRegistryPdf(): Promise<void>;
  addCheckpointFiles(files: File[]): Promise<void>;
  addCheckpointDialog(): Promise<void>;
  exportPdf(): Promise<void>;
  /** Re-assess the audit for the TensorFlow release that will serve the model (null: none). */
  setRuntime(tfRuntime: string | null): Promise<void>;
  setTab(tab: Tab): void;
  selectCheckpoint(id: string): void;
  selectFinding(id: string | null, tab?: Tab): void;
  toggleExpanded(id: string): void;
  toggleSeverity(s: Severity): void;
  setCapabilities(c: Capability[]): void;
  setText(text: string): void;
  sortBy(key: SortKey): void;
  clearNotice(): void;
  reset(): void;
  planSandbox(findingId: string | null, overrides?: SandboxOverrides): Promise<void>;
  launchSandbox(): Promise<void>;
  stopSandbox(): Promise<void>;
  handleSandboxEvent(e: SandboxEvent): void;
}

const HINTS: Record<string, string> = {
  'bad-request': 'Drop a SavedModel folder, a .pb/.pbtxt/.meta file, a checkpoint (.index with its .data files), a .keras/.h5 or a .tflite file.',
  'not-found': 'The audit is no longer open on the host. Open the model again.',
  'unreadable-model': 'The file is damaged or not a TensorFlow model. Check that every file of the model was included (variables/, assets/).',
  'worker-crashed': 'The analyzer process died on this model (hostile or too large input). The workbench is still running: try another model, or raise the worker memory limit.',
  timeout: 'Analysis took too long and was stopped. The model may be built to exhaust the parser; treat it as suspicious.',
  'sandbox-unavailable': 'No sandbox backend (bubblewrap or nsjail) is available on this machine. Install one to run models.',
  internal: 'An unexpected error. The details below help a bug report.',
};

export function toUiError(err: unknown): UiError {
  const raw = err instanceof Error ? err.message : String(err);
  const coded = (err as { code?: unknown })?.code;
  let code = typeof coded === 'string' ? coded : 'internal';
  let message = raw;
  // Over contextBridge only the message survives: "code: message".
  const m = /^([a-z-]+): ([\s\S]*)$/.exec(raw);
  if (typeof coded !== 'string' && m && m[1] in HINTS) {
    code = m[1];
    message = m[2];
  }
  return { code, message, hint: HINTS[code] ?? HINTS.internal };
}

const EMPTY_SANDBOX: SandboxState = { findingId: null, overrides: {}, policy: null, planning: false, runId: null, console: [], outcome: null, error: null };

/** Keeps the selected checkpoint when it still exists, else the model's own, else the first. */
function pickCheckpoint(view: AuditView, current: string | null, preferNewest: boolean): string | null {
  const ids = view.checkpoints.map((c) => c.id);
  if (preferNewest && ids.length > 0) return ids[ids.length - 1];
  if (current && ids.includes(current)) return current;
  return ids.includes('own') ? 'own' : (ids[0] ?? null);
}

export function createWorkbenchStore(api: TfauditApi): StoreApi<WorkbenchState> {
  return createStore<WorkbenchState>()((set, get) => {
    const loadView = async (label: string, load: () => Promise<OpenedView | null>, keepRegistry = false) => {
      const previous = get();
      set({ status: 'loading', busy: label, error: null, progress: null, notice: null });
      try {
        const view = await load();
        if (!view) {
          set({ status: previous.view || previous.registry ? 'ready' : 'empty', busy: null });
          return;
        }
        if (isRegistryView(view)) {
          set({ status: 'ready', busy: null, registry: view, view: null, registrySort: { key: 'verdict', descending: true }, sandbox: EMPTY_SANDBOX });
          return;
        }
        const first = view.report.findings[0]?.id ?? null;
        set({
          status: 'ready',
          busy: null,
          view,
          checkpointId: pickCheckpoint(view, null, false),
          findingId: first,
          expanded: [],
          tab: 'findings',
          sandbox: EMPTY_SANDBOX,
          ...(keepRegistry ? {} : { registry: null }),
        });
      } catch (err) {
        // a row that fails to open leaves the registry table in place
        if (keepRegistry && previous.registry) set({ status: 'ready', busy: null, view: null, notice: { kind: 'error', text: `${toUiError(err).message} — ${toUiError(err).hint}` } });
        else set({ status: 'error', busy: null, error: toUiError(err), view: null, registry: null });
      }
    };

    const withAudit = async (label: string, action: (view: AuditView) => Promise<void>) => {
      const view = get().view;
      if (!view) return;
      set({ busy: label, notice: null });
      try {
        await action(view);
      } catch (err) {
        const e = toUiError(err);
        set({ notice: { kind: 'error', text: `${e.message} — ${e.hint}` } });
      } finally {
        set({ busy: null });
      }
    };

    api.onProgress((progress) => set({ progress }));
    api.onSandboxEvent((e) => get().handleSandboxEvent(e));

    return {
      api,
      status: 'empty',
      view: null,
      registry: null,
      registrySort: { key: 'verdict', descending: true },
      error: null,
      notice: null,
      progress: null,
      busy: null,
      tab: 'findings',
      checkpointId: null,
      findingId: null,
      expanded: [],
      filter: { severities: [], capabilities: [], text: '' },
      sort: { key: 'severity', descending: true },
      sandbox: EMPTY_SANDBOX,

      openFiles: (files) => loadView('Opening model…', () => api.openDropped(files)),
      openDialog: (kind) => loadView('Opening model…', () => api.openDialog(kind)),
      openRecent: (index) => loadView('Opening model…', () => api.openRecent(index)),
      openRegistryRow: async (rowId) => {
        const registry = get().registry;
        if (!registry) return;
        await loadView('Opening model…', () => api.openRegistryModel(registry.registryId, rowId), true);
      },
      backToRegistry: () => set((s) => (s.registry ? { view: null, status: 'ready', notice: null, sandbox: EMPTY_SANDBOX } : {})),
      sortRegistry: (key) => set((s) => ({ registrySort: { key, descending: s.registrySort.key === key ? !s.registrySort.descending : key !== 'path' && key !== 'format' } })),
      exportRegistryPdf: async () => {
        const registry = get().registry;
        if (!registry) return;
        set({ busy: 'Rendering registry PDF…', notice: null });
        try {
          const result = await api.exportRegistryPdf(registry.registryId, null);
          if (result.downloadUrl) triggerDownload(result.downloadUrl);
          set({ notice: { kind: 'info', text: result.savedTo ? `Report saved to ${result.savedTo}` : result.downloadUrl ? 'Report downloaded.' : 'Export cancelled.' } });
        } catch (err) {
          const e = toUiError(err);
          set({ notice: { kind: 'error', text: `${e.message} — ${e.hint}` } });
        } finally {
          set({ busy: null });
        }
      },
      addCheckpointFiles: (files) =>
        withAudit('Adding checkpoints…', async (view) => {
          const next = await api.addCheckpointsDropped(view.auditId, files);
          set({ view: next, checkpointId: pickCheckpoint(next, get().checkpointId, false), notice: { kind: 'info', text: addedNotice(view, next) } });
        }),
      addCheckpointDialog: () =>
        withAudit('Adding checkpoints…', async (view) => {
          const next = await api.addCheckpointsDialog(view.auditId);
          if (next) set({ view: next, checkpointId: pickCheckpoint(next, get().checkpointId, false), notice: { kind: 'info', text: addedNotice(view, next) } });
        }),
      setRuntime: (tfRuntime) =>
        withAudit(tfRuntime ? `Assessing for TensorFlow ${tfRuntime}…` : 'Clearing the TensorFlow runtime…', async (view) => {
          const next = await api.setRuntime(view.auditId, tfRuntime);
          const count = next.report.findings.filter((f) => f.capability === 'known-vulnerability' && f.severity !== 'info').length;
          set({
            view: next,
            checkpointId: pickCheckpoint(next, get().checkpointId, false),
            notice: { kind: 'info', text: tfRuntime ? `TensorFlow ${tfRuntime}: ${count} op${count === 1 ? '' : 's'} with known kernel vulnerabilities.` : 'No TensorFlow runtime: advisories are listed per op, not judged.' },
          });
        }),
      exportPdf: () =>
        withAudit('Rendering PDF…', async (view) => {
          const result = await api.exportPdf(view.auditId, null);
          if (result.downloadUrl) triggerDownload(result.downloadUrl);
          set({ notice: { kind: 'info', text: result.savedTo ? `Report saved to ${result.savedTo}` : result.downloadUrl ? 'Report downloaded.' : 'Export cancelled.' } });
        }),
      setTab: (tab) => set({ tab }),
      selectCheckpoint: (id) => set((s) => ({ checkpointId: id, notice: s.notice?.kind === 'info' ? null : s.notice })),
      selectFinding: (id, tab) => set(tab ? { findingId: id, tab } : { findingId: id }),
      toggleExpanded: (id) => set((s) => ({ expanded: s.expanded.includes(id) ? s.expanded.filter((x) => x !== id) : [...s.expanded, id], findingId: id })),
      toggleSeverity: (sev) =>
        set((s) => ({
          filter: { ...s.filter, severities: s.filter.severities.includes(sev) ? s.filter.severities.filter((x) => x !== sev) : [...s.filter.severities, sev] },
        })),
      setCapabilities: (capabilities) => set((s) => ({ filter: { ...s.filter, capabilities } })),
      setText: (text) => set((s) => ({ filter: { ...s.filter, text } })),
      sortBy: (key) => set((s) => ({ sort: { key, descending: s.sort.key === key ? !s.sort.descending : key === 'severity' || key === 'state' } })),
      clearNotice: () => set({ notice: null }),
      reset: () => set({ status: 'empty', view: null, registry: null, error: null, notice: null, sandbox: EMPTY_SANDBOX }),

      planSandbox: async (findingId, overrides) => {
        const view = get().view;
        if (!view) return;
        const nextOverrides = overrides ?? get().sandbox.overrides;
        set((s) => ({ sandbox: { ...s.sandbox, findingId, overrides: nextOverrides, planning: true, error: null } }));
        try {
          const policy = await api.sandboxPlan(view.auditId, findingId, nextOverrides);
          set((s) => ({ sandbox: { ...s.sandbox, policy, planning: false } }));
        } catch (err) {
          set((s) => ({ sandbox: { ...s.sandbox, planning: false, policy: null, error: toUiError(err) } }));
        }
      },
      launchSandbox: async () => {
        const { view, sandbox } = get();
        if (!view || sandbox.runId) return;
        set((s) => ({ sandbox: { ...s.sandbox, console: [{ stream: 'info', text: 'Launching in the sandbox…\n' }], outcome: null, error: null } }));
        try {
          const { runId } = await api.sandboxLaunch(view.auditId, sandbox.findingId, sandbox.overrides);
          set((s) => ({ sandbox: { ...s.sandbox, runId } }));
        } catch (err) {
          set((s) => ({ sandbox: { ...s.sandbox, error: toUiError(err) } }));
        }
      },
      stopSandbox: async () => {
        const runId = get().sandbox.runId;
        if (!runId) return;
        try {
          await api.sandboxStop(runId);
        } catch (err) {
          set((s) => ({ sandbox: { ...s.sandbox, error: toUiError(err) } }));
        }
      },
      handleSandboxEvent: (e) =>
        set((s) => {
          if (s.sandbox.runId && e.runId !== s.sandbox.runId) return {};
          const lines = s.sandbox.console.length > 4000 ? s.sandbox.console.slice(-3000) : s.sandbox.console;
          if (e.type === 'stdout' || e.type === 'stderr') return { sandbox: { ...s.sandbox, runId: s.sandbox.runId ?? e.runId, console: [...lines, { stream: e.type, text: e.data }] } };
          if (e.type === 'error') return { sandbox: { ...s.sandbox, runId: null, console: [...lines, { stream: 'info', text: `error: ${e.message}\n` }], error: { code: 'sandbox-unavailable', message: e.message, hint: HINTS['sandbox-unavailable'] } } };
          if (e.type !== 'exit') return {};
          const report = e.report;
          const view = s.view ? { ...s.view, sandboxRuns: [...s.view.sandboxRuns.filter((r) => r.runId !== report.runId), report] } : s.view;
          return { view, sandbox: { ...s.sandbox, runId: null, outcome: report, console: [...lines, { stream: 'info', text: `exited: ${describeExit(report)}\n` }] } };
        }),
    };
  });
}

const VERDICT_RANK: Record<RegistryRow['status'] | 'unsafe' | 'review' | 'clean' | 'unreadable', number> = { unsafe: 4, unreadable: 3, review: 2, clean: 1, ok: 0, error: 0 };

/** A row's verdict against the registry's threshold (as shared/registry.ts entryVerdict). */
export function rowVerdict(row: RegistryRow, failOn: RegistryView['failOn']): 'unsafe' | 'review' | 'clean' | 'unreadable' {
  if (row.status === 'error') return 'unreadable';
  if (row.maxSeverity && SEVERITY_RANK[row.maxSeverity] >= SEVERITY_RANK[failOn]) return 'unsafe';
  if (row.maxSeverity && row.maxSeverity !== 'info') return 'review';
  return 'clean';
}

/** Registry rows in the chosen order; ties fall back to the path. */
export function sortedRows(registry: RegistryView, sort: WorkbenchState['registrySort']): RegistryRow[] {
  const total = (r: RegistryRow) => Object.values(r.counts).reduce((a, b) => a + b, 0);
  const worst = (r: RegistryRow) => (r.maxSeverity ? SEVERITY_RANK[r.maxSeverity] : -1);
  const value: Record<RegistrySortKey, (r: RegistryRow) => number | string> = {
    verdict: (r) => VERDICT_RANK[rowVerdict(r, registry.failOn)] * 10 + worst(r),
    path: (r) => r.path,
    format: (r) => r.format,
    worst,
    findings: total,
    seconds: (r) => r.seconds,
  };
  const key = value[sort.key];
  const byPath = (a: RegistryRow, b: RegistryRow) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return [...registry.rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    const order = x < y ? -1 : x > y ? 1 : 0;
    return (sort.descending ? -order : order) || byPath(a, b);
  });
}

export function describeExit(r: SandboxRunReport): string {
  if (r.timedOut) return `timed out after ${r.wallSeconds.toFixed(1)} s`;
  if (r.signal) return `killed by ${r.signal} after ${r.wallSeconds.toFixed(1)} s`;
  return `exit code ${r.exitCode} after ${r.wallSeconds.toFixed(1)} s`;
}

function addedNotice(before: AuditView, after: AuditView): string {
  const added = after.checkpoints.filter((c) => !before.checkpoints.some((b) => b.id === c.id));
  return added.length ? `Added ${added.length} checkpoint${added.length === 1 ? '' : 's'}: switch to it in the checkpoint bar to see its verdict.` : 'No new checkpoint was added.';
}

function triggerDownload(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export function selectedCheckpoint(state: Pick<WorkbenchState, 'view' | 'checkpointId'>): CheckpointRef | null {
  return state.view?.checkpoints.find((c) => c.id === state.checkpointId) ?? null;
}

let boundStore: StoreApi<WorkbenchState> | null = null;

export function bindStore(store: StoreApi<WorkbenchState>): void {
  boundStore = store;
}

export function useWorkbench<T>(selector: (s: WorkbenchState) => T): T {
  if (!boundStore) throw new Error('workbench store not bound');
  return useStore(boundStore, selector);
}
