// The security-relevant Electron set-up, exercised through a fake electron module: window
// webPreferences, CSP, the app:// protocol, navigation/new-window/permission denial, senders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as ElectronModule from 'electron';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  appProtocolHandler,
  hardenSession,
  hardenWebContents,
  installAppProtocol,
  installNavigationGuards,
  isAppUrl,
  isTrustedSender,
  registerPrivilegedScheme,
} from '../../../main/electron/security.ts';
import { electronCsp, rendererCsp, scriptHashesOf } from '../../../main/service/csp.ts';
import { createMainWindow } from '../../../main/electron/window.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { FakeSession, FakeWebContents, fakeElectron, fakeEvent } from './fake-electron.ts';

const HASH = 'sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC';

test('the main window is sandboxed, context-isolated, without Node, with web security', () => {
  const fake = fakeElectron();
  createMainWindow(fake.electron, { preload: '/app/dist/electron/preload.cjs' }, { devTools: false });
  const prefs = fake.windows[0].options.webPreferences as ElectronModule.WebPreferences;
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInWorker, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.webviewTag, false);
  assert.equal(prefs.experimentalFeatures, false);
  assert.equal(prefs.navigateOnDragDrop, false);
  assert.equal(prefs.disableBlinkFeatures, 'Auxclick');
  assert.equal(prefs.devTools, false);
  assert.equal(prefs.preload, '/app/dist/electron/preload.cjs');
  assert.equal((prefs as Record<string, unknown>).enableBlinkFeatures, undefined);
  assert.equal((prefs as Record<string, unknown>).enableRemoteModule, undefined);
});

test('the window loads only the app:// entry and its web contents are hardened', () => {
  const fake = fakeElectron();
  createMainWindow(fake.electron, { preload: '/p.cjs' }, { devTools: false });
  assert.equal(fake.windows.length, 1);
  assert.deepEqual(fake.windows[0].loaded, [APP_ENTRY_URL]);
  assert.match(APP_ENTRY_URL, /^app:\/\/tfaudit\/index\.html$/);
  const contents = fake.windows[0].webContents;
  const nav = fakeEvent();
  contents.emit('will-navigate', nav, 'https://evil.example/');
  assert.equal(nav.defaultPrevented, true);
  assert.deepEqual(contents.windowOpenHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
});

test('the CSP allows only the bundle by hash: no inline, no eval, no remote, no network in Electron', () => {
  const web = rendererCsp([HASH]);
  const desktop = electronCsp([HASH]);
  for (const csp of [web, desktop]) {
    assert.match(csp, /^default-src 'none';/);
    assert.match(csp, new RegExp(`script-src '${HASH.replace(/[+/]/g, '\\$&')}';`));
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /base-uri 'none'/);
    assert.doesNotMatch(csp, /unsafe-|\*|https?:|data:[^;]*;.*script|script-src[^;]*'self'/);
  }
  assert.match(desktop, /connect-src 'none'/);
  assert.match(web, /connect-src 'self'/);
  assert.throws(() => rendererCsp([]), /no script integrity hash/);
  assert.deepEqual(scriptHashesOf(`<script src="main.js" integrity="${HASH}" defer></script>`), [HASH]);
  assert.deepEqual(scriptHashesOf('<script src="main.js"></script>'), []);
});

test('app:// is registered as a standard secure scheme that bypasses nothing', () => {
  const fake = fakeElectron();
  registerPrivilegedScheme(fake.electron);
  assert.deepEqual(fake.registered.schemes, [
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, bypassCSP: false, allowServiceWorkers: false, supportFetchAPI: false, corsEnabled: false, stream: false, codeCache: false },
    },
  ]);
});

function rendererFixture(): string {
  const dir = join(tempDir('tfaudit-app-'), 'renderer');
  mkdirSync(dir);
  writeFileSync(join(dir, 'index.html'), `<!doctype html><script src="main.js" integrity="${HASH}" defer></script>`);
  writeFileSync(join(dir, 'main.js'), 'void 0');
  writeFileSync(join(dir, '..', 'secret.json'), '{"secret":1}');
  return dir;
}

