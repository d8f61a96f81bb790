// Security-relevant Electron set-up as small functions taking the electron module (or the
// object they configure) as a parameter, so test/main/electron can pass fakes and assert it.
import { STATIC_CONTENT_TYPES } from '../service/content-types.ts';
import { electronCsp, scriptHashesOf } from '../service/csp.ts';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type * as ElectronModule from 'electron';

export type Electron = typeof ElectronModule;

export const APP_SCHEME = 'app';
export const APP_HOST = 'tfaudit';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** `app://` is standard (so 'self' and relative URLs work) and secure, with nothing extra. */
export function registerPrivilegedScheme(electron: Pick<Electron, 'protocol'>): void {
  electron.protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: {
        standard: true,
        secure: true,
        bypassCSP: false,
        allowServiceWorkers: false,
        supportFetchAPI: false,
        corsEnabled: false,
        stream: false,
        codeCache: false,
      },
    },
  ]);
}

/**
 * Serves the built renderer from inside the app bundle: GET only, our host only, files under
 * `rendererDir` only, known types only, always with the CSP header.
 */
export function appProtocolHandler(rendererDir: string, read: (path: string) => Promise<Uint8Array> = readFile) {
  const root = resolve(rendererDir);
  let csp: Promise<string> | null = null;
  const policy = () => (csp ??= read(resolve(root, 'index.html')).then((html) => electronCsp(scriptHashesOf(Buffer.from(html).toString('utf8')))));
  return async (request: Request): Promise<Response> => {
    const headers = { 'Content-Security-Policy': await policy(), 'X-Content-Type-Options': 'nosniff' };
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return new Response('bad request', { status: 400, headers });
    }
    if (request.method !== 'GET' || url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return new Response('forbidden', { status: 403, headers });
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html';
    } catch {
      return new Response('bad request', { status: 400, headers });
    }
    const type = STATIC_CONTENT_TYPES[extname(rel)];
    const file = resolve(root, rel);
    if (!type || rel.includes('\0') || rel.includes('\\') || !file.startsWith(root + sep)) return new Response('not found', { status: 404, headers });
    try {
      const body = await read(file);
      return new Response(body as BodyInit, { status: 200, headers: { ...headers, 'Content-Type': type } });
    } catch {
      return new Response('not found', { status: 404, headers });
    }
  };
}

export function installAppProtocol(electron: Pick<Electron, 'protocol'>, rendererDir: string): void {
  electron.protocol.handle(APP_SCHEME, appProtocolHandler(rendererDir));
}

/** True for URLs of our own bundle; everything else (http, file, data, devtools, ...) is remote content. */
export function isAppUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
  } catch {
    return false;
  }
}

/** IPC sender check: the main frame of a page loaded from our app:// origin. */
export function isTrustedSender(frame: { url: string; parent: unknown } | null | undefined): boolean {
  return !!frame && frame.parent === null && isAppUrl(frame.url);
}

/** Denies every permission (camera, notifications, clipboard, ...), blocks all non-app requests. */
export function hardenSession(session: ElectronModule.Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAppUrl(details.url) }));
  session.on('will-download', (event) => event.preventDefault());
}

/** No navigation, no redirects, no new windows, no webviews: the app is one page. */
export function hardenWebContents(contents: ElectronModule.WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Applies hardenWebContents to every web contents the app ever creates. */
export function installNavigationGuards(electron: Pick<Electron, 'app'>): void {
  electron.app.on('web-contents-created', (_event, contents) => hardenWebContents(contents));
}
