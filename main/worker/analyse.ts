// The whole untrusted-input pipeline in one call: open the model and the checkpoints, scan,
// summarise. Runs inside the analyzer worker process (never in the Electron main process).
import { existsSync, statSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';
import type { ScanReport } from '../../shared/findings.ts';
import type { ModelSummary } from '../../shared/summary.ts';
import type { CheckpointIR, ModelIR } from '../../shared/ir.ts';
import { openModel } from '../formats/index.ts';
import { openCheckpoint } from '../formats/tensorbundle.ts';
import { ModelError } from '../formats/errors.ts';
import { summarizeCheckpoint, summarizeModel } from '../formats/summary.ts';
import { scanModel, type ScanCheckpoint } from '../analysis/scan.ts';
import { loadOpPolicy } from '../analysis/policy.ts';
import { TOOL_VERSION } from '../version.ts';
import { reportProgress } from '../formats/progress.ts';

export interface AnalyseRequest {
  /** The model path as the user gave it (labels in the report keep this spelling). */
  model: string;
  /** Extra checkpoints, as given. */
  checkpoints: string[];
  policy?: string | null;
  /** 'inspect' reads and summarises only; 'scan' (default) also analyses. */
  mode?: 'inspect' | 'scan';
  isolation?: { isolated: boolean; description: string };
}

export interface AnalyseResult {
  summary: ModelSummary;
  report: ScanReport;
}

export interface InspectResult {
  summary: ModelSummary;
}

/** Label of a SavedModel's own checkpoint in reports: `<model>/variables/variables`. */
export function ownCheckpointLabel(modelPath: string, model: ModelIR, ckpt: CheckpointIR): string {
  if (model.format === 'meta-graph') return modelPath.endsWith('.meta') ? modelPath.slice(0, -'.meta'.length) : ckpt.prefix;
  if (model.format !== 'saved-model') return ckpt.prefix;
  const rel = relative(model.path, ckpt.prefix).split('\\').join('/');
  if (rel.startsWith('..') || isAbsolute(rel)) return ckpt.prefix;
  return `${modelPath.replace(/\/+$/, '')}/${rel}`;
}

export async function inspect(request: AnalyseRequest): Promise<InspectResult> {
  const model = await openModel(request.model);
  const summary = summarizeModel(model);
  if (request.checkpoints.length > 0) {
    const given = await openCheckpoint(request.checkpoints[0]!);
    summary.checkpoint = summarizeCheckpoint({ ...given, prefix: request.checkpoints[0]! });
  }
  return { summary };
}

/**
 * A TF1 export `model.ckpt-100.meta` is written by the Saver beside its checkpoint
 * `model.ckpt-100`: that checkpoint is the model's own, as the SavedModel's `variables/` is.
 * An unreadable companion is a warning, not a failure: the graph is still analysed.
 */
export async function companionCheckpoint(model: ModelIR): Promise<CheckpointIR | null> {
  if (model.format !== 'meta-graph' || !model.path.endsWith('.meta')) return null;
  const prefix = model.path.slice(0, -'.meta'.length);
  // V2: `<prefix>.index` + data shards; V1: a single file named `<prefix>`.
  if (!existsSync(`${prefix}.index`) && !(existsSync(prefix) && statSync(prefix).isFile())) return null;
  try {
    return await openCheckpoint(prefix);
  } catch (error) {
    model.warnings.push(`${prefix}: checkpoint beside the meta graph could not be read (${errorInfo(error).message})`);
    return null;
  }
}

export async function analyse(request: AnalyseRequest): Promise<AnalyseResult> {
  const model = await openModel(request.model);
  model.checkpoint ??= (await companionCheckpoint(model)) ?? undefined;
  reportProgress({ stage: 'parse', message: `read ${model.format} ${request.model}`, fraction: null });
  const checkpoints: ScanCheckpoint[] = [];
  if (model.checkpoint) checkpoints.push({ label: ownCheckpointLabel(request.model, model, model.checkpoint), checkpoint: model.checkpoint });
  for (const given of request.checkpoints) {
    checkpoints.push({ label: given, checkpoint: await openCheckpoint(given) });
  }
  const policy = request.policy ? loadOpPolicy(request.policy) : null;
  reportProgress({ stage: 'analyse', message: `analysing data and control flow under ${checkpoints.length} checkpoint(s)`, fraction: null });
  const report = await scanModel(model, {
    checkpoints,
    policy,
    toolVersion: TOOL_VERSION,
    isolation: request.isolation ?? { isolated: false, description: 'analysis ran in-process, without an OS sandbox' },
  });
  const summary = summarizeModel(model);
  return { summary, report: { ...report, checkpoints: checkpoints.map((c) => ({ path: c.label })) } };
}

export function errorInfo(error: unknown): { file: string; message: string } {
  if (error instanceof ModelError) return { file: error.file, message: error.reason };
  return { file: '', message: error instanceof Error ? error.message : String(error) };
}
