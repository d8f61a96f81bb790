// Builds what Electron and the web host load:
//   dist/renderer/  index.html + main.js + main.css + icon.svg (no inline script: strict CSP)
//   dist/electron/main.cjs, preload.cjs (one CommonJS bundle, as sandboxed preloads require),
//   dist/electron/analyzer.cjs (the analysis worker for utilityProcess)
// Usage: node scripts/build.mjs [--renderer-only] [--out <dir>]
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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

/**
 * Files the bundled code reads at run time relative to its own URL: the .proto schemas
 * (`../proto/` from the bundle) and the op registry (`./op-registry.json`).
 */
function copyRuntimeAssets(outDir) {
  const protoOut = join(outDir, '..', 'proto');
  mkdirSync(protoOut, { recursive: true });
  for (const name of readdirSync(join(ROOT, 'main', 'proto'))) if (name.endsWith('.proto')) copyFileSync(join(ROOT, 'main', 'proto', name), join(protoOut, name));
  const registry = join(ROOT, 'main', 'analysis', 'op-registry.json');
  if (existsSync(registry)) copyFileSync(registry, join(outDir, 'op-registry.json'));
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
  if (only.includes('main') || only.includes('analyzer')) copyRuntimeAssets(outDir);
  return outDir;
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const out = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(ROOT, 'dist');
  const started = Date.now();
  await buildRenderer(join(out, 'renderer'));
  if (!args.includes('--renderer-only')) await buildElectron(join(out, 'electron'));
  console.log(`built ${out} in ${Date.now() - started} ms`);
}
