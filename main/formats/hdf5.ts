// Thin, defensive wrapper over jsfive (pure-JS HDF5 reader) for Keras .h5 files and the
// model.weights.h5 inside .keras archives: root attributes and the dataset tree (shape and dtype
// only; dataset values are never read). jsfive trusts its input: a corrupted B-tree can make it
// loop or allocate without bound. So it runs in a worker thread with a memory cap and a deadline
// (terminated when either is hit), sizes are checked before the bytes reach it, the walk is
// bounded (objects, depth, cycles), and every exception it throws (often a bare string) becomes a
// ModelError naming the file.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ModelError } from './errors.ts';

export interface Hdf5Dataset {
  path: string;
  dtype: string;
  shape: number[];
}

export interface Hdf5Summary {
  rootAttrs: Record<string, unknown>;
  /** Attributes of groups, by group path (only groups that carry some). */
  groupAttrs: Record<string, Record<string, unknown>>;
  datasets: Hdf5Dataset[];
  groups: number;
  /** Non-fatal problems (soft links skipped, unsupported attribute types). */
  warnings: string[];
}

export interface Hdf5Limits {
  maxBytes: number;
  maxObjects: number;
  maxDepth: number;
  /** Wall-clock budget for the whole read; the worker is terminated when it runs out. */
  maxMillis: number;
  /** Heap of the worker thread (the file bytes themselves are outside it). */
  maxHeapMb: number;
}

export const HDF5_LIMITS: Hdf5Limits = {
  maxBytes: 2 * 1024 * 1024 * 1024 - 1,
  maxObjects: 200_000,
  maxDepth: 64,
  maxMillis: 30_000,
  maxHeapMb: 512,
};

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Reads the structure of an HDF5 file held in memory. `file` names it in errors. */
export async function readHdf5(bytes: Uint8Array, file: string, limits: Partial<Hdf5Limits> = {}): Promise<Hdf5Summary> {
  const lim = { ...HDF5_LIMITS, ...limits };
  if (bytes.length > lim.maxBytes) throw new ModelError(file, `HDF5 file of ${bytes.length} bytes exceeds the ${lim.maxBytes}-byte limit`);
  if (!isHdf5(bytes)) throw new ModelError(file, 'not an HDF5 file (no HDF5 signature at offset 0)');
  if (bytes.length < 96) throw new ModelError(file, `malformed HDF5: only ${bytes.length} bytes, shorter than a superblock`);
  let jsfive: string;
  try {
    jsfive = createRequire(import.meta.url).resolve('jsfive');
  } catch (error) {
    throw new ModelError(file, `HDF5 reader unavailable: ${(error as Error).message}`);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const reply = await runWorker(file, { jsfive, buffer, limits: { maxObjects: lim.maxObjects, maxDepth: lim.maxDepth, maxMillis: lim.maxMillis } }, lim);
  if ('error' in reply) throw new ModelError(file, reply.error);
  return { ...reply.summary, warnings: reply.summary.warnings.map((w) => `${file}: ${w}`) };
}

type WorkerReply = { summary: Hdf5Summary } | { error: string };

function runWorker(file: string, data: { jsfive: string; buffer: ArrayBuffer; limits: Pick<Hdf5Limits, 'maxObjects' | 'maxDepth' | 'maxMillis'> }, lim: Hdf5Limits): Promise<WorkerReply> {
  return new Promise((resolvePromise, reject) => {
    let done = false;
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: data,
        transferList: [data.buffer],
        resourceLimits: { maxOldGenerationSizeMb: lim.maxHeapMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 },
        stdout: true,
        stderr: true,
        execArgv: [],
      });
    } catch (error) {
      reject(new ModelError(file, `HDF5 reader could not start: ${(error as Error).message}`));
      return;
    }
    const finish = (outcome: WorkerReply | ModelError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      if (outcome instanceof ModelError) reject(outcome);
      else resolvePromise(outcome);
    };
    const timer = setTimeout(() => finish(new ModelError(file, `malformed HDF5: reading the structure took longer than ${lim.maxMillis} ms (stopped)`)), lim.maxMillis + 1000);
    worker.on('message', (reply: WorkerReply) => finish(reply));
    worker.on('error', (error: Error & { code?: string }) =>
      finish(new ModelError(file, error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `malformed HDF5: reading the structure needed more than ${lim.maxHeapMb} MB (stopped)` : `malformed HDF5: ${error.message}`)),
    );
    worker.on('exit', (code) => finish(new ModelError(file, `malformed HDF5: reader stopped (exit code ${code})`)));
  });
}

