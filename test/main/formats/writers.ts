// Writers for crafted test models, written for these tests: a zip archive writer (stored or
// deflated entries, with lying headers on request), a Python marshal encoder for code objects of
// several Python layouts, a FlexBuffer [string, bytes] writer and a TFLite model builder on top
// of the flatbuffers Builder. Deterministic, so tests do not depend on Python or Keras.
import { deflateRawSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Builder } from 'flatbuffers';

// ------------------------------------------------------------------ zip

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipInput {
  name: string;
  data: Uint8Array | string;
  deflate?: boolean;
  /** Write this uncompressed size in the headers instead of the real one. */
  claimSize?: number;
}

export function buildZip(entries: ZipInput[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const raw = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : Buffer.from(e.data);
    const body = e.deflate ? deflateRawSync(raw) : raw;
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(raw);
    const size = e.claimSize ?? raw.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const centralSize = centrals.reduce((a, b) => a + b.length, 0);
  const tail: Buffer[] = [];
  if (entries.length > 0xffff) {
    const zip64End = Buffer.alloc(56);
    zip64End.writeUInt32LE(0x06064b50, 0);
    zip64End.writeBigUInt64LE(44n, 4);
    zip64End.writeUInt16LE(45, 12);
    zip64End.writeUInt16LE(45, 14);
    zip64End.writeBigUInt64LE(BigInt(entries.length), 24);
    zip64End.writeBigUInt64LE(BigInt(entries.length), 32);
    zip64End.writeBigUInt64LE(BigInt(centralSize), 40);
    zip64End.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + centralSize), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(zip64End, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 8);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, ...centrals, ...tail, end]));
}

/** A .keras archive from a config object (and optional metadata / extra entries). */
export function buildKerasArchive(config: unknown, options: { kerasVersion?: string; extra?: ZipInput[] } = {}): Uint8Array {
  return buildZip([
    { name: 'metadata.json', data: JSON.stringify({ keras_version: options.kerasVersion ?? '3.15.1', date_saved: '2026-01-01@00:00:00' }) },
    { name: 'config.json', data: JSON.stringify(config), deflate: true },
    ...(options.extra ?? []),
  ]);
}

// ------------------------------------------------------------------ Python marshal encoder

export type PyLit =
  | null
  | boolean
  | number
  | string
  | { bytes: Uint8Array }
  | { tuple: PyLit[] }
  | { code: CodeSpec };

export interface CodeSpec {
  layout: '2.7' | '3.0-3.7' | '3.8-3.10' | '3.11+';
  argcount?: number;
  bytecode?: Uint8Array;
  consts?: PyLit[];
  names?: string[];
  varnames?: string[];
  filename?: string;
  name?: string;
  firstlineno?: number;
}

class MarshalWriter {
  parts: number[] = [];
  byte(b: number) {
    this.parts.push(b & 0xff);
  }
  i32(v: number) {
    for (let i = 0; i < 4; i++) this.byte(v >> (8 * i));
  }
  raw(bytes: Uint8Array) {
    for (const b of bytes) this.byte(b);
  }
}

/** Marshals a value; strings become short-ASCII ('z') or unicode ('u'), as CPython writes them. */
export function marshal(value: PyLit, py2 = false): Uint8Array {
  const w = new MarshalWriter();
  write(w, value, py2);
  return new Uint8Array(w.parts);
}

