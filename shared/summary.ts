// What `tfaudit inspect --format json` prints and what the overview panel, the PDF cover and
// appendix show: a model reduced to facts a person reads (no graph bodies).
import type { DType, FileEntry, ModelFormat, SignatureIR } from './ir.ts';

export interface TensorPreview {
  key: string;
  dtype: DType;
  shape: number[];
  /** First ≤16 values rendered as JSON-friendly numbers/booleans/strings. */
  values: (number | boolean | string)[];
  /** Set when the values could not be read (crc mismatch, past end of shard, ...). */
  error?: string;
}

export interface VariableSummary {
  /** Graph-level name (VarHandleOp shared_name / VariableV2 name / object path). */
  name: string;
  checkpointKey: string | null;
  dtype: DType;
  shape: number[] | null;
}

export interface MetaGraphSummary {
  tags: string[];
  tensorflowVersion: string;
  producer: number | null;
  signatures: SignatureIR[];
  /** op name → count, over the graph and all functions. */
  opCounts: Record<string, number>;
  nodeCount: number;
  functions: { name: string; nodeCount: number }[];
  variables: VariableSummary[];
}

/** One object of a TF2 checkpoint's object graph, in depth-first order from the root. */
export interface CheckpointObject {
  /** Local names from the root (empty for the root itself). */
  path: string[];
  /** Attribute name → checkpoint key (VARIABLE_VALUE → `model/w/.ATTRIBUTES/VARIABLE_VALUE`). */
  attributes: { name: string; checkpointKey: string }[];
  /** Set when this object was already listed under another path (a shared object). */
  sameAs?: string[];
}

export interface CheckpointSummary {
  prefix: string;
  version: 'v1' | 'v2';
  entries: TensorPreview[];
  /** `_CHECKPOINTABLE_OBJECT_GRAPH` decoded: object path → checkpoint key. */
  objects?: CheckpointObject[];
  /** Set when the objects list was cut at the display limit. */
  objectsTruncated?: boolean;
}

export interface ModelSummary {
  path: string;
  format: ModelFormat;
  files: FileEntry[];
  tensorflowVersion: string | null;
  metaGraphs: MetaGraphSummary[];
  checkpoint: CheckpointSummary | null;
  keras?: { kerasVersion: string | null; backend: string | null; layerCount: number };
  tflite?: { version: number; description: string; operatorCodes: string[] };
  warnings: string[];
}
