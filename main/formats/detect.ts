// Format detection by content: magic bytes, then protobuf wire structure scored against the
// shapes of SavedModel / MetaGraphDef / GraphDef, then text-format first tokens. File names
// are used only to find siblings (a checkpoint's .index beside a data shard or a prefix).
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ModelError, asModelError } from './errors.ts';
import { readDirectoryBounded } from './files.ts';
import { readCheckpointState } from './checkpoint-state.ts';

export type Detection =
  | { kind: 'saved-model'; path: string }
  | { kind: 'saved-model-file'; path: string; text: boolean }
  | { kind: 'graph-def'; path: string; text: boolean }
  | { kind: 'meta-graph'; path: string; text: boolean }
  | { kind: 'checkpoint'; path: string }
  | { kind: 'keras-v3'; path: string }
  | { kind: 'keras-h5'; path: string }
  | { kind: 'tflite'; path: string };

export const HDF5_MAGIC = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** LevelDB table footer magic 0xdb4775248b80fb57, stored little-endian in the last 8 bytes. */
export const TABLE_MAGIC = Uint8Array.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
export const RIEGELI_MAGIC = Uint8Array.from([0x83, 0xaf, 0x70, 0xd1, 0x0d, 0x88, 0x4a, 0x3f]);
const DATA_SHARD = /\.data-\d{5}-of-\d{5}$/;
/** Bytes of a protobuf file examined when scoring its structure. */
const SNIFF_BYTES = 4 * 1024 * 1024;
/** Files of a plain directory examined when looking for its one model file. */
const MAX_FILES_PROBED = 64;

function startsWith(bytes: Uint8Array, magic: Uint8Array, offset = 0): boolean {
  if (bytes.length < offset + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[offset + i] !== magic[i]) return false;
  return true;
}

async function statOrNull(path: string) {
  return stat(path).catch(() => null);
}

/** The first `head` bytes and the last `tail` bytes of a file. */
async function readEnds(file: string, head: number, tail: number): Promise<{ head: Uint8Array; tail: Uint8Array; size: number }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const h = Buffer.alloc(Math.min(head, size));
    if (h.length) await handle.read(h, 0, h.length, 0);
    const t = Buffer.alloc(Math.min(tail, size));
    if (t.length) await handle.read(t, 0, t.length, size - t.length);
    return { head: h, tail: t, size };
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Protobuf structure scoring.

type FieldShape = { wire: number; child?: MessageShape | 'string' | 'opname'; repeated?: boolean };
type MessageShape = { [field: number]: FieldShape };

const V = 0;
const LD = 2;
const bytesField: FieldShape = { wire: LD };
const stringField: FieldShape = { wire: LD, child: 'string' };
const varintField: FieldShape = { wire: V };
const many = (shape: FieldShape): FieldShape => ({ ...shape, repeated: true });

const ANY: MessageShape = { 1: stringField, 2: bytesField };
const OPDEF: MessageShape = {
  1: { wire: LD, child: 'opname' }, 2: many(bytesField), 3: many(bytesField), 4: many(bytesField), 5: stringField, 6: stringField,
  8: bytesField, 16: varintField, 17: varintField, 18: varintField, 19: varintField, 20: many(stringField), 21: varintField,
};
const NODEDEF: MessageShape = {
  1: stringField, 2: { wire: LD, child: 'opname' }, 3: many(stringField), 4: stringField, 5: many(bytesField), 6: bytesField, 7: bytesField,
};
const FUNCTIONDEF: MessageShape = {
  1: { wire: LD, child: OPDEF }, 3: many({ wire: LD, child: NODEDEF }), 4: many(bytesField), 5: many(bytesField), 6: many(bytesField),
  7: many(bytesField), 8: many(bytesField),
};
const LIBRARY: MessageShape = { 1: many({ wire: LD, child: FUNCTIONDEF }), 2: many(bytesField), 3: many(bytesField) };
const VERSIONDEF: MessageShape = { 1: varintField, 2: varintField, 3: many(varintField) };
const GRAPHDEF: MessageShape = {
  1: many({ wire: LD, child: NODEDEF }), 2: { wire: LD, child: LIBRARY }, 3: varintField, 4: { wire: LD, child: VERSIONDEF }, 5: bytesField,
};
const METAINFO: MessageShape = {
  1: stringField, 2: { wire: LD, child: { 1: many({ wire: LD, child: OPDEF }) } }, 3: { wire: LD, child: ANY }, 4: many(stringField),
  5: stringField, 6: stringField, 7: varintField, 8: many(bytesField),
};
const SAVERDEF: MessageShape = { 1: stringField, 2: stringField, 3: stringField, 4: varintField, 5: varintField, 6: { wire: 5 }, 7: varintField };
const MAP_ENTRY: MessageShape = { 1: stringField, 2: bytesField };
const METAGRAPH: MessageShape = {
  1: { wire: LD, child: METAINFO }, 2: { wire: LD, child: GRAPHDEF }, 3: { wire: LD, child: SAVERDEF },
  4: many({ wire: LD, child: MAP_ENTRY }), 5: many({ wire: LD, child: MAP_ENTRY }), 6: many(bytesField), 7: bytesField,
};
const SAVEDMODEL: MessageShape = { 1: varintField, 2: many({ wire: LD, child: METAGRAPH }) };
/** Fields a message of this shape always has (NodeDef.op, OpDef.name): missing means not this type. */
const REQUIRED = new Map<MessageShape, number[]>([[NODEDEF, [2]], [OPDEF, [1]]]);
/** A winner needs at least this score: a few fields that fit, not one lucky byte. */
const MIN_SCORE = 3;

