// The web host's wiring with a recording backend: token gate, loopback-only, CSP and other
// headers, upload names, payload validation, PDF download, SSE, workspace deletion.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, TOKEN_COOKIE, type RunningServer } from '../../../main/web/server.ts';
import { rendererCsp, scriptHashesOf } from '../../../main/service/csp.ts';
import { buildRenderer } from '../../../scripts/build.mjs';
import { CHANNELS } from '../../../shared/api.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { fakeBackend } from './fake-backend.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function send(server: RunningServer, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer; auth?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.auth === false ? {} : { Authorization: `Bearer ${server.token}` }), ...opts.headers };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = (r: Reply) => JSON.parse(r.body.toString('utf8'));
const post = (server: RunningServer, channel: string, payload: unknown) =>
  send(server, 'POST', `/api/${channel}`, { body: JSON.stringify(payload), headers: { 'Content-Type': 'application/json' } });

let rendererDir: string;
let fake: ReturnType<typeof fakeBackend>;
let server: RunningServer;

before(async () => {
  rendererDir = join(tempDir('tfaudit-renderer-'), 'renderer');
  await buildRenderer(rendererDir, { minify: false });
  mkdirSync(join(rendererDir, 'sub.js'));
  fake = fakeBackend();
  server = await startServer({ backend: fake.backend, rendererDir, limits: { maxFileBytes: 1024, maxBatchBytes: 4096 } });
});

after(async () => {
  await server.close();
});

test('listens on 127.0.0.1 only and refuses other bind addresses', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal((server.server.address() as { address: string }).address, '127.0.0.1');
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
    await assert.rejects(startServer({ backend: fake.backend, rendererDir, host }), /loopback only/);
  }
});

test('no token or a wrong token is 401 on pages, assets and the API', async () => {
  for (const path of ['/', '/main.js', '/api/events', `/api/${CHANNELS.getAudit}`]) {
    assert.equal((await send(server, 'GET', path, { auth: false })).status, 401, path);
    assert.equal((await send(server, 'GET', path, { auth: false, headers: { Authorization: 'Bearer wrong' } })).status, 401, path);
    assert.equal((await send(server, 'GET', path, { auth: false, headers: { Cookie: `${TOKEN_COOKIE}=wrong` } })).status, 401, path);
  }
  assert.equal((await send(server, 'GET', '/?token=wrong', { auth: false })).status, 401);
  const r = await send(server, 'POST', `/api/${CHANNELS.getAudit}`, { auth: false, body: JSON.stringify({ auditId: 'a1' }) });
  assert.equal(r.status, 401);
  assert.equal(fake.calls.filter((c) => c.method === 'get').length, 0);
});

test('the token in the URL becomes an HttpOnly SameSite=Strict cookie and leaves the URL', async () => {
  const first = await send(server, 'GET', `/?token=${encodeURIComponent(server.token)}`, { auth: false });
  assert.equal(first.status, 303);
  assert.equal(first.headers.location, '/');
  const cookie = String(first.headers['set-cookie']);
  assert.match(cookie, new RegExp(`^${TOKEN_COOKIE}=`));
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const page = await send(server, 'GET', '/', { auth: false, headers: { Cookie: cookie.split(';')[0] } });
  assert.equal(page.status, 200);
  assert.match(page.body.toString(), /<script src="main.js" integrity="sha384-/);
});

test('every response carries the strict CSP and hardening headers; the page meta CSP matches', async () => {
  const r = await send(server, 'GET', '/');
  const html = r.body.toString('utf8');
  const hashes = scriptHashesOf(html);
  assert.equal(hashes.length, 1);
  // The one script that may run is the bundle we serve, by its hash.
  const js = await send(server, 'GET', '/main.js');
  assert.equal(hashes[0], `sha384-${createHash('sha384').update(js.body).digest('base64')}`);
  const csp = r.headers['content-security-policy'];
  assert.equal(csp, `${rendererCsp(hashes)}; frame-ancestors 'none'`);
  assert.equal(server.csp, csp);
  assert.match(String(csp), /^default-src 'none'; script-src 'sha384-[^' ]+';/);
  assert.doesNotMatch(String(csp), /unsafe-inline|unsafe-eval|\*|script-src[^;]*'self'|http:|https:/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['x-frame-options'], 'DENY');
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal((await send(server, 'GET', '/', { auth: false })).headers['content-security-policy'], csp);
  const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html);
  assert.equal(meta?.[1], rendererCsp(hashes));
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.doesNotMatch(html, /%SCRIPT_INTEGRITY%/);
});

