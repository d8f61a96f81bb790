// The exact sandbox command for a policy: bubblewrap argv, or an nsjail protobuf-text config.
// Pure apart from reading what exists on the host (/lib symlinks, whether the model is a file).
import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SandboxPolicy } from '../../shared/sandbox.ts';
import { INSIDE, SANDBOX_GID, SANDBOX_UID, insideCheckpoint, insideModelPath } from './policy.ts';

export interface SandboxLayout {
  /** The run's private directory (mode 700) holding everything below. */
  runRoot: string;
  scratch: string;
  /** Host side of /tmp inside the sandbox. */
  scratchTmp: string;
  /** Generated minimal /etc files. */
  etcDir: string;
  /** Host side of INSIDE.observe: strace log and rusage, written by the sandbox's root only. */
  observeDir: string;
  /** Host side of INSIDE.runner. */
  runnerDir: string;
}

export function sandboxLayout(policy: SandboxPolicy): SandboxLayout {
  const runRoot = dirname(policy.scratchDir);
  return {
    runRoot,
    scratch: policy.scratchDir,
    scratchTmp: join(policy.scratchDir, 'tmp'),
    etcDir: join(runRoot, 'etc'),
    observeDir: join(runRoot, 'observe'),
    runnerDir: join(runRoot, 'runner'),
  };
}

export interface CommandOptions {
  /** Absolute path of bwrap / nsjail; defaults to the bare name. */
  backendPath?: string;
  /** Running as host root: drop to an unprivileged uid inside (setpriv) instead of a user namespace. */
  privileged?: boolean;
  /**
   * Host uid (and gid) the model runs as when privileged; default 65534. A uid of its own per run
   * keeps concurrent runs from sharing the process limit or each other's files.
   */
  runUid?: number;
  /** Argv prefix run before the limits and the privilege drop (strace, time). */
  observers?: string[];
  /** Extra environment for the payload (the base is PATH, HOME, LANG, TMPDIR, PYTHONDONTWRITEBYTECODE). */
  env?: Record<string, string>;
  /** Extra read-only binds (host source → path inside). */
  binds?: { source: string; target: string }[];
  /** Files we generate for the runner (its script), visible read-only under INSIDE.runner. */
  runnerFiles?: { name: string; content: string }[];
  /** Host paths bound in place of the model / an outside checkpoint dir (readable copies). */
  sources?: { model?: string; checkpointDir?: string };
}

export interface SandboxCommand {
  argv: string[];
  /** Files the launcher writes before running (generated /etc, nsjail config). */
  configFiles: { path: string; content: string }[];
  /** Host directories the launcher creates first (mode, owner uid or null to keep). */
  directories: { path: string; mode: number; owner: number | null }[];
}

export const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: INSIDE.scratch,
  TMPDIR: INSIDE.tmp,
  LANG: 'C.UTF-8',
  LC_ALL: 'C.UTF-8',
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONNOUSERSITE: '1',
};

/** Top-level system dirs: symlinks (merged /usr) are recreated, real dirs bound read-only. */
const SYSTEM_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

function systemDirs(): { path: string; symlink: string | null }[] {
  const out: { path: string; symlink: string | null }[] = [];
  for (const path of SYSTEM_DIRS) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) out.push({ path, symlink: readlinkSync(path) });
      else if (st.isDirectory()) out.push({ path, symlink: null });
    } catch {
      // absent on this host
    }
  }
  return out;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Host /etc files that are safe and needed: the dynamic linker cache (and DNS when networked). */
function hostEtcFiles(allowNetwork: boolean): string[] {
  const wanted = ['/etc/ld.so.cache', '/etc/localtime'];
  if (allowNetwork) wanted.push('/etc/resolv.conf', '/etc/ssl/certs', '/etc/ca-certificates');
  return wanted.filter((p) => existsSync(p));
}