test('the app:// handler serves the bundle with the CSP header and nothing outside it', async () => {
  const fake = fakeElectron();
  const dir = rendererFixture();
  installAppProtocol(fake.electron, dir);
  const handler = fake.registered.handlers.get(APP_SCHEME) as (r: Request) => Promise<Response>;
  assert.ok(handler, 'no app:// handler registered');
  const index = await handler(new Request('app://tfaudit/index.html'));
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-security-policy'), electronCsp([HASH]));
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal((await handler(new Request('app://tfaudit/'))).status, 200);
  assert.equal((await handler(new Request('app://tfaudit/main.js'))).headers.get('content-type'), 'text/javascript; charset=utf-8');
  const denied: [string, number, string?][] = [
    ['app://tfaudit/%2e%2e/secret.json', 404],
    ['app://tfaudit/..%2fsecret.json', 404],
    ['app://tfaudit/..%5csecret.json', 404],
    ['app://tfaudit/missing.js', 404],
    ['app://tfaudit/index.ts', 404],
    ['app://other/index.html', 403],
    ['app://tfaudit/index.html', 403, 'POST'],
  ];
  for (const [url, status, method] of denied) {
    const r = await appProtocolHandler(dir)(new Request(url, { method: method ?? 'GET' }));
    assert.equal(r.status, status, url);
    assert.equal(r.headers.get('content-security-policy'), electronCsp([HASH]));
  }
});

test('sessions deny every permission and block every request that is not app://', () => {
  const session = new FakeSession();
  hardenSession(session as unknown as ElectronModule.Session);
  for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'unknown']) {
    let granted: boolean | null = null;
    session.permissionRequestHandler!(null, permission, (ok: boolean) => (granted = ok), {});
    assert.equal(granted, false, permission);
    assert.equal(session.permissionCheckHandler!(null, permission, 'app://tfaudit', {}), false, permission);
  }
  assert.equal(session.devicePermissionHandler!({}), false);
  const decide = (url: string) => {
    let cancel: boolean | null = null;
    session.beforeRequest!({ url }, (r: { cancel: boolean }) => (cancel = r.cancel));
    return cancel;
  };
  for (const url of ['https://example.com/x.js', 'http://127.0.0.1:8080/', 'file:///etc/passwd', 'ws://x', 'data:text/html,hi', 'devtools://devtools/bundled', 'app://other/index.html']) {
    assert.equal(decide(url), true, url);
  }
  assert.equal(decide('app://tfaudit/main.js'), false);
  const download = fakeEvent();
  session.emit('will-download', download);
  assert.equal(download.defaultPrevented, true);
});

test('navigation, redirects, webviews and new windows are denied for every web contents', () => {
  const fake = fakeElectron();
  installNavigationGuards(fake.electron);
  const contents = new FakeWebContents();
  (fake.electron.app as unknown as FakeWebContents).emit('web-contents-created', fakeEvent(), contents);
  for (const event of ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview']) {
    const e = fakeEvent();
    contents.emit(event, e, 'app://tfaudit/index.html');
    assert.equal(e.defaultPrevented, true, event);
  }
  assert.deepEqual(contents.windowOpenHandler!({ url: 'app://tfaudit/index.html' }), { action: 'deny' });
  const direct = new FakeWebContents();
  hardenWebContents(direct as unknown as ElectronModule.WebContents);
  assert.deepEqual(direct.windowOpenHandler!({ url: 'https://x' }), { action: 'deny' });
});

test('IPC senders are trusted only as the app:// main frame', () => {
  assert.equal(isTrustedSender({ url: 'app://tfaudit/index.html', parent: null }), true);
  for (const url of ['https://tfaudit/index.html', 'http://127.0.0.1/', 'file:///app/index.html', 'app://evil/index.html', 'app://tfaudit.evil/index.html', 'devtools://x', 'about:blank', '', 'not a url']) {
    assert.equal(isTrustedSender({ url, parent: null }), false, url);
  }
  assert.equal(isTrustedSender({ url: 'app://tfaudit/index.html', parent: {} }), false, 'sub-frame');
  assert.equal(isTrustedSender(null), false);
  assert.equal(isAppUrl('app://tfaudit:99/x'), false);
});
