// Python `marshal` decoder, for the code objects Keras stores in Lambda layers. It only reads the
// structure (code objects, names, constants) so an auditor can see what the code references;
// nothing is ever executed. Bounded in depth, item count and sizes; every failure is a MarshalError.

export class MarshalError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'MarshalError';
  }
}

export type CodeLayout = '2.7' | '3.0-3.7' | '3.8-3.10' | '3.11+';

export interface PyCode {
  layout: CodeLayout;
  argcount: number;
  posonlyargcount: number;
  kwonlyargcount: number;
  stacksize: number;
  flags: number;
  bytecode: Uint8Array;
  consts: PyValue[];
  names: string[];
  /** co_varnames, or for 3.11+ the locals-plus names. */
  varnames: string[];
  freevars: string[];
  cellvars: string[];
  filename: string;
  name: string;
  qualname: string | null;
  firstlineno: number;
}

export type PyValue =
  | { type: 'none' }
  | { type: 'null' }
  | { type: 'ellipsis' }
  | { type: 'stopiteration' }
  | { type: 'bool'; value: boolean }
  | { type: 'int'; value: number | string }
  | { type: 'float'; value: number }
  | { type: 'complex'; re: number; im: number }
  | { type: 'str'; value: string }
  | { type: 'bytes'; value: Uint8Array }
  | { type: 'tuple' | 'list' | 'set' | 'frozenset'; items: PyValue[] }
  | { type: 'dict'; entries: [PyValue, PyValue][] }
  | { type: 'slice'; items: PyValue[] }
  | { type: 'code'; code: PyCode }
  /** A back-reference to an object still being built (a cycle); never followed. */
  | { type: 'cycle'; index: number };

export interface MarshalLimits {
  maxBytes: number;
  maxDepth: number;
  maxObjects: number;
  maxStringBytes: number;
  maxLongDigits: number;
}

export const MARSHAL_LIMITS: MarshalLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxObjects: 200_000,
  maxStringBytes: 4 * 1024 * 1024,
  maxLongDigits: 4096,
};

export interface MarshalResult {
  value: PyValue;
  /** Python version suggested by a .pyc magic number or by the code-object layout. */
  pythonVersion: string | null;
  /** How the version was inferred, e.g. `code-object layout (posonlyargcount, no qualname)`. */
  versionEvidence: string | null;
}

const FLAG_REF = 0x80;
const utf8 = new TextDecoder('utf-8', { fatal: false });

class Reader {
  pos = 0;
  refs: (PyValue | null)[] = [];
  interned: string[] = [];
  objects = 0;
  /** Objects decoded including abandoned layout attempts; never rolled back. */
  work = 0;
  layouts = new Set<CodeLayout>();
  /** `position:layout` of code-object attempts that failed: retrying them can only fail again. */
  failedAttempts = new Set<string>();

  constructor(
    readonly bytes: Uint8Array,
    readonly limits: MarshalLimits,
    readonly preferPy2: boolean,
  ) {}

