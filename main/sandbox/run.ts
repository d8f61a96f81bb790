// Launching a policy: prepare the run dir, spawn the sandbox, stream output, enforce the wall
// time, kill the whole tree on stop/timeout, then assemble the run report.
import { spawn, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { chmodSync, chownSync, cpSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { SandboxPolicy, SandboxRunReport } from '../../shared/sandbox.ts';
import type { SandboxEvent } from '../../shared/api.ts';
import type { TensorInfoIR } from '../../shared/ir.ts';
import { detectBackend, type BackendDetection } from './backends.ts';
import { sandboxCommand, sandboxLayout, type SandboxCommand } from './command.ts';
import {
  observerArgv, observerTools, parseRusage, readIfExists, signalName, snapshotDir, diffSnapshots, straceObservations, TreeSampler,
  processTree, type ObserverTools, RUSAGE_FILE, STRACE_LOG,
} from './observe.ts';
import { INSIDE, SANDBOX_UID, derivePolicy, insideCheckpoint, type PolicyInput } from './policy.ts';
import { randomInt } from 'node:crypto';
import { phaseMarkerPrefix, resolveRuntime, runnerPayload, RunnerUnavailableError, type RuntimeResolution } from './runners.ts';
import { RunnerEventCollector } from './progress.ts';

export class SandboxUnavailableError extends Error {
  readonly code = 'sandbox-unavailable';
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

export { RunnerUnavailableError };

export interface PrepareOptions {
  signatureInputs?: Record<string, TensorInfoIR>;
  /** Signature input values by name (`--inputs FILE.json`), used instead of synthesized ones. */
  inputValues?: Record<string, unknown>;
  /** Skip detection (tests, or a caller that already detected). */
  detection?: BackendDetection;
  /** Observers to use; default: strace and GNU time when present and working. */
  tools?: ObserverTools;
  /** Force the privilege mode (default: running as root). */
  privileged?: boolean;
  /** Host uid for the model in privileged mode (default: a fresh unused one per run). */
  runUid?: number;
}

export interface PreparedRun {
  /** Readable copies made at launch (root mode, inputs the sandbox uid cannot read). */
  copies: { from: string; to: string }[];
  /** Host uid the model runs as (privileged mode), or the uid inside the user namespace. */
  runUid: number;
  policy: SandboxPolicy;
  command: SandboxCommand;
  runtime: RuntimeResolution;
  tools: ObserverTools;
  privileged: boolean;
  backendVersion: string;
  notes: string[];
  /** The run's nonce: only runner events and phase markers carrying it are believed. */
  nonce: string;
}

const straceCheck = new Map<string, true | string>();

/** strace needs ptrace inside the namespaces; checked once per backend binary with a trivial run. */
function straceUsable(bwrap: string, strace: string, privileged: boolean): Promise<true | string> {
  const key = `${bwrap}|${privileged}`;
  const cached = straceCheck.get(key);
  if (cached !== undefined) return Promise.resolve(cached);
  const args = [
    ...(privileged ? ['--cap-drop', 'ALL', '--cap-add', 'CAP_SYS_PTRACE'] : ['--unshare-user']),
    '--unshare-pid', '--unshare-net', '--die-with-parent', '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64',
    '--ro-bind-try', '/etc/ld.so.cache', '/etc/ld.so.cache', '--proc', '/proc', '--dev', '/dev',
    '--', strace, '-f', '-qq', '-o', '/dev/null', '--', '/usr/bin/true',
  ];
  return new Promise((resolve) => {
    execFile(bwrap, args, { timeout: 10000, env: {} }, (error, _out, stderr) => {
      const result: true | string = error ? String(stderr).trim() || error.message : true;
      straceCheck.set(key, result);
      resolve(result);
    });
  });
}

/** A high uid no account uses, fresh per run (root mode only). */
export function pickRunUid(): number {
  return 1_900_000_000 + randomInt(0, 1_000_000);
}

function unreadableForSandboxUser(path: string, uid: number, limit = 5000): string[] {
  const bad: string[] = [];
  let seen = 0;
  const visit = (p: string) => {
    if (seen++ > limit || bad.length > 5) return;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) return;
    const mine = st.uid === uid;
    const need = st.isDirectory() ? 0o5 : 0o4;
    const bits = mine ? (st.mode >> 6) & 7 : st.mode & 7;
    if ((bits & need) !== need) bad.push(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
  };
  visit(path);
  return bad;
}

/** Everything short of launching: the exact command and config files (what --dry-run prints). */
export async function prepareRun(policy: SandboxPolicy, options: PrepareOptions = {}): Promise<PreparedRun> {
  const detection = options.detection ?? (await detectBackend({ prefer: policy.backend }));
  if (detection.backend === null) throw new SandboxUnavailableError(detection.message);
  const notes: string[] = [];
  if (detection.backend !== policy.backend) {
    notes.push(`policy asked for ${policy.backend}; using ${detection.backend}`);
    policy = { ...policy, backend: detection.backend };
  }
  const privileged = options.privileged ?? process.getuid?.() === 0;
  const runtime = await resolveRuntime(policy.runner, policy.command);
  const payload = runnerPayload(policy, runtime, { signatureInputs: options.signatureInputs, inputValues: options.inputValues });
  notes.push(...payload.notes);
  const runtimeMounts = runtime.readOnlyMounts.filter((m) => !policy.readOnlyMounts.includes(m));
  if (runtimeMounts.length) policy = { ...policy, readOnlyMounts: [...policy.readOnlyMounts, ...runtimeMounts] };

  let tools = options.tools ?? observerTools();
  if (tools.strace && detection.backend === 'bubblewrap') {
    const ok = await straceUsable(detection.path, tools.strace, privileged);
    if (ok !== true) {
      notes.push(`strace cannot trace inside the sandbox here (${ok.split('\n')[0]}); system calls are not observed`);
      tools = { ...tools, strace: null };
    }
  }
  if (!tools.strace) notes.push('strace not available: attempted system calls are not recorded');
  if (!tools.time) notes.push('GNU time not available: CPU time and peak memory come from /proc sampling only (approximate)');
  const runUid = privileged ? options.runUid ?? pickRunUid() : SANDBOX_UID;
  notes.push(
    privileged
      ? `running as host root: the sandbox stays in the host user namespace and the model runs as uid ${runUid} (an unused uid of its own) ` +
          'with no capabilities (setpriv), so file permissions and the process limit apply to it alone'
      : `user namespace: the model runs as uid ${SANDBOX_UID} inside, mapped to the invoking user`,
  );
  // as root the model runs under an unrelated uid: inputs it cannot read are copied (symlinks kept
  // as links, never followed; only files, dirs and links) into the run dir and the copy is bound
  const copies: PreparedRun['copies'] = [];
  const sources: { model?: string; checkpointDir?: string } = {};
  if (privileged) {
    const layout = sandboxLayout(policy);
    const checkpoint = insideCheckpoint(policy);
    const inputs: [keyof typeof sources, string | null | undefined][] = [['model', policy.modelPath], ['checkpointDir', checkpoint?.mountDir]];
    for (const [key, from] of inputs) {
      if (!from) continue;
      const bad = unreadableForSandboxUser(from, runUid);
      if (!bad.length) continue;
      const to = join(layout.runRoot, 'inputs', key, basename(from));
      copies.push({ from, to });
      sources[key] = to;
      notes.push(`${from} is not readable by the sandbox uid ${runUid} (${bad.slice(0, 3).join(', ')}): a readable copy is bound read-only instead`);
    }
  }
  const command = sandboxCommand(policy, payload.argv, {
    backendPath: detection.path,
    privileged,
    runUid,
    observers: observerArgv(tools),
    env: payload.env,
    binds: payload.binds,
    runnerFiles: payload.files,
    sources,
  });
  return { copies, runUid, policy, command, runtime, tools, privileged, backendVersion: detection.version, notes, nonce: payload.nonce };
}

/** A copy the sandbox uid can read: dirs 0755, files 0644, symlinks copied as links, other kinds skipped. */
function readableCopy(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  cpSync(from, to, {
    recursive: true,
    dereference: false,
    verbatimSymlinks: true,
    filter: (source) => {
      const st = lstatSync(source);
      return st.isFile() || st.isDirectory() || st.isSymbolicLink();
    },
  });
  const fix = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    chmodSync(path, st.isDirectory() ? 0o755 : 0o644);
    if (st.isDirectory()) for (const name of readdirSync(path)) fix(join(path, name));
  };
  fix(to);
}

function writeRunFiles(command: SandboxCommand): void {
  for (const dir of command.directories) {
    mkdirSync(dir.path, { recursive: true, mode: dir.mode });
    chmodSync(dir.path, dir.mode);
    if (dir.owner !== null) chownSync(dir.path, dir.owner, dir.owner);
  }
  for (const file of command.configFiles) writeFileSync(file.path, file.content, { mode: 0o644 });
}

export interface RunOptions extends PrepareOptions {
  onOutput?(stream: 'stdout' | 'stderr', chunk: string): void;
  signal?: AbortSignal;
  runId?: string;
  /** Called with the sandbox's host pid once spawned. */
  onSpawn?(pid: number): void;
}

const TAIL_BYTES = 16 * 1024;
const MAX_TRACE_BYTES = 64 * 1024 * 1024;

function appendTail(tail: string, chunk: string): string {
  const joined = tail + chunk;
  return joined.length > TAIL_BYTES ? joined.slice(joined.length - TAIL_BYTES) : joined;
}

function killTree(rootPid: number, knownPids: number[]): void {
  const pids = new Set([...processTree(rootPid), ...knownPids]);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  try {
    process.kill(-rootPid, 'SIGKILL');
  } catch {
    // group gone
  }
}

const activeRuns = new Set<{ pid: number }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // bwrap --die-with-parent covers a crash of this process; this covers a normal exit
  process.on('exit', () => {
    for (const run of activeRuns) killTree(run.pid, []);
  });
}

export async function runSandbox(policy: SandboxPolicy, options: RunOptions = {}): Promise<SandboxRunReport> {
  const prepared = await prepareRun(policy, options);
  return launchPrepared(prepared, options);
}

export async function launchPrepared(prepared: PreparedRun, options: RunOptions = {}): Promise<SandboxRunReport> {
  const { policy, command } = prepared;
  const notes = [...prepared.notes];
  const layout = sandboxLayout(policy);
  writeRunFiles(command);
  for (const copy of prepared.copies) readableCopy(copy.from, copy.to);
  const before = await snapshotDir(layout.scratch);
  const startedAt = new Date().toISOString();
  const started = process.hrtime.bigint();

  installExitHook();
  const child = spawn(command.argv[0]!, command.argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: {} });
  const entry = { pid: child.pid ?? -1 };
  if (child.pid) activeRuns.add(entry);
  if (child.pid) options.onSpawn?.(child.pid);
  const sampler = child.pid ? new TreeSampler(child.pid) : null;
  sampler?.start();

  let stdoutTail = '';
  let stderrTail = '';
  const events = new RunnerEventCollector(prepared.nonce);
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    stdoutTail = appendTail(stdoutTail, chunk);
    events.push(chunk);
    options.onOutput?.('stdout', chunk);
  });
  child.stderr!.on('data', (chunk: string) => {
    stderrTail = appendTail(stderrTail, chunk);
    options.onOutput?.('stderr', chunk);
  });

  let timedOut = false;
  let stopped = false;
  const kill = () => {
    if (child.pid) {
      sampler?.sample();
      killTree(child.pid, sampler?.lastPids ?? []);
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, policy.limits.wallSeconds * 1000);
  const onAbort = () => {
    stopped = true;
    kill();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  sampler?.stop();
  activeRuns.delete(entry);
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (exit.error) notes.push(`could not start ${command.argv[0]}: ${exit.error.message}`);

  const rusage = prepared.tools.time ? parseRusage(readIfExists(join(layout.observeDir, RUSAGE_FILE.slice(INSIDE.observe.length + 1))) ?? '') : null;
  let exitCode: number | null = exit.code;
  let signal: string | null = exit.signal;
  if (timedOut || stopped) {
    exitCode = null;
    signal = 'SIGKILL';
    notes.push(timedOut ? `wall-time limit of ${policy.limits.wallSeconds} s reached: the whole process tree was killed` : 'stopped by the auditor: the whole process tree was killed');
  } else if (rusage) {
    exitCode = rusage.exitCode;
    signal = rusage.signal;
  } else if (exit.code !== null && exit.code > 128 && exit.code < 128 + 65) {
    exitCode = null;
    signal = signalName(exit.code - 128);
    notes.push(`exit status ${exit.code} from the sandbox read as ${signal}`);
  }
  if (signal === 'SIGXCPU') notes.push(`CPU-time limit of ${policy.limits.cpuSeconds} s reached`);
  if (signal === 'SIGXFSZ') notes.push(`file-size limit of ${policy.limits.fileSizeMb} MB reached`);

  const after = await snapshotDir(layout.scratch);
  const filesWritten = diffSnapshots(before, after, (rel) => (rel === 'tmp' || rel.startsWith('tmp/') ? `${INSIDE.tmp}/${rel.slice(4)}` : `${INSIDE.scratch}/${rel}`));

  let syscalls: SandboxRunReport['syscalls'] = [];
  if (prepared.tools.strace) {
    const log = readIfExists(join(layout.observeDir, STRACE_LOG.slice(INSIDE.observe.length + 1)));
    if (log === null) notes.push('no strace log was written (the sandbox did not start the payload)');
    else {
      if (log.length > MAX_TRACE_BYTES) notes.push(`strace log truncated to ${MAX_TRACE_BYTES} bytes for parsing`);
      syscalls = straceObservations(log.slice(0, MAX_TRACE_BYTES), {
        quietPrefixes: ['/usr', '/lib', '/lib64', '/lib32', '/bin', '/sbin', '/etc/ld.so.cache', '/etc/localtime', ...policy.readOnlyMounts],
        wrapperPrograms: ['strace', 'time', 'prlimit', 'setpriv'],
        phaseMarker: phaseMarkerPrefix(prepared.nonce),
      });
    }
  }

  const cpuSeconds = rusage ? rusage.cpuSeconds : sampler ? sampler.cpuSeconds() : null;
  if (!rusage && sampler) notes.push('CPU time sampled from /proc every 200 ms (a lower bound)');
  const peaks = [rusage?.maxRssMb ?? 0, sampler?.peakTreeRssMb ?? 0, sampler?.peakProcessHwmMb ?? 0];
  const peak = Math.max(...peaks);
  notes.push(
    'peak memory: the larger of the sandbox tree\'s total resident memory (sampled every 200 ms) and the largest single process peak (getrusage)',
  );
  notes.push(`files in filesWritten are shown as seen inside the sandbox; the host copies are under ${layout.scratch}`);

  return {
    runId: options.runId ?? randomUUID(),
    policy,
    command: command.argv,
    startedAt,
    exitCode,
    signal,
    timedOut,
    wallSeconds: Math.round(wallSeconds * 1000) / 1000,
    cpuSeconds: cpuSeconds === null ? null : Math.round(cpuSeconds * 100) / 100,
    peakMemoryMb: peak > 0 ? Math.round(peak * 10) / 10 : null,
    filesWritten,
    syscalls,
    notes,
    stdoutTail,
    stderrTail,
    ...events.report(),
  };
}

/**
 * Policy for the app / web host: detects the backend and the runner's runtime (their mounts),
 * then derives the policy from the findings. A missing runtime does not throw here: the policy
 * says so in its rationale and launching reports the error.
 */
export async function planSandboxPolicy(input: Omit<PolicyInput, 'runner' | 'backend'> & { command?: string[] }): Promise<SandboxPolicy> {
  const detection = await detectBackend();
  const runner = input.overrides.runner ?? 'tf-python';
  let readOnlyMounts: string[] = [];
  let missing: string | null = null;
  try {
    readOnlyMounts = (await resolveRuntime(runner, input.command)).readOnlyMounts;
  } catch (error) {
    if (!(error instanceof RunnerUnavailableError)) throw error;
    missing = error.message;
  }
  const policy = derivePolicy({ ...input, runner: { command: input.command, readOnlyMounts }, backend: detection.backend ?? 'bubblewrap' });
  if (detection.backend === null) policy.rationale.unshift(`Cannot launch: ${detection.message}`);
  if (missing) policy.rationale.unshift(`Cannot launch with runner ${runner}: ${missing}`);
  return policy;
}

/** Deletes a finished run's private directory (scratch, observation logs, generated files). */
export function removeRunFiles(policy: SandboxPolicy): void {
  rmSync(sandboxLayout(policy).runRoot, { recursive: true, force: true });
}

/** Runs launched from the app or the web host: runId → run, with live events. */
export class SandboxManager extends EventEmitter {
  private readonly running = new Map<string, AbortController>();
  private readonly reports = new Map<string, SandboxRunReport>();

  constructor(private readonly defaults: PrepareOptions = {}) {
    super();
  }

  /**
   * Starts a run and returns its id at once. Progress arrives as `event` (SandboxEvent) on the
   * manager, and to `listener` (this run's events only) when one is given.
   */
  launch(policy: SandboxPolicy, listener?: ((event: SandboxEvent) => void) | PrepareOptions, options: PrepareOptions = {}): string {
    const onEvent = typeof listener === 'function' ? listener : null;
    const prepare = typeof listener === 'object' && listener !== null ? listener : options;
    const runId = randomUUID();
    const controller = new AbortController();
    this.running.set(runId, controller);
    const emit = (event: SandboxEvent) => {
      onEvent?.(event);
      this.emit('event', event);
    };
    runSandbox(policy, {
      ...this.defaults,
      ...prepare,
      runId,
      signal: controller.signal,
      onOutput: (stream, data) => emit({ runId, type: stream, data }),
    })
      .then((report) => {
        this.running.delete(runId);
        this.reports.set(runId, report);
        emit({ runId, type: 'exit', report });
      })
      .catch((error: unknown) => {
        this.running.delete(runId);
        emit({ runId, type: 'error', message: error instanceof Error ? error.message : String(error) });
      });
    return runId;
  }

  /** Kills the run's whole process tree; false when no such run is active. */
  stop(runId: string): boolean {
    const controller = this.running.get(runId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  isRunning(runId: string): boolean {
    return this.running.has(runId);
  }

  report(runId: string): SandboxRunReport | undefined {
    return this.reports.get(runId);
  }

  /** Resolves with the final report (or rejects with the run's error). */
  wait(runId: string): Promise<SandboxRunReport> {
    const done = this.reports.get(runId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const listener = (event: SandboxEvent) => {
        if (event.runId !== runId) return;
        if (event.type === 'exit') {
          this.off('event', listener);
          resolve(event.report);
        } else if (event.type === 'error') {
          this.off('event', listener);
          reject(new Error(event.message));
        }
      };
      this.on('event', listener);
    });
  }

  stopAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }
}
