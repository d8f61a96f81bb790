// Runs every test/**/*.test.ts with Node's test runner (through tsx), or only the files
// given as arguments. Node 20's --test takes no globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (name.endsWith('.test.ts') || name.endsWith('.test.tsx')) out.push(full);
  }
  return out;
}

const files = process.argv.length > 2 ? process.argv.slice(2) : collect('test').map((f) => relative('.', f));
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files];
// Tests exercise the sources: bin/tfaudit.mjs must not pick up a compiled dist/cli.
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, TFAUDIT_FROM_SOURCE: '1' } });
process.exit(result.status ?? 1);
