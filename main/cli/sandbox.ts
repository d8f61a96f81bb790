// `tfaudit sandbox PATH [--checkpoint A] [--compare B]...`: run the model inside the OS sandbox
// with a policy derived from the findings, once per checkpoint with the same signature and
// inputs, and say for every finding whether the run confirmed it. Exit codes: 0 every run
// exited 0; 1 a run failed, was killed or timed out; 2 the model, a checkpoint or the inputs file
// does not exist; 3 no sandbox backend or no runtime for the runner; 4 usage error.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { collect } from './options.ts';
import { quote } from 'shell-quote';
import type { Finding } from '../../shared/findings.ts';
import type { TensorInfoIR } from '../../shared/ir.ts';
import type { SandboxComparison, SandboxPolicy, SandboxRunReport, SandboxRunner } from '../../shared/sandbox.ts';
import { behaviourSummary, compareRuns, confirmFindings, findDisagreements } from '../sandbox/confirm.ts';
import { detectBackend } from '../sandbox/backends.ts';
import { derivePolicy } from '../sandbox/policy.ts';
import { launchPrepared, prepareRun, type PreparedRun } from '../sandbox/run.ts';
import { resolveRuntime, RunnerUnavailableError, splitCommand, type RuntimeResolution } from '../sandbox/runners.ts';

export const SANDBOX_EXIT = { ran: 0, failed: 1, unreadable: 2, unavailable: 3, usage: 4 } as const;
export const RUNNERS: SandboxRunner[] = ['tf-python', 'saved-model-cli', 'model-server', 'custom'];

export interface SandboxCliOptions {
  checkpoint?: string;
  /** More checkpoints to run the same signature and inputs under (tf-python runner). */
  compare?: string[];
  /** JSON file: input name → nested list or string, instead of synthesized inputs. */
  inputs?: string;
  runner?: SandboxRunner;
  command?: string;
  signature?: string;
  allowNetwork?: boolean;
  timeout?: number;
  memory?: number;
  format?: 'text' | 'json';
  dryRun?: boolean;
  /** Skip the static scan (the policy then comes from no findings). */
  scan?: boolean;
  /** false: run the analyzer worker without the OS sandbox. */
  isolation?: boolean;
  /** Where output goes (tests capture it); default process.stdout / process.stderr. */
  out?: (text: string) => void;
  err?: (text: string) => void;
  /** PATH used to find the sandbox backend (tests simulate a host without one). */
  pathEnv?: string;
}

interface Analysis {
  findings: Finding[];
  signatures: string[];
  inputs: Record<string, Record<string, TensorInfoIR>>;
  note: string | null;
  /** Per checkpoint as given: where the analysis bound the model's root in it (object-based), for the runner. */
  checkpointRoots?: Record<string, string[] | null>;
  /** Per checkpoint as given: the label the analysis's activations use. */
  checkpointLabels?: Record<string, string>;
}

/** Findings and signatures from the (isolated) analyzer worker; a failure yields none, with a note. */
async function analyseForPolicy(path: string, checkpoints: string[], isolation: boolean): Promise<Analysis> {
  try {
    const { runAnalysisWorker, DEFAULT_WORKER_OPTIONS } = await import('../service/worker-client.ts');
    const result = await runAnalysisWorker({ model: path, checkpoints }, { ...DEFAULT_WORKER_OPTIONS, isolation: isolation ? 'auto' : 'off' });
    const inputs: Analysis['inputs'] = {};
    // the serving meta graph's signatures (the runners load tag "serve")
    const metas = [...result.summary.metaGraphs].sort((a, b) => Number(b.tags.includes('serve')) - Number(a.tags.includes('serve')));
    for (const meta of metas) for (const signature of meta.signatures) inputs[signature.key] ??= signature.inputs;
    const bound = (given: string) => result.report.checkpoints.find((c) => c.given === given);
    const checkpointRoots = Object.fromEntries(checkpoints.map((given) => [given, bound(given)?.coverage?.rootPath ?? null]));
    // a folder given (CheckpointManager) is named by the prefix the analysis picked in it
    const checkpointLabels = Object.fromEntries(checkpoints.map((given) => [given, bound(given)?.path ?? given]));
    return { findings: result.report.findings, signatures: Object.keys(inputs), inputs, note: null, checkpointRoots, checkpointLabels };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { findings: [], signatures: [], inputs: {}, note: `static scan failed (${message}); the policy is derived from no findings` };
  }
}

