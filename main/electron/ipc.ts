// IPC handlers: exactly the invoke channels of the contract, each checking that the sender is
// our app:// main frame and validating its payload before the service sees it.
import { writeFile } from 'node:fs/promises';
import type * as ElectronModule from 'electron';
import {
  CHANNELS,
  INVOKE_CHANNELS,
  IPC_VALIDATORS,
  toApiError,
  type ApiResult,
  type AuditView,
  type OpenedView,
  type InvokeChannel,
  type ExportRegistryPdfRequest,
  type OpenRegistryModelRequest,
  type AddCheckpointsDroppedRequest,
  type AuditIdRequest,
  type SetRuntimeRequest,
  type ExportPdfRequest,
  type OpenDialogRequest,
  type OpenDroppedRequest,
  type OpenRecentRequest,
  type SandboxRequest,
  type SandboxStopRequest,
  type VulnReportRequest,
} from '../../shared/api.ts';
import type { AuditBackend } from '../service/backend.ts';
import { expandCheckpointFolders } from '../service/checkpoint-paths.ts';
import { isTrustedSender, type Electron } from './security.ts';

/** What main needs beyond the service: dialogs, the window, the recent list. */
export interface IpcDeps {
  backend: AuditBackend;
  getWindow(): ElectronModule.BrowserWindow | null;
  recent: { add(path: string): void; at(index: number): string | null };
  /** Called after the recent list changed (to rebuild the menu). */
  onRecentChanged?(): void;
}

type Handler = (payload: never, event: ElectronModule.IpcMainInvokeEvent) => Promise<unknown>;

export class UntrustedSenderError extends Error {
  readonly code = 'bad-request' as const;
}

