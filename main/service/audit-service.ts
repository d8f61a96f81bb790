// The audit service behind every front end (Electron IPC, the web host, tests): keeps open
// audits, runs each analysis in a fresh analyzer worker, renders reports from the result,
// and launches sandbox runs. It never parses model files itself.
import { reportDate } from '../report/date.ts';
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { readdirSync, statSync } from 'node:fs';
import type { AuditView, CheckpointRef, OpenedView, ProgressEvent, RegistryRow, RegistryView, SandboxEvent, SandboxOverrides } from '../../shared/api.ts';
import { registryTotals, type RegistryEntry } from '../../shared/registry.ts';
import type { Severity } from '../../shared/findings.ts';
import { discoverModels, type DiscoveredModel } from './registry-discovery.ts';
import { runRegistryAudit } from './registry-audit.ts';
import { renderRegistryPdf } from '../report/registry.ts';
import type { SandboxPolicy, SandboxRunReport } from '../../shared/sandbox.ts';
import { withVerdicts } from '../sandbox/confirm.ts';
import type { AnalyseRequest, AnalyseResult } from '../worker/analyse.ts';
import { ApiFailure } from './errors.ts';
import { DEFAULT_WORKER_OPTIONS, runAnalysisWorker, type WorkerOptions } from './worker-client.ts';
import { renderAuditPdf } from '../report/pdf.ts';
import { renderVulnReport } from '../report/vuln.ts';
import { derivePolicy } from '../sandbox/policy.ts';
import { parseVersion } from '../analysis/advisories.ts';
import { SandboxManager, removeRunFiles } from '../sandbox/run.ts';

export { ApiFailure };

interface Audit {
  id: string;
  model: string;
  checkpoints: string[];
  /** TensorFlow release the audit is assessed for, or null. */
  tfRuntime: string | null;
  result: AnalyseResult;
  sandboxRuns: SandboxRunReport[];
}

interface Registry {
  id: string;
  root: string;
  /** Path order; row `m<i+1>` is entries[i] and models[i]. */
  entries: RegistryEntry[];
  models: DiscoveredModel[];
  isolation: { isolated: boolean; description: string };
}

/** Models at or above this make a registry row unsafe in the app (the CLI's --fail-on default). */
const REGISTRY_FAIL_ON: Severity = 'high';

/**
 * The folder to audit as a registry, or null: one dropped folder holding two or more models.
 * A TF1 training folder (a `checkpoint` state file beside `.meta` graphs) stays one model: the
 * readers open the graph its state file names.
 */
export function registryFolder(paths: string[]): string | null {
  if (paths.length !== 1) return null;
  const [root] = paths as [string];
  try {
    if (!statSync(root).isDirectory()) return null;
    const names = readdirSync(root);
    if (names.includes('checkpoint') && names.some((n) => n.endsWith('.meta'))) return null;
    return discoverModels(root).models.length >= 2 ? root : null;
  } catch {
    return null; // the single-model path reports what cannot be read
  }
}

export interface AuditServiceOptions {
  isolation?: 'auto' | 'off';
  workerMemoryMb?: number;
  workerTimeoutMs?: number;
  /** Replaces the worker (tests of front ends that must not depend on a model). */
  analyse?: (request: AnalyseRequest, onProgress?: (event: ProgressEvent) => void) => Promise<AnalyseResult>;
}

const CHECKPOINT_FILE = /^(.*)\.(index|data-\d{5}-of-\d{5})$/;

/**
 * Splits dropped paths into the model and extra checkpoints. Checkpoint files (`x.index`,
 * `x.data-00000-of-00001`) are grouped by prefix; everything else is the model. When only
 * checkpoint files are given, the first checkpoint is the model.
 */
export function splitDroppedPaths(paths: string[]): { model: string; checkpoints: string[] } {
  const prefixes: string[] = [];
  const others: string[] = [];
  for (const path of paths) {
    const match = CHECKPOINT_FILE.exec(path);
    if (match) {
      if (!prefixes.includes(match[1]!)) prefixes.push(match[1]!);
    } else others.push(path);
  }
  if (others.length > 1) throw new ApiFailure('bad-request', `drop one model at a time (got ${others.map((p) => basename(p)).join(', ')}); extra checkpoints may come with it`);
  if (others.length === 1) return { model: others[0]!, checkpoints: prefixes };
  if (prefixes.length === 0) throw new ApiFailure('bad-request', 'nothing to open: drop a SavedModel folder, a .pb/.pbtxt/.meta, a checkpoint, a .keras/.h5 or a .tflite file');
  return { model: prefixes[0]!, checkpoints: prefixes.slice(1) };
}

