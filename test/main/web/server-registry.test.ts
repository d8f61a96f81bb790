// The registry calls over the web host (recording backend): a row's audit, and the registry PDF
// as a one-time download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../../main/web/server.ts';
import { CHANNELS } from '../../../shared/api.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { fakeBackend } from './fake-backend.ts';
import { buildRenderer } from '../../../scripts/build.mjs';

function send(server: RunningServer, method: string, path: string, body?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('registry rows open and the registry PDF downloads over HTTP; bad payloads are refused', async () => {
  const rendererDir = join(tempDir('tfaudit-renderer-'), 'renderer');
  await buildRenderer(rendererDir, { minify: false });
  const fake = fakeBackend();
  const server = await startServer({ backend: fake.backend, rendererDir });
  try {
    const opened = await send(server, 'POST', `/api/${CHANNELS.openRegistryModel}`, JSON.stringify({ registryId: 'r1', rowId: 'm2' }));
    assert.equal(opened.status, 200);
    assert.deepEqual(fake.calls.at(-1), { method: 'openRegistryModel', args: ['r1', 'm2'] });
    const bad = await send(server, 'POST', `/api/${CHANNELS.openRegistryModel}`, JSON.stringify({ registryId: 'r1', rowId: 'm2', extra: 1 }));
    assert.equal(bad.status, 400);
    const exported = JSON.parse((await send(server, 'POST', `/api/${CHANNELS.exportRegistryPdf}`, JSON.stringify({ registryId: 'r1', auditor: 'Ada' }))).body.toString());
    assert.equal(exported.ok, true);
    assert.match(exported.value.downloadUrl, /^\/api\/download\/[A-Za-z0-9]+$/);
    const pdf = await send(server, 'GET', exported.value.downloadUrl);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.body.toString(), '%PDF-1.7 fake registry');
    assert.deepEqual(fake.calls.at(-1), { method: 'exportRegistryPdf', args: ['r1', 'Ada'] });
  } finally {
    await server.close();
  }
});
