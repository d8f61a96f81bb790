// "Practise what we preach": the analyzer worker (which parses hostile model files) runs under
// the same OS sandbox as models do: no network, only its inputs + Node + our code readable,
// nothing writable but a private /tmp, memory and time limits, dies with its parent.
import { spawnSync } from 'node:child_process';
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findExecutable } from './backends.ts';
import { isSystemPath } from './policy.ts';

export interface IsolationOptions {
  /** Absolute path of the Node entry script (e.g. main/worker/analyzer.ts). */
  script: string;
  args: string[];
  /** Extra Node flags placed before the script (e.g. `--max-old-space-size=4096`). */
  nodeOptions?: string[];
  /** Input files/dirs the worker may read (mounted read-only at the same path). */
  readOnlyPaths: string[];
  memoryMb: number;
  timeoutSeconds: number;
  /** Code root mounted read-only (default: this repository, node_modules included). */
  codeRoot?: string;
  /** PATH to look for bwrap on (tests simulate its absence). */
  pathEnv?: string;
  /** Node binary that runs the script (default: this process's). The Electron app passes a system Node. */
  nodePath?: string;
}

export type IsolatedCommand = { argv: string[]; isolated: true; description: string } | { isolated: false; reason: string };

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const checked = new Map<string, true | string>();

function bwrapUsable(bwrap: string): true | string {
  const cached = checked.get(bwrap);
  if (cached !== undefined) return cached;
  const result = spawnSync(bwrap, ['--unshare-user', '--unshare-net', '--unshare-pid', '--die-with-parent', '--ro-bind', '/', '/', '--', '/usr/bin/true'], {
    timeout: 5000,
    env: {},
    encoding: 'utf8',
  });
  const verdict: true | string = result.status === 0 ? true : (result.stderr || result.error?.message || `exit ${result.status}`).trim();
  checked.set(bwrap, verdict);
  return verdict;
}

function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push('/' + parts.slice(0, i).join('/'));
  return out;
}

/** Whether bwrap exists and can build the analyzer's sandbox on this machine (true, or why not). */
export function isolationAvailable(pathEnv: string | undefined = process.env.PATH): true | string {
  const bwrap = findExecutable('bwrap', pathEnv);
  if (!bwrap) return 'bubblewrap (bwrap) is not installed';
  return bwrapUsable(bwrap);
}

export function isolatedNodeCommand(opts: IsolationOptions): IsolatedCommand {
  if (!isAbsolute(opts.script)) return { isolated: false, reason: `script path must be absolute: ${opts.script}` };
  const bwrap = findExecutable('bwrap', opts.pathEnv ?? process.env.PATH);
  if (!bwrap) return { isolated: false, reason: 'bubblewrap (bwrap) is not installed: `apt-get install bubblewrap` to isolate the analyzer' };
  const usable = bwrapUsable(bwrap);
  if (usable !== true) return { isolated: false, reason: `bwrap cannot create a sandbox here: ${usable.split('\n')[0]}` };

  const node = realpathSync(opts.nodePath ?? process.execPath);
  const codeRoot = resolve(opts.codeRoot ?? REPO_ROOT);
  const mounts = new Set<string>();
  if (!isSystemPath(node)) mounts.add(dirname(dirname(node)));
  mounts.add(codeRoot);
  // A checkout whose node_modules links elsewhere (a git worktree sharing one install) needs the target too.
  try {
    const modules = resolve(codeRoot, 'node_modules');
    if (lstatSync(modules).isSymbolicLink()) mounts.add(realpathSync(modules));
  } catch {
    // no node_modules: the bundle carries its dependencies
  }
  const scriptReal = realpathSync(opts.script);
  if (!scriptReal.startsWith(codeRoot + '/')) mounts.add(scriptReal);
  for (const input of opts.readOnlyPaths) {
    const abs = resolve(input);
    mounts.add(abs);
    try {
      const real = realpathSync(abs);
      if (real !== abs) mounts.add(real);
    } catch {
      // missing input: the worker reports it
    }
  }

  const args = [
    // a user namespace even as root: the worker has no capabilities anywhere
    '--unshare-user', '--uid', '65534', '--gid', '65534',
    '--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--die-with-parent', '--new-session', '--hostname', 'tfaudit-analyzer', '--clearenv',
    '--setenv', 'PATH', '/usr/local/bin:/usr/bin:/bin', '--setenv', 'HOME', '/tmp', '--setenv', 'LANG', 'C.UTF-8',
    '--ro-bind', '/usr', '/usr',
  ];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    try {
      const st = lstatSync(dir);
      if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
      else if (st.isDirectory()) args.push('--ro-bind', dir, dir);
    } catch {
      // absent
    }
  }
  args.push('--perms', '0755', '--dir', '/etc', '--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache');
  args.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/tmp');
  const made = new Set(['/', '/etc', '/usr', '/proc', '/dev', '/tmp', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']);
  const sorted = [...mounts].sort();
  for (const mount of sorted) {
    for (const parent of ancestors(mount)) {
      if (made.has(parent)) continue;
      made.add(parent);
      args.push('--perms', '0755', '--dir', parent);
    }
  }
  for (const mount of sorted) args.push('--ro-bind', mount, mount);
  args.push('--chdir', codeRoot, '--remount-ro', '/');

  const mb = 1024 * 1024;
  const nodeOptions = opts.nodeOptions ?? [];
  // RLIMIT_DATA, not RLIMIT_AS: V8 reserves many GB of address space (heap cage, WebAssembly)
  // that is never committed; the data limit counts what becomes writable memory
  const dataMb = opts.memoryMb + 1024;
  const inner = [
    'prlimit', `--data=${dataMb * mb}`, `--cpu=${opts.timeoutSeconds}`, `--fsize=${64 * mb}`, '--core=0', '--',
    'timeout', '-s', 'KILL', String(opts.timeoutSeconds),
    node,
    ...(nodeOptions.some((o) => o.startsWith('--max-old-space-size')) ? [] : [`--max-old-space-size=${opts.memoryMb}`]),
    ...nodeOptions,
    ...(/\.(ts|mts|cts|tsx)$/.test(opts.script) ? ['--import', 'tsx'] : []),
    opts.script, ...opts.args,
  ];
  return {
    argv: [bwrap, ...args, '--', ...inner],
    isolated: true,
    description:
      `bubblewrap: no network, own PID/IPC/user namespaces, read-only view of ${opts.readOnlyPaths.length} input path(s), Node and the application code only, ` +
      `private /tmp, memory ${dataMb} MB (heap ${opts.memoryMb} MB), ${opts.timeoutSeconds} s limit`,
  };
}
