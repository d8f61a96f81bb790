// What happened during a sandboxed run: attempted system calls (strace log), files changed in
// the scratch dir (before/after snapshots), and resource use.
//
// Resource use, and why it is measured this way: Node's child_process gives no rusage, and the
// sandbox's own PID 1 does not pass its children's rusage up to the host. So GNU time runs
// *inside* the sandbox as the parent of the payload (getrusage of everything the payload reaped:
// exact CPU, and ru_maxrss = the largest single process), writing to the root-only observe dir.
// In parallel the host samples /proc for the whole sandbox process tree every 200 ms (total RSS
// and per-process CPU), which still gives numbers when a run is killed or GNU time is absent.
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, lstatSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import type { SandboxRunReport, SyscallObservation } from '../../shared/sandbox.ts';
import { INSIDE } from './policy.ts';
import { findExecutable } from './backends.ts';

// ---------------------------------------------------------------- observers (strace, time)

export const STRACE_LOG = `${INSIDE.observe}/strace.log`;
export const RUSAGE_FILE = `${INSIDE.observe}/rusage.txt`;
const TIME_FORMAT = 'tfaudit-rusage %e %U %S %M %x';

export interface ObserverTools {
  strace: string | null;
  time: string | null;
}

let toolsCache: ObserverTools | null = null;

/** strace and GNU time on the host, if installed under /usr (so they are visible in the sandbox). */
export function observerTools(): ObserverTools {
  if (toolsCache) return toolsCache;
  const visible = (p: string | null) => (p && /^\/(usr\/)?(s?bin)\//.test(p) ? p : null);
  const strace = visible(findExecutable('strace', '/usr/bin:/bin:/usr/sbin'));
  let time = visible(findExecutable('time', '/usr/bin:/bin'));
  if (time) {
    try {
      const out = execFileSync(time, ['--version'], { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'pipe'] });
      if (!/GNU/.test(out)) time = null;
    } catch (error) {
      const text = String((error as { stdout?: string }).stdout ?? '') + String((error as { stderr?: string }).stderr ?? '');
      if (!/GNU/.test(text)) time = null;
    }
  }
  toolsCache = { strace, time };
  return toolsCache;
}

/** Argv prefix placing strace and GNU time between the sandbox and the payload. */
export function observerArgv(tools: ObserverTools): string[] {
  const argv: string[] = [];
  if (tools.strace) {
    argv.push(tools.strace, '-f', '-q', '-s', '256', '-e', 'trace=file,network,process', '-o', STRACE_LOG, '--');
  }
  if (tools.time) argv.push(tools.time, '-o', RUSAGE_FILE, '-f', TIME_FORMAT);
  return argv;
}

export interface Rusage {
  wallSeconds: number;
  cpuSeconds: number;
  maxRssMb: number;
  exitCode: number | null;
  signal: string | null;
}

/** GNU time's -o file: optional "Command exited/terminated ..." line, then our format line. */
export function parseRusage(text: string): Rusage | null {
  const line = text.split('\n').find((l) => l.startsWith('tfaudit-rusage '));
  if (!line) return null;
  const [, e, u, s, m, x] = line.trim().split(/\s+/);
  const signalMatch = /Command terminated by signal (\d+)/.exec(text);
  const signal = signalMatch ? signalName(Number(signalMatch[1])) : null;
  return {
    wallSeconds: Number(e),
    cpuSeconds: Number(u) + Number(s),
    maxRssMb: Number(m) / 1024,
    exitCode: signal ? null : Number(x),
    signal,
  };
}

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM', 24: 'SIGXCPU', 25: 'SIGXFSZ', 31: 'SIGSYS',
};

export function signalName(n: number): string {
  return SIGNALS[n] ?? `SIG${n}`;
}

// ---------------------------------------------------------------- strace log

