// Entry point of the analyzer worker process: parses and analyses untrusted models away from
// the Electron main process / CLI / web host. `--serve` (the batch worker pool) answers many
// requests over one process, one at a time. Otherwise one request per process: the parent sends an
// AnalyseRequest and the worker answers once, so a hostile model can at worst kill this
// process (the parent then reports `worker-crashed`).
//
// Transports: Electron utilityProcess (process.parentPort messages; the parent kills the worker
// once answered) or, under the CLI and the web host, a plain child process over stdio
// (stdio-transport.ts: the worker exits once its answer, possibly tens of MB, is flushed).
import { analyse, errorInfo, inspect, type AnalyseRequest } from './analyse.ts';
import type { WorkerMessage } from './protocol.ts';
import { serveOverStdio, serveRequestsOverStdio } from './stdio-transport.ts';
import { setProgressReporter } from '../formats/progress.ts';
import { PhaseClock, workerUsage } from './usage.ts';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

let requestsHandled = 0;

async function handle(request: AnalyseRequest, send: (message: WorkerMessage) => void): Promise<void> {
  // The first request's clock starts with the process, so its first lap is the start-up; a
  // serving worker's later requests start when they arrive (start-up 0).
  const clock = new PhaseClock(requestsHandled++ === 0 ? 0 : undefined);
  clock.lap('startup');
  setProgressReporter((report) => send({ type: 'progress', ...report }));
  try {
    send({ type: 'progress', stage: 'parse', message: `reading ${request.model}` });
    const result = request.mode === 'inspect' ? await inspect(request, clock) : await analyse(request, clock);
    send({ type: 'result', result });
    clock.lap('encode');
  } catch (error) {
    send({ type: 'error', error: errorInfo(error) });
  }
  send({ type: 'usage', usage: workerUsage(clock) });
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (parentPort) {
  // The parent kills this process once it has the answer: exiting here could drop a message
  // that postMessage has queued but not yet delivered.
  parentPort.on('message', (event) => {
    void handle(event.data as AnalyseRequest, (message) => parentPort.postMessage(message));
  });
} else if (process.argv.includes('--serve')) {
  serveRequestsOverStdio<AnalyseRequest>(handle);
} else {
  serveOverStdio<AnalyseRequest>(handle);
}
