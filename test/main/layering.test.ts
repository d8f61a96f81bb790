// The import rules of the project's layers, checked on the source: shared/ imports nothing of
// ours, renderer/ only shared/, and the hosts (CLI, Electron main, web host) never import each
// other except the CLI's `serve`, which starts the web host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|tsx|mjs)$/.test(name) ? [full] : [];
  });
}

/** Every relative import of a file, as a path relative to the repo root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)['"](\.[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, resolve(dirname(file), s)));
}

function violations(layer: string, allowed: (target: string, file: string) => boolean): string[] {
  return sources(join(ROOT, layer)).flatMap((file) =>
    importsOf(file)
      .filter((target) => !allowed(target, relative(ROOT, file)))
      .map((target) => `${relative(ROOT, file)} imports ${target}`),
  );
}

test('shared/ imports nothing outside shared/', () => {
  assert.deepEqual(violations('shared', (t) => t.startsWith('shared/')), []);
});

test('renderer/ imports only renderer/ and shared/', () => {
  assert.deepEqual(violations('renderer', (t) => t.startsWith('renderer/') || t.startsWith('shared/')), []);
});

test('the Electron host and the web host never import each other nor the CLI', () => {
  assert.deepEqual(violations('main/electron', (t) => !t.startsWith('main/web/') && !t.startsWith('main/cli/')), []);
  assert.deepEqual(violations('main/web', (t) => !t.startsWith('main/electron/') && !t.startsWith('main/cli/')), []);
});

test('the CLI imports no Electron code, and of the web host only what `tfaudit serve` starts', () => {
  const allowed = (t: string, file: string) => !t.startsWith('main/electron/') && (!t.startsWith('main/web/') || file === 'main/cli/serve.ts');
  assert.deepEqual(violations('main/cli', allowed), []);
});

test('the host-neutral layers below the hosts import none of them', () => {
  const isHost = (t: string) => /^main\/(electron|web|cli)\//.test(t);
  for (const layer of ['main/service', 'main/analysis', 'main/formats', 'main/report', 'main/sandbox', 'main/worker']) {
    assert.deepEqual(violations(layer, (t) => !isHost(t)), [], layer);
  }
});
