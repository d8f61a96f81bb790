// Keras readers: the Keras 3 `.keras` zip (config.json, metadata.json, model.weights.h5), the
// legacy Keras HDF5 file (model_config attribute) and keras_metadata.pb of SavedModels written by
// tf.keras. All three produce a KerasIR: the whole config plus every layer found anywhere in it
// (nested models, wrappers, cells), each with its path. Nothing from the model is ever run.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import yauzl from 'yauzl';
import protobuf from 'protobufjs';
import type { FileEntry, KerasIR, KerasLayerIR, ModelIR } from '../../shared/ir.ts';
import { LIMITS, ModelError, asModelError } from './errors.ts';
import { HDF5_LIMITS, compareHdf5Datasets, readHdf5, type Hdf5CompareLimits, type Hdf5ComparePair, type Hdf5Comparison, type Hdf5Summary } from './hdf5.ts';

/** Above this uncompressed size an entry must not be compressed more than MAX_COMPRESSION_RATIO:1. */
const RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024;
const MAX_COMPRESSION_RATIO = 100;
const MAX_CONFIG_DEPTH = 400;
const MAX_CONFIG_VALUES = 5_000_000;
const MAX_LAYERS = 200_000;
const MAX_WEIGHTS_LISTED = 200_000;

export interface ZipEntryInfo {
  name: string;
  size: number;
  compressedSize: number;
}

// ---------------------------------------------------------------- .keras (v3 zip)

export async function readKerasV3(path: string): Promise<ModelIR> {
  const absolute = resolve(path);
  const fileEntry = await describeFile(absolute);
  const warnings: string[] = [];
  const wanted: Record<string, number> = {
    'config.json': LIMITS.maxJsonBytes,
    'metadata.json': LIMITS.maxJsonBytes,
    'model.weights.h5': HDF5_LIMITS.maxBytes,
  };
  const zip = await readZip(absolute, wanted, warnings);
  const configBytes = zip.contents.get('config.json');
  if (!configBytes) throw new ModelError(absolute, 'not a Keras v3 archive: config.json is missing');
  const config = parsePythonJson(configBytes, absolute, 'config.json');
  const metadataBytes = zip.contents.get('metadata.json');
  let metadata: Record<string, unknown> = {};
  if (metadataBytes) {
    const parsed = parsePythonJson(metadataBytes, absolute, 'metadata.json');
    if (isObject(parsed)) metadata = parsed;
    else warnings.push(`${absolute}: metadata.json is not a JSON object`);
  } else warnings.push(`${absolute}: metadata.json is missing`);
  let weights: KerasIR['weights'] = [];
  const weightsBytes = zip.contents.get('model.weights.h5');
  if (weightsBytes) {
    try {
      const summary = await readHdf5(weightsBytes, `${absolute} (model.weights.h5)`);
      weights = listWeights(summary, warnings);
      warnings.push(...summary.warnings);
    } catch (error) {
      warnings.push(asModelError(`${absolute} (model.weights.h5)`, error, 'weights unreadable').message);
    }
  }
  const layers = collectLayers(config, '', warnings, absolute);
  const keras: KerasIR = {
    kerasVersion: typeof metadata.keras_version === 'string' ? metadata.keras_version : null,
    backend: typeof metadata.backend === 'string' ? metadata.backend : null,
    config,
    layers,
    weights,
    metadata: { ...metadata, archiveEntries: zip.entries },
  };
  return { path: absolute, format: 'keras-v3', files: [fileEntry], metaGraphs: [], keras, warnings };
}

interface ZipContents {
  entries: ZipEntryInfo[];
  contents: Map<string, Uint8Array>;
}

