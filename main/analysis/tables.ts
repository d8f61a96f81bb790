// Lookup tables whose contents are proven: an immutable HashTable (tf.lookup.StaticHashTable)
// filled by exactly one initialiser from constants (KeyValueTensorInitializer) or from one of
// the model's own asset files (TextFileInitializer). Anything else that writes a table (inserts,
// removes, imports at restore, a second initialiser, a file outside the model) leaves it unknown.
import { readFileSync, statSync } from 'node:fs';
import { resolve as resolvePath, sep } from 'node:path';
import type { CallGraph } from './callgraph.ts';
import { argBinding, callOutputs, describeTensor, FORWARD_OPS, type Tensor } from './dataflow.ts';
import { dataEdges, describeNode, nodesOf, type Source } from './edges.ts';
import { tableKey, type EvalResult, type Evaluator, type LookupTable, type Scalar } from './evaluate.ts';
import { callPath, entryIds, type ReachInfo } from './reachability.ts';

const TABLE_OPS = /^(HashTable|HashTableV2|MutableHashTable|MutableHashTableV2|MutableHashTableOfTensors|MutableHashTableOfTensorsV2|MutableDenseHashTable|MutableDenseHashTableV2|AnonymousHashTable|AnonymousMutableHashTable|AnonymousMutableHashTableOfTensors|AnonymousMutableDenseHashTable)$/;
const IMMUTABLE = /^(HashTable|HashTableV2|AnonymousHashTable)$/;
const INITIALISERS = /^(InitializeTable|InitializeTableV2|LookupTableImport|LookupTableImportV2|InitializeTableFromTextFile|InitializeTableFromTextFileV2)$/;
const WRITERS = /^(InitializeTable\w*|LookupTableImport\w*|LookupTableInsert\w*|LookupTableRemove\w*|InitializeTableFromDataset)$/;
const MAX_TABLE_FILE = 8 * 1024 * 1024;
const MAX_ENTRIES = 1 << 18;

interface TableWrite {
  tensor: Tensor;
  op: string;
  node: string;
}

export interface TableIndex {
  /** The proven contents of the table behind a handle, or why they are not known. */
  resolve(handle: Tensor): LookupTable | string;
  /** Null when the table behind a handle is proven constant, else why it is not. */
  runTimeSource(handle: Tensor): string | null;
}

/** The table-creating node behind a handle (through identities, args and call outputs). */
function traceTable(cg: CallGraph, t: Tensor): Tensor | null {
  let cur: Tensor | null = t;
  for (let i = 0; cur && i < 256; i++) {
    const s: Source = cur.source;
    if (s.kind === 'missing') return null;
    if (s.kind === 'arg') {
      cur = argBinding(cur);
      continue;
    }
    const node = cur.frame.scope.nodes[s.node];
    if (TABLE_OPS.test(node.op)) return cur;
    if (FORWARD_OPS.has(node.op)) {
      const e: Source | undefined = dataEdges(cur.frame.scope, s.node)[0];
      cur = e ? { frame: cur.frame, source: e } : null;
      continue;
    }
    const outs = callOutputs(cg, cur);
    cur = outs.length === 1 ? outs[0].tensor : null;
  }
  return null;
}

function tableId(t: Tensor): string {
  const s = t.source as { node: number };
  const n = t.frame.scope.nodes[s.node];
  const shared = n.attr.shared_name;
  const name = shared && shared.type === 's' ? new TextDecoder('latin1').decode(shared.s) : '';
  return name && !/^Anonymous/.test(n.op) ? `shared:${name}` : `${t.frame.scope.id}:${s.node}`;
}

