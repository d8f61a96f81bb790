// Messages between the analyzer worker and its parent.
import type { AnalyseResult, InspectResult } from './analyse.ts';

export const PROTOCOL_PREFIX = '@@tfaudit-worker ';

export type WorkerMessage =
  | { type: 'progress'; stage: 'parse' | 'analyse'; message: string; fraction?: number | null }
  | { type: 'result'; result: AnalyseResult | InspectResult }
  /** Sent right after the result, so the peak includes encoding the answer. */
  | { type: 'usage'; usage: WorkerUsage }
  | { type: 'error'; error: { file: string; message: string } }
  /** Serving mode only: the worker takes its next request; sent at start and after each answer. */
  | { type: 'ready'; rssBytes: number };

/** What one analysis cost the worker process, measured by the worker itself. */
export interface WorkerUsage {
  /** Peak resident set size of the worker process (getrusage ru_maxrss), MB. */
  peakRssMb: number;
  /** User + system CPU time of the worker process, ms. */
  cpuMs: number;
  /** Time from the process start to the answer, ms. */
  wallMs: number;
  /** When the worker process started, ms since the epoch (performance.timeOrigin): lets the parent split its wait. */
  startedAt?: number;
  /** Where the worker's time went, ms: start-up (process start → request), parse, analyse, summary, encode. */
  phases: Record<string, number>;
  /** CPU time (user + system) of the same phases, ms. */
  cpuPhases: Record<string, number>;
  /**
   * How the compiled worker's bundle was compiled (main/worker/code-cache-loader.cjs): from the V8
   * code cache written at build time (`accepted`), from source because V8 refused the cache
   * (`rejected`), it was made for another bundle, V8 or flags (`stale`), or there is none
   * (`absent`). Not set when the worker runs from the TypeScript sources.
   */
  codeCache?: CodeCacheStatus;
}

export type CodeCacheStatus = 'accepted' | 'rejected' | 'stale' | 'absent';
