// The main window: its webPreferences are the renderer's security boundary. They are written
// inline in `new BrowserWindow({...})` on purpose: that is the shape electronegativity's
// checks read, so its scan of this file (and of the bundle) sees the real settings.
import type * as ElectronModule from 'electron';
import { APP_ENTRY_URL, hardenWebContents, type Electron } from './security.ts';

export interface WindowPaths {
  /** dist/electron/preload.cjs inside the app bundle. */
  preload: string;
}

export function createMainWindow(electron: Pick<Electron, 'BrowserWindow'>, paths: WindowPaths, opts: { devTools: boolean }): ElectronModule.BrowserWindow {
  const { BrowserWindow } = electron;
  const win = new BrowserWindow({
    width: 1440,
    height: 920,
    minWidth: 980,
    minHeight: 620,
    show: false,
    title: 'TF Audit Workbench',
    backgroundColor: '#15171c',
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      // Middle-click opens links in new windows outside will-navigate; navigation is denied anyway.
      disableBlinkFeatures: 'Auxclick',
      safeDialogs: true,
      spellcheck: false,
      devTools: opts.devTools,
    },
  });
  hardenWebContents(win.webContents);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY_URL);
  return win;
}
