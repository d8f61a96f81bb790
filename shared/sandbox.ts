// Sandbox policy and run report, shared by main/sandbox, the CLI, the renderer and the PDF.
import type { ActivationState, Capability } from './findings.ts';

export type SandboxBackend = 'nsjail' | 'bubblewrap';
export type SandboxRunner = 'tf-python' | 'saved-model-cli' | 'model-server' | 'custom';

export interface SandboxPolicy {
  backend: SandboxBackend;
  runner: SandboxRunner;
  allowNetwork: boolean;
  /** Model directory, mounted read-only. */
  modelPath: string;
  /** Checkpoint prefix the tf-python runner restores before running, if any. */
  checkpoint: string | null;
  /** Where the model's root binds in an object-based checkpoint (local names; [] = the checkpoint root), as the static analysis bound it. */
  checkpointRoot?: string[] | null;
  signature: string | null;
  /** Fresh writable directory, the only writable place. */
  scratchDir: string;
  limits: {
    memoryMb: number;
    cpuSeconds: number;
    wallSeconds: number;
    fileSizeMb: number;
    processes: number;
  };
  /** Extra read-only mounts (e.g. the Python/TensorFlow install). */
  readOnlyMounts: string[];
  /** Why each setting is as it is (derived from findings), shown to the auditor. */
  rationale: string[];
  /** For the custom runner only. */
  command?: string[];
}

export interface SyscallObservation {
  kind: 'file' | 'network' | 'process';
  call: string;
  /** The argument that matters: path, address, program. */
  target: string;
  result: string;
  pid?: number;
  /** How many identical attempts were merged into this observation. */
  count?: number;
  /**
   * Runner phase the call happened in (`loading`, `loaded`, `restored`, `calling`, `returned`),
   * from the run's phase markers; absent when the runner marks no phases.
   */
  phase?: string;
}

/** What the sandbox run showed about one finding. */
export type DynamicVerdict = 'confirmed' | 'not-observed' | 'inconclusive';

/** The static verdict for the run's checkpoint: an activation state, or `ungated` (no checkpoint gate). */
export type StaticVerdict = ActivationState | 'ungated';

export interface FindingConfirmation {
  id: string;
  op: string;
  capability: Capability;
  /** The resolved target the run is searched for (path, address, program, size), or null when unresolved. */
  target: string | null;
  static: StaticVerdict;
  observed: DynamicVerdict;
  /** Why: the matching observations, or what was missing. */
  evidence: string[];
}

/** One input the signature was called with, as the runner built it. */
export interface RunInput {
  dtype: string;
  shape: number[];
  /** The value (flattened, truncated) or a description of it. */
  value: unknown;
  source: 'synthesized' | 'given';
}

/** How far the runner got, from its own markers (a per-run nonce keeps the model from forging them). */
export interface RunProgress {
  phases: string[];
  signature: string | null;
  /** The signature call started / returned. */
  called: boolean;
  returned: boolean;
  /** `ExceptionClass: message` when the call (or an earlier stage) raised. */
  error: { stage: string; message: string; exceptionClass: string } | null;
}

export interface SandboxRunReport {
  runId: string;
  policy: SandboxPolicy;
  /** The exact command line that was run (sandbox wrapper included). */
  command: string[];
  startedAt: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  wallSeconds: number;
  cpuSeconds: number | null;
  peakMemoryMb: number | null;
  filesWritten: { path: string; size: number; change: 'created' | 'modified' | 'deleted' }[];
  syscalls: SyscallObservation[];
  /** strace not available, etc. */
  notes: string[];
  stdoutTail: string;
  stderrTail: string;
  /** The checkpoint label: the path as given, `<model>/variables/variables` for the model's own. */
  checkpoint?: string;
  /** Signature inputs the runner built (tf-python). */
  inputs?: Record<string, RunInput>;
  progress?: RunProgress;
  /** Per-finding dynamic verdicts (filled by the caller that knows the findings). */
  findings?: FindingConfirmation[];
}

/** A behaviour that differs between runs of the same signature under different checkpoints. */
export interface BehaviourDifference {
  /** What differs: `F1 WriteFile /tmp/x`, `wrote /tmp/x`, `outcome`. */
  subject: string;
  /** One entry per run, in run order. */
  byRun: { checkpoint: string; behaviour: string }[];
}

/** The static and the dynamic half say opposite things about a finding under a checkpoint. */
export interface Disagreement {
  findingId: string;
  checkpoint: string;
  static: StaticVerdict;
  observed: DynamicVerdict;
  message: string;
}

/** `tfaudit sandbox --format json`: one run per checkpoint, what differs, where the halves disagree. */
export interface SandboxComparison {
  runs: SandboxRunReport[];
  differences: BehaviourDifference[];
  disagreements: Disagreement[];
}

// ---------------------------------------------------------------- pure helpers (main and renderer)

/** Two checkpoint labels name the same prefix (one may be relative, the other absolute). */
export function sameCheckpointLabel(a: string, b: string): boolean {
  const x = a.replace(/\/+$/, '').replace(/^\.\//, '');
  const y = b.replace(/\/+$/, '').replace(/^\.\//, '');
  return x === y || x.endsWith('/' + y) || y.endsWith('/' + x);
}

/** Where the two halves contradict each other. */
export function findDisagreements(runs: SandboxRunReport[]): Disagreement[] {
  const out: Disagreement[] = [];
  for (const run of runs) {
    const checkpoint = run.checkpoint ?? '(unknown checkpoint)';
    for (const c of run.findings ?? []) {
      const expectedToRun = c.static === 'active' || c.static === 'ungated';
      if (expectedToRun && c.observed === 'not-observed') {
        out.push({
          findingId: c.id, checkpoint, static: c.static, observed: c.observed,
          message:
            `${c.id} ${c.op}: the analysis says it ${c.static === 'active' ? 'is active' : 'runs unconditionally'} under ${checkpoint}, ` +
            `but the run completed without it (${c.evidence[0] ?? 'nothing matched'}). One of the two halves is wrong.`,
        });
      } else if (c.static === 'dormant' && c.observed === 'confirmed') {
        out.push({
          findingId: c.id, checkpoint, static: c.static, observed: c.observed,
          message: `${c.id} ${c.op}: the analysis says it is dormant under ${checkpoint}, but the run did it (${c.evidence[0] ?? ''}). One of the two halves is wrong.`,
        });
      }
    }
  }
  return out;
}