export function ipcHandlers(electron: Pick<Electron, 'dialog'>, deps: IpcDeps): Record<InvokeChannel, Handler> {
  const { backend } = deps;
  const dialogParent = () => deps.getWindow() ?? undefined;
  const remember = (paths: string[]) => {
    deps.recent.add(paths[0]);
    deps.onRecentChanged?.();
  };
  const pickPaths = async (options: ElectronModule.OpenDialogOptions): Promise<string[] | null> => {
    const parent = dialogParent();
    const result = parent ? await electron.dialog.showOpenDialog(parent, options) : await electron.dialog.showOpenDialog(options);
    return result.canceled || result.filePaths.length === 0 ? null : result.filePaths;
  };

  return {
    [CHANNELS.openDropped]: async (p: OpenDroppedRequest) => {
      const view = await backend.open(expandCheckpointFolders(p.paths));
      remember(p.paths);
      return view;
    },
    [CHANNELS.openDialog]: async (p: OpenDialogRequest): Promise<OpenedView | null> => {
      const paths = await pickPaths(
        p.kind === 'folder'
          ? { title: 'Open a SavedModel, a model folder or a registry of models', properties: ['openDirectory'] }
          : {
              title: 'Open a model file',
              properties: ['openFile', 'multiSelections'],
              filters: [
                { name: 'TensorFlow models', extensions: ['pb', 'pbtxt', 'meta', 'index', 'keras', 'h5', 'hdf5', 'tflite'] },
                { name: 'All files', extensions: ['*'] },
              ],
            },
      );
      if (!paths) return null;
      const view = await backend.open(paths);
      remember(paths);
      return view;
    },
    [CHANNELS.addCheckpointsDropped]: async (p: AddCheckpointsDroppedRequest) => backend.addCheckpoints(p.auditId, expandCheckpointFolders(p.paths)),
    [CHANNELS.addCheckpointsDialog]: async (p: AuditIdRequest): Promise<AuditView | null> => {
      backend.get(p.auditId); // unknown audit → not-found before a dialog opens
      const paths = await pickPaths({
        title: 'Add checkpoints (the .index file of each)',
        properties: ['openFile', 'multiSelections'],
        filters: [
          { name: 'Checkpoints', extensions: ['index'] },
          { name: 'All files', extensions: ['*'] },
        ],
      });
      return paths ? backend.addCheckpoints(p.auditId, paths) : null;
    },
    [CHANNELS.openRecent]: async (p: OpenRecentRequest) => {
      const path = deps.recent.at(p.index);
      if (!path) throw Object.assign(new Error(`no recent entry ${p.index}`), { code: 'not-found' });
      const view = await backend.open([path]);
      remember([path]);
      return view;
    },
    [CHANNELS.getAudit]: async (p: AuditIdRequest) => backend.get(p.auditId),
    [CHANNELS.setRuntime]: async (p: SetRuntimeRequest) => backend.setRuntime(p.auditId, p.tfRuntime),
    [CHANNELS.exportPdf]: async (p: ExportPdfRequest) => {
      const view = backend.get(p.auditId);
      const stem = (view.report.model.path.split(/[\\/]/).filter(Boolean).pop() ?? 'model').replace(/[^A-Za-z0-9._-]/g, '_');
      const parent = dialogParent();
      const options: ElectronModule.SaveDialogOptions = {
        title: 'Export audit report',
        defaultPath: `${stem}-audit.pdf`,
        filters: [{ name: 'PDF', extensions: ['pdf'] }],
      };
      const target = parent ? await electron.dialog.showSaveDialog(parent, options) : await electron.dialog.showSaveDialog(options);
      if (target.canceled || !target.filePath) return { savedTo: null, downloadUrl: null };
      const pdf = await backend.exportPdf(p.auditId, p.auditor);
      await writeFile(target.filePath, pdf);
      return { savedTo: target.filePath, downloadUrl: null };
    },
    [CHANNELS.openRegistryModel]: async (p: OpenRegistryModelRequest) => backend.openRegistryModel(p.registryId, p.rowId),
    [CHANNELS.exportRegistryPdf]: async (p: ExportRegistryPdfRequest) => {
      const parent = dialogParent();
      const options: ElectronModule.SaveDialogOptions = { title: 'Export registry audit report', defaultPath: 'registry-audit.pdf', filters: [{ name: 'PDF', extensions: ['pdf'] }] };
      const pdf = await backend.exportRegistryPdf(p.registryId, p.auditor); // unknown registry → not-found before a dialog opens
      const target = parent ? await electron.dialog.showSaveDialog(parent, options) : await electron.dialog.showSaveDialog(options);
      if (target.canceled || !target.filePath) return { savedTo: null, downloadUrl: null };
      await writeFile(target.filePath, pdf);
      return { savedTo: target.filePath, downloadUrl: null };
    },
    [CHANNELS.vulnReport]: async (p: VulnReportRequest) => ({ markdown: await backend.vulnReport(p.auditId, p.findingId) }),
    [CHANNELS.sandboxPlan]: async (p: SandboxRequest) => backend.sandboxPlan(p.auditId, p.findingId, p.overrides),
    [CHANNELS.sandboxLaunch]: async (p: SandboxRequest, event) =>
      backend.sandboxLaunch(p.auditId, p.findingId, p.overrides, (e) => {
        if (!event.sender.isDestroyed()) event.sender.send(CHANNELS.sandboxEvent, e);
      }),
    [CHANNELS.sandboxStop]: async (p: SandboxStopRequest) => {
      await backend.sandboxStop(p.runId);
      return null;
    },
  };
}

/** Wraps a handler: sender check, payload validation, errors as ApiResult (codes survive IPC). */
export function guardedHandler(channel: InvokeChannel, handler: Handler) {
  const validate = IPC_VALIDATORS[channel];
  return async (event: ElectronModule.IpcMainInvokeEvent, payload: unknown): Promise<ApiResult<unknown>> => {
    try {
      if (!isTrustedSender(event.senderFrame)) throw new UntrustedSenderError(`IPC ${channel} refused: sender is not the app's main frame`);
      validate(payload);
      return { ok: true, value: await handler(payload as never, event) };
    } catch (err) {
      return { ok: false, error: toApiError(err) };
    }
  };
}

/** Registers one handler per invoke channel; returns a function removing them all. */
export function registerIpcHandlers(electron: Pick<Electron, 'ipcMain' | 'dialog'>, deps: IpcDeps): () => void {
  const handlers = ipcHandlers(electron, deps);
  for (const channel of INVOKE_CHANNELS) electron.ipcMain.handle(channel, guardedHandler(channel, handlers[channel]));
  const stopProgress = deps.backend.onProgress((e) => {
    const win = deps.getWindow();
    if (win && !win.isDestroyed()) win.webContents.send(CHANNELS.progress, e);
  });
  return () => {
    stopProgress();
    for (const channel of INVOKE_CHANNELS) electron.ipcMain.removeHandler(channel);
  };
}
