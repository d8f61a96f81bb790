// The compiled worker's entry, main/worker/code-cache-loader.cjs, on a small stand-in bundle in a
// temp dir: a training run writes the V8 code cache; the next run under the same flags compiles
// from it ('accepted'); a bundle edited since (same length, so V8's own check would not notice),
// other flags, a cache V8 refuses, or no cache at all each run the bundle's current code from
// source and say so; the bundle sees itself as a main-script CommonJS module would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../../helpers/corpus.ts';

const LOADER = join(REPO_ROOT, 'main', 'worker', 'code-cache-loader.cjs');

/** A bundle that reports how it was compiled and what CommonJS gave it. */
function bundleSource(answer: string): string {
  const padding = Array.from({ length: 200 }, (_, i) => `function helper${i}(x) { return x * ${i} + ${i}; }`).join('\n');
  return `'use strict';
${padding}
const path = require('node:path');
const status = globalThis[Symbol.for('tfaudit.codeCache')];
process.stdout.write(JSON.stringify({ answer: '${answer}', status, file: path.basename(__filename), dir: __dirname, exportsIsModuleExports: exports === module.exports, argv: process.argv.slice(2), sum: helper7(3) }));
`;
}

function setUp(answer = 'one'): string {
  const dir = tempDir('tfaudit-code-cache-');
  copyFileSync(LOADER, join(dir, 'analyzer.cjs'));
  writeFileSync(join(dir, 'analyzer-bundle.cjs'), bundleSource(answer));
  return dir;
}

function run(dir: string, args: string[] = [], flags: string[] = ['--max-old-space-size=512']) {
  const result = spawnSync(process.execPath, [...flags, join(dir, 'analyzer.cjs'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as { answer: string; status: string; file: string; dir: string; exportsIsModuleExports: boolean; argv: string[]; sum: number };
}

test('without a cache the bundle runs from source, as a main CommonJS module, with its arguments', () => {
  const dir = setUp();
  const out = run(dir, ['--serve']);
  assert.deepEqual(out, { answer: 'one', status: 'absent', file: 'analyzer-bundle.cjs', dir, exportsIsModuleExports: true, argv: ['--serve'], sum: 28 });
});

test('a training run writes the cache; the next run under the same flags compiles from it', () => {
  const dir = setUp();
  assert.equal(run(dir, ['--write-code-cache']).status, 'absent');
  assert.ok(existsSync(join(dir, 'analyzer-bundle.cjs.v8cache')));
  const info = JSON.parse(readFileSync(join(dir, 'analyzer-bundle.cjs.v8cache.json'), 'utf8'));
  assert.deepEqual(info.execArgv, ['--max-old-space-size=512']);
  assert.equal(info.v8, process.versions.v8);
  const out = run(dir);
  assert.equal(out.status, 'accepted');
  assert.equal(out.answer, 'one');
});

test('a bundle edited after the cache was written runs its new code (same length: only the hash tells)', () => {
  const dir = setUp('one');
  run(dir, ['--write-code-cache']);
  writeFileSync(join(dir, 'analyzer-bundle.cjs'), bundleSource('two'));
  const out = run(dir);
  assert.equal(out.status, 'stale');
  assert.equal(out.answer, 'two');
});

test('other V8 flags (another --memory) make the cache stale, not an error', () => {
  const dir = setUp();
  run(dir, ['--write-code-cache']);
  const out = run(dir, [], ['--max-old-space-size=1024']);
  assert.equal(out.status, 'stale');
  assert.equal(out.answer, 'one');
});

test('a cache V8 refuses (corrupt bytes) is rejected and the bundle compiles from source', () => {
  const dir = setUp();
  run(dir, ['--write-code-cache']);
  const cache = readFileSync(join(dir, 'analyzer-bundle.cjs.v8cache'));
  cache.fill(0x5a, 0, Math.min(64, cache.length));
  writeFileSync(join(dir, 'analyzer-bundle.cjs.v8cache'), cache);
  const out = run(dir);
  assert.equal(out.status, 'rejected');
  assert.equal(out.sum, 28);
});

test('an unreadable cache description counts as no cache', () => {
  const dir = setUp();
  run(dir, ['--write-code-cache']);
  writeFileSync(join(dir, 'analyzer-bundle.cjs.v8cache.json'), '{not json');
  assert.equal(run(dir).status, 'absent');
  rmSync(join(dir, 'analyzer-bundle.cjs.v8cache.json'));
  assert.equal(run(dir).status, 'absent');
});