// The worker: plain CommonJS (it runs outside the TypeScript/ESM loader), reading through jsfive
// and posting back plain data. Its console is captured: jsfive reports unsupported types there.
const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const notes = [];
const note = (...args) => { if (notes.length < 100) notes.push(args.map(String).join(' ').slice(0, 300)); };
console.log = console.warn = console.info = console.error = console.debug = note;
const { jsfive, buffer, limits } = workerData;
const utf8 = new TextDecoder('utf-8', { fatal: false });
const MAX_ITEMS = 100000;

function describe(error) {
  if (error instanceof RangeError) return 'offset out of range (' + error.message + ')';
  if (error instanceof TypeError && /thing is not a function/.test(error.message)) return 'structure check failed';
  if (error instanceof Error) return error.message;
  return String(error).slice(0, 300);
}

function plain(value, depth) {
  if (depth > 8) return null;
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  // Fixed-length HDF5 strings are NUL-padded; h5py (and Keras) strip the padding.
  if (typeof value === 'string') return value.replace(/\0+$/, '');
  if (value instanceof Uint8Array) return utf8.decode(value).replace(/\0+$/, '');
  if (ArrayBuffer.isView(value)) return Array.from(value).slice(0, MAX_ITEMS).map((v) => plain(v, depth + 1));
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((v) => plain(v, depth + 1));
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'object') return String(value);
  return null;
}

function plainAttrs(attrs) {
  const out = {};
  for (const [key, value] of Object.entries(attrs || {})) if (key !== '__proto__') out[key] = plain(value, 0);
  return out;
}

function numpyDtype(dtype) {
  if (typeof dtype !== 'string') {
    try { return JSON.stringify(dtype).slice(0, 200); } catch { return String(dtype); }
  }
  const m = /^[<>=|!]?([fiub])(\d+)$/.exec(dtype);
  if (!m) return dtype;
  const bits = Number(m[2]) * 8;
  return ({ f: 'float' + bits, i: 'int' + bits, u: 'uint' + bits, b: 'bool' })[m[1]] || dtype;
}

function run() {
  const hdf5 = require(jsfive);
  const started = Date.now();
  let root;
  try { root = new hdf5.File(buffer, 'model.h5'); } catch (e) { return { error: 'malformed HDF5: ' + describe(e) }; }
  const summary = { rootAttrs: {}, groupAttrs: {}, datasets: [], groups: 0, warnings: [] };
  try { summary.rootAttrs = plainAttrs(root.attrs); } catch (e) { return { error: 'malformed HDF5 root attributes: ' + describe(e) }; }
  const visited = new Set();
  let objects = 0;
  const queue = [{ group: root, path: '', depth: 0 }];
  while (queue.length > 0) {
    const { group, path, depth } = queue.shift();
    let links;
    try { links = Object.entries(group._links || {}); } catch (e) { return { error: 'malformed HDF5 group "' + (path || '/') + '": ' + describe(e) }; }
    for (const [name, target] of links) {
      const childPath = path ? path + '/' + name : name;
      if (typeof target === 'string') { summary.warnings.push('HDF5 soft link "' + childPath + '" -> "' + target + '" not followed'); continue; }
      if (visited.has(target)) continue;
      visited.add(target);
      if (++objects > limits.maxObjects) return { error: 'HDF5 file has more than ' + limits.maxObjects + ' objects' };
      if (Date.now() - started > limits.maxMillis) return { error: 'malformed HDF5: reading the structure took longer than ' + limits.maxMillis + ' ms' };
      let child;
      try { child = group.get(name); } catch (e) { return { error: 'malformed HDF5 object "' + childPath + '": ' + describe(e) }; }
      if (child instanceof hdf5.Dataset) {
        try {
          summary.datasets.push({ path: childPath, dtype: numpyDtype(child.dtype), shape: (child.shape || []).map(Number) });
        } catch (e) { return { error: 'malformed HDF5 dataset "' + childPath + '": ' + describe(e) }; }
      } else if (child instanceof hdf5.Group) {
        summary.groups++;
        if (depth + 1 > limits.maxDepth) return { error: 'HDF5 groups nested deeper than ' + limits.maxDepth };
        try {
          const attrs = plainAttrs(child.attrs);
          if (Object.keys(attrs).length > 0) summary.groupAttrs[childPath] = attrs;
        } catch (e) { summary.warnings.push('attributes of HDF5 group "' + childPath + '" unreadable: ' + describe(e)); }
        queue.push({ group: child, path: childPath, depth: depth + 1 });
      }
    }
  }
  for (const n of notes) summary.warnings.push('jsfive: ' + n);
  return { summary };
}

let reply;
try { reply = run(); } catch (e) { reply = { error: 'malformed HDF5: ' + describe(e) }; }
parentPort.postMessage(reply);
`;
