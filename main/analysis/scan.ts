// scanModel: every unsafe op of every graph body, with the gates that guard it, the backward
// slices of their predicates, the verdict of each checkpoint, the resolved targets, when it
// runs, and the chain of nodes that proves it.
import { join } from 'node:path';
import type { CheckpointIR, MetaGraphIR, ModelIR, TensorIR } from '../../shared/ir.ts';
import type { Activation, Capability, Finding, Gate, Reachability, ResolvedArgument, ScanReport, Severity, TriggerKind } from '../../shared/findings.ts';
import { SEVERITY_RANK, CAPABILITIES } from '../../shared/findings.ts';
import { buildCallGraph, type CallGraph, type CallSite } from './callgraph.ts';
import { buildVariableNaming, datasetElement, type Frame, type Tensor, type VariableNaming } from './dataflow.ts';
import { dataEdges, describeNode, flatInputIndex, nodesOf, opIndex, parseInputName, type Scope } from './edges.ts';
import { makeEvaluator, renderVal, tensorToVal, truthy, type Evaluator, type Val } from './evaluate.ts';
import { branchGates, callGate, switchGates, type GateSite } from './gates.ts';
import { predicateSlice, type Slice } from './slice.ts';
import { decideGates, type DecidedGate, type GateDecision } from './decide.ts';
import { buildTableIndex, type TableIndex } from './tables.ts';
import { variableWrites, writesOf, type VariableWrite } from './writes.ts';
import { allCallPaths, callPath, saverShaped, computeReach, entryLabels, findEntryPoints, reachabilityOf, type ReachInfo } from './reachability.ts';
import { capabilityRules, catalogueEntry, isSaverMachineryOp, isUnknownOp, type CapabilityRule } from './catalogue.ts';
import { addonLibrary } from './addons.ts';
import { policyAllows, type OpPolicy } from './policy.ts';
import { resolveArguments, textToLatin1, type ArgumentContext } from './arguments.ts';
import { findingSeverity } from './severity.ts';
import { buildFigure } from './figure.ts';
import { sizeFinding, whileTripTensors, WHILE_OPS, type SizeVerdict } from './exhaustion.ts';
import { nestedGraphs } from './nested.ts';
import { readCheckpointTensor } from '../formats/tensorbundle.ts';
import { LIMITS } from '../formats/errors.ts';
import { kerasFindings } from './keras.ts';
import type { CheckpointBinding } from './checkpoint-binding.ts';
import { tfliteFindings } from './tflite.ts';
import { knownVulnerabilityFindings, type VulnerabilityGraph } from './known-vulnerabilities.ts';

export interface ScanCheckpoint {
  label: string;
  /** null when the checkpoint could not be read: its verdicts are unknown, for `unreadable`. */
  checkpoint: CheckpointIR | null;
  /** How TensorFlow binds it to the model; absent for the model's own checkpoint (keys are the model's). */
  binding?: CheckpointBinding;
  /** The model's own checkpoint: variables the bound one lacks keep these values. */
  fallback?: CheckpointIR;
  unreadable?: string;
  /** Integrity failures (crc, bounds, size, fingerprint), each naming the file: each gives an `integrity` finding. */
  integrity?: string[];
}

export interface ScanOptions {
  checkpoints: ScanCheckpoint[];
  policy?: OpPolicy | null;
  isolation?: { isolated: boolean; description: string };
  toolVersion: string;
  /** TensorFlow release that will serve the model (`--tf-runtime`): known kernel advisories of that release become findings. */
  tfRuntime?: string | null;
  readTensor?: (ckpt: CheckpointIR, key: string) => Promise<TensorIR>;
  /** The time a time bomb is judged against (default: the time of the scan). */
  now?: Date;
}

type Draft = Omit<Finding, 'id'>;

/** One unsafe (scope, node, rule) occurrence, before checkpoint evaluation. */
interface Candidate {
  scope: Scope;
  node: number;
  capability: Capability;
  rule: CapabilityRule | null;
  frame: Frame;
  gates: GateEntry[];
  /** Interleaved chain pieces: gates and calls in path order. */
  chain: string[];
  calls: string[];
  size?: { tensors: { name: string; tensor: Tensor; slice: Slice }[] };
  description: string;
  details?: Record<string, string>;
}

const MAX_EVAL_ELEMENTS = 1 << 16;

/** A gate with its predicate slice and the graph it lives in (outer graphs for nested ones). */
interface GateEntry {
  site: GateSite;
  slice: Slice;
  graph: GraphContext;
}

interface GraphContext {
  cg: CallGraph;
  naming: VariableNaming;
  reach: ReachInfo;
  meta: MetaGraphIR;
  metaLabel: string | null;
  modelDir: string | null;
  /** Label of the graph inside the model, for nested graphs. */
  prefix: string;
  inherited: { reachability: Reachability; entryPoints: string[]; gates: GateEntry[]; chain: string[] } | null;
  tables: TableIndex;
  /** Evaluator over constants and the model's own files only (variables unknown). */
  constants: Evaluator;
  /** Assignments to variables that entry points run, by checkpoint key ('*' for untraced targets). */
  writes: () => Map<string, VariableWrite[]>;
}

