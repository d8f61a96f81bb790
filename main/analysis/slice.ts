// Backward slices of predicates and sizes, classified by source: variable (by checkpoint key),
// input (signature input / placeholder / unbound arg / environment-reading op), constant.
// Shape-of ops (Shape, Size, Rank, ...) end the slice: their value follows a tensor's shape.
import type { PredicateSlice, TriggerKind } from '../../shared/findings.ts';
import type { CallGraph } from './callgraph.ts';
import { argBinding, callOutputs, datasetElement, describeTensor, tensorKey, traceVariableNode, PLACEHOLDER_OPS, SHAPE_OPS, VARIABLE_OPS, type Tensor, type VariableNaming } from './dataflow.ts';
import { dataEdges } from './edges.ts';
import { describeEnvironment, environmentOf } from './environment.ts';

export interface SliceOptions {
  /** Null when the table behind a handle is proven constant, else why it is not. */
  tableSource?: (handle: Tensor) => string | null;
}

export interface Slice extends PredicateSlice {
  environment: string[];
  /** True when a Shape/Size/Rank op was met (the value follows some tensor's shape). */
  shapeDerived: boolean;
  /** Sources that are shape-of ops, as descriptions. */
  shapeSources: string[];
}

const MAX_SLICE = 5000;
/** Ops whose output shape depends on their input values, not only on input shapes. */
const VALUE_SHAPED_OPS = new Set(['Where', 'Unique', 'UniqueV2', 'UniqueWithCounts', 'UniqueWithCountsV2', 'ListDiff', 'StringSplit', 'StringSplitV2', 'DynamicPartition', 'Bincount', 'DenseBincount']);
const EXPRESSION_DEPTH = 8;

const latin1 = new TextDecoder('latin1');

function constText(t: Tensor): string {
  if (t.source.kind !== 'node') return '?';
  const a = t.frame.scope.nodes[t.source.node].attr.value;
  if (!a || a.type !== 'tensor') return '?';
  const v = a.tensor.values;
  const shown = v.kind === 'string' ? v.values.slice(0, 4).map((b) => JSON.stringify(latin1.decode(b).slice(0, 80))) : v.kind === 'number' || v.kind === 'bool' ? v.values.slice(0, 6).map(String) : [];
  const many = (a.tensor.elementCount ?? shown.length) > shown.length;
  return shown.length === 1 && !many && (a.tensor.shape?.length ?? 0) === 0 ? shown[0] : `[${shown.join(', ')}${many ? ', …' : ''}]`;
}

export function predicateSlice(cg: CallGraph, naming: VariableNaming, start: Tensor, options: SliceOptions = {}): Slice {
  const nodes: string[] = [];
  const variables = new Set<string>();
  const inputs = new Set<string>();
  const environment = new Set<string>();
  const shapeSources: string[] = [];
  let constant = false;
  const seen = new Set<string>();
  const stack: Tensor[] = [start];
  while (stack.length && seen.size < MAX_SLICE) {
    const t = stack.pop()!;
    const key = tensorKey(t);
    if (seen.has(key)) continue;
    seen.add(key);
    const s = t.source;
    if (s.kind === 'missing') continue;
    if (s.kind === 'arg') {
      const b = argBinding(t);
      const site = t.frame.stack[t.frame.stack.length - 1];
      if (b && site && (site.kind === 'body' || site.kind === 'cond')) {
        // A loop-carried value: its initial value and whatever the body makes of it.
        const body = (cg.siteAt.get(`${site.caller.id}:${site.node}`) ?? []).find((x) => x.kind === 'body');
        const bodyScope = body && cg.byName.get(body.callee);
        const ret = bodyScope?.rets[s.arg];
        if (body && bodyScope && ret) stack.push({ frame: { scope: bodyScope, stack: [...t.frame.stack.slice(0, -1), body] }, source: ret });
      }
      if (b) {
        stack.push(b);
        continue;
      }
      nodes.push(describeTensor(t));
      const k = t.frame.scope.name ? naming.boundArgKey(t.frame.scope.name, s.arg) : null;
      const element = datasetElement(t);
      if (k) variables.add(k);
      else if (element) stack.push(element);
      else if (site?.kind === 'other')
        // An element a dataset, map or other function-calling op feeds at run time, not a caller's input.
        environment.add(describeEnvironment('run-time data', site.caller.nodes[site.node].op, `${describeTensor(t)} fed by ${site.caller.nodes[site.node].name}`));
      else inputs.add(describeTensor(t));
      continue;
    }
    const node = t.frame.scope.nodes[s.node];
    nodes.push(describeTensor(t));
    if (node.op === 'Const') {
      constant = true;
      continue;
    }
    if (VARIABLE_OPS.has(node.op)) {
      variables.add(naming.keyOfNode(t.frame.scope, s.node));
      continue;
    }
    if (node.op === 'PlaceholderWithDefault' && !naming.isFed(t.frame.scope, s.node)) {
      const d = dataEdges(t.frame.scope, s.node)[0];
      if (d) stack.push({ frame: t.frame, source: d });
      continue;
    }
    if (PLACEHOLDER_OPS.has(node.op)) {
      inputs.add(node.name);
      continue;
    }
    if (SHAPE_OPS.has(node.op)) {
      // The shape of Where/Unique/... outputs follows the values they select: keep slicing.
      const measured = dataEdges(t.frame.scope, s.node)[0];
      if (measured?.kind === 'node' && VALUE_SHAPED_OPS.has(t.frame.scope.nodes[measured.node].op)) {
        nodes.push(describeTensor(t));
        stack.push({ frame: t.frame, source: measured });
        continue;
      }
      shapeSources.push(describeTensor(t));
      continue;
    }
    if (node.op === 'ReadVariableOp' || node.op === 'ResourceRead') {
      const r = dataEdges(t.frame.scope, s.node)[0];
      const v = r ? traceVariableNode(cg, { frame: t.frame, source: r }) : null;
      if (v && v.source.kind === 'node') {
        nodes.push(describeTensor(v));
        variables.add(naming.keyOfNode(v.frame.scope, v.source.node));
        continue;
      }
      if (v && v.source.kind === 'arg') {
        const k = v.frame.scope.name ? naming.boundArgKey(v.frame.scope.name, v.source.arg) : null;
        if (k) {
          variables.add(k);
          continue;
        }
      }
      inputs.add(describeTensor(t));
      continue;
    }
    const calls = callOutputs(cg, t);
    for (const c of calls) stack.push(c.tensor);
    const edges = dataEdges(t.frame.scope, s.node);
    if (/^LookupTable(Find|Size)(V2)?$/.test(node.op)) {
      // A table proven constant is data like any other; one written at run time is environment.
      const handle = edges[0] ? { frame: t.frame, source: edges[0] } : null;
      const why = !handle ? 'no table' : options.tableSource ? options.tableSource(handle) : 'tables are not resolved here';
      if (why) environment.add(`a lookup table written at run time: ${node.op} (${describeTensor(t)}): ${why}`);
      else constant = true;
      for (const e of edges.slice(1)) stack.push({ frame: t.frame, source: e });
      continue;
    }
    const envKind = environmentOf(node.op);
    if (envKind) {
      environment.add(describeEnvironment(envKind, node.op, describeTensor(t)));
      continue;
    }
    const def = cg.lookup(node.op);
    if (!calls.length && def?.isStateful && !/^(Switch|Merge|Enter|Exit|LoopCond|NextIteration|Ref\w+|Identity\w*)$/.test(node.op) && !/^(If|Case|While|StatelessWhile|StatefulPartitionedCall)$/.test(node.op)) {
      // Any other stateful op: its value is run-time state, not the model's.
      environment.add(describeEnvironment('run-time state', node.op, describeTensor(t)));
      continue;
    }
    for (const e of edges) stack.push({ frame: t.frame, source: e });
  }
  const source: TriggerKind = variables.size ? 'variable' : environment.size ? 'environment' : inputs.size ? 'input' : constant ? 'constant' : shapeSources.length ? 'input' : 'constant';
  return {
    source,
    variables: [...variables].sort(),
    inputs: [...inputs].sort(),
    environment: [...environment].sort(),
    nodes,
    expression: expression(cg, naming, start, EXPRESSION_DEPTH),
    shapeDerived: shapeSources.length > 0,
    shapeSources,
  };
}