export function buildTableIndex(cg: CallGraph, reach: ReachInfo, modelDir: string | null, constants: () => Evaluator): TableIndex {
  const writes = new Map<string, TableWrite[]>();
  const untraced: string[] = [];
  for (const scope of cg.scopes) {
    let stack: ReturnType<typeof callPath> | null = null;
    for (const i of nodesOf(scope, (op) => WRITERS.test(op))) {
      const n = scope.nodes[i];
      const entries = entryIds(reach, scope, i).filter((e) => reach.entries[e].kind !== 'saver');
      if (!entries.length) continue;
      stack ??= callPath(cg, reach, scope);
      const handle = dataEdges(scope, i)[0];
      // A saved function called from the top graph binds its captures there; try each such call.
      let frame = { scope, stack };
      let table = handle ? traceTable(cg, { frame, source: handle }) : null;
      for (const site of !table && handle && scope.name ? (cg.callersOf.get(scope.name) ?? []).filter((x) => x.caller === cg.top) : []) {
        const candidate = { scope, stack: [site] };
        table = traceTable(cg, { frame: candidate, source: handle });
        if (table) {
          frame = candidate;
          break;
        }
      }
      const write = { tensor: { frame, source: { kind: 'node' as const, node: i, output: 0 } }, op: n.op, node: describeNode(scope, i) };
      if (!table) {
        untraced.push(write.node);
        continue;
      }
      const id = tableId(table);
      writes.set(id, [...(writes.get(id) ?? []), write]);
    }
  }
  const cache = new Map<string, LookupTable | string>();

  const contents = (table: Tensor): LookupTable | string => {
    const id = tableId(table);
    const known = cache.get(id);
    if (known) return known;
    const r = fill(table, id);
    cache.set(id, r);
    return r;
  };

  const fill = (table: Tensor, id: string): LookupTable | string => {
    const node = table.frame.scope.nodes[(table.source as { node: number }).node];
    if (!IMMUTABLE.test(node.op)) return `${node.op} ${node.name} is a mutable table: its contents are written at run time`;
    if (untraced.length) return `a table write (${untraced[0]}) could not be traced to its table`;
    const ws = writes.get(id) ?? [];
    if (ws.length !== 1) return ws.length ? `written by ${ws.length} ops (${ws.map((w) => w.node).join(', ')})` : 'no initialiser found';
    const w = ws[0];
    if (!INITIALISERS.test(w.op)) return `written at run time by ${w.node}`;
    const keyDtype = typeAttr(node.attr.key_dtype) ?? 'DT_STRING';
    const valueDtype = typeAttr(node.attr.value_dtype) ?? 'DT_INT64';
    const src = w.tensor.source as { node: number };
    const ins = dataEdges(w.tensor.frame.scope, src.node).map((source) => ({ frame: w.tensor.frame, source }));
    const ev = constants();
    if (/FromTextFile/.test(w.op)) return fromTextFile(ev.evaluate(ins[1]), w, keyDtype, valueDtype, modelDir);
    const keys = ev.evaluate(ins[1]);
    const values = ev.evaluate(ins[2]);
    if (!keys.ok) return `initialiser keys: ${keys.reason}`;
    if (!values.ok) return `initialiser values: ${values.reason}`;
    if (keys.value.data.length !== values.value.data.length) return 'initialiser keys and values differ in length';
    const entries = new Map<string, Scalar>();
    for (let i = 0; i < keys.value.data.length; i++) {
      const k = tableKey(keys.value.data[i]);
      if (entries.has(k)) return 'initialiser has duplicate keys';
      entries.set(k, values.value.data[i]);
    }
    return { keyDtype, valueDtype, entries, source: `the constants of ${w.node}` };
  };

  return {
    resolve(handle) {
      const table = traceTable(cg, handle);
      return table ? contents(table) : `handle ${describeTensor(handle)} not traced to a table`;
    },
    runTimeSource(handle) {
      const r = this.resolve(handle);
      return typeof r === 'string' ? r : null;
    },
  };
}

function typeAttr(a: { type: string; dtype?: string } | undefined): string | null {
  return a && a.type === 'type' && a.dtype ? a.dtype : null;
}

function attrOf(t: Tensor, name: string): number | string | null {
  const n = t.frame.scope.nodes[(t.source as { node: number }).node];
  const a = n.attr[name];
  if (!a) return null;
  if (a.type === 'i') return a.i;
  if (a.type === 's') return new TextDecoder('latin1').decode(a.s);
  return null;
}

/** tf.lookup.TextFileInitializer over one of the model's own files, as TensorFlow reads it. */
function fromTextFile(path: EvalResult, w: TableWrite, keyDtype: string, valueDtype: string, modelDir: string | null): LookupTable | string {
  if (!path.ok) return `initialiser file name: ${path.reason}`;
  const file = Buffer.from(String(path.value.data[0] ?? ''), 'latin1').toString('utf8');
  if (!modelDir) return `reads ${file} at run time`;
  const abs = resolvePath(file);
  const root = resolvePath(modelDir) + sep;
  if (!abs.startsWith(root)) return `reads ${file} at run time, outside the model`;
  let text: string;
  try {
    if (statSync(abs).size > MAX_TABLE_FILE) return `${file} is too large to evaluate`;
    text = readFileSync(abs, 'latin1');
  } catch (e) {
    return `${file} unreadable: ${e instanceof Error ? e.message : String(e)}`;
  }
  // TextFileIndex: WHOLE_LINE = -2, LINE_NUMBER = -1, else a column split by the delimiter.
  const keyIndex = Number(attrOf(w.tensor, 'key_index') ?? -2);
  const valueIndex = Number(attrOf(w.tensor, 'value_index') ?? -1);
  const vocabSize = Number(attrOf(w.tensor, 'vocab_size') ?? -1);
  const delimiter = String(attrOf(w.tensor, 'delimiter') ?? '\t');
  const offset = Number(attrOf(w.tensor, 'offset') ?? 0);
  let lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (offset > 0) lines = lines.slice(offset);
  if (vocabSize >= 0) {
    if (lines.length < vocabSize) return `${file} has fewer lines than vocab_size ${vocabSize} (TensorFlow fails)`;
    lines = lines.slice(0, vocabSize);
  }
  if (lines.length > MAX_ENTRIES) return `${file} has too many lines to evaluate`;
  const field = (line: string, index: number, lineNo: number, dtype: string): Scalar | null => {
    const text = index === -1 ? String(lineNo) : index === -2 ? line : line.split(delimiter)[index];
    if (text === undefined) return null;
    if (index === -1) return lineNo;
    if (dtype === 'DT_STRING') return text;
    const n = /INT/.test(dtype) ? (/^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN) : Number(text.trim());
    return Number.isNaN(n) && text.trim().toLowerCase() !== 'nan' ? null : n;
  };
  const entries = new Map<string, Scalar>();
  for (let i = 0; i < lines.length; i++) {
    const k = field(lines[i], keyIndex, i + offset, keyDtype);
    const v = field(lines[i], valueIndex, i + offset, valueDtype);
    if (k === null || v === null) return `${file} line ${i + 1} does not parse as the table's key/value types (TensorFlow fails)`;
    const key = tableKey(k);
    if (entries.has(key)) return `${file} has a duplicate key on line ${i + 1}`;
    entries.set(key, v);
  }
  return { keyDtype, valueDtype, entries, source: `${file} (${w.node})` };
}