function write(w: MarshalWriter, v: PyLit, py2: boolean): void {
  if (v === null) return w.byte(0x4e);
  if (v === true) return w.byte(0x54);
  if (v === false) return w.byte(0x46);
  if (typeof v === 'number') {
    if (Number.isInteger(v)) {
      w.byte(0x69);
      return w.i32(v);
    }
    w.byte(0x67);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return w.raw(b);
  }
  if (typeof v === 'string') {
    const bytes = Buffer.from(v, py2 ? 'latin1' : 'utf8');
    if (py2) {
      w.byte(0x74); // interned str
      w.i32(bytes.length);
      return w.raw(bytes);
    }
    if (/^[\x00-\x7f]*$/.test(v) && bytes.length < 256) {
      w.byte(0x7a);
      w.byte(bytes.length);
      return w.raw(bytes);
    }
    w.byte(0x75);
    w.i32(bytes.length);
    return w.raw(bytes);
  }
  if ('bytes' in v) {
    w.byte(0x73);
    w.i32(v.bytes.length);
    return w.raw(v.bytes);
  }
  if ('tuple' in v) {
    w.byte(0x28);
    w.i32(v.tuple.length);
    for (const item of v.tuple) write(w, item, py2);
    return;
  }
  const c = v.code;
  const names = (list: string[]) => ({ tuple: list });
  w.byte(0x63);
  w.i32(c.argcount ?? 1);
  if (c.layout === '3.8-3.10' || c.layout === '3.11+') w.i32(0); // posonlyargcount
  if (c.layout !== '2.7') w.i32(0); // kwonlyargcount
  if (c.layout !== '3.11+') w.i32((c.varnames ?? ['x']).length); // nlocals
  w.i32(4); // stacksize
  w.i32(0x43); // flags
  write(w, { bytes: c.bytecode ?? new Uint8Array([0x7c, 0x00, 0x53, 0x00]) }, py2);
  write(w, { tuple: c.consts ?? [null] }, py2);
  write(w, names(c.names ?? []), py2);
  if (c.layout === '3.11+') {
    write(w, names(c.varnames ?? ['x']), py2);
    write(w, { bytes: new Uint8Array((c.varnames ?? ['x']).length).fill(0x26) }, py2);
  } else {
    write(w, names(c.varnames ?? ['x']), py2);
    write(w, names([]), py2);
    write(w, names([]), py2);
  }
  write(w, c.filename ?? '<crafted>', py2);
  write(w, c.name ?? '<lambda>', py2);
  if (c.layout === '3.11+') write(w, c.name ?? '<lambda>', py2);
  w.i32(c.firstlineno ?? 1);
  write(w, { bytes: new Uint8Array(0) }, py2);
  if (c.layout === '3.11+') write(w, { bytes: new Uint8Array(0) }, py2);
}

/** Keras ≥ 2.1 / Keras 3 encoding of marshal bytes. */
export function base64Lines(bytes: Uint8Array): string {
  return (Buffer.from(bytes).toString('base64').match(/.{1,76}/g) ?? []).join('\n') + '\n';
}

