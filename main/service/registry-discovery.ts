// Finds every model under a registry folder (a hub mirror, a TF Serving model base path, a
// training output tree) by walking it once, without parsing any model: SavedModel folders
// (TF Serving version folders included), GraphDef `.pb`/`.pbtxt`, `.meta`, `.keras`, `.h5`,
// `.tflite`, and the checkpoints that belong to each. A file inside a model is never listed as
// a model of its own. Symbolic links are not followed: a hostile tree cannot point the audit
// (or the sandbox mount) outside the folder the auditor named.
import { openSync, readSync, closeSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import type { RegistryModelFormat } from '../../shared/registry.ts';
import { ApiFailure } from './errors.ts';

export interface DiscoveredModel {
  /** Absolute path of the model (folder, file, or checkpoint prefix). */
  path: string;
  /** Relative to the registry root, `/`-separated; `.` when the root itself is the model. */
  relativePath: string;
  format: RegistryModelFormat;
  /** Extra checkpoint prefixes (absolute) evaluated with the model: a CheckpointManager folder, checkpoints beside a GraphDef. */
  checkpoints: string[];
  /** Every file that makes up the model and its checkpoints (absolute), sorted. */
  files: string[];
}

export interface DiscoveryLimits {
  maxDepth: number;
  maxEntries: number;
}

export interface Discovery {
  root: string;
  models: DiscoveredModel[];
  /** What was passed over and why (symbolic links, limits). */
  skipped: { path: string; reason: string }[];
}

export const DEFAULT_DISCOVERY_LIMITS: DiscoveryLimits = { maxDepth: 32, maxEntries: 2_000_000 };

const SAVED_MODEL_FILES = ['saved_model.pb', 'saved_model.pbtxt', 'saved_model.cpb'];
const CHECKPOINT_INDEX = /\.index$/;
const CHECKPOINT_SHARD = /\.data-\d{5}-of-\d{5}$/;
/** Files a SavedModel writes beside saved_model.pb: found loose, they are not models. */
const NOT_MODELS = new Set(['fingerprint.pb', 'keras_metadata.pb', 'saved_model_config.pb']);
const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

function modelFormatByName(name: string): RegistryModelFormat | null {
  const lower = name.toLowerCase();
  if (NOT_MODELS.has(lower)) return null;
  if (lower.endsWith('.meta')) return 'meta-graph';
  if (lower.endsWith('.pb') || lower.endsWith('.pbtxt')) return 'graph-def';
  if (lower.endsWith('.keras')) return 'keras';
  if (lower.endsWith('.h5') || lower.endsWith('.hdf5')) return 'keras-h5';
  if (lower.endsWith('.tflite')) return 'tflite';
  return null;
}

/**
 * A model whose name hides it (`model.bin`): HDF5 and TFLite are told by their magic bytes, so
 * a renamed Keras or TFLite file is still audited. Protobufs have no magic and are found by name.
 */
function modelFormatByContent(file: string): RegistryModelFormat | null {
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(8);
    const n = readSync(fd, head, 0, 8, 0);
    if (n === 8 && head.equals(HDF5_MAGIC)) return 'keras-h5';
    if (n === 8 && head.subarray(4, 8).toString('latin1') === 'TFL3') return 'tflite';
    return null;
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

function toRelative(root: string, path: string): string {
  const rel = relative(root, path);
  return rel === '' ? '.' : rel.split(sep).join('/');
}

class Walker {
  readonly models: DiscoveredModel[] = [];
  readonly skipped: { path: string; reason: string }[] = [];
  private entries = 0;

  constructor(
    private readonly root: string,
    private readonly limits: DiscoveryLimits,
  ) {}

  private list(dir: string): Dirent[] {
    let listing: Dirent[];
    try {
      listing = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      this.skipped.push({ path: dir, reason: `cannot list folder: ${(error as Error).message}` });
      return [];
    }
    this.entries += listing.length;
    if (this.entries > this.limits.maxEntries) {
      throw new ApiFailure('bad-request', `${this.root}: more than ${this.limits.maxEntries} entries; audit a smaller folder or raise the limit`);
    }
    return listing.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Every regular file under `dir` (links not followed), for hashing a SavedModel. */
  private filesUnder(dir: string, depth: number): string[] {
    if (depth > this.limits.maxDepth) {
      this.skipped.push({ path: dir, reason: `deeper than ${this.limits.maxDepth} folders` });
      return [];
    }
    const out: string[] = [];
    for (const e of this.list(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory()) out.push(...this.filesUnder(path, depth + 1));
      else if (e.isFile()) out.push(path);
      else if (e.isSymbolicLink()) this.skipped.push({ path, reason: 'symbolic link inside a model: not followed, not hashed' });
    }
    return out;
  }

  walk(dir: string, depth: number): void {
    if (depth > this.limits.maxDepth) {
      this.skipped.push({ path: dir, reason: `deeper than ${this.limits.maxDepth} folders` });
      return;
    }
    const listing = this.list(dir);
    const names = new Set(listing.map((e) => e.name));
    if (SAVED_MODEL_FILES.some((n) => names.has(n) && listing.find((e) => e.name === n)!.isFile())) {
      this.models.push(this.model(dir, 'saved-model', [], this.filesUnder(dir, depth)));
      return;
    }

    const fileModels: { path: string; format: RegistryModelFormat }[] = [];
    const checkpointFiles: string[] = [];
    const subfolders: string[] = [];
    const checkpointFolders: string[] = [];
    for (const e of listing) {
      const path = join(dir, e.name);
      if (e.isSymbolicLink()) {
        this.skipped.push({ path, reason: 'symbolic link: not followed' });
      } else if (e.isDirectory()) {
        if (this.isCheckpointFolder(path)) checkpointFolders.push(path);
        else subfolders.push(path);
      } else if (e.isFile()) {
        if (CHECKPOINT_INDEX.test(e.name) || CHECKPOINT_SHARD.test(e.name) || e.name === 'checkpoint') checkpointFiles.push(path);
        else {
          const format = modelFormatByName(e.name) ?? (NOT_MODELS.has(e.name.toLowerCase()) ? null : modelFormatByContent(path));
          if (format) fileModels.push({ path, format });
          else if (names.has(`${e.name}.meta`) || names.has(`${e.name}.index`)) checkpointFiles.push(path); // a V1 checkpoint named by its prefix
        }
      }
    }

    const prefixes = checkpointPrefixes(checkpointFiles);
    const claimed = new Set<string>();
    // A `.meta` owns the checkpoint written beside it under the same prefix.
    for (const m of fileModels.filter((m) => m.format === 'meta-graph')) {
      const prefix = m.path.slice(0, -'.meta'.length);
      if (prefixes.has(prefix)) claimed.add(prefix);
    }
    const loose = [...prefixes.keys()].filter((p) => !claimed.has(p)).sort();
    const folderPrefixes = checkpointFolders.map((folder) => ({ folder, prefixes: checkpointPrefixes(this.filesUnder(folder, depth + 1)) }));
    // Loose checkpoints and checkpoint folders belong to the folder's model when there is one model.
    const owner = fileModels.length === 1 ? fileModels[0]! : null;
    for (const m of fileModels) {
      const own = m.format === 'meta-graph' ? prefixes.get(m.path.slice(0, -'.meta'.length)) ?? [] : [];
      const extra = m === owner ? [...loose, ...folderPrefixes.flatMap((f) => [...f.prefixes.keys()].sort())] : [];
      const files = [m.path, ...own, ...(m === owner ? [...loose.flatMap((p) => prefixes.get(p)!), ...folderPrefixes.flatMap((f) => [...f.prefixes.values()].flat())] : [])];
      this.models.push(this.model(m.path, m.format, extra, files));
    }
    if (!owner) {
      // No single model to attach them to: each checkpoint is audited on its own.
      for (const prefix of loose) this.models.push(this.model(prefix, 'checkpoint', [], prefixes.get(prefix)!));
      for (const f of folderPrefixes) for (const [prefix, files] of [...f.prefixes].sort()) this.models.push(this.model(prefix, 'checkpoint', [], files));
    }
    for (const sub of subfolders) this.walk(sub, depth + 1);
  }

  /** A folder holding nothing but checkpoint files and a `checkpoint` state file (CheckpointManager output). */
  private isCheckpointFolder(dir: string): boolean {
    let listing: Dirent[];
    try {
      listing = readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    if (listing.length === 0) return false;
    let hasIndex = false;
    for (const e of listing) {
      if (!e.isFile()) return false;
      if (CHECKPOINT_INDEX.test(e.name)) hasIndex = true;
      else if (!CHECKPOINT_SHARD.test(e.name) && e.name !== 'checkpoint' && !e.name.endsWith('.tmp')) return false;
    }
    return hasIndex;
  }

  private model(path: string, format: RegistryModelFormat, checkpoints: string[], files: string[]): DiscoveredModel {
    return { path, relativePath: toRelative(this.root, path), format, checkpoints, files: [...new Set(files)].sort() };
  }
}

/** Checkpoint prefix → its files (`.index`, `.data-*`, or a V1 single file), from a list of files in one folder. */
function checkpointPrefixes(files: string[]): Map<string, string[]> {
  const byPrefix = new Map<string, string[]>();
  const state = files.filter((f) => basename(f) === 'checkpoint');
  for (const file of files) {
    let prefix: string | null = null;
    if (CHECKPOINT_INDEX.test(file)) prefix = file.slice(0, -'.index'.length);
    else if (CHECKPOINT_SHARD.test(file)) prefix = file.replace(CHECKPOINT_SHARD, '');
    else if (basename(file) !== 'checkpoint') prefix = file; // V1 checkpoint: the prefix is the file
    if (prefix === null) continue;
    const list = byPrefix.get(prefix) ?? [];
    list.push(file);
    byPrefix.set(prefix, list);
  }
  // A data shard without its index is not a checkpoint the readers can open.
  for (const [prefix, list] of byPrefix) if (!list.some((f) => CHECKPOINT_INDEX.test(f) || f === prefix)) byPrefix.delete(prefix);
  // The state file travels with the checkpoints of its folder (it says which is the latest).
  const first = [...byPrefix.values()][0];
  if (first && state.length > 0) first.push(...state);
  return byPrefix;
}

/** Walks `root` and lists its models in path order. `root` may itself be one model. */
export function discoverModels(root: string, limits: DiscoveryLimits = DEFAULT_DISCOVERY_LIMITS): Discovery {
  let info;
  try {
    info = statSync(root); // the folder the auditor named may be a link; links inside it are not followed
  } catch {
    throw new ApiFailure('unreadable-model', `${root}: no such file or directory`);
  }
  const walker = new Walker(root, limits);
  if (info.isDirectory()) walker.walk(root, 0);
  else if (info.isFile()) {
    const format = modelFormatByName(basename(root)) ?? modelFormatByContent(root);
    if (!format) throw new ApiFailure('bad-request', `${root}: --recursive needs a folder (or a model file)`);
    walker.models.push({ path: root, relativePath: '.', format, checkpoints: [], files: [root] });
  } else throw new ApiFailure('bad-request', `${root}: not a folder`);
  const models = walker.models.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  return { root, models, skipped: walker.skipped };
}