export class AuditService {
  private readonly audits = new Map<string, Audit>();
  private readonly registries = new Map<string, Registry>();
  private readonly progressListeners = new Set<(e: ProgressEvent) => void>();
  private readonly sandbox = new SandboxManager();
  private readonly workerOptions: WorkerOptions;
  private readonly analyseOverride: AuditServiceOptions['analyse'];

  constructor(options: AuditServiceOptions = {}) {
    this.workerOptions = {
      ...DEFAULT_WORKER_OPTIONS,
      isolation: options.isolation ?? DEFAULT_WORKER_OPTIONS.isolation,
      memoryMb: options.workerMemoryMb ?? DEFAULT_WORKER_OPTIONS.memoryMb,
      timeoutMs: options.workerTimeoutMs ?? DEFAULT_WORKER_OPTIONS.timeoutMs,
    };
    this.analyseOverride = options.analyse;
  }

  async open(paths: string[]): Promise<OpenedView> {
    const root = registryFolder(paths);
    if (root) return this.openRegistry(root);
    const { model, checkpoints } = splitDroppedPaths(paths);
    const result = await this.analyse(model, checkpoints, null);
    const audit: Audit = { id: randomUUID(), model, checkpoints, tfRuntime: null, result, sandboxRuns: [] };
    this.audits.set(audit.id, audit);
    return this.view(audit);
  }

  /** Audits every model under `root` on the worker pool; the registry stays open for its rows and PDF. */
  async openRegistry(root: string): Promise<RegistryView> {
    const byPath = new Map<string, RegistryEntry>();
    let models: DiscoveredModel[] = [];
    let isolation = { isolated: false, description: '' };
    let done = 0;
    await runRegistryAudit({
      root,
      worker: this.workerOptions,
      analyse: this.analyseOverride ? (request) => this.analyseOverride!(request) : undefined,
      onPlan: (plan) => {
        models = plan.todo;
        isolation = plan.isolation;
        this.emit({ stage: 'analyse', message: `auditing ${models.length} models under ${basename(root)}`, fraction: 0 });
      },
      onEntry: (entry) => {
        byPath.set(entry.path, entry);
        done++;
        this.emit({ stage: 'analyse', message: `${done}/${models.length} ${entry.path}`, fraction: done / Math.max(1, models.length) });
      },
    });
    const registry: Registry = { id: randomUUID(), root, models, entries: models.map((m) => byPath.get(m.relativePath)!), isolation };
    this.registries.set(registry.id, registry);
    return this.registryView(registry);
  }

  /** The full audit of one registry row: the model with the checkpoints found beside it. */
  async openRegistryModel(registryId: string, rowId: string): Promise<AuditView> {
    const registry = this.registry(registryId);
    const index = /^m\d+$/.test(rowId) ? Number(rowId.slice(1)) - 1 : -1;
    const model = registry.models[index];
    if (!model) throw new ApiFailure('not-found', `no row ${rowId} in this registry`);
    const result = await this.analyse(model.path, model.checkpoints, null);
    const audit: Audit = { id: randomUUID(), model: model.path, checkpoints: [...model.checkpoints], tfRuntime: null, result, sandboxRuns: [] };
    this.audits.set(audit.id, audit);
    return this.view(audit);
  }

  async exportRegistryPdf(registryId: string, auditor: string | null): Promise<Buffer> {
    const registry = this.registry(registryId);
    this.emit({ stage: 'report', message: 'rendering registry PDF', fraction: null });
    return renderRegistryPdf(registry.entries, { root: registry.root, threshold: REGISTRY_FAIL_ON, auditor, generatedAt: reportDate() });
  }

  private registry(registryId: string): Registry {
    const registry = this.registries.get(registryId);
    if (!registry) throw new ApiFailure('not-found', `no open registry ${registryId}`);
    return registry;
  }

  private registryView(registry: Registry): RegistryView {
    const rows: RegistryRow[] = registry.entries.map(({ findings: _f, files: _files, analysis: _a, ...row }, i) => ({ ...row, rowId: `m${i + 1}` }));
    return { kind: 'registry', registryId: registry.id, root: registry.root, failOn: REGISTRY_FAIL_ON, rows, totals: registryTotals(registry.entries, REGISTRY_FAIL_ON), isolation: registry.isolation };
  }