const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;
const OPEN_CALLS = new Set(['open', 'openat', 'openat2', 'creat']);
const MODIFY_CALLS = new Set([
  'unlink', 'unlinkat', 'rename', 'renameat', 'renameat2', 'mkdir', 'mkdirat', 'rmdir', 'truncate', 'chmod', 'fchmodat',
  'chown', 'lchown', 'fchownat', 'link', 'linkat', 'symlink', 'symlinkat', 'mknod', 'mknodat', 'utimensat',
]);
/** Existence/metadata checks: TensorFlow's ReadFile stats the path before opening it. */
const STAT_CALLS = new Set(['stat', 'lstat', 'stat64', 'lstat64', 'newfstatat', 'fstatat64', 'statx', 'access', 'faccessat', 'faccessat2']);
const NETWORK_CALLS = new Set(['connect', 'bind', 'sendto', 'sendmsg', 'listen']);
/** SO_ERROR values strace may print as numbers. */
const SOCKET_ERRNO: Record<string, string> = { '0': 'ok', '110': 'ETIMEDOUT', '111': 'ECONNREFUSED', '101': 'ENETUNREACH', '113': 'EHOSTUNREACH', '99': 'EADDRNOTAVAIL' };
const EXEC_CALLS = new Set(['execve', 'execveat']);
const FORK_CALLS = new Set(['clone', 'clone3', 'fork', 'vfork']);

export interface TraceFilter {
  /** Path prefixes whose successful or not-found read-only opens are runtime noise (libraries, imports). */
  quietPrefixes: string[];
  /** Programs of the observation/confinement chain, skipped until the payload's first exec. */
  wrapperPrograms: string[];
  /** Hard cap on distinct observations kept. */
  maxObservations?: number;
  /**
   * Path prefix of the runner's phase markers (`<prefix><phase>`, touched with stat): each later
   * observation carries the phase it happened in. Holds the run's nonce, so the model cannot forge it.
   */
  phaseMarker?: string;
}

/** Decodes strace's C-style string escapes. */
function unescapeC(text: string): string {
  return text.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, esc: string) => {
    if (esc[0] === 'x') return String.fromCharCode(parseInt(esc.slice(1), 16));
    if (/^[0-7]+$/.test(esc)) return String.fromCharCode(parseInt(esc, 8));
    return ({ n: '\n', t: '\t', r: '\r', v: '\v', f: '\f' } as Record<string, string>)[esc] ?? esc;
  });
}

function quotedStrings(args: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"(\.\.\.)?/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(args))) out.push(unescapeC(m[1]!) + (m[2] ? '…' : ''));
  return out;
}

function resultOf(raw: string): { text: string; ok: boolean; value: string } {
  const m = /^(-?\d+|\?|0x[0-9a-f]+)(?:\s+([A-Z][A-Z0-9_]+))?/.exec(raw.trim());
  if (!m) return { text: raw.trim(), ok: true, value: raw.trim() };
  if (m[1] === '-1' && m[2]) return { text: m[2], ok: false, value: m[1] };
  if (m[1] === '?') return { text: '?', ok: true, value: '?' };
  return { text: 'ok', ok: true, value: m[1]! };
}

export function socketAddress(args: string): string {
  const inet = /sin_port=htons\((\d+)\),\s*sin_addr=inet_addr\("([^"]+)"\)/.exec(args);
  if (inet) return `${inet[2]}:${inet[1]}`;
  const inet6port = /sin6_port=htons\((\d+)\)/.exec(args);
  const inet6addr = /inet_pton\(AF_INET6,\s*"([^"]+)"/.exec(args);
  if (inet6port || inet6addr) return `[${inet6addr?.[1] ?? '?'}]:${inet6port?.[1] ?? '?'}`;
  const unix = /sun_path=(@?)"((?:[^"\\]|\\.)*)"/.exec(args);
  if (unix) return `unix:${unix[1]}${unescapeC(unix[2]!)}`;
  const family = /sa_family=(AF_\w+)/.exec(args);
  return family ? family[1]! : 'unknown';
}

interface RawCall {
  pid: number;
  name: string;
  args: string;
  result: string;
}

/** Joins `<unfinished ...>` / `<... resumed>` pairs; yields complete calls in log order. */
export function parseStraceLines(text: string): RawCall[] {
  const calls: RawCall[] = [];
  const pending = new Map<number, { name: string; args: string }>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    let body = m[2]!;
    if (body.startsWith('---') || body.startsWith('+++')) continue;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(body);
    if (resumed) {
      const start = pending.get(pid);
      pending.delete(pid);
      body = `${resumed[1]}(${start && start.name === resumed[1] ? start.args : ''}${resumed[2]}`;
    }
    const unfinished = /^(\w+)\((.*) <unfinished \.\.\.>$/.exec(body);
    if (unfinished) {
      pending.set(pid, { name: unfinished[1]!, args: unfinished[2]! });
      continue;
    }
    const call = /^(\w+)\((.*)\)\s+=\s+(.*)$/.exec(body);
    if (call) calls.push({ pid, name: call[1]!, args: call[2]!, result: call[3]! });
  }
  return calls;
}

