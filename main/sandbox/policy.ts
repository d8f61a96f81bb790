// The sandbox policy, derived from the findings before launch and shown to the auditor.
// Everything here is plain data; the only side effect is creating the fresh scratch dir.
import { mkdtempSync, mkdirSync, chmodSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import type { Finding, Capability } from '../../shared/findings.ts';
import type { SandboxBackend, SandboxPolicy, SandboxRunner } from '../../shared/sandbox.ts';
import type { SandboxOverrides } from '../../shared/api.ts';

/** Where things appear inside the sandbox. */
export const INSIDE = {
  model: '/model',
  checkpoint: '/checkpoint',
  scratch: '/scratch',
  tmp: '/tmp',
  /** Observation output (strace log, rusage); not writable by the sandboxed uid when run as root. */
  observe: '/.tfaudit',
  /** Runner scripts we generate (read-only). */
  runner: '/.tfaudit-runner',
} as const;

/** The unprivileged uid/gid the model runs as inside the sandbox. */
export const SANDBOX_UID = 65534;
export const SANDBOX_GID = 65534;

export const DEFAULT_LIMITS = {
  /** TensorFlow alone maps ~1.4 GB of address space; the limit is on address space (RLIMIT_AS). */
  tfMemoryMb: 4096,
  customMemoryMb: 1024,
  wallSeconds: 60,
  fileSizeMb: 64,
  /** Processes *and threads* (RLIMIT_NPROC counts tasks): TensorFlow starts thread pools per core. */
  processes: 64,
  tfProcesses: 512,
};

export const MAX_LIMITS = { memoryMb: 65536, wallSeconds: 3600, fileSizeMb: 4096, processes: 4096 };

export interface PolicyInput {
  modelPath: string;
  findings: Finding[];
  /** Signature keys the model offers. */
  signatures: string[];
  /** Resolved checkpoint prefix the tf-python runner restores, or null. */
  checkpoint: string | null;
  /** Where the model's root binds in that checkpoint (from the analysis' binding). */
  checkpointRoot?: string[] | null;
  overrides: SandboxOverrides;
  /** What the runner needs: the custom argv and the host paths of its runtime (mounted read-only). */
  runner?: { command?: string[]; readOnlyMounts?: string[] };
  backend?: SandboxBackend;
  /** Use this (existing) scratch dir instead of creating one; for tests and re-runs. */
  scratchDir?: string;
}

function clamp(value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.round(value)));
}

/** A fresh run directory (mode 700) holding `scratch/` (mode 700); returns the scratch path. */
export function createScratchDir(): string {
  const runRoot = mkdtempSync(join(tmpdir(), 'tfaudit-sandbox-'));
  chmodSync(runRoot, 0o700);
  const scratch = join(runRoot, 'scratch');
  mkdirSync(scratch, { mode: 0o700 });
  return scratch;
}

function capabilitiesOf(findings: Finding[]): Map<Capability, Finding[]> {
  const byCap = new Map<Capability, Finding[]>();
  for (const finding of findings) {
    const list = byCap.get(finding.capability) ?? [];
    list.push(finding);
    byCap.set(finding.capability, list);
  }
  return byCap;
}

function targetsOf(findings: Finding[]): string[] {
  const targets = new Set<string>();
  for (const finding of findings) {
    for (const argument of finding.arguments) targets.add(argument.value ?? argument.expression);
  }
  return [...targets]
    .filter(Boolean)
    .slice(0, 6)
    .map((t) => (t.length > 80 ? `${t.slice(0, 79)}…` : t));
}

function describe(findings: Finding[]): string {
  const shown = findings.slice(0, 5).map((f) => `${f.id} ${f.op}`);
  return shown.join(', ') + (findings.length > 5 ? `, +${findings.length - 5} more` : '');
}

function sameCheckpoint(activationCheckpoint: string, checkpoint: string): boolean {
  if (activationCheckpoint === checkpoint) return true;
  const a = activationCheckpoint.replace(/\/+$/, '');
  const b = checkpoint.replace(/\/+$/, '');
  return a.endsWith('/' + b) || b.endsWith('/' + a);
}

