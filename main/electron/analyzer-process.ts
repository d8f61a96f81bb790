// Under Electron the analyzer runs in a utilityProcess (there is no separate node binary in a
// packaged app, and the RunAsNode fuse is off): one process per analysis, a V8 heap cap, a
// timeout, and a crash that rejects with `worker-crashed` while the app keeps running.
import type { AnalyseRequest, AnalyseResult } from '../worker/analyse.ts';
import { analyzerV8Flags, type WorkerMessage } from '../worker/protocol.ts';
import { ApiFailure } from '../service/errors.ts';
import type { Electron } from './security.ts';
import type { ProgressEvent } from '../../shared/api.ts';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from '../sandbox/backends.ts';
import { isolationAvailable } from '../sandbox/analyzer-isolation.ts';
import { DEFAULT_WORKER_OPTIONS, runAnalysisWorker } from '../service/worker-client.ts';

export interface AnalyzerProcessOptions {
  memoryMb: number;
  timeoutMs: number;
  description?: string;
}

export function utilityProcessAnalyser(electron: Pick<Electron, 'utilityProcess'>, analyzerPath: string, options: AnalyzerProcessOptions) {
  return (request: AnalyseRequest, onProgress?: (event: ProgressEvent) => void): Promise<AnalyseResult> =>
    new Promise((resolve, reject) => {
      const child = electron.utilityProcess.fork(analyzerPath, [], {
        serviceName: 'TF Audit analyzer',
        execArgv: analyzerV8Flags(options.memoryMb),
        stdio: 'ignore',
      });
      let settled = false;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = setTimeout(() => {
        child.kill();
        finish(() => reject(new ApiFailure('timeout', `analysis of ${request.model} took longer than ${Math.round(options.timeoutMs / 1000)} s and was stopped`)));
      }, options.timeoutMs);
      child.on('message', (message: WorkerMessage) => {
        if (message?.type === 'progress') onProgress?.({ stage: message.stage, message: message.message, fraction: message.fraction ?? null });
        else if (message?.type === 'result') finish(() => resolve(message.result as AnalyseResult));
        else if (message?.type === 'error') finish(() => reject(new ApiFailure('unreadable-model', message.error.file ? `${message.error.file}: ${message.error.message}` : message.error.message)));
        // The worker does not exit by itself once it has answered (see main/worker/analyzer.ts).
        if (settled) child.kill();
      });
      child.on('exit', (code: number) => {
        finish(() => reject(new ApiFailure('worker-crashed', `analyzer process exited with code ${code} while reading ${request.model} (memory cap ${options.memoryMb} MB)`)));
      });
      child.once('spawn', () =>
        child.postMessage({
          ...request,
          isolation: { isolated: false, description: options.description ?? 'analysis ran in a separate Electron utility process (no OS sandbox)' },
        }),
      );
    });
}

/** A Node ≥ 20 on the host, which can run the analyzer bundle under bubblewrap (Electron cannot: RunAsNode is fused off). */
export function findSystemNode(pathEnv: string | undefined = process.env.PATH): string | null {
  const node = findExecutable('node', pathEnv);
  if (!node) return null;
  const version = spawnSync(node, ['--version'], { encoding: 'utf8', timeout: 5000, env: {} });
  const major = /^v(\d+)\./.exec(version.stdout ?? '')?.[1];
  return major !== undefined && Number(major) >= 20 ? node : null;
}

/**
 * The analyser the app uses: the analyzer bundle under bubblewrap with the host's Node when both
 * are there (no network, only the inputs visible), else an Electron utilityProcess, which is a
 * separate process but not OS-sandboxed; the report says which one ran.
 */
export function appAnalyser(
  electron: Pick<Electron, 'utilityProcess'>,
  appRoot: string,
  options: AnalyzerProcessOptions & { pathEnv?: string },
): (request: AnalyseRequest, onProgress?: (event: ProgressEvent) => void) => Promise<AnalyseResult> {
  // A system Node cannot read inside app.asar: the bundle and its data ship unpacked (asarUnpack).
  const unpacked = appRoot.replace(/app\.asar$/, 'app.asar.unpacked');
  const bundle = join(unpacked, 'dist', 'electron', 'analyzer.cjs');
  const node = findSystemNode(options.pathEnv);
  const isolation = isolationAvailable(options.pathEnv);
  if (node && isolation === true && existsSync(bundle)) {
    return (request, onProgress) =>
      runAnalysisWorker(request, {
        ...DEFAULT_WORKER_OPTIONS,
        memoryMb: options.memoryMb,
        timeoutMs: options.timeoutMs,
        isolation: 'auto',
        entry: bundle,
        nodePath: node,
        codeRoot: unpacked,
        onProgress: (m) => onProgress?.({ stage: m.stage, message: m.message, fraction: m.fraction ?? null }),
      });
  }
  const why = !node ? 'no Node.js ≥ 20 on this machine to run it under bubblewrap' : isolation !== true ? isolation : `analyzer bundle missing at ${bundle}`;
  return utilityProcessAnalyser(electron, join(appRoot, 'dist', 'electron', 'analyzer.cjs'), {
    ...options,
    description: `analysis ran in a separate Electron utility process without an OS sandbox (${why})`,
  });
}