test('a foreign Host header (DNS rebinding) is refused, and so is a cross-origin POST', async () => {
  assert.equal((await send(server, 'GET', '/', { headers: { Host: 'attacker.example' } })).status, 421);
  assert.equal((await send(server, 'GET', '/', { headers: { Host: `127.0.0.1:${server.port + 1}` } })).status, 421);
  assert.equal((await send(server, 'GET', '/', { headers: { Host: `localhost:${server.port}` } })).status, 200);
  const r = await send(server, 'POST', '/api/uploads', { headers: { Origin: 'http://attacker.example' } });
  assert.equal(r.status, 403);
});

test('static files never leave the renderer folder', async () => {
  for (const path of ['/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/sub.js', '/nope.js', '/main.tsx', '/%00.js']) {
    assert.equal((await send(server, 'GET', path)).status, 404, path);
  }
});

test('uploads with traversal names are rejected and nothing lands outside the workspace', async () => {
  const { uploadId } = json(await send(server, 'POST', '/api/uploads'));
  assert.match(uploadId, /^u[0-9a-f]+$/);
  for (const name of ['../escape', 'a/../../escape', '/etc/escape', 'C:/escape', 'a\\..\\escape', 'a\u0000b', '..']) {
    const r = await send(server, 'PUT', `/api/uploads/${uploadId}?path=${encodeURIComponent(name)}`, { body: 'x' });
    assert.equal(r.status, 400, name);
    assert.equal(json(r).ok, false);
  }
  assert.equal(existsSync(join(server.workspace.root, 'uploads', 'escape')), false);
  assert.equal(existsSync(join(server.workspace.root, 'escape')), false);
  assert.deepEqual(readdirSync(join(server.workspace.root, 'uploads', uploadId)), []);
  const big = await send(server, 'PUT', `/api/uploads/${uploadId}?path=big.bin`, { body: Buffer.alloc(2048) });
  assert.equal(big.status, 413);
});

test('open-dropped opens the uploaded batch through the service; bad payloads never reach it', async () => {
  const { uploadId } = json(await send(server, 'POST', '/api/uploads'));
  assert.equal((await send(server, 'PUT', `/api/uploads/${uploadId}?path=${encodeURIComponent('P1/saved_model.pb')}`, { body: 'pb' })).status, 200);
  assert.equal((await send(server, 'PUT', `/api/uploads/${uploadId}?path=${encodeURIComponent('P1/variables/variables.index')}`, { body: 'ix' })).status, 200);
  const before = fake.calls.length;
  const r = await post(server, CHANNELS.openDropped, { uploadId });
  assert.equal(r.status, 200);
  assert.equal(json(r).value.auditId, 'a1');
  const call = fake.calls.slice(before).find((c) => c.method === 'open')!;
  assert.deepEqual(call.args[0], [join(server.workspace.root, 'uploads', uploadId, 'P1')]);

  const n = fake.calls.length;
  for (const [channel, payload] of [
    [CHANNELS.openDropped, { paths: ['/etc'] }],
    [CHANNELS.openDropped, { uploadId: '../x' }],
    [CHANNELS.getAudit, { auditId: 'a1', extra: 1 }],
    [CHANNELS.getAudit, null],
    [CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: null, overrides: { command: ['sh', '-c', 'id'] } }],
    [CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: null, overrides: {}, command: ['id'] }],
    [CHANNELS.sandboxPlan, { auditId: 'a1', findingId: null, overrides: { memoryMb: -1 } }],
    [CHANNELS.exportPdf, { auditId: 'a1', auditor: 'x\u0000' }],
    [CHANNELS.openDialog, { kind: 'file' }],
    [CHANNELS.setRuntime, { auditId: 'a1', tfRuntime: '2.4; rm -rf /' }],
    [CHANNELS.setRuntime, { auditId: 'a1' }],
  ] as const) {
    const reply = await post(server, channel, payload);
    assert.equal(reply.status, 400, `${channel} ${JSON.stringify(payload)}`);
    assert.equal(json(reply).error.code, 'bad-request');
  }
  assert.equal(fake.calls.length, n, 'a rejected payload reached the service');
  const unknown = await post(server, 'audit:delete-everything', {});
  assert.equal(unknown.status, 404);
  const missing = await post(server, CHANNELS.getAudit, { auditId: 'nope' });
  assert.equal(missing.status, 404);
  assert.equal(json(missing).error.code, 'not-found');
});

