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

export interface CheckpointSummary {
  prefix: string;
  version: 'v1' | 'v2';
  entries: TensorPreview[];
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
