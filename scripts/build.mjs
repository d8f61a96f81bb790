// Builds what Electron and the web host load:
//   dist/renderer/  index.html + main.js + main.css + icon.svg (no inline script: strict CSP)
//   dist/electron/main.cjs, preload.cjs (one CommonJS bundle, as sandboxed preloads require),
//   dist/electron/analyzer.cjs (the analysis worker for utilityProcess)
//   dist/cli/tfaudit.mjs + analyzer.cjs (the compiled CLI and its worker; bin/tfaudit.mjs loads
//   them when they are at least as new as the sources, else runs the sources through tsx)
// Usage: node scripts/build.mjs [--renderer-only | --cli-only] [--out <dir>] [--if-esbuild]
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync, rmSync, existsSync, renameSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  for (const table of ['op-registry.json', 'advisories.json']) {
    const source = join(ROOT, 'main', 'analysis', table);
    if (existsSync(source)) copyFileSync(source, join(outDir, table));
  }
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
  };
  if (only.includes('main')) await build({ ...common, entryPoints: [join(ROOT, 'main', 'electron', 'main.ts')], outfile: join(outDir, 'main.cjs'), external: ['electron'] });
  if (only.includes('preload')) await build({ ...common, entryPoints: [join(ROOT, 'main', 'electron', 'preload.ts')], outfile: join(outDir, 'preload.cjs'), external: ['electron'], platform: 'browser', define: {}, banner: {} });
  const worker = join(ROOT, 'main', 'worker', 'analyzer.ts');
  if (only.includes('analyzer') && existsSync(worker)) await build({ ...common, entryPoints: [worker], outfile: join(outDir, 'analyzer.cjs'), external: ['electron'] });
  if (only.includes('main') || only.includes('analyzer')) await copyRuntimeAssets(outDir);
  return outDir;
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
  const common = { absWorkingDir: ROOT, bundle: true, platform: 'node', target: ['node20'], minify, sourcemap: false, legalComments: 'none', logLevel: 'warning', metafile: true, external: ['electron'] };
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
  // The worker is one CommonJS file: Node loads it as the main script, no ESM resolution.
  const worker = await build({
    ...common,
    entryPoints: [join(ROOT, 'main', 'worker', 'analyzer.ts')],
    outfile: join(staging, 'analyzer.cjs'),
    format: 'cjs',
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  await copyRuntimeAssets(staging);
  const inputs = new Set();
  for (const result of [cli, worker]) for (const input of Object.keys(result.metafile.inputs)) if (!input.includes('node_modules/')) inputs.add(input.split('\\').join('/'));
  // Read at run time beside the bundles (copyRuntimeAssets): a newer copy in the sources makes the build stale too.
  for (const name of readdirSync(join(ROOT, 'main', 'proto'))) if (name.endsWith('.proto')) inputs.add(`main/proto/${name}`);
  inputs.add('main/analysis/op-registry.json');
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
