// Splitting a registry audit across machines and putting it back together: a deterministic
// shard of the models by their path relative to the registry root, reading JSONL result files
// (to resume an interrupted run or to merge shard outputs), and the merge itself.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { assessedRuntimes, type RegistryEntry } from '../../shared/registry.ts';
import { ApiFailure } from './errors.ts';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** `i/n` with 1 ≤ i ≤ n. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new ApiFailure('bad-request', `--shard ${text}: expected i/n with 1 <= i <= n (e.g. 2/8)`);
  }
  return { index, count };
}

/**
 * The shard (1..n) a model belongs to: the first 48 bits of SHA-256 of its relative path, mod n.
 * Depends on nothing but the path, so every machine computes the same partition.
 */
export function shardOf(relativePath: string, count: number): number {
  const digest = createHash('sha256').update(relativePath, 'utf8').digest();
  return (digest.readUIntBE(0, 6) % count) + 1;
}

export function inShard<T extends { relativePath: string }>(models: T[], shard: Shard): T[] {
  return models.filter((m) => shardOf(m.relativePath, shard.count) === shard.index);
}

function isEntry(value: unknown): value is RegistryEntry {
  const e = value as RegistryEntry;
  return (
    typeof e === 'object' && e !== null && typeof e.path === 'string' && (e.status === 'ok' || e.status === 'error') &&
    Array.isArray(e.findings) && Array.isArray(e.errors) && typeof e.counts === 'object' && e.counts !== null
  );
}

/**
 * Entries of a JSONL result file. A last line cut short (the run was killed mid-write) is
 * dropped when `tolerateTornTail`; any other bad line is an error naming the file and line.
 */
export function readRegistryJsonl(file: string, tolerateTornTail: boolean): RegistryEntry[] {
  if (!existsSync(file)) throw new ApiFailure('unreadable-model', `${file}: no such file`);
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const entries: RegistryEntry[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const last = i === lines.length - 1; // no newline after it: the write did not finish
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (last && tolerateTornTail) return;
      throw new ApiFailure('bad-request', `${file}:${i + 1}: not a JSON line`);
    }
    if (!isEntry(value)) throw new ApiFailure('bad-request', `${file}:${i + 1}: not a tfaudit registry entry`);
    entries.push(value);
  });
  return entries;
}

/** Byte length of a JSONL file's complete lines: where a resumed run appends. */
export function completeLinesLength(file: string): number {
  if (!existsSync(file)) return 0;
  const bytes = readFileSync(file);
  const last = bytes.lastIndexOf(10);
  return last + 1;
}

/**
 * Combines shard outputs into one set of entries in path order. A model in two files must agree
 * (same hash, same outcome) unless one is an error and the other ok (a retry): the ok one wins.
 */
export function mergeEntries(sources: { file: string; entries: RegistryEntry[] }[]): { entries: RegistryEntry[]; warnings: string[] } {
  const byPath = new Map<string, { entry: RegistryEntry; file: string }>();
  const warnings: string[] = [];
  for (const { file, entries } of sources) {
    for (const entry of entries) {
      const seen = byPath.get(entry.path);
      if (!seen) {
        byPath.set(entry.path, { entry, file });
        continue;
      }
      if (seen.entry.status === 'error' && entry.status === 'ok') byPath.set(entry.path, { entry, file });
      else if (seen.entry.status === 'ok' && entry.status === 'error') continue;
      else if (seen.entry.sha256 !== entry.sha256) {
        warnings.push(`${entry.path}: different contents in ${seen.file} and ${file} (sha256 ${seen.entry.sha256.slice(0, 12)}… vs ${entry.sha256.slice(0, 12)}…); keeping the later`);
        byPath.set(entry.path, { entry, file });
      }
    }
  }
  const entries = [...byPath.values()].map((v) => v.entry).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const { mixed } = assessedRuntimes(entries);
  if (mixed) warnings.push(`the shards were assessed for different TensorFlow runtimes (${mixed.join(', ')}): known-vulnerability findings are judged per model; rerun with one --tf-runtime for a uniform report`);
  return { entries, warnings };
}