/** Reads the central directory and the `wanted` entries (name → size cap) into memory. */
export function readZip(path: string, wanted: Record<string, number>, warnings: string[]): Promise<ZipContents> {
  return new Promise((resolvePromise, rejectPromise) => {
    let settled = false;
    let zipRef: yauzl.ZipFile | null = null;
    const fail = (reason: string) => {
      if (settled) return;
      settled = true;
      zipRef?.close();
      rejectPromise(new ModelError(path, reason));
    };
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, zip) => {
      if (err || !zip) return fail(`not a readable zip archive (${err?.message ?? 'unknown error'})`);
      zipRef = zip;
      if (zip.entryCount > LIMITS.maxZipEntries) return fail(`zip archive declares ${zip.entryCount} entries, more than the limit of ${LIMITS.maxZipEntries}`);
      const entries: ZipEntryInfo[] = [];
      const names = new Set<string>();
      const contents = new Map<string, Uint8Array>();
      let declaredTotal = 0;
      let readTotal = 0;
      zip.on('error', (e: Error) => fail(`malformed zip archive: ${e.message}`));
      zip.on('end', () => {
        if (settled) return;
        settled = true;
        zip.close();
        resolvePromise({ entries, contents });
      });
      zip.on('entry', (entry: yauzl.Entry) => {
        if (settled) return;
        const name = entry.fileName;
        const unsafe = unsafeEntryName(name);
        if (unsafe) return fail(`zip entry "${printable(name)}" rejected: ${unsafe}`);
        if (entries.length >= LIMITS.maxZipEntries) return fail(`zip archive has more than ${LIMITS.maxZipEntries} entries`);
        declaredTotal += entry.uncompressedSize;
        if (declaredTotal > LIMITS.maxZipUncompressedBytes) return fail(`zip entries declare more than ${LIMITS.maxZipUncompressedBytes} uncompressed bytes in total`);
        if (entry.uncompressedSize > RATIO_CHECK_MIN_BYTES && entry.uncompressedSize / Math.max(1, entry.compressedSize) > MAX_COMPRESSION_RATIO) {
          return fail(`zip entry "${printable(name)}" expands ${entry.compressedSize} bytes to ${entry.uncompressedSize} (ratio above ${MAX_COMPRESSION_RATIO}:1): zip bomb`);
        }
        if (names.has(name)) warnings.push(`${path}: zip entry "${printable(name)}" appears more than once; Python's zipfile (and so Keras) uses the last one`);
        names.add(name);
        entries.push({ name, size: entry.uncompressedSize, compressedSize: entry.compressedSize });
        const cap = Object.hasOwn(wanted, name) ? wanted[name] : undefined;
        if (cap === undefined || name.endsWith('/')) return zip.readEntry();
        if (entry.uncompressedSize > cap) return fail(`zip entry "${name}" declares ${entry.uncompressedSize} bytes, more than the ${cap}-byte limit`);
        if (entry.isEncrypted()) {
          warnings.push(`${path}: zip entry "${name}" is encrypted and was not read`);
          return zip.readEntry();
        }
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr || !stream) return fail(`zip entry "${name}" unreadable: ${streamErr?.message ?? 'no stream'}`);
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (chunk: Buffer) => {
            size += chunk.length;
            readTotal += chunk.length;
            if (size > cap || readTotal > LIMITS.maxZipUncompressedBytes) {
              stream.destroy();
              fail(`zip entry "${name}" inflates beyond its limit (${Math.min(size, readTotal)} bytes read)`);
              return;
            }
            chunks.push(chunk);
          });
          stream.on('error', (e: Error) => fail(`zip entry "${name}" is corrupt: ${e.message}`));
          stream.on('end', () => {
            if (settled) return;
            const data = new Uint8Array(Buffer.concat(chunks));
            // yauzl does not check CRCs; Python's zipfile does, so Keras refuses a mismatch.
            const crc = crc32(data);
            if (crc !== entry.crc32) return fail(`zip entry "${name}" is corrupt: CRC-32 ${hex(crc)} does not match the recorded ${hex(entry.crc32)}`);
            contents.set(name, data);
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

let crcTable: Uint32Array | null = null;

function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(data) >>> 0;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of data) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Why a zip entry name is unsafe to use as a path (zip-slip), or null. */
export function unsafeEntryName(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name.includes('\0')) return 'NUL byte in name';
  if (name.includes('\\')) return 'backslash in name (Windows path separator)';
  if (name.startsWith('/')) return 'absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'drive-letter path';
  if (name.split('/').some((part) => part === '..')) return 'parent-directory (..) component: zip-slip';
  return null;
}

function printable(name: string): string {
  return name.replace(/[\0-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 200);
}

function listWeights(summary: Hdf5Summary, warnings: string[]): KerasIR['weights'] {
  if (summary.datasets.length > MAX_WEIGHTS_LISTED) warnings.push(`only the first ${MAX_WEIGHTS_LISTED} of ${summary.datasets.length} weights are listed`);
  return summary.datasets.slice(0, MAX_WEIGHTS_LISTED).map((d) => ({ path: d.path, dtype: d.dtype, shape: d.shape }));
}

/**
 * A Keras weights file given as a checkpoint: Keras 3 `.weights.h5` (`model.save_weights`) or a
 * legacy HDF5 weights/model file. Only the dataset tree is read (paths, dtypes, shapes).
 */
export async function readKerasWeightsFile(path: string): Promise<KerasIR['weights']> {
  return (await readKerasWeights(path)).weights;
}

/** The weights file's dataset tree and its bytes (kept for comparing values). */
export async function readKerasWeights(path: string): Promise<{ weights: KerasIR['weights']; bytes: Uint8Array }> {
  const absolute = resolve(path);
  const bytes = await readHdf5Bytes(absolute);
  const summary = await readHdf5(bytes, absolute);
  return { weights: listWeights(summary, []), bytes };
}

/** The HDF5 bytes holding a Keras model's own weights: model.weights.h5 of a `.keras`, the `.h5` file itself. */
async function kerasModelWeightBytes(model: ModelIR): Promise<{ bytes: Uint8Array; file: string }> {
  if (model.format === 'keras-h5') return { bytes: await readHdf5Bytes(model.path), file: model.path };
  if (model.format === 'keras-v3') {
    const zip = await readZip(model.path, { 'model.weights.h5': HDF5_LIMITS.maxBytes }, []);
    const bytes = zip.contents.get('model.weights.h5');
    if (!bytes) throw new ModelError(model.path, 'the archive has no readable model.weights.h5 to compare weight values with');
    return { bytes, file: `${model.path} (model.weights.h5)` };
  }
  throw new ModelError(model.path, `a ${model.format} model has no Keras HDF5 weights to compare with`);
}

/** Compares dataset pairs (a = the model's own weight path, b = the weights file's) within the limits. */
export async function compareKerasWeightValues(model: ModelIR, weightsFile: { bytes: Uint8Array; file: string }, pairs: Hdf5ComparePair[], limits: Partial<Hdf5CompareLimits> = {}): Promise<Hdf5Comparison[]> {
  if (pairs.length === 0) return [];
  return compareHdf5Datasets(await kerasModelWeightBytes(model), weightsFile, pairs, limits);
}

/** The whole HDF5 file, refused past the size limit before anything is read. */
async function readHdf5Bytes(absolute: string): Promise<Uint8Array> {
  const size = await fileSize(absolute);
  if (size > HDF5_LIMITS.maxBytes) throw new ModelError(absolute, `HDF5 file of ${size} bytes exceeds the ${HDF5_LIMITS.maxBytes}-byte limit`);
  try {
    return new Uint8Array(await readFile(absolute));
  } catch (error) {
    throw asModelError(absolute, error, 'cannot read file');
  }
}

// ---------------------------------------------------------------- legacy HDF5

export async function readKerasH5(path: string): Promise<ModelIR> {
  const absolute = resolve(path);
  const bytes = await readHdf5Bytes(absolute);
  const fileEntry: FileEntry = { path: basename(absolute), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  const summary = await readHdf5(bytes, absolute);
  const warnings = [...summary.warnings];
  const attrs = summary.rootAttrs;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  let config: unknown = null;
  const modelConfig = text(attrs.model_config);
  if (modelConfig !== null) {
    if (modelConfig.length > LIMITS.maxJsonBytes) throw new ModelError(absolute, `model_config of ${modelConfig.length} bytes exceeds the ${LIMITS.maxJsonBytes}-byte limit`);
    config = parsePythonJson(modelConfig, absolute, 'model_config attribute');
  } else if (attrs.layer_names !== undefined) {
    warnings.push(`${absolute}: weights-only Keras HDF5 (no model_config attribute)`);
  } else {
    warnings.push(`${absolute}: HDF5 file without a Keras model_config attribute`);
  }
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'model_config') continue;
    if (key === 'training_config' && typeof value === 'string' && value.length <= LIMITS.maxJsonBytes) {
      try {
        metadata.training_config = parsePythonJson(value, absolute, 'training_config attribute');
      } catch (error) {
        warnings.push(asModelError(absolute, error, 'training_config unreadable').message);
        metadata.training_config = value.slice(0, 1000);
      }
    } else metadata[key] = value;
  }
  const keras: KerasIR = {
    kerasVersion: text(attrs.keras_version) ?? text(summary.groupAttrs.model_weights?.keras_version),
    backend: text(attrs.backend) ?? text(summary.groupAttrs.model_weights?.backend),
    config,
    layers: config === null ? [] : collectLayers(config, '', warnings, absolute),
    weights: listWeights(summary, warnings),
    metadata,
  };
  return { path: absolute, format: 'keras-h5', files: [fileEntry], metaGraphs: [], keras, warnings };
}

// ---------------------------------------------------------------- keras_metadata.pb

let savedMetadataType: protobuf.Type | null = null;

function loadSavedMetadataType(): protobuf.Type {
  if (!savedMetadataType) {
    const protoPath = fileURLToPath(new URL('../proto/keras_saved_metadata.proto', import.meta.url));
    const root = protobuf.loadSync(protoPath);
    savedMetadataType = root.lookupType('third_party.py.keras.protobuf.SavedMetadata');
  }
  return savedMetadataType;
}

interface SavedObjectMessage {
  version?: { producer?: number; minConsumer?: number };
  nodeId?: number;
  nodePath?: string;
  identifier?: string;
  metadata?: string;
}

/** Decodes keras_metadata.pb (SavedMetadata) into a KerasIR; layer paths start with the node path. */
export function parseKerasMetadataPb(bytes: Uint8Array, file: string): KerasIR {
  if (bytes.length > LIMITS.maxProtoBytes) throw new ModelError(file, `keras_metadata.pb of ${bytes.length} bytes exceeds the limit`);
  let message: { nodes?: SavedObjectMessage[] };
  try {
    const type = loadSavedMetadataType();
    message = type.toObject(type.decode(bytes), { defaults: false }) as { nodes?: SavedObjectMessage[] };
  } catch (error) {
    throw asModelError(file, error, 'malformed keras_metadata.pb');
  }
  const warnings: string[] = [];
  const nodes = message.nodes ?? [];
  const layers: KerasLayerIR[] = [];
  const seen = new Set<string>();
  let rootConfig: unknown = null;
  let kerasVersion: string | null = null;
  let backend: string | null = null;
  const nodeSummaries: Record<string, unknown>[] = [];
  for (const node of nodes) {
    const nodePath = node.nodePath ?? '';
    nodeSummaries.push({ nodeId: node.nodeId ?? 0, nodePath, identifier: node.identifier ?? '', producer: node.version?.producer ?? 0 });
    const text = node.metadata ?? '';
    if (!text) continue;
    if (text.length > LIMITS.maxJsonBytes) {
      warnings.push(`${file}: metadata of node ${nodePath} exceeds ${LIMITS.maxJsonBytes} bytes and was skipped`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = parsePythonJson(text, file, `metadata of node ${nodePath}`);
    } catch (error) {
      warnings.push(asModelError(file, error, `metadata of node ${nodePath} unreadable`).message);
      continue;
    }
    if (!isObject(parsed)) continue;
    if (nodePath === 'root' || rootConfig === null) {
      if (nodePath === 'root') rootConfig = parsed;
      if (typeof parsed.keras_version === 'string') kerasVersion = parsed.keras_version;
      if (typeof parsed.backend === 'string') backend = parsed.backend;
    }
    for (const layer of collectLayers(parsed, '', warnings, file)) {
      const key = `${layer.className}\0${layer.name}\0${safeStringify(layer.config)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      layers.push({ ...layer, path: layer.path ? `${nodePath}#${layer.path}` : nodePath });
      if (layers.length >= MAX_LAYERS) break;
    }
  }
  return {
    kerasVersion,
    backend,
    config: rootConfig,
    layers,
    weights: [],
    metadata: { nodes: nodeSummaries, warnings },
  };
}

// ---------------------------------------------------------------- config walking

/** Keys whose serialized-object value is a layer (wrappers, RNN cells, bidirectional halves). */
const LAYER_KEYS = new Set(['layer', 'forward_layer', 'backward_layer', 'cell', 'backbone', 'preprocessor', 'encoder', 'decoder']);
const LAYER_LIST_KEYS = new Set(['layers', 'cells']);

export function isSerializedObject(value: unknown): value is Record<string, unknown> & { class_name: string } {
  return isObject(value) && typeof value.class_name === 'string' && 'config' in value;
}

/**
 * Every layer in a Keras config, depth-first, each with its path (`config.layers[3].config.layer`).
 * A layer is a serialized object at the root, in a `layers`/`cells` list (or a Keras 2 Sequential
 * config list), under a wrapper key, or any serialized object whose config has a name and
 * `trainable` flag. Initializers, regularizers etc. stay in `config` for the analysis to walk.
 */
export function collectLayers(config: unknown, basePath: string, warnings: string[], file: string): KerasLayerIR[] {
  const layers: KerasLayerIR[] = [];
  let visited = 0;
  let truncated = false;
  const stack: { value: unknown; path: string; depth: number; layerSlot: boolean }[] = [{ value: config, path: basePath, depth: 0, layerSlot: true }];
  while (stack.length > 0) {
    const { value, path, depth, layerSlot } = stack.pop()!;
    if (++visited > MAX_CONFIG_VALUES || depth > MAX_CONFIG_DEPTH) {
      truncated = true;
      continue;
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1, layerSlot });
      continue;
    }
    if (!isObject(value)) continue;
    if (isSerializedObject(value) && value.class_name !== '__keras_tensor__') {
      const inner = value.config;
      const looksLikeLayer = isObject(inner) && typeof inner.name === 'string' && 'trainable' in inner;
      if ((layerSlot || looksLikeLayer) && layers.length < MAX_LAYERS) {
        layers.push({
          path,
          className: value.class_name,
          name: isObject(inner) && typeof inner.name === 'string' ? inner.name : typeof value.name === 'string' ? value.name : '',
          ...(typeof value.module === 'string' ? { module: value.module } : {}),
          ...(typeof value.registered_name === 'string' ? { registeredName: value.registered_name } : {}),
          config: inner,
        });
      }
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      const child = value[key];
      if (child === null || typeof child !== 'object') continue;
      const childPath = path ? `${path}.${key}` : key;
      // A Keras 2 Sequential stores its layer list directly as `config`.
      const slot = LAYER_LIST_KEYS.has(key) || LAYER_KEYS.has(key) || (key === 'config' && Array.isArray(child) && isSerializedObject(value));
      stack.push({ value: child, path: childPath, depth: depth + 1, layerSlot: slot });
    }
  }
  if (truncated) warnings.push(`${file}: Keras config deeper than ${MAX_CONFIG_DEPTH} levels or larger than ${MAX_CONFIG_VALUES} values; the rest was not walked`);
  if (layers.length >= MAX_LAYERS) warnings.push(`${file}: only the first ${MAX_LAYERS} layers are listed`);
  return layers;
}

// ---------------------------------------------------------------- helpers

/**
 * Python's json module writes NaN, Infinity and -Infinity; JSON.parse rejects them. They are
 * replaced by null outside strings and the text parsed again.
 */
export function parsePythonJson(input: Uint8Array | string, file: string, what = 'JSON'): unknown {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: false }).decode(input);
  if (text.length > LIMITS.maxJsonBytes) throw new ModelError(file, `${what} of ${text.length} characters exceeds the ${LIMITS.maxJsonBytes} limit`);
  try {
    return JSON.parse(text);
  } catch (first) {
    const cleaned = replaceNonFinite(text);
    if (cleaned !== text) {
      try {
        return JSON.parse(cleaned);
      } catch {
        // fall through to the original error
      }
    }
    throw new ModelError(file, `${what} is invalid JSON: ${(first as Error).message}`);
  }
}

function replaceNonFinite(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
    } else if (text.startsWith('NaN', i)) {
      out += 'null';
      i += 2;
    } else if (text.startsWith('-Infinity', i)) {
      out += 'null';
      i += 8;
    } else if (text.startsWith('Infinity', i)) {
      out += 'null';
      i += 7;
    } else out += c;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Config text for de-duplication; `shared_object_id` differs between copies of the same layer. */
function safeStringify(value: unknown): string {
  try {
    const text = JSON.stringify(value, (key, v) => (key === 'shared_object_id' ? undefined : v)) ?? '';
    return text.length > 100_000 ? createHash('sha256').update(text).digest('hex') : text;
  } catch {
    return '';
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ModelError(path, 'not a regular file');
    return st.size;
  } catch (error) {
    throw asModelError(path, error, 'cannot read file');
  }
}

async function describeFile(path: string): Promise<FileEntry> {
  const size = await fileSize(path);
  const hash = createHash('sha256');
  await new Promise<void>((ok, ko) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => ok())
      .on('error', (e) => ko(asModelError(path, e, 'cannot read file')));
  });
  return { path: basename(path), size, sha256: hash.digest('hex') };
}