/** Keras 2.0 under Python 2: bytes as raw_unicode_escape text. */
export function rawUnicodeEscape(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

/** A Python interpreter for generating real marshalled code, or null. */
export function findPython(): string | null {
  for (const candidate of [process.env.TFAUDIT_TF_PYTHON, '/usr/bin/python3', '/opt/tfvenv/bin/python']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Base64 of marshal.dumps(eval(source).__code__), compiled (never run) by a real Python. */
export function pythonLambdaCode(python: string, source: string): { code: string; version: string } {
  const script = 'import base64,marshal,sys\nsrc=sys.stdin.read()\nc=compile(src,"<crafted>","eval")\nfn=[k for k in c.co_consts if hasattr(k,"co_code")][0]\nprint(base64.b64encode(marshal.dumps(fn)).decode())\nprint("%d.%d"%sys.version_info[:2])';
  const out = spawnSync(python, ['-c', script], { input: source, encoding: 'utf8', timeout: 20_000 });
  if (out.status !== 0) throw new Error(`python failed: ${out.stderr}`);
  const [code, version] = out.stdout.trim().split('\n');
  return { code, version };
}

// ------------------------------------------------------------------ FlexBuffer / TFLite

/** FlexBuffer untyped vector of two byte strings, 4-byte widths (how TF writes Flex options). */
export function flexVectorOfStrings(items: Uint8Array[]): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number) => {
    for (let i = 0; i < 4; i++) out.push((v >>> (8 * i)) & 0xff);
  };
  const align = () => {
    while (out.length % 4) out.push(0);
  };
  const starts: number[] = [];
  for (const item of items) {
    align();
    u32(item.length);
    starts.push(out.length);
    out.push(...item, 0);
  }
  align();
  u32(items.length);
  const vector = out.length;
  for (let i = 0; i < items.length; i++) u32(vector + 4 * i - starts[i]);
  for (let i = 0; i < items.length; i++) out.push((5 << 2) | 2); // STRING, 4-byte
  align();
  const root = out.length;
  u32(root - vector);
  out.push((10 << 2) | 2, 4); // VECTOR, 4-byte; root width 4
  return new Uint8Array(out);
}

export interface TfliteTensorSpec {
  name: string;
  type: number; // TensorType
  shape: number[];
  /** Index into `buffers` (0 = empty sentinel). */
  buffer?: number;
}

export interface TfliteOpSpec {
  opcode: number;
  inputs: number[];
  outputs: number[];
  customOptions?: Uint8Array;
}

export interface TfliteSpec {
  operatorCodes: { builtin: number; custom?: string }[];
  tensors: TfliteTensorSpec[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOpSpec[];
  buffers: Uint8Array[]; // buffers[0] should be empty
  signature?: { key: string; inputs: [string, number][]; outputs: [string, number][] };
  identifier?: string;
}

/** TFLite string tensor buffer: count, offsets, bytes. */
export function tfliteStrings(values: string[]): Uint8Array {
  const encoded = values.map((v) => Buffer.from(v, 'utf8'));
  const header = 4 * (values.length + 2);
  const total = header + encoded.reduce((a, b) => a + b.length, 0);
  const out = Buffer.alloc(total);
  out.writeInt32LE(values.length, 0);
  let pos = header;
  for (let i = 0; i < encoded.length; i++) {
    out.writeInt32LE(pos, 4 + 4 * i);
    encoded[i].copy(out, pos);
    pos += encoded[i].length;
  }
  out.writeInt32LE(pos, 4 + 4 * values.length);
  return new Uint8Array(out);
}

export function buildTflite(spec: TfliteSpec): Uint8Array {
  const b = new Builder(1024);
  const intVector = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
    return b.endVector();
  };
  const byteVector = (values: Uint8Array) => {
    b.startVector(1, values.length, 16);
    for (let i = values.length - 1; i >= 0; i--) b.addInt8(values[i]);
    return b.endVector();
  };
  const tableVector = (offsets: number[]) => {
    b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
    return b.endVector();
  };
  const buffers = spec.buffers.map((data) => {
    const vec = data.length ? byteVector(data) : 0;
    b.startObject(3);
    if (vec) b.addFieldOffset(0, vec, 0);
    return b.endObject();
  });
  const codes = spec.operatorCodes.map((oc) => {
    const custom = oc.custom !== undefined ? b.createString(oc.custom) : 0;
    b.startObject(4);
    b.addFieldInt8(0, Math.min(oc.builtin, 127), 0);
    if (custom) b.addFieldOffset(1, custom, 0);
    b.addFieldInt32(2, 1, 0);
    b.addFieldInt32(3, oc.builtin, 0);
    return b.endObject();
  });
  const tensors = spec.tensors.map((t) => {
    const name = b.createString(t.name);
    const shape = intVector(t.shape);
    b.startObject(10);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, t.type, -1);
    b.addFieldInt32(2, t.buffer ?? 0, -1);
    b.addFieldOffset(3, name, 0);
    return b.endObject();
  });
  const operators = spec.operators.map((op) => {
    const inputs = intVector(op.inputs);
    const outputs = intVector(op.outputs);
    const custom = op.customOptions ? byteVector(op.customOptions) : 0;
    b.startObject(14);
    b.addFieldInt32(0, op.opcode, -1);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (custom) b.addFieldOffset(5, custom, 0);
    return b.endObject();
  });
  const tensorsVec = tableVector(tensors);
  const inputsVec = intVector(spec.inputs);
  const outputsVec = intVector(spec.outputs);
  const operatorsVec = tableVector(operators);
  const sgName = b.createString('main');
  b.startObject(5);
  b.addFieldOffset(0, tensorsVec, 0);
  b.addFieldOffset(1, inputsVec, 0);
  b.addFieldOffset(2, outputsVec, 0);
  b.addFieldOffset(3, operatorsVec, 0);
  b.addFieldOffset(4, sgName, 0);
  const subgraph = b.endObject();
  let signatures = 0;
  if (spec.signature) {
    const maps = (list: [string, number][]) =>
      tableVector(
        list.map(([name, index]) => {
          const n = b.createString(name);
          b.startObject(2);
          b.addFieldOffset(0, n, 0);
          b.addFieldInt32(1, index, -1);
          return b.endObject();
        }),
      );
    const ins = maps(spec.signature.inputs);
    const outs = maps(spec.signature.outputs);
    const key = b.createString(spec.signature.key);
    b.startObject(5);
    b.addFieldOffset(0, ins, 0);
    b.addFieldOffset(1, outs, 0);
    b.addFieldOffset(2, key, 0);
    b.addFieldInt32(4, 0, -1);
    signatures = tableVector([b.endObject()]);
  }
  const codesVec = tableVector(codes);
  const subgraphsVec = tableVector([subgraph]);
  const description = b.createString('crafted by tests');
  const buffersVec = tableVector(buffers);
  b.startObject(8);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codesVec, 0);
  b.addFieldOffset(2, subgraphsVec, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffersVec, 0);
  if (signatures) b.addFieldOffset(7, signatures, 0);
  const model = b.endObject();
  b.finish(model, spec.identifier ?? 'TFL3');
  return b.asUint8Array().slice();
}
