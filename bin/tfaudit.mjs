#!/usr/bin/env node
// Entry point of the `tfaudit` CLI: the TypeScript sources run through tsx, so the
// checkout is usable right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../main/cli/index.ts');
process.exitCode = await main(process.argv.slice(2));
