// Electron main process: wires the hardened window, the app:// protocol, IPC and the menu
// around the AuditService (parsing and analysis run in a bubblewrap-sandboxed worker behind it,
// or a utilityProcess where no sandbox is available).
import * as electron from 'electron';
import { join } from 'node:path';
import { CHANNELS, type MenuCommand, type MenuCommandMessage } from '../../shared/api.ts';
import { createAuditBackend, type AuditBackend } from '../service/backend.ts';
import { appAnalyser } from './analyzer-process.ts';
import { registerIpcHandlers } from './ipc.ts';
import { buildMenuTemplate } from './menu.ts';
import { RecentFiles } from './recent.ts';
import { hardenSession, installAppProtocol, installNavigationGuards, registerPrivilegedScheme } from './security.ts';
import { createMainWindow } from './window.ts';

const { app, BrowserWindow, Menu, session } = electron;

// Before 'ready': privileged scheme, sandbox for every renderer, one instance.
registerPrivilegedScheme(electron);
app.enableSandbox();
if (!app.requestSingleInstanceLock()) app.quit();

let mainWindow: electron.BrowserWindow | null = null;
let backend: AuditBackend | null = null;

function sendMenuCommand(command: MenuCommand, recentIndex?: number): void {
  const message: MenuCommandMessage = recentIndex === undefined ? { command } : { command, recentIndex };
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(CHANNELS.menuCommand, message);
}

async function start(): Promise<void> {
  const appRoot = app.getAppPath();
  installAppProtocol(electron, join(appRoot, 'dist', 'renderer'));
  hardenSession(session.defaultSession);
  installNavigationGuards(electron);

  backend = await createAuditBackend({
    analyse: appAnalyser(electron, appRoot, { memoryMb: 4096, timeoutMs: 10 * 60_000 }),
  });
  const recent = new RecentFiles(join(app.getPath('userData'), 'recent.json'));
  const rebuildMenu = () =>
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        buildMenuTemplate({
          platform: process.platform,
          recent: recent.list(),
          send: sendMenuCommand,
          clearRecent: () => {
            recent.clear();
            rebuildMenu();
          },
        }),
      ),
    );
  registerIpcHandlers(electron, { backend, getWindow: () => mainWindow, recent, onRecentChanged: rebuildMenu });
  rebuildMenu();

  const open = () => {
    mainWindow = createMainWindow(electron, { preload: join(appRoot, 'dist', 'electron', 'preload.cjs') }, { devTools: !app.isPackaged });
    mainWindow.on('closed', () => (mainWindow = null));
  };
  open();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) open();
  });
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
}

app.whenReady().then(start, (err: unknown) => {
  console.error('TF Audit Workbench failed to start:', err);
  app.exit(1);
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let disposing = false;
app.on('will-quit', (event) => {
  if (!backend || disposing) return;
  disposing = true;
  event.preventDefault();
  void backend.dispose().finally(() => app.quit());
});
