// Builds what Electron and the web host load:
//   dist/renderer/  index.html + main.js + main.css + icon.svg (no inline script: strict CSP)
//   dist/electron/main.cjs, preload.cjs (one CommonJS bundle, as sandboxed preloads require),
//   dist/electron/analyzer.cjs (the analysis worker for utilityProcess)
//   dist/cli/tfaudit.mjs + analyzer.cjs (the compiled CLI and its worker: analyzer-bundle.cjs and its
//   V8 code cache; bin/tfaudit.mjs loads them when they are at least as new as the sources, else
//   runs the sources through tsx)
// Usage: node scripts/build.mjs [--renderer-only | --cli-only] [--out <dir>] [--if-esbuild]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, rmSync, existsSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** esbuild, loaded on first use: `npm ci --omit=dev` has no esbuild and prepare must not fail there. */
async function build(options) {
  const esbuild = await import('esbuild');
  return esbuild.build(options);
}

/** The renderer bundle into `outDir` (default dist/renderer). */
export async function buildRenderer(outDir = join(ROOT, 'dist', 'renderer'), { minify = true } = {}) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, 'renderer', 'main.tsx') },
    outdir: outDir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['chrome120'],
    jsx: 'automatic',
    minify,
    sourcemap: false,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { main: join(ROOT, 'renderer', 'styles.css') },
    outdir: outDir,
    bundle: true,
    minify,
    logLevel: 'warning',
  });
  const html = readFileSync(join(ROOT, 'renderer', 'index.html'), 'utf8');
  if (/<script(?![^>]*\bsrc=)[^>]*>/i.test(html) || /\son[a-z]+=/i.test(html)) throw new Error('renderer/index.html must not carry inline script or handlers');
  // Scripts run by hash (CSP script-src 'sha384-…' + the tag's integrity), not by origin.
  const integrity = `sha384-${createHash('sha384').update(readFileSync(join(outDir, 'main.js'))).digest('base64')}`;
  const built = html.replaceAll('%SCRIPT_INTEGRITY%', integrity);
  if (!/script-src 'sha384-/.test(built) || !/integrity="sha384-/.test(built)) throw new Error('renderer/index.html lost its CSP script hash placeholders');
  writeFileSync(join(outDir, 'index.html'), built);
  copyFileSync(join(ROOT, 'build', 'icon.svg'), join(outDir, 'icon.svg'));
  return outDir;
}

let decodersModule = null;

/**
 * Replaces main/formats/proto-decoders.ts (null in the sources) with the protobuf decoders of
 * main/proto generated now, by the protobufjs the bundles carry (see precompiledDecodersModule).
 */