  async addCheckpoints(auditId: string, paths: string[]): Promise<AuditView> {
    const audit = this.audit(auditId);
    const added = splitDroppedPaths(paths);
    const extra = [...added.checkpoints];
    // Dropping only checkpoint files makes the first of them "the model": here it is a checkpoint.
    if (!paths.some((p) => !CHECKPOINT_FILE.test(p)) || CHECKPOINT_FILE.test(added.model) || added.checkpoints.length === 0) extra.unshift(added.model);
    const checkpoints = [...audit.checkpoints, ...extra.filter((c) => !audit.checkpoints.includes(c))];
    audit.result = await this.analyse(audit.model, checkpoints, audit.tfRuntime);
    audit.checkpoints = checkpoints;
    return this.view(audit);
  }

  /** Analyses the audit again for the TensorFlow release that will serve the model. */
  async setRuntime(auditId: string, tfRuntime: string | null): Promise<AuditView> {
    const audit = this.audit(auditId);
    const version = tfRuntime === null ? null : parseVersion(tfRuntime);
    if (tfRuntime !== null && (!version || version.post)) throw new ApiFailure('bad-request', `${JSON.stringify(tfRuntime)} is not a TensorFlow release (e.g. 2.11.0 or 2.4.0rc1)`);
    audit.result = await this.analyse(audit.model, audit.checkpoints, version ? version.text : null);
    audit.tfRuntime = version ? version.text : null;
    return this.view(audit);
  }

  get(auditId: string): AuditView {
    return this.view(this.audit(auditId));
  }

  async exportPdf(auditId: string, auditor: string | null): Promise<Buffer> {
    const audit = this.audit(auditId);
    this.emit({ stage: 'report', message: 'rendering PDF', fraction: null });
    return renderAuditPdf({
      report: audit.result.report,
      summary: audit.result.summary,
      auditor,
      generatedAt: reportDate(),
      sandboxRuns: audit.sandboxRuns,
    });
  }

  async vulnReport(auditId: string, findingId: string): Promise<string> {
    const audit = this.audit(auditId);
    if (!audit.result.report.findings.some((f) => f.id === findingId)) throw new ApiFailure('not-found', `no finding ${findingId} in this audit`);
    return renderVulnReport(
      { report: audit.result.report, summary: audit.result.summary, auditor: null, generatedAt: reportDate(), sandboxRuns: audit.sandboxRuns },
      findingId,
    );
  }

  /** The policy a launch would use, for the auditor to review; its scratch dir is not kept. */
  async sandboxPlan(auditId: string, findingId: string | null, overrides: SandboxOverrides): Promise<SandboxPolicy> {
    const policy = await this.plan(auditId, findingId, overrides);
    removeRunFiles(policy);
    return policy;
  }

  private async plan(auditId: string, findingId: string | null, overrides: SandboxOverrides): Promise<SandboxPolicy> {
    const audit = this.audit(auditId);
    const findings = audit.result.report.findings;
    if (findingId && !findings.some((f) => f.id === findingId)) throw new ApiFailure('not-found', `no finding ${findingId} in this audit`);
    const choice = this.checkpointChoice(audit, overrides.checkpointId ?? this.triggeringCheckpoint(audit, findingId));
    const checkpoint = choice?.path ?? null;
    return derivePolicy({
      checkpointRoot: choice?.root ?? null,
      modelPath: audit.result.summary.path,
      findings: findingId ? findings.filter((f) => f.id === findingId) : findings,
      signatures: audit.result.summary.metaGraphs.flatMap((m) => m.signatures.map((s) => s.key)),
      checkpoint,
      overrides,
    });
  }

  async sandboxLaunch(auditId: string, findingId: string | null, overrides: SandboxOverrides, onEvent: (e: SandboxEvent) => void): Promise<{ runId: string }> {
    const audit = this.audit(auditId);
    const policy = await this.plan(auditId, findingId, overrides);
    const checkpoint = this.checkpointChoice(audit, overrides.checkpointId ?? this.triggeringCheckpoint(audit, findingId))?.label ?? this.ownCheckpointLabel(audit);
    const runId = await this.sandbox.launch(policy, (event) => {
      if (event.type === 'exit') {
        // the per-finding verdicts under the run's checkpoint travel with the run
        const report = withVerdicts(event.report, audit.result.report.findings, checkpoint);
        audit.sandboxRuns.push(report);
        onEvent({ ...event, report });
        return;
      }
      onEvent(event);
    });
    return { runId };
  }

