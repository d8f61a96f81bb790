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

/**
 * Node/V8 flags of every analyzer worker, whoever starts it (CLI, web host, registry pool,
 * Electron). `--max-old-space-size` caps the heap. The old generation starts at the size a large
 * graph needs: the reader's graph (~200 MB for 400k nodes) is all live, so V8's default small
 * start makes it run a full mark-compact at each step of the heap's growth, ~50 ms of a 400k-node
 * scan, for nothing to free. Nearly everything the reader allocates survives into the old
 * generation, so a young generation of 8 MB (V8's default grows to 16) only shortens each
 * scavenge's copy and keeps it in cache: ~25 ms less on the same scan, and a smaller peak RSS.
 * The worker's V8 code cache is made under these same flags.
 */
export const INITIAL_OLD_SPACE_MB = 256;
export const MAX_SEMI_SPACE_MB = 8;

export function analyzerV8Flags(memoryMb: number): string[] {
  return [`--max-old-space-size=${memoryMb}`, `--initial-old-space-size=${Math.min(INITIAL_OLD_SPACE_MB, memoryMb)}`, `--max-semi-space-size=${MAX_SEMI_SPACE_MB}`];
}
