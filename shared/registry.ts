// A registry audit: one line per model found under a folder (`tfaudit scan DIR --recursive`,
// `--format jsonl`, the app's registry view). Each line carries the model's findings as the
// single-model JSON report has them, so merged shard files render the same reports as one run.
import type { Finding, ReportError, ScanReport, Severity } from './findings.ts';
import { SEVERITIES, SEVERITY_RANK } from './findings.ts';

export type RegistryModelFormat = 'saved-model' | 'graph-def' | 'meta-graph' | 'keras' | 'keras-h5' | 'tflite' | 'checkpoint';

export interface RegistryEntry {
  /** The model's path relative to the registry root, `/`-separated (`.` when the root is the model). */
  path: string;
  format: string;
  /**
   * A single-file model without extra checkpoints: that file's SHA-256. Otherwise the SHA-256 of
   * its manifest: every file of the model and its checkpoints as `<sha256>  <path>\n` lines,
   * sorted by path (paths relative to the registry root).
   */
  sha256: string;
  status: 'ok' | 'error';
  /** Worst finding severity, null when there is none (or the model could not be read). */
  maxSeverity: Severity | null;
  counts: Record<Severity, number>;
  /** The same objects as `scan --format json` reports. */
  findings: Finding[];
  errors: ReportError[];
  seconds: number;
  /** Checkpoints evaluated besides the model's own (relative to the registry root). */
  checkpoints: string[];
  /** Every file hashed for this model (relative to the registry root). */
  files: { path: string; size: number; sha256: string }[];
  tool: { name: string; version: string };
  /** The single-model report's `analysis` (how and where it ran); null when it did not run. */
  analysis: ScanReport['analysis'] | null;
  tensorflowVersion: string | null;
  /** True when the result came from the cache instead of a fresh analysis. */
  cached?: boolean;
}

export interface RegistryTotals {
  models: number;
  ok: number;
  errors: number;
  bySeverity: Record<Severity, number>;
  /** Models whose worst finding is at or above the threshold. */
  atOrAbove: number;
}

export function emptyCounts(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
}

export function worstSeverity(findings: Finding[]): Severity | null {
  let worst: Severity | null = null;
  for (const f of findings) if (worst === null || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}

export function registryTotals(entries: RegistryEntry[], threshold: Severity): RegistryTotals {
  const bySeverity = emptyCounts();
  let ok = 0;
  let atOrAbove = 0;
  for (const e of entries) {
    if (e.status === 'ok') ok++;
    if (e.maxSeverity) bySeverity[e.maxSeverity]++;
    if (e.maxSeverity && SEVERITY_RANK[e.maxSeverity] >= SEVERITY_RANK[threshold]) atOrAbove++;
  }
  return { models: entries.length, ok, errors: entries.length - ok, bySeverity, atOrAbove };
}

/** Verdict of one model row: what an auditor acts on. */
export function entryVerdict(entry: RegistryEntry, threshold: Severity): 'unsafe' | 'review' | 'clean' | 'unreadable' {
  if (entry.status === 'error') return 'unreadable';
  if (entry.maxSeverity && SEVERITY_RANK[entry.maxSeverity] >= SEVERITY_RANK[threshold]) return 'unsafe';
  if (entry.maxSeverity && entry.maxSeverity !== 'info') return 'review';
  return 'clean';
}

/** Sort key comparison for registry rows: worst first, then path. */
export function compareEntries(a: RegistryEntry, b: RegistryEntry): number {
  const rank = (e: RegistryEntry) => (e.status === 'error' ? 2.5 : e.maxSeverity ? SEVERITY_RANK[e.maxSeverity] : -1);
  return rank(b) - rank(a) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** The TensorFlow runtime a model was assessed for (`--tf-runtime`), null when none was given or it was not analysed. */
export function entryRuntime(entry: RegistryEntry): string | null {
  return entry.analysis?.tensorflowRuntime ?? null;
}

/**
 * The runtimes the analysed models were assessed for, as one answer: `runtime` when every
 * analysed model was assessed for the same release, `mixed` listing each release ('none' for
 * models assessed without one) when merged shard runs disagree.
 */
export function assessedRuntimes(entries: RegistryEntry[]): { runtime: string | null; mixed: string[] | null } {
  const seen = new Set(entries.filter((e) => e.analysis).map((e) => entryRuntime(e) ?? 'none'));
  if (seen.size <= 1) {
    const only = [...seen][0];
    return { runtime: only && only !== 'none' ? only : null, mixed: null };
  }
  return { runtime: null, mixed: [...seen].sort() };
}

/** One line for reports: which TensorFlow release the known-advisory findings were judged for. */
export function runtimeSentence(entries: RegistryEntry[]): string | null {
  const { runtime, mixed } = assessedRuntimes(entries);
  if (mixed) return `TensorFlow runtimes assessed differ between models: ${mixed.join(', ')} (known advisories are judged per model)`;
  return runtime ? `TensorFlow runtime assessed: ${runtime}` : null;
}
