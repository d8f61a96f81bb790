// Turns the PyPA advisory database's OSV records for TensorFlow (../shared/advisories, YAML)
// into main/analysis/advisories.json: for each advisory its ids, the ops it names (checked
// against the op registry), its affected version ranges exactly as the OSV events give them,
// a short class, and its link. Facts only: the advisory prose is not shipped.
//
//   node scripts/gen-advisories.mjs [advisory-folder] [output]
//
// Rerun it when the advisory database is refreshed. test/main/analysis/advisories.test.ts checks
// the shipped table equals what this script produces from ../shared/advisories.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
export const DEFAULT_SOURCE = resolve(ROOT, '..', 'shared', 'advisories', 'osv-pypi-tensorflow-cpu');
export const DEFAULT_OUTPUT = resolve(ROOT, 'main', 'analysis', 'advisories.json');

// ---------------------------------------------------------------------------------------------
// A strict reader for the YAML the OSV export uses: block mappings and sequences, plain,
// single- and double-quoted scalars (folded over lines). Anything else (anchors, tags, block
// scalars, flow collections) is refused with the file and line, never guessed at.

class YamlError extends Error {}

function parseYaml(text, file) {
  const lines = text.split(/\r?\n/).map((raw, i) => ({ raw, no: i + 1, indent: raw.length - raw.trimStart().length, body: raw.trim() }));
  let pos = 0;
  const fail = (line, why) => {
    throw new YamlError(`${file}:${line.no}: ${why}`);
  };
  const skipBlank = () => {
    while (pos < lines.length && (lines[pos].body === '' || lines[pos].body.startsWith('#'))) pos++;
  };

  // A scalar starting at `first` (the text after `key: ` or `- `); continuation lines are those
  // indented deeper than `parentIndent`.
  function scalar(first, line, parentIndent) {
    const parts = [first];
    while (pos < lines.length && (lines[pos].body === '' || lines[pos].indent > parentIndent)) {
      if (lines[pos].body === '' && !(pos + 1 < lines.length && lines[pos + 1].indent > parentIndent)) break;
      parts.push(lines[pos].body);
      pos++;
    }
    const folded = fold(parts);
    if (first.startsWith("'")) {
      if (!folded.endsWith("'") || folded.length < 2) fail(line, 'unterminated single-quoted scalar');
      const inner = folded.slice(1, -1);
      if (/(^|[^'])'([^']|$)/.test(inner.replace(/''/g, ''))) fail(line, 'stray quote in single-quoted scalar');
      return inner.replace(/''/g, "'");
    }
    if (first.startsWith('"')) {
      if (!/"$/.test(folded) || folded.length < 2) fail(line, 'unterminated double-quoted scalar');
      try {
        return JSON.parse(folded.replace(/\\\//g, '/'));
      } catch {
        fail(line, 'double-quoted scalar with escapes this reader does not support');
      }
    }
    if (/^[|>&*!{[%@`]/.test(first)) fail(line, `unsupported YAML construct ${JSON.stringify(first.slice(0, 10))}`);
    return folded;
  }

  function fold(parts) {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === '') out += '\n';
      else out += (out && !out.endsWith('\n') ? ' ' : '') + parts[i];
    }
    return out;
  }

  function block(indent) {
    skipBlank();
    if (pos >= lines.length) return null;
    const line = lines[pos];
    if (line.indent < indent) return null;
    return line.body.startsWith('- ') || line.body === '-' ? sequence(line.indent) : mapping(line.indent);
  }

  function sequence(indent) {
    const out = [];
    for (;;) {
      skipBlank();
      if (pos >= lines.length) return out;
      const line = lines[pos];
      if (line.indent !== indent || !(line.body.startsWith('- ') || line.body === '-')) {
        if (line.indent > indent) fail(line, 'bad indentation in sequence');
        return out;
      }
      const rest = line.body.slice(2).trim();
      const itemIndent = indent + 2;
      if (rest === '') {
        pos++;
        out.push(block(indent + 1));
      } else if (keyValue(rest)) {
        // `- key: value` opens a mapping whose further keys sit at the item's indent.
        lines[pos] = { ...line, indent: itemIndent, body: rest };
        out.push(mapping(itemIndent));
      } else {
        pos++;
        out.push(scalar(rest, line, indent));
      }
    }
  }

  function keyValue(body) {
    if (/^['"]/.test(body)) return null;
    const m = /^([A-Za-z_][A-Za-z0-9_-]*):(?:\s+(.*))?$/.exec(body);
    return m ? { key: m[1], value: m[2] ?? '' } : null;
  }

  function mapping(indent) {
    const out = {};
    for (;;) {
      skipBlank();
      if (pos >= lines.length) return out;
      const line = lines[pos];
      if (line.indent < indent) return out;
      if (line.indent > indent) fail(line, 'bad indentation in mapping');
      if (line.body.startsWith('- ')) return out;
      const kv = keyValue(line.body);
      if (!kv) fail(line, `expected "key: value", got ${JSON.stringify(line.body.slice(0, 40))}`);
      if (Object.prototype.hasOwnProperty.call(out, kv.key)) fail(line, `duplicate key ${kv.key}`);
      pos++;
      if (kv.value === '') {
        skipBlank();
        const next = lines[pos];
        // A sequence may sit at the key's own indent (`aliases:\n- CVE-…`).
        if (next && (next.indent > indent || (next.indent === indent && next.body.startsWith('- ')))) out[kv.key] = block(next.indent);
        else out[kv.key] = null;
      } else out[kv.key] = scalar(kv.value, line, indent);
    }
  }

  const doc = block(0);
  skipBlank();
  if (pos < lines.length) fail(lines[pos], 'unexpected content');
  return doc;
}

// ---------------------------------------------------------------------------------------------
// Op names in the advisory text.

/**
 * Ops an advisory names: `tf.raw_ops.X`, a backticked `X`, a CamelCase word with at least two
 * capitalised parts (StringNGrams, MatMul), a wildcard the advisory writes itself
 * (`tf.raw_ops.Conv3DBackprop*`, `*Bincount`), or a Python API name whose op carries the same
 * name (`tf.strings.ngrams` → StringNGrams, `tf.tile` → Tile). A single capitalised word (Where,
 * Fill, Print) counts only when raw_ops-qualified or backticked: in prose it is usually English.
 * Every name must be in the registry.
 */
export function opsNamed(details, registry) {
  const found = new Set();
  const add = (name) => {
    if (registry.has(name)) found.add(name);
  };
  const byLower = lowerCaseIndex(registry);
  // Qualified or backticked names are op names even when the advisory misspells their case (SparseBinCount).
  const addQualified = (name) => {
    const op = byLower.get(name.toLowerCase());
    if (op) found.add(op);
  };
  for (const m of details.matchAll(/tf\.raw_ops\.([A-Za-z0-9_]+)(?![A-Za-z0-9_*])/g)) addQualified(m[1]);
  for (const m of details.matchAll(/`([A-Z][A-Za-z0-9_]*)`/g)) addQualified(m[1]);
  for (const m of details.matchAll(/(?<![A-Za-z0-9_.`*])([A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+|[A-Z]{2,}[a-z][A-Za-z0-9]*)(?![A-Za-z0-9_*])/g)) add(m[1]);
  for (const m of details.matchAll(/(?:tf\.raw_ops\.|`)(\*?[A-Z][A-Za-z0-9]*(?:\*[A-Za-z0-9]*)*)/g)) {
    if (m[1].includes('*')) for (const op of wildcard(m[1], registry)) found.add(op);
  }
  for (const m of details.matchAll(/\btf\.((?:[a-z0-9_]+\.)*)([a-z][a-z0-9_]*)(?![A-Za-z0-9_(])/g)) {
    if (m[1].startsWith('raw_ops')) continue;
    for (const op of pythonApiOps(m[1], m[2], registry)) found.add(op);
  }
  for (const word of NOT_OPS) found.delete(word);
  return [...found].sort();
}

/** Registry ops matching an advisory's own wildcard; a pattern matching too many ops names none. */
function wildcard(pattern, registry) {
  if (pattern.replace(/\*/g, '').length < 3) return [];
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[A-Za-z0-9]*')}$`);
  // Dataset ops are their own kernel family: `Map*` names the staging map ops, not MapDataset.
  const hits = [...registry].filter((op) => re.test(op) && (!op.endsWith('Dataset') || pattern.includes('Dataset')));
  return hits.length <= MAX_WILDCARD_OPS ? hits : [];
}

const MAX_WILDCARD_OPS = 16;
/** Namespaces whose Python functions wrap an op named with a prefix: tf.strings.ngrams → StringNGrams. */
const NAMESPACE_PREFIX = { strings: 'String', ragged: 'Ragged', sparse: 'Sparse', image: '', math: '', io: '', nn: '', linalg: '', quantization: '' };

function pythonApiOps(namespace, name, registry) {
  const ns = namespace.replace(/\.$/, '');
  if (ns && !Object.prototype.hasOwnProperty.call(NAMESPACE_PREFIX, ns)) return [];
  const camel = name
    .split('_')
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
  if (name.endsWith('_')) return wildcard(`${camel}*`, registry);
  const byLower = lowerCaseIndex(registry);
  for (const candidate of [`${NAMESPACE_PREFIX[ns] ?? ''}${camel}`, camel]) {
    const op = byLower.get(candidate.toLowerCase());
    if (op) return [op];
  }
  return [];
}

const lowerIndexes = new WeakMap();
function lowerCaseIndex(registry) {
  let index = lowerIndexes.get(registry);
  if (!index) {
    index = new Map([...registry].map((op) => [op.toLowerCase(), op]));
    lowerIndexes.set(registry, index);
  }
  return index;
}

/** Registry op names that in advisory prose name something else (a class, a file format, a product). */
const NOT_OPS = new Set(['TensorFlow']);

// ---------------------------------------------------------------------------------------------
// Class of the bug, from the advisory's words. Memory-safety classes are checked first: a text
// that says "integer overflow ... heap buffer overflow" is a heap out-of-bounds access.

const CLASS_RULES = [
  ['use-after-free', /use[- ]after[- ]free|double[- ]free|heap[- ]use[- ]after/i],
  ['heap-out-of-bounds', /heap[- ](?:buffer[- ])?(?:overflow|underflow|out[- ]of[- ]bounds|oob)|out[- ]of[- ]bounds (?:read|write|access|memory)|\boob\b|buffer overflow|(?:read|write)s? (?:data )?outside (?:the )?(?:bounds|of)|memory corruption|out of bounds (?:read|write|access)|arbitrary (?:read|write)|stack[- ]buffer[- ]overflow|overflow(?:s)? (?:a|the) (?:heap|stack)[- ]allocated/i],
  ['null-dereference', /null[- ]?(?:pointer|ptr)|nullptr|null dereference|dereferenc\w* (?:a )?null|reference binding to null/i],
  ['division-by-zero', /divi(?:sion|de)s? by (?:zero|0)\b|\bFPE\b|floating point exception/i],
  ['integer-overflow', /integer overflow|integer underflow|overflows? (?:an? )?int|signed integer|size_t.*overflow/i],
  ['check-failure', /CHECK[- ]?fail|`CHECK`|`DCHECK`|CHECK(?:_[A-Z]+)?\b.*(?:abort|crash)|assertion failure|assert(?:ion)? (?:fails|failure)|abort/i],
  ['memory-exhaustion', /memory exhaustion|out[- ]of[- ]memory|\bOOM\b|exhaust\w* (?:the )?memory|allocat\w* (?:a )?(?:very )?large|infinite loop|stack overflow|unbounded recursion/i],
];

export function classify(details) {
  for (const [name, pattern] of CLASS_RULES) if (pattern.test(details)) return name;
  return 'other';
}

/** TensorFlow Lite advisories are about TFLite's own kernels, not the TensorFlow op of that name. */
export function componentOf(details) {
  return /\bTFLite\b|TensorFlow Lite|\btflite\b|tensorflow\/lite\//i.test(details) ? 'tflite' : 'tensorflow';
}

// ---------------------------------------------------------------------------------------------

/** The ECOSYSTEM events of every affected entry, paired as they come: introduced, then fixed. */
export function rangesOf(record, file) {
  const out = [];
  for (const affected of record.affected ?? []) {
    for (const range of affected.ranges ?? []) {
      if (range.type !== 'ECOSYSTEM') continue;
      let open = null;
      for (const event of range.events ?? []) {
        if ('introduced' in event) {
          if (open !== null) out.push({ introduced: open, fixed: null });
          open = String(event.introduced);
        } else if ('fixed' in event) {
          if (open === null) throw new Error(`${file}: fixed ${event.fixed} without introduced`);
          out.push({ introduced: open, fixed: String(event.fixed) });
          open = null;
        } else if ('last_affected' in event || 'limit' in event) {
          throw new Error(`${file}: event ${Object.keys(event)[0]} is not handled by this generator`);
        }
      }
      if (open !== null) out.push({ introduced: open, fixed: null });
    }
  }
  return out;
}

function linkOf(record, ghsa) {
  const refs = (record.references ?? []).filter((r) => r.type === 'ADVISORY').map((r) => r.url);
  return refs.find((u) => /github\.com\/tensorflow\/tensorflow\/security\/advisories\/GHSA-/.test(u)) ?? (ghsa ? `https://github.com/advisories/${ghsa}` : null) ?? refs.find((u) => /tensorflow\/security\/advisory\//.test(u)) ?? refs[0] ?? `https://osv.dev/vulnerability/${record.id}`;
}

export function advisoryFromRecord(record, registry, file) {
  const details = String(record.details ?? '');
  const aliases = (record.aliases ?? []).map(String);
  const cve = aliases.filter((a) => a.startsWith('CVE-')).sort();
  const ghsa = aliases.filter((a) => a.startsWith('GHSA-')).sort();
  return {
    id: String(record.id),
    cve,
    ghsa,
    ops: opsNamed(details, registry),
    component: componentOf(details),
    class: classify(details),
    ranges: rangesOf(record, file),
    url: linkOf(record, ghsa[0] ?? null),
    published: String(record.published ?? '').slice(0, 10),
    modified: String(record.modified ?? '').slice(0, 10),
  };
}

export function buildAdvisoryTable(sourceDir = DEFAULT_SOURCE, registryFile = join(ROOT, 'main', 'analysis', 'op-registry.json')) {
  const registry = new Set(Object.keys(JSON.parse(readFileSync(registryFile, 'utf8')).ops));
  const files = readdirSync(sourceDir).filter((f) => f.endsWith('.yaml')).sort();
  const advisories = files.map((f) => {
    const record = parseYaml(readFileSync(join(sourceDir, f), 'utf8'), f);
    if (!record || typeof record !== 'object' || !record.id) throw new Error(`${f}: not an OSV record`);
    return advisoryFromRecord(record, registry, f);
  });
  advisories.sort((a, b) => compareIds(a.id, b.id));
  return {
    source: 'PyPA Advisory Database (github.com/pypa/advisory-database), OSV records for the PyPI packages tensorflow / tensorflow-cpu / tensorflow-gpu',
    license: 'CC BY 4.0',
    credit: 'Data: PyPA Advisory Database, CC BY 4.0',
    package: basename(sourceDir),
    /** The newest `modified` date among the records: advisories published later are not known. */
    dataAsOf: advisories.reduce((latest, a) => (a.modified > latest ? a.modified : latest), ''),
    advisories: advisories.map(({ modified: _modified, ...rest }) => rest),
  };
}

function compareIds(a, b) {
  const pa = /^PYSEC-(\d+)-(\d+)$/.exec(a);
  const pb = /^PYSEC-(\d+)-(\d+)$/.exec(b);
  if (pa && pb) return Number(pa[1]) - Number(pb[1]) || Number(pa[2]) - Number(pb[2]);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function serialise(table) {
  return `${JSON.stringify(table, null, 1)}\n`;
}

export { parseYaml, YamlError };

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const source = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_SOURCE;
  const output = process.argv[3] ? resolve(process.argv[3]) : DEFAULT_OUTPUT;
  const table = buildAdvisoryTable(source);
  writeFileSync(output, serialise(table));
  const withOps = table.advisories.filter((a) => a.ops.length > 0).length;
  console.log(`${table.advisories.length} advisories (${withOps} naming ops) -> ${output}`);
}
