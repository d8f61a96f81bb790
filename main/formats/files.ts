// The files that make up a model, with size and sha256 (streamed, never read whole).
// Symlinks are followed only when they resolve inside the model root.
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createReadStream } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { FileEntry } from '../../shared/ir.ts';
import { LIMITS, ModelError, asModelError } from './errors.ts';
import { byteProgress } from './progress.ts';

export async function sha256File(file: string, onBytes?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolvePromise, reject) => {
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk) => {
      hash.update(chunk);
      onBytes?.(chunk.length);
    });
    stream.on('error', reject);
    stream.on('end', () => resolvePromise());
  });
  return hash.digest('hex');
}

/** A file a reader already holds in memory: its size, and its sha256 being computed. */
export interface HeldFile {
  size: number;
  /** null when hashing in memory failed: the file is then hashed from disk. */
  sha256: Promise<string | null>;
}

/**
 * Files at least this big are hashed on a worker thread while the main thread decodes. A
 * thread costs 50-100 ms of CPU to start, on the core the GC's helpers use too: for the 27 MB
 * saved_model.pb of the 400k-node bench, hashing it here (26 ms) was as fast and took 50 ms
 * less CPU; from about 64 MB on, the thread wins. Tests lower it.
 */
export const HASH_OFF_THREAD = { minBytes: 64 * 1024 * 1024 };

const HASH_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.postMessage(createHash('sha256').update(new Uint8Array(workerData)).digest('hex'));
`;

/**
 * Starts the sha256 of bytes a reader holds (a saved_model.pb about to be decoded), so the
 * file is neither read nor hashed twice. Bytes in a SharedArrayBuffer (readProtoFile puts big
 * files there) are hashed on a worker thread, on the other core, while the main thread
 * decodes them: the thread sees the same memory, nothing is copied. Smaller files are hashed
 * here and now. A failed thread yields null and the file is hashed from disk instead.
 */
export function hashHeldBytes(bytes: Uint8Array): HeldFile {
  if (bytes.length < HASH_OFF_THREAD.minBytes || !(bytes.buffer instanceof SharedArrayBuffer)) {
    return { size: bytes.length, sha256: Promise.resolve(createHash('sha256').update(bytes).digest('hex')) };
  }
  return { size: bytes.length, sha256: hashOnThread(bytes.buffer, bytes.byteOffset, bytes.length) };
}

function hashOnThread(shared: SharedArrayBuffer, offset: number, length: number): Promise<string | null> {
  return new Promise((resolvePromise) => {
    let worker: Worker;
    try {
      const view = offset === 0 && length === shared.byteLength ? shared : shared.slice(offset, offset + length);
      worker = new Worker(HASH_WORKER_SOURCE, { eval: true, workerData: view });
    } catch {
      resolvePromise(null);
      return;
    }
    let settled = false;
    const settle = (value: string | null) => {
      if (settled) return;
      settled = true;
      resolvePromise(value);
      void worker.terminate();
    };
    worker.once('message', (hex: unknown) => settle(typeof hex === 'string' && /^[0-9a-f]{64}$/.test(hex) ? hex : null));
    worker.once('error', () => settle(null));
    worker.once('exit', () => settle(null));
  });
}

async function sha256Of(file: string, size: number, held: HeldFile | undefined, onBytes?: (bytes: number) => void): Promise<string> {
  const known = held && held.size === size ? await held.sha256 : null;
  if (known !== null) {
    onBytes?.(size);
    return known;
  }
  return sha256File(file, onBytes);
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}

function inside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

/**
 * Regular files under `root` (or `root` itself when it is a file), sorted by path. At most
 * LIMITS.maxDirectoryEntries are listed; problems are appended to `warnings`. Files the caller
 * already holds (`held`, by absolute path) are not read again: their hash is already under way.
 */
export async function listModelFiles(root: string, warnings: string[], hash = true, held: ReadonlyMap<string, HeldFile> = new Map()): Promise<FileEntry[]> {
  return (await startModelFileListing(root, warnings, hash, held)).entries();
}

/** A model's files, walked; their hashes under way. */
export interface ModelFileListing {
  /** The entries with their sha256, once every hash is done. */
  entries(): Promise<FileEntry[]>;
  /** Stops hashing (the model failed to open): entries() is not called then. */
  cancel(): void;
}

/**
 * Walks the model's files now (warnings appended now) and starts hashing them: files of
 * HASH_OFF_THREAD.minBytes or more are read and hashed by one worker thread, so a reader that
 * decodes the graph meanwhile has the other core hash a multi-gigabyte checkpoint for it.
 */
export async function startModelFileListing(root: string, warnings: string[], hash = true, held: ReadonlyMap<string, HeldFile> = new Map()): Promise<ModelFileListing> {
  const found = await walkModelFiles(root, warnings);
  const single = found.length === 1 && found[0]!.abs === root;
  const total = found.reduce((n, f) => n + f.size, 0);
  const hashed = byteProgress('parse', 'hashing model files', total);
  const onThread = hash ? found.filter((f) => f.size >= HASH_OFF_THREAD.minBytes && !(held.get(f.abs)?.size === f.size)).map((f) => f.abs) : [];
  const thread = onThread.length > 0 ? hashFilesOnThread(onThread, hashed) : null;
  return {
    cancel: () => thread?.cancel(),
    entries: async () => {
      const entries: FileEntry[] = [];
      for (const f of found) {
        let sha256 = '';
        if (hash) {
          try {
            sha256 = await hashOf(f, thread?.results.get(f.abs), held.get(f.abs), hashed);
          } catch (error) {
            if (single) throw error; // a model that is one unreadable file is not listed with a warning
            warnings.push(`${f.abs}: cannot read (${(error as Error).message})`);
          }
        }
        entries.push({ path: f.path, size: f.size, sha256 });
      }
      return entries;
    },
  };
}

async function hashOf(f: FoundFile, fromThread: Promise<ThreadHash | null> | undefined, held: HeldFile | undefined, onBytes: (bytes: number) => void): Promise<string> {
  const result = fromThread ? await fromThread : null;
  if (result === null) return sha256Of(f.abs, f.size, held, onBytes);
  if ('error' in result) throw new Error(result.error);
  return result.hex;
}

interface FoundFile {
  path: string;
  size: number;
  abs: string;
}

async function walkModelFiles(root: string, warnings: string[]): Promise<FoundFile[]> {
  const rootInfo = await stat(root);
  if (!rootInfo.isDirectory()) return [{ path: basename(root), size: rootInfo.size, abs: root }];
  const realRoot = await realpath(root);
  const found: FoundFile[] = [];
  const queue: string[] = [root];
  let seen = 0;
  let truncated = false;
  while (queue.length > 0 && !truncated) {
    const dir = queue.shift()!;
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (error) {
      warnings.push(`${dir}: cannot list directory (${(error as Error).message})`);
      continue;
    }
    for (const name of names) {
      if (++seen > LIMITS.maxDirectoryEntries) {
        warnings.push(`${root}: more than ${LIMITS.maxDirectoryEntries} entries; the file list is cut short`);
        truncated = true;
        break;
      }
      const abs = join(dir, name);
      let info = await lstat(abs).catch(() => null);
      if (!info) continue;
      if (info.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => null);
        if (!target || !inside(realRoot, target)) {
          warnings.push(`${abs}: symbolic link pointing outside the model (${target ?? 'dangling'}) not followed`);
          continue;
        }
        info = await stat(abs).catch(() => null);
        if (!info || info.isDirectory()) continue; // directories reached by links inside the root are listed via their real path
      }
      if (info.isDirectory()) queue.push(abs);
      else if (info.isFile()) found.push({ path: toPosix(relative(root, abs)), size: info.size, abs });
    }
  }
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return found;
}

type ThreadHash = { hex: string } | { error: string };

const FILE_HASH_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const chunk = Buffer.allocUnsafe(1 << 20);
workerData.forEach((path, index) => {
  try {
    const hash = createHash('sha256');
    const fd = openSync(path, 'r');
    try {
      for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
        hash.update(chunk.subarray(0, n));
        parentPort.postMessage({ index, bytes: n });
      }
    } finally {
      closeSync(fd);
    }
    parentPort.postMessage({ index, hex: hash.digest('hex') });
  } catch (error) {
    parentPort.postMessage({ index, error: String((error && error.message) || error) });
  }
});
`;

