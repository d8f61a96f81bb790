// Which OS sandbox is available: nsjail when installed, bubblewrap otherwise. There is no
// "none" backend: without one, the caller must refuse to run the model.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { SandboxBackend } from '../../shared/sandbox.ts';

export type BackendDetection =
  | { backend: SandboxBackend; path: string; version: string }
  | { backend: null; message: string };

export const INSTALL_HINT =
  'No sandbox backend found: install bubblewrap (`apt-get install bubblewrap`, package `bubblewrap` on Debian/Ubuntu/Fedora) ' +
  'or nsjail (https://github.com/google/nsjail). The model is never run unsandboxed.';

/** Absolute path of an executable found on PATH (or the absolute path itself), else null. */
export function findExecutable(name: string, pathEnv: string | undefined = process.env.PATH): string | null {
  const candidates = name.includes('/') ? [name] : (pathEnv ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function versionOf(path: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(path, args, { timeout: 5000, env: { PATH: '/usr/bin:/bin' } }, (error, stdout, stderr) => {
      const text = `${stdout}\n${stderr}`.trim();
      if (error && !text) resolve(null);
      else resolve(text.split('\n')[0]!.trim());
    });
  });
}

/**
 * Finds a working sandbox backend. `TFAUDIT_SANDBOX_BACKEND=bubblewrap|nsjail` forces one.
 * A backend whose binary exists but does not run (e.g. user namespaces disabled) is reported
 * as unavailable with its own error, never silently skipped to running unsandboxed.
 */
const detected = new Map<string, BackendDetection>();

export async function detectBackend(
  options: { pathEnv?: string; prefer?: SandboxBackend | null } = {},
): Promise<BackendDetection> {
  const pathEnv = options.pathEnv ?? process.env.PATH;
  const forced = options.prefer ?? (process.env.TFAUDIT_SANDBOX_BACKEND as SandboxBackend | undefined) ?? null;
  // a working backend stays working for the life of the process; absence is re-checked each time
  const key = `${forced}|${pathEnv}`;
  const known = detected.get(key);
  if (known) return known;
  const result = await probeBackends(pathEnv, forced);
  if (result.backend) detected.set(key, result);
  return result;
}

async function probeBackends(pathEnv: string | undefined, forced: SandboxBackend | null): Promise<BackendDetection> {
  const order: SandboxBackend[] = forced === 'bubblewrap' ? ['bubblewrap'] : forced === 'nsjail' ? ['nsjail'] : ['nsjail', 'bubblewrap'];
  const problems: string[] = [];
  for (const backend of order) {
    const path = findExecutable(backend === 'nsjail' ? 'nsjail' : 'bwrap', pathEnv);
    if (!path) continue;
    const version = await versionOf(path, backend === 'nsjail' ? ['--help'] : ['--version']);
    if (version === null) {
      problems.push(`${path} is installed but does not run`);
      continue;
    }
    const works = backend === 'bubblewrap' ? await bwrapWorks(path) : true;
    if (works !== true) {
      problems.push(`${path} cannot create a sandbox here: ${works}`);
      continue;
    }
    return { backend, path, version: backend === 'nsjail' ? 'nsjail' : version };
  }
  return { backend: null, message: problems.length ? `${problems.join('; ')}. ${INSTALL_HINT}` : INSTALL_HINT };
}

/** A trivial sandbox, so that a bwrap without namespace support is caught before a real run. */
function bwrapWorks(path: string): Promise<true | string> {
  const privileged = process.getuid?.() === 0;
  const args = [
    ...(privileged ? [] : ['--unshare-user']),
    '--unshare-pid',
    '--unshare-net',
    '--die-with-parent',
    '--ro-bind', '/', '/',
    '--', 'true',
  ];
  return new Promise((resolve) => {
    execFile(path, args, { timeout: 5000, env: { PATH: '/usr/bin:/bin' } }, (error, _stdout, stderr) => {
      resolve(error ? (String(stderr).trim() || error.message) : true);
    });
  });
}
