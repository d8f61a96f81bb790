// The worker side of the stdio transport: one JSON request on stdin, answers as lines on stdout
// prefixed with PROTOCOL_PREFIX (the parent ignores anything else a library prints), then exit.
import { PROTOCOL_PREFIX, type WorkerMessage } from './protocol.ts';

/**
 * Writes one protocol line to stdout and resolves once Node has handed it to the OS. A pipe write
 * is asynchronous on Linux: exiting before this resolves cuts off an answer larger than the pipe
 * buffer (a big model's report), so the worker exits only after its last line is flushed.
 */
function writeLine(message: WorkerMessage): Promise<void> {
  const line = `${PROTOCOL_PREFIX}${JSON.stringify(message)}\n`;
  return new Promise((resolve, reject) => process.stdout.write(line, (error) => (error ? reject(error) : resolve())));
}

/** Reads the request, lets `handle` answer through `send`, and exits once every line is flushed. */
export function serveOverStdio<Request>(handle: (request: Request, send: (message: WorkerMessage) => void) => Promise<void>): void {
  const chunks: Buffer[] = [];
  let lastWrite: Promise<void> = Promise.resolve();
  const send = (message: WorkerMessage) => {
    lastWrite = writeLine(message);
  };
  process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
  process.stdin.on('end', () => {
    let request: Request | null = null;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request;
    } catch (error) {
      send({ type: 'error', error: { file: '', message: `bad request: ${String(error)}` } });
    }
    const work = request === null ? Promise.resolve() : handle(request, send);
    void work
      .then(() => lastWrite)
      .then(
        () => process.exit(0),
        () => process.exit(3), // stdout closed under us: the parent is gone or stopped reading
      );
  });
}