async function precompiledDecodersPlugin() {
  decodersModule ??= (async () => {
    try {
      const { tsImport } = await import('tsx/esm/api');
      const { protoRoot, precompiledDecodersModule } = await tsImport(pathToFileURL(join(ROOT, 'main', 'formats', 'protobuf.ts')).href, import.meta.url);
      return precompiledDecodersModule(protoRoot);
    } catch (error) {
      // The bundles still work: protobufjs then generates each decoder at run time.
      console.warn(`warning: protobuf decoders not generated ahead of time: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  })();
  const contents = await decodersModule;
  return {
    name: 'precompiled-protobuf-decoders',
    setup(builder) {
      if (contents !== null) builder.onLoad({ filter: /[\\/]main[\\/]formats[\\/]proto-decoders\.ts$/ }, () => ({ contents, loader: 'js' }));
    },
  };
}

/** main/proto parsed as main/formats/protobuf.ts parseProtoFiles() does, as protobufjs JSON. */
export async function protoSchemaJson() {
  const { default: protobuf } = await import('protobufjs');
  const dir = join(ROOT, 'main', 'proto');
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (isAbsolute(target) || target.startsWith('google/protobuf/') ? target : join(dir, target));
  root.loadSync(readdirSync(dir).filter((f) => f.endsWith('.proto')).sort().map((f) => join(dir, f)), { keepCase: true });
  return root.toJSON();
}

/**
 * Files the bundled code reads at run time relative to its own URL: the .proto schemas
 * (`../proto/` from the bundle), the same schema as JSON (`./proto-schema.json`, loaded
 * instead of parsing the .proto text), the op registry (`./op-registry.json`) and the advisory table (`./advisories.json`).
 */
async function copyRuntimeAssets(outDir) {
  writeFileSync(join(outDir, 'proto-schema.json'), JSON.stringify(await protoSchemaJson()));
  const protoOut = join(outDir, '..', 'proto');
  mkdirSync(protoOut, { recursive: true });
  for (const name of readdirSync(join(ROOT, 'main', 'proto'))) if (name.endsWith('.proto')) copyFileSync(join(ROOT, 'main', 'proto', name), join(protoOut, name));
  const registry = join(ROOT, 'main', 'analysis', 'op-registry.json');
  if (existsSync(registry)) writeFileSync(join(outDir, 'op-registry.json'), opRegistryOnePerLine(readFileSync(registry, 'utf8')));
  const advisories = join(ROOT, 'main', 'analysis', 'advisories.json');
  if (existsSync(advisories)) copyFileSync(advisories, join(outDir, 'advisories.json'));
}

/**
 * The op registry as the same JSON laid out one op per line, which main/analysis/op-registry.ts
 * indexes by name without parsing every entry (a worker parses only the ops its model uses).
 */
export function opRegistryOnePerLine(text) {
  const { ops, ...head } = JSON.parse(text);
  const headText = JSON.stringify({ ...head, ops: {} });
  const entries = Object.entries(ops).map(([name, op]) => `${JSON.stringify(name)}:${JSON.stringify(op)}`);
  return `${headText.slice(0, -2)}\n${entries.join(',\n')}\n}}\n`;
}

/** Electron main, preload and the analyzer worker into `outDir` (default dist/electron). */
export async function buildElectron(outDir = join(ROOT, 'dist', 'electron'), { minify = false, only = ['main', 'preload', 'analyzer'] } = {}) {
  mkdirSync(outDir, { recursive: true });
  const common = {
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: ['node20'],
    minify,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // Sources are ESM and some read import.meta.url; in a CommonJS bundle it is the bundle's own URL.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [await precompiledDecodersPlugin()],
  };
  if (only.includes('main')) await build({ ...common, entryPoints: [join(ROOT, 'main', 'electron', 'main.ts')], outfile: join(outDir, 'main.cjs'), external: ['electron'] });
  if (only.includes('preload')) await build({ ...common, entryPoints: [join(ROOT, 'main', 'electron', 'preload.ts')], outfile: join(outDir, 'preload.cjs'), external: ['electron'], platform: 'browser', define: {}, banner: {} });
  const worker = join(ROOT, 'main', 'worker', 'analyzer.ts');
  if (only.includes('analyzer') && existsSync(worker)) await build({ ...common, entryPoints: [worker], outfile: join(outDir, 'analyzer.cjs'), external: ['electron'] });
  if (only.includes('main') || only.includes('analyzer')) await copyRuntimeAssets(outDir);
  return outDir;
}

/**
 * The heap cap the CLI gives its workers by default (DEFAULT_WORKER_OPTIONS.memoryMb): V8 accepts a
 * code cache only under the flags it was made with (analyzerV8Flags, the heap sizes among them).
 */
export const WORKER_HEAP_MB = 4096;

/**
 * Writes the worker's V8 code cache (analyzer-bundle.cjs.v8cache + .json) into `dir`: the built
 * worker analyses the built-in demo SavedModel and checkpoint (main/demo/trojan.ts, written by
 * our own writers, so nothing untrusted runs here), started as the CLI starts it, and saves what
 * V8 compiled on the way. Best effort: without a cache the worker compiles its bundle as before.
 */
async function writeWorkerCodeCache(dir) {
  const training = mkdtempSync(join(tmpdir(), 'tfaudit-code-cache-'));
  try {
    const { tsImport } = await import('tsx/esm/api');
    const { writeDemoTrojan } = await tsImport(pathToFileURL(join(ROOT, 'main', 'demo', 'trojan.ts')).href, import.meta.url);
    const { analyzerV8Flags } = await tsImport(pathToFileURL(join(ROOT, 'main', 'worker', 'protocol.ts')).href, import.meta.url);
    const { model, maliciousCheckpoint } = await writeDemoTrojan(training);
    const request = JSON.stringify({ model, checkpoints: [maliciousCheckpoint] });
    const run = spawnSync(process.execPath, [...analyzerV8Flags(WORKER_HEAP_MB), join(dir, 'analyzer.cjs'), '--write-code-cache'], {
      input: request,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: training, LANG: 'C.UTF-8' },
      cwd: training,
      timeout: 120_000,
      maxBuffer: 1 << 26,
    });
    if (run.status !== 0 || !run.stdout.includes('"type":"result"')) throw new Error(`training run failed (${run.status ?? run.signal}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  } catch (error) {
    for (const name of ['analyzer-bundle.cjs.v8cache', 'analyzer-bundle.cjs.v8cache.json']) rmSync(join(dir, name), { force: true });
    console.warn(`warning: no V8 code cache for the analyzer worker (it compiles its bundle at each start): ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    rmSync(training, { recursive: true, force: true });
  }
}

/**
 * The compiled CLI into `outDir` (default dist/cli): tfaudit.mjs (exports `main`, with chunks), analyzer.cjs
 * (the worker it spawns) and build-info.json, the source files the bundles were built from, by
 * which bin/tfaudit.mjs tells a stale build from a current one. Written to a temporary folder
 * and renamed, so a CLI starting meanwhile never sees half a build.
 */
export async function buildCli(outDir = join(ROOT, 'dist', 'cli'), { minify = true } = {}) {
  const staging = `${outDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const common = { absWorkingDir: ROOT, bundle: true, platform: 'node', target: ['node20'], minify, sourcemap: false, legalComments: 'none', logLevel: 'warning', metafile: true, external: ['electron'], plugins: [await precompiledDecodersPlugin()] };
  // ESM with code splitting: what `import()` loads on use (the PDF stack) stays out of the file
  // every command parses. Bundled CommonJS dependencies call require(), given by the banner.
  const cli = await build({
    ...common,
    entryPoints: { tfaudit: join(ROOT, 'main', 'cli', 'index.ts') },
    outdir: staging,
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    define: { __TFAUDIT_WORKER_BUNDLE__: '"analyzer.cjs"' },
    banner: { js: "import { createRequire as __tfauditCreateRequire } from 'node:module'; const require = __tfauditCreateRequire(import.meta.url);" },
  });
  // The worker is one CommonJS file, analyzer-bundle.cjs, no ESM resolution; Node starts it through
  // analyzer.cjs, which compiles it with the V8 code cache written below (main/worker/code-cache-loader.cjs).
  const worker = await build({
    ...common,
    entryPoints: [join(ROOT, 'main', 'worker', 'analyzer.ts')],
    outfile: join(staging, 'analyzer-bundle.cjs'),
    format: 'cjs',
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  copyFileSync(join(ROOT, 'main', 'worker', 'code-cache-loader.cjs'), join(staging, 'analyzer.cjs'));
  await copyRuntimeAssets(staging);
  await writeWorkerCodeCache(staging);
  const inputs = new Set();
  for (const result of [cli, worker]) for (const input of Object.keys(result.metafile.inputs)) if (!input.includes('node_modules/')) inputs.add(input.split('\\').join('/'));
  // Read at run time beside the bundles (copyRuntimeAssets): a newer copy in the sources makes the build stale too.
  for (const name of readdirSync(join(ROOT, 'main', 'proto'))) if (name.endsWith('.proto')) inputs.add(`main/proto/${name}`);
  inputs.add('main/analysis/op-registry.json');
  inputs.add('main/worker/code-cache-loader.cjs');
  const info = { builtAt: new Date().toISOString(), root: relative(outDir, ROOT).split('\\').join('/') || '.', sources: [...inputs].sort() };
  writeFileSync(join(staging, 'build-info.json'), `${JSON.stringify(info, null, 1)}\n`);
  // The .proto files went to `<outDir>/../proto`, shared with dist/electron, as the bundles expect.
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  return outDir;
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const out = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(ROOT, 'dist');
  const started = Date.now();
  try {
    if (args.includes('--cli-only')) await buildCli(join(out, 'cli'));
    else {
      await buildRenderer(join(out, 'renderer'));
      if (!args.includes('--renderer-only')) {
        await buildElectron(join(out, 'electron'));
        await buildCli(join(out, 'cli'));
      }
    }
  } catch (error) {
    // `npm ci --omit=dev` (no esbuild) runs `prepare` too: the CLI then runs from the sources.
    if (args.includes('--if-esbuild') && error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes("'esbuild'")) {
      console.log('esbuild is not installed: skipping the build (the CLI runs the TypeScript sources through tsx)');
      process.exit(0);
    }
    throw error;
  }
  console.log(`built ${out} in ${Date.now() - started} ms`);
}
