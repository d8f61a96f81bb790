// The scan report: findings and their evidence. This is the stable JSON schema
// (`tfaudit scan --format json`, schemaVersion 1) and what the renderer and PDF draw.

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CAPABILITIES = [
  'file-read',
  'file-write',
  'filesystem-enumeration',
  'network',
  'process',
  'python-code',
  'resource-exhaustion',
  'custom-op',
  'policy',
  'integrity',
  'known-vulnerability',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * What decides the gates: checkpoint `variable`s, the run-time `environment` (clock, randomness,
 * files/queues/datasets read at run time, Python callbacks), a caller `input`, `constant`s only,
 * or `none` (no gate).
 */
export type TriggerKind = 'variable' | 'environment' | 'input' | 'constant' | 'none';
export const TRIGGER_KINDS: readonly TriggerKind[] = ['variable', 'environment', 'input', 'constant', 'none'];
export type ActivationState = 'active' | 'dormant' | 'unknown';

/** When the op runs. */
export type Reachability =
  | 'load' // __saved_model_init_op, table initialisers, restore at load
  | 'signature' // reached from a serving signature
  | 'graph' // top-level graph node (GraphDef / MetaGraph without signatures)
  | 'saver' // TensorFlow's own save/restore machinery only
  | 'dead' // library function nothing reaches
  | 'unknown';

export interface PredicateSlice {
  source: TriggerKind;
  /** Checkpoint keys of the variables the predicate reads. */
  variables: string[];
  /** Signature inputs / placeholders the predicate reads. */
  inputs: string[];
  /** Run-time sources the predicate reads (clock, random generator, file, ...), named. Absent when none. */
  environment?: string[];
  /** The backward slice, predicate first, sources last, as `function/node (Op)`. */
  nodes: string[];
  /** Human-readable expression, e.g. `Greater(ReadVariableOp(mode), 0)`. */
  expression: string;
}

export interface Gate {
  /** Function holding the control-flow op; null at graph level. */
  function: string | null;
  node: string;
  op: string; // If, StatelessIf, Case, While, Switch, ...
  /** Which way must be taken: `then_branch`, `else_branch`, `branches[2]`, `body`, `output_true`. */
  branch: string;
  /** The function the branch calls, for functional control flow. */
  branchFunction: string | null;
  predicate: PredicateSlice;
}

export interface Activation {
  /** Checkpoint prefix as given, or `<model>/variables/variables` for the model's own. */
  checkpoint: string;
  state: ActivationState;
  /** Variable checkpoint key → value rendered as text, and intermediate results that decided it. */
  values: Record<string, string>;
  reason: string;
}

export interface Trigger {
  kind: TriggerKind;
  variables: string[];
  /** Environment sources of the gates (kind `environment`, or alongside variables). Absent when none. */
  environment?: string[];
  /** Gating variables the model writes itself, with the writes (`calls: AssignAddVariableOp __inference_f/AssignAdd (+1)`). */
  selfWritten?: string[];
  gates: Gate[];
  activation: Activation[];
}

export interface ResolvedArgument {
  /** The op input or attr that carries the path/URL/size, e.g. `filename`, `attr:debug_urls`. */
  input: string;
  /** Constant value when it resolves, else null. */
  value: string | null;
  /** Expression when not constant, e.g. `StringJoin(Const('/tmp/'), input x)`. */
  expression: string;
  /** local-path | sensitive-path | model-own-files | file-url | grpc | cloud-storage | http | size | unknown */
  classification: string;
  /** Why it is sensitive (e.g. `~/.ssh`), when it is. */
  note?: string;
}

/** A node in the drawn evidence figure (variable → predicate → control flow → branch → unsafe op). */
export interface FigureNode {
  id: string;
  label: string;
  kind: 'variable' | 'environment' | 'input' | 'constant' | 'predicate' | 'control' | 'branch' | 'call' | 'unsafe';
  detail?: string;
}

export interface FigureEdge {
  from: string;
  to: string;
  label?: string;
}

export interface Figure {
  nodes: FigureNode[];
  edges: FigureEdge[];
}

/** Credit wherever advisory data is shown (the PyPA Advisory Database is CC BY 4.0). */
export const ADVISORY_DATA_CREDIT = 'Data: PyPA Advisory Database, CC BY 4.0';

/** A published TensorFlow advisory behind a `known-vulnerability` finding. */
export interface AdvisoryRef {
  /** PYSEC id of the PyPA advisory database. */
  id: string;
  /** CVE and GHSA ids. */
  aliases: string[];
  /** heap-out-of-bounds | use-after-free | null-dereference | check-failure | integer-overflow | division-by-zero | memory-exhaustion | other */
  class: string;
  /**
   * With a runtime version: the lowest fixed release above it that the advisory leaves clean
   * (null when none is recorded). Without one: the release from which no range applies.
   */
  fixedIn: string | null;
  url: string;
}

export interface Finding {
  /** Stable within one report: `F1`, `F2`, ... in report order. */
  id: string;
  rule: string;
  severity: Severity;
  capability: Capability;
  op: string;
  node: string;
  function: string | null;
  /** Meta graph tags joined with ',' (SavedModel/MetaGraph), or null. */
  metaGraph: string | null;
  message: string;
  /** The node chain, in order, as strings `function/node (Op)`. */
  evidence: string[];
  arguments: ResolvedArgument[];
  reachability: Reachability;
  /** Signatures / init paths that reach the op. */
  entryPoints: string[];
  trigger: Trigger;
  figure: Figure;
  recommendation: string;
  /** Extra facts for specialised rules (e.g. Keras layer path, CVE id, element count). */
  details?: Record<string, string>;
  /** `known-vulnerability` findings: the TensorFlow advisories of the op. */
  advisories?: AdvisoryRef[];
}

/** How a checkpoint binds to the model, as TensorFlow's restore would bind it. */
export interface CheckpointCoverage {
  /** object-graph: TF2 TrackableObjectGraph walked against the SavedObjectGraph; names: by variable name (TF1 Saver); own: the model's own checkpoint. */
  method: 'object-graph' | 'names' | 'own' | 'keras-weights';
  /** Object path in the checkpoint where the model's root binds ('' = the checkpoint root); null for name-based. */
  root: string | null;
  /** The same path as local names (they may contain '/'), for restoring it in TensorFlow. */
  rootPath: string[] | null;
  /** The restore call that binds this way. */
  restoreCall: string | null;
  matched: number;
  total: number;
  /** Model variables the checkpoint lacks (TensorFlow keeps the model's own value). */
  missing: string[];
  /** Checkpoint keys nothing in the model takes (optimizer slots, save_counter, ...), first 200. */
  extra: string[];
  extraCount: number;
  mismatches: { variable: string; checkpointKey: string; reason: string }[];
  /** Set when TensorFlow refuses the restore (dtype/shape mismatch), with the reason. */
  refused: string | null;
  /** Not one of the model's variables is in the checkpoint. */
  differentModel: boolean;
  /** How many checkpoint nodes bind variables as the model's root. */
  candidates: number;
  /** The other candidate roots, each evaluated as its own entry. */
  alternatives: string[];
  /** Set when the checkpoint cannot be read or verified; its verdicts are unknown. */
  integrity?: string;
  /** keras-weights: each matched weight's values against the model's own stored values. */
  values?: WeightValueComparison;
  notes: string[];
}

/**
 * Which weights a Keras weights file changes. `changed + unchanged + notCompared` = matched; a
 * weight above the comparison limits, or whose values could not be read, is not compared (never
 * counted as unchanged).
 */
export interface WeightValueComparison {
  changed: number;
  unchanged: number;
  notCompared: number;
  /** Changed weights in model order, first 50: how many elements differ and the largest absolute difference (null when a NaN/Inf or non-numeric value differs). */
  changedWeights: { variable: string; checkpointKey: string; elementsChanged: number; elements: number; maxAbsDiff: number | null }[];
  /** Weights not compared, first 50, with the reason. */
  notComparedWeights: { variable: string; reason: string }[];
  limits: { maxElementsPerWeight: number; maxTotalElements: number };
}

export interface CheckpointReport {
  /** Label used in activations. */
  path: string;
  /** The checkpoint as the user gave it (a folder, a prefix), when the label differs. */
  given?: string;
  /** Other checkpoints of a CheckpointManager folder (`ckpt-N`), newest last. */
  siblings?: string[];
  coverage?: CheckpointCoverage;
}

export interface ReportError {
  file: string;
  message: string;
}

export interface ScanReport {
  schemaVersion: 1;
  tool: { name: string; version: string };
  model: {
    path: string;
    format: string;
    files: { path: string; size: number; sha256: string }[];
    tensorflowVersion: string | null;
  };
  checkpoints: CheckpointReport[];
  findings: Finding[];
  errors: ReportError[];
  /** What was and was not analysed, for the report's "method and limits". */
  analysis: {
    isolated: boolean;
    isolation: string;
    opsAnalysed: number;
    functionsAnalysed: number;
    unknownSemantics: string[];
    notes: string[];
    /** The TensorFlow release the model was assessed for (`--tf-runtime`), or null/absent when none was given. */
    tensorflowRuntime?: string | null;
  };
}

export const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[threshold];
}
