// The runner's own account of how far it got: JSON event lines on stdout
// (`{"tfaudit": "calling", "nonce": ..., ...}`). Only lines carrying the run's nonce count, so a
// model printing look-alike lines cannot claim the signature returned.
import type { RunInput, RunProgress, SandboxRunReport } from '../../shared/sandbox.ts';

const MAX_LINE = 256 * 1024;
const MAX_EVENTS = 64;

export interface RunnerEvent {
  tfaudit: string;
  [field: string]: unknown;
}

/** Parses one stdout line; null unless it is a runner event with this nonce. */
export function parseRunnerEvent(line: string, nonce: string): RunnerEvent | null {
  const text = line.trim();
  if (!text.startsWith('{') || !text.includes('"tfaudit"')) return null;
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
    const event = value as Record<string, unknown>;
    if (typeof event.tfaudit !== 'string' || event.nonce !== nonce) return null;
    return event as RunnerEvent;
  } catch {
    return null;
  }
}

function exceptionClassOf(event: RunnerEvent): string {
  if (typeof event.exception === 'string') return event.exception;
  const message = typeof event.message === 'string' ? event.message : '';
  return /^(\w+):/.exec(message)?.[1] ?? 'Error';
}

function asInputs(value: unknown): Record<string, RunInput> | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const out: Record<string, RunInput> = {};
  for (const [name, raw] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    if (!raw || typeof raw !== 'object') continue;
    out[name] = {
      dtype: String(raw.dtype ?? '?'),
      shape: Array.isArray(raw.shape) ? raw.shape.map(Number) : [],
      value: raw.value ?? null,
      source: raw.source === 'given' ? 'given' : 'synthesized',
    };
  }
  return out;
}

/** What the events say: phases reached, the signature call's start/return, an error with its class. */
export function progressFromEvents(events: RunnerEvent[]): { progress?: RunProgress; inputs?: Record<string, RunInput> } {
  if (!events.length) return {};
  const progress: RunProgress = { phases: [], signature: null, called: false, returned: false, error: null };
  let inputs: Record<string, RunInput> | undefined;
  for (const event of events) {
    progress.phases.push(event.tfaudit);
    if (event.tfaudit === 'calling') {
      progress.called = true;
      progress.signature = typeof event.signature === 'string' ? event.signature : null;
      inputs = asInputs(event.inputs);
    } else if (event.tfaudit === 'outputs') progress.returned = true;
    else if (event.tfaudit === 'error' && !progress.error) {
      progress.error = {
        stage: String(event.stage ?? '?'),
        message: String(event.message ?? ''),
        exceptionClass: exceptionClassOf(event),
      };
    }
  }
  return inputs ? { progress, inputs } : { progress };
}

/** Splits streamed stdout into lines and keeps the runner's events. */
export class RunnerEventCollector {
  private partial = '';
  private readonly events: RunnerEvent[] = [];

  constructor(private readonly nonce: string) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    if (this.partial.length > MAX_LINE) this.partial = '';
    for (const line of lines) this.take(line);
  }

  private take(line: string): void {
    if (this.events.length >= MAX_EVENTS) return;
    const event = parseRunnerEvent(line, this.nonce);
    if (event) this.events.push(event);
  }

  report(): Pick<SandboxRunReport, 'progress' | 'inputs'> {
    if (this.partial) {
      this.take(this.partial);
      this.partial = '';
    }
    return progressFromEvents(this.events);
  }
}
