// `tfaudit scan DIR --recursive` (a registry audit on a worker pool) and `tfaudit merge`
// (shard outputs into one report). Wiring only: discovery, pool, cache, shards and writers are
// in main/service and main/report.
import { closeSync, existsSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Option, type Command } from 'commander';
import { SEVERITIES, type Severity } from '../../shared/findings.ts';
import type { RegistryEntry } from '../../shared/registry.ts';
import { reportDate } from '../report/date.ts';
import { ApiFailure } from '../service/errors.ts';
import { runRegistryAudit } from '../service/registry-audit.ts';
import { registryExitCode } from '../service/registry-scan.ts';
import { completeLinesLength, mergeEntries, parseShard, readRegistryJsonl } from '../service/registry-shards.ts';
import type { WorkerOptions } from '../service/worker-client.ts';
import { ProgressBar } from './progress-bar.ts';

export interface RegistryScanOpts {
  format: 'text' | 'json' | 'sarif' | 'jsonl';
  output?: string;
  failOn: Severity;
  policy?: string;
  pdf?: string;
  auditor?: string;
  jobs?: number;
  cache?: string;
  resume?: string;
  shard?: string;
  checkpoint?: string[];
  checkpointMap?: string[];
  tfRuntime?: string;
}

/** What a finished run keeps of an entry: everything for the reports that draw findings, else the row. */
function keep(entry: RegistryEntry, full: boolean, threshold: Severity): RegistryEntry {
  if (full) return entry;
  const needed = entry.maxSeverity !== null && SEVERITIES.indexOf(entry.maxSeverity) <= SEVERITIES.indexOf(threshold);
  return needed ? entry : { ...entry, findings: [], files: [] };
}

function write(text: string, output: string | undefined): void {
  const body = text.endsWith('\n') ? text : `${text}\n`;
  if (output) writeFileSync(output, body);
  else process.stdout.write(body);
}

async function emitReports(entries: RegistryEntry[], opts: Pick<RegistryScanOpts, 'format' | 'output' | 'failOn' | 'pdf' | 'auditor'>, root: string, rootUri: string | undefined, jsonlWritten: boolean): Promise<void> {
  // Loaded on use: the registry reports bring the PDF stack, which every other command would parse at start.
  const { renderRegistryJson, renderRegistryPdf, renderRegistrySarif, renderRegistryText } = await import('../report/registry.ts');
  const reportOptions = { root, threshold: opts.failOn };
  if (opts.format === 'json') write(JSON.stringify(renderRegistryJson(entries, reportOptions), null, 2), opts.output);
  else if (opts.format === 'sarif') write(JSON.stringify(renderRegistrySarif(entries, { rootUri }), null, 2), opts.output);
  else if (opts.format === 'jsonl' && !jsonlWritten) write(entries.map((e) => JSON.stringify(e)).join('\n'), opts.output);
  const summary = renderRegistryText(entries, { ...reportOptions, color: opts.format === 'text' && !opts.output && process.stdout.isTTY === true });
  if (opts.format === 'text') write(summary, opts.output);
  else process.stderr.write(summary); // the document (or the lines) own standard output
  if (opts.pdf) writeFileSync(opts.pdf, await renderRegistryPdf(entries, { ...reportOptions, auditor: opts.auditor ?? null, generatedAt: reportDate() }));
}

