// Runs one analysis in a fresh analyzer worker process with a memory cap and a timeout, inside
// the OS sandbox when one is available. A worker that crashes, runs out of memory or times out
// rejects with an ApiFailure; the calling process (CLI, web host) keeps running.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { basename, dirname, resolve } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import type { AnalyseRequest, AnalyseResult, InspectResult } from '../worker/analyse.ts';
import { analyzerV8Flags, PROTOCOL_PREFIX, type WorkerMessage, type WorkerUsage } from '../worker/protocol.ts';
import { ApiFailure } from './errors.ts';
import { isolatedNodeCommand } from '../sandbox/analyzer-isolation.ts';

/** Set by scripts/build.mjs in the compiled CLI: the worker bundle built beside it. */
declare const __TFAUDIT_WORKER_BUNDLE__: string | undefined;

const HERE = dirname(fileURLToPath(import.meta.url));
/** The compiled worker beside the compiled CLI; from the sources, the TypeScript entry through tsx. */
export const ANALYZER_ENTRY =
  typeof __TFAUDIT_WORKER_BUNDLE__ === 'string' ? resolve(HERE, __TFAUDIT_WORKER_BUNDLE__) : resolve(HERE, '..', 'worker', 'analyzer-entry.mjs');
export const REPO_ROOT = resolve(HERE, '..', '..');

