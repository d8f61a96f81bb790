#!/usr/bin/env node
// Entry point of the `tfaudit` CLI: the TypeScript sources run through tsx, so the
// checkout is usable right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

// A reader that goes away (`tfaudit scan … | head`) closes the pipe: stop at once, quietly, as a
// command killed by SIGPIPE does (status 141), instead of an EPIPE stack trace, or of auditing a
// whole registry for nobody. Never 0: the audit did not finish, so it cannot vouch for the model.
const SIGPIPE_STATUS = 141;
process.stdout.on('error', (error) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  process.exit(SIGPIPE_STATUS); // nothing more can reach standard output: no write to wait for
});

register();
const { main } = await import('../main/cli/index.ts');
// exitCode, never process.exit: output still in a pipe's queue must be written before the end
process.exitCode = await main(process.argv.slice(2));