/** Runs a registry audit and returns the exit code (0, 1, 2). */
export async function scanRegistryCommand(dir: string, opts: RegistryScanOpts, worker: Partial<WorkerOptions>): Promise<number> {
  if (opts.checkpoint && opts.checkpoint.length > 0) throw new ApiFailure('bad-request', '--checkpoint names one model’s checkpoint; with --recursive each model is audited with the checkpoints found beside it');
  if (opts.resume && opts.output && resolve(opts.resume) !== resolve(opts.output)) throw new ApiFailure('bad-request', '--resume appends to the file it names: give the same file to --output, or leave --output out');
  if (opts.resume && opts.format !== 'jsonl') throw new ApiFailure('bad-request', '--resume continues a --format jsonl run');
  const shard = opts.shard ? parseShard(opts.shard) : null;
  const output = opts.resume ?? opts.output;
  // JSONL lines go out as each model finishes: to the file, or to standard output
  const streamJsonl = opts.format === 'jsonl';

  const previous = opts.resume && existsSync(opts.resume) ? readRegistryJsonl(opts.resume, true) : [];
  let fd: number | null = null;
  if (streamJsonl && output !== undefined) {
    fd = openSync(output, opts.resume ? 'a+' : 'w');
    if (opts.resume) ftruncateSync(fd, completeLinesLength(output)); // drop a line cut short by the interruption
  }
  const full = opts.format === 'json' || opts.format === 'sarif';
  const entries: RegistryEntry[] = previous.map((e) => keep(e, full, opts.failOn));
  const bar = new ProgressBar(process.stderr);
  try {
    const result = await runRegistryAudit({
      root: dir,
      jobs: opts.jobs,
      worker,
      policy: opts.policy ?? null,
      tfRuntime: opts.tfRuntime ?? null,
      checkpointMaps: opts.checkpointMap ?? [],
      cacheDir: opts.cache ?? null,
      shard,
      done: new Set(previous.map((e) => e.path)),
      onPlan: (plan) => {
        if (plan.discovery.models.length === 0) throw new ApiFailure('unreadable-model', `${dir}: no model found (SavedModel folders, .pb/.pbtxt, .meta, .keras, .h5, .tflite, checkpoints)`);
        for (const s of plan.discovery.skipped) process.stderr.write(`tfaudit: skipped ${s.path}: ${s.reason}\n`);
        const scope = shard ? ` (shard ${shard.index}/${shard.count} of ${plan.discovery.models.length})` : '';
        const resumed = plan.alreadyDone > 0 ? `, ${plan.alreadyDone} already in ${opts.resume}` : '';
        process.stderr.write(`tfaudit: ${plan.todo.length} model(s) to audit under ${dir}${scope}${resumed}; ${plan.isolation.description}\n`);
        bar.start(plan.todo.length);
      },
      onEntry: (entry) => {
        if (fd !== null) writeSync(fd, `${JSON.stringify(entry)}\n`);
        else if (streamJsonl) process.stdout.write(`${JSON.stringify(entry)}\n`);
        entries.push(keep(entry, full, opts.failOn));
        bar.tick(entry.path);
      },
    });
    bar.finish();
    const perModel = result.plan.todo.length > 0 ? ` (${(result.plan.todo.length / result.seconds).toFixed(2)} models/s)` : '';
    process.stderr.write(`tfaudit: audited ${result.plan.todo.length} model(s) in ${result.seconds.toFixed(1)} s${perModel}\n`);
  } finally {
    bar.finish();
    if (fd !== null) closeSync(fd);
  }
  await emitReports(entries, opts, dir, pathToFileURL(resolve(dir)).href, streamJsonl);
  return registryExitCode(entries, opts.failOn);
}

export function registerMerge(program: Command, onExit: (code: number) => never): void {
  program
    .command('merge')
    .description('combine the JSONL outputs of shard runs (scan --recursive --shard i/n --format jsonl) into one report')
    .argument('<files...>', 'JSONL files written by scan --recursive --format jsonl')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif', 'jsonl']).default('text'))
    .option('--output <file>', 'write the report to a file instead of standard output')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a model has a finding at or above this severity').choices([...SEVERITIES]).default('high'))
    .option('--root <dir>', 'the registry root the shards scanned (names it in reports, resolves SARIF URIs)')
    .option('--pdf <file>', 'also write the registry PDF report')
    .option('--auditor <name>', 'auditor name printed on the PDF')
    .action(async (files: string[], opts) => {
      const { entries, warnings } = mergeEntries(files.map((file) => ({ file, entries: readRegistryJsonl(file, false) })));
      for (const w of warnings) process.stderr.write(`tfaudit: ${w}\n`);
      const root = opts.root ?? 'merged registry';
      await emitReports(entries, opts, root, opts.root ? pathToFileURL(resolve(opts.root)).href : undefined, false);
      onExit(registryExitCode(entries, opts.failOn));
    });
}
