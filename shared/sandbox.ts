// Sandbox policy and run report, shared by main/sandbox, the CLI, the renderer and the PDF.

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
}