/**
 * sha256 of files, read and hashed one after another by a worker thread. A file the thread
 * could not hash resolves to null (hashed from disk here instead), one it could not read to
 * its error.
 */
function hashFilesOnThread(paths: string[], onBytes: (bytes: number) => void): { results: Map<string, Promise<ThreadHash | null>>; cancel: () => void } {
  const resolvers: ((value: ThreadHash | null) => void)[] = [];
  const results = new Map<string, Promise<ThreadHash | null>>();
  for (const path of paths) results.set(path, new Promise((resolvePromise) => resolvers.push(resolvePromise)));
  const settleAll = () => resolvers.forEach((settle) => settle(null));
  let worker: Worker;
  try {
    worker = new Worker(FILE_HASH_WORKER_SOURCE, { eval: true, workerData: paths });
  } catch {
    settleAll();
    return { results, cancel: () => {} };
  }
  let done = 0;
  worker.on('message', (message: { index: number; bytes?: number; hex?: string; error?: string }) => {
    const settle = resolvers[message.index];
    if (!settle) return;
    if (typeof message.bytes === 'number') onBytes(message.bytes);
    else if (typeof message.hex === 'string' && /^[0-9a-f]{64}$/.test(message.hex)) settle({ hex: message.hex });
    else settle({ error: typeof message.error === 'string' ? message.error : 'hashing failed' });
    if (message.bytes === undefined && ++done === paths.length) void worker.terminate();
  });
  worker.once('error', settleAll);
  worker.once('exit', settleAll); // settling twice is a no-op: anything unanswered is hashed here
  return { results, cancel: () => void worker.terminate() };
}

/** The names in a model directory, refusing directories too large to be a model. */
export async function readDirectoryBounded(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw asModelError(dir, error, 'cannot list directory');
  }
  if (names.length > LIMITS.maxDirectoryEntries) throw new ModelError(dir, `directory has more than ${LIMITS.maxDirectoryEntries} entries`);
  return names;
}
