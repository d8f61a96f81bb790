// Known TensorFlow kernel vulnerabilities the model exposes on a given TensorFlow runtime: every
// op of every graph body (top graph, functions, nested graphs, TFLite Flex ops) whose kernel has
// a published advisory (advisories.ts), judged by who can feed the op's inputs. A signature
// input that reaches them through the data flow means any caller can trigger the bug; constants,
// variables and the checkpoint mean a crafted model or checkpoint is the trigger.
import type { AdvisoryRef, Figure, Finding, Reachability, Severity, TriggerKind } from '../../shared/findings.ts';
import type { ModelIR, TfliteIR } from '../../shared/ir.ts';
import type { CallGraph } from './callgraph.ts';
import { argBinding, callOutputs, describeTensor, tensorKey, traceVariableNode, PLACEHOLDER_OPS, VARIABLE_OPS, type Frame, type Tensor, type VariableNaming } from './dataflow.ts';
import { dataEdges, describeNode, nodesOf } from './edges.ts';
import { callPath, entryLabels, reachabilityOf, type ReachInfo } from './reachability.ts';
import { advisoriesForOp, advisoryCredit, allAdvisories, advisoryDataAsOf, affects, clearFrom, compareVersions, DENIAL_OF_SERVICE_CLASSES, fixedIn, parseVersion, upgradeTarget, type Advisory, type Version } from './advisories.ts';
import { flexToTensorFlowOp } from './catalogue.ts';

type Draft = Omit<Finding, 'id'>;

/** What scan.ts knows about one analysed graph (a structural subset of its GraphContext). */
export interface VulnerabilityGraph {
  cg: CallGraph;
  naming: VariableNaming;
  reach: ReachInfo;
  metaLabel: string | null;
  prefix: string;
  inherited: { reachability: Reachability; entryPoints: string[]; chain: string[] } | null;
}

/** Who can put values into the op's inputs. */
export type Feed = 'input' | 'environment' | 'variable' | 'constant';

export interface FeedResult {
  feed: Feed;
  /** Data path from the source that decided `feed` to the op, source first. */
  path: string[];
  variables: string[];
  inputs: string[];
  /** True when the search stopped at its limit (then the feed is taken as input). */
  truncated: boolean;
}

interface Occurrence {
  op: string;
  node: string;
  function: string | null;
  metaGraph: string | null;
  reachability: Reachability;
  entryPoints: string[];
  location: string;
  chainPrefix: string[];
  /** Computed on demand: the backward data-flow search is the expensive part. */
  feed: () => FeedResult;
}

const MAX_FEED_TENSORS = 20_000;

/**
 * Backward search from the node's data inputs to what feeds them, across call boundaries (args
 * to caller tensors, call outputs to callee returns). Stops at the first signature input or
 * placeholder; otherwise reports variables (the checkpoint) or constants. Shape-of ops are
 * followed into the tensor they measure: a caller who controls a tensor controls its shape.
 */
