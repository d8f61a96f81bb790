// TensorFlow as the oracle for the analysis engine. scripts/oracle/generate.py writes random small
// programs (If/Case/While, nested tf.functions, self-assignments, tables, random and time gates,
// tf.io.write_file sinks into canary files), each a SavedModel (checkpoint A) plus a second
// checkpoint B; we scan each with both checkpoints, then run them all in TensorFlow inside
// bubblewrap (scripts/oracle/run.py, several calls per checkpoint) and compare: a sink that ran
// under a checkpoint must not have been reported dead, never-running, dormant under it, or below
// its ungated severity. Used by test/main/analysis/oracle.test.ts and `npm run oracle`.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { REPO_ROOT } from './corpus.ts';
import { TF_PYTHON } from './tensorflow.ts';
import { findExecutable } from '../../main/sandbox/backends.ts';
import { openModel } from '../../main/formats/index.ts';
import { openCheckpoint } from '../../main/formats/tensorbundle.ts';
import { scanModel } from '../../main/analysis/scan.ts';
import { catalogueEntry } from '../../main/analysis/catalogue.ts';
import type { ActivationState, Finding, ScanReport, Severity } from '../../shared/findings.ts';
import { SEVERITY_RANK } from '../../shared/findings.ts';

export const GENERATOR = join(REPO_ROOT, 'scripts', 'oracle', 'generate.py');
export const RUNNER = join(REPO_ROOT, 'scripts', 'oracle', 'run.py');
/** Where the generated programs' sinks write, inside the sandbox (generate.py's CANARY_DIR). */
export const CANARY_INSIDE = '/tmp/oracle-canary';
export const CHECKPOINTS = ['A', 'B'] as const;
export type CheckpointLabel = (typeof CHECKPOINTS)[number];
/** Calls of the serving signature per checkpoint: counters the graph increments gate on `calls > k`, k < 4. */
export const CALLS = 5;

export interface OracleSink {
  id: string;
  /** An enclosing gate reads tf.random / tf.timestamp: TensorFlow's behaviour is not decided by the checkpoint. */
  env: boolean;
}

export interface OracleProgram {
  id: string;
  attempt: number;
  sinks: OracleSink[];
  counter: boolean;
}

export interface Manifest {
  seed: number;
  count: number;
  programs: OracleProgram[];
}

export interface TfProgramRun {
  /** Sink id → the call (1-based) after which its canary first appeared; null when loading failed. */
  A: Record<string, number> | null;
  B: Record<string, number> | null;
  error: string | null;
  callErrors: string[];
}

export interface TfRun {
  programs: Record<string, TfProgramRun>;
  seconds: number;
}

/** What the product said about one sink under one checkpoint. */
export type SinkVerdict = 'missing' | 'dead' | 'never' | ActivationState;

export interface SinkJudgement {
  program: string;
  sink: string;
  checkpoint: CheckpointLabel;
  env: boolean;
  /** The call that first wrote the canary, or null when TensorFlow never ran the sink. */
  ranAtCall: number | null;
  verdict: SinkVerdict;
  severity: Severity | null;
  ungatedSeverity: Severity | null;
  findingIds: string[];
  /** Why this is a soundness bug; empty when it is not one. */
  unsound: string[];
}

export function skipWithoutOracle(): string | false {
  if (!existsSync(TF_PYTHON)) return `TensorFlow not installed (${TF_PYTHON} missing; set TFAUDIT_TF_PYTHON or create /opt/tfvenv with tensorflow-cpu)`;
  if (!findExecutable('bwrap')) return 'bubblewrap (bwrap) not installed: the oracle runs TensorFlow only inside it';
  const probe = spawnSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', 'true'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.status !== 0) return `bubblewrap cannot create a sandbox here: ${(probe.stderr || probe.error?.message || '').trim()}`;
  return false;
}

export function generatorHash(): string {
  return createHash('sha256').update(readFileSync(GENERATOR)).digest('hex').slice(0, 16);
}

export function oracleCacheRoot(): string {
  if (process.env.TFAUDIT_ORACLE_CACHE) return process.env.TFAUDIT_ORACLE_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tfaudit-oracle');
}

/**
 * The generated programs for (generator, seed, count): from the cache when a complete set is
 * there, else generated into `<set>.partial` (resuming what an interrupted run finished: the
 * generator is deterministic and writes each program's meta.json last) and renamed into place,
 * so a half-written set never looks complete.
 */
