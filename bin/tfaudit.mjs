#!/usr/bin/env node
// Entry point of the `tfaudit` CLI. Runs the compiled CLI (dist/cli, built by `npm run build`
// or `npm ci`'s prepare step) when it is current; otherwise, in development, the TypeScript
// sources through tsx. A build is current when no source it was built from is newer than it,
// so an edited checkout never runs stale code. TFAUDIT_FROM_SOURCE=1 forces the sources
// (the test runner sets it, so tests exercise the sources).
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// A reader that goes away (`tfaudit scan … | head`) closes the pipe: stop at once, quietly, as a
// command killed by SIGPIPE does (status 141), instead of an EPIPE stack trace, or of auditing a
// whole registry for nobody. Never 0: the audit did not finish, so it cannot vouch for the model.
const SIGPIPE_STATUS = 141;
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  process.exit(SIGPIPE_STATUS); // nothing more can reach standard output: no write to wait for
});

const BUNDLE_DIR = fileURLToPath(new URL('../dist/cli/', import.meta.url));

/** The compiled CLI's URL when it exists and is at least as new as every source it bundles. */
function currentBundle() {
  if (process.env.TFAUDIT_FROM_SOURCE === '1') return null;
  try {
    const bundle = resolve(BUNDLE_DIR, 'tfaudit.mjs');
    const built = statSync(bundle).mtimeMs;
    const info = JSON.parse(readFileSync(resolve(BUNDLE_DIR, 'build-info.json'), 'utf8'));
    const root = resolve(BUNDLE_DIR, info.root);
    // Plain paths and no exceptions: this runs before every command, over ~150 sources.
    for (const source of info.sources) {
      const modified = statSync(resolve(root, source), { throwIfNoEntry: false })?.mtimeMs;
      if (modified !== undefined && modified > built) return null; // missing: shipped without its sources
    }
    return pathToFileURL(bundle);
  } catch {
    return null;
  }
}

const bundle = currentBundle();
let main;
if (bundle) {
  ({ main } = await import(bundle.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../main/cli/index.ts'));
}
// exitCode, never process.exit: output still in a pipe's queue must be written before the end
process.exitCode = await main(process.argv.slice(2));
