// Closes the loop between the static and the dynamic halves: for each finding, does the sandbox
// run prove it (an observed call on the finding's resolved target, in the phase the op runs in),
// show it did not happen (the phase ran to its end and nothing matched), or neither? Pure: it
// reads the findings and a finished run report, nothing else.
import type { Finding } from '../../shared/findings.ts';
import type { BehaviourDifference, DynamicVerdict, FindingConfirmation, SandboxRunReport, StaticVerdict, SyscallObservation } from '../../shared/sandbox.ts';
import { findDisagreements, sameCheckpointLabel } from '../../shared/sandbox.ts';

export { findDisagreements, sameCheckpointLabel };

/** The sandbox's working directory: where relative paths land. */
const INSIDE_CWD = '/scratch';

const READ_CALL = /^(open|openat|openat2)\(read\)$|^(stat|lstat|stat64|lstat64|newfstatat|fstatat64|statx|access|faccessat|faccessat2)$/;
const WRITE_CALL = /\(write\)$|^(creat|unlink|unlinkat|rename|renameat|renameat2|mkdir|mkdirat|truncate|link|linkat|symlink|symlinkat|mknod|mknodat|utimensat|chmod|fchmodat)$/;
const EXHAUSTION_CLASSES = /ResourceExhausted|MemoryError|OutOfMemory|bad_alloc/;
const EXHAUSTION_TEXT = /Resource exhausted|ResourceExhausted|OOM when allocating|std::bad_alloc|MemoryError|Cannot allocate memory/;

/** What the static half says for this checkpoint. */
export function staticVerdict(finding: Finding, checkpoint: string): StaticVerdict {
  if (finding.trigger.kind === 'none') return 'ungated';
  const activation = finding.trigger.activation.find((a) => sameCheckpointLabel(a.checkpoint, checkpoint));
  return activation?.state ?? 'unknown';
}

/** The finding's resolved target, or null when the analysis could not resolve it. */
export function findingTarget(finding: Finding): string | null {
  if (finding.capability === 'resource-exhaustion') {
    const d = finding.details ?? {};
    if (d.elements) return `${d.elements} elements${d.bytes ? ` (${d.bytes} bytes)` : ''}`;
    const size = finding.arguments.find((a) => a.value !== null);
    return size ? `${size.input} = ${size.value}` : null;
  }
  const resolved = finding.arguments.find((a) => a.value !== null && a.value !== '' && a.classification !== 'size');
  return resolved?.value ?? null;
}