function defaultSignature(signatures: string[]): string | null {
  if (signatures.includes('serving_default')) return 'serving_default';
  return signatures[0] ?? null;
}

/** Why each setting is as it is, from the findings. */
export function policyRationale(policy: Omit<SandboxPolicy, 'rationale'>, findings: Finding[]): string[] {
  const byCap = capabilitiesOf(findings);
  const lines: string[] = [];
  const { limits } = policy;
  if (findings.length === 0) lines.push('No findings: the default restrictive policy applies (the analysis cannot prove a model safe).');

  const network = byCap.get('network') ?? [];
  if (policy.allowNetwork) {
    lines.push(
      `Network ENABLED by the auditor: the model shares the host's network and can reach it` +
        (network.length ? `; network findings present (${describe(network)}): expect real traffic` : '') + '.',
    );
  } else if (network.length) {
    lines.push(
      `Network findings present (${describe(network)}; targets: ${targetsOf(network).join(', ') || 'unresolved'}): network stays off ` +
        '(own network namespace, loopback only); connection attempts are traced and fail. Enable only to observe exfiltration attempts.',
    );
  } else {
    lines.push('Network off: own network namespace with only a private loopback.');
  }

  const writes = byCap.get('file-write') ?? [];
  lines.push(
    writes.length
      ? `File-write findings present (${describe(writes)}; targets: ${targetsOf(writes).join(', ') || 'unresolved'}): ` +
          `only the scratch directory is writable (/tmp inside the sandbox is scratch/tmp), so writes land there and are listed; writes elsewhere fail.`
      : 'Only the scratch directory (and /tmp inside it) is writable; the model directory is read-only.',
  );

  const reads = [...(byCap.get('file-read') ?? []), ...(byCap.get('filesystem-enumeration') ?? [])];
  lines.push(
    reads.length
      ? `File-read findings present (${describe(reads)}; targets: ${targetsOf(reads).join(', ') || 'unresolved'}): ` +
          'the host home, /etc secrets and other users\' files are not mounted, so such reads fail; every open is traced.'
      : "Host home, /etc secrets and other users' files are not mounted; /etc holds only generated minimal files.",
  );

  const processes = byCap.get('process') ?? [];
  if (processes.length) {
    lines.push(`Process findings present (${describe(processes)}): at most ${limits.processes} processes; every execve and fork is traced.`);
  }
  const exhaustion = byCap.get('resource-exhaustion') ?? [];
  lines.push(
    (exhaustion.length ? `Resource-exhaustion findings present (${describe(exhaustion)}): ` : 'Limits: ') +
      `address space ${limits.memoryMb} MB, CPU ${limits.cpuSeconds} s per process, wall ${limits.wallSeconds} s (then the whole process tree is killed), ` +
      `files up to ${limits.fileSizeMb} MB, ${limits.processes} processes.`,
  );
  const native = [...(byCap.get('custom-op') ?? []), ...(byCap.get('python-code') ?? [])];
  if (native.length) {
    lines.push(
      `Custom-op / Python-code findings present (${describe(native)}): loading them runs arbitrary native or Python code; ` +
        'the sandbox is the only barrier, keep the network off.',
    );
  }

  if (policy.checkpoint) {
    // gated findings only: ungated ones (TensorFlow's saver ops among them) are active under any checkpoint
    const active = findings.filter((f) =>
      f.trigger.kind !== 'none' && f.trigger.activation.some((a) => a.state === 'active' && (sameCheckpoint(a.checkpoint, policy.checkpoint!) || sameCheckpoint(resolve(a.checkpoint), policy.checkpoint!))),
    );
    lines.push(
      `Checkpoint ${policy.checkpoint} is restored before running` +
        (active.length ? `; the analysis says it activates ${describe(active)}: the run confirms or refutes it.` : '.'),
    );
  } else {
    const gated = findings.filter((f) => f.trigger.kind === 'variable' && f.trigger.activation.some((a) => a.state === 'active'));
    if (gated.length) lines.push(`Some findings (${describe(gated)}) are active only under a checkpoint: choose it to confirm them.`);
  }
  if (policy.runner === 'custom' && policy.command?.length) {
    lines.push(`Custom command: ${policy.command.join(' ')} (its program and script are mounted read-only at the same path; nothing else it names).`);
  }
  return lines;
}