export async function scanModel(model: ModelIR, options: ScanOptions): Promise<ScanReport> {
  const drafts: Draft[] = [];
  const errors: ScanReport['errors'] = [];
  const notes: string[] = [];
  const unknownSemantics = new Set<string>();
  let opsAnalysed = 0;
  let functionsAnalysed = 0;
  const modelDir = model.format === 'saved-model' ? model.path : null;
  const readTensor = options.readTensor ?? readCheckpointTensor;
  const analysedGraphs: VulnerabilityGraph[] = [];

  const graphs: { meta: MetaGraphIR; metaLabel: string | null; prefix: string; inherited: GraphContext['inherited']; depth: number }[] = model.metaGraphs.map((meta) => ({
    meta,
    metaLabel: model.format === 'saved-model' || model.format === 'meta-graph' ? meta.tags.join(',') : null,
    prefix: '',
    inherited: null,
    depth: 0,
  }));
  for (let gi = 0; gi < graphs.length; gi++) {
    const g = graphs[gi];
    try {
      const cg = buildCallGraph(g.meta.graph, g.meta.strippedOpList);
      const naming = buildVariableNaming(cg, g.meta, model.checkpoint ?? options.checkpoints[0]?.checkpoint ?? undefined);
      const hasMeta = model.format !== 'graph-def' || g.meta.signatures.length > 0 || g.meta.saverDef !== null;
      const reach = computeReach(cg, findEntryPoints(cg, g.inherited || !hasMeta ? null : g.meta));
      const modelFile = (rel: string) => (modelDir ? textToLatin1(join(modelDir, rel)) : null);
      let writes: Map<string, VariableWrite[]> | null = null;
      const ctx: GraphContext = {
        cg, naming, reach, meta: g.meta, metaLabel: g.metaLabel, modelDir, prefix: g.prefix, inherited: g.inherited,
        tables: null as unknown as TableIndex,
        constants: makeEvaluator(cg, naming, { variable: () => 'a variable is not a constant', modelFile, maxElements: MAX_EVAL_ELEMENTS, table: (h) => ctx.tables.resolve(h) }),
        writes: () => (writes ??= variableWrites(cg, naming, reach, ctx.constants)),
      };
      ctx.tables = buildTableIndex(cg, reach, modelDir, () => ctx.constants);
      analysedGraphs.push(ctx);
      opsAnalysed += cg.scopes.reduce((a, s) => a + s.nodes.length, 0);
      functionsAnalysed += cg.scopes.length - 1;
      if (cg.cycles.length) notes.push(`Call cycles in the function library: ${cg.cycles.slice(0, 5).map((c) => c.join(' → ')).join('; ')}`);
      const candidates = collectCandidates(ctx, options.policy ?? null, unknownSemantics);
      const judged = await judge(ctx, candidates, options, readTensor);
      for (const d of judged) for (const a of d.trigger.activation) for (const m of a.reason.matchAll(/op (\S+) \([^)]*\) is not evaluated/g)) unknownSemantics.add(m[1]);
      drafts.push(...judged);
      if (g.depth < LIMITS.maxNestedGraphDepth) {
        for (const nested of nestedGraphs(cg, `${g.prefix}${g.prefix ? ' › ' : ''}`)) {
          const sc = nested.frame.scope;
          notes.push(`Nested GraphDef decoded from ${nested.label} (${nested.graph.nodes.length} nodes, ${nested.graph.library.length} functions) and analysed like the outer graph.`);
          const outer = gatesAndChain(ctx, { scope: sc, stack: callPath(cg, reach, sc) }, nested.node);
          graphs.push({
            meta: { ...g.meta, graph: nested.graph, signatures: [], saverDef: null, collections: {}, objectGraph: null, assetFiles: [], strippedOpList: [] },
            metaLabel: g.metaLabel,
            prefix: nested.label,
            inherited: {
              reachability: g.inherited?.reachability ?? reachabilityOf(reach, sc, nested.node),
              entryPoints: g.inherited?.entryPoints ?? entryLabels(reach, sc, nested.node),
              gates: outer.gates,
              chain: outer.chain,
            },
            depth: g.depth + 1,
          });
        }
      }
    } catch (e) {
      errors.push({ file: model.path, message: `analysis of graph ${g.prefix || g.metaLabel || ''} failed: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  drafts.push(...formatFindings(model, errors));
  drafts.push(...integrityFindings(options.checkpoints));
  const runtime = options.tfRuntime ?? null;
  try {
    const known = knownVulnerabilityFindings(model, analysedGraphs, runtime);
    drafts.push(...known.drafts);
    notes.push(...known.notes);
  } catch (e) {
    errors.push({ file: model.path, message: `known-vulnerability analysis failed: ${e instanceof Error ? e.message : String(e)}` });
  }
  drafts.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || CAPABILITIES.indexOf(a.capability) - CAPABILITIES.indexOf(b.capability) || compareText(`${a.function ?? ''}/${a.node}`, `${b.function ?? ''}/${b.node}`));
  const findings: Finding[] = drafts.map((d, i) => ({ id: `F${i + 1}`, ...d }));
  for (const w of model.warnings) notes.push(w);
  return {
    schemaVersion: 1,
    tool: { name: 'tfaudit', version: options.toolVersion },
    model: { path: model.path, format: model.format, files: model.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })), tensorflowVersion: model.metaGraphs[0]?.tensorflowVersion || null },
    checkpoints: options.checkpoints.map((c) => ({ path: c.label })),
    findings,
    errors,
    analysis: {
      isolated: options.isolation?.isolated ?? false,
      isolation: options.isolation?.description ?? 'The model was parsed and analysed statically; nothing from it was executed.',
      opsAnalysed,
      functionsAnalysed,
      unknownSemantics: [...unknownSemantics].sort(),
      notes,
      ...(runtime !== null ? { tensorflowRuntime: runtime } : {}),
    },
  };
}

/**
 * A checkpoint that fails its integrity checks is a finding of its own: what cannot be read
 * cannot be judged safe, and a changed checkpoint is how a dormant branch gets switched on.
 */
function integrityFindings(checkpoints: ScanCheckpoint[]): Draft[] {
  const out: Draft[] = [];
  const seen = new Set<string>();
  for (const c of checkpoints) {
    const problems = c.integrity ?? [];
    if (!problems.length) continue;
    const file = c.checkpoint?.prefix ?? c.label;
    const key = `${file}\0${problems.join('\0')}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const unreadable = !!c.unreadable;
    const severity: Severity = unreadable ? 'high' : 'medium';
    const nodes = [{ id: 'c', label: c.label, kind: 'variable' as const, detail: problems[0] }, { id: 'u', label: 'integrity check', kind: 'unsafe' as const, detail: `${problems.length} problem(s)` }];
    out.push({
      rule: 'integrity/checkpoint',
      severity,
      capability: 'integrity',
      op: 'checkpoint',
      node: file,
      function: null,
      metaGraph: null,
      message: `Checkpoint ${c.label} fails its integrity checks (${problems.length} problem(s): ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}).${unreadable ? ' Its verdicts are unknown: what cannot be read cannot be judged safe.' : ''}`,
      evidence: problems.slice(0, 50),
      arguments: [],
      reachability: 'load',
      entryPoints: [],
      trigger: { kind: 'none', variables: [], gates: [], activation: [{ checkpoint: c.label, state: 'unknown', values: {}, reason: problems[0]! }] },
      figure: { nodes, edges: [{ from: 'c', to: 'u' }] },
      recommendation: 'Do not load this checkpoint: obtain it again from its source and compare hashes; a checkpoint changed after export can switch branches of the model.',
      details: { file },
    });
  }
  return out;
}

/** Keras and TFLite findings come from their own analysers (keras.ts, tflite.ts). */
function formatFindings(model: ModelIR, errors: ScanReport['errors']): Draft[] {
  const out: Draft[] = [];
  const run = (present: unknown, name: string, analyse: (m: ModelIR) => Finding[]) => {
    if (!present) return;
    try {
      for (const f of analyse(model)) {
        const { id: _id, ...rest } = f;
        out.push(rest);
      }
    } catch (e) {
      errors.push({ file: model.path, message: `${name} failed: ${e instanceof Error ? e.message : String(e)}` });
    }
  };
  run(model.keras ?? (model.savedModel?.kerasMetadata ? model : null), 'Keras analysis', kerasFindings);
  run(model.tflite, 'TFLite analysis', tfliteFindings);
  return out;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const CUSTOM_RULE: CapabilityRule = { capability: 'custom-op', targetInputs: [], targetAttrs: [], baseSeverity: 'high', description: 'An op TensorFlow does not define: its kernel is native code shipped with the model.' };

function collectCandidates(ctx: GraphContext, policy: OpPolicy | null, unknown: Set<string>): Candidate[] {
  const { cg } = ctx;
  const out: Candidate[] = [];
  // Policy violations are reported once per op type, with the number of nodes.
  const policyCount = new Map<string, number>();
  if (policy)
    for (const scope of cg.scopes)
      for (const [op, nodes] of opIndex(scope)) if (!cg.byName.has(op) && !policyAllows(policy, op)) policyCount.set(op, (policyCount.get(op) ?? 0) + nodes.length);
  const policyReported = new Set<string>();
  // Only ops with a rule can yield a candidate: the catalogue's, ops TensorFlow does not define,
  // loops, and ops outside the policy. Asked once per op type, not per node.
  const mayMatch = (op: string) => !cg.byName.has(op) && (catalogueEntry(op).length > 0 || isUnknownOp(op, ctx.meta.strippedOpList) || WHILE_OPS.has(op) || policyCount.has(op));
  for (const scope of cg.scopes) {
    let framePath: CallSite[] | null = null;
    for (const i of nodesOf(scope, mayMatch)) {
      const node = scope.nodes[i];
      const rules: CapabilityRule[] = [];
      const def = cg.lookup(node.op);
      for (const r of capabilityRules(node, def)) if (!rules.some((x) => x.capability === r.capability)) rules.push(r);
      const details: Record<string, string> = {};
      if (isUnknownOp(node.op, ctx.meta.strippedOpList)) {
        unknown.add(node.op);
        const lib = addonLibrary(node.op);
        if (lib) {
          details.library = lib.library;
          details.libraryNote = lib.note;
        }
        rules.push({ ...CUSTOM_RULE, baseSeverity: lib ? 'low' : 'high', description: lib ? `Op of the add-on library ${lib.library}: ${lib.note}` : CUSTOM_RULE.description });
      }
      if (WHILE_OPS.has(node.op)) rules.push(WHILE_RULE);
      if (policyCount.has(node.op) && !policyReported.has(node.op)) {
        policyReported.add(node.op);
        // Save/restore ops outside the policy are judged like the machinery they are: info when
        // only TensorFlow's saver reaches them, a finding when a signature or the init op does.
        rules.push({ capability: 'policy', targetInputs: [], targetAttrs: [], saverMachinery: isSaverMachineryOp(node.op), baseSeverity: 'medium', description: `${node.op} is not allowed by the op policy (${policyCount.get(node.op)} node(s) use it).` });
      }
      if (!rules.length) continue;
      framePath ??= callPath(cg, ctx.reach, scope);
      const frame: Frame = { scope, stack: framePath };
      const { gates, chain, calls } = gatesAndChain(ctx, frame, i);
      for (const rule of rules) {
        const base: Candidate = { scope, node: i, capability: rule.capability, rule, frame, gates, chain, calls, description: rule.description };
        if (Object.keys(details).length) base.details = { ...details };
        if (rule.capability === 'policy') base.details = { ...base.details, policyNodes: String(policyCount.get(node.op)) };
        if (rule.capability === 'resource-exhaustion') {
          const sized = rule === WHILE_RULE ? whileSizes(ctx, frame, i) : sizeTensors(ctx, frame, i, rule);
          if (!sized) continue;
          base.size = { tensors: sized };
          const last = base.chain[base.chain.length - 1];
          const sizeVariables = sized.flatMap((t) => t.slice.variables.map((v) => `variable ${v}`)).filter((v) => !base.chain.includes(v));
          const sources = sized.flatMap((t) => [...t.slice.nodes].reverse().slice(-8));
          base.chain = [...sizeVariables, ...base.chain.slice(0, -1), ...sources, last];
        }
        out.push(base);
      }
    }
  }
  return out;
}

const WHILE_RULE: CapabilityRule = { capability: 'resource-exhaustion', targetInputs: [], targetAttrs: [], baseSeverity: 'medium', description: 'A While loop whose trip count is decided by a value that can be made huge.' };

function whileSizes(ctx: GraphContext, frame: Frame, node: number): { name: string; tensor: Tensor; slice: Slice }[] | null {
  const trip = whileTripTensors(ctx.cg, frame, node);
  if (!trip) return null;
  const out = trip.map((t) => ({ ...t, slice: sliceOf(ctx, t.tensor) }));
  const limit = out.find((t) => t.name === 'limit')!;
  return limit.slice.variables.length || (limit.slice.source === 'constant' && !limit.slice.shapeDerived) ? out : null;
}

/** Size-driving inputs worth a finding: driven by a variable, or constant (judged later by value). */
function sizeTensors(ctx: GraphContext, frame: Frame, node: number, rule: CapabilityRule): { name: string; tensor: Tensor; slice: Slice }[] | null {
  const n = frame.scope.nodes[node];
  const edges = dataEdges(frame.scope, node);
  const out: { name: string; tensor: Tensor; slice: Slice }[] = [];
  let interesting = false;
  for (const name of rule.sizeInputs ?? []) {
    const range = flatInputIndex(n, name, ctx.cg.lookup);
    if (!range) continue;
    for (let k = range.start; k < range.start + range.length && k < edges.length; k++) {
      const tensor = { frame, source: edges[k] };
      const slice = sliceOf(ctx, tensor);
      out.push({ name, tensor, slice });
      if (slice.variables.length || (slice.source === 'constant' && !slice.shapeDerived)) interesting = true;
    }
  }
  return interesting ? out : null;
}

interface ChainPart {
  gates: GateEntry[];
  chain: string[];
  calls: string[];
}

const pathParts = new WeakMap<GraphContext, Map<number, ChainPart>>();

/** Gates and chain along the call path into a scope: the same for every node of the scope, so memoised. */
function pathPart(ctx: GraphContext, frame: Frame): ChainPart {
  let byScope = pathParts.get(ctx);
  if (!byScope) pathParts.set(ctx, (byScope = new Map()));
  const known = byScope.get(frame.scope.id);
  if (known) return known;
  const part: ChainPart = { gates: [...(ctx.inherited?.gates ?? [])], chain: [...(ctx.inherited?.chain ?? [])], calls: [] };
  frame.stack.forEach((site, i) => {
    const stack = frame.stack.slice(0, i);
    for (const g of switchGates({ scope: site.caller, stack }, site.node)) addGate(ctx, part, g);
    const g = callGate(ctx.cg, site, stack);
    if (g) addGate(ctx, part, g);
    else {
      const call = describeNode(site.caller, site.node);
      part.chain.push(call, `${site.callee} (function)`);
      part.calls.push(call);
    }
  });
  byScope.set(frame.scope.id, part);
  return part;
}

function addGate(ctx: GraphContext, part: ChainPart, g: GateSite): void {
  const slice = g.predicate ? sliceOf(ctx, g.predicate) : emptySlice();
  part.gates.push({ site: g, slice, graph: ctx });
  part.chain.push(...[...slice.nodes].reverse().slice(-12), describeNode(g.frame.scope, g.node));
  if (g.branchFunction) part.chain.push(`${g.branchFunction} (${g.branch})`);
}

function gatesAndChain(ctx: GraphContext, frame: Frame, node: number): ChainPart {
  const path = pathPart(ctx, frame);
  const own = switchGates(frame, node);
  const part: ChainPart = own.length ? { gates: [...path.gates], chain: [...path.chain], calls: path.calls } : { ...path, chain: [...path.chain] };
  for (const g of own) addGate(ctx, part, g);
  part.chain.push(describeNode(frame.scope, node));
  // The chain starts at the variables that decide the gates, then where execution enters
  // (signature, init op, saved function), then calls, predicates and gates down to the op.
  const entry = ctx.inherited ? [] : entryLabels(ctx.reach, frame.stack[0]?.caller ?? frame.scope, frame.stack[0]?.node ?? node).slice(0, 1);
  const variables = [...new Set(part.gates.flatMap((g) => g.slice.variables))].map((v) => `variable ${v}`);
  part.chain.unshift(...variables, ...entry);
  return part;
}

function sliceOf(ctx: GraphContext, t: Tensor): Slice {
  return predicateSlice(ctx.cg, ctx.naming, t, { tableSource: (h) => ctx.tables.runTimeSource(h) });
}

function emptySlice(): Slice {
  // Not found is not proven: no source to blame, and the gate stays undecided.
  return { source: 'constant', variables: [], inputs: [], environment: [], nodes: [], expression: '(unresolved predicate)', shapeDerived: false, shapeSources: [] };
}

function gateDecision(site: GateSite, v: Val): boolean {
  switch (site.kind) {
    case 'case': {
      const k = typeof v.data[0] === 'number' ? v.data[0] : Number(v.data[0]);
      const idx = k < 0 || k >= site.branchCount ? site.branchCount - 1 : k;
      return site.takenAny ? site.takenAny.includes(idx) : idx === site.taken;
    }
    case 'switch':
      return truthy(v) === (site.taken === 1);
    case 'if':
      return truthy(v) === (site.taken === 1);
    case 'while':
      return truthy(v);
  }
}

function gateToSchema(g: GateEntry): Gate {
  const { shapeDerived: _a, shapeSources: _b, environment, ...rest } = g.slice;
  const predicate = environment.length ? { ...rest, environment } : rest;
  return { function: g.site.frame.scope.name, node: g.site.frame.scope.nodes[g.site.node].name, op: g.site.op, branch: g.site.branch, branchFunction: g.site.branchFunction, predicate };
}

/** Checkpoint keys to load: variables of gates, sizes and the paths/URLs unsafe ops use. */
function collectKeys(ctx: GraphContext, candidates: Candidate[]): Set<string> {
  const keys = new Set<string>();
  for (const c of candidates) {
    for (const g of c.gates) g.slice.variables.forEach((k) => keys.add(k));
    for (const s of c.size?.tensors ?? []) s.slice.variables.forEach((k) => keys.add(k));
    if (!c.rule?.targetInputs.length) continue;
    const node = c.scope.nodes[c.node];
    const edges = dataEdges(c.scope, c.node);
    for (const name of c.rule.targetInputs) {
      const range = flatInputIndex(node, name, ctx.cg.lookup);
      for (let k = range?.start ?? 0; range && k < range.start + range.length && k < edges.length; k++) {
        const target = { frame: c.frame, source: edges[k] };
        sliceOf(ctx, datasetElement(target) ?? target).variables.forEach((v) => keys.add(v));
      }
    }
  }
  return keys;
}

const OWN_VALUE_NOTE = "not in this checkpoint: the model's own value, which TensorFlow keeps";

/** Values of the keys under one checkpoint, read through its binding; strings say why a value is unknown. */
async function loadValues(c: ScanCheckpoint, keys: Set<string>, readTensor: NonNullable<ScanOptions['readTensor']>): Promise<{ values: Map<string, Val | string>; ownValues: Set<string> }> {
  const values = new Map<string, Val | string>();
  const ownValues = new Set<string>();
  const ckpt = c.checkpoint;
  const refused = c.binding?.coverage.refused;
  for (const key of keys) {
    if (!ckpt) {
      values.set(key, `checkpoint ${c.label} cannot be read: ${c.unreadable ?? 'unknown reason'}`);
      continue;
    }
    if (refused) {
      values.set(key, refused);
      continue;
    }
    let bound = c.binding ? c.binding.keyMap.get(key) : key;
    if (bound === undefined && c.binding?.byName && ckpt.entries.some((e) => e.key === key)) bound = key;
    if (bound === undefined && c.fallback) {
      const own = await readValue(c.fallback, key, readTensor);
      values.set(key, typeof own === 'string' ? `${OWN_VALUE_NOTE}, and that ${own}` : own);
      if (typeof own !== 'string') ownValues.add(key);
      continue;
    }
    values.set(key, bound === undefined ? `not in checkpoint ${ckpt.prefix}` : await readValue(ckpt, bound, readTensor));
  }
  return { values, ownValues };
}

const entryIndex = new WeakMap<CheckpointIR, Map<string, CheckpointIR['entries'][number]>>();

async function readValue(ckpt: CheckpointIR, key: string, readTensor: NonNullable<ScanOptions['readTensor']>): Promise<Val | string> {
  let index = entryIndex.get(ckpt);
  if (!index) entryIndex.set(ckpt, (index = new Map(ckpt.entries.map((e) => [e.key, e]))));
  const entry = index.get(key);
  if (!entry) return `not in checkpoint ${ckpt.prefix}`;
  const count = entry.shape.reduce((a, b) => a * b, 1);
  if (count > MAX_EVAL_ELEMENTS) return `${count} elements: too large to evaluate`;
  try {
    return tensorToVal(await readTensor(ckpt, key), MAX_EVAL_ELEMENTS);
  } catch (e) {
    return `unreadable: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function judge(ctx: GraphContext, candidates: Candidate[], options: ScanOptions, readTensor: NonNullable<ScanOptions['readTensor']>): Promise<Draft[]> {
  if (!candidates.length) return [];
  const keys = collectKeys(ctx, candidates);
  const modelFile = (rel: string) => (ctx.modelDir ? textToLatin1(join(ctx.modelDir, rel)) : null);
  const evaluators: Checkpointed[] = [];
  const constants = (graph: GraphContext) => graph.constants;
  const now = (options.now ?? new Date()).getTime() / 1000;
  for (const c of options.checkpoints) {
    const { values, ownValues } = await loadValues(c, keys, readTensor);
    // A variable the checkpoint does not hold keeps the value its initialiser assigns (TF1).
    for (const [key, v] of values) {
      if (typeof v !== 'string' || !v.startsWith('not in checkpoint')) continue;
      const init = ctx.naming.initializerOf(key);
      const r = init ? ctx.constants.evaluate(init) : null;
      if (r?.ok) values.set(key, r.value);
    }
    const make = (graph: GraphContext, opts: EvalOverrides = {}): Evaluator =>
      makeEvaluator(graph.cg, graph.naming, {
        // A variable the model writes itself holds the checkpoint's value only until the first write.
        variable: (k) => opts.variables?.get(k) ?? selfWrittenReason(graph, k) ?? values.get(k) ?? 'not loaded',
        modelFile,
        maxElements: MAX_EVAL_ELEMENTS,
        table: (h) => graph.tables.resolve(h),
        now: opts.now,
      });
    const byGraph = new Map<GraphContext, Evaluator>();
    const ev = (graph: GraphContext) => {
      let e = byGraph.get(graph);
      if (!e) byGraph.set(graph, (e = make(graph)));
      return e;
    };
    evaluators.push({ label: c.label, values, ownValues, ev, make, now });
  }
  const folded = makeEvaluator(ctx.cg, ctx.naming, { variable: () => 'a variable is not a constant', modelFile, maxElements: MAX_EVAL_ELEMENTS, assumeTaken: true, table: (h) => ctx.tables.resolve(h) });
  const argCtx: ArgumentContext = { cg: ctx.cg, naming: ctx.naming, constants: folded, modelDir: ctx.modelDir, checkpoints: evaluators.map((e) => ({ label: e.label, evaluator: e.ev(ctx) })) };
  const seen = new Set<string>();
  const drafts: Draft[] = [];
  for (const c of candidates) {
    const key = `${c.scope.id}:${c.node}:${c.capability}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const d = draftFinding(ctx, c, evaluators, constants, argCtx, now);
    if (d) drafts.push(d);
  }
  return drafts;
}

interface EvalOverrides {
  variables?: Map<string, Val>;
  now?: number;
}

interface Checkpointed {
  label: string;
  values: Map<string, Val | string>;
  /** Keys whose value is the model's own because the checkpoint lacks them. */
  ownValues: Set<string>;
  ev: (graph: GraphContext) => Evaluator;
  make: (graph: GraphContext, opts?: EvalOverrides) => Evaluator;
  /** Scan time, seconds since the epoch. */
  now: number;
}

/** Constants and the model's own files only, as a checkpoint-less stand-in for time verdicts. */
function constantsOnly(ctx: GraphContext, now: number): Checkpointed {
  const make = (graph: GraphContext, opts: EvalOverrides = {}): Evaluator =>
    makeEvaluator(graph.cg, graph.naming, { variable: () => 'no checkpoint given', modelFile: (rel) => (graph.modelDir ? textToLatin1(join(graph.modelDir, rel)) : null), maxElements: MAX_EVAL_ELEMENTS, table: (h) => graph.tables.resolve(h), now: opts.now });
  return { label: '(constants)', values: new Map(), ownValues: new Set(), ev: (graph) => graph.constants, make, now };
}

function selfWrittenReason(graph: GraphContext, key: string): string | null {
  const ws = writesOf(graph.writes(), key);
  return ws.length ? `the model writes it itself (${ws.slice(0, 2).map((w) => w.node).join(', ')}${ws.length > 2 ? ', …' : ''}), so the checkpoint value holds only until the first write` : null;
}

/** Every gate decided with constants alone (variables unknown) and one proven closed on every call path: the op can never run. */
function behindConstantFalse(c: Candidate, constants: (graph: GraphContext) => Evaluator): boolean {
  if (!c.gates.length) return false;
  if (decideGates(c.gates, constants, gateDecision).state !== 'dormant') return false;
  const other = otherPaths(c);
  return other.complete && other.gates.every((gates) => decideGates(gates, constants, gateDecision).state === 'dormant');
}

const otherPathMemo = new WeakMap<Candidate, { gates: DecidedGate<GraphContext>[][]; labels: string[]; complete: boolean }>();

/**
 * The gates on the other call paths into the candidate's function: the evidence follows one
 * path, but a function called from several places must be dormant on all of them.
 */
function otherPaths(c: Candidate): { gates: DecidedGate<GraphContext>[][]; labels: string[]; complete: boolean } {
  const known = otherPathMemo.get(c);
  if (known) return known;
  const graph = c.gates[0]?.graph;
  let result: { gates: DecidedGate<GraphContext>[][]; labels: string[]; complete: boolean } = { gates: [], labels: [], complete: true };
  if (graph && !graph.inherited && c.scope !== graph.cg.top) {
    const { paths, complete } = allCallPaths(graph.cg, graph.reach, c.scope);
    const same = (p: CallSite[]) => p.length === c.frame.stack.length && p.every((x, i) => x === c.frame.stack[i]);
    const others = paths.filter((p) => !same(p));
    result = {
      gates: others.map((stack) => branchGates(graph.cg, { scope: c.scope, stack }, c.node).map((site) => ({ site, graph }))),
      labels: others.map((stack) => (stack.length ? stack.map((x) => describeNode(x.caller, x.node)).join(' → ') : `${c.scope.name} called directly`)),
      complete,
    };
  }
  otherPathMemo.set(c, result);
  return result;
}

const MAX_SIMULATED_WRITES = 1000;
const SIMULATION_MILLIS = 1500;
const TIME_HORIZON = 100 * 365.25 * 86400;

/** The verdict of one checkpoint: every gate taken (active), one not taken (dormant), or unknown. */
function activationUnder(ctx: GraphContext, c: Candidate, e: Checkpointed, constantFalse: boolean): { activation: Activation; size: SizeVerdict | null; iterations?: GateDecision['iterations'] } {
  const values: Record<string, string> = {};
  for (const g of c.gates) for (const k of g.slice.variables) values[k] = showValue(e.values.get(k)) + (e.ownValues.has(k) ? ` (${OWN_VALUE_NOTE})` : '');
  let decision = decideGates(c.gates, e.ev, gateDecision);
  Object.assign(values, decision.values);
  const reasons = [...decision.reasons];
  if (decision.state === 'unknown' && !constantFalse) {
    const counted = simulateWrites(c, e, decision);
    if (counted) {
      decision = counted.decision;
      reasons.push(counted.reason);
    }
    const timed = decision.state === 'unknown' ? timeVerdict(c, e) : null;
    if (timed) {
      if (timed.state === 'active') decision = { ...timed.decision, state: 'active' };
      reasons.push(timed.reason);
    }
  }
  if (decision.state !== 'active' && !constantFalse) {
    // Every other call path into the function: active on one is active; dormant needs all.
    const other = otherPaths(c);
    other.gates.forEach((gates, i) => {
      if (decision.state === 'active') return;
      const d = decideGates(gates, e.ev, gateDecision);
      if (d.state === 'dormant') return;
      reasons.push(`also reached through ${other.labels[i]}: ${d.reasons.join('; ') || 'no gate'}`);
      decision = { ...decision, state: d.state === 'active' ? 'active' : 'unknown' };
    });
    if (!other.complete && decision.state === 'dormant') {
      decision = { ...decision, state: 'unknown' };
      reasons.push('more call paths into the function than were examined');
    }
  }
  let state = decision.state;
  let size: SizeVerdict | null = null;
  if (c.size) {
    size = sizeFinding(c.frame.scope.nodes[c.node], c.size.tensors, e.ev(ctx));
    for (const t of c.size.tensors) for (const k of t.slice.variables) values[k] = showValue(e.values.get(k)) + (e.ownValues.has(k) ? ` (${OWN_VALUE_NOTE})` : '');
    if (size.elements !== null) values.elements = String(size.elements);
    if (size.bytes !== null) values.bytes = String(size.bytes);
    reasons.push(size.reason);
    if (state === 'active') state = size.state;
    else if (state === 'unknown' && size.state === 'dormant') state = 'dormant';
  }
  if (constantFalse) state = 'dormant';
  return { activation: { checkpoint: e.label, state, values, reason: reasons.join('; ') || 'no gate: runs whenever its function runs' }, size, iterations: decision.iterations };
}

/**
 * A gate on a variable the model counts up or down itself (a constant added on every call, no
 * condition on the write): simulate the successive values from the checkpoint's and say from
 * which call the gate opens. Anything else stays unknown.
 */
function simulateWrites(c: Candidate, e: Checkpointed, base: GateDecision): { decision: GateDecision; reason: string } | null {
  const graphOf = new Map<string, GraphContext>();
  for (const g of c.gates) for (const k of g.slice.variables) if (writesOf(g.graph.writes(), k).length) graphOf.set(k, g.graph);
  if (!graphOf.size) return null;
  const described = [...graphOf].map(([k, graph]) => `${k} (${writesOf(graph.writes(), k).map((w) => `${w.op} ${w.node}${w.step !== null ? ` ${w.step >= 0 ? '+' : ''}${w.step}` : ''}`).join(', ')})`);
  const changes = `the model changes ${described.join(' and ')} itself`;
  if (graphOf.size > 1) return { decision: base, reason: `${changes}: not decided` };
  const [[key, graph]] = [...graphOf];
  const writes = writesOf(graph.writes(), key);
  const v0 = e.values.get(key);
  if (writes.every((w) => w.value !== null && w.key !== '*') && v0 && typeof v0 !== 'string') return settleAssignments(c, e, base, key, graph, v0, writes, changes);
  const bad = writes.find((w) => w.step === null || w.key === '*');
  if (bad) return { decision: base, reason: `${changes}: ${bad.why ?? 'a write whose target is not known'}, so its value at the gate is not known` };
  const step = writes[0].step!;
  if (writes.some((w) => w.step !== step)) return { decision: base, reason: `${changes} by different amounts: not decided` };
  if (!v0 || typeof v0 === 'string' || v0.data.length !== 1 || typeof v0.data[0] !== 'number') return { decision: base, reason: `${changes}; its starting value is not a known number` };
  const entries = new Set(c.gates.length ? entryLabelsOf(c) : []);
  // Call numbers only when each write runs once per call (one path into its function).
  const perCall = writes.every((w) => w.paths === 1) ? writes.filter((w) => w.entries.some((x) => entries.has(x))).length : 0;
  const started = Date.now();
  let value = v0.data[0];
  for (let m = 0; m <= MAX_SIMULATED_WRITES; m++) {
    if (Date.now() - started > SIMULATION_MILLIS) return { decision: base, reason: `${changes}: not decided within ${m} steps` };
    const v: Val = { ...v0, data: [value] };
    const d = decideGates(c.gates, (g) => (g === graph ? e.make(g, { variables: new Map([[key, v]]) }) : e.ev(g)), gateDecision);
    if (d.state === 'active') {
      const when = perCall ? `active from call ${Math.max(1, Math.ceil(m / perCall))} (${key} = ${renderVal(v)})` : `active once the model has changed ${key} ${m} time${m === 1 ? '' : 's'} (${key} = ${renderVal(v)})`;
      return { decision: { ...d, state: 'active' }, reason: `${changes}: ${when}` };
    }
    value = stepValue(v0.dtype, value, step);
  }
  return { decision: base, reason: `${changes}: not active within ${MAX_SIMULATED_WRITES} steps, and later ones are not examined` };
}

/**
 * Every write sets a constant: the variable only ever holds the checkpoint's value or one of
 * those constants, so deciding the gates for each of them decides every call.
 */
function settleAssignments(c: Candidate, e: Checkpointed, base: GateDecision, key: string, graph: GraphContext, v0: Val, writes: VariableWrite[], changes: string): { decision: GateDecision; reason: string } {
  const candidates: { value: Val; how: string }[] = [{ value: v0, how: 'the checkpoint value' }, ...writes.map((w) => ({ value: w.value!, how: `set by ${w.node}` }))];
  let unknown: string | null = null;
  for (const { value, how } of candidates) {
    const d = decideGates(c.gates, (g) => (g === graph ? e.make(g, { variables: new Map([[key, value]]) }) : e.ev(g)), gateDecision);
    if (d.state === 'active') return { decision: d, reason: `${changes}: active once it holds ${renderVal(value)} (${how})${how.startsWith('set') ? ', from the next call on at the latest' : ''}` };
    if (d.state === 'unknown') unknown ??= `${renderVal(value)} (${how}): ${d.reasons.join('; ')}`;
  }
  if (unknown) return { decision: base, reason: `${changes}: not decided for ${unknown}` };
  return { decision: { ...base, state: 'dormant' }, reason: `${changes}, but only to constants: dormant for every value it can hold (${candidates.map((x) => renderVal(x.value)).join(', ')})` };
}

function entryLabelsOf(c: Candidate): string[] {
  const g = c.gates[0].graph;
  return g.inherited?.entryPoints ?? entryLabels(g.reach, c.scope, c.node);
}

/** One more counter step, with the variable's own arithmetic (float32 rounding, int wrap-around). */
function stepValue(dtype: string, value: number, step: number): number {
  const sum = value + step;
  if (dtype === 'DT_FLOAT') return Math.fround(sum);
  if (dtype === 'DT_INT32') return sum | 0;
  if (dtype === 'DT_INT64') return sum;
  return sum;
}

/**
 * A gate that reads the clock: decided against the scan time, with the date the gate opened
 * (or opens) found by searching the time line. True now is active; false now is never
 * dormant, since the date moves on (and the clock can be set).
 */
function timeVerdict(c: Candidate, e: Checkpointed): { state: 'active' | 'unknown'; decision: GateDecision; reason: string } | null {
  if (!c.gates.some((g) => g.slice.environment.some((x) => x.includes('Timestamp')))) return null;
  const at = (t: number) => decideGates(c.gates, (g) => e.make(g, { now: t }), gateDecision);
  const current = at(e.now);
  const day = (t: number) => new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const flip = (from: number, to: number): number | null => {
    // The first sample where the state differs from `from`'s, then bisection to a second.
    const first = at(from).state;
    let prev = from;
    for (let k = 1; k <= 128; k++) {
      const t = from + ((to - from) * k) / 128;
      if (at(t).state !== first) {
        let lo = prev;
        let hi = t;
        for (let i = 0; i < 64 && Math.abs(hi - lo) > 1; i++) {
          const mid = (lo + hi) / 2;
          if (at(mid).state === first) lo = mid;
          else hi = mid;
        }
        return hi;
      }
      prev = t;
    }
    return null;
  };
  if (current.state === 'active') {
    const since = flip(e.now, e.now - TIME_HORIZON);
    return { state: 'active', decision: current, reason: `time bomb: the clock gate is true now (${day(e.now)})${since !== null ? `, true since ${day(Math.ceil(since))}` : ', and at every time in the last 100 years'}` };
  }
  if (current.state === 'dormant') {
    const from = flip(e.now, e.now + TIME_HORIZON);
    return { state: 'unknown', decision: current, reason: from !== null ? `time bomb: the clock gate is false now (${day(e.now)}) and becomes true on ${day(Math.ceil(from))}` : `the clock gate is false now (${day(e.now)}) and for the next 100 years, but the clock is not the model's to prove` };
  }
  return null;
}

function triggerKind(c: Candidate, variables: Set<string>, constantFalse: boolean): TriggerKind {
  if (variables.size) return 'variable';
  if (constantFalse) return 'constant';
  if (c.gates.some((g) => g.slice.environment.length)) return 'environment';
  if (c.gates.some((g) => g.slice.source === 'input')) return 'input';
  return 'none';
}

/** When the op runs, with TensorFlow's own saver machinery told apart from look-alikes. */
function whenItRuns(ctx: GraphContext, c: Candidate): { reachability: Reachability; machinery: boolean } {
  let reachability = ctx.inherited?.reachability ?? reachabilityOf(ctx.reach, c.scope, c.node);
  const saverOp = !!c.rule?.saverMachinery;
  if ((reachability === 'graph' || reachability === 'dead') && saverOp && !ctx.meta.saverDef && saverShaped(ctx.cg, c.scope, c.node)) reachability = 'saver';
  // Saver machinery works on the SaverDef's filename tensor; a save/restore op aimed elsewhere is not machinery.
  const machinery = saverOp && !(reachability === 'saver' && !targetsSaverFilename(ctx, c));
  // The restore path runs when the model is loaded: anything else found there is a load-time finding.
  if (reachability === 'saver' && !machinery) reachability = 'load';
  return { reachability, machinery };
}

function draftFinding(ctx: GraphContext, c: Candidate, evaluators: Checkpointed[], constants: (graph: GraphContext) => Evaluator, argCtx: ArgumentContext, now: number): Draft | null {
  const node = c.scope.nodes[c.node];
  const constantFalse = behindConstantFalse(c, constants);
  const judged = evaluators.map((e) => activationUnder(ctx, c, e, constantFalse));
  const activation = judged.map((j) => j.activation);
  let sizeVerdicts = judged.map((j) => j.size).filter((v): v is SizeVerdict => v !== null);
  const sizeVariables = new Set(c.size?.tensors.flatMap((t) => t.slice.variables) ?? []);
  if (c.size && !sizeVariables.size) {
    // Constant sizes: a finding only when the constant is huge.
    const v = sizeFinding(node, c.size.tensors, constants(ctx));
    if (v.state !== 'active') return null;
    sizeVerdicts = [v];
  }
  const variables = new Set<string>([...sizeVariables, ...c.gates.flatMap((g) => g.slice.variables)]);
  let kind = triggerKind(c, variables, constantFalse);
  // No checkpoint to judge under (a frozen graph): a time bomb is still judged against the clock.
  const clockless = !evaluators.length && kind === 'environment' ? timeVerdict(c, constantsOnly(ctx, now)) : null;
  // Gates that constants alone prove open let the op run whatever the caller sends: not input-gated.
  if (kind === 'input' && decideGates(c.gates, constants, gateDecision).state === 'active') kind = 'none';
  const { reachability, machinery } = whenItRuns(ctx, c);
  const args: ResolvedArgument[] = c.rule ? resolveArguments(argCtx, c.frame, c.node, c.rule) : [];
  const benignTargets = c.capability === 'file-read' && args.length > 0 && args.every((a) => a.classification === 'model-own-files');
  // A size that is huge as saved is a certain denial of service, not a potential one.
  const certain = !!c.size && !sizeVariables.size;
  const severity: Severity = findingSeverity({
    base: certain ? 'high' : c.rule?.baseSeverity ?? 'high',
    reachability,
    triggerKind: kind,
    activation: [...activation.map((a) => a.state), ...(clockless?.state === 'active' ? ['active' as const] : [])],
    constantFalse,
    saverMachinery: machinery,
    benignTargets,
    availabilityOnly: c.capability === 'resource-exhaustion',
    capability: c.capability,
  });
  const gates = c.gates.map(gateToSchema);
  const environment = [...new Set(c.gates.flatMap((g) => g.slice.environment))].sort();
  const selfWritten = [...variables].filter((k) => c.gates.some((g) => writesOf(g.graph.writes(), k).length)).map((k) => {
    const ws = writesOf(c.gates.find((g) => writesOf(g.graph.writes(), k).length)!.graph.writes(), k);
    return `${k}: ${ws.map((w) => `${w.op} ${w.node}${w.step !== null ? ` (${w.step >= 0 ? '+' : ''}${w.step} per run)` : ''}`).join(', ')}`;
  });
  // With no checkpoint, a loop decided by constants alone still says which iterations run the op.
  const constantLoop = !evaluators.length && c.gates.some((g) => g.site.kind === 'while' || g.site.loop) ? decideGates(c.gates, constants, gateDecision).reasons.join('; ') : undefined;
  const details: Record<string, string> = { ...(c.details ?? {}) };
  const sv = sizeVerdicts.find((v) => v.state === 'active') ?? sizeVerdicts[0];
  if (sv && sv.elements !== null) details.elements = String(sv.elements);
  if (sv && sv.bytes !== null) details.bytes = String(sv.bytes);
  if (c.size) details.size = c.size.tensors.map((t) => `${t.name} = ${t.slice.expression}`).join('; ');
  const figure = buildFigure({
    gates,
    calls: c.calls,
    unsafe: describeNode(c.scope, c.node),
    sizeSources: c.size?.tensors.flatMap((t) => [...t.slice.variables.map((v) => ({ kind: 'variable' as const, label: v })), ...(t.slice.source === 'constant' ? [{ kind: 'constant' as const, label: t.slice.expression }] : [])]),
  });
  const draft: Draft = {
    rule: `${c.capability}/${node.op}`,
    severity,
    capability: c.capability,
    op: node.op,
    node: node.name,
    function: c.scope.name,
    metaGraph: ctx.metaLabel,
    message: message(c, node.op, kind, reachability, activation, args, variables, constantFalse, ctx.prefix, environment, selfWritten, judged.find((j) => j.iterations)?.activation.reason ?? constantLoop),
    evidence: c.chain,
    arguments: args,
    reachability,
    entryPoints: ctx.inherited?.entryPoints ?? entryLabels(ctx.reach, c.scope, c.node),
    trigger: { kind, variables: [...variables].sort(), gates, activation },
    figure,
    recommendation: recommendation(c.capability, kind, reachability, constantFalse, machinery),
  };
  if (sv && sv.elements !== null && sv.state === 'active') draft.message += ` Size: ${sv.reason}.`;
  if (environment.length) draft.trigger.environment = environment;
  if (clockless) draft.message += ` ${clockless.reason[0].toUpperCase()}${clockless.reason.slice(1)} (no checkpoint given; constants only).`;
  if (selfWritten.length) draft.trigger.selfWritten = selfWritten;
  if (Object.keys(details).length) draft.details = details;
  return draft;
}

/** True when every path/prefix the op uses derives from the SaverDef's filename tensor. */
function targetsSaverFilename(ctx: GraphContext, c: Candidate): boolean {
  const saverDef = ctx.meta.saverDef;
  if (!saverDef || !c.rule) return true;
  const top = ctx.cg.top;
  const filename = top.index.get(parseInputName(saverDef.filenameTensorName).node);
  if (filename === undefined) return true;
  const marker = describeNode(top, filename);
  const node = c.scope.nodes[c.node];
  const edges = dataEdges(c.scope, c.node);
  for (const name of c.rule.targetInputs) {
    const range = flatInputIndex(node, name, ctx.cg.lookup);
    if (!range) continue;
    for (let k = range.start; k < range.start + range.length && k < edges.length; k++) {
      const slice = sliceOf(ctx, { frame: c.frame, source: edges[k] });
      if (!slice.nodes.includes(marker)) return false;
    }
  }
  return true;
}

function showValue(v: Val | string | undefined): string {
  if (v === undefined) return 'unknown';
  return typeof v === 'string' ? `unknown (${v})` : renderVal(v);
}

const WHEN: Record<Reachability, string> = {
  load: 'runs when the model is loaded',
  signature: 'runs when a signature or saved function is called',
  graph: 'runs when its graph is executed',
  saver: "belongs to TensorFlow's own checkpoint save/restore machinery",
  dead: 'sits in code that nothing reaches',
  unknown: 'runs under unknown conditions',
};

function message(c: Candidate, op: string, kind: TriggerKind, reach: Reachability, activation: Activation[], args: ResolvedArgument[], variables: Set<string>, constantFalse: boolean, prefix: string, environment: string[], selfWritten: string[], loop: string | undefined): string {
  const target = args.filter((a) => a.value !== null).map((a) => a.value).slice(0, 3);
  const what = `${op} (${c.capability})${target.length ? ` on ${target.map((t) => JSON.stringify(t)).join(', ')}` : ''}${prefix ? ` in nested graph ${prefix}` : ''}`;
  const active = activation.filter((a) => a.state === 'active').map((a) => a.checkpoint);
  const unknown = activation.filter((a) => a.state === 'unknown').map((a) => a.checkpoint);
  const verdict = () =>
    active.length ? `active under ${active.join(', ')}${unknown.length ? `, not decided under ${unknown.join(', ')}` : ''}` : unknown.length ? `not proven dormant under ${unknown.join(', ')}${unknown.length < activation.length ? ', dormant under the others' : ''}` : activation.length ? 'dormant under every checkpoint given' : 'no checkpoint given';
  let trigger: string;
  if (constantFalse) trigger = 'behind a constant-false predicate: it never runs';
  else if (kind === 'variable') trigger = `switched by variable${variables.size > 1 ? 's' : ''} ${[...variables].join(', ')}; ${verdict()}`;
  else if (kind === 'environment') trigger = `decided at run time by ${environment.join('; ')}; ${active.length ? `active now under ${active.join(', ')}` : 'nothing in the model or its checkpoint decides it'}`;
  else if (kind === 'input') trigger = 'decided by an input of the caller';
  else trigger = c.gates.length ? 'behind gates that constants decide' : 'unconditional';
  const selfNote = selfWritten.length ? ` The model changes ${selfWritten.map((s) => s.split(':')[0]).join(', ')} itself on every run that reaches the write: the checkpoint value holds only until then.` : '';
  const loopNote = loop && /iteration/.test(loop) ? ` Loop: ${loop.split('; ').filter((r) => /iteration|loop/.test(r)).join('; ')}.` : '';
  const why = activation.find((a) => a.state === 'active' && /time bomb|active from call|active once/.test(a.reason))?.reason.split('; ').find((r) => /time bomb|active from call|active once/.test(r));
  return `${what} ${WHEN[reach]}; ${trigger}.${why ? ` ${why[0].toUpperCase()}${why.slice(1)}.` : ''}${selfNote}${loopNote} ${c.description}`;
}

function recommendation(cap: Capability, kind: TriggerKind, reach: Reachability, constantFalse: boolean, saver: boolean): string {
  if (constantFalse) return 'Dead code behind a constant predicate: harmless as saved, but it has no business in a model; ask the author why it is there.';
  if (saver && (reach === 'saver' || reach === 'dead')) return "TensorFlow's own checkpoint machinery: expected in a SavedModel, no action needed.";
  if (reach === 'dead') return 'Unreachable as saved; remove it or ask the author why it is there.';
  if (kind === 'variable') return 'A checkpoint decides whether this runs: never load this model with a checkpoint you do not trust, and run it only in the sandbox until the branch is explained.';
  if (kind === 'environment') return 'The clock, a random draw or data read at run time decides whether this runs (a time bomb or a lottery): treat it as running, and run the model only in the sandbox.';
  switch (cap) {
    case 'custom-op':
      return 'Custom native code: load it only with a kernel library you have reviewed, and only in the sandbox.';
    case 'policy':
      return 'Outside the op policy: reject the model or extend the policy after review.';
    case 'resource-exhaustion':
      return 'Bound memory and time when serving this model (container limits), or reject the model.';
    default:
      return 'Do not load this model outside the sandbox; it touches the machine beyond its tensors.';
  }
}
