// A registry audit, host-neutral: hashes each discovered model, answers from the cache when an
// identical model was already analysed under the same tool version, policy, TensorFlow runtime and
// checkpoint remaps, otherwise sends
// it to the analyzer (the worker pool), and turns each outcome into one RegistryEntry as soon as
// it is known. A model that cannot be read, crashes its worker or times out is an error entry;
// the batch goes on.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { SEVERITY_RANK, type Severity } from '../../shared/findings.ts';
import { emptyCounts, worstSeverity, type RegistryEntry } from '../../shared/registry.ts';
import { countBySeverity } from '../../shared/report.ts';
import type { AnalyseRequest, AnalyseResult } from '../worker/analyse.ts';
import type { DiscoveredModel } from './registry-discovery.ts';
import { ApiFailure } from './errors.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';

export interface HashedModel {
  sha256: string;
  files: { path: string; size: number; sha256: string }[];
}

function toRelative(root: string, path: string): string {
  const rel = relative(root, path);
  return rel === '' ? '.' : rel.split(sep).join('/');
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

/** SHA-256 of every file of the model; the model's own hash as RegistryEntry.sha256 documents it. */
export async function hashModel(root: string, model: DiscoveredModel): Promise<HashedModel> {
  const files: HashedModel['files'] = [];
  for (const file of model.files) {
    files.push({ path: toRelative(root, file), size: statSync(file).size, sha256: await sha256File(file) });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (files.length === 1 && model.files[0] === model.path) return { sha256: files[0]!.sha256, files };
  const manifest = files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
  return { sha256: createHash('sha256').update(manifest).digest('hex'), files };
}

/** How every model of a run is analysed besides its own files: part of the cache key. */
export interface AnalysisSettings {
  /** TensorFlow release the models are assessed for (`--tf-runtime`), null for none. */
  tfRuntime?: string | null;
  /** `--checkpoint-map OLD=NEW` scope remaps, in the order given. */
  checkpointMaps?: string[];
}

/**
 * What makes a cached result valid: the model's bytes, where it was read from, the tool, the
 * policy, the runtime assessed and the checkpoint remaps. A result for another runtime (or none)
 * or other remaps is another result. Settings left at their default add nothing to the key, so
 * caches written before they existed stay valid for runs without them.
 */
export function cacheKey(model: DiscoveredModel, hashed: HashedModel, policySha256: string | null, settings: AnalysisSettings = {}): string {
  const maps = settings.checkpointMaps ?? [];
  const key = JSON.stringify({
    tool: `${TOOL_NAME} ${TOOL_VERSION}`,
    policy: policySha256,
    ...(settings.tfRuntime ? { tfRuntime: settings.tfRuntime } : {}),
    ...(maps.length > 0 ? { checkpointMaps: maps } : {}),
    // findings name the model and checkpoint paths, so the same bytes elsewhere are analysed again
    path: model.path,
    checkpoints: model.checkpoints,
    files: hashed.files,
  });
  return createHash('sha256').update(key).digest('hex');
}

/** Finished entries by cache key, one JSON file each, written atomically. */
export class RegistryCache {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  get(key: string): RegistryEntry | null {
    const file = this.file(key);
    if (!existsSync(file)) return null;
    try {
      const entry = JSON.parse(readFileSync(file, 'utf8')) as RegistryEntry;
      return entry && entry.status === 'ok' && Array.isArray(entry.findings) ? entry : null;
    } catch {
      return null; // a torn or foreign file is a miss, never an answer
    }
  }

  put(key: string, entry: RegistryEntry): void {
    if (entry.status !== 'ok') return; // a crash or timeout may not repeat: try again next time
    const file = this.file(key);
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(entry));
    renameSync(temp, file);
  }
}

export function entryFromResult(root: string, model: DiscoveredModel, hashed: HashedModel, result: AnalyseResult, seconds: number): RegistryEntry {
  const report = result.report;
  return {
    path: model.relativePath,
    format: report.model.format,
    sha256: hashed.sha256,
    status: 'ok',
    maxSeverity: worstSeverity(report.findings),
    counts: countBySeverity(report.findings),
    findings: report.findings,
    errors: report.errors,
    seconds,
    checkpoints: model.checkpoints.map((c) => toRelative(root, c)),
    files: hashed.files,
    tool: report.tool,
    analysis: report.analysis,
    tensorflowVersion: report.model.tensorflowVersion,
  };
}

export function entryFromFailure(root: string, model: DiscoveredModel, hashed: HashedModel | null, error: unknown, seconds: number): RegistryEntry {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiFailure ? error.code : 'internal';
  return {
    path: model.relativePath,
    format: model.format,
    sha256: hashed?.sha256 ?? '',
    status: 'error',
    maxSeverity: null,
    counts: emptyCounts(),
    findings: [],
    errors: [{ file: model.path, message: code === 'unreadable-model' ? message : `${code}: ${message}` }],
    seconds,
    checkpoints: model.checkpoints.map((c) => toRelative(root, c)),
    files: hashed?.files ?? [],
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    analysis: null,
    tensorflowVersion: null,
  };
}

export interface RegistryScanOptions {
  root: string;
  models: DiscoveredModel[];
  /** Runs one analysis (the worker pool in production); `onStart` when a worker takes it. */
  analyse: (request: AnalyseRequest, onStart?: () => void) => Promise<AnalyseResult>;
  /** Models in flight at once (hashing, waiting for or in a worker). */
  concurrency: number;
  policy?: string | null;
  /** TensorFlow release every model is assessed for (`--tf-runtime`). */
  tfRuntime?: string | null;
  /** `--checkpoint-map OLD=NEW` remaps applied to every model's checkpoints. */
  checkpointMaps?: string[];
  cache?: RegistryCache | null;
  /** Called once per model, in completion order. */
  onEntry: (entry: RegistryEntry) => void;
}

export function policyDigest(policy: string | null | undefined): string | null {
  return policy ? createHash('sha256').update(readFileSync(policy)).digest('hex') : null;
}

async function scanOne(options: RegistryScanOptions, model: DiscoveredModel, policySha256: string | null): Promise<RegistryEntry> {
  // The model's own time: hashing plus its analysis, not the wait for a free worker.
  let started = performance.now();
  let hashingMs = 0;
  const seconds = () => Math.round(hashingMs + performance.now() - started) / 1000;
  let hashed: HashedModel | null = null;
  try {
    hashed = await hashModel(options.root, model);
    hashingMs = performance.now() - started;
    started = performance.now();
  } catch (error) {
    return entryFromFailure(options.root, model, null, new ApiFailure('unreadable-model', `${model.path}: cannot read (${(error as Error).message})`), seconds());
  }
  const settings: AnalysisSettings = { tfRuntime: options.tfRuntime ?? null, checkpointMaps: options.checkpointMaps ?? [] };
  const key = options.cache ? cacheKey(model, hashed, policySha256, settings) : null;
  const cached = key ? options.cache!.get(key) : null;
  if (cached) return { ...cached, path: model.relativePath, seconds: seconds(), cached: true };
  try {
    const request: AnalyseRequest = {
      model: model.path,
      checkpoints: model.checkpoints,
      policy: options.policy ?? null,
      ...(settings.tfRuntime ? { tfRuntime: settings.tfRuntime } : {}),
      ...(settings.checkpointMaps!.length > 0 ? { checkpointMaps: settings.checkpointMaps } : {}),
    };
    const result = await options.analyse(request, () => {
      started = performance.now();
    });
    const entry = entryFromResult(options.root, model, hashed, result, seconds());
    if (key) options.cache!.put(key, entry);
    return entry;
  } catch (error) {
    return entryFromFailure(options.root, model, hashed, error, seconds());
  }
}

/** Audits every model, `concurrency` at a time; resolves when all have an entry. */
export async function scanRegistry(options: RegistryScanOptions): Promise<void> {
  const policySha256 = policyDigest(options.policy);
  let next = 0;
  const lane = async () => {
    while (next < options.models.length) {
      const model = options.models[next++]!;
      options.onEntry(await scanOne(options, model, policySha256));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, lane));
}

/** Exit status of a registry audit: 1 some model at/above the threshold, 2 none but some unreadable, else 0. */
export function registryExitCode(entries: Pick<RegistryEntry, 'status' | 'maxSeverity'>[], threshold: Severity): 0 | 1 | 2 {
  if (entries.some((e) => e.maxSeverity !== null && SEVERITY_RANK[e.maxSeverity] >= SEVERITY_RANK[threshold])) return 1;
  return entries.some((e) => e.status === 'error') ? 2 : 0;
}