function formatBytes(size: number): string {
  return size < 1024 ? `${size} B` : size < 1024 * 1024 ? `${(size / 1024).toFixed(1)} KB` : `${(size / 1024 / 1024).toFixed(1)} MB`;
}

export function renderPolicyText(policy: SandboxPolicy): string {
  const { limits } = policy;
  const lines = [
    `Sandbox policy (${policy.backend}, runner ${policy.runner})`,
    `  model (read-only):   ${policy.modelPath}`,
    `  checkpoint:          ${policy.checkpoint ?? '(model’s own)'}`,
    `  signature:           ${policy.signature ?? '(none)'}`,
    `  network:             ${policy.allowNetwork ? 'ON (host network)' : 'off (own namespace)'}`,
    `  writable scratch:    ${policy.scratchDir}`,
    `  limits:              address space ${limits.memoryMb} MB, CPU ${limits.cpuSeconds} s, wall ${limits.wallSeconds} s, files ${limits.fileSizeMb} MB, ${limits.processes} processes`,
    `  extra read-only:     ${policy.readOnlyMounts.join(', ') || '(none)'}`,
    ...(policy.command ? [`  command:             ${quote(policy.command)}`] : []),
    'Why:',
    ...policy.rationale.map((r) => `  - ${r}`),
  ];
  return lines.join('\n');
}

const IMPORTANT_FIRST = (o: SandboxRunReport['syscalls'][number]) =>
  (o.kind === 'network' ? 0 : o.kind === 'process' && o.call.startsWith('exec') ? 1 : o.result !== 'ok' ? 2 : o.call.includes('write') ? 3 : 4);

export function renderRunText(report: SandboxRunReport, maxSyscalls = 60): string {
  const status = report.timedOut
    ? `killed after the ${report.policy.limits.wallSeconds} s wall-time limit`
    : report.signal
      ? `killed by ${report.signal}`
      : `exit ${report.exitCode}`;
  const lines = [
    `Sandbox run ${report.runId} (${report.policy.backend}, runner ${report.policy.runner}, started ${report.startedAt})`,
    `  result:        ${status}`,
    `  wall time:     ${report.wallSeconds.toFixed(2)} s`,
    `  CPU time:      ${report.cpuSeconds === null ? 'unknown' : `${report.cpuSeconds.toFixed(2)} s`}`,
    `  peak memory:   ${report.peakMemoryMb === null ? 'unknown' : `${report.peakMemoryMb.toFixed(1)} MB`}`,
    `Files written (scratch ${report.policy.scratchDir}):`,
    ...(report.filesWritten.length ? report.filesWritten.map((f) => `  ${f.change.padEnd(8)} ${f.path} (${formatBytes(f.size)})`) : ['  (none)']),
  ];
  const calls = [...report.syscalls].sort((a, b) => IMPORTANT_FIRST(a) - IMPORTANT_FIRST(b));
  lines.push(`Attempted system calls (${calls.length}${calls.length ? ', most telling first' : ''}):`);
  if (!calls.length) lines.push('  (none recorded)');
  for (const call of calls.slice(0, maxSyscalls)) {
    lines.push(`  ${call.kind.padEnd(7)} ${call.call} ${call.target} → ${call.result}${call.count && call.count > 1 ? ` ×${call.count}` : ''}`);
  }
  if (calls.length > maxSyscalls) lines.push(`  … ${calls.length - maxSyscalls} more (--format json lists all)`);
  if (report.notes.length) lines.push('Notes:', ...report.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}

function validate(opts: SandboxCliOptions): string | null {
  if (opts.runner && !RUNNERS.includes(opts.runner)) return `unknown runner ${opts.runner} (one of ${RUNNERS.join(', ')})`;
  if (opts.format && opts.format !== 'text' && opts.format !== 'json') return `unknown format ${opts.format}`;
  if (opts.command && opts.runner && opts.runner !== 'custom') return '--command goes with --runner custom';
  if ((opts.runner ?? (opts.command ? 'custom' : 'tf-python')) === 'custom' && !opts.command) return '--runner custom needs --command';
  if (opts.compare?.length && (opts.runner ?? (opts.command ? 'custom' : 'tf-python')) !== 'tf-python') {
    return '--compare needs the tf-python runner (the only one that restores a checkpoint)';
  }
  for (const [name, value] of [['--timeout', opts.timeout], ['--memory', opts.memory]] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value <= 0)) return `${name} must be a positive number`;
  }
  return null;
}

