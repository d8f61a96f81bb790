// The recent-files list main keeps: deduplicated, newest first, bounded, persisted, and it
// ignores a tampered file rather than trusting it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_RECENT, RecentFiles } from '../../../main/electron/recent.ts';
import { tempDir } from '../../helpers/corpus.ts';

test('recent files: newest first, no duplicates, at most MAX_RECENT, persisted', () => {
  const file = join(tempDir(), 'profile', 'recent.json');
  const recent = new RecentFiles(file);
  assert.deepEqual(recent.list(), []);
  for (let i = 0; i < MAX_RECENT + 3; i++) recent.add(`/m/${i}`);
  recent.add('/m/5');
  assert.equal(recent.list().length, MAX_RECENT);
  assert.equal(recent.at(0), '/m/5');
  assert.equal(recent.list().filter((p) => p === '/m/5').length, 1);
  assert.deepEqual(new RecentFiles(file).list(), recent.list());
  recent.clear();
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), []);
  assert.equal(recent.at(0), null);
});

test('a tampered recent.json keeps only absolute string paths', () => {
  const file = join(tempDir(), 'recent.json');
  writeFileSync(file, JSON.stringify(['/ok', 'relative', 7, null, '/a\u0000b', { p: 1 }]));
  assert.deepEqual(new RecentFiles(file).list(), ['/ok']);
  writeFileSync(file, '{not json');
  assert.deepEqual(new RecentFiles(file).list(), []);
});
