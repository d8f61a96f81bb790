// The worker's own account of what an analysis cost it: peak RSS and CPU from getrusage (so
// the figure is the worker's alone, inside a sandbox too), and wall time split by phase.
import { performance } from 'node:perf_hooks';
import type { CodeCacheStatus, WorkerUsage } from './protocol.ts';

/** Wall time by phase: each lap() closes the phase that ran since the previous lap. */
export class PhaseClock {
  readonly phases: Record<string, number> = {};
  /** CPU time (user + system) by phase, ms: steadier than wall time on a busy machine. */
  readonly cpuPhases: Record<string, number> = {};
  private last: number;
  private lastCpu: number;

  /** `start` in performance.now() terms; 0 is the process start (CPU then counts from 0 too). */
  constructor(start = performance.now()) {
    this.last = start;
    this.lastCpu = start === 0 ? 0 : cpuMs();
  }

  lap(phase: string): void {
    const now = performance.now();
    const cpu = cpuMs();
    this.phases[phase] = (this.phases[phase] ?? 0) + (now - this.last);
    this.cpuPhases[phase] = (this.cpuPhases[phase] ?? 0) + (cpu - this.lastCpu);
    this.last = now;
    this.lastCpu = cpu;
  }
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

const round = (n: number) => Math.round(n * 10) / 10;

export function workerUsage(clock: PhaseClock): WorkerUsage {
  const usage = process.resourceUsage();
  const phases: Record<string, number> = {};
  for (const [name, ms] of Object.entries(clock.phases)) phases[name] = round(ms);
  const cpuPhases: Record<string, number> = {};
  for (const [name, ms] of Object.entries(clock.cpuPhases)) cpuPhases[name] = round(ms);
  return {
    peakRssMb: round(usage.maxRSS / 1024),
    cpuMs: round((usage.userCPUTime + usage.systemCPUTime) / 1000),
    // performance.now() counts from the process start (timeOrigin).
    wallMs: round(performance.now()),
    startedAt: round(performance.timeOrigin),
    phases,
    cpuPhases,
    ...(codeCacheStatus() ? { codeCache: codeCacheStatus() } : {}),
  };
}

/** Set by the compiled worker's loader (main/worker/code-cache-loader.cjs). */
function codeCacheStatus(): CodeCacheStatus | undefined {
  return (globalThis as Record<symbol, CodeCacheStatus | undefined>)[Symbol.for('tfaudit.codeCache')];
}