function isQuiet(path: string, filter: TraceFilter): boolean {
  return filter.quietPrefixes.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : p + '/'));
}

/**
 * Turns an strace log into observations: write-intent opens and file changes anywhere, reads
 * outside the runtime (or refused anywhere), network calls with their address, execs, and
 * process/thread creation (failures always). Identical observations are merged with a count.
 */
export function straceObservations(text: string, filter: TraceFilter): SyscallObservation[] {
  const max = filter.maxObservations ?? 2000;
  const merged = new Map<string, SyscallObservation>();
  const pendingConnects = new Map<string, SyscallObservation>();
  let anyPayload = false;
  let phase: string | undefined;
  const add = (o: SyscallObservation) => {
    if (phase !== undefined) o = { ...o, phase };
    const key = `${o.kind}|${o.call}|${o.target}|${o.result}|${o.phase ?? ''}`;
    const existing = merged.get(key);
    if (existing) existing.count = (existing.count ?? 1) + 1;
    else if (merged.size < max) merged.set(key, { ...o, count: 1 });
  };
  for (const call of parseStraceLines(text)) {
    const result = resultOf(call.result);
    if (EXEC_CALLS.has(call.name)) {
      const [program = '?', ...argv] = quotedStrings(call.args);
      const base = program.split('/').pop()!;
      if (!anyPayload && filter.wrapperPrograms.includes(base)) continue;
      anyPayload = true;
      const shown = argv.slice(1, 6).map((a) => (a.length > 80 ? a.slice(0, 80).replace(/\n/g, ' ') + '…' : a)).join(' ');
      add({ kind: 'process', call: call.name, target: shown ? `${program} ${shown}` : program, result: result.text, pid: call.pid });
      continue;
    }
    if (!anyPayload) continue; // the observers' own start-up
    if (FORK_CALLS.has(call.name)) {
      const thread = /CLONE_THREAD/.test(call.args);
      add({ kind: 'process', call: call.name, target: thread ? 'new thread' : 'new process', result: result.ok ? 'ok' : result.text, pid: call.pid });
      continue;
    }
    if (NETWORK_CALLS.has(call.name)) {
      const target = socketAddress(call.args);
      if ((call.name === 'sendto' || call.name === 'sendmsg') && target === 'unknown') continue;
      const observation: SyscallObservation = { kind: 'network', call: call.name, target, result: result.text, pid: call.pid };
      // a non-blocking connect resolves later, through getsockopt(SO_ERROR)
      if (call.name === 'connect' && result.text === 'EINPROGRESS') pendingConnects.set(`${call.pid}:${call.args.split(',')[0]}`, observation);
      else add(observation);
      continue;
    }
    if (call.name === 'getsockopt' && /SO_ERROR/.test(call.args)) {
      const key = `${call.pid}:${call.args.split(',')[0]}`;
      const pending = pendingConnects.get(key);
      const value = /SO_ERROR,\s*\[(\w+)\]/.exec(call.args)?.[1];
      if (pending && value) {
        pendingConnects.delete(key);
        add({ ...pending, result: `EINPROGRESS → ${SOCKET_ERRNO[value] ?? value}` });
      }
      continue;
    }
    const path = quotedStrings(call.args)[0];
    if (filter.phaseMarker && path?.startsWith(filter.phaseMarker)) {
      phase = path.slice(filter.phaseMarker.length);
      continue;
    }
    if (path === undefined || path.startsWith(INSIDE.observe) || path.startsWith(INSIDE.runner) || path.startsWith('(null)')) continue;
    if (OPEN_CALLS.has(call.name)) {
      const writeIntent = call.name === 'creat' || WRITE_FLAGS.test(call.args);
      if (!writeIntent && (result.ok || result.text === 'ENOENT') && isQuiet(path, filter)) continue;
      if (!writeIntent && result.ok && (path.startsWith('/proc/') || path.startsWith('/dev/') || path.startsWith('/sys/'))) continue;
      add({ kind: 'file', call: writeIntent ? `${call.name}(write)` : `${call.name}(read)`, target: path, result: result.text, pid: call.pid });
    } else if (STAT_CALLS.has(call.name)) {
      if ((result.ok || result.text === 'ENOENT') && isQuiet(path, filter)) continue;
      if (path === '' || /^\/(proc|dev|sys)(\/|$)/.test(path)) continue;
      // a successful check is only telling while the model's own code runs (the signature call)
      if (result.ok && phase !== 'calling') continue;
      add({ kind: 'file', call: call.name, target: path, result: result.text, pid: call.pid });
    } else if (MODIFY_CALLS.has(call.name)) {
      const paths = quotedStrings(call.args);
      const target = call.name.startsWith('rename') || call.name.startsWith('link') || call.name.startsWith('symlink') ? paths.join(' -> ') : path;
      add({ kind: 'file', call: call.name, target, result: result.text, pid: call.pid });
    }
  }
  for (const pending of pendingConnects.values()) add(pending);
  return [...merged.values()];
}

