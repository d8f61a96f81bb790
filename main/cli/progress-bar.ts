// The registry audit's progress line on a terminal: done/total, models per second, ETA. Written
// to standard error and only when it is a TTY, so redirected output and CI logs stay clean.

interface Stream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

/** The progress line for `done` of `total` after `elapsed` seconds, `width` columns wide. */
export function progressLine(done: number, total: number, elapsed: number, width: number, current = ''): string {
  const rate = elapsed > 0 ? done / elapsed : 0;
  const eta = rate > 0 ? (total - done) / rate : NaN;
  const stats = ` ${done}/${total}  ${rate.toFixed(1)} models/s  ETA ${done >= total ? '00:00' : formatEta(eta)}`;
  const barWidth = Math.max(10, Math.min(40, width - stats.length - 24));
  const filled = total > 0 ? Math.round((done / total) * barWidth) : barWidth;
  const line = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${stats}`;
  const room = width - line.length - 2;
  const name = current && room > 8 ? `  ${current.length > room ? `…${current.slice(-(room - 1))}` : current}` : '';
  return `${line}${name}`;
}

export class ProgressBar {
  private total = 0;
  private done = 0;
  private started = 0;
  private active = false;
  private lastDraw = 0;

  constructor(private readonly stream: Stream) {}

  start(total: number): void {
    this.total = total;
    this.done = 0;
    this.started = performance.now();
    this.active = this.stream.isTTY === true && total > 0;
    this.draw('', true);
  }

  tick(current: string): void {
    this.done++;
    this.draw(current, this.done === this.total);
  }

  finish(): void {
    if (!this.active) return;
    this.active = false;
    this.stream.write('\r\x1b[2K');
  }

  private draw(current: string, force: boolean): void {
    if (!this.active) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = this.stream.columns ?? 100;
    // the model name comes from the registry: no control characters reach the terminal
    const safe = current.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
    this.stream.write(`\r\x1b[2K${progressLine(this.done, this.total, (now - this.started) / 1000, width, safe)}`);
  }
}