  async sandboxStop(runId: string): Promise<void> {
    await this.sandbox.stop(runId);
  }

  onProgress(listener: (e: ProgressEvent) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  async dispose(): Promise<void> {
    await this.sandbox.stopAll();
    this.audits.clear();
    this.registries.clear();
  }

  private async analyse(model: string, checkpoints: string[], tfRuntime: string | null): Promise<AnalyseResult> {
    this.emit({ stage: 'parse', message: `reading ${basename(model)}`, fraction: null });
    const request: AnalyseRequest = tfRuntime ? { model, checkpoints, tfRuntime } : { model, checkpoints };
    const result = this.analyseOverride
      ? await this.analyseOverride(request, (e) => this.emit(e))
      : await runAnalysisWorker(request, {
          ...this.workerOptions,
          onProgress: (m) => this.emit({ stage: m.stage, message: m.message, fraction: m.fraction ?? null }),
        });
    this.emit({ stage: 'analyse', message: `${result.report.findings.length} findings`, fraction: 1 });
    return result;
  }

  private emit(event: ProgressEvent): void {
    for (const listener of this.progressListeners) listener(event);
  }

  private audit(auditId: string): Audit {
    const audit = this.audits.get(auditId);
    if (!audit) throw new ApiFailure('not-found', `no open audit ${auditId}`);
    return audit;
  }

  private view(audit: Audit): AuditView {
    const report = audit.result.report;
    const checkpoints: CheckpointRef[] = report.checkpoints.map((c, i) => ({ id: this.checkpointId(audit, i), label: c.path }));
    return {
      auditId: audit.id,
      summary: audit.result.summary,
      report,
      checkpoints,
      sandboxRuns: audit.sandboxRuns,
      isolation: { isolated: report.analysis.isolated, description: report.analysis.isolation },
    };
  }

  /**
   * `own` for the model's own checkpoint, `c1`.. for the extra ones as given; a checkpoint
   * bound at several candidate roots gives `c1`, `c1.2`, `c1.3`.. in report order.
   */
  private checkpointId(audit: Audit, index: number): string {
    const entries = audit.result.report.checkpoints;
    const entry = entries[index];
    if (!entry) return 'own';
    const given = entry.given ?? entry.path;
    const k = audit.checkpoints.indexOf(given);
    if (k < 0) return 'own';
    const nth = entries.slice(0, index).filter((e) => (e.given ?? e.path) === given).length;
    return nth === 0 ? `c${k + 1}` : `c${k + 1}.${nth + 1}`;
  }

  /** The model's own checkpoint as the report names it. */
  private ownCheckpointLabel(audit: Audit): string {
    const own = audit.result.report.checkpoints.find((e) => !audit.checkpoints.includes(e.given ?? e.path));
    return own?.path ?? `${audit.result.summary.path.replace(/\/+$/, '')}/variables/variables`;
  }

  /** The checkpoint an id names, with the root the analysis bound it at and the label the analysis gives it. */
  private checkpointChoice(audit: Audit, id: string | null): { path: string; root: string[] | null; label: string } | null {
    if (!id || id === 'own') return null;
    const m = /^c(\d+)(?:\.(\d+))?$/.exec(id);
    const path = m ? audit.checkpoints[Number(m[1]) - 1] : undefined;
    if (!m || path === undefined) throw new ApiFailure('bad-request', `unknown checkpoint id ${id}`);
    const entries = audit.result.report.checkpoints.filter((e) => (e.given ?? e.path) === path);
    const entry = entries[m[2] ? Number(m[2]) - 1 : 0];
    if (m[2] && !entry) throw new ApiFailure('bad-request', `unknown checkpoint id ${id}`);
    return { path, root: entry?.coverage?.rootPath ?? null, label: entry?.path ?? path };
  }

  /** The checkpoint that activates the finding, so "Launch in sandbox" confirms it by default. */
  private triggeringCheckpoint(audit: Audit, findingId: string | null): string | null {
    if (!findingId) return null;
    const finding = audit.result.report.findings.find((f) => f.id === findingId);
    const active = finding?.trigger.activation.find((a) => a.state === 'active');
    if (!active) return null;
    const index = audit.result.report.checkpoints.findIndex((c) => c.path === active.checkpoint);
    return index < 0 ? null : this.checkpointId(audit, index);
  }
}