const OP_NAME = /^[A-Za-z_>][A-Za-z0-9_>./-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Scorer {
  budget = 20000;
  constructor(readonly bytes: Uint8Array) {}

  varint(pos: number, end: number): [number, number] | null {
    let result = 0;
    let shift = 0;
    while (pos < end) {
      const b = this.bytes[pos++]!;
      if (shift < 28) result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return [result, pos];
      shift += 7;
      if (shift >= 70) return null;
    }
    return null;
  }

  /**
   * Score of bytes[start,end) read as `shape`: + for fields of the expected wire type and
   * plausible content, − for unknown fields; null when the wire structure is broken. A message
   * cut off by the sniff window is scored on what is there (`partial`).
   */
  score(shape: MessageShape, start: number, end: number, depth: number, partial: boolean): number | null {
    let pos = start;
    let score = 0;
    const seen = new Map<number, number>();
    while (pos < end) {
      if (--this.budget < 0) return score;
      const tag = this.varint(pos, end);
      if (!tag) return partial ? score : null;
      pos = tag[1];
      const field = Math.floor(tag[0] / 8);
      const wire = tag[0] & 7;
      if (field === 0) return null;
      let payloadStart = pos;
      let payloadEnd = pos;
      switch (wire) {
        case 0: { const v = this.varint(pos, end); if (!v) return partial ? score : null; pos = v[1]; break; }
        case 1: pos += 8; break;
        case 5: pos += 4; break;
        case 2: {
          const len = this.varint(pos, end);
          if (!len) return partial ? score : null;
          payloadStart = len[1];
          payloadEnd = payloadStart + len[0];
          pos = payloadEnd;
          break;
        }
        default: return null;
      }
      if (pos > end && !partial) return null;
      const expected = shape[field];
      if (!expected) { score -= 1; continue; }
      if (expected.wire !== wire) { score -= 3; continue; }
      score += 1;
      const count = (seen.get(field) ?? 0) + 1;
      seen.set(field, count);
      // A singular field written twice is legal protobuf (merged) but nothing TF emits.
      if (count > 1 && !expected.repeated) score -= 3;
      const child = expected.child;
      if (!child || count > 8 || depth > 6) continue;
      const stop = Math.min(payloadEnd, end);
      const cut = payloadEnd > end;
      if (child === 'string' || child === 'opname') {
        if (cut) continue;
        let text: string;
        try {
          text = utf8.decode(this.bytes.subarray(payloadStart, stop));
        } catch {
          score -= 2;
          continue;
        }
        if (child === 'opname') score += OP_NAME.test(text) ? 2 : -2;
        else if (CONTROL_CHARS.test(text)) score -= 2;
      } else {
        const inner = this.score(child, payloadStart, stop, depth + 1, cut || partial);
        if (inner === null) score -= 4;
        else score += Math.min(inner, 50);
      }
    }
    if (!partial) for (const field of REQUIRED.get(shape) ?? []) if (!seen.has(field)) score -= 5;
    return score;
  }
}

export type ProtoKind = 'saved-model' | 'meta-graph' | 'graph-def';

/** Which of SavedModel / MetaGraphDef / GraphDef the bytes fit best; null when none fits. */
export function classifyProtoBytes(bytes: Uint8Array, totalSize = bytes.length): ProtoKind | null {
  if (bytes.length === 0) return null;
  const partial = totalSize > bytes.length;
  const candidates: [ProtoKind, MessageShape][] = [['saved-model', SAVEDMODEL], ['meta-graph', METAGRAPH], ['graph-def', GRAPHDEF]];
  let best: ProtoKind | null = null;
  let bestScore = MIN_SCORE - 1;
  for (const [kind, shape] of candidates) {
    const s = new Scorer(bytes).score(shape, 0, bytes.length, 0, partial);
    if (s !== null && s > bestScore) {
      best = kind;
      bestScore = s;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Text format.

export type TextKind = ProtoKind | 'checkpoint-state';

/** The first field name of a text-format file, skipping blanks and `#` comments. */
export function firstTextToken(text: string): string | null {
  const match = /^(?:\s|#[^\n]*(?:\n|$))*([A-Za-z_][A-Za-z0-9_]*)\s*[:{<]/.exec(text);
  return match ? match[1]! : null;
}

const TEXT_FIELDS: Record<string, TextKind> = {
  saved_model_schema_version: 'saved-model', meta_graphs: 'saved-model',
  meta_info_def: 'meta-graph', graph_def: 'meta-graph', saver_def: 'meta-graph', collection_def: 'meta-graph',
  signature_def: 'meta-graph', asset_file_def: 'meta-graph', object_graph_def: 'meta-graph',
  node: 'graph-def', library: 'graph-def', versions: 'graph-def', version: 'graph-def',
  model_checkpoint_path: 'checkpoint-state', all_model_checkpoint_paths: 'checkpoint-state',
};

export function classifyText(bytes: Uint8Array): TextKind | null {
  const n = Math.min(bytes.length, 64 * 1024);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return null;
  }
  const token = firstTextToken(Buffer.from(bytes.subarray(0, n)).toString('utf8'));
  return token ? TEXT_FIELDS[token] ?? null : null;
}

// ---------------------------------------------------------------------------------------------

async function isSavedModelDir(dir: string): Promise<boolean> {
  for (const name of ['saved_model.pb', 'saved_model.pbtxt', 'saved_model.cpb']) {
    if ((await statOrNull(join(dir, name)))?.isFile()) return true;
  }
  return false;
}

async function detectDirectory(dir: string): Promise<Detection> {
  if (await isSavedModelDir(dir)) return { kind: 'saved-model', path: dir };
  const names = await readDirectoryBounded(dir);
  const versions: string[] = [];
  for (const name of names) {
    if (/^\d+$/.test(name) && (await statOrNull(join(dir, name)))?.isDirectory()) versions.push(name);
  }
  if (versions.length === 1 && names.length === 1) return detectDirectory(join(dir, versions[0]!));
  if (versions.length === 1 && (await isSavedModelDir(join(dir, versions[0]!)))) {
    return { kind: 'saved-model', path: join(dir, versions[0]!) };
  }
  if (versions.length > 1) {
    const sorted = versions.sort((a, b) => Number(a) - Number(b));
    throw new ModelError(dir, `directory holds ${versions.length} model versions (${sorted.slice(0, 5).join(', ')}); open one of them`);
  }
  const savedModelParts = names.filter((n) => ['variables', 'fingerprint.pb', 'keras_metadata.pb', 'assets', 'assets.extra'].includes(n));
  if (savedModelParts.length > 0 && !names.includes('checkpoint')) {
    throw new ModelError(dir, `incomplete SavedModel: saved_model.pb is missing (found ${savedModelParts.sort().join(', ')})`);
  }
  const trainingGraph = await trainingMetaGraph(dir, names);
  if (trainingGraph) {
    const detection = await detectFormat(trainingGraph).catch(() => null);
    if (detection?.kind === 'meta-graph') return detection;
  }
  if (names.includes('checkpoint') || names.some((n) => n.endsWith('.index'))) return { kind: 'checkpoint', path: dir };
  return detectModelFileIn(dir, names.sort());
}

/**
 * A TF1 training folder (Saver output): the graph is the `.meta` of the checkpoint the
 * `checkpoint` state file names, or the folder's only `.meta`. It is opened as the model,
 * with that checkpoint as its own, rather than the bare checkpoint.
 */
async function trainingMetaGraph(dir: string, names: string[]): Promise<string | null> {
  if (names.includes('checkpoint')) {
    try {
      const latest = basename((await readCheckpointState(join(dir, 'checkpoint'))).modelCheckpointPath);
      if (latest && names.includes(`${latest}.meta`)) return join(dir, `${latest}.meta`);
    } catch {
      // an unreadable state file is reported by the checkpoint reader
    }
  }
  const metas = names.filter((n) => n.endsWith('.meta'));
  return metas.length === 1 ? join(dir, metas[0]!) : null;
}

/** A directory without SavedModel or checkpoint: its one model file, or a list of choices. */
async function detectModelFileIn(dir: string, names: string[]): Promise<Detection> {
  const found: { name: string; detection: Detection }[] = [];
  const subModels: string[] = [];
  for (const name of names.slice(0, MAX_FILES_PROBED)) {
    const path = join(dir, name);
    const info = await statOrNull(path);
    if (info?.isDirectory()) {
      if (await isSavedModelDir(path)) subModels.push(name);
    } else if (info?.isFile() && info.size > 0) {
      const detection = await detectFormat(path).catch(() => null);
      if (detection) found.push({ name, detection });
    }
  }
  if (found.length === 1 && subModels.length === 0) return found[0]!.detection;
  const choices = [...found.map((f) => f.name), ...subModels.map((n) => `${n}/`)];
  if (choices.length > 1) {
    throw new ModelError(dir, `directory holds ${choices.length} models (${choices.slice(0, 6).join(', ')}${choices.length > 6 ? ', …' : ''}); open one of them`);
  }
  if (subModels.length === 1) return { kind: 'saved-model', path: join(dir, subModels[0]!) };
  throw new ModelError(dir, 'no model found in this directory (no saved_model.pb/.pbtxt, no version subfolder, no checkpoint, no model file)');
}

/** Decides what `path` is by its content. Throws a ModelError naming the path when unknown. */
export async function detectFormat(input: string): Promise<Detection> {
  const path = resolve(input);
  const info = await statOrNull(path);
  if (!info) {
    if ((await statOrNull(`${path}.index`))?.isFile()) return { kind: 'checkpoint', path };
    throw new ModelError(path, 'no such file or directory');
  }
  if (info.isDirectory()) return detectDirectory(path);
  if (!info.isFile()) throw new ModelError(path, 'not a regular file or directory');
  if (info.size === 0) throw new ModelError(path, 'empty file');

  let ends;
  try {
    ends = await readEnds(path, SNIFF_BYTES, 64 * 1024);
  } catch (error) {
    throw asModelError(path, error, 'cannot read file');
  }
  const { head, tail, size } = ends;
  if ([0, 512, 1024, 2048].some((offset) => startsWith(head, HDF5_MAGIC, offset))) return { kind: 'keras-h5', path };
  if (head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) {
    if (Buffer.from(tail).includes('config.json') || Buffer.from(head).includes('config.json')) return { kind: 'keras-v3', path };
    throw new ModelError(path, 'zip archive without config.json: not a Keras v3 model');
  }
  if (startsWith(head, Buffer.from('TFL3'), 4)) return { kind: 'tflite', path };
  if (startsWith(head, RIEGELI_MAGIC)) {
    if (basename(path) === 'saved_model.cpb' && (await isSavedModelDir(dirname(path)))) return { kind: 'saved-model', path: dirname(path) };
    throw new ModelError(path, 'chunked SavedModel (saved_model.cpb) is not supported yet');
  }
  if (size >= 48 && startsWith(tail, TABLE_MAGIC, tail.length - 8)) return { kind: 'checkpoint', path };
  if (DATA_SHARD.test(path) && (await statOrNull(path.replace(DATA_SHARD, '.index')))?.isFile()) return { kind: 'checkpoint', path };

  const text = classifyText(head);
  if (text === 'checkpoint-state') return { kind: 'checkpoint', path };
  if (text) return textOrBinary(path, text, true);
  const kind = classifyProtoBytes(head, size);
  if (kind) return textOrBinary(path, kind, false);
  if ((await statOrNull(`${path}.index`))?.isFile()) return { kind: 'checkpoint', path };
  throw new ModelError(path, 'unrecognised file: not a SavedModel, GraphDef, MetaGraphDef, checkpoint, Keras or TFLite model');
}

async function textOrBinary(path: string, kind: ProtoKind, text: boolean): Promise<Detection> {
  if (kind === 'saved-model') {
    const name = basename(path);
    if ((name === 'saved_model.pb' || name === 'saved_model.pbtxt') && (await isSavedModelDir(dirname(path)))) {
      return { kind: 'saved-model', path: dirname(path) };
    }
    return { kind: 'saved-model-file', path, text };
  }
  return { kind, path, text };
}
