// One registry audit from start to end, for every host: discover the models under the root,
// keep this machine's shard, skip what a resumed run already has, and audit the rest on a pool of
// long-lived isolated workers, reporting each model's entry as it finishes.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { RegistryEntry } from '../../shared/registry.ts';
import type { AnalyseRequest, AnalyseResult } from '../worker/analyse.ts';
import { discoverModels, type DiscoveredModel, type Discovery } from './registry-discovery.ts';
import { RegistryCache, scanRegistry } from './registry-scan.ts';
import { inShard, type Shard } from './registry-shards.ts';
import { DEFAULT_RECYCLE, WorkerPool, type PoolStats } from './worker-pool.ts';
import { DEFAULT_WORKER_OPTIONS, type WorkerOptions } from './worker-client.ts';

export interface RegistryAuditOptions {
  root: string;
  /** Workers at once (default: the number of cores). */
  jobs?: number;
  worker?: Partial<WorkerOptions>;
  recycleAfter?: number;
  recycleRssMb?: number;
  policy?: string | null;
  /** TensorFlow release every model is assessed for (`--tf-runtime`). */
  tfRuntime?: string | null;
  /** `--checkpoint-map OLD=NEW` remaps for every model's checkpoints. */
  checkpointMaps?: string[];
  cacheDir?: string | null;
  shard?: Shard | null;
  /** Relative paths already audited (a resumed run): not audited again. */
  done?: Set<string>;
  /** Replaces the worker pool (tests, hosts with their own analyser). */
  analyse?: (request: AnalyseRequest) => Promise<AnalyseResult>;
  /** Once the models to audit are known. */
  onPlan?: (plan: RegistryPlan) => void;
  onEntry: (entry: RegistryEntry) => void;
}

export interface RegistryPlan {
  discovery: Discovery;
  /** Models this run audits (after the shard and the resume filter). */
  todo: DiscoveredModel[];
  /** Models of this shard a resumed run already had. */
  alreadyDone: number;
  isolation: { isolated: boolean; description: string };
}

export interface RegistryAuditResult {
  plan: RegistryPlan;
  pool: PoolStats | null;
  seconds: number;
}

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export async function runRegistryAudit(options: RegistryAuditOptions): Promise<RegistryAuditResult> {
  const started = performance.now();
  const root = resolve(options.root);
  const discovery = discoverModels(root);
  const mine = options.shard ? inShard(discovery.models, options.shard) : discovery.models;
  const todo = options.done ? mine.filter((m) => !options.done!.has(m.relativePath)) : mine;
  const jobs = options.jobs ?? defaultJobs();
  const workerOptions: WorkerOptions = { ...DEFAULT_WORKER_OPTIONS, ...options.worker };
  const pool = options.analyse
    ? null
    : new WorkerPool({
        ...workerOptions,
        size: Math.max(1, Math.min(jobs, todo.length)),
        readOnlyRoots: [root, ...(options.policy ? [resolve(options.policy)] : [])],
        recycleAfter: options.recycleAfter ?? DEFAULT_RECYCLE.recycleAfter,
        recycleRssMb: options.recycleRssMb ?? DEFAULT_RECYCLE.recycleRssMb,
      });
  const plan: RegistryPlan = {
    discovery,
    todo,
    alreadyDone: mine.length - todo.length,
    isolation: pool ? pool.isolation : { isolated: false, description: 'analysis by the host’s own analyser' },
  };
  options.onPlan?.(plan);
  try {
    await scanRegistry({
      root,
      models: todo,
      analyse: options.analyse ?? ((request, onStart) => pool!.run(request, onStart)),
      // a few more in flight than workers, so hashing the next models overlaps the analyses
      concurrency: jobs + 2,
      policy: options.policy ? resolve(options.policy) : null,
      tfRuntime: options.tfRuntime ?? null,
      checkpointMaps: options.checkpointMaps ?? [],
      cache: options.cacheDir ? new RegistryCache(options.cacheDir) : null,
      onEntry: options.onEntry,
    });
  } finally {
    await pool?.close();
  }
  return { plan, pool: pool?.stats ?? null, seconds: (performance.now() - started) / 1000 };
}
