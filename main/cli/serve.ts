// `tfaudit serve`: the workbench in a browser, for headless machines and for tests. Loopback
// only, a random port unless --port, a random access token in the printed URL.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { createAuditBackend } from '../service/backend.ts';
import { startServer } from '../web/server.ts';
import { DEFAULT_UPLOAD_LIMITS } from '../web/upload.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_RENDERER_DIR = join(ROOT, 'dist', 'renderer');

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

function loopbackHost(value: string): string {
  if (!['127.0.0.1', '::1', 'localhost'].includes(value)) throw new InvalidArgumentError('tfaudit serve listens on loopback only (127.0.0.1, ::1, localhost)');
  return value;
}

/** The renderer bundle, built on first use when running from a checkout. */
export async function ensureRendererBundle(dir = DEFAULT_RENDERER_DIR): Promise<string> {
  if (existsSync(join(dir, 'index.html'))) return dir;
  const { buildRenderer } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build.mjs')).href)) as { buildRenderer(out: string): Promise<string> };
  return buildRenderer(dir);
}

function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['explorer.exe', [url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser launcher: the printed URL is enough.
  }
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the workbench to a browser on this machine (loopback only, token-protected)')
    .option('--port <n>', 'port to listen on (default: a free one)', port, 0)
    .option('--host <address>', 'loopback address to bind: 127.0.0.1, ::1 or localhost', loopbackHost, '127.0.0.1')
    .option('--no-open', 'do not open a browser')
    .option('--max-file-mb <MB>', 'largest uploaded file', positiveInt, DEFAULT_UPLOAD_LIMITS.maxFileBytes / 1024 ** 2)
    .option('--max-upload-mb <MB>', 'largest upload (all files of one drop)', positiveInt, DEFAULT_UPLOAD_LIMITS.maxBatchBytes / 1024 ** 2)
    .option('--no-isolation', 'run the analyzer worker without the OS sandbox')
    .option('--memory <MB>', 'memory cap of the analyzer worker', positiveInt)
    .option('--timeout <S>', 'time limit of the analyzer worker, seconds', positiveInt)
    .action(async (opts: { port: number; host: string; open: boolean; maxFileMb: number; maxUploadMb: number; isolation: boolean; memory?: number; timeout?: number }) => {
      const rendererDir = await ensureRendererBundle();
      const backend = await createAuditBackend({
        isolation: opts.isolation ? 'auto' : 'off',
        ...(opts.memory ? { workerMemoryMb: opts.memory } : {}),
        ...(opts.timeout ? { workerTimeoutMs: opts.timeout * 1000 } : {}),
      });
      const server = await startServer({
        backend,
        rendererDir,
        host: opts.host,
        port: opts.port,
        limits: { maxFileBytes: opts.maxFileMb * 1024 ** 2, maxBatchBytes: opts.maxUploadMb * 1024 ** 2 },
      });
      // The workspace goes whatever ends the process.
      const onExit = () => server.workspace.dispose();
      process.on('exit', onExit);
      process.stdout.write(`TF Audit Workbench at ${server.urlWithToken}\n(uploads kept in ${server.workspace.root}, deleted on exit; Ctrl+C stops)\n`);
      if (opts.open) openInBrowser(server.urlWithToken);
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        process.once('SIGHUP', stop);
      });
      process.stdout.write('stopping…\n');
      await server.close();
      await backend.dispose();
      process.off('exit', onExit);
    });
}
