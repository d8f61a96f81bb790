// A stand-in for the electron module (the binary cannot run here): records what the app's
// set-up code registers so tests can assert it and call the handlers.
import type { Electron } from '../../../main/electron/security.ts';

type Listener = (...args: any[]) => unknown;

export class Emitter {
  readonly listeners = new Map<string, Listener[]>();
  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  once(event: string, listener: Listener) {
    return this.on(event, listener);
  }
  emit(event: string, ...args: unknown[]) {
    for (const l of this.listeners.get(event) ?? []) l(...args);
  }
}

export function fakeEvent() {
  const e = { defaultPrevented: false, preventDefault() {
    e.defaultPrevented = true;
  } };
  return e;
}

export class FakeWebContents extends Emitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  sent: { channel: string; payload: unknown }[] = [];
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }) {
    this.windowOpenHandler = handler;
  }
  send(channel: string, payload: unknown) {
    this.sent.push({ channel, payload });
  }
  isDestroyed() {
    return false;
  }
}

export class FakeSession extends Emitter {
  permissionRequestHandler: Listener | null = null;
  permissionCheckHandler: Listener | null = null;
  devicePermissionHandler: Listener | null = null;
  beforeRequest: Listener | null = null;
  webRequest = { onBeforeRequest: (handler: Listener) => (this.beforeRequest = handler) };
  setPermissionRequestHandler(h: Listener) {
    this.permissionRequestHandler = h;
  }
  setPermissionCheckHandler(h: Listener) {
    this.permissionCheckHandler = h;
  }
  setDevicePermissionHandler(h: Listener) {
    this.devicePermissionHandler = h;
  }
}

export function fakeElectron() {
  const registered: { schemes: unknown[]; handlers: Map<string, Listener> } = { schemes: [], handlers: new Map() };
  const ipcHandlers = new Map<string, Listener>();
  const windows: { options: any; webContents: FakeWebContents; loaded: string[] }[] = [];
  const dialogCalls: { kind: string; options: any }[] = [];
  const dialogAnswers = { open: { canceled: false, filePaths: ['/models/m'] as string[] }, save: { canceled: false, filePath: '' } };
  class BrowserWindow extends Emitter {
    webContents = new FakeWebContents();
    loaded: string[] = [];
    constructor(options: unknown) {
      super();
      windows.push({ options, webContents: this.webContents, loaded: this.loaded });
    }
    loadURL(url: string) {
      this.loaded.push(url);
      return Promise.resolve();
    }
    isDestroyed() {
      return false;
    }
    show() {}
  }
  const electron = {
    app: new Emitter(),
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => registered.schemes.push(...schemes),
      handle: (scheme: string, handler: Listener) => registered.handlers.set(scheme, handler),
    },
    ipcMain: {
      handle: (channel: string, handler: Listener) => {
        if (ipcHandlers.has(channel)) throw new Error(`second handler for ${channel}`);
        ipcHandlers.set(channel, handler);
      },
      removeHandler: (channel: string) => ipcHandlers.delete(channel),
    },
    dialog: {
      showOpenDialog: async (...args: unknown[]) => {
        dialogCalls.push({ kind: 'open', options: args[args.length - 1] });
        return dialogAnswers.open;
      },
      showSaveDialog: async (...args: unknown[]) => {
        dialogCalls.push({ kind: 'save', options: args[args.length - 1] });
        return dialogAnswers.save;
      },
    },
    BrowserWindow,
  };
  return { electron: electron as unknown as Electron, registered, ipcHandlers, windows, dialogCalls, dialogAnswers };
}

/** An IPC invoke event as Electron builds it: the sender's frame decides trust. */
export function invokeEvent(url: string, opts: { subframe?: boolean } = {}) {
  const sender = new FakeWebContents();
  return { sender, senderFrame: { url, parent: opts.subframe ? {} : null } };
}