export function feedOf(cg: CallGraph, naming: VariableNaming, frame: Frame, node: number): FeedResult {
  const parent = new Map<string, string | null>();
  const described = new Map<string, string>();
  const queue: { t: Tensor; key: string }[] = [];
  const variables = new Set<string>();
  const environment: string[] = [];
  let environmentKey: string | null = null;
  let constantKey: string | null = null;
  const opLabel = describeNode(frame.scope, node);
  const push = (t: Tensor, from: string | null) => {
    const key = tensorKey(t);
    if (parent.has(key)) return;
    parent.set(key, from);
    described.set(key, describeTensor(t));
    queue.push({ t, key });
  };
  const pathFrom = (key: string): string[] => {
    const out: string[] = [];
    for (let k: string | null = key; k !== null && out.length < 64; k = parent.get(k) ?? null) {
      const d = described.get(k)!;
      if (out[out.length - 1] !== d) out.push(d);
    }
    if (out[out.length - 1] !== opLabel) out.push(opLabel);
    return out;
  };
  for (const e of dataEdges(frame.scope, node)) push({ frame, source: e }, null);
  for (let head = 0; head < queue.length; head++) {
    if (head >= MAX_FEED_TENSORS) {
      return { feed: 'input', path: [opLabel], variables: [...variables].sort(), inputs: [`data flow too large to follow (over ${MAX_FEED_TENSORS} tensors)`], truncated: true };
    }
    const { t, key } = queue[head]!;
    const s = t.source;
    if (s.kind === 'missing') continue;
    if (s.kind === 'arg') {
      const bound = argBinding(t);
      if (bound) {
        push(bound, key);
        continue;
      }
      const variable = t.frame.scope.name ? naming.boundArgKey(t.frame.scope.name, s.arg) : null;
      if (variable) {
        variables.add(variable);
        continue;
      }
      return found('input', key);
    }
    const n = t.frame.scope.nodes[s.node]!;
    if (n.op === 'Const' || n.op === 'HostConst' || n.op === 'ImmutableConst') {
      constantKey ??= key;
      continue;
    }
    if (VARIABLE_OPS.has(n.op)) {
      variables.add(naming.keyOfNode(t.frame.scope, s.node));
      continue;
    }
    if (n.op === 'PlaceholderWithDefault' && !naming.isFed(t.frame.scope, s.node)) {
      const d = dataEdges(t.frame.scope, s.node)[0];
      if (d) push({ frame: t.frame, source: d }, key);
      continue;
    }
    if (PLACEHOLDER_OPS.has(n.op)) return found('input', key);
    if (n.op === 'ReadVariableOp' || n.op === 'ResourceRead' || n.op === 'ResourceGather' || n.op === 'ResourceGatherNd') {
      const r = dataEdges(t.frame.scope, s.node)[0];
      const v = r ? traceVariableNode(cg, { frame: t.frame, source: r }) : null;
      if (v && v.source.kind === 'node') variables.add(naming.keyOfNode(v.frame.scope, v.source.node));
      else if (v && v.source.kind === 'arg' && v.frame.scope.name && naming.boundArgKey(v.frame.scope.name, v.source.arg)) variables.add(naming.boundArgKey(v.frame.scope.name, v.source.arg)!);
      else {
        environment.push(describeTensor(t));
        environmentKey ??= key;
      }
      // Gather-style reads also take indices, which the caller may feed.
      if (n.op !== 'ReadVariableOp' && n.op !== 'ResourceRead') for (const e of dataEdges(t.frame.scope, s.node).slice(1)) push({ frame: t.frame, source: e }, key);
      continue;
    }
    const calls = callOutputs(cg, t);
    for (const c of calls) push(c.tensor, key);
    const def = cg.lookup(n.op);
    if (!calls.length && def?.isStateful && !/^(Switch|Merge|Enter|Exit|LoopCond|NextIteration|Ref\w+|Identity\w*|If|Case|While|StatefulPartitionedCall)$/.test(n.op)) {
      // A stateful op reads the environment (a file, a queue, a table, randomness): not the model's own value.
      environment.push(describeTensor(t));
      environmentKey ??= key;
    }
    for (const e of dataEdges(t.frame.scope, s.node)) push({ frame: t.frame, source: e }, key);
  }
  const base = { variables: [...variables].sort(), inputs: environment.slice(0, 8), truncated: false };
  if (environmentKey) return { ...base, feed: 'environment', path: pathFrom(environmentKey) };
  if (variables.size) return { ...base, feed: 'variable', path: [...base.variables.map((v) => `variable ${v}`), opLabel] };
  return { ...base, feed: 'constant', path: constantKey ? pathFrom(constantKey) : [opLabel] };

  function found(feed: Feed, key: string): FeedResult {
    return { feed, path: pathFrom(key), variables: [...variables].sort(), inputs: [described.get(key)!], truncated: false };
  }
}

