// The worker side of the stdio transport: answers as lines on stdout prefixed with PROTOCOL_PREFIX
// (the parent ignores anything else a library prints). One-shot mode: one JSON request on stdin,
// then exit. Serving mode (`--serve`, the batch worker pool): one JSON request per stdin line,
// answered one at a time, each answer followed by a `ready` line, until stdin closes.
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

/**
 * Serves requests, one per stdin line, strictly one at a time: after each answer it reports
 * `ready` with its resident memory so the pool can recycle a worker that has grown. Exits once
 * stdin ends and every line is flushed.
 */
export function serveRequestsOverStdio<Request>(handle: (request: Request, send: (message: WorkerMessage) => void) => Promise<void>): void {
  let lastWrite: Promise<void> = Promise.resolve();
  const send = (message: WorkerMessage) => {
    lastWrite = writeLine(message);
  };
  const queue: string[] = [];
  let pending: Buffer[] = [];
  let ended = false;
  let busy = false;
  const pump = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    while (queue.length > 0) {
      const line = queue.shift()!;
      let request: Request | null = null;
      try {
        request = JSON.parse(line) as Request;
      } catch (error) {
        send({ type: 'error', error: { file: '', message: `bad request: ${String(error)}` } });
      }
      if (request !== null) await handle(request, send);
      send({ type: 'ready', rssBytes: process.memoryUsage.rss() });
      await lastWrite.catch(() => process.exit(3));
    }
    busy = false;
    if (ended) void lastWrite.then(() => process.exit(0), () => process.exit(3));
  };
  process.stdin.on('data', (chunk: Buffer) => {
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf(10, start)) >= 0) {
      pending.push(chunk.subarray(start, newline));
      const line = Buffer.concat(pending).toString('utf8');
      pending = [];
      if (line.trim()) queue.push(line);
      start = newline + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
    void pump();
  });
  process.stdin.on('end', () => {
    ended = true;
    void pump();
  });
  send({ type: 'ready', rssBytes: process.memoryUsage.rss() });
}
