// `npm start`: builds the bundles and starts Electron on them. Where the Electron binary is
// missing and cannot be downloaded (an offline machine, a blocked mirror), electron's own
// loader prints a download stack trace; this prints one line instead, with the way to the same
// workbench in a browser.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The Electron executable, or the reason there is none (the first error line electron's loader gave). */
export function locateElectron(env = process.env) {
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: ROOT, env, encoding: 'utf8', timeout: 10 * 60_000 });
  if (probe.status === 0 && probe.stdout) return { path: probe.stdout };
  const lines = `${probe.stderr ?? ''}\n${probe.error?.message ?? ''}`.split('\n').map((l) => l.trim());
  const cause = lines.find((l) => /^[A-Za-z]*Error\b.*:/.test(l) && !/failed to install correctly/.test(l)) ?? lines.find((l) => /Error/.test(l)) ?? 'no output';
  return { reason: cause.replace(/^[A-Za-z]*Error:\s*/, '') };
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  if (!args.includes('--no-build')) {
    const built = spawnSync(process.execPath, [resolve(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) process.exit(built.status ?? 1);
  }
  // exit codes are set, not forced with process.exit, so a message written to a pipe arrives whole
  const electron = locateElectron();
  if (!electron.path) {
    console.error(`tfaudit: cannot start the desktop app: the Electron binary is not installed and could not be downloaded (${electron.reason}). \`npx tfaudit serve\` gives the same workbench in a browser.`);
    process.exitCode = 1;
  } else {
    const child = spawn(electron.path, [ROOT, ...args.filter((a) => a !== '--no-build')], { cwd: ROOT, stdio: 'inherit' });
    child.on('error', (error) => {
      console.error(`tfaudit: cannot start the desktop app: ${electron.path} did not run (${error.message}). \`npx tfaudit serve\` gives the same workbench in a browser.`);
      process.exitCode = 1;
    });
    child.on('exit', (code, signal) => {
      process.exitCode = code ?? (signal ? 1 : 0);
    });
  }
}