/** Every node of the graph whose op has TensorFlow kernel advisories. */
function graphOccurrences(g: VulnerabilityGraph): Occurrence[] {
  const out: Occurrence[] = [];
  for (const scope of g.cg.scopes) {
    let frame: Frame | null = null;
    for (const i of nodesOf(scope, (op) => !g.cg.byName.has(op) && advisoriesForOp(op).length > 0)) {
      const n = scope.nodes[i];
      frame ??= { scope, stack: callPath(g.cg, g.reach, scope) };
      const f = frame;
      let memo: FeedResult | null = null;
      out.push({
        op: n.op,
        node: n.name,
        function: scope.name,
        metaGraph: g.metaLabel,
        reachability: g.inherited?.reachability ?? reachabilityOf(g.reach, scope, i),
        entryPoints: g.inherited?.entryPoints ?? entryLabels(g.reach, scope, i),
        location: `${g.prefix ? `${g.prefix} › ` : ''}${describeNode(scope, i)}`,
        chainPrefix: g.inherited?.chain ?? [],
        feed: () => (memo ??= feedOf(g.cg, g.naming, f, i)),
      });
    }
  }
  return out;
}

/** Flex ops of a TFLite model: the TensorFlow op each runs, fed through the subgraph's tensors. */
function tfliteOccurrences(tflite: TfliteIR): Occurrence[] {
  const out: Occurrence[] = [];
  const decoded = new Map(tflite.flexNodes.map((f) => [`${f.subgraph}:${f.operator}`, f.node]));
  const signatureSubgraphs = new Set([0, ...tflite.signatureDefs.map((s) => s.subgraph)]);
  tflite.subgraphs.forEach((sg, si) => {
    const producer = new Map<number, number>();
    sg.operators.forEach((op, oi) => op.outputs.forEach((t) => producer.set(t, oi)));
    sg.operators.forEach((op, oi) => {
      if (op.flexOp === undefined) return;
      const node = decoded.get(`${op.subgraph}:${op.index}`);
      const tfOp = node?.op || flexToTensorFlowOp(op.opcode);
      if (advisoriesForOp(tfOp).length === 0) return;
      const sgName = sg.name || `subgraph ${si}`;
      const label = `${sgName}/${op.opcode} #${oi} (${tfOp})`;
      out.push({
        op: tfOp,
        node: node?.name || `${op.opcode}#${oi}`,
        function: sgName,
        metaGraph: null,
        reachability: signatureSubgraphs.has(si) ? 'signature' : 'unknown',
        entryPoints: tflite.signatureDefs.filter((s) => s.subgraph === si).map((s) => `signature ${s.key}`),
        location: label,
        chainPrefix: [],
        feed: () => tfliteFeed(sg, producer, oi, label, signatureSubgraphs.has(si)),
      });
    });
  });
  return out;
}

function tfliteFeed(sg: TfliteIR['subgraphs'][number], producer: Map<number, number>, opIndex: number, label: string, entrySubgraph: boolean): FeedResult {
  const inputs = new Set(sg.inputs);
  const parent = new Map<number, number | null>();
  const queue: number[] = [];
  const tensorLabel = (t: number) => `${sg.name || 'subgraph'}/${sg.tensors[t]?.name ?? `tensor ${t}`}`;
  const pathFrom = (t: number) => {
    const out: string[] = [];
    for (let k: number | null = t; k !== null && out.length < 64; k = parent.get(k) ?? null) out.push(tensorLabel(k));
    return [...out, label];
  };
  const push = (t: number, from: number | null) => {
    if (t < 0 || parent.has(t)) return;
    parent.set(t, from);
    queue.push(t);
  };
  for (const t of sg.operators[opIndex]!.inputs) push(t, null);
  let constant: number | null = null;
  for (let head = 0; head < queue.length && head < MAX_FEED_TENSORS; head++) {
    const t = queue[head]!;
    if (inputs.has(t)) {
      // Inputs of a called subgraph come from its caller: taken as caller-controlled.
      return { feed: 'input', path: pathFrom(t), variables: [], inputs: [`${tensorLabel(t)}${entrySubgraph ? '' : ' (called subgraph input)'}`], truncated: false };
    }
    const p = producer.get(t);
    if (p === undefined) {
      constant ??= t;
      continue;
    }
    for (const x of sg.operators[p]!.inputs) push(x, t);
  }
  return { feed: 'constant', path: constant !== null ? pathFrom(constant) : [label], variables: [], inputs: [], truncated: false };
}