// ---------------------------------------------------------------- scratch snapshots

export interface FileState {
  size: number;
  mtimeMs: number;
  sha256: string | null;
}

const MAX_SNAPSHOT_FILES = 20000;
const MAX_HASH_BYTES = 64 * 1024 * 1024;

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every regular file and symlink under root (relative path → state). */
export async function snapshotDir(root: string): Promise<Map<string, FileState>> {
  const out = new Map<string, FileState>();
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (out.size >= MAX_SNAPSHOT_FILES) return;
      const full = join(dir, name);
      let st;
      try {
        st = lstatSync(full);
      } catch {
        continue;
      }
      if (st.isDirectory()) await walk(full);
      else {
        const sha256 = st.isFile() && st.size <= MAX_HASH_BYTES ? await hashFile(full).catch(() => null) : null;
        out.set(relative(root, full), { size: st.size, mtimeMs: st.mtimeMs, sha256 });
      }
    }
  };
  await walk(root);
  return out;
}

/** Changes between snapshots; `name` maps a relative path to how the report shows it. */
export function diffSnapshots(
  before: Map<string, FileState>,
  after: Map<string, FileState>,
  name: (relativePath: string) => string = (p) => p,
): SandboxRunReport['filesWritten'] {
  const changes: SandboxRunReport['filesWritten'] = [];
  for (const [path, state] of after) {
    const old = before.get(path);
    if (!old) changes.push({ path: name(path), size: state.size, change: 'created' });
    else if (old.size !== state.size || old.mtimeMs !== state.mtimeMs || old.sha256 !== state.sha256) {
      changes.push({ path: name(path), size: state.size, change: 'modified' });
    }
  }
  for (const [path, state] of before) if (!after.has(path)) changes.push({ path: name(path), size: state.size, change: 'deleted' });
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}

// ---------------------------------------------------------------- /proc sampling

/** The pid and all its descendants, from /proc/<pid>/task/<tid>/children. */
export function processTree(root: number): number[] {
  const seen = new Set<number>();
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
        if (children) for (const c of children.split(/\s+/)) queue.push(Number(c));
      } catch {
        // exited meanwhile
      }
    }
  }
  return [...seen];
}

const CLOCK_TICKS = 100; // USER_HZ is 100 on every Linux ABI Node supports

export class TreeSampler {
  peakTreeRssMb = 0;
  peakProcessHwmMb = 0;
  private cpuByPid = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  lastPids: number[] = [];

  constructor(private readonly root: number, private readonly intervalMs = 200) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sample(): void {
    const pids = processTree(this.root);
    this.lastPids = pids;
    let total = 0;
    for (const pid of pids) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const rss = /VmRSS:\s+(\d+) kB/.exec(status);
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        if (rss) total += Number(rss[1]) / 1024;
        if (hwm) this.peakProcessHwmMb = Math.max(this.peakProcessHwmMb, Number(hwm[1]) / 1024);
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // fields[11], fields[12] = utime, stime (stat fields 14, 15)
        const ticks = Number(fields[11]) + Number(fields[12]);
        this.cpuByPid.set(pid, Math.max(this.cpuByPid.get(pid) ?? 0, ticks));
      } catch {
        // exited meanwhile
      }
    }
    this.peakTreeRssMb = Math.max(this.peakTreeRssMb, total);
  }

  /** CPU seconds seen: a lower bound (CPU after a process's last sample is missed). */
  cpuSeconds(): number {
    let sum = 0;
    for (const ticks of this.cpuByPid.values()) sum += ticks;
    return sum / CLOCK_TICKS;
  }
}

export function readIfExists(path: string): string | null {
  try {
    return existsSync(path) ? readFileSync(path, 'utf8') : null;
  } catch {
    return null;
  }
}
