// SavedModel directories: saved_model.pb (or .pbtxt), fingerprint.pb, keras_metadata.pb,
// assets/, assets.extra/ and the model's own checkpoint variables/variables.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CheckpointIR, KerasIR, MetaGraphIR, ModelIR } from '../../shared/ir.ts';
import { LIMITS, ModelError, asModelError } from './errors.ts';
import { WireReader, wireError, readProtoFile, noteGraphLikeStrings } from './graphdef.ts';
import { readMetaGraphFields } from './metagraph.ts';
import { decodeMessage, protoTypes, toMetaGraphIR } from './protobuf.ts';
import { parseTextProto } from './pbtxt.ts';
import { hashHeldBytes, startModelFileListing, type HeldFile, type ModelFileListing } from './files.ts';
import { fingerprint64 } from './fingerprint64.ts';
import { readTensorBundle } from './tensorbundle.ts';
import { parseKerasMetadataPb } from './keras.ts';

export interface SavedModelProto {
  schemaVersion: number;
  metaGraphs: MetaGraphIR[];
}

/** Binary SavedModel → IR, meta graph by meta graph through the fast decoders. */
export function decodeSavedModelBytes(bytes: Uint8Array, file: string): SavedModelProto {
  const result: SavedModelProto = { schemaVersion: 0, metaGraphs: [] };
  try {
    const r = new WireReader(bytes, file);
    const end = bytes.length;
    while (r.pos < end) {
      const tag = r.varint32(end);
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 1 && wire === 0) result.schemaVersion = r.varint64(end);
      else if (field === 2 && wire === 2) {
        const start = r.length(end);
        const stop = r.pos;
        r.pos = start;
        result.metaGraphs.push(readMetaGraphFields(r, stop, 1));
        r.pos = stop;
      } else r.skip(wire, end);
    }
    noteGraphLikeStrings(r, result.metaGraphs.map((m) => m.graph));
  } catch (error) {
    throw wireError(file, error, 'invalid SavedModel protobuf');
  }
  return result;
}

export function parseSavedModelText(text: string, file: string): SavedModelProto {
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const message: any = parseTextProto(text, protoTypes.SavedModel, file);
    const metaGraphs = (Array.isArray(message.meta_graphs) ? message.meta_graphs : []).map((m: unknown) => toMetaGraphIR(m, file));
    const version = message.saved_model_schema_version;
    return { schemaVersion: version == null ? 0 : Number(version.toString()), metaGraphs };
  } catch (error) {
    throw asModelError(file, error, 'invalid text-format SavedModel');
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/** Relative paths of the regular files under `dir` (bounded), or [] when it does not exist. */
async function listTree(dir: string, warnings: string[]): Promise<string[]> {
  if (!(await exists(dir))) return [];
  const out: string[] = [];
  const queue = [''];
  while (queue.length) {
    const rel = queue.shift()!;
    let entries;
    try {
      entries = await readdir(join(dir, rel), { withFileTypes: true });
    } catch (error) {
      warnings.push(`${join(dir, rel)}: cannot list directory (${(error as Error).message})`);
      continue;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (out.length >= LIMITS.maxDirectoryEntries) {
        warnings.push(`${dir}: more than ${LIMITS.maxDirectoryEntries} entries; list cut short`);
        return out;
      }
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) queue.push(path);
      else out.push(path);
    }
  }
  return out;
}

/** FingerprintDef as text fields; uint64 hashes are kept exact. */
export function decodeFingerprint(bytes: Uint8Array, file: string): Record<string, string> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const message: any = decodeMessage(protoTypes.FingerprintDef, bytes, file, 'invalid fingerprint.pb');
  const out: Record<string, string> = {};
  for (const field of protoTypes.FingerprintDef.fieldsArray) {
    const value = message[field.name];
    if (value == null) continue;
    if (field.name === 'version') {
      out.version = `producer ${value.producer ?? 0}, min_consumer ${value.min_consumer ?? 0}`;
    } else if (typeof value === 'object' && 'low' in value) {
      out[field.name] = BigInt.asUintN(64, (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0)).toString();
    } else out[field.name] = String(value);
  }
  return out;
}

/**
 * fingerprint.pb records Fingerprint64 of variables/variables.index at export time. A
 * different hash means the checkpoint was replaced or edited after the model was saved
 * (or fingerprint.pb is stale): worth an auditor's attention, since checkpoints flip branches.
 */
export async function checkpointFingerprintMismatch(indexFile: string, fingerprint: Record<string, string>): Promise<string | null> {
  const recorded = fingerprint.checkpoint_hash;
  if (!recorded || recorded === '0') return null;
  const actual = fingerprint64(await readFile(indexFile)).toString();
  if (actual === recorded) return null;
  return `${indexFile}: Fingerprint64 ${actual} differs from checkpoint_hash ${recorded} in fingerprint.pb: the checkpoint was changed after the SavedModel was exported (or fingerprint.pb is stale)`;
}