export async function ensurePrograms(seed: number, count: number, opts: { jobs?: number; log?: (s: string) => void } = {}): Promise<{ dir: string; manifest: Manifest; cached: boolean }> {
  const root = oracleCacheRoot();
  const dir = join(root, `${generatorHash()}-seed${seed}-n${count}`);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) return { dir, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest, cached: true };
  const work = `${dir}.partial`;
  mkdirSync(work, { recursive: true });
  await runProcess(TF_PYTHON, [GENERATOR, '--seed', String(seed), '--count', String(count), '--out', work, '--jobs', String(opts.jobs ?? 2)], {
    timeoutMs: Math.max(600_000, count * 4_000),
    log: opts.log,
  });
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return { dir, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest, cached: false };
}

function runProcess(cmd: string, args: string[], opts: { timeoutMs: number; log?: (s: string) => void }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      err = (err + text).slice(-20_000);
      for (const line of text.split('\n')) if (opts.log && /^(generated|p\d+ attempt)/.test(line)) opts.log(line);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} failed (${signal ?? code}): ${err.slice(-4000)}`));
    });
  });
}

/**
 * The bubblewrap argv that runs the given programs in TensorFlow: every namespace unshared (no
 * network), the host read-only, a private /tmp, the models read-only, and only the canary
 * directory writable (bound from a fresh host directory we inspect afterwards).
 */
export function sandboxArgv(modelsDir: string, canaryHost: string, ids: string[], calls = CALLS): string[] {
  return [
    '--unshare-all', '--die-with-parent', '--new-session',
    '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp',
    '--ro-bind', modelsDir, '/tmp/oracle/models',
    '--ro-bind', RUNNER, '/tmp/oracle/run.py',
    '--bind', canaryHost, CANARY_INSIDE,
    '--setenv', 'TF_CPP_MIN_LOG_LEVEL', '3',
    '--setenv', 'CUDA_VISIBLE_DEVICES', '',
    TF_PYTHON, '/tmp/oracle/run.py', '/tmp/oracle/models', CANARY_INSIDE, String(calls), ...ids,
  ];
}

/** Runs every program under both checkpoints in sandboxed TensorFlow, `parallel` processes at once. */
export async function runInTensorFlow(dir: string, manifest: Manifest, opts: { parallel?: number; chunk?: number; log?: (s: string) => void } = {}): Promise<TfRun> {
  const ids = manifest.programs.map((p) => p.id);
  const chunk = opts.chunk ?? Math.ceil(ids.length / (opts.parallel ?? 2));
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += chunk) chunks.push(ids.slice(i, i + chunk));
  const result: TfRun = { programs: {}, seconds: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const part = chunks[next++];
      const canary = mkdtempSync(join(tmpdir(), 'tfaudit-oracle-canary-'));
      try {
        const out = await runProcess('bwrap', sandboxArgv(dir, canary, part), { timeoutMs: Math.max(300_000, part.length * 3_000) });
        const run = JSON.parse(out.trim().split('\n').pop()!) as TfRun;
        const leftover = readdirSync(canary);
        if (leftover.length) throw new Error(`canaries left behind by the runner: ${leftover.join(', ')}`);
        Object.assign(result.programs, run.programs);
        result.seconds += run.seconds;
        opts.log?.(`ran ${Object.keys(result.programs).length}/${ids.length} programs in TensorFlow`);
      } finally {
        rmSync(canary, { recursive: true, force: true });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.parallel ?? 2, chunks.length) }, worker));
  return result;
}

export async function scanProgram(dir: string, program: OracleProgram): Promise<ScanReport> {
  const model = await openModel(join(dir, program.id, 'A'));
  return scanModel(model, {
    checkpoints: [
      { label: 'A', checkpoint: model.checkpoint! },
      { label: 'B', checkpoint: await openCheckpoint(join(dir, program.id, 'B', 'variables')) },
    ],
    toolVersion: 'oracle',
  });
}

/** The sink a finding is about: the canary its filename argument names. */
export function sinkOf(f: Finding): string | null {
  if (f.op !== 'WriteFile') return null;
  for (const a of f.arguments) {
    const m = /\/oracle-canary\/(p\d+_s\d+)\b/.exec(a.value ?? a.expression);
    if (m) return m[1];
  }
  return null;
}

export function ungatedSeverity(f: Finding): Severity | null {
  return catalogueEntry(f.op).find((r) => r.capability === f.capability)?.baseSeverity ?? null;
}

function findingVerdict(f: Finding, checkpoint: CheckpointLabel): SinkVerdict {
  if (f.reachability === 'dead' || f.reachability === 'saver') return 'dead';
  const activation = f.trigger.activation.find((a) => a.checkpoint === checkpoint);
  // An info-severity write is one the report says can never run (a constant-false gate).
  if (f.severity === 'info') return 'never';
  return activation?.state ?? (f.trigger.kind === 'variable' ? 'unknown' : 'active');
}

/** Every (sink, checkpoint) of one program: what TensorFlow did, what we said, and whether that is unsound. */
export function judgeProgram(program: OracleProgram, report: ScanReport, run: TfProgramRun): SinkJudgement[] {
  const bySink = new Map<string, Finding[]>();
  for (const f of report.findings) {
    const sink = sinkOf(f);
    if (sink) bySink.set(sink, [...(bySink.get(sink) ?? []), f]);
  }
  const out: SinkJudgement[] = [];
  for (const sink of program.sinks) {
    const findings = bySink.get(sink.id) ?? [];
    for (const checkpoint of CHECKPOINTS) {
      const ranAtCall = run[checkpoint]?.[sink.id] ?? null;
      const verdicts = findings.map((f) => findingVerdict(f, checkpoint));
      const verdict: SinkVerdict = findings.length === 0 ? 'missing' : worstVerdict(verdicts);
      // A copy of a nested function whose gate reads the function's own argument is input-driven
      // (at most medium, by design): TensorFlow keeps such a copy for the saved tf.function object,
      // callable with any argument. Severity is judged on the copies no caller input decides.
      const decidedCopies = findings.filter((f) => !inputGated(f));
      const severities = decidedCopies.map((f) => f.severity);
      const severity = severities.length ? severities.reduce((a, b) => (SEVERITY_RANK[a] <= SEVERITY_RANK[b] ? a : b)) : null;
      const ungated = findings.length ? ungatedSeverity(findings[0]) : null;
      const unsound: string[] = [];
      if (ranAtCall !== null) {
        if (verdict === 'missing') unsound.push('ran in TensorFlow but the report has no finding for it');
        else if (verdict !== 'active' && verdict !== 'unknown') unsound.push(`ran in TensorFlow (call ${ranAtCall}) but reported ${verdict}`);
        if (severity && ungated && SEVERITY_RANK[severity] < SEVERITY_RANK[ungated]) unsound.push(`ran in TensorFlow but severity ${severity} is below the ungated ${ungated}`);
      }
      // Unknown must never lower severity, whether or not this run happened to take the branch.
      for (const f of decidedCopies) {
        const state = f.trigger.activation.find((a) => a.checkpoint === checkpoint)?.state;
        const base = ungatedSeverity(f);
        if (state === 'unknown' && base && SEVERITY_RANK[f.severity] < SEVERITY_RANK[base] && !unsound.some((u) => u.includes('below the ungated')))
          unsound.push(`verdict unknown but severity ${f.severity} is below the ungated ${base}`);
      }
      out.push({ program: program.id, sink: sink.id, checkpoint, env: sink.env, ranAtCall, verdict, severity, ungatedSeverity: ungated, findingIds: findings.map((f) => f.id), unsound });
    }
  }
  return out;
}

/** A slice input that the caller feeds: a function argument (`fn/x (_Arg)`) or a placeholder (bare name). */
const CALLER_INPUT = /\((_Arg|Placeholder|PlaceholderV2|PlaceholderWithDefault)\)$|^[^()]*$/;

/**
 * Some gate's predicate reads a signature input or a function argument. Ops an engine lists as
 * "inputs" only because it cannot evaluate them (Timestamp, RandomUniform, a table lookup) do not
 * count: the caller controls none of them.
 */
export function inputGated(f: Finding): boolean {
  return f.trigger.gates.some((g) => g.predicate.inputs.some((i) => CALLER_INPUT.test(i)));
}

const VERDICT_ORDER: SinkVerdict[] = ['missing', 'dead', 'never', 'dormant', 'unknown', 'active'];
/** With several findings for one sink, the one that claims the least (the one that could be unsound). */
function worstVerdict(vs: SinkVerdict[]): SinkVerdict {
  return vs.reduce((a, b) => (VERDICT_ORDER.indexOf(a) <= VERDICT_ORDER.indexOf(b) ? a : b));
}

export interface OracleSummary {
  programs: number;
  programsWithErrors: number;
  programsWithCallErrors: number;
  sinks: number;
  pairs: number;
  ran: number;
  notRan: number;
  verdicts: Record<SinkVerdict, { ran: number; notRan: number }>;
  soundnessBugs: SinkJudgement[];
  /** (sink, checkpoint) pairs whose gates the checkpoint decides (no random/time gate). */
  decided: number;
  decidedUnknown: number;
  /** Decided pairs where the verdict matched TensorFlow exactly (active & ran, or dormant/dead/never & not ran). */
  decidedExact: number;
  /** Reported active, never ran in CALLS calls: over-approximation (legitimate for random/time gates). */
  activeNotRan: number;
  activeNotRanDecided: number;
}

export function summarize(manifest: Manifest, run: TfRun, judgements: SinkJudgement[]): OracleSummary {
  const verdicts = Object.fromEntries(VERDICT_ORDER.map((v) => [v, { ran: 0, notRan: 0 }])) as OracleSummary['verdicts'];
  let ran = 0;
  let decided = 0;
  let decidedUnknown = 0;
  let decidedExact = 0;
  let activeNotRan = 0;
  let activeNotRanDecided = 0;
  for (const j of judgements) {
    const did = j.ranAtCall !== null;
    if (did) ran++;
    verdicts[j.verdict][did ? 'ran' : 'notRan']++;
    if (j.verdict === 'active' && !did) {
      activeNotRan++;
      if (!j.env) activeNotRanDecided++;
    }
    if (!j.env) {
      decided++;
      if (j.verdict === 'unknown') decidedUnknown++;
      if (did ? j.verdict === 'active' : ['dormant', 'dead', 'never'].includes(j.verdict)) decidedExact++;
    }
  }
  const runs = Object.values(run.programs);
  return {
    programs: manifest.programs.length,
    programsWithErrors: runs.filter((r) => r.error).length,
    programsWithCallErrors: runs.filter((r) => r.callErrors.length).length,
    sinks: manifest.programs.reduce((a, p) => a + p.sinks.length, 0),
    pairs: judgements.length,
    ran,
    notRan: judgements.length - ran,
    verdicts,
    soundnessBugs: judgements.filter((j) => j.unsound.length),
    decided,
    decidedUnknown,
    decidedExact,
    activeNotRan,
    activeNotRanDecided,
  };
}

/** Scans every program (in this process) and judges it against TensorFlow's run. */
export async function judgeAll(dir: string, manifest: Manifest, run: TfRun, log?: (s: string) => void): Promise<{ judgements: SinkJudgement[]; scanErrors: string[] }> {
  const judgements: SinkJudgement[] = [];
  const scanErrors: string[] = [];
  for (const [i, program] of manifest.programs.entries()) {
    const tf = run.programs[program.id];
    if (!tf || tf.error) continue;
    const report = await scanProgram(dir, program);
    for (const e of report.errors) scanErrors.push(`${program.id}: ${e.message}`);
    judgements.push(...judgeProgram(program, report, tf));
    if (log && (i + 1) % 100 === 0) log(`scanned ${i + 1}/${manifest.programs.length} programs`);
  }
  return { judgements, scanErrors };
}

export function pct(n: number, d: number): string {
  return d ? `${((100 * n) / d).toFixed(1)}%` : 'n/a';
}

export function summaryTable(s: OracleSummary): string {
  const rows: [string, string][] = [
    ['programs', `${s.programs} (${s.programsWithErrors} failed to load in TF, ${s.programsWithCallErrors} with a failing call)`],
    ['sinks', String(s.sinks)],
    ['(sink, checkpoint) pairs', String(s.pairs)],
    ['ran in TensorFlow', String(s.ran)],
    ['did not run', String(s.notRan)],
    ...Object.entries(s.verdicts).map(([v, c]) => [`verdict ${v}`, `${c.ran + c.notRan} (ran ${c.ran}, not ran ${c.notRan})`] as [string, string]),
    ['SOUNDNESS BUGS', String(s.soundnessBugs.length)],
    ['decided by the checkpoint (no random/time gate)', String(s.decided)],
    ['  verdict unknown there (imprecision)', `${s.decidedUnknown} (${pct(s.decidedUnknown, s.decided)})`],
    ['  verdict exactly TensorFlow\'s', `${s.decidedExact} (${pct(s.decidedExact, s.decided)})`],
    ['reported active, never ran', `${s.activeNotRan} (${s.activeNotRanDecided} of them decided)`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

export function describeBug(j: SinkJudgement, dir: string): string {
  return `${j.sink} under checkpoint ${j.checkpoint}: ${j.unsound.join('; ')} [findings ${j.findingIds.join(',') || 'none'}, severity ${j.severity ?? '-'}] — program ${join(dir, j.program, 'program.py')}`;
}
