// A pool of long-lived analyzer workers for batch audits: each worker serves one model at a
// time over stdio (`analyzer --serve`), so a registry of hundreds of models pays process start
// and sandbox set-up once per worker, not once per model. Isolation is as for one-shot workers:
// bubblewrap when usable, the same heap cap, and a per-model time limit kept by the parent. A
// worker sees only the registry root (mounted read-only once when it starts).
//
// A model that crashes its worker, exhausts its memory or runs past the limit fails alone: its
// request is rejected, the worker is killed and a fresh one takes the next model. Workers are
// recycled after `recycleAfter` models or once their resident memory passes `recycleRssMb`, so
// memory stays flat however many models the batch holds.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import type { AnalyseRequest, AnalyseResult } from '../worker/analyse.ts';
import { analyzerV8Flags, PROTOCOL_PREFIX, type WorkerMessage } from '../worker/protocol.ts';
import { ApiFailure } from './errors.ts';
import { ANALYZER_ENTRY, ProtocolLineReader, REPO_ROOT, type WorkerOptions } from './worker-client.ts';
import { isolatedNodeCommand } from '../sandbox/analyzer-isolation.ts';

export interface PoolOptions extends WorkerOptions {
  /** Workers running at once. */
  size: number;
  /** Folders/files every worker may read (the registry root, a policy file). */
  readOnlyRoots: string[];
  /** Retire a worker after this many models. */
  recycleAfter: number;
  /** Retire a worker whose resident memory passed this after a model. */
  recycleRssMb: number;
}

export const DEFAULT_RECYCLE = { recycleAfter: 50, recycleRssMb: 1536 };
/** A worker that has not said `ready` by then is not going to. */
const STARTUP_LIMIT_MS = 60_000;
/** Workers in a row that die before their first `ready`: the pool gives up instead of respawning forever. */
const MAX_START_FAILURES = 3;

export interface PoolStats {
  started: number;
  recycled: number;
  /** Workers lost to a crash, a memory cap or a timeout. */
  failed: number;
  /** Largest resident memory a worker reported, bytes. */
  peakWorkerRssBytes: number;
}

interface Job {
  request: AnalyseRequest;
  /** Called when a worker takes the job (queue time is not the model's time). */
  onStart?: () => void;
  resolve: (result: AnalyseResult) => void;
  reject: (error: ApiFailure) => void;
}

export interface ServeLaunch {
  argv: string[];
  isolated: boolean;
  description: string;
}

/** The command line of one serving worker: isolated under bwrap when possible. */
export function planServeWorker(options: PoolOptions): ServeLaunch {
  const entry = options.entry ?? ANALYZER_ENTRY;
  const plain: ServeLaunch = {
    argv: [options.nodePath ?? process.execPath, ...analyzerV8Flags(options.memoryMb), entry, '--serve'],
    isolated: false,
    description: 'analysis ran in a separate long-lived worker process without an OS sandbox',
  };
  if (options.isolation === 'off') return plain;
  // The kernel limits bound the worker's whole life: its per-model limit times the models it may serve.
  const lifetimeSeconds = Math.ceil(options.timeoutMs / 1000) * options.recycleAfter + 60;
  const isolated = isolatedNodeCommand({
    script: entry,
    args: ['--serve'],
    nodePath: options.nodePath,
    codeRoot: options.codeRoot,
    nodeOptions: analyzerV8Flags(options.memoryMb),
    readOnlyPaths: options.readOnlyRoots.map((p) => resolve(p)),
    memoryMb: options.memoryMb + 512,
    timeoutSeconds: lifetimeSeconds,
  });
  if (!isolated.isolated) return { ...plain, description: `${plain.description} (${isolated.reason})` };
  return {
    argv: isolated.argv,
    isolated: true,
    description: `${isolated.description.replace(/, \d+ s limit$/, '')}, ${Math.ceil(options.timeoutMs / 1000)} s limit per model`,
  };
}

class PoolWorker {
  readonly child: ChildProcessWithoutNullStreams;
  served = 0;
  rssBytes = 0;
  ready = false;
  /** Said `ready` at least once: a worker that dies before that could not start at all. */
  started = false;
  current: { job: Job; timer: NodeJS.Timeout } | null = null;
  private readonly startTimer: NodeJS.Timeout;
  dead = false;
  retiring = false;
  private stderr = '';