// ---------------------------------------------------------------------------------------------

const FEED_RANK: Record<Feed, number> = { input: 3, environment: 2, variable: 1, constant: 0 };
const REACH_LIVE: ReadonlySet<Reachability> = new Set(['signature', 'graph', 'unknown']);

function ranked(o: Occurrence): number {
  if (o.reachability === 'dead') return 0;
  const callerRuns = REACH_LIVE.has(o.reachability);
  return 1 + (callerRuns ? 10 : 0) + FEED_RANK[o.feed().feed];
}

/** Nodes of one op traced for their feed; the rest count as caller-fed (unknown is dangerous). */
const MAX_TRACED_NODES = 64;

/**
 * The op's most exposed node. Nodes are traced in order of when they run, stopping at the first
 * that a caller both runs and feeds: nothing ranks above it.
 */
function mostExposed(list: Occurrence[]): { rep: Occurrence; untraced: number } {
  const order = [...list].sort((a, b) => REACH_RANK[b.reachability] - REACH_RANK[a.reachability]);
  let best: Occurrence | null = null;
  let bestRank = -1;
  let traced = 0;
  for (const o of order) {
    if (traced >= MAX_TRACED_NODES) break;
    traced++;
    const r = ranked(o);
    if (r > bestRank) [best, bestRank] = [o, r];
    if (bestRank === 1 + 10 + FEED_RANK.input) return { rep: best!, untraced: 0 };
  }
  return { rep: best!, untraced: list.length - traced };
}

const advisoryRef = (a: Advisory, version: Version | null): AdvisoryRef => ({
  id: a.id,
  aliases: [...a.cve, ...a.ghsa],
  class: a.class,
  fixedIn: version ? fixedIn(a, version) : clearFrom([a]),
  url: a.url,
});

/**
 * The known-vulnerability findings of a model. With a runtime version: one finding per op whose
 * advisories cover that version, on its most exposed node. Without: one info line per op.
 */
export function knownVulnerabilityFindings(model: ModelIR, graphs: VulnerabilityGraph[], runtime: string | null): { drafts: Draft[]; notes: string[] } {
  const occurrences = graphs.flatMap(graphOccurrences);
  if (model.tflite) occurrences.push(...tfliteOccurrences(model.tflite));
  const byOp = new Map<string, Occurrence[]>();
  for (const o of occurrences) byOp.set(o.op, [...(byOp.get(o.op) ?? []), o]);
  const notes: string[] = [];
  const version = runtime === null ? null : parseVersion(runtime);
  if (runtime !== null && !version) throw new Error(`--tf-runtime ${JSON.stringify(runtime)} is not a TensorFlow version (e.g. 2.11.0 or 2.4.0rc1)`);
  const kept: Draft[] = [];
  for (const [op, list] of [...byOp].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const advisories = advisoriesForOp(op);
    const draft = version ? runtimeFinding(op, list, advisories, version) : infoFinding(op, list, advisories);
    if (draft) kept.push(draft);
  }
  if (runtime !== null && model.keras && !model.metaGraphs.length) notes.push('Known TensorFlow advisories are matched against graph ops; a Keras file holds layers, not ops, so none were matched (save it as a SavedModel to check its ops).');
  if (occurrences.length || runtime !== null) notes.push(`TensorFlow advisories: ${advisoryCredit()}; records up to ${advisoryDataAsOf()}. Advisories published after that date are not known to this report.`);
  if (version) {
    const unmatched = allAdvisories().filter((a) => a.component === 'tensorflow' && a.ops.length === 0 && affects(a, version));
    if (unmatched.length) notes.push(`${unmatched.length} further TensorFlow advisories covering ${version.text} name no op (model loading, Grappler, shape inference, Python APIs) and are not matched to this model's ops: ${unmatched.slice(0, 12).map((a) => a.cve[0] ?? a.id).join(', ')}${unmatched.length > 12 ? ` and ${unmatched.length - 12} more` : ''}.`);
  }
  if (version && !kept.length) notes.push(`No op of this model has a TensorFlow advisory covering TensorFlow ${runtime} in the advisory data.`);
  return { drafts: kept, notes };
}