test('export-pdf returns a download URL that serves the PDF as an attachment', async () => {
  const r = await post(server, CHANNELS.exportPdf, { auditId: 'a1', auditor: 'Ada' });
  const { downloadUrl, savedTo } = json(r).value;
  assert.equal(savedTo, null);
  const pdf = await send(server, 'GET', downloadUrl);
  assert.equal(pdf.status, 200);
  assert.equal(pdf.headers['content-type'], 'application/pdf');
  assert.match(String(pdf.headers['content-disposition']), /^attachment; filename="tfaudit-a1\.pdf"$/);
  assert.equal(pdf.body.toString(), '%PDF-1.7 fake');
  assert.equal((await send(server, 'GET', downloadUrl, { auth: false })).status, 401);
});

test('progress and sandbox output stream as Server-Sent Events', async () => {
  const received: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/api/events', headers: { Authorization: `Bearer ${server.token}` } }, (res) => {
      assert.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        received.push(chunk);
        if (received.join('').includes('event: sandbox')) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', (e) => (received.join('').includes('event: sandbox') ? resolve() : reject(e)));
    req.end();
  });
  await new Promise((r) => setTimeout(r, 50));
  const { uploadId } = json(await send(server, 'POST', '/api/uploads'));
  await send(server, 'PUT', `/api/uploads/${uploadId}?path=m.pb`, { body: 'x' });
  await post(server, CHANNELS.openDropped, { uploadId });
  const launched = await post(server, CHANNELS.sandboxLaunch, { auditId: 'a1', findingId: 'F1', overrides: { allowNetwork: false } });
  assert.deepEqual(json(launched).value, { runId: 'run-1' });
  fake.emitSandbox({ runId: 'run-1', type: 'stdout', data: 'hello\n' });
  await done;
  const text = received.join('');
  assert.match(text, /event: progress\ndata: \{"stage":"parse"/);
  assert.match(text, /event: sandbox\ndata: \{"runId":"run-1","type":"stdout","data":"hello\\n"\}/);
});

test('closing the host deletes the workspace with every upload in it', async () => {
  const own = await startServer({ backend: fakeBackend().backend, rendererDir });
  const { uploadId } = json(await send(own, 'POST', '/api/uploads'));
  await send(own, 'PUT', `/api/uploads/${uploadId}?path=a/b.pb`, { body: 'x' });
  assert.equal(existsSync(join(own.workspace.root, 'uploads', uploadId, 'a', 'b.pb')), true);
  await own.close();
  assert.equal(existsSync(own.workspace.root), false);
});

test('a worker crash comes back as worker-crashed and the host keeps serving', async () => {
  const crashing = fakeBackend();
  crashing.backend.open = async () => {
    throw Object.assign(new Error('analyzer worker was killed by SIGKILL while reading /x'), { code: 'worker-crashed' });
  };
  const own = await startServer({ backend: crashing.backend, rendererDir });
  try {
    const { uploadId } = json(await send(own, 'POST', '/api/uploads'));
    await send(own, 'PUT', `/api/uploads/${uploadId}?path=evil.pb`, { body: 'x' });
    const r = await post(own, CHANNELS.openDropped, { uploadId });
    assert.equal(r.status, 500);
    assert.deepEqual(json(r).error, { code: 'worker-crashed', message: 'analyzer worker was killed by SIGKILL while reading /x' });
    assert.equal((await send(own, 'GET', '/')).status, 200);
    assert.equal((await post(own, CHANNELS.getAudit, { auditId: 'a1' })).status, 200);
  } finally {
    await own.close();
  }
});

test('set-runtime passes the TensorFlow release (or null) to the service', async () => {
  const before = fake.calls.length;
  assert.equal((await post(server, CHANNELS.setRuntime, { auditId: 'a1', tfRuntime: '2.4.0rc1' })).status, 200);
  assert.equal((await post(server, CHANNELS.setRuntime, { auditId: 'a1', tfRuntime: null })).status, 200);
  assert.deepEqual(fake.calls.slice(before).filter((c) => c.method === 'setRuntime').map((c) => c.args), [['a1', '2.4.0rc1'], ['a1', null]]);
});