  constructor(
    private readonly pool: WorkerPool,
    readonly launch: ServeLaunch,
    cwd: string,
  ) {
    this.child = spawn(launch.argv[0]!, launch.argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], cwd });
    const startSeconds = Math.ceil(Math.min(pool.options.timeoutMs, STARTUP_LIMIT_MS) / 1000);
    this.startTimer = setTimeout(() => this.fail('worker-crashed', `analyzer worker did not start within ${startSeconds} s`), startSeconds * 1000);
    const lines = new ProtocolLineReader((line) => {
      if (!line.startsWith(PROTOCOL_PREFIX)) return;
      this.onMessage(JSON.parse(line.slice(PROTOCOL_PREFIX.length)) as WorkerMessage);
    });
    this.child.stdout.on('data', (chunk: Buffer) => {
      try {
        lines.push(chunk);
      } catch (error) {
        this.fail('worker-crashed', `analyzer worker sent an unreadable answer: ${(error as Error).message}`);
      }
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.child.stdin.on('error', () => {
      // the worker died with a request in its pipe: 'close' reports it
    });
    this.child.on('error', (error) => this.fail('worker-crashed', `analyzer worker could not start: ${error.message}`));
    this.child.on('close', (code, signal) => {
      const oom = /heap out of memory|Allocation failed/i.test(this.stderr);
      const why = oom ? `ran out of memory (limit ${this.pool.options.memoryMb} MB)` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const tail = this.stderr && !oom ? `: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}` : '';
      this.fail('worker-crashed', `analyzer worker ${why}${tail}`);
    });
  }

  assign(job: Job): void {
    const timer = setTimeout(() => {
      this.fail('timeout', `analysis of ${job.request.model} took longer than ${Math.round(this.pool.options.timeoutMs / 1000)} s and was stopped`);
    }, this.pool.options.timeoutMs);
    this.current = { job, timer };
    this.ready = false;
    job.onStart?.();
    const request: AnalyseRequest = { ...job.request, isolation: { isolated: this.launch.isolated, description: this.launch.description } };
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'ready') {
      this.rssBytes = message.rssBytes;
      this.ready = true;
      this.started = true;
      clearTimeout(this.startTimer);
      this.pool.workerReady(this);
      return;
    }
    // The worker's own figures follow each answer; the pool has no use for them yet.
    if (message.type === 'usage') return;
    const current = this.current;
    if (!current) return;
    if (message.type === 'progress') {
      this.pool.options.onProgress?.(message);
      return;
    }
    clearTimeout(current.timer);
    this.current = null;
    this.served++;
    if (message.type === 'result') current.job.resolve(message.result as AnalyseResult);
    else current.job.reject(new ApiFailure('unreadable-model', message.error.file ? `${message.error.file}: ${message.error.message}` : message.error.message));
  }

  /** Ends the worker: the model it held (if any) fails with `message`. */
  fail(code: 'worker-crashed' | 'timeout', message: string): void {
    if (this.dead) return;
    this.dead = true;
    clearTimeout(this.startTimer);
    const current = this.current;
    this.current = null;
    if (current) {
      clearTimeout(current.timer);
      current.job.reject(new ApiFailure(code, code === 'timeout' ? message : `${message} while reading ${current.job.request.model}`));
    }
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.pool.workerGone(this, current !== null || !this.retiring, this.started ? null : message);
  }

  /** Lets the worker finish and exit on its own (stdin closed); killed if it lingers. */
  retire(): void {
    if (this.retiring || this.dead) return;
    this.retiring = true;
    this.child.stdin.end();
    setTimeout(() => {
      if (!this.dead) this.child.kill('SIGKILL');
    }, 5000).unref();
  }
}

export class WorkerPool {
  private readonly workers = new Set<PoolWorker>();
  private readonly queue: Job[] = [];
  private closed = false;
  private startFailures = 0;
  /** Why workers cannot start here (set after MAX_START_FAILURES in a row): every job fails with it. */
  private broken: string | null = null;
  readonly stats: PoolStats = { started: 0, recycled: 0, failed: 0, peakWorkerRssBytes: 0 };
  private launch: ServeLaunch | null = null;
  private readonly exited: Promise<void>[] = [];

  constructor(readonly options: PoolOptions) {
    if (options.size < 1) throw new ApiFailure('bad-request', 'the worker pool needs at least one worker');
  }

  /** How the workers are isolated (for reports and the run header). */
  get isolation(): { isolated: boolean; description: string } {
    this.launch ??= planServeWorker(this.options);
    return { isolated: this.launch.isolated, description: this.launch.description };
  }

  run(request: AnalyseRequest, onStart?: () => void): Promise<AnalyseResult> {
    if (this.closed) return Promise.reject(new ApiFailure('internal', 'worker pool is closed'));
    if (this.broken) return Promise.reject(new ApiFailure('worker-crashed', this.broken));
    return new Promise((resolvePromise, reject) => {
      this.queue.push({ request, onStart, resolve: resolvePromise, reject });
      this.dispatch();
    });
  }

  /** Stops every worker once the queue is empty; resolves when all have exited. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new ApiFailure('internal', 'worker pool closed'));
    for (const w of this.workers) {
      if (w.current) w.fail('worker-crashed', 'analyzer worker stopped: the batch was closed');
      else w.retire();
    }
    await Promise.all(this.exited);
  }

  workerReady(worker: PoolWorker): void {
    this.startFailures = 0;
    this.stats.peakWorkerRssBytes = Math.max(this.stats.peakWorkerRssBytes, worker.rssBytes);
    const o = this.options;
    if (worker.served >= o.recycleAfter || worker.rssBytes > o.recycleRssMb * 1024 * 1024) {
      this.stats.recycled++;
      this.workers.delete(worker);
      worker.retire();
    }
    this.dispatch();
  }

  workerGone(worker: PoolWorker, failed: boolean, startFailure: string | null): void {
    if (this.workers.delete(worker) && failed && !this.closed) this.stats.failed++;
    if (startFailure !== null && !this.closed && ++this.startFailures >= MAX_START_FAILURES) {
      this.broken = `analyzer workers cannot start (${this.startFailures} attempts): ${startFailure}`;
      for (const job of this.queue.splice(0)) job.reject(new ApiFailure('worker-crashed', this.broken));
    }
    this.dispatch();
  }

  private dispatch(): void {
    if (this.closed || this.broken) return;
    for (const w of this.workers) {
      if (this.queue.length === 0) return;
      if (w.ready && !w.current && !w.dead && !w.retiring) w.assign(this.queue.shift()!);
    }
    // Start workers for what is waiting, up to the pool size; each takes a job once ready.
    const starting = [...this.workers].filter((w) => !w.ready && !w.current).length;
    let wanted = Math.min(this.options.size - this.workers.size, this.queue.length - starting);
    while (wanted-- > 0) this.start();
  }

  private start(): void {
    this.launch ??= planServeWorker(this.options);
    const worker = new PoolWorker(this, this.launch, this.options.codeRoot ?? REPO_ROOT);
    this.stats.started++;
    this.workers.add(worker);
    this.exited.push(new Promise((done) => worker.child.once('close', () => done())));
  }
}
