// The whole untrusted-input pipeline in one call: open the model and the checkpoints, scan,
// summarise. Runs inside the analyzer worker process (never in the Electron main process).
import { existsSync, statSync } from 'node:fs';
import { relative, isAbsolute } from 'node:path';
import { stat } from 'node:fs/promises';
import type { ScanReport } from '../../shared/findings.ts';
import type { ModelSummary } from '../../shared/summary.ts';
import type { CheckpointIR, ModelIR } from '../../shared/ir.ts';
import { openModel } from '../formats/index.ts';
import { openCheckpoint, verifyCheckpoint } from '../formats/tensorbundle.ts';
import { readCheckpointState } from '../formats/checkpoint-state.ts';
import { bindKerasWeights, candidateBindings, kerasValuePairs, parseScopeRemap, weightValueComparison, type ScopeRemap, type WeightValueResult } from '../analysis/checkpoint-binding.ts';
import { compareKerasWeightValues, readKerasWeights } from '../formats/keras.ts';
import { HDF5_COMPARE_LIMITS, isHdf5, type Hdf5CompareLimits } from '../formats/hdf5.ts';
import { open } from 'node:fs/promises';
import type { CheckpointCoverage, CheckpointReport } from '../../shared/findings.ts';
import { basename, dirname, join } from 'node:path';
import { ModelError } from '../formats/errors.ts';
import { summarizeCheckpoint, summarizeModel } from '../formats/summary.ts';
import { scanModel, type ScanCheckpoint } from '../analysis/scan.ts';
import { loadOpPolicy } from '../analysis/policy.ts';
import { TOOL_VERSION } from '../version.ts';
import { reportProgress } from '../formats/progress.ts';
import type { PhaseClock } from './usage.ts';

