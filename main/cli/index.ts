// The `tfaudit` command line. Exit codes: 0 success / no finding at or above --fail-on,
// 1 findings at or above it, 2 unreadable or unsupported input, 4 usage error.
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { collect, collectScopeRemap, positiveInt, tensorflowVersion } from './options.ts';
import { reportDate } from '../report/date.ts';
import { SEVERITIES, SEVERITY_RANK, type Severity } from '../../shared/findings.ts';
import { TOOL_NAME, TOOL_VERSION } from '../version.ts';
import { runAnalysisWorker, DEFAULT_WORKER_OPTIONS, type WorkerOptions } from '../service/worker-client.ts';
import type { WorkerUsage } from '../worker/protocol.ts';
import type { ScanReport } from '../../shared/findings.ts';
import { ApiFailure } from '../service/errors.ts';

export const EXIT = { ok: 0, findings: 1, unreadable: 2, usage: 4 } as const;

/** Thrown by command actions to end with a given exit code and message. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function workerOptions(opts: { isolation?: boolean; memory?: number; timeout?: number; stats?: string }): WorkerOptions {
  const options: WorkerOptions = {
    ...DEFAULT_WORKER_OPTIONS,
    isolation: opts.isolation === false ? 'off' : 'auto',
    memoryMb: opts.memory ?? DEFAULT_WORKER_OPTIONS.memoryMb,
    timeoutMs: opts.timeout ? opts.timeout * 1000 : DEFAULT_WORKER_OPTIONS.timeoutMs,
  };
  const statsFile = opts.stats;
  if (statsFile) options.onUsage = (usage) => {
    workerUsage = usage;
    writeStats(statsFile);
  };
  return options;
}

let workerUsage: WorkerUsage | null = null;

/** When the CLI started the worker and had its answer, ms since this process started (for --stats). */
const cliMarks: { workerStart?: number; workerAnswer?: number } = {};

const ms = (n: number) => Math.round(n * 10) / 10;

/**
 * --stats: the worker's own figures and this process's (CPU, peak RSS, time since start), written
 * when the worker answers and again once the report is out. The CLI's phases split its wall time:
 * start-up until the worker is launched; launch, from there until the worker's Node process
 * started (the sandbox: bwrap, prlimit, timeout); the worker's own wall time; answer, from the
 * worker's last figure until its answer is parsed here; report. (launch and answer compare this
 * process's clock with the worker's start, both the system clock; without it: worker = all three.)
 */
function writeStats(file: string | undefined): void {
  if (!file || !workerUsage) return;
  const usage = process.resourceUsage();
  const now = performance.now();
  const cli = { peakRssMb: Math.round(usage.maxRSS / 102.4) / 10, cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 100) / 10, wallMs: ms(now), phases: cliPhases(workerUsage, now) };
  writeFileSync(file, `${JSON.stringify({ worker: workerUsage, cli }, null, 2)}\n`);
}

function cliPhases(worker: WorkerUsage, now: number): Record<string, number> {
  const { workerStart } = cliMarks;
  if (workerStart === undefined) return {};
  const answered = cliMarks.workerAnswer ?? now;
  if (worker.startedAt === undefined) return { startup: ms(workerStart), worker: ms(answered - workerStart), report: ms(now - answered) };
  const workerStarted = worker.startedAt - performance.timeOrigin; // in this process's performance.now() terms
  return {
    startup: ms(workerStart),
    launch: ms(workerStarted - workerStart),
    worker: worker.wallMs,
    answer: ms(answered - (workerStarted + worker.wallMs)),
    report: ms(now - answered),
  };
}

/** Runs one analysis in a worker, timing it for --stats. */
async function analyseInWorker<T>(start: () => Promise<T>): Promise<T> {
  cliMarks.workerStart = performance.now();
  try {
    return await start();
  } finally {
    cliMarks.workerAnswer = performance.now();
  }
}

