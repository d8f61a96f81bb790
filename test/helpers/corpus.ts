// Locations of the team's reference material (../shared beside the repo). Tests read it in
// place and never copy it into the repo; tests that mutate files work on copies in a temp dir.
import { existsSync, mkdtempSync, cpSync, chmodSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = resolve(REPO_ROOT, '..', 'shared');
export const CORPUS = join(SHARED, 'corpus');
export const REAL = join(CORPUS, 'real');
export const CRAFTED = join(CORPUS, 'crafted');
export const BENCH = join(SHARED, 'bench');

export const corpusAvailable = existsSync(join(CORPUS, 'real'));
/** Pass as the `skip` option of a test that needs ../shared/corpus. */
export const skipWithoutCorpus = corpusAvailable ? false : 'reference corpus ../shared/corpus is not present';

export function real(...parts: string[]): string {
  return join(REAL, ...parts);
}

export function crafted(...parts: string[]): string {
  return join(CRAFTED, ...parts);
}

/** A writable copy of a corpus file or folder in a fresh temp dir (the corpus is read-only). */
export function copyToTemp(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfaudit-test-'));
  const target = join(dir, source.split('/').pop()!);
  cpSync(source, target, { recursive: true });
  makeWritable(target);
  return target;
}

function makeWritable(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const name of readdirSync(path)) makeWritable(join(path, name));
}

export function tempDir(prefix = 'tfaudit-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
