// `npm start` (scripts/start.mjs) where Electron cannot be had prints one clear line, not a
// download stack trace; where it can, it starts it on the repo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers/corpus.ts';

const START = join(REPO_ROOT, 'scripts', 'start.mjs');

test('without an Electron binary and no reachable download: one line naming the cause and `npx tfaudit serve`', () => {
  const cache = tempDir();
  const env = { ...process.env, ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: cache, ELECTRON_OVERRIDE_DIST_PATH: '' };
  delete (env as Record<string, string | undefined>).ELECTRON_OVERRIDE_DIST_PATH;
  const r = spawnSync(process.execPath, [START, '--no-build'], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^tfaudit: cannot start the desktop app: the Electron binary is not installed and could not be downloaded \(.+\)\. `npx tfaudit serve` gives the same workbench in a browser\.$/);
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
});

test('with an Electron binary: it is started on the repo with the extra arguments, and its exit code is ours', () => {
  const dist = tempDir();
  mkdirSync(dist, { recursive: true });
  const fake = join(dist, 'electron');
  writeFileSync(fake, '#!/bin/sh\necho "started $*"\nexit 7\n');
  chmodSync(fake, 0o755);
  const r = spawnSync(process.execPath, [START, '--no-build', '--inspect-brk-not-really'], { env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: dist }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 7, r.stderr);
  assert.equal(r.stdout.trim(), `started ${REPO_ROOT} --inspect-brk-not-really`);
});