/**
 * The writer of a report format, loaded while the worker runs: a scan's critical path is this
 * process's start-up, then the worker's, so nothing the worker does not need loads before it starts.
 */
async function reportWriter(format: string, color: boolean): Promise<(report: ScanReport) => string> {
  if (format === 'sarif') {
    const { renderSarif } = await import('../report/sarif.ts');
    return (report) => JSON.stringify(renderSarif(report, { sourceRoot: process.cwd() }), null, 2);
  }
  if (format === 'text') {
    const { renderTextReport } = await import('../report/text.ts');
    return (report) => renderTextReport(report, { color });
  }
  return (report) => JSON.stringify(report, null, 2);
}

function emit(text: string, output: string | undefined): void {
  if (output) writeFileSync(output, text.endsWith('\n') ? text : `${text}\n`);
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function addWorkerOptions(command: Command): Command {
  return command
    .option('--no-isolation', 'run the analyzer worker without the OS sandbox (bubblewrap/nsjail)')
    .option('--memory <MB>', 'memory cap of the analyzer worker', positiveInt)
    .option('--timeout <S>', 'time limit of the analyzer worker, seconds', positiveInt)
    .option('--stats <file>', 'write what the analysis cost (worker and CLI: peak RSS, CPU, time by phase) to this file as JSON');
}

/** Commands defined in their own modules, loaded only when the command line may need them. */
const OTHER_COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  sandbox: async () => (await import('./sandbox.ts')).registerSandbox,
  'report-vuln': async () => (await import('./report-vuln.ts')).registerReportVuln,
  serve: async () => (await import('./serve.ts')).registerServe,
  demo: async () => (await import('./demo.ts')).registerDemo,
  merge: async () => {
    const { registerMerge } = await import('./registry.ts');
    return (program) =>
      registerMerge(program, (code) => {
        throw new CliExit(code, '');
      });
  },
};