/** A readable expression for a tensor, e.g. `Greater(ReadVariableOp(mode), 0)`. */
export function expression(cg: CallGraph, naming: VariableNaming, t: Tensor, depth: number): string {
  return renderExpression(cg, naming, t, depth, 64, { left: 400 });
}

function renderExpression(cg: CallGraph, naming: VariableNaming, t: Tensor, depth: number, hops: number, budget: { left: number }): string {
  const expression = (_cg: CallGraph, _n: VariableNaming, x: Tensor, d: number, h: number) => renderExpression(cg, naming, x, d, h, budget);
  const s = t.source;
  if (hops <= 0 || --budget.left < 0) return '…';
  if (s.kind === 'missing') return s.text;
  if (s.kind === 'arg') {
    const b = argBinding(t);
    if (b) return expression(cg, naming, b, depth, hops - 1);
    const k = t.frame.scope.name ? naming.boundArgKey(t.frame.scope.name, s.arg) : null;
    return k ? `variable(${k})` : `input ${t.frame.scope.fn?.signature.inputArgs[s.arg]?.name ?? s.arg}`;
  }
  const node = t.frame.scope.nodes[s.node];
  if (node.op === 'Const') return constText(t);
  if (VARIABLE_OPS.has(node.op)) return `variable(${naming.keyOfNode(t.frame.scope, s.node)})`;
  if (PLACEHOLDER_OPS.has(node.op)) return `input ${node.name}`;
  if (node.op === 'ReadVariableOp') {
    const r = dataEdges(t.frame.scope, s.node)[0];
    const v = r ? traceVariableNode(cg, { frame: t.frame, source: r }) : null;
    if (v && v.source.kind === 'node') return `ReadVariableOp(${naming.keyOfNode(v.frame.scope, v.source.node)})`;
    if (v && v.source.kind === 'arg' && v.frame.scope.name) {
      const k = naming.boundArgKey(v.frame.scope.name, v.source.arg);
      if (k) return `ReadVariableOp(${k})`;
    }
  }
  if (/^(Identity|Snapshot|Enter|Exit|RefIdentity|LoopCond)$/.test(node.op)) {
    const e = dataEdges(t.frame.scope, s.node)[0];
    if (e) return expression(cg, naming, { frame: t.frame, source: e }, depth, hops - 1);
  }
  const calls = callOutputs(cg, t);
  if (calls.length === 1 && calls[0].site.kind === 'call') return expression(cg, naming, calls[0].tensor, depth, hops - 1);
  if (depth <= 0) return `${node.op}(…)`;
  const args = dataEdges(t.frame.scope, s.node).slice(0, 6).map((e) => expression(cg, naming, { frame: t.frame, source: e }, depth - 1, hops - 1));
  return `${node.op}(${args.join(', ')})`;
}