const REACH_RANK: Record<Reachability, number> = { signature: 5, graph: 4, unknown: 3, load: 2, saver: 1, dead: 0 };

function infoFinding(op: string, list: Occurrence[], advisories: readonly Advisory[]): Draft {
  // The most exposed node by when it runs (no data-flow search: nothing is judged without a runtime).
  const rep = list.reduce((best, o) => (REACH_RANK[o.reachability] > REACH_RANK[best.reachability] ? o : best), list[0]!);
  const clear = clearFrom(advisories);
  const served = clear ? `served on TensorFlow older than ${clear}` : 'served on any TensorFlow release in the advisory data (one advisory has no fixed release)';
  return {
    ...common(op, rep, list),
    severity: 'info',
    message: `${op}: ${served}, this op has ${advisories.length} advisor${advisories.length === 1 ? 'y' : 'ies'} (${summariseClasses(advisories)}). Pass the TensorFlow version that will serve the model (--tf-runtime) to see which apply.`,
    evidence: [...rep.chainPrefix, rep.location],
    trigger: { kind: 'none', variables: [], gates: [], activation: [] },
    figure: figureOf(rep, null),
    recommendation: clear ? `Serve the model on TensorFlow ${clear} or later, or check the advisories against the release that will serve it.` : 'Check the advisories against the TensorFlow release that will serve it.',
    advisories: advisories.map((a) => advisoryRef(a, null)),
  };
}

function runtimeFinding(op: string, list: Occurrence[], all: readonly Advisory[], version: Version): Draft | null {
  const advisories = all.filter((a) => affects(a, version));
  if (!advisories.length) return null;
  const { rep, untraced } = mostExposed(list);
  const traced = rep.feed();
  // Nodes left untraced could be fed by a caller: without proof otherwise, they are taken as such.
  const feed: FeedResult =
    untraced > 0 && REACH_LIVE.has(rep.reachability) && traced.feed !== 'input'
      ? { ...traced, feed: 'input', inputs: [`${untraced} more ${op} node(s) not traced (over ${MAX_TRACED_NODES}): taken as caller-fed`] }
      : traced;
  const callerRuns = REACH_LIVE.has(rep.reachability);
  const memorySafety = advisories.some((a) => !DENIAL_OF_SERVICE_CLASSES.has(a.class));
  const severity: Severity = rep.reachability === 'dead' ? 'low' : callerRuns && (feed.feed === 'input' || feed.feed === 'environment') && memorySafety ? 'high' : 'medium';
  const target = upgradeTarget(advisories, version);
  const kind: TriggerKind = rep.reachability === 'dead' ? 'none' : feed.feed === 'input' || feed.feed === 'environment' ? 'input' : feed.feed === 'variable' ? 'variable' : 'constant';
  return {
    ...common(op, rep, list),
    severity,
    message: `${op} on TensorFlow ${version.text}: ${advisories.length} known kernel vulnerabilit${advisories.length === 1 ? 'y' : 'ies'} (${summariseClasses(advisories)}; ${advisories.map((a) => a.cve[0] ?? a.id).join(', ')}). ${who(rep, feed, memorySafety)}`,
    evidence: [...rep.chainPrefix, ...feed.path],
    trigger: { kind, variables: feed.variables, gates: [], activation: [] },
    figure: figureOf(rep, feed),
    recommendation: target
      ? `Serve this model on TensorFlow ${target} or later (fixes ${advisories.length === 1 ? 'the advisory' : `all ${advisories.length} advisories`} for ${op}${compareVersions(target, version) > 0 ? ` found in ${version.text}` : ''}).`
      : `No release in the advisory data fixes every advisory for ${op} on this line: serve on the newest TensorFlow release and check its advisories, or reject the model.`,
    advisories: advisories.map((a) => advisoryRef(a, version)),
    details: { ...common(op, rep, list).details, runtime: version.text, feed: feed.feed, ...(target ? { upgradeTo: target } : {}) },
  };
}