function normalizePath(path: string): string {
  let p = path.replace(/^file:\/\//, '');
  if (!p.startsWith('/')) p = `${INSIDE_CWD}/${p}`;
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

/** Directory part of a glob before its first wildcard (`/home/*\/.ssh` → `/home/`). */
function globBase(pattern: string): string {
  const wild = pattern.search(/[*?[]/);
  if (wild < 0) return normalizePath(pattern);
  const head = pattern.slice(0, wild);
  return normalizePath(head.slice(0, head.lastIndexOf('/') + 1) || '/') ;
}

function hostAndPort(target: string): { host: string; port: string | null } | null {
  const url = /^[a-z][a-z0-9+.-]*:\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?/i.exec(target);
  if (url) {
    const scheme = target.slice(0, target.indexOf(':')).toLowerCase();
    const defaultPort = scheme === 'https' ? '443' : scheme === 'http' ? '80' : null;
    return { host: url[1]!.replace(/^\[|\]$/g, ''), port: url[2] ?? defaultPort };
  }
  const bare = /^(\[[^\]]+\]|[^/:]+):(\d+)$/.exec(target);
  if (bare) return { host: bare[1]!.replace(/^\[|\]$/g, ''), port: bare[2]! };
  return null;
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** The run's phases the finding's op runs in; null when the run marks no phases (the whole run counts). */
function windowPhases(finding: Finding): string[] {
  switch (finding.reachability) {
    case 'load':
      return ['loading'];
    case 'signature':
      return ['calling'];
    default:
      return ['loading', 'loaded', 'restored', 'calling'];
  }
}

function describeObservation(o: SyscallObservation): string {
  const where = o.phase ? ` [${o.phase === 'calling' ? 'during the signature call' : o.phase}]` : '';
  return `${o.call} ${o.target} → ${o.result}${o.count && o.count > 1 ? ` ×${o.count}` : ''}${where}`;
}

function signaturesOf(finding: Finding): string[] {
  return finding.entryPoints.filter((e) => e.startsWith('signature: ')).map((e) => e.slice('signature: '.length));
}

function traced(run: SandboxRunReport): boolean {
  return !run.notes.some((n) => /system calls are not (observed|recorded)/.test(n));
}

interface Window {
  observations: SyscallObservation[];
  /** The op's phase began (the signature call started, the load started). */
  started: boolean;
  /** The phase ran to its end. */
  ended: boolean;
  /** Why it did not end, when it did not. */
  failure: string | null;
  phased: boolean;
}

/** `Class: message` once, even when the message already starts with the class. */
function raised(error: { exceptionClass: string; message: string }): string {
  const first = error.message.replace(/\s+/g, ' ').trim().slice(0, 300);
  return first.startsWith(`${error.exceptionClass}:`) ? first : `${error.exceptionClass}: ${first}`;
}

function runFailure(run: SandboxRunReport): string {
  const p = run.progress;
  if (run.timedOut) return `the run hit the ${run.policy.limits.wallSeconds} s wall-time limit and was killed`;
  if (p?.error) return `the runner failed at “${p.error.stage}”: ${p.error.message.split('\n')[0]!.slice(0, 300)}`;
  if (run.signal) return `the run was killed by ${run.signal}`;
  return `the run exited with status ${run.exitCode}`;
}

function windowOf(finding: Finding, run: SandboxRunReport): Window {
  const p = run.progress;
  const phased = p !== undefined || run.syscalls.some((s) => s.phase !== undefined);
  if (!phased) {
    const ok = run.exitCode === 0 && !run.timedOut && run.signal === null;
    return { observations: run.syscalls, started: true, ended: ok, failure: ok ? null : runFailure(run), phased };
  }
  const phases = windowPhases(finding);
  const observations = run.syscalls.filter((s) => s.phase !== undefined && phases.includes(s.phase));
  const reached = p?.phases ?? [];
  if (finding.reachability === 'load') {
    const started = true;
    const ended = reached.includes('loaded');
    return { observations, started, ended, failure: ended ? null : `the model did not finish loading: ${runFailure(run)}`, phased };
  }
  const started = p?.called ?? false;
  const ended = p?.returned ?? false;
  let failure: string | null = null;
  if (!started) failure = `the signature was never called: ${runFailure(run)}`;
  else if (!ended) failure = p?.error?.stage === 'call' ? `the signature call raised ${raised(p.error)}` : `the signature call did not return: ${runFailure(run)}`;
  return { observations, started, ended, failure, phased };
}

interface Match {
  matches: string[];
  /** Same-kind calls in the window, shown when the target is unresolved. */
  candidates: string[];
}

function fileMatches(finding: Finding, target: string | null, window: Window, run: SandboxRunReport, write: boolean): Match {
  const call = write ? WRITE_CALL : READ_CALL;
  const kind = window.observations.filter((o) => o.kind === 'file' && call.test(o.call));
  if (target === null) return { matches: [], candidates: kind.slice(0, 8).map(describeObservation) };
  const enumeration = finding.capability === 'filesystem-enumeration';
  const wanted = enumeration ? globBase(target) : normalizePath(target);
  const hit = (path: string) => {
    const p = normalizePath(path.replace(/…$/, ''));
    return enumeration ? p === wanted.replace(/\/$/, '') || p.startsWith(wanted.endsWith('/') ? wanted : wanted + '/') : p === wanted;
  };
  const matches = kind.filter((o) => o.target.split(' -> ').some(hit)).map(describeObservation);
  // the scratch snapshot: the sandbox shows /tmp and /scratch writes at their inside paths
  if (write && window.started) {
    for (const f of run.filesWritten) if (hit(f.path)) matches.push(`${f.change} ${f.path} (${f.size} B, in the sandbox's scratch mirror of ${wanted})`);
  }
  return { matches, candidates: [] };
}

function networkMatches(target: string | null, window: Window): Match {
  const kind = window.observations.filter((o) => o.kind === 'network' && (o.call === 'connect' || o.call === 'sendto' || o.call === 'sendmsg'));
  if (target === null) return { matches: [], candidates: kind.slice(0, 8).map(describeObservation) };
  const where = hostAndPort(target);
  if (!where) return { matches: kind.filter((o) => o.target === target).map(describeObservation), candidates: [] };
  const port = (o: SyscallObservation) => /:(\d+)$/.exec(o.target)?.[1] ?? null;
  const matches = kind
    .filter((o) => {
      if (isIpLiteral(where.host)) {
        const host = o.target.replace(/:(\d+)$/, '').replace(/^\[|\]$/g, '');
        return host === where.host && (where.port === null || port(o) === where.port);
      }
      return where.port !== null && port(o) === where.port;
    })
    .map(describeObservation);
  if (!matches.length && !isIpLiteral(where.host)) {
    // inside the sandbox a name cannot resolve: the lookup itself is the attempt
    const lookups = window.observations.filter((o) => (o.kind === 'network' && /:53$/.test(o.target)) || (o.kind === 'file' && o.target === '/etc/resolv.conf'));
    for (const o of lookups) matches.push(`${describeObservation(o)} (name lookup of ${where.host}: the sandbox has no resolver, so no connection could follow)`);
  }
  return { matches, candidates: [] };
}

function processMatches(target: string | null, window: Window): Match {
  const execs = window.observations.filter((o) => o.kind === 'process' && o.call.startsWith('exec'));
  if (target === null) return { matches: execs.map(describeObservation), candidates: [] };
  const program = target.trim().split(/\s+/)[0]!;
  const base = program.split('/').pop()!;
  const matches = execs.filter((o) => {
    const ran = o.target.split(' ')[0]!;
    return ran === program || ran.split('/').pop() === base;
  });
  return { matches: matches.map(describeObservation), candidates: execs.filter((o) => !matches.includes(o)).map(describeObservation) };
}

function exhaustionMatches(run: SandboxRunReport, window: Window): Match {
  const matches: string[] = [];
  const error = run.progress?.error;
  if (error && error.stage === 'call' && (EXHAUSTION_CLASSES.test(error.exceptionClass) || EXHAUSTION_TEXT.test(error.message))) {
    matches.push(`the signature call raised ${raised(error)}`);
  }
  const inCall = window.started && !window.ended;
  if (inCall || !window.phased) {
    if (run.timedOut) matches.push(`wall-time limit of ${run.policy.limits.wallSeconds} s hit${window.phased ? ' during the signature call' : ''}`);
    else if (run.signal === 'SIGXCPU') matches.push(`CPU-time limit of ${run.policy.limits.cpuSeconds} s hit (SIGXCPU)`);
    else if (run.signal === 'SIGKILL') matches.push('killed by SIGKILL (memory pressure)');
    else if (!matches.length && (run.signal === 'SIGABRT' || run.exitCode !== 0) && EXHAUSTION_TEXT.test(run.stderrTail)) {
      const line = run.stderrTail.split('\n').find((l) => EXHAUSTION_TEXT.test(l))!;
      matches.push(`${run.signal ?? `exit ${run.exitCode}`} with “${line.trim().slice(0, 200)}” (memory limit of ${run.policy.limits.memoryMb} MB)`);
    }
  }
  return { matches, candidates: [] };
}

/** One finding against one finished run. */
export function confirmFinding(finding: Finding, checkpoint: string, run: SandboxRunReport): FindingConfirmation {
  const target = findingTarget(finding);
  const base = { id: finding.id, op: finding.op, capability: finding.capability, target, static: staticVerdict(finding, checkpoint) };
  const verdict = (observed: DynamicVerdict, evidence: string[]): FindingConfirmation => ({ ...base, observed, evidence });

  if (finding.reachability === 'saver') {
    return verdict('inconclusive', ["TensorFlow's own save/restore machinery: the runner's load and restore exercise it; the run does not tell the model's behaviour apart from it"]);
  }
  if (finding.reachability === 'dead') return verdict('inconclusive', ['no entry point reaches this op: the run cannot exercise it']);
  const signature = run.progress?.signature ?? run.policy.signature;
  const reachedFrom = signaturesOf(finding);
  if (finding.reachability === 'signature' && reachedFrom.length && signature && !reachedFrom.includes(signature)) {
    return verdict('inconclusive', [`the run called signature ${signature}; this op is reached from ${reachedFrom.join(', ')}`]);
  }

  const window = windowOf(finding, run);
  let found: Match;
  switch (finding.capability) {
    case 'file-read':
    case 'filesystem-enumeration':
      found = fileMatches(finding, target, window, run, false);
      break;
    case 'file-write':
      found = fileMatches(finding, target, window, run, true);
      break;
    case 'network':
      found = networkMatches(target, window);
      break;
    case 'process':
      found = processMatches(target, window);
      break;
    case 'resource-exhaustion':
      found = exhaustionMatches(run, window);
      break;
    default:
      return verdict('inconclusive', [`a ${finding.capability} finding has no system-call signature the sandbox can match`]);
  }
  if (found.matches.length) return verdict('confirmed', found.matches.slice(0, 12));

  const evidence: string[] = [];
  const needsTrace = finding.capability !== 'resource-exhaustion';
  if (needsTrace && !traced(run)) return verdict('inconclusive', ['system calls were not traced in this run (strace unavailable)']);
  if (target === null && finding.capability !== 'process' && finding.capability !== 'resource-exhaustion') {
    evidence.push('the analysis could not resolve the target, so no call can be matched to it');
    if (found.candidates.length) evidence.push('calls of this kind in the same phase:', ...found.candidates);
    return verdict('inconclusive', evidence);
  }
  if (!window.ended) return verdict('inconclusive', [window.failure ?? runFailure(run), ...found.candidates.map((c) => `other call: ${c}`)]);
  const where = !window.phased ? 'the run completed' : finding.reachability === 'load' ? 'the model loaded' : `the signature ${signature ?? ''} returned`.replace('  ', ' ');
  const what =
    finding.capability === 'resource-exhaustion'
      ? `no limit was hit and no ResourceExhausted error was raised (memory limit ${run.policy.limits.memoryMb} MB, wall ${run.policy.limits.wallSeconds} s)`
      : `no ${finding.capability === 'file-write' ? 'write to' : finding.capability === 'network' ? 'connection to' : finding.capability === 'process' ? 'execution of' : 'access to'} ${target ?? 'any program'} was observed`;
  evidence.push(`${where}; ${what}`);
  if (found.candidates.length) evidence.push(...found.candidates.map((c) => `other call: ${c}`));
  return verdict('not-observed', evidence);
}

/** Per-finding dynamic verdicts for one run under one checkpoint. */
export function confirmFindings(findings: Finding[], checkpoint: string, run: SandboxRunReport): FindingConfirmation[] {
  return findings.map((f) => confirmFinding(f, checkpoint, run));
}

function outcome(run: SandboxRunReport): string {
  const p = run.progress;
  if (run.timedOut) return `killed at the ${run.policy.limits.wallSeconds} s wall-time limit${p?.called && !p.returned ? ' during the signature call' : ''}`;
  if (p?.error) return `failed at ${p.error.stage}: ${p.error.exceptionClass}`;
  if (run.signal) return `killed by ${run.signal}`;
  if (p?.returned) return `signature returned, exit ${run.exitCode}`;
  return `exit ${run.exitCode}`;
}

const MAX_DIFFERENCES = 40;

/** What the same signature did differently under each checkpoint. */
export function compareRuns(runs: SandboxRunReport[]): BehaviourDifference[] {
  if (runs.length < 2) return [];
  const label = (r: SandboxRunReport, i: number) => r.checkpoint ?? `run ${i + 1}`;
  const differences: BehaviourDifference[] = [];
  const differs = (values: string[]) => new Set(values).size > 1;

  const outcomes = runs.map(outcome);
  if (differs(outcomes)) differences.push({ subject: 'outcome', byRun: runs.map((r, i) => ({ checkpoint: label(r, i), behaviour: outcomes[i]! })) });

  const ids = [...new Set(runs.flatMap((r) => (r.findings ?? []).map((f) => f.id)))];
  for (const id of ids) {
    const per = runs.map((r) => r.findings?.find((f) => f.id === id));
    const verdicts = per.map((c) => c?.observed ?? 'not run');
    if (!differs(verdicts)) continue;
    const any = per.find(Boolean)!;
    differences.push({
      subject: `${id} ${any.op}${any.target ? ` ${any.target}` : ''}`,
      byRun: per.map((c, i) => ({ checkpoint: label(runs[i]!, i), behaviour: c ? `${c.observed}${c.evidence[0] ? `: ${c.evidence[0]}` : ''}` : 'not run' })),
    });
  }

  const files = [...new Set(runs.flatMap((r) => r.filesWritten.map((f) => f.path)))].sort();
  for (const path of files) {
    const per = runs.map((r) => r.filesWritten.find((f) => f.path === path));
    const text = per.map((f) => (f ? `${f.change} (${f.size} B)` : 'not written'));
    if (differs(text)) differences.push({ subject: `wrote ${path}`, byRun: runs.map((r, i) => ({ checkpoint: label(r, i), behaviour: text[i]! })) });
  }

  // system calls made while the signature ran (threads and their count are scheduling noise)
  const key = (o: SyscallObservation) => `${o.kind} ${o.call} ${o.target} → ${o.result}`;
  // runtime probes of /proc, /sys and /dev differ with thread scheduling, not with the checkpoint
  const inCall = (r: SandboxRunReport, o: SyscallObservation) =>
    (r.progress ? o.phase === 'calling' : o.phase === undefined || o.phase === 'calling') && !/^\/(proc|sys|dev)\//.test(o.target);
  const callsOf = (r: SandboxRunReport) =>
    new Set(r.syscalls.filter((o) => inCall(r, o) && !(o.kind === 'process' && !o.call.startsWith('exec'))).map(key));
  const sets = runs.map(callsOf);
  const all = [...new Set(sets.flatMap((s) => [...s]))].sort();
  for (const call of all) {
    const present = sets.map((s) => s.has(call));
    if (!differs(present.map(String))) continue;
    differences.push({ subject: call, byRun: runs.map((r, i) => ({ checkpoint: label(r, i), behaviour: present[i] ? 'attempted' : 'not attempted' })) });
  }
  return differences.slice(0, MAX_DIFFERENCES);
}

/** One line per run: what it did that another run did not (`read /etc/passwd, wrote /tmp/x` or `neither`). */
export function behaviourSummary(runs: SandboxRunReport[]): { checkpoint: string; did: string }[] {
  const confirmed = runs.map((r) => (r.findings ?? []).filter((f) => f.observed === 'confirmed'));
  const allIds = new Set(confirmed.flat().map((f) => f.id));
  return runs.map((r, i) => {
    const mine = confirmed[i]!;
    const phrases = mine.map((f) => `${verb(f)} ${f.target ?? f.op}`);
    const missing = [...allIds].filter((id) => !mine.some((f) => f.id === id));
    return {
      checkpoint: r.checkpoint ?? `run ${i + 1}`,
      did: phrases.length ? phrases.join(', ') : missing.length > 2 ? 'none of these' : missing.length === 2 ? 'neither' : missing.length === 1 ? 'none of that' : 'nothing the findings predict',
    };
  });
}

function verb(c: FindingConfirmation): string {
  switch (c.capability) {
    case 'file-read':
      return 'read';
    case 'filesystem-enumeration':
      return 'listed';
    case 'file-write':
      return 'wrote';
    case 'network':
      return 'connected to';
    case 'process':
      return 'executed';
    case 'resource-exhaustion':
      return 'exhausted resources with';
    default:
      return c.op;
  }
}

/** The checkpoint a run restored, named like the analysis names it. */
export function runCheckpointLabel(run: SandboxRunReport): string {
  return run.checkpoint ?? run.policy.checkpoint ?? `${run.policy.modelPath.replace(/\/+$/, '')}/variables/variables`;
}

/** The run's verdict on a finding: the recorded one, else computed from the run's observations. */
export function runVerdict(finding: Finding, run: SandboxRunReport): FindingConfirmation {
  return run.findings?.find((c) => c.id === finding.id && c.op === finding.op) ?? confirmFinding(finding, runCheckpointLabel(run), run);
}

/** Fills a finished run's checkpoint label and per-finding verdicts (app and web host runs). */
export function withVerdicts(run: SandboxRunReport, findings: Finding[], checkpoint: string): SandboxRunReport {
  return { ...run, checkpoint, findings: confirmFindings(findings, checkpoint, run) };
}