/** Reads a SavedModel directory. */
export async function readSavedModel(dirPath: string): Promise<ModelIR> {
  const dir = resolve(dirPath);
  const warnings: string[] = [];
  const pb = join(dir, 'saved_model.pb');
  const pbtxt = join(dir, 'saved_model.pbtxt');
  const cpb = join(dir, 'saved_model.cpb');
  let proto: SavedModelProto;
  const held = new Map<string, HeldFile>();
  // The file list's own warnings keep their place in `warnings` (after the checkpoint's).
  const listWarnings: string[] = [];
  let listing: ModelFileListing | undefined;
  if (await isFile(pb)) {
    const bytes = await readProtoFile(pb, false);
    // saved_model.pb and big checkpoint shards are hashed on another core while decoded here.
    held.set(pb, hashHeldBytes(bytes));
    listing = await startModelFileListing(dir, listWarnings, true, held);
    proto = decodeOrCancel(listing, () => decodeSavedModelBytes(bytes, pb));
  } else if (await isFile(pbtxt)) {
    const bytes = await readProtoFile(pbtxt, true);
    held.set(pbtxt, hashHeldBytes(bytes));
    listing = await startModelFileListing(dir, listWarnings, true, held);
    proto = decodeOrCancel(listing, () => parseSavedModelText(bytes.toString('utf8'), pbtxt));
  } else if (await isFile(cpb)) {
    throw new ModelError(cpb, 'chunked SavedModel (saved_model.cpb) is not supported yet');
  } else {
    throw new ModelError(dir, 'not a SavedModel: no saved_model.pb or saved_model.pbtxt');
  }
  if (await isFile(cpb)) warnings.push(`${cpb}: chunked SavedModel part ignored (not supported yet); read the non-chunked file instead`);
  if (proto.metaGraphs.length === 0) warnings.push(`${dir}: SavedModel holds no meta graph`);

  let fingerprint: Record<string, string> | null = null;
  const fingerprintFile = join(dir, 'fingerprint.pb');
  if (await isFile(fingerprintFile)) {
    try {
      fingerprint = decodeFingerprint(await readProtoFile(fingerprintFile, false), fingerprintFile);
    } catch (error) {
      warnings.push(asModelError(fingerprintFile, error, 'invalid fingerprint').message);
    }
  }

  const kerasFile = join(dir, 'keras_metadata.pb');
  const kerasMetadata = await isFile(kerasFile);
  let keras: KerasIR | undefined;
  if (kerasMetadata) {
    try {
      keras = parseKerasMetadataPb(await readFile(kerasFile), kerasFile);
    } catch (error) {
      warnings.push(asModelError(kerasFile, error, 'invalid keras_metadata.pb').message);
    }
  }

  let checkpoint: CheckpointIR | undefined;
  const variablesPrefix = join(dir, 'variables', 'variables');
  if (await isFile(`${variablesPrefix}.index`)) {
    try {
      checkpoint = await readTensorBundle(variablesPrefix);
    } catch (error) {
      warnings.push(asModelError(`${variablesPrefix}.index`, error, 'unreadable checkpoint').message);
    }
  } else if (proto.metaGraphs.some((m) => hasVariables(m))) {
    warnings.push(`${dir}: the graph has variables but variables/variables.index is missing`);
  }

  let checkpointHashMismatch: string | null = null;
  if (checkpoint && fingerprint) {
    checkpointHashMismatch = await checkpointFingerprintMismatch(`${variablesPrefix}.index`, fingerprint);
    if (checkpointHashMismatch) warnings.push(checkpointHashMismatch);
  }

  const model: ModelIR = {
    path: dir,
    format: 'saved-model',
    files: await listing.entries().then((files) => {
      warnings.push(...listWarnings);
      return files;
    }),
    metaGraphs: proto.metaGraphs,
    savedModel: {
      schemaVersion: proto.schemaVersion,
      fingerprint,
      kerasMetadata,
      assets: await listTree(join(dir, 'assets'), warnings),
      assetsExtra: await listTree(join(dir, 'assets.extra'), warnings),
    },
    warnings,
  };
  if (checkpoint) model.checkpoint = checkpoint;
  if (checkpointHashMismatch) model.savedModel!.checkpointHashMismatch = checkpointHashMismatch;
  if (keras) model.keras = keras;
  return model;
}

/** The decode's result; a failed decode stops the hashing started for the file list. */
function decodeOrCancel<T>(listing: ModelFileListing, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    listing.cancel();
    throw error;
  }
}

const VARIABLE_OPS = new Set(['VariableV2', 'Variable', 'VarHandleOp']);

function hasVariables(meta: MetaGraphIR): boolean {
  if (meta.objectGraph?.nodes.some((n) => n.kind === 'variable')) return true;
  return meta.graph.nodes.some((n) => VARIABLE_OPS.has(n.op));
}