/** Always visible inside the sandbox. */
export const SYSTEM_PREFIXES = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

export function isSystemPath(path: string): boolean {
  return SYSTEM_PREFIXES.some((prefix) => isInside(path, prefix));
}

/**
 * What a custom command needs mounted read-only: its program and its script (the first
 * non-option argument, when it is an existing file). Other arguments are never mounted, so a
 * host path passed as data stays invisible.
 */
export function customCommandMounts(command: string[]): string[] {
  const mounts: string[] = [];
  const script = command.slice(1).find((word) => !word.startsWith('-'));
  for (const word of [command[0], script]) {
    if (!word || !isAbsolute(word) || isSystemPath(word)) continue;
    try {
      if (statSync(word).isFile()) mounts.push(resolve(word));
    } catch {
      // not a host path
    }
  }
  return mounts;
}

export function derivePolicy(input: PolicyInput): SandboxPolicy {
  const runner: SandboxRunner = input.overrides.runner ?? 'tf-python';
  const memoryDefault = runner === 'custom' ? DEFAULT_LIMITS.customMemoryMb : DEFAULT_LIMITS.tfMemoryMb;
  const wallSeconds = clamp(input.overrides.timeoutSeconds, DEFAULT_LIMITS.wallSeconds, 1, MAX_LIMITS.wallSeconds);
  const limits = {
    memoryMb: clamp(input.overrides.memoryMb, memoryDefault, 16, MAX_LIMITS.memoryMb),
    cpuSeconds: wallSeconds,
    wallSeconds,
    fileSizeMb: DEFAULT_LIMITS.fileSizeMb,
    processes: runner === 'custom' ? DEFAULT_LIMITS.processes : DEFAULT_LIMITS.tfProcesses,
  };
  const command = runner === 'custom' ? input.runner?.command ?? [] : undefined;
  const mounts = new Set<string>(input.runner?.readOnlyMounts ?? []);
  if (command) for (const path of customCommandMounts(command)) mounts.add(path);
  const signature =
    input.overrides.signature !== undefined && input.overrides.signature !== null
      ? input.overrides.signature
      : defaultSignature(input.signatures);
  const base: Omit<SandboxPolicy, 'rationale'> = {
    backend: input.backend ?? 'bubblewrap',
    runner,
    allowNetwork: input.overrides.allowNetwork === true,
    modelPath: resolve(input.modelPath),
    checkpoint: input.checkpoint ? resolve(input.checkpoint) : null,
    ...(input.checkpoint && input.checkpointRoot ? { checkpointRoot: input.checkpointRoot } : {}),
    signature,
    scratchDir: input.scratchDir ?? createScratchDir(),
    limits,
    readOnlyMounts: [...mounts].filter((m) => !isInside(m, resolve(input.modelPath))),
    ...(command ? { command } : {}),
  };
  return { ...base, rationale: policyRationale(base, input.findings) };
}

export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Where the model appears inside the sandbox (a file model keeps its name under /model). */
export function insideModelPath(policy: SandboxPolicy, modelIsFile: boolean): string {
  return modelIsFile ? `${INSIDE.model}/${basename(policy.modelPath)}` : INSIDE.model;
}

/** Where the checkpoint prefix appears inside the sandbox, and the host dir to mount for it (if outside the model). */
export function insideCheckpoint(policy: SandboxPolicy): { prefix: string; mountDir: string | null } | null {
  if (!policy.checkpoint) return null;
  const modelDir = policy.modelPath;
  if (isInside(policy.checkpoint, modelDir)) {
    return { prefix: `${INSIDE.model}/${relative(modelDir, policy.checkpoint)}`, mountDir: null };
  }
  return { prefix: `${INSIDE.checkpoint}/${basename(policy.checkpoint)}`, mountDir: dirname(policy.checkpoint) };
}