  fail(message: string): never {
    throw new MarshalError(message, this.pos);
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) this.fail(`truncated data (need ${n} bytes, ${this.bytes.length - this.pos} left)`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  i32(): number {
    this.need(4);
    const b = this.bytes;
    const v = b[this.pos] | (b[this.pos + 1] << 8) | (b[this.pos + 2] << 16) | (b[this.pos + 3] << 24);
    this.pos += 4;
    return v;
  }

  i64(): number | string {
    this.need(8);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
    const big = view.getBigInt64(0, true);
    this.pos += 8;
    return bigToValue(big);
  }

  f64(): number {
    this.need(8);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  take(n: number): Uint8Array {
    if (n < 0) this.fail(`negative length ${n}`);
    if (n > this.limits.maxStringBytes) this.fail(`string of ${n} bytes exceeds the ${this.limits.maxStringBytes}-byte limit`);
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  count(n: number, minBytesEach: number): number {
    if (n < 0) this.fail(`negative item count ${n}`);
    if (n * minBytesEach > this.bytes.length - this.pos) this.fail(`item count ${n} larger than the remaining data`);
    return n;
  }

  /** Reserves a reference slot for a container before its items are read (as CPython does). */
  reserve(flag: boolean): number {
    if (!flag) return -1;
    this.refs.push(null);
    return this.refs.length - 1;
  }

  fill<T extends PyValue>(slot: number, value: T): T {
    if (slot >= 0) this.refs[slot] = value;
    return value;
  }

  register<T extends PyValue>(flag: boolean, value: T): T {
    if (flag) this.refs.push(value);
    return value;
  }

  object(depth: number): PyValue {
    if (depth > this.limits.maxDepth) this.fail(`nesting deeper than ${this.limits.maxDepth}`);
    if (++this.objects > this.limits.maxObjects) this.fail(`more than ${this.limits.maxObjects} objects`);
    if (++this.work > this.limits.maxObjects * 4) this.fail('too many code-object layout retries');
    const start = this.pos;
    const code = this.u8();
    const flag = (code & FLAG_REF) !== 0;
    const type = String.fromCharCode(code & ~FLAG_REF);
    switch (type) {
      case '0':
        return { type: 'null' };
      case 'N':
        return { type: 'none' };
      case 'F':
        return { type: 'bool', value: false };
      case 'T':
        return { type: 'bool', value: true };
      case '.':
        return { type: 'ellipsis' };
      case 'S':
        return { type: 'stopiteration' };
      case 'i':
        return this.register(flag, { type: 'int', value: this.i32() });
      case 'I':
        return this.register(flag, { type: 'int', value: this.i64() });
      case 'l':
        return this.register(flag, { type: 'int', value: this.long() });
      case 'f':
        return this.register(flag, { type: 'float', value: this.asciiFloat() });
      case 'g':
        return this.register(flag, { type: 'float', value: this.f64() });
      case 'x': {
        const re = this.asciiFloat();
        return this.register(flag, { type: 'complex', re, im: this.asciiFloat() });
      }
      case 'y': {
        const re = this.f64();
        return this.register(flag, { type: 'complex', re, im: this.f64() });
      }
      case 's':
        return this.register(flag, { type: 'bytes', value: this.take(this.i32()) });
      case 't': {
        // Python 2 interned string: a str, also remembered for later 'R' references.
        const text = latin1(this.take(this.i32()));
        this.interned.push(text);
        return this.register(flag, { type: 'str', value: text });
      }
      case 'R': {
        const index = this.i32();
        if (index < 0 || index >= this.interned.length) this.fail(`string reference ${index} out of range`);
        return { type: 'str', value: this.interned[index] };
      }
      case 'u':
        return this.register(flag, { type: 'str', value: utf8.decode(this.take(this.i32())) });
      case 'a':
      case 'A':
        return this.register(flag, { type: 'str', value: latin1(this.take(this.i32())) });
      case 'z':
      case 'Z':
        return this.register(flag, { type: 'str', value: latin1(this.take(this.u8())) });
      case '(':
      case '[':
      case '<':
      case '>':
      case ')': {
        const n = type === ')' ? this.u8() : this.count(this.i32(), 1);
        if (type !== ')') this.count(n, 1);
        const kind = type === '[' ? 'list' : type === '<' ? 'set' : type === '>' ? 'frozenset' : 'tuple';
        const slot = this.reserve(flag);
        const items: PyValue[] = [];
        const value = this.fill(slot, { type: kind, items });
        for (let i = 0; i < n; i++) items.push(this.object(depth + 1));
        return value;
      }
      case '{': {
        const slot = this.reserve(flag);
        const entries: [PyValue, PyValue][] = [];
        const value = this.fill(slot, { type: 'dict', entries });
        for (;;) {
          const key = this.object(depth + 1);
          if (key.type === 'null') break;
          entries.push([key, this.object(depth + 1)]);
        }
        return value;
      }
      case ':': {
        const slot = this.reserve(flag);
        const items: PyValue[] = [];
        const value = this.fill(slot, { type: 'slice', items });
        for (let i = 0; i < 3; i++) items.push(this.object(depth + 1));
        return value;
      }
      case 'r': {
        const index = this.i32();
        if (index < 0 || index >= this.refs.length) this.fail(`reference ${index} out of range (${this.refs.length} known)`);
        return this.refs[index] ?? { type: 'cycle', index };
      }
      case 'c': {
        const slot = this.reserve(flag);
        const value = { type: 'code' as const, code: this.codeObject(depth, start) };
        return this.fill(slot, value);
      }
      default:
        this.pos = start;
        return this.fail(`unknown marshal type code 0x${code.toString(16).padStart(2, '0')}`);
    }
  }

  long(): number | string {
    const n = this.i32();
    const digits = Math.abs(n);
    if (digits > this.limits.maxLongDigits) this.fail(`integer with ${digits} digits exceeds the limit`);
    this.need(digits * 2);
    let big = 0n;
    for (let i = digits - 1; i >= 0; i--) {
      const d = this.bytes[this.pos + i * 2] | (this.bytes[this.pos + i * 2 + 1] << 8);
      if (d > 0x7fff) this.fail('invalid long digit');
      big = (big << 15n) | BigInt(d);
    }
    this.pos += digits * 2;
    return bigToValue(n < 0 ? -big : big);
  }

  asciiFloat(): number {
    const text = latin1(this.take(this.u8()));
    const value = Number(text);
    if (Number.isNaN(value) && !/^[-+]?nan$/i.test(text)) this.fail(`invalid float literal "${text}"`);
    return value;
  }

  codeObject(depth: number, start: number): PyCode {
    const candidates = this.layoutOrder(start + 1);
    let lastError: unknown = null;
    for (const layout of candidates) {
      const attempt = `${this.pos}:${layout}`;
      if (this.failedAttempts.has(attempt)) continue;
      if (++this.work > this.limits.maxObjects * 4) this.fail('too many code-object layout retries');
      const saved = { pos: this.pos, refs: this.refs.length, interned: this.interned.length, objects: this.objects };
      try {
        const code = this.codeWithLayout(layout, depth);
        this.layouts.add(layout);
        return code;
      } catch (error) {
        if (error instanceof MarshalError && /layout retries/.test(error.message)) throw error;
        lastError = error;
        this.failedAttempts.add(attempt);
        this.pos = saved.pos;
        this.refs.length = saved.refs;
        this.interned.length = saved.interned;
        this.objects = saved.objects;
      }
    }
    if (lastError instanceof MarshalError) throw lastError;
    return this.fail('code object matches no known Python layout');
  }

  /** Header word counts differ by version: 4 (2.7), 5 (3.0–3.7 and 3.11+), 6 (3.8–3.10). */
  layoutOrder(at: number): CodeLayout[] {
    const isBytesTag = (offset: number) => {
      const b = this.bytes[at + offset];
      return b !== undefined && (b & ~FLAG_REF) === 0x73; // 's'
    };
    const order: CodeLayout[] = [];
    if (isBytesTag(16)) order.push('2.7');
    if (isBytesTag(24)) order.push('3.8-3.10');
    if (isBytesTag(20)) order.push(...(this.preferPy2 ? (['3.0-3.7', '3.11+'] as const) : (['3.11+', '3.0-3.7'] as const)));
    for (const layout of ['3.11+', '3.8-3.10', '3.0-3.7', '2.7'] as const) if (!order.includes(layout)) order.push(layout);
    // One marshal stream comes from one Python: a layout that already worked goes first.
    const known = [...this.layouts].filter((l) => order.includes(l));
    return [...known, ...order.filter((l) => !known.includes(l))];
  }

  codeWithLayout(layout: CodeLayout, depth: number): PyCode {
    const argcount = this.i32();
    const posonlyargcount = layout === '3.8-3.10' || layout === '3.11+' ? this.i32() : 0;
    const kwonlyargcount = layout === '2.7' ? 0 : this.i32();
    if (layout !== '3.11+') this.i32(); // nlocals
    const stacksize = this.i32();
    const flags = this.i32();
    for (const [name, value] of [['argcount', argcount], ['posonlyargcount', posonlyargcount], ['kwonlyargcount', kwonlyargcount], ['stacksize', stacksize]] as const) {
      if (value < 0 || value > 1_000_000) this.fail(`implausible ${name} ${value} for the ${layout} layout`);
    }
    const bytecode = this.expectBytes(this.object(depth + 1), 'co_code');
    const consts = this.expectSequence(this.object(depth + 1), 'co_consts');
    const names = this.expectNames(this.object(depth + 1), 'co_names');
    let varnames: string[];
    let freevars: string[] = [];
    let cellvars: string[] = [];
    if (layout === '3.11+') {
      varnames = this.expectNames(this.object(depth + 1), 'co_localsplusnames');
      this.expectBytes(this.object(depth + 1), 'co_localspluskinds');
    } else {
      varnames = this.expectNames(this.object(depth + 1), 'co_varnames');
      freevars = this.expectNames(this.object(depth + 1), 'co_freevars');
      cellvars = this.expectNames(this.object(depth + 1), 'co_cellvars');
    }
    const filename = this.expectText(this.object(depth + 1), 'co_filename');
    const name = this.expectText(this.object(depth + 1), 'co_name');
    const qualname = layout === '3.11+' ? this.expectText(this.object(depth + 1), 'co_qualname') : null;
    const firstlineno = this.i32();
    this.expectBytes(this.object(depth + 1), layout === '3.11+' || layout === '3.8-3.10' ? 'co_linetable' : 'co_lnotab');
    if (layout === '3.11+') this.expectBytes(this.object(depth + 1), 'co_exceptiontable');
    return { layout, argcount, posonlyargcount, kwonlyargcount, stacksize, flags, bytecode, consts, names, varnames, freevars, cellvars, filename, name, qualname, firstlineno };
  }

  expectBytes(value: PyValue, field: string): Uint8Array {
    if (value.type === 'bytes') return value.value;
    if (value.type === 'str') return new TextEncoder().encode(value.value);
    return this.fail(`${field} is a ${value.type}, not bytes`);
  }

  expectSequence(value: PyValue, field: string): PyValue[] {
    if (value.type === 'tuple' || value.type === 'list') return value.items;
    return this.fail(`${field} is a ${value.type}, not a tuple`);
  }

  expectNames(value: PyValue, field: string): string[] {
    return this.expectSequence(value, field).map((item) => this.expectText(item, field));
  }

  expectText(value: PyValue, field: string): string {
    if (value.type === 'str') return value.value;
    if (value.type === 'bytes') return latin1(value.value);
    return this.fail(`${field} holds a ${value.type}, not a string`);
  }
}

function bigToValue(big: bigint): number | string {
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** .pyc magic numbers (first two bytes, little-endian) by Python release. */
const PYC_MAGIC_RANGES: [number, number, string][] = [
  [20121, 20121, '1.5'],
  [50428, 50428, '1.6'],
  [60202, 60202, '2.1'],
  [60717, 60717, '2.2'],
  [62011, 62021, '2.3'],
  [62041, 62061, '2.4'],
  [62071, 62131, '2.5'],
  [62151, 62161, '2.6'],
  [62171, 62211, '2.7'],
  [3000, 3131, '3.0'],
  [3141, 3151, '3.1'],
  [3160, 3180, '3.2'],
  [3190, 3230, '3.3'],
  [3250, 3310, '3.4'],
  [3320, 3351, '3.5'],
  [3360, 3379, '3.6'],
  [3390, 3399, '3.7'],
  [3400, 3419, '3.8'],
  [3420, 3429, '3.9'],
  [3430, 3449, '3.10'],
  [3450, 3499, '3.11'],
  [3500, 3549, '3.12'],
  [3550, 3599, '3.13'],
  [3600, 3649, '3.14'],
];

export function pythonVersionForMagic(magic: number): string | null {
  for (const [lo, hi, version] of PYC_MAGIC_RANGES) if (magic >= lo && magic <= hi) return version;
  return null;
}

const LAYOUT_VERSION: Record<CodeLayout, [string, string]> = {
  '2.7': ['Python 2.x', 'code-object layout with 4 header words (Python 2)'],
  '3.0-3.7': ['Python 3.0–3.7', 'code-object layout with kwonlyargcount and no posonlyargcount'],
  '3.8-3.10': ['Python 3.8–3.10', 'code-object layout with posonlyargcount and nlocals'],
  '3.11+': ['Python 3.11+', 'code-object layout with qualname, linetable and exceptiontable'],
};

/**
 * Decodes marshal data. A .pyc header (magic + `\r\n`) is recognised and skipped. `preferPy2`
 * breaks the tie between the 3.0–3.7 and 3.11+ layouts when the encoding already says Python 2.
 */
export function decodeMarshal(bytes: Uint8Array, options: { preferPy2?: boolean; limits?: Partial<MarshalLimits> } = {}): MarshalResult {
  const limits = { ...MARSHAL_LIMITS, ...options.limits };
  if (bytes.length > limits.maxBytes) throw new MarshalError(`marshal data of ${bytes.length} bytes exceeds the ${limits.maxBytes}-byte limit`, 0);
  let data = bytes;
  let pycVersion: string | null = null;
  if (bytes.length >= 8 && bytes[2] === 0x0d && bytes[3] === 0x0a) {
    const magic = bytes[0] | (bytes[1] << 8);
    pycVersion = pythonVersionForMagic(magic);
    if (pycVersion) {
      // 2.x: magic+mtime (8); 3.3–3.6: +size (12); 3.7+: flags+mtime+size or hash (16).
      const major = Number(pycVersion.split('.')[0]);
      const minor = Number(pycVersion.split('.')[1]);
      const header = major < 3 || (major === 3 && minor < 3) ? 8 : major === 3 && minor < 7 ? 12 : 16;
      data = bytes.subarray(Math.min(header, bytes.length));
    }
  }
  const reader = new Reader(data, limits, options.preferPy2 ?? false);
  const value = reader.object(0);
  if (pycVersion) {
    const magic = bytes[0] | (bytes[1] << 8);
    return { value, pythonVersion: `Python ${pycVersion}`, versionEvidence: `.pyc magic number ${magic}` };
  }
  const layouts = [...reader.layouts];
  if (layouts.length === 1) {
    const [version, evidence] = LAYOUT_VERSION[layouts[0]];
    return { value, pythonVersion: version, versionEvidence: evidence };
  }
  return { value, pythonVersion: null, versionEvidence: layouts.length > 1 ? `mixed code-object layouts ${layouts.join(', ')}` : null };
}

export interface KerasCodeBytes {
  bytes: Uint8Array;
  encoding: 'base64' | 'raw_unicode_escape';
}

/**
 * Turns the string Keras stored for a Lambda function back into marshal bytes: base64 (Keras ≥ 2.1
 * and Keras 3), or Python 2's `marshal.dumps(code).decode('raw_unicode_escape')` (Keras 2.0).
 */
export function kerasCodeBytes(encoded: string): KerasCodeBytes {
  const compact = encoded.replace(/[\r\n]/g, '');
  if (compact.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact) && compact.length % 4 === 0) {
    const bytes = new Uint8Array(Buffer.from(compact, 'base64'));
    if (bytes.length > 0 && ((bytes[0] & ~FLAG_REF) === 0x63 || (bytes.length >= 4 && bytes[2] === 0x0d && bytes[3] === 0x0a))) {
      return { bytes, encoding: 'base64' };
    }
  }
  return { bytes: encodeRawUnicodeEscape(encoded), encoding: 'raw_unicode_escape' };
}

function encodeRawUnicodeEscape(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x100) out.push(cp);
    else {
      const hex = cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
      for (const c of hex) out.push(c.charCodeAt(0));
    }
  }
  return new Uint8Array(out);
}

export interface CodeReferences {
  /** co_names of every code object (globals, attributes, imported names), in first-seen order. */
  names: string[];
  /** String constants of every code object. */
  strings: string[];
  /** Modules named by IMPORT_NAME instructions (decoded per layout). */
  imports: string[];
  /** Names of the code objects (the lambda, nested functions). */
  functions: string[];
  varnames: string[];
  filenames: string[];
  codeObjects: number;
}

const MAX_REFERENCE_WALK = 10_000;

/** Everything a code object (and the code objects nested in its constants) refers to. */
export function codeReferences(root: PyValue): CodeReferences {
  const refs: CodeReferences = { names: [], strings: [], imports: [], functions: [], varnames: [], filenames: [], codeObjects: 0 };
  const seen = new Set<PyValue>();
  const add = (list: string[], value: string) => {
    if (!list.includes(value) && list.length < MAX_REFERENCE_WALK) list.push(value);
  };
  const stack: PyValue[] = [root];
  let steps = 0;
  while (stack.length > 0 && steps++ < MAX_REFERENCE_WALK * 10) {
    const value = stack.pop()!;
    if (seen.has(value)) continue;
    seen.add(value);
    switch (value.type) {
      case 'code': {
        const code = value.code;
        refs.codeObjects++;
        add(refs.functions, code.name);
        add(refs.filenames, code.filename);
        for (const n of code.names) add(refs.names, n);
        for (const v of code.varnames) add(refs.varnames, v);
        for (const m of importedModules(code)) add(refs.imports, m);
        for (let i = code.consts.length - 1; i >= 0; i--) stack.push(code.consts[i]);
        break;
      }
      case 'str':
        add(refs.strings, value.value);
        break;
      case 'bytes':
        if (value.value.length <= 4096) add(refs.strings, latin1(value.value));
        break;
      case 'tuple':
      case 'list':
      case 'set':
      case 'frozenset':
      case 'slice':
        for (let i = value.items.length - 1; i >= 0; i--) stack.push(value.items[i]);
        break;
      case 'dict':
        for (const [k, v] of value.entries) stack.push(k, v);
        break;
      default:
        break;
    }
  }
  return refs;
}

const IMPORT_NAME = 108;

/**
 * IMPORT_NAME targets. The opcode is 108 from Python 2.7 through 3.12; 2.x–3.5 use variable-length
 * instructions (argument ≥ 90 takes 2 bytes), 3.6+ fixed 2-byte words. 3.13 renumbered opcodes,
 * so for the 3.11+ layout a hit is kept only when the argument names a module-like co_name.
 */
export function importedModules(code: PyCode): string[] {
  const out: string[] = [];
  const b = code.bytecode;
  const push = (arg: number) => {
    const name = code.names[arg];
    if (name !== undefined && /^[A-Za-z_][\w.]*$/.test(name) && !out.includes(name)) out.push(name);
  };
  if (code.layout === '2.7') {
    const EXTENDED_ARG = 145;
    let ext = 0;
    for (let i = 0; i < b.length; ) {
      const op = b[i];
      if (op >= 90) {
        if (i + 2 >= b.length) break;
        const arg = (b[i + 1] | (b[i + 2] << 8)) + ext * 65536;
        ext = op === EXTENDED_ARG ? arg : 0;
        if (op === IMPORT_NAME) push(arg);
        i += 3;
      } else i += 1;
    }
    return out;
  }
  // 3.0–3.5 shares the 3.0–3.7 layout but used variable-length instructions; try wordcode first
  // and fall back to the older encoding when wordcode finds nothing.
  const wordcode = () => {
    let ext = 0;
    for (let i = 0; i + 1 < b.length; i += 2) {
      const op = b[i];
      const arg = b[i + 1] | (ext << 8);
      ext = op === 144 ? arg : 0;
      if (op === IMPORT_NAME) push(arg);
    }
  };
  wordcode();
  if (out.length === 0 && code.layout === '3.0-3.7') {
    for (let i = 0; i < b.length; ) {
      const op = b[i];
      if (op >= 90) {
        if (i + 2 >= b.length) break;
        if (op === IMPORT_NAME) push(b[i + 1] | (b[i + 2] << 8));
        i += 3;
      } else i += 1;
    }
  }
  return out;
}

/** A short rendering of a value for evidence lines. */
export function renderPyValue(value: PyValue, depth = 0): string {
  if (depth > 4) return '…';
  switch (value.type) {
    case 'none':
      return 'None';
    case 'null':
      return 'NULL';
    case 'ellipsis':
      return 'Ellipsis';
    case 'stopiteration':
      return 'StopIteration';
    case 'bool':
      return value.value ? 'True' : 'False';
    case 'int':
      return String(value.value);
    case 'float':
      return String(value.value);
    case 'complex':
      return `(${value.re}+${value.im}j)`;
    case 'str':
      return JSON.stringify(value.value.length > 80 ? value.value.slice(0, 80) + '…' : value.value);
    case 'bytes':
      return `b${JSON.stringify(latin1(value.value.subarray(0, 40)))}${value.value.length > 40 ? '…' : ''}`;
    case 'tuple':
    case 'list':
    case 'set':
    case 'frozenset':
    case 'slice': {
      const inner = value.items.slice(0, 8).map((v) => renderPyValue(v, depth + 1)).join(', ') + (value.items.length > 8 ? ', …' : '');
      return value.type === 'list' ? `[${inner}]` : value.type === 'tuple' ? `(${inner})` : `${value.type}(${inner})`;
    }
    case 'dict':
      return `{${value.entries.slice(0, 8).map(([k, v]) => `${renderPyValue(k, depth + 1)}: ${renderPyValue(v, depth + 1)}`).join(', ')}}`;
    case 'code':
      return `<code ${value.code.name}>`;
    case 'cycle':
      return `<ref ${value.index}>`;
  }
}