export interface AnalyseRequest {
  /** The model path as the user gave it (labels in the report keep this spelling). */
  model: string;
  /** Extra checkpoints, as given. */
  checkpoints: string[];
  /** `OLD=NEW` scope remaps for name-based checkpoints (checkpoint scope = model scope). */
  checkpointMaps?: string[];
  policy?: string | null;
  /** TensorFlow release that will serve the model: its known kernel advisories become findings. */
  tfRuntime?: string | null;
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

export async function inspect(request: AnalyseRequest, clock?: PhaseClock): Promise<InspectResult> {
  const model = await openModel(request.model);
  clock?.lap('parse');
  const summary = summarizeModel(model);
  clock?.lap('summary');
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

export async function analyse(request: AnalyseRequest, clock?: PhaseClock): Promise<AnalyseResult> {
  const model = await openModel(request.model);
  model.checkpoint ??= (await companionCheckpoint(model)) ?? undefined;
  reportProgress({ stage: 'parse', message: `read ${model.format} ${request.model}`, fraction: null });
  const remaps = (request.checkpointMaps ?? []).map(parseScopeRemap);
  const { checkpoints, entries } = await scanCheckpoints(request, model, remaps);
  const policy = request.policy ? loadOpPolicy(request.policy) : null;
  clock?.lap('parse');
  reportProgress({ stage: 'analyse', message: `analysing data and control flow under ${checkpoints.length} checkpoint(s)`, fraction: null });
  const report = await scanModel(model, {
    checkpoints,
    policy,
    tfRuntime: request.tfRuntime ?? null,
    toolVersion: TOOL_VERSION,
    isolation: request.isolation ?? { isolated: false, description: 'analysis ran in-process, without an OS sandbox' },
  });
  clock?.lap('analyse');
  const summary = summarizeModel(model);
  clock?.lap('summary');
  return { summary, report: { ...report, checkpoints: entries } };
}

const OWN_COVERAGE = (total: number): CheckpointCoverage => ({ method: 'own', root: null, rootPath: null, restoreCall: null, matched: total, total, missing: [], extra: [], extraCount: 0, mismatches: [], refused: null, differentModel: false, candidates: 1, alternatives: [], notes: [] });

/**
 * Every checkpoint to evaluate, bound to the model the way TensorFlow's restore binds it. A
 * checkpoint that cannot be read or verified stays in the list, with unknown verdicts and the reason.
 */
export async function scanCheckpoints(request: AnalyseRequest, model: ModelIR, remaps: ScopeRemap[]): Promise<{ checkpoints: ScanCheckpoint[]; entries: CheckpointReport[] }> {
  const checkpoints: ScanCheckpoint[] = [];
  const entries: CheckpointReport[] = [];
  if (model.checkpoint) {
    const label = ownCheckpointLabel(request.model, model, model.checkpoint);
    const integrity = [...(await verifyCheckpoint(model.checkpoint)), ...(model.savedModel?.checkpointHashMismatch ? [model.savedModel.checkpointHashMismatch] : [])];
    const readable = integrity.length === 0 || (integrity.length === 1 && !!model.savedModel?.checkpointHashMismatch);
    const coverage = OWN_COVERAGE(model.checkpoint.entries.filter((e) => e.key !== '_CHECKPOINTABLE_OBJECT_GRAPH').length);
    if (integrity.length) coverage.integrity = integrity.join('; ');
    checkpoints.push({ label, checkpoint: readable ? model.checkpoint : null, ...(readable ? {} : { unreadable: integrity[0] }), ...(integrity.length ? { integrity } : {}) });
    entries.push({ path: label, coverage });
  }
  const fallback = model.checkpoint && checkpoints[0]?.checkpoint ? model.checkpoint : undefined;
  for (const given of request.checkpoints) {
    if (model.keras && (await startsAsHdf5(given))) {
      const coverage = await kerasCoverage(model, given);
      entries.push({ path: given, coverage });
      if (coverage.integrity) checkpoints.push({ label: given, checkpoint: null, unreadable: coverage.integrity, integrity: [coverage.integrity] });
      continue;
    }
    const manager = await managerFolder(given);
    const target = manager?.latest ?? given;
    let ckpt: CheckpointIR;
    try {
      ckpt = await openCheckpoint(target);
    } catch (error) {
      const reason = errorInfo(error);
      const problem = `${reason.file || given}: ${reason.message}`;
      checkpoints.push({ label: given, checkpoint: null, unreadable: problem, integrity: [problem] });
      entries.push({ path: given, ...(manager ? { siblings: manager.all } : {}), coverage: { ...OWN_COVERAGE(0), method: 'names', matched: 0, integrity: problem } });
      continue;
    }
    const integrity = await verifyCheckpoint(ckpt);
    const bindings = candidateBindings(model, ckpt, remaps);
    bindings.forEach((binding, i) => {
      const label = i === 0 ? given : `${given} @ ${binding.coverage.root || '(root)'}`;
      if (manager) binding.coverage.notes.push(`CheckpointManager folder: ${manager.all.map((p) => basename(p)).join(', ')}; the latest, ${basename(manager.latest)}, is evaluated (name another with --checkpoint)`);
      if (integrity.length) binding.coverage.integrity = integrity.join('; ');
      const unreadable = integrity.length ? integrity[0] : undefined;
      checkpoints.push({ label, checkpoint: unreadable ? null : ckpt, binding, ...(fallback ? { fallback } : {}), ...(unreadable ? { unreadable, integrity } : {}) });
      entries.push({ path: label, given, ...(manager ? { siblings: manager.all } : {}), coverage: binding.coverage });
    });
  }
  return { checkpoints, entries };
}

async function startsAsHdf5(path: string): Promise<boolean> {
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return false;
  try {
    const head = new Uint8Array(8);
    await handle.read(head, 0, 8, 0);
    return isHdf5(head);
  } catch {
    return false;
  } finally {
    await handle.close();
  }
}

/**
 * A Keras weights file for a Keras model: coverage (Keras layers are code, not evaluated), and
 * which matched weights it changes: their values against the model's own stored ones.
 */
export async function kerasCoverage(model: ModelIR, given: string, limits: Partial<Hdf5CompareLimits> = {}): Promise<CheckpointCoverage> {
  const modelWeights = model.keras?.weights ?? [];
  let file: Awaited<ReturnType<typeof readKerasWeights>>;
  try {
    file = await readKerasWeights(given);
  } catch (error) {
    const reason = errorInfo(error);
    return { ...OWN_COVERAGE(0), method: 'keras-weights', matched: 0, total: modelWeights.length, integrity: `${reason.file || given}: ${reason.message}` };
  }
  const binding = bindKerasWeights(modelWeights, file.weights);
  const lim = { ...HDF5_COMPARE_LIMITS, ...limits };
  const pairs = kerasValuePairs(modelWeights, binding);
  const comparable = pairs.filter((p) => !p.skip);
  let compared: WeightValueResult[];
  try {
    compared = await compareKerasWeightValues(model, { bytes: file.bytes, file: given }, comparable.map((p) => ({ a: p.variable, b: p.checkpointKey, elements: p.elements })), lim);
  } catch (error) {
    const reason = errorInfo(error);
    compared = comparable.map(() => ({ compared: false, reason: `values unreadable: ${reason.message}` }));
  }
  const byPath = new Map(comparable.map((p, i) => [p.variable, compared[i]!]));
  const results = pairs.map((p): WeightValueResult => (p.skip ? { compared: false, reason: p.skip } : byPath.get(p.variable)!));
  binding.coverage.values = weightValueComparison(pairs, results, { maxElementsPerWeight: lim.maxElementsPerDataset, maxTotalElements: lim.maxTotalElements });
  return binding.coverage;
}

/** A CheckpointManager folder: every `ckpt-N` its state file lists, and the latest. */
export async function managerFolder(path: string): Promise<{ latest: string; all: string[] } | null> {
  const isDir = await stat(path).then((s) => s.isDirectory()).catch(() => false);
  const stateFile = isDir ? join(path, 'checkpoint') : basename(path) === 'checkpoint' ? path : null;
  if (!stateFile || !existsSync(stateFile)) return null;
  const state = await readCheckpointState(stateFile).catch(() => null);
  if (!state?.modelCheckpointPath) return null;
  const dir = dirname(stateFile);
  const local = (p: string) => (isAbsolute(p) ? (existsSync(`${p}.index`) ? p : join(dir, basename(p))) : join(dir, p));
  const latest = local(state.modelCheckpointPath);
  const all = state.allModelCheckpointPaths.map(local);
  if (!all.includes(latest)) all.push(latest);
  return { latest, all };
}

export function errorInfo(error: unknown): { file: string; message: string } {
  if (error instanceof ModelError) return { file: error.file, message: error.reason };
  return { file: '', message: error instanceof Error ? error.message : String(error) };
}
