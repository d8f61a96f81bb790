'use strict';
// Entry of the compiled analyzer worker (scripts/build.mjs copies this file to dist/cli/analyzer.cjs):
// runs the worker bundle beside it, analyzer-bundle.cjs, as Node would run it as a main script,
// but compiled with the V8 code cache the build wrote next to it. Every scan starts a fresh
// worker, and compiling the ~0.5 MB bundle (plus the functions a scan calls) was a fixed cost
// of each one.
//
// The cache is only an optimisation, never a requirement. It is used only when it was made from
// exactly this bundle (SHA-256), by this V8, with this process's V8 flags (--max-old-space-size
// is one: a scan with another --memory cannot use it); anything else, or V8 rejecting it, and the
// bundle is compiled from its source as usual. It is written at build time by a trusted run
// (`--write-code-cache`, which only the build passes), never by a worker that read a user's
// model: the worker runs read-only in its sandbox and nothing it does reaches later workers.
const { readFileSync, writeFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { Script } = require('node:vm');
const Module = require('node:module');
const { dirname, join } = require('node:path');

const BUNDLE = join(__dirname, 'analyzer-bundle.cjs');
const CACHE = `${BUNDLE}.v8cache`;
const CACHE_INFO = `${CACHE}.json`;
/** Where the worker's --stats report which way the bundle was compiled. */
const STATUS = Symbol.for('tfaudit.codeCache');

/** What the cache must have been made under to be offered to V8 at all. */
function cacheKey(source) {
  return {
    sourceSha256: createHash('sha256').update(source).digest('hex'),
    v8: process.versions.v8,
    arch: process.arch,
    execArgv: process.execArgv,
  };
}

function sameKey(a, b) {
  return a.sourceSha256 === b.sourceSha256 && a.v8 === b.v8 && a.arch === b.arch && JSON.stringify(a.execArgv) === JSON.stringify(b.execArgv);
}

/** The cache when its recorded key matches; otherwise why not (for --stats). */
function loadCache(key) {
  let info;
  try {
    info = JSON.parse(readFileSync(CACHE_INFO, 'utf8'));
  } catch {
    return { status: 'absent' };
  }
  if (!info || typeof info !== 'object' || !sameKey(info, key)) return { status: 'stale' };
  try {
    return { status: 'offered', data: readFileSync(CACHE) };
  } catch {
    return { status: 'absent' };
  }
}

const writeTo = process.argv.indexOf('--write-code-cache');
const source = readFileSync(BUNDLE, 'utf8');
const key = cacheKey(source);
const cache = writeTo >= 0 ? { status: 'absent' } : loadCache(key);
const script = new Script(Module.wrap(source), { filename: BUNDLE, cachedData: cache.data });
globalThis[STATUS] = cache.data ? (script.cachedDataRejected ? 'rejected' : 'accepted') : cache.status;

if (writeTo >= 0) {
  // After the training run, the cache holds every function that run compiled, not just the top level.
  process.once('exit', () => {
    writeFileSync(CACHE, script.createCachedData());
    writeFileSync(CACHE_INFO, `${JSON.stringify(key)}\n`);
  });
}

const bundleModule = new Module(BUNDLE, null);
bundleModule.filename = BUNDLE;
bundleModule.paths = Module._nodeModulePaths(dirname(BUNDLE));
bundleModule.loaded = true;
script.runInThisContext()(bundleModule.exports, Module.createRequire(BUNDLE), bundleModule, BUNDLE, dirname(BUNDLE));
