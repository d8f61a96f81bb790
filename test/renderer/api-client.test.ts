// The web host's TfauditApi client against a running host (recording backend): uploads keep
// relative paths, the token travels as a header, error codes come back as codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHttpApi, HttpApiError } from '../../renderer/api-client.ts';
import { rememberRelativePath, relativePathOf } from '../../renderer/dropped-files.ts';
import { startServer, type RunningServer } from '../../main/web/server.ts';
import { buildRenderer } from '../../scripts/build.mjs';
import { fakeBackend } from '../main/web/fake-backend.ts';
import { tempDir } from '../helpers/corpus.ts';

let server: RunningServer;
let fake: ReturnType<typeof fakeBackend>;

before(async () => {
  fake = fakeBackend();
  const rendererDir = await buildRenderer(join(tempDir('tfaudit-renderer-'), 'renderer'), { minify: false });
  server = await startServer({ backend: fake.backend, rendererDir, limits: { maxFileBytes: 64 } });
});

after(() => server.close());

const origin = () => server.url.replace(/\/$/, '');

test('a dropped folder is uploaded file by file under its relative paths, then opened by upload id', async () => {
  const api = createHttpApi(origin(), server.token);
  const files = ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001'].map((p) => {
    const f = new File([`bytes of ${p}`], p.split('/').pop()!);
    rememberRelativePath(f, `P1/${p}`);
    return f;
  });
  assert.equal(relativePathOf(files[1]), 'P1/variables/variables.index');
  const progress: number[] = [];
  api.onProgress((e) => e.stage === 'upload' && progress.push(e.fraction!));
  const view = await api.openDropped(files);
  assert.equal('auditId' in view && view.auditId, 'a1');
  const opened = fake.calls.find((c) => c.method === 'open')!.args[0] as string[];
  assert.equal(opened.length, 1);
  assert.match(opened[0], /\/uploads\/u[0-9a-f]+\/P1$/);
  assert.deepEqual(readdirSync(join(opened[0], 'variables')).sort(), ['variables.data-00000-of-00001', 'variables.index']);
  assert.equal(readFileSync(join(opened[0], 'saved_model.pb'), 'utf8'), 'bytes of saved_model.pb');
  assert.equal(progress.at(-1), 1);
});

test('a file over the host limit and an unknown audit come back as coded errors', async () => {
  const api = createHttpApi(origin(), server.token);
  await assert.rejects(api.openDropped([new File([new Uint8Array(100)], 'big.pb')]), (e: unknown) => e instanceof HttpApiError && e.code === 'bad-request' && /larger than the 64-byte limit/.test(e.message));
  await assert.rejects(api.getAudit('missing'), (e: unknown) => e instanceof HttpApiError && e.code === 'not-found');
  await assert.rejects(api.openRecent(0), (e: unknown) => e instanceof HttpApiError && e.code === 'bad-request');
  await assert.rejects(createHttpApi(origin(), 'wrong-token').getAudit('a1'), /missing or wrong access token/);
});

test('export returns a download URL on the host', async () => {
  const api = createHttpApi(origin(), server.token);
  const { downloadUrl, savedTo } = await api.exportPdf('a1', null);
  assert.equal(savedTo, null);
  assert.match(downloadUrl!, /^\/api\/download\/a[0-9a-f]+$/);
});
