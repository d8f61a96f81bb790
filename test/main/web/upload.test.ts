// The upload workspace: traversal-proof names, size limits, private permissions, deletion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { safeRelativePath, UploadRejected, UploadWorkspace, DEFAULT_UPLOAD_LIMITS } from '../../../main/web/upload.ts';

test('safeRelativePath normalises harmless names', () => {
  assert.equal(safeRelativePath('P1/variables/variables.index'), 'P1/variables/variables.index');
  assert.equal(safeRelativePath('./P1//saved_model.pb'), 'P1/saved_model.pb');
  assert.equal(safeRelativePath('P1/./a/'), 'P1/a');
  assert.equal(safeRelativePath('cafe\u0301.pb'), 'caf\u00e9.pb');
});

test('safeRelativePath rejects traversal, absolute, drive, backslash, NUL and control names', () => {
  for (const bad of ['../etc/passwd', 'a/../../b', 'a/..', '..', '/etc/passwd', 'C:/x', 'c:x', 'a\\b', '..\\..\\x', 'a\u0000b', 'a\nb', '', '.', './', '/']) {
    assert.throws(() => safeRelativePath(bad), UploadRejected, `accepted ${JSON.stringify(bad)}`);
  }
  assert.throws(() => safeRelativePath('a/'.repeat(40) + 'x'), /deeper/);
  assert.throws(() => safeRelativePath('x'.repeat(300)), /255 bytes/);
});

test('workspace is private (0700), stores files under their relative path and is deleted on dispose', async () => {
  const ws = new UploadWorkspace();
  try {
    assert.equal(statSync(ws.root).mode & 0o777, 0o700);
    const id = ws.newBatch();
    await ws.writeFile(id, 'm/saved_model.pb', Readable.from([Buffer.from('abc')]), 3);
    await ws.writeFile(id, 'm/variables/variables.index', Readable.from([Buffer.from('de')]), null);
    await ws.writeFile(id, 'ckpt.index', Readable.from([Buffer.from('x')]), 1);
    const entries = ws.entries(id);
    assert.deepEqual(entries.map((e) => e.slice(ws.root.length)), [`/uploads/${id}/ckpt.index`, `/uploads/${id}/m`]);
    assert.equal(readFileSync(`${entries[1]}/variables/variables.index`, 'utf8'), 'de');
    assert.equal(statSync(`${entries[1]}/saved_model.pb`).mode & 0o777, 0o600);
    await assert.rejects(ws.writeFile(id, 'm/saved_model.pb', Readable.from([Buffer.from('again')]), 5), /already uploaded/);
    await assert.rejects(ws.writeFile('u-missing', 'a', Readable.from([]), 0), /unknown upload/);
  } finally {
    ws.dispose();
  }
  assert.equal(existsSync(ws.root), false);
});

test('per-file and per-batch limits hold even when the declared length lies', async () => {
  const ws = new UploadWorkspace({ ...DEFAULT_UPLOAD_LIMITS, maxFileBytes: 10, maxBatchBytes: 15 });
  try {
    const id = ws.newBatch();
    await assert.rejects(ws.writeFile(id, 'big', Readable.from([Buffer.alloc(11)]), 11), (e: unknown) => e instanceof UploadRejected && e.status === 413);
    // Declared small, streams more: cut off while streaming, partial file removed.
    await assert.rejects(ws.writeFile(id, 'liar', Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), 2), /per file/);
    assert.equal(existsSync(`${ws.root}/uploads/${id}/liar`), false);
    await ws.writeFile(id, 'a', Readable.from([Buffer.alloc(10)]), 10);
    await assert.rejects(ws.writeFile(id, 'b', Readable.from([Buffer.alloc(6)]), null), /exceeds/);
  } finally {
    ws.dispose();
  }
});

test('a folder of checkpoint files opens as its checkpoint files; a model folder stays a folder', async () => {
  const ws = new UploadWorkspace();
  try {
    const id = ws.newBatch();
    for (const name of ['P1/saved_model.pb', 'P1/variables/variables.index', 'ckpt_active/ckpt.index', 'ckpt_active/ckpt.data-00000-of-00001', 'ckpt_active/checkpoint']) {
      await ws.writeFile(id, name, Readable.from([Buffer.from('x')]), 1);
    }
    const base = `${ws.root}/uploads/${id}`;
    assert.deepEqual(ws.entries(id), [`${base}/P1`, `${base}/ckpt_active/ckpt.data-00000-of-00001`, `${base}/ckpt_active/ckpt.index`]);
  } finally {
    ws.dispose();
  }
});
