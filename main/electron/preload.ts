// Preload (bundled to one CommonJS file: sandboxed preloads cannot load modules). Exposes the
// typed contract, and nothing else, to the page's isolated world.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { createPreloadApi } from './preload-api.ts';

contextBridge.exposeInMainWorld('tfaudit', createPreloadApi({ ipcRenderer, webUtils }));
