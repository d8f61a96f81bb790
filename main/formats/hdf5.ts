// Thin, defensive wrapper over jsfive (pure-JS HDF5 reader) for Keras .h5 files and the
// model.weights.h5 inside .keras archives: root attributes and the dataset tree (shape and dtype),
// and, for comparing a weights file with a model, the values of chosen datasets within an element
// budget (compareHdf5Datasets). jsfive trusts its input: a corrupted B-tree can make it
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
  const jsfive = jsfivePath(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const reply = await runWorker<{ summary: Hdf5Summary }>(file, WORKER_SOURCE, { jsfive, buffer, limits: { maxObjects: lim.maxObjects, maxDepth: lim.maxDepth, maxMillis: lim.maxMillis } }, [buffer], lim);
  if ('error' in reply) throw new ModelError(file, reply.error);
  return { ...reply.summary, warnings: reply.summary.warnings.map((w) => `${file}: ${w}`) };
}

function jsfivePath(file: string): string {
  try {
    return createRequire(import.meta.url).resolve('jsfive');
  } catch (error) {
    throw new ModelError(file, `HDF5 reader unavailable: ${(error as Error).message}`);
  }
}

/** Bounds on reading dataset values for a comparison: counted in elements, per dataset and in total. */
export interface Hdf5CompareLimits {
  maxElementsPerDataset: number;
  maxTotalElements: number;
}

export const HDF5_COMPARE_LIMITS: Hdf5CompareLimits = { maxElementsPerDataset: 4_000_000, maxTotalElements: 32_000_000 };

/** One dataset of file A against one of file B; `elements` is the product of the (equal) shapes. */
export interface Hdf5ComparePair {
  a: string;
  b: string;
  elements: number;
}

export type Hdf5Comparison =
  | { compared: true; elementsChanged: number; elements: number; maxAbsDiff: number | null }
  | { compared: false; reason: string };

/**
 * Compares the values of dataset pairs of two HDF5 files (in one bounded worker, values never
 * leave it). A pair above the per-dataset or remaining total element budget, or whose values
 * cannot be read, is not compared and says why.
 */
export async function compareHdf5Datasets(a: { bytes: Uint8Array; file: string }, b: { bytes: Uint8Array; file: string }, pairs: Hdf5ComparePair[], limits: Partial<Hdf5CompareLimits & Hdf5Limits> = {}): Promise<Hdf5Comparison[]> {
  const lim = { ...HDF5_LIMITS, ...HDF5_COMPARE_LIMITS, ...limits };
  for (const f of [a, b]) {
    if (f.bytes.length > lim.maxBytes) throw new ModelError(f.file, `HDF5 file of ${f.bytes.length} bytes exceeds the ${lim.maxBytes}-byte limit`);
    if (!isHdf5(f.bytes) || f.bytes.length < 96) throw new ModelError(f.file, 'not an HDF5 file (no HDF5 signature at offset 0, or shorter than a superblock)');
  }
  const jsfive = jsfivePath(a.file);
  const copy = (bytes: Uint8Array) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const bufferA = copy(a.bytes);
  const bufferB = copy(b.bytes);
  const what = `${a.file} against ${b.file}`;
  const reply = await runWorker<{ results: Hdf5Comparison[] }>(what, COMPARE_SOURCE, { jsfive, bufferA, bufferB, pairs, limits: { maxElementsPerDataset: lim.maxElementsPerDataset, maxTotalElements: lim.maxTotalElements, maxMillis: lim.maxMillis } }, [bufferA, bufferB], lim, 'comparing weight values');
  if ('error' in reply) throw new ModelError(what, reply.error);
  return reply.results;
}

type WorkerReply<T> = T | { error: string };

