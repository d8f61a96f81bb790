#!/usr/bin/env node
// Entry point of the `tfaudit` CLI. Runs the compiled CLI (dist/cli, built by `npm run build`
// or `npm ci`'s prepare step) when it is current; otherwise, in development, the TypeScript
// sources through tsx. A build is current when no source it was built from is newer than it,
// so an edited checkout never runs stale code. TFAUDIT_FROM_SOURCE=1 forces the sources
// (the test runner sets it, so tests exercise the sources).
import { readFileSync, statSync } from 'node:fs';

// A reader that goes away (`tfaudit scan … | head`) closes the pipe: stop at once, quietly, as a
// command killed by SIGPIPE does (status 141), instead of an EPIPE stack trace, or of auditing a
// whole registry for nobody. Never 0: the audit did not finish, so it cannot vouch for the model.
const SIGPIPE_STATUS = 141;
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  process.exit(SIGPIPE_STATUS); // nothing more can reach standard output: no write to wait for
});

const BUNDLE_DIR = new URL('../dist/cli/', import.meta.url);

/** The compiled CLI's URL when it exists and is at least as new as every source it bundles. */
function currentBundle() {
  if (process.env.TFAUDIT_FROM_SOURCE === '1') return null;
  try {
    const bundle = new URL('tfaudit.mjs', BUNDLE_DIR);
    const built = statSync(bundle).mtimeMs;
    const info = JSON.parse(readFileSync(new URL('build-info.json', BUNDLE_DIR), 'utf8'));
    const root = new URL(`${info.root}/`, BUNDLE_DIR);
    for (const source of info.sources) {
      let modified;
      try {
        modified = statSync(new URL(source, root)).mtimeMs;
      } catch {
        continue; // shipped without its sources
      }
      if (modified > built) return null;
    }
    return bundle;
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
