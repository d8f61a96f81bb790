// Entry point of the analyzer worker process: parses and analyses untrusted models away from
// the Electron main process / CLI / web host. One request per process: the parent sends an
// AnalyseRequest, the worker answers once and exits, so a hostile model can at worst kill
// this process (the parent then reports `worker-crashed`).
//
// Transports: Electron utilityProcess (process.parentPort messages) or, under the CLI and the
// web host, a plain child process: the request as JSON on stdin, answers as lines on stdout
// prefixed with PROTOCOL_PREFIX (anything else a library prints is ignored by the parent).
import { analyse, errorInfo, inspect, type AnalyseRequest } from './analyse.ts';
import { PROTOCOL_PREFIX, type WorkerMessage } from './protocol.ts';
import { setProgressReporter } from '../formats/progress.ts';

interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

async function handle(request: AnalyseRequest, send: (message: WorkerMessage) => void): Promise<void> {
  setProgressReporter((report) => send({ type: 'progress', ...report }));
  try {
    send({ type: 'progress', stage: 'parse', message: `reading ${request.model}` });
    const result = request.mode === 'inspect' ? await inspect(request) : await analyse(request);
    send({ type: 'result', result });
  } catch (error) {
    send({ type: 'error', error: errorInfo(error) });
  }
}

function runOverStdio(): void {
  const chunks: Buffer[] = [];
  process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
  process.stdin.on('end', () => {
    let request: AnalyseRequest;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AnalyseRequest;
    } catch (error) {
      process.stdout.write(`${PROTOCOL_PREFIX}${JSON.stringify({ type: 'error', error: { file: '', message: `bad request: ${String(error)}` } })}\n`);
      return;
    }
    void handle(request, (message) => {
      process.stdout.write(`${PROTOCOL_PREFIX}${JSON.stringify(message)}\n`);
    }).then(() => process.exit(0));
  });
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (parentPort) {
  parentPort.on('message', (event) => {
    void handle(event.data as AnalyseRequest, (message) => parentPort.postMessage(message)).then(() => process.exit(0));
  });
} else {
  runOverStdio();
}
