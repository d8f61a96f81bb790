// Progress of the one analysis a worker process runs, for the UI's progress bar. A process-wide
// reporter is enough because a worker handles a single request; outside a worker it is unset.
export interface ProgressReport {
  stage: 'parse' | 'analyse';
  message: string;
  /** 0..1 when known. */
  fraction: number | null;
}

let reporter: ((report: ProgressReport) => void) | null = null;

export function setProgressReporter(next: ((report: ProgressReport) => void) | null): void {
  reporter = next;
}

export function reportProgress(report: ProgressReport): void {
  reporter?.(report);
}

/** Reports bytes processed out of a total, at most every `intervalMs`. */
export function byteProgress(stage: ProgressReport['stage'], what: string, total: number, intervalMs = 200): (bytes: number) => void {
  let done = 0;
  let last = 0;
  return (bytes: number) => {
    done += bytes;
    const now = Date.now();
    if (reporter === null || (now - last < intervalMs && done < total)) return;
    last = now;
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    reportProgress({ stage, message: `${what} ${Math.round(fraction * 100)}% (${megabytes(done)} of ${megabytes(total)})`, fraction });
  };
}

function megabytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