/**
 * The program for this command line: `scan …` and `inspect …` define only their own command, so
 * a scan loads no other command's code (sandbox runner, web host, PDF…); anything else (help, an
 * unknown command) gets every command, in the order `--help` lists them.
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const only = argv[0] === 'scan' || argv[0] === 'inspect' ? argv[0] : null;
  const others = only ? [] : await Promise.all(Object.values(OTHER_COMMANDS).map((load) => load()));
  const program = new Command();
  program
    .name(TOOL_NAME)
    .description('Audit TensorFlow models without running them: what they can do, and which checkpoint turns it on.')
    .version(TOOL_VERSION)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  if (only !== 'scan') addWorkerOptions(
    program
      .command('inspect')
      .description('show format, meta graphs, signatures, op histogram, functions and variables')
      .argument('<path>', 'SavedModel folder, .pb/.pbtxt/.meta, checkpoint prefix, .keras/.h5 or .tflite')
      .option('--checkpoint <prefix>', 'show the variables of this checkpoint instead of the model’s own')
      .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
      .option('--output <file>', 'write to a file instead of standard output'),
  ).action(async (path: string, opts) => {
    const running = analyseInWorker(() => runAnalysisWorker({ model: path, checkpoints: opts.checkpoint ? [opts.checkpoint] : [], mode: 'inspect' }, workerOptions(opts)));
    const render = opts.format === 'json' ? null : import('./inspect-text.ts');
    const { summary } = await running;
    emit(render ? (await render).renderInspectText(summary) : JSON.stringify(summary, null, 2), opts.output);
    writeStats(opts.stats);
  });

  if (only !== 'inspect') addWorkerOptions(
    program
      .command('scan')
      .description('find what the model can do (files, network, code, memory) and which checkpoint switches it on')
      .argument('<path>', 'SavedModel folder, .pb/.pbtxt/.meta, checkpoint prefix, .keras/.h5 or .tflite; with --recursive, a folder of models')
      .option('--checkpoint <prefix>', 'also evaluate the model under this checkpoint: a prefix, or a CheckpointManager folder (its latest ckpt-N) (repeatable)', collect, [])
      .option('--checkpoint-map <OLD=NEW>', 'name-based checkpoints: names under scope OLD restore the model variables under scope NEW, as init_from_checkpoint (repeatable)', collectScopeRemap, [])
      .addOption(new Option('--format <format>', 'output format (jsonl: with --recursive, one line per model)').choices(['text', 'json', 'sarif', 'jsonl']).default('text'))
      .option('--output <file>', 'write the report to a file instead of standard output')
      .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity').choices([...SEVERITIES]).default('high'))
      .option('--policy <file>', 'op allowlist policy (JSON); every op outside it is a finding')
      .option('--tf-runtime <version>', 'TensorFlow release that will serve the model: report the known kernel advisories of that release its ops expose', tensorflowVersion)
      .option('--pdf <file>', 'also write the PDF audit report')
      .option('--auditor <name>', 'auditor name printed on the PDF cover')
      .option('-r, --recursive', 'audit every model under the folder (a registry), on a pool of isolated workers')
      .option('--jobs <N>', 'with --recursive: analyzer workers at once (default: the number of cores)', positiveInt)
      .option('--cache <dir>', 'with --recursive: reuse results of unchanged models (same files, tool version, policy, --tf-runtime and --checkpoint-map)')
      .option('--resume <file>', 'with --recursive: continue an interrupted --format jsonl run, appending to this file')
      .option('--shard <i/n>', 'with --recursive: audit only part i of n (by path relative to the folder)'),
  ).action(async (path: string, opts) => {
    if (opts.recursive) {
      const { scanRegistryCommand } = await import('./registry.ts');
      const code = await scanRegistryCommand(path, opts, workerOptions(opts));
      if (code !== EXIT.ok) throw new CliExit(code, '');
      return;
    }
    for (const flag of ['jobs', 'cache', 'resume', 'shard'] as const) {
      if (opts[flag] !== undefined) throw new CliExit(EXIT.usage, `${TOOL_NAME}: --${flag} needs --recursive`);
    }
    if (opts.format === 'jsonl') throw new CliExit(EXIT.usage, `${TOOL_NAME}: --format jsonl needs --recursive (one line per model)`);
    const running = analyseInWorker(() => runAnalysisWorker({ model: path, checkpoints: opts.checkpoint, checkpointMaps: opts.checkpointMap, policy: opts.policy ?? null, tfRuntime: opts.tfRuntime ?? null }, workerOptions(opts)));
    const [result, render] = await Promise.all([running, reportWriter(opts.format, !opts.output && process.stdout.isTTY === true)]);
    const report = result.report;
    emit(render(report), opts.output);
    if (opts.pdf) {
      // Loaded on use: the PDF stack (pdfmake, fontkit) is most of the CLI's code.
      const { renderAuditPdf } = await import('../report/pdf.ts');
      const pdf = await renderAuditPdf({ report, summary: result.summary, auditor: opts.auditor ?? null, generatedAt: reportDate(), sandboxRuns: [] });
      writeFileSync(opts.pdf, pdf);
    }
    writeStats(opts.stats);
    const threshold = SEVERITY_RANK[opts.failOn as Severity];
    if (report.findings.some((f) => SEVERITY_RANK[f.severity] >= threshold)) throw new CliExit(EXIT.findings, '');
  });

  for (const register of others) register(program);
  return program;
}

/** Runs the CLI and returns the exit code (never calls process.exit itself). */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CliExit) {
      if (error.message) process.stderr.write(`${error.message}\n`);
      return error.code;
    }
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (error instanceof ApiFailure) {
      const hint = /holds \d+ model(?: version)?s? .*open one of them/.test(error.message) ? ' (or audit every one with --recursive)' : '';
      process.stderr.write(`${TOOL_NAME}: ${error.message}${hint}\n`);
      return error.code === 'bad-request' ? EXIT.usage : EXIT.unreadable;
    }
    process.stderr.write(`${TOOL_NAME}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.unreadable;
  }
}
