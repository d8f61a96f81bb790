// Model file listing: sizes, streamed sha256, symlinks that leave the model root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listModelFiles, sha256File } from '../../../main/formats/files.ts';
import { tempDir } from '../../helpers/corpus.ts';

test('files are listed with POSIX relative paths, sizes and sha256; outside symlinks are skipped', async () => {
  const root = tempDir();
  const outside = tempDir();
  writeFileSync(join(outside, 'secret'), 'do not list me');
  mkdirSync(join(root, 'variables'));
  writeFileSync(join(root, 'saved_model.pb'), 'abc');
  writeFileSync(join(root, 'variables', 'variables.index'), Buffer.alloc(3000, 7));
  symlinkSync(join(outside, 'secret'), join(root, 'escape'));
  symlinkSync(outside, join(root, 'escape_dir'));
  symlinkSync(join(root, 'saved_model.pb'), join(root, 'alias.pb'));
  const warnings: string[] = [];
  const files = await listModelFiles(root, warnings);
  assert.deepEqual(files.map((f) => f.path), ['alias.pb', 'saved_model.pb', 'variables/variables.index']);
  assert.equal(files[1]!.size, 3);
  assert.equal(files[1]!.sha256, createHash('sha256').update('abc').digest('hex'));
  assert.equal(files[2]!.sha256, createHash('sha256').update(Buffer.alloc(3000, 7)).digest('hex'));
  assert.equal(warnings.filter((w) => /outside the model/.test(w)).length, 2);
});

test('a single file lists itself; sha256File streams', async () => {
  const dir = tempDir();
  const file = join(dir, 'graph.pb');
  const data = Buffer.alloc(3 * 1024 * 1024 + 5, 1);
  writeFileSync(file, data);
  assert.equal(await sha256File(file), createHash('sha256').update(data).digest('hex'));
  const files = await listModelFiles(file, []);
  assert.deepEqual(files, [{ path: 'graph.pb', size: data.length, sha256: createHash('sha256').update(data).digest('hex') }]);
});