function who(rep: Occurrence, feed: FeedResult, memorySafety: boolean): string {
  if (rep.reachability === 'dead') return 'The op sits in code that nothing reaches as saved, so no caller can trigger it.';
  if (rep.reachability === 'load') return `It runs when the model is loaded, fed by ${feedWords(feed)}: a crafted model${feed.feed === 'variable' ? ' or checkpoint' : ''} is the trigger.`;
  if (rep.reachability === 'saver') return `It runs only when TensorFlow's own machinery saves or restores a checkpoint (fed by ${feedWords(feed)}), never from a signature: whoever saves or restores through this graph, or a crafted checkpoint, is the trigger.`;
  if (feed.feed === 'input') return `A caller's input reaches its inputs through the data flow (${feed.inputs[0] ?? 'input'}): any caller can trigger it${memorySafety ? '' : ' (a denial of service)'}.`;
  if (feed.feed === 'environment') return `Its inputs depend on values read at run time (${feed.inputs[0] ?? 'a stateful op'}), which this analysis cannot bound: taken as caller-controlled${memorySafety ? '' : ' (a denial of service)'}.`;
  if (feed.feed === 'variable') return `Only variables feed it (${feed.variables.slice(0, 4).join(', ')}): a crafted checkpoint is then the trigger.`;
  return 'Only constants feed it: a caller cannot trigger it, a crafted model file can.';
}

function feedWords(feed: FeedResult): string {
  if (feed.feed === 'variable') return `variables (${feed.variables.slice(0, 4).join(', ')})`;
  if (feed.feed === 'constant') return 'constants';
  return feed.inputs[0] ?? 'values read at run time';
}

function common(op: string, rep: Occurrence, list: Occurrence[]): Pick<Draft, 'rule' | 'capability' | 'op' | 'node' | 'function' | 'metaGraph' | 'arguments' | 'reachability' | 'entryPoints'> & { details: Record<string, string> } {
  const details: Record<string, string> = { nodes: String(list.length) };
  if (list.length > 1) details.otherNodes = list.filter((o) => o !== rep).slice(0, 12).map((o) => o.location).join('; ') + (list.length > 13 ? `; … ${list.length - 13} more` : '');
  return {
    rule: `known-vulnerability/${op}`,
    capability: 'known-vulnerability',
    op,
    node: rep.node,
    function: rep.function,
    metaGraph: rep.metaGraph,
    arguments: [],
    reachability: rep.reachability,
    entryPoints: rep.entryPoints,
    details,
  };
}

function summariseClasses(advisories: readonly Advisory[]): string {
  const counts = new Map<string, number>();
  for (const a of advisories) counts.set(a.class, (counts.get(a.class) ?? 0) + 1);
  return [...counts].map(([c, n]) => (n > 1 ? `${n}× ${c}` : c)).join(', ');
}

function figureOf(rep: Occurrence, feed: FeedResult | null): Figure {
  const unsafe = { id: 'n1', label: rep.location, kind: 'unsafe' as const };
  if (!feed || rep.reachability === 'dead') return { nodes: [unsafe], edges: [] };
  const source =
    feed.feed === 'variable'
      ? { id: 'n0', label: feed.variables[0] ?? 'variable', kind: 'variable' as const }
      : feed.feed === 'constant'
        ? { id: 'n0', label: feed.path[0] ?? 'constant', kind: 'constant' as const }
        : { id: 'n0', label: feed.path[0] ?? feed.inputs[0] ?? 'input', kind: 'input' as const };
  return { nodes: [source, unsafe], edges: [{ from: 'n0', to: 'n1', label: feed.path.length > 2 ? `data flow (${feed.path.length - 2} ops)` : 'data flow' }] };
}
