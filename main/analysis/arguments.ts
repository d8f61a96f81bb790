// Resolve the path / URL / address an unsafe op will use, beyond one hop: constants, string
// joins and formats, Add on strings, identities, function args bound to caller constants,
// asset files. What does not fold to a constant is shown as an expression.
import type { ResolvedArgument } from '../../shared/findings.ts';
import type { CapabilityRule } from './catalogue.ts';
import { classifyTarget } from './targets.ts';
import type { CallGraph } from './callgraph.ts';
import { argBinding, callOutputs, datasetElement, tensorKey, type Frame, type Tensor, type VariableNaming } from './dataflow.ts';
import { dataEdges, flatInputIndex } from './edges.ts';
import type { Evaluator, Val } from './evaluate.ts';
import { expression } from './slice.ts';

const MAX_VALUES = 8;

export function latin1ToText(s: string): string {
  return new TextDecoder().decode(Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff));
}

export function textToLatin1(s: string): string {
  return String.fromCharCode(...new TextEncoder().encode(s));
}

function valueStrings(v: Val): string[] {
  return v.data.slice(0, MAX_VALUES).map((x) => (typeof x === 'string' ? latin1ToText(x) : String(x)));
}

function classify(values: string[], modelDir: string | null, input: string, expr: string): ResolvedArgument[] {
  return values.map((value) => {
    const info = classifyTarget(value, { modelDir });
    const arg: ResolvedArgument = { input, value, expression: expr, classification: info.classification };
    if (info.note) arg.note = info.note;
    return arg;
  });
}

export interface ArgumentContext {
  cg: CallGraph;
  naming: VariableNaming;
  /** Evaluator that folds constants (variables are not constant). */
  constants: Evaluator;
  modelDir: string | null;
  /** Per-checkpoint evaluators: a path read from a variable is whatever the checkpoint says. */
  checkpoints?: { label: string; evaluator: Evaluator }[];
}

/** Resolved targets for one rule on one node. */
export function resolveArguments(ctx: ArgumentContext, frame: Frame, node: number, rule: CapabilityRule): ResolvedArgument[] {
  const n = frame.scope.nodes[node];
  const out: ResolvedArgument[] = [];
  const edges = dataEdges(frame.scope, node);
  for (const name of rule.targetInputs) {
    const range = flatInputIndex(n, name, ctx.cg.lookup);
    if (!range) continue;
    for (let k = range.start; k < range.start + range.length && k < edges.length; k++) {
      const t = datasetElement({ frame, source: edges[k] }) ?? { frame, source: edges[k] };
      const expr = expression(ctx.cg, ctx.naming, t, 6);
      const r = ctx.constants.evaluate(t);
      if (r.ok) {
        out.push(...classify(valueStrings(r.value), ctx.modelDir, name, expr));
      } else if (fromCheckpoints(ctx, t, name, expr, out)) {
        continue;
      } else {
        const listed = matchedPatterns(ctx, t);
        if (listed.length) {
          for (const pattern of listed) {
            const info = classifyTarget(pattern, { modelDir: ctx.modelDir });
            out.push({ input: name, value: null, expression: expr, classification: info.classification, note: `one of the files matching ${JSON.stringify(pattern)}${info.note ? `: ${info.note}` : ''}` });
          }
        } else out.push({ input: name, value: null, expression: expr, classification: 'unknown', note: r.reason });
      }
    }
  }
  for (const name of rule.targetAttrs) {
    const a = n.attr[name];
    if (!a) continue;
    const dec = new TextDecoder();
    const values = a.type === 's' ? [dec.decode(a.s)] : a.type === 'list' ? (a.list.s ?? []).map((b) => dec.decode(b)) : a.type === 'i' ? [String(a.i)] : [];
    const shown = values.filter((v) => v !== '');
    out.push(...classify(shown.slice(0, MAX_VALUES), ctx.modelDir, `attr:${name}`, shown.map((v) => JSON.stringify(v)).join(', ')));
  }
  return out;
}

const MATCHERS = new Set(['MatchingFiles', 'MatchingFilesDataset', 'ExperimentalMatchingFilesDataset']);
const SEARCH_LIMIT = 256;

/** Constant glob patterns of MatchingFiles ops the tensor's value comes from (file names found at run time). */
function matchedPatterns(ctx: ArgumentContext, start: Tensor): string[] {
  const patterns: string[] = [];
  const seen = new Set<string>();
  const stack: Tensor[] = [start];
  while (stack.length && seen.size < SEARCH_LIMIT) {
    const t = stack.pop()!;
    const key = tensorKey(t);
    if (seen.has(key)) continue;
    seen.add(key);
    if (t.source.kind === 'arg') {
      const b = argBinding(t);
      if (b) stack.push(b);
      continue;
    }
    if (t.source.kind !== 'node') continue;
    const node = t.frame.scope.nodes[t.source.node];
    const edges = dataEdges(t.frame.scope, t.source.node);
    if (MATCHERS.has(node.op)) {
      const r = edges[0] ? ctx.constants.evaluate({ frame: t.frame, source: edges[0] }) : null;
      if (r?.ok) patterns.push(...valueStrings(r.value));
      continue;
    }
    for (const c of callOutputs(ctx.cg, t)) stack.push(c.tensor);
    for (const e of edges) stack.push({ frame: t.frame, source: e });
  }
  return patterns;
}

/** A target decided by checkpoint values: classified by the first checkpoint that gives one, all values noted. */
function fromCheckpoints(ctx: ArgumentContext, t: Tensor, input: string, expr: string, out: ResolvedArgument[]): boolean {
  const resolved: { label: string; values: string[] }[] = [];
  for (const c of ctx.checkpoints ?? []) {
    const r = c.evaluator.evaluate(t);
    if (r.ok) resolved.push({ label: c.label, values: valueStrings(r.value) });
  }
  if (!resolved.length) return false;
  const note = `decided by the checkpoint: ${resolved.map((r) => `${r.label} → ${r.values.map((v) => JSON.stringify(v)).join(', ')}`).join('; ')}`;
  // Show the most concerning target any checkpoint gives.
  const candidates = resolved.map((r) => classify(r.values, ctx.modelDir, input, expr));
  const rank = (args: ResolvedArgument[]) => Math.min(...args.map((a) => CONCERN.indexOf(a.classification) >>> 0));
  const worst = candidates.reduce((a, b) => (rank(b) < rank(a) ? b : a));
  for (const arg of worst) out.push({ ...arg, note: arg.note ? `${note}; ${arg.note}` : note });
  return true;
}

const CONCERN = ['sensitive-path', 'model-own-files', 'grpc', 'http', 'cloud-storage', 'network-address', 'file-url', 'local-path', 'unknown'];
