// The contract object the preload exposes as window.tfaudit. Built from an injected
// ipcRenderer/webUtils so tests can check it without Electron. It never hands out ipcRenderer,
// IPC events or arbitrary channels; dropped File objects become paths here, not in page script.
import {
  CHANNELS,
  type ApiResult,
  type MenuCommandMessage,
  type ProgressEvent,
  type SandboxEvent,
  type TfauditApi,
} from '../../shared/api.ts';

export interface PreloadElectron {
  ipcRenderer: {
    invoke(channel: string, payload: unknown): Promise<unknown>;
    on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
    removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  };
  webUtils: { getPathForFile(file: File): string };
}

export function createPreloadApi(electron: PreloadElectron): TfauditApi {
  const { ipcRenderer, webUtils } = electron;

  async function call<T>(channel: string, payload: unknown): Promise<T> {
    const result = (await ipcRenderer.invoke(channel, payload)) as ApiResult<T>;
    if (result.ok) return result.value;
    // contextBridge keeps only an Error's message: the code travels in it too.
    throw new Error(`${result.error.code}: ${result.error.message}`);
  }

  function pathsOf(files: File[]): string[] {
    if (!Array.isArray(files) || files.length === 0) throw new Error('bad-request: nothing was dropped');
    const paths = files.map((f) => webUtils.getPathForFile(f));
    if (paths.some((p) => !p)) throw new Error('bad-request: a dropped item has no file on disk (drop files or folders from the file manager)');
    return paths;
  }

  function subscribe<T>(channel: string, deliver: (payload: T) => void): () => void {
    const listener = (_event: unknown, payload: unknown) => deliver(payload as T);
    ipcRenderer.on(channel, listener);
    return () => {
      ipcRenderer.removeListener(channel, listener);
    };
  }

  return {
    host: 'electron',
    openDropped: async (files) => call(CHANNELS.openDropped, { paths: pathsOf(files) }),
    openDialog: (kind) => call(CHANNELS.openDialog, { kind }),
    addCheckpointsDropped: async (auditId, files) => call(CHANNELS.addCheckpointsDropped, { auditId, paths: pathsOf(files) }),
    addCheckpointsDialog: (auditId) => call(CHANNELS.addCheckpointsDialog, { auditId }),
    openRecent: (index) => call(CHANNELS.openRecent, { index }),
    getAudit: (auditId) => call(CHANNELS.getAudit, { auditId }),
    setRuntime: (auditId, tfRuntime) => call(CHANNELS.setRuntime, { auditId, tfRuntime }),
    exportPdf: (auditId, auditor) => call(CHANNELS.exportPdf, { auditId, auditor }),
    vulnReport: (auditId, findingId) => call(CHANNELS.vulnReport, { auditId, findingId }),
    openRegistryModel: (registryId, rowId) => call(CHANNELS.openRegistryModel, { registryId, rowId }),
    exportRegistryPdf: (registryId, auditor) => call(CHANNELS.exportRegistryPdf, { registryId, auditor }),
    sandboxPlan: (auditId, findingId, overrides) => call(CHANNELS.sandboxPlan, { auditId, findingId, overrides }),
    sandboxLaunch: (auditId, findingId, overrides) => call(CHANNELS.sandboxLaunch, { auditId, findingId, overrides }),
    sandboxStop: (runId) => call(CHANNELS.sandboxStop, { runId }),
    onSandboxEvent: (listener) => subscribe<SandboxEvent>(CHANNELS.sandboxEvent, listener),
    onProgress: (listener) => subscribe<ProgressEvent>(CHANNELS.progress, listener),
    onMenuCommand: (listener) => subscribe<MenuCommandMessage>(CHANNELS.menuCommand, (m) => listener(m.command, m.recentIndex)),
  };
}
