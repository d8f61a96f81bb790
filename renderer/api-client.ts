// TfauditApi over HTTP for the web host (`tfaudit serve`): the same contract the Electron
// preload exposes. Files are uploaded with their relative paths into the host's private
// workspace, then opened by upload id; events arrive as Server-Sent Events.
import {
  CHANNELS,
  type ApiResult,
  type AuditView,
  type OpenedView,
  type MenuCommand,
  type ProgressEvent,
  type SandboxEvent,
  type TfauditApi,
} from '../shared/api.ts';
import { relativePathOf } from './dropped-files.ts';

export class HttpApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpApiError';
  }
}

const UPLOAD_CONCURRENCY = 3;

/**
 * `base`: the host's origin ('' in the page). `token`: sent as `Authorization: Bearer` by
 * clients that have no session cookie (the page itself lives on the HttpOnly cookie).
 */
export function createHttpApi(base = '', token: string | null = null): TfauditApi {
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const progressListeners = new Set<(e: ProgressEvent) => void>();
  const sandboxListeners = new Set<(e: SandboxEvent) => void>();
  let events: EventSource | null = null;

  const emitProgress = (e: ProgressEvent) => progressListeners.forEach((l) => l(e));

  function ensureEvents(): void {
    if (events || typeof EventSource === 'undefined') return;
    events = new EventSource(`${base}/api/events`);
    events.addEventListener('progress', (m) => emitProgress(JSON.parse((m as MessageEvent<string>).data) as ProgressEvent));
    events.addEventListener('sandbox', (m) => {
      const e = JSON.parse((m as MessageEvent<string>).data) as SandboxEvent;
      sandboxListeners.forEach((l) => l(e));
    });
  }

  async function call<T>(channel: string, payload: unknown): Promise<T> {
    const res = await fetch(`${base}/api/${channel}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
    });
    let body: ApiResult<T>;
    try {
      body = (await res.json()) as ApiResult<T>;
    } catch {
      throw new HttpApiError(res.status === 401 ? 'bad-request' : 'internal', `the host answered ${res.status} ${res.statusText}`);
    }
    if (!body.ok) throw new HttpApiError(body.error.code, body.error.message);
    return body.value;
  }

  async function upload(files: File[]): Promise<string> {
    if (files.length === 0) throw new HttpApiError('bad-request', 'nothing was dropped');
    const created = await fetch(`${base}/api/uploads`, { method: 'POST', credentials: 'same-origin', headers: auth });
    if (!created.ok) throw new HttpApiError('bad-request', `the host refused the upload: ${created.status} ${created.statusText}`);
    const { uploadId } = (await created.json()) as { uploadId: string };
    const total = files.reduce((n, f) => n + f.size, 0);
    let sent = 0;
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const file = files[next++];
        const name = relativePathOf(file);
        const res = await fetch(`${base}/api/uploads/${uploadId}?path=${encodeURIComponent(name)}`, {
          method: 'PUT',
          credentials: 'same-origin',
          headers: { ...auth, 'Content-Type': 'application/octet-stream' },
          body: file,
        });
        if (!res.ok) {
          const detail = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
          throw new HttpApiError('bad-request', `upload of ${name} refused: ${detail?.error?.message ?? res.statusText}`);
        }
        sent += file.size;
        emitProgress({ stage: 'upload', message: `uploaded ${name}`, fraction: total > 0 ? sent / total : 1 });
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, files.length) }, worker));
    return uploadId;
  }

  /** The browser's own file picker stands in for the native Open dialog. */
  function pickFiles(kind: 'file' | 'folder' | 'checkpoint'): Promise<File[] | null> {
    return new Promise((resolve) => {
      const input = document.createElement('input');
      input.type = 'file';
      input.multiple = true;
      if (kind === 'folder') input.webkitdirectory = true;
      input.addEventListener('change', () => resolve(input.files && input.files.length ? Array.from(input.files) : null), { once: true });
      input.addEventListener('cancel', () => resolve(null), { once: true });
      input.click();
    });
  }

  return {
    host: 'web',
    async openDropped(files) {
      ensureEvents();
      const uploadId = await upload(files);
      return call<OpenedView>(CHANNELS.openDropped, { uploadId });
    },
    async openDialog(kind) {
      const files = await pickFiles(kind);
      return files ? this.openDropped(files) : null;
    },
    async addCheckpointsDropped(auditId, files) {
      ensureEvents();
      const uploadId = await upload(files);
      return call<AuditView>(CHANNELS.addCheckpointsDropped, { auditId, uploadId });
    },
    async addCheckpointsDialog(auditId) {
      const files = await pickFiles('checkpoint');
      return files ? this.addCheckpointsDropped(auditId, files) : null;
    },
    openRecent: () => Promise.reject(new HttpApiError('bad-request', 'the web host keeps no recent-files list')),
    getAudit: (auditId) => call(CHANNELS.getAudit, { auditId }),
    setRuntime: (auditId, tfRuntime) => call(CHANNELS.setRuntime, { auditId, tfRuntime }),
    exportPdf: (auditId, auditor) => call(CHANNELS.exportPdf, { auditId, auditor }),
    vulnReport: (auditId, findingId) => call(CHANNELS.vulnReport, { auditId, findingId }),
    openRegistryModel: (registryId, rowId) => call(CHANNELS.openRegistryModel, { registryId, rowId }),
    exportRegistryPdf: (registryId, auditor) => call(CHANNELS.exportRegistryPdf, { registryId, auditor }),
    sandboxPlan: (auditId, findingId, overrides) => call(CHANNELS.sandboxPlan, { auditId, findingId, overrides }),
    sandboxLaunch: (auditId, findingId, overrides) => {
      ensureEvents();
      return call(CHANNELS.sandboxLaunch, { auditId, findingId, overrides });
    },
    sandboxStop: async (runId) => {
      await call(CHANNELS.sandboxStop, { runId });
    },
    onSandboxEvent(listener) {
      ensureEvents();
      sandboxListeners.add(listener);
      return () => sandboxListeners.delete(listener);
    },
    onProgress(listener) {
      ensureEvents();
      progressListeners.add(listener);
      return () => progressListeners.delete(listener);
    },
    // The browser has no application menu; the toolbar covers the same commands.
    onMenuCommand(_listener: (command: MenuCommand, recentIndex?: number) => void) {
      return () => undefined;
    },
  };
}