function runWorker<T>(file: string, source: string, data: Record<string, unknown>, transferList: ArrayBuffer[], lim: Hdf5Limits, doing = 'reading the structure'): Promise<WorkerReply<T>> {
  return new Promise((resolvePromise, reject) => {
    let done = false;
    let worker: Worker;
    try {
      worker = new Worker(source, {
        eval: true,
        workerData: data,
        transferList,
        resourceLimits: { maxOldGenerationSizeMb: lim.maxHeapMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 },
        stdout: true,
        stderr: true,
        execArgv: [],
      });
    } catch (error) {
      reject(new ModelError(file, `HDF5 reader could not start: ${(error as Error).message}`));
      return;
    }
    const finish = (outcome: WorkerReply<T> | ModelError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void worker.terminate();
      if (outcome instanceof ModelError) reject(outcome);
      else resolvePromise(outcome);
    };
    const timer = setTimeout(() => finish(new ModelError(file, `malformed HDF5: ${doing} took longer than ${lim.maxMillis} ms (stopped)`)), lim.maxMillis + 1000);
    worker.on('message', (reply: WorkerReply<T>) => finish(reply));
    worker.on('error', (error: Error & { code?: string }) =>
      finish(new ModelError(file, error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `malformed HDF5: ${doing} needed more than ${lim.maxHeapMb} MB (stopped)` : `malformed HDF5: ${error.message}`)),
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

// The comparison worker: opens both files, reads each pair's values within the element budget and
// compares them element by element (NaN equals NaN, as a bitwise reload would keep it).
const COMPARE_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
console.log = console.warn = console.info = console.error = console.debug = () => {};
const { jsfive, bufferA, bufferB, pairs, limits } = workerData;

function describe(error) {
  if (error instanceof RangeError) return 'offset out of range (' + error.message + ')';
  if (error instanceof Error) return error.message.slice(0, 300);
  return String(error).slice(0, 300);
}

function flat(value, expected) {
  if (ArrayBuffer.isView(value) || Array.isArray(value)) {
    if (value.length === expected && (expected === 0 || !Array.isArray(value[0]))) return value;
    const out = [];
    const stack = [value];
    while (stack.length) {
      const v = stack.pop();
      if (Array.isArray(v)) { for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]); }
      else out.push(v);
      if (out.length > expected) return null;
    }
    return out.length === expected ? out : null;
  }
  return expected === 1 ? [value] : null;
}

function scalar(v) {
  if (v instanceof Uint8Array) return Array.from(v).join(',');
  return v;
}

function compare(x, y) {
  let changed = 0;
  let max = 0;
  let finite = true;
  for (let i = 0; i < x.length; i++) {
    const p = scalar(x[i]);
    const q = scalar(y[i]);
    if (p === q || (typeof p === 'number' && typeof q === 'number' && Number.isNaN(p) && Number.isNaN(q))) continue;
    changed++;
    let d = NaN;
    if (typeof p === 'number' && typeof q === 'number') d = Math.abs(p - q);
    else if (typeof p === 'bigint' && typeof q === 'bigint') d = Math.abs(Number(p - q));
    if (Number.isFinite(d)) { if (d > max) max = d; } else finite = false;
  }
  return { changed, maxAbsDiff: finite ? max : null };
}

function run() {
  const hdf5 = require(jsfive);
  const started = Date.now();
  let a, b;
  try { a = new hdf5.File(bufferA, 'a.h5'); } catch (e) { return { error: 'malformed HDF5 (model weights): ' + describe(e) }; }
  try { b = new hdf5.File(bufferB, 'b.h5'); } catch (e) { return { error: 'malformed HDF5 (weights file): ' + describe(e) }; }
  let budget = limits.maxTotalElements;
  const results = [];
  for (const pair of pairs) {
    const n = pair.elements;
    if (!(Number.isSafeInteger(n) && n >= 0)) { results.push({ compared: false, reason: 'element count unknown' }); continue; }
    if (n > limits.maxElementsPerDataset) { results.push({ compared: false, reason: n + ' elements, above the per-weight comparison limit of ' + limits.maxElementsPerDataset }); continue; }
    if (n > budget) { results.push({ compared: false, reason: n + ' elements, above what remains of the total comparison budget of ' + limits.maxTotalElements + ' elements' }); continue; }
    if (Date.now() - started > limits.maxMillis) { results.push({ compared: false, reason: 'comparison time budget of ' + limits.maxMillis + ' ms used up' }); continue; }
    budget -= n;
    let x, y;
    try { x = flat(a.get(pair.a).value, n); } catch (e) { results.push({ compared: false, reason: 'model value unreadable: ' + describe(e) }); continue; }
    try { y = flat(b.get(pair.b).value, n); } catch (e) { results.push({ compared: false, reason: 'weights-file value unreadable: ' + describe(e) }); continue; }
    if (!x || !y) { results.push({ compared: false, reason: 'values do not match the declared shape' }); continue; }
    const c = compare(x, y);
    results.push({ compared: true, elementsChanged: c.changed, elements: n, maxAbsDiff: c.maxAbsDiff });
  }
  return { results };
}

let reply;
try { reply = run(); } catch (e) { reply = { error: 'malformed HDF5: ' + describe(e) }; }
parentPort.postMessage(reply);
`;