/** `--inputs FILE.json`: an object of input name → string, number, boolean or nested list of them. */
export function readInputValues(file: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: expected a JSON object of input name → value`);
  const scalarOrList = (value: unknown, depth: number): boolean =>
    depth < 32 &&
    (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) ||
      (Array.isArray(value) && value.every((v) => scalarOrList(v, depth + 1))));
  for (const [name, value] of Object.entries(parsed)) {
    if (!scalarOrList(value, 0)) throw new Error(`${file}: input ${name} must be a string, number, boolean or nested list of them`);
  }
  return parsed as Record<string, unknown>;
}

/** The label of the model's own checkpoint, as the analysis names it. */
export function ownCheckpointLabel(path: string): string {
  return `${path.replace(/\/+$/, '')}/variables/variables`;
}

function checkpointExists(prefix: string): boolean {
  return existsSync(`${prefix}.index`) || existsSync(prefix);
}

function verdictWord(observed: string): string {
  return observed === 'not-observed' ? 'not observed' : observed;
}

/** Per-run findings with their verdicts, the inputs, then differences; disagreements first. */
export function renderComparisonText(comparison: SandboxComparison): string {
  const lines: string[] = [];
  if (comparison.disagreements.length) {
    lines.push(`DISAGREEMENT between the static analysis and the sandbox (${comparison.disagreements.length}):`);
    for (const d of comparison.disagreements) lines.push(`  ! ${d.message}`);
    lines.push('');
  }
  for (const run of comparison.runs) {
    lines.push(`Findings under ${run.checkpoint ?? '(no checkpoint)'} (signature ${run.progress?.signature ?? run.policy.signature ?? '?'}):`);
    if (run.inputs && Object.keys(run.inputs).length) {
      lines.push('  inputs:');
      for (const [name, input] of Object.entries(run.inputs)) {
        lines.push(`    ${name}: ${input.dtype}[${input.shape.join(',')}] ${input.source} ${JSON.stringify(input.value).slice(0, 160)}`);
      }
    }
    const all = run.findings ?? [];
    // TensorFlow's own saver ops are never judged by a run: one line for all of them
    const saver = all.filter((f) => f.observed === 'inconclusive' && f.evidence[0]?.startsWith("TensorFlow's own save/restore machinery"));
    const findings = all.filter((f) => !saver.includes(f));
    if (!all.length) lines.push('  (no findings to confirm)');
    for (const f of findings) {
      lines.push(`  ${f.id.padEnd(4)} ${f.op} (${f.capability}${f.target ? ` ${f.target}` : ''}): static ${f.static}, sandbox ${verdictWord(f.observed).toUpperCase()}`);
      for (const e of f.evidence) lines.push(`         ${e}`);
    }
    if (saver.length) lines.push(`  ${saver.map((f) => `${f.id} ${f.op}`).join(', ')}: TensorFlow's own save/restore machinery, not judged by the run (inconclusive)`);
    lines.push('');
  }
  if (comparison.runs.length > 1) {
    lines.push('Checkpoint against checkpoint (same signature, same inputs):');
    for (const s of behaviourSummary(comparison.runs)) lines.push(`  under ${s.checkpoint}: ${s.did}`);
    if (!comparison.differences.length) lines.push('  no difference in behaviour was observed');
    for (const d of comparison.differences) {
      lines.push(`  ${d.subject}`);
      for (const r of d.byRun) lines.push(`    ${r.checkpoint}: ${r.behaviour}`);
    }
  }
  return lines.join('\n');
}

interface PlannedRun {
  label: string;
  /** Resolved prefix to restore, or null for the model's own. */
  checkpoint: string | null;
}

