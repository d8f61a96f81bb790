// `tfaudit report-vuln PATH [--finding ID] [--checkpoint PREFIX]... [--sandbox-run FILE]...
// [--output FILE]`: scans the model in the analyzer worker and writes the Markdown
// vulnerability report draft for one finding (default: the most severe).
// Exit codes: 0 draft written, 1 no finding to report, 2 unreadable input, 4 usage error.
import { collect, positiveInt, tensorflowVersion } from './options.ts';
import { reportDate } from '../report/date.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { SandboxRunReport } from '../../shared/sandbox.ts';
import type { AuditDocument } from '../../shared/report.ts';
import { defaultFindingId, renderVulnReport } from '../report/vuln.ts';

/** The report date: SOURCE_DATE_EPOCH (seconds) when set, for reproducible drafts, else now. */
export { reportDate };

function isRunReport(value: unknown): value is SandboxRunReport {
  const run = value as Partial<SandboxRunReport>;
  return (
    typeof run === 'object' && run !== null &&
    typeof run.runId === 'string' &&
    Array.isArray(run.command) && run.command.every((c) => typeof c === 'string') &&
    typeof run.policy === 'object' && run.policy !== null &&
    typeof run.startedAt === 'string' &&
    Array.isArray(run.filesWritten) && Array.isArray(run.syscalls) && Array.isArray(run.notes)
  );
}

/**
 * The runs in a file written by `tfaudit sandbox --format json` (`{ runs, differences,
 * disagreements }`, one run per checkpoint), or a single run report; checked before use.
 */
export function readSandboxRun(file: string): SandboxRunReport[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidArgumentError(`${file}: not a readable JSON sandbox run (${error instanceof Error ? error.message : String(error)})`);
  }
  const runs = parsed && typeof parsed === 'object' && Array.isArray((parsed as { runs?: unknown }).runs) ? (parsed as { runs: unknown[] }).runs : [parsed];
  if (!runs.length || !runs.every(isRunReport)) {
    throw new InvalidArgumentError(`${file}: not a sandbox run report (expected the JSON of \`tfaudit sandbox --format json\`)`);
  }
  return runs;
}

async function cliExit(code: number, message: string): Promise<never> {
  const { CliExit } = await import('./index.ts');
  throw new CliExit(code, message);
}

export function registerReportVuln(program: Command): void {
  program
    .command('report-vuln')
    .description('write a Markdown vulnerability report draft (type, locations, configuration, reproduction, proof, impact) for one finding')
    .argument('<path>', 'SavedModel folder, .pb/.pbtxt/.meta, checkpoint prefix, .keras/.h5 or .tflite')
    .option('--finding <id>', 'finding to report, e.g. F2 (default: the most severe)')
    .option('--checkpoint <prefix>', 'also evaluate the model under this checkpoint (repeatable)', collect, [])
    .option('--tf-runtime <version>', 'TensorFlow release that will serve the model (known kernel advisories become findings)', tensorflowVersion)
    .option('--sandbox-run <file>', 'include a recorded run (JSON from `tfaudit sandbox --format json`; repeatable)', collect, [])
    .option('--auditor <name>', 'name written in the draft')
    .option('--output <file>', 'write the draft to a file instead of standard output')
    .option('--no-isolation', 'run the analyzer worker without the OS sandbox (bubblewrap/nsjail)')
    .option('--memory <MB>', 'memory cap of the analyzer worker', positiveInt)
    .option('--timeout <S>', 'time limit of the analyzer worker, seconds', positiveInt)
    .action(async (path: string, opts) => {
      let sandboxRuns: SandboxRunReport[];
      try {
        sandboxRuns = (opts.sandboxRun as string[]).flatMap(readSandboxRun);
      } catch (error) {
        return cliExit(4, error instanceof Error ? error.message : String(error));
      }
      const { runAnalysisWorker, DEFAULT_WORKER_OPTIONS } = await import('../service/worker-client.ts');
      const result = await runAnalysisWorker(
        { model: path, checkpoints: opts.checkpoint, tfRuntime: opts.tfRuntime ?? null },
        {
          ...DEFAULT_WORKER_OPTIONS,
          isolation: opts.isolation === false ? 'off' : 'auto',
          memoryMb: opts.memory ?? DEFAULT_WORKER_OPTIONS.memoryMb,
          timeoutMs: opts.timeout ? opts.timeout * 1000 : DEFAULT_WORKER_OPTIONS.timeoutMs,
        },
      );
      const doc: AuditDocument = {
        report: result.report,
        summary: result.summary,
        auditor: opts.auditor ?? null,
        generatedAt: reportDate(),
        sandboxRuns,
      };
      const findingId: string | null = opts.finding ?? defaultFindingId(doc);
      if (findingId === null) return cliExit(1, `${path}: no findings, nothing to report`);
      if (!doc.report.findings.some((f) => f.id === findingId)) {
        const known = doc.report.findings.map((f) => `${f.id} (${f.severity} ${f.capability})`).join(', ');
        return cliExit(4, `no finding ${findingId}; the scan found: ${known}`);
      }
      const markdown = renderVulnReport(doc, findingId);
      if (opts.output) writeFileSync(opts.output, markdown);
      else process.stdout.write(markdown);
    });
}