export interface WorkerOptions {
  memoryMb: number;
  timeoutMs: number;
  /** 'auto': isolate when a sandbox backend is available; 'off': plain child process. */
  isolation: 'auto' | 'off';
  onProgress?: (message: WorkerMessage & { type: 'progress' }) => void;
  /** The worker's own figures (peak RSS, CPU, phases); when set, the answer waits for them. */
  onUsage?: (usage: WorkerUsage) => void;
  /** Worker entry script (default: ANALYZER_ENTRY; the app passes its bundle). */
  entry?: string;
  /** Node binary (default: this process's). */
  nodePath?: string;
  /** Code mounted read-only into the sandbox (default: this checkout). */
  codeRoot?: string;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = { memoryMb: 4096, timeoutMs: 10 * 60_000, isolation: 'auto' };

interface LaunchPlan {
  argv: string[];
  isolated: boolean;
  description: string;
}

export function planWorker(request: AnalyseRequest, options: WorkerOptions): LaunchPlan {
  const entry = options.entry ?? ANALYZER_ENTRY;
  const plain: LaunchPlan = {
    argv: [options.nodePath ?? process.execPath, ...analyzerV8Flags(options.memoryMb), entry],
    isolated: false,
    description: 'analysis ran in a separate worker process without an OS sandbox',
  };
  const inputs = [mountableInput(request.model), ...companionFiles(request.model), ...request.checkpoints.map(mountableInput)];
  if (request.policy) inputs.push(mountableInput(request.policy));
  if (options.isolation === 'off') return plain;
  const isolated = isolatedNodeCommand({
    script: entry,
    args: [],
    nodePath: options.nodePath,
    codeRoot: options.codeRoot,
    nodeOptions: analyzerV8Flags(options.memoryMb),
    readOnlyPaths: inputs.map((p) => resolve(p)),
    memoryMb: options.memoryMb + 512,
    timeoutSeconds: Math.ceil(options.timeoutMs / 1000),
  });
  if (!isolated.isolated) return { ...plain, description: `${plain.description} (${isolated.reason})` };
  return { argv: isolated.argv, isolated: true, description: isolated.description };
}

/** Files the readers open beside the model: a TF1 `.meta`'s own checkpoint (`<prefix>.index`, `.data-*`). */
function companionFiles(modelPath: string): string[] {
  const absolute = resolve(modelPath);
  if (!absolute.endsWith('.meta')) return [];
  const prefix = basename(absolute).slice(0, -'.meta'.length);
  try {
    return readdirSync(dirname(absolute))
      .filter((name) => name === prefix || name === `${prefix}.index` || name.startsWith(`${prefix}.data-`))
      .map((name) => resolve(dirname(absolute), name));
  } catch {
    return [];
  }
}

/**
 * What the sandbox must show for an input: the path itself, or for a checkpoint prefix
 * (`model.ckpt-1000`, naming `.index`/`.data-*` files beside it) its folder. A path that names
 * nothing is refused here, with the same message the readers would give.
 */
export function mountableInput(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return absolute;
  const folder = dirname(absolute);
  const prefix = basename(absolute);
  let siblings: string[] = [];
  try {
    siblings = readdirSync(folder);
  } catch {
    // folder missing too
  }
  if (siblings.some((name) => name.startsWith(`${prefix}.`))) return folder;
  throw new ApiFailure('unreadable-model', `${path}: no such file or directory`);
}

export function runAnalysisWorker(request: AnalyseRequest & { mode: 'inspect' }, options?: WorkerOptions): Promise<InspectResult>;
export function runAnalysisWorker(request: AnalyseRequest, options?: WorkerOptions): Promise<AnalyseResult>;
export function runAnalysisWorker(request: AnalyseRequest, options: WorkerOptions = DEFAULT_WORKER_OPTIONS): Promise<AnalyseResult | InspectResult> {
  const plan = planWorker(request, options);
  const fullRequest: AnalyseRequest = { ...request, isolation: { isolated: plan.isolated, description: plan.description } };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(plan.argv[0]!, plan.argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd: options.codeRoot ?? REPO_ROOT, detached: false, env: workerEnv(plan) });
    let settled = false;
    let stderr = '';
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    /**
     * Once answered, the worker only flushes and exits: this process need not stay up for that
     * (the CLI ends as soon as its report is out). An isolated worker dies with its parent
     * (bwrap --die-with-parent), a plain one is at its last write.
     */
    const answered = (result: AnalyseResult | InspectResult) =>
      finish(() => {
        for (const handle of [child, child.stdin, child.stdout, child.stderr]) (handle as { unref?: () => void } | null)?.unref?.();
        resolvePromise(result);
      });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new ApiFailure('timeout', `analysis of ${request.model} took longer than ${Math.round(options.timeoutMs / 1000)} s and was stopped`)));
    }, options.timeoutMs);
    // With onUsage, the result is held until the usage line that follows it (or the exit).
    let heldResult: { result: AnalyseResult | InspectResult } | null = null;
    const lines = new ProtocolLineReader((line) => {
      if (!line.startsWith(PROTOCOL_PREFIX)) return;
      const message = JSON.parse(line.slice(PROTOCOL_PREFIX.length)) as WorkerMessage;
      if (message.type === 'progress') options.onProgress?.(message);
      else if (message.type === 'usage') {
        options.onUsage?.(message.usage);
        if (heldResult) answered(heldResult.result);
      } else if (message.type === 'result') {
        if (options.onUsage) heldResult = { result: message.result };
        else answered(message.result);
      } else if (message.type === 'error') finish(() => reject(new ApiFailure('unreadable-model', message.error.file ? `${message.error.file}: ${message.error.message}` : message.error.message)));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        lines.push(chunk);
      } catch (error) {
        child.kill('SIGKILL');
        finish(() => reject(new ApiFailure('worker-crashed', `analyzer worker sent an unreadable answer for ${request.model}: ${(error as Error).message}`)));
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (error) => finish(() => reject(new ApiFailure('worker-crashed', `analyzer worker could not start: ${error.message}`))));
    child.on('close', (code, signal) => {
      if (heldResult) {
        const { result } = heldResult;
        finish(() => resolvePromise(result));
      }
      finish(() => {
        const oom = /heap out of memory|Allocation failed/i.test(stderr);
        const why = oom ? `ran out of memory (limit ${options.memoryMb} MB)` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new ApiFailure('worker-crashed', `analyzer worker ${why} while reading ${request.model}${stderr && !oom ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      });
    });
    child.stdin.end(JSON.stringify(fullRequest));
  });
}


/**
 * The worker's environment. Under bwrap it is cleared anyway (--clearenv); a plain worker inherits
 * this process's, less NODE_EXTRA_CA_CERTS: Node 20 reads that CA file at every start (~40 ms
 * here) and the worker never opens a TLS connection.
 */
function workerEnv(plan: LaunchPlan): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (!plan.isolated) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * Splits a byte stream into lines without rescanning what it already holds: only each new chunk
 * is searched for a newline, so a line of tens of megabytes costs linear time.
 */
export class ProtocolLineReader {
  private pending: Buffer[] = [];

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(10, start)) >= 0) {
      this.pending.push(chunk.subarray(start, newline));
      const line = Buffer.concat(this.pending).toString('utf8');
      this.pending = [];
      this.onLine(line);
      start = newline + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }
}