/** Implements `tfaudit sandbox`; returns the exit code. */
export async function sandboxCli(path: string, opts: SandboxCliOptions = {}): Promise<number> {
  const out = opts.out ?? ((text: string) => process.stdout.write(text));
  const err = opts.err ?? ((text: string) => process.stderr.write(text));
  const problem = validate(opts);
  if (problem) {
    err(`tfaudit sandbox: ${problem}\n`);
    return SANDBOX_EXIT.usage;
  }
  if (!existsSync(path)) {
    err(`tfaudit sandbox: ${path}: no such file or directory\n`);
    return SANDBOX_EXIT.unreadable;
  }
  for (const checkpoint of [opts.checkpoint, ...(opts.compare ?? [])]) {
    if (checkpoint && !checkpointExists(checkpoint)) {
      err(`tfaudit sandbox: checkpoint ${checkpoint}: neither ${checkpoint}.index nor ${checkpoint} exists\n`);
      return SANDBOX_EXIT.unreadable;
    }
  }
  let inputValues: Record<string, unknown> | undefined;
  if (opts.inputs) {
    if (!existsSync(opts.inputs)) {
      err(`tfaudit sandbox: inputs ${opts.inputs}: no such file\n`);
      return SANDBOX_EXIT.unreadable;
    }
    try {
      inputValues = readInputValues(opts.inputs);
    } catch (error) {
      err(`tfaudit sandbox: ${(error as Error).message}\n`);
      return SANDBOX_EXIT.usage;
    }
  }
  const runner: SandboxRunner = opts.runner ?? (opts.command ? 'custom' : 'tf-python');
  let command: string[] | undefined;
  if (runner === 'custom') {
    try {
      command = splitCommand(opts.command!);
    } catch (error) {
      err(`tfaudit sandbox: ${(error as Error).message}\n`);
      return SANDBOX_EXIT.usage;
    }
    if (!command.length) {
      err('tfaudit sandbox: --command is empty\n');
      return SANDBOX_EXIT.usage;
    }
  }

  const detection = await detectBackend({ pathEnv: opts.pathEnv });
  if (detection.backend === null) {
    err(`tfaudit sandbox: ${detection.message}\n`);
    return SANDBOX_EXIT.unavailable;
  }
  let runtime: RuntimeResolution;
  try {
    runtime = await resolveRuntime(runner, command);
  } catch (error) {
    if (error instanceof RunnerUnavailableError) {
      err(`tfaudit sandbox: runner ${runner} unavailable: ${error.message}\n`);
      return SANDBOX_EXIT.unavailable;
    }
    throw error;
  }

  // one run per checkpoint, the model's own named like the analysis names it
  const own = resolve(ownCheckpointLabel(path));
  const planned: PlannedRun[] = [];
  for (const given of [opts.checkpoint ?? null, ...(opts.compare ?? [])]) {
    const isOwn = given === null || resolve(given) === own;
    const label = isOwn ? ownCheckpointLabel(path) : given!;
    if (planned.some((p) => resolve(p.label) === resolve(label))) continue;
    planned.push({ label, checkpoint: isOwn ? null : resolve(given!) });
  }
  const analysed = planned.filter((p) => p.checkpoint !== null).map((p) => p.label);
  const analysis: Analysis = opts.scan === false
    ? { findings: [], signatures: [], inputs: {}, note: 'static scan skipped; the policy is derived from no findings' }
    : await analyseForPolicy(path, analysed, opts.isolation !== false);

  const json = opts.format === 'json';
  const runs: SandboxRunReport[] = [];
  let allRan = true;
  for (const [index, plan] of planned.entries()) {
    const policy = derivePolicy({
      modelPath: resolve(path),
      findings: analysis.findings,
      signatures: analysis.signatures,
      checkpoint: plan.checkpoint,
      checkpointRoot: plan.checkpoint ? analysis.checkpointRoots?.[plan.label] ?? null : null,
      overrides: { runner, allowNetwork: opts.allowNetwork === true, timeoutSeconds: opts.timeout, memoryMb: opts.memory, signature: opts.signature ?? null },
      runner: { command, readOnlyMounts: runtime.readOnlyMounts },
      backend: detection.backend,
    });
    if (analysis.note) policy.rationale.unshift(analysis.note);

    let prepared: PreparedRun;
    try {
      prepared = await prepareRun(policy, { detection, signatureInputs: policy.signature ? analysis.inputs[policy.signature] : undefined, inputValues });
    } catch (error) {
      rmSync(dirname(policy.scratchDir), { recursive: true, force: true });
      if (error instanceof RunnerUnavailableError) {
        err(`tfaudit sandbox: ${error.message}\n`);
        return SANDBOX_EXIT.unavailable;
      }
      throw error;
    }

    if (opts.dryRun) {
      // nothing ran: the fresh scratch dir is removed again
      rmSync(dirname(policy.scratchDir), { recursive: true, force: true });
      if (json) {
        if (index === 0) out(JSON.stringify({ policy: prepared.policy, command: prepared.command.argv, configFiles: prepared.command.configFiles, notes: prepared.notes }, null, 2) + '\n');
      } else {
        out(`${renderPolicyText(prepared.policy)}\nCommand:\n  ${quote(prepared.command.argv)}\n`);
        for (const file of prepared.command.configFiles.filter((f) => f.path.endsWith('.cfg'))) out(`Config file ${file.path}:\n${file.content}`);
        if (prepared.notes.length) out(`Notes:\n${prepared.notes.map((n) => `  - ${n}`).join('\n')}\n`);
      }
      continue;
    }

    if (!json) out(`${planned.length > 1 ? `=== run ${index + 1} of ${planned.length}: checkpoint ${plan.label} ===\n` : ''}${renderPolicyText(prepared.policy)}\n--- model output ---\n`);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let report: SandboxRunReport;
    try {
      report = await launchPrepared(prepared, {
        signal: controller.signal,
        // in JSON mode stdout carries only the report: the live output goes to stderr
        onOutput: (stream, chunk) => (stream === 'stdout' && !json ? out(chunk) : err(chunk)),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    report.checkpoint = plan.label;
    report.findings = confirmFindings(analysis.findings, analysis.checkpointLabels?.[plan.label] ?? plan.label, report);
    runs.push(report);
    if (!(report.exitCode === 0 && !report.timedOut)) allRan = false;
    if (!json) out(`--- end of output ---\n${renderRunText(report)}\n`);
    if (controller.signal.aborted) break;
  }
  if (opts.dryRun) return SANDBOX_EXIT.ran;

  const comparison: SandboxComparison = { runs, differences: compareRuns(runs), disagreements: findDisagreements(runs) };
  out(json ? JSON.stringify(comparison, null, 2) + '\n' : `\n${renderComparisonText(comparison)}\n`);
  return allRan ? SANDBOX_EXIT.ran : SANDBOX_EXIT.failed;
}

/** The brief's name for the CLI entry (same function). */
export const sandboxCommand = sandboxCli;

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

export function registerSandbox(program: Command): void {
  program
    .command('sandbox')
    .description('run the model inside an OS sandbox (nsjail or bubblewrap) with a policy derived from the findings, and report what it did')
    .argument('<path>', 'SavedModel folder (or model file for a custom command)')
    .option('--checkpoint <prefix>', 'restore this checkpoint before running (tf-python runner)')
    .option('--compare <prefix>', 'also run the same signature and inputs under this checkpoint and report the difference (repeatable; <model>/variables/variables is the model\'s own)', collect, [])
    .option('--inputs <file.json>', 'signature inputs: JSON object of input name → nested list or string (default: synthesized from the signature)')
    .addOption(new Option('--runner <runner>', 'what runs the model').choices(RUNNERS))
    .option('--command <cmd>', "custom runner command line, e.g. 'python3 /path/probe.py' (split like a shell would, run without one)")
    .option('--signature <key>', 'signature to call (default serving_default or the first)')
    .option('--allow-network', 'share the host network (only to observe exfiltration attempts)')
    .option('--timeout <S>', 'wall-time limit, seconds (the process tree is killed)', positiveNumber)
    .option('--memory <MB>', 'address-space limit, MB', positiveNumber)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--dry-run', 'print the policy and the exact sandbox command without running')
    .option('--no-scan', 'skip the static scan (policy from no findings)')
    .option('--no-isolation', 'run the static scan\'s analyzer worker without the OS sandbox')
    .action(async (path: string, o: SandboxCliOptions) => {
      const code = await sandboxCli(path, o);
      if (code !== 0) {
        const { CliExit } = await import('./index.ts');
        throw new CliExit(code, '');
      }
    });
}