export function generatedEtc(layout: SandboxLayout, uid = SANDBOX_UID, gid = SANDBOX_GID): { path: string; content: string }[] {
  return [
    { path: join(layout.etcDir, 'passwd'), content: `root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nsandbox:x:${uid}:${gid}:sandbox:${INSIDE.scratch}:/usr/sbin/nologin\n` },
    { path: join(layout.etcDir, 'group'), content: `root:x:0:\nsandbox:x:${gid}:\n` },
    { path: join(layout.etcDir, 'hosts'), content: '127.0.0.1 localhost tfaudit-sandbox\n::1 localhost\n' },
    { path: join(layout.etcDir, 'nsswitch.conf'), content: 'passwd: files\ngroup: files\nhosts: files dns\n' },
  ];
}

/** Limits and privilege drop, innermost before the payload. */
export function confinementArgv(policy: SandboxPolicy, privileged: boolean, runUid = SANDBOX_UID): string[] {
  const { limits } = policy;
  const mb = 1024 * 1024;
  const prlimit = [
    'prlimit',
    `--as=${limits.memoryMb * mb}`,
    // soft limit sends SIGXCPU (reported), the hard one SIGKILL shortly after
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 2}`,
    `--fsize=${limits.fileSizeMb * mb}`,
    `--nproc=${limits.processes}`,
    '--core=0',
    '--nofile=1024',
    '--',
  ];
  const drop = privileged
    ? [
        'setpriv',
        `--reuid=${runUid}`,
        `--regid=${runUid}`,
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--no-new-privs',
        '--',
      ]
    : [];
  return [...prlimit, ...drop];
}

function directories(policy: SandboxPolicy, layout: SandboxLayout, privileged: boolean, runUid: number): SandboxCommand['directories'] {
  const owner = privileged ? runUid : null;
  // nsjail runs everything (observers included) as the sandbox uid
  const observeOwner = policy.backend === 'nsjail' ? owner : null;
  return [
    { path: layout.scratch, mode: 0o700, owner },
    { path: layout.scratchTmp, mode: 0o700, owner },
    { path: layout.etcDir, mode: 0o755, owner: null },
    { path: layout.runnerDir, mode: 0o755, owner: null },
    // the observation output stays root-only, so a model running as 65534 cannot tamper with it
    { path: layout.observeDir, mode: 0o700, owner: observeOwner },
  ];
}

/** Where a host path bound read-only appears inside. Paths under the sandbox's own directories
 * (/tmp, /scratch, ...) would be hidden by those mounts, so they appear under /host instead. */
export function mountTarget(path: string): string {
  const reserved = Object.values(INSIDE).some((dir) => path === dir || path.startsWith(`${dir}/`));
  return reserved ? `${HOST_PREFIX}${path}` : path;
}

const HOST_PREFIX = '/host';

/** Rewrites argv words that name a remapped read-only mount (or a file below it). */
export function remapArgv(argv: string[], mounts: string[]): string[] {
  const moved = mounts.filter((m) => mountTarget(m) !== m).sort((a, b) => b.length - a.length);
  if (moved.length === 0) return argv;
  return argv.map((word) => {
    const mount = moved.find((m) => word === m || word.startsWith(`${m}/`));
    return mount ? `${mountTarget(mount)}${word.slice(mount.length)}` : word;
  });
}

export function sandboxCommand(policy: SandboxPolicy, innerArgv: string[], options: CommandOptions = {}): SandboxCommand {
  innerArgv = remapArgv(innerArgv, policy.readOnlyMounts);
  const privileged = options.privileged ?? process.getuid?.() === 0;
  const runUid = options.runUid ?? SANDBOX_UID;
  const insideUid = privileged ? runUid : SANDBOX_UID;
  const layout = sandboxLayout(policy);
  const env = { ...BASE_ENV, ...(options.env ?? {}) };
  const inner = [...(options.observers ?? []), ...(policy.backend === 'nsjail' ? [] : confinementArgv(policy, privileged, runUid)), ...innerArgv];
  const runnerFiles = (options.runnerFiles ?? []).map((f) => ({ path: join(layout.runnerDir, f.name), content: f.content }));
  const etc = [...generatedEtc(layout, insideUid, insideUid === SANDBOX_UID ? SANDBOX_GID : insideUid), ...runnerFiles];
  const dirs = directories(policy, layout, privileged, runUid);
  const binds = [...(options.binds ?? []), ...(runnerFiles.length ? [{ source: layout.runnerDir, target: INSIDE.runner }] : [])];
  if (policy.backend === 'nsjail') {
    const config = nsjailConfig(policy, layout, env, privileged, binds, runUid, options.sources ?? {});
    const configPath = join(layout.runRoot, 'nsjail.cfg');
    return {
      argv: [options.backendPath ?? 'nsjail', '--config', configPath, '--', ...inner],
      configFiles: [...etc, { path: configPath, content: config }],
      directories: dirs,
    };
  }
  return { argv: [options.backendPath ?? 'bwrap', ...bwrapArgs(policy, layout, env, privileged, binds, options.sources ?? {}), '--', ...inner], configFiles: etc, directories: dirs };
}

function bwrapArgs(
  policy: SandboxPolicy,
  layout: SandboxLayout,
  env: Record<string, string>,
  privileged: boolean,
  binds: { source: string; target: string }[],
  sources: NonNullable<CommandOptions['sources']>,
): string[] {
  const args: string[] = [];
  // As host root, a user namespace would map the sandbox uid to host root (nproc limits do not bind
  // root, and file ownership checks pass); instead stay in the host user namespace and drop to
  // uid 65534 with setpriv. Unprivileged users get a user namespace mapping them to 65534.
  if (!privileged) args.push('--unshare-user', '--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_GID));
  args.push('--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try');
  if (policy.allowNetwork) args.push('--share-net');
  else args.push('--unshare-net');
  args.push('--die-with-parent', '--new-session', '--hostname', 'tfaudit-sandbox', '--clearenv');
  if (privileged) {
    // the sandbox's root only runs the observers, prlimit and setpriv (the model runs with no
    // capabilities); DAC_OVERRIDE lets it enter the scratch dir, which belongs to the sandbox uid
    args.push('--cap-drop', 'ALL');
    for (const cap of ['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_SYS_PTRACE', 'CAP_DAC_OVERRIDE']) args.push('--cap-add', cap);
  }
  for (const [key, value] of Object.entries(env)) args.push('--setenv', key, value);

  args.push('--ro-bind', '/usr', '/usr');
  for (const dir of systemDirs()) {
    if (dir.symlink !== null) args.push('--symlink', dir.symlink, dir.path);
    else args.push('--ro-bind', dir.path, dir.path);
  }
  // created explicitly: dirs bwrap makes implicitly follow the caller's umask
  args.push('--perms', '0755', '--dir', '/etc');
  for (const file of hostEtcFiles(policy.allowNetwork)) args.push('--ro-bind', file, file);
  for (const file of generatedEtc(layout)) args.push('--ro-bind', file.path, `/etc/${file.path.split('/').pop()}`);
  args.push('--proc', '/proc', '--dev', '/dev');

  const checkpoint = insideCheckpoint(policy);
  const mounts: { flag: string; source: string; target: string }[] = [
    ...policy.readOnlyMounts.map((m) => ({ flag: '--ro-bind', source: m, target: mountTarget(m) })),
    { flag: '--ro-bind', source: sources.model ?? policy.modelPath, target: insideModelPath(policy, isFile(policy.modelPath)) },
    ...(checkpoint?.mountDir ? [{ flag: '--ro-bind', source: sources.checkpointDir ?? checkpoint.mountDir, target: INSIDE.checkpoint }] : []),
    ...binds.map((b) => ({ flag: '--ro-bind', source: b.source, target: b.target })),
    { flag: '--bind', source: layout.scratch, target: INSIDE.scratch },
    { flag: '--bind', source: layout.scratchTmp, target: INSIDE.tmp },
    { flag: '--bind', source: layout.observeDir, target: INSIDE.observe },
  ];
  // parents bwrap would create implicitly are mode 0700 (root only): create them 0755 first
  const made = new Set(['/', '/etc', '/usr', '/proc', '/dev', ...systemDirs().map((d) => d.path)]);
  for (const { target } of mounts) {
    const parts = target.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const parent = '/' + parts.slice(0, i).join('/');
      if (made.has(parent)) continue;
      made.add(parent);
      args.push('--perms', '0755', '--dir', parent);
    }
  }
  for (const { flag, source, target } of mounts) args.push(flag, source, target);
  args.push('--chdir', INSIDE.scratch);
  // the tmpfs root itself read-only: only /scratch (and /tmp inside it) stay writable
  args.push('--remount-ro', '/');
  return args;
}

function q(value: string): string {
  return JSON.stringify(value);
}

function nsjailMount(src: string | null, dst: string, opts: { rw?: boolean; fstype?: string; bind?: boolean }): string {
  const fields = [
    src !== null ? `src: ${q(src)}` : null,
    `dst: ${q(dst)}`,
    opts.fstype ? `fstype: ${q(opts.fstype)}` : null,
    `is_bind: ${opts.bind ?? src !== null}`,
    `rw: ${opts.rw ?? false}`,
  ].filter(Boolean);
  return `mount { ${fields.join(' ')} }`;
}

/** nsjail protobuf-text config (fields of nsjail's config.proto NsJailConfig). */
export function nsjailConfig(
  policy: SandboxPolicy,
  layout: SandboxLayout,
  env: Record<string, string>,
  privileged: boolean,
  binds: { source: string; target: string }[] = [],
  runUid = SANDBOX_UID,
  sources: NonNullable<CommandOptions['sources']> = {},
): string {
  const { limits } = policy;
  const outside = privileged ? String(runUid) : '';
  const lines = [
    'name: "tfaudit-sandbox"',
    'mode: ONCE',
    'hostname: "tfaudit-sandbox"',
    `cwd: ${q(INSIDE.scratch)}`,
    `time_limit: ${limits.wallSeconds}`,
    'log_level: WARNING',
    'keep_env: false',
    ...Object.entries(env).map(([k, v]) => `envar: ${q(`${k}=${v}`)}`),
    'keep_caps: false',
    'disable_no_new_privs: false',
    `rlimit_as: ${limits.memoryMb}`,
    `rlimit_cpu: ${limits.cpuSeconds}`,
    `rlimit_fsize: ${limits.fileSizeMb}`,
    `rlimit_nproc: ${limits.processes}`,
    'rlimit_core: 0',
    'rlimit_nofile: 1024',
    `clone_newnet: ${!policy.allowNetwork}`,
    'clone_newuser: true',
    'clone_newns: true',
    'clone_newpid: true',
    'clone_newipc: true',
    'clone_newuts: true',
    'clone_newcgroup: true',
    `uidmap { inside_id: "${SANDBOX_UID}" outside_id: ${q(outside)} count: 1 }`,
    `gidmap { inside_id: "${SANDBOX_GID}" outside_id: ${q(privileged ? String(runUid === SANDBOX_UID ? SANDBOX_GID : runUid) : '')} count: 1 }`,
    nsjailMount('/usr', '/usr', {}),
  ];
  for (const dir of systemDirs()) lines.push(nsjailMount(dir.path, dir.path, {}));
  for (const file of hostEtcFiles(policy.allowNetwork)) lines.push(nsjailMount(file, file, {}));
  for (const file of generatedEtc(layout)) lines.push(nsjailMount(file.path, `/etc/${file.path.split('/').pop()}`, {}));
  lines.push(nsjailMount(null, '/proc', { fstype: 'proc', bind: false }));
  for (const dev of ['/dev/null', '/dev/zero', '/dev/urandom', '/dev/random']) lines.push(nsjailMount(dev, dev, { rw: true }));
  for (const mount of policy.readOnlyMounts) lines.push(nsjailMount(mount, mountTarget(mount), {}));
  lines.push(nsjailMount(sources.model ?? policy.modelPath, insideModelPath(policy, isFile(policy.modelPath)), {}));
  const checkpoint = insideCheckpoint(policy);
  if (checkpoint?.mountDir) lines.push(nsjailMount(sources.checkpointDir ?? checkpoint.mountDir, INSIDE.checkpoint, {}));
  for (const bind of binds) lines.push(nsjailMount(bind.source, bind.target, {}));
  lines.push(nsjailMount(layout.scratch, INSIDE.scratch, { rw: true }));
  lines.push(nsjailMount(layout.scratchTmp, INSIDE.tmp, { rw: true }));
  lines.push(nsjailMount(layout.observeDir, INSIDE.observe, { rw: true }));
  return lines.join('\n') + '\n';
}
