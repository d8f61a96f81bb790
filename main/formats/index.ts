// openModel: detect what a path holds and dispatch to its reader. Every failure is a
// ModelError naming the file and the reason.
import { basename, dirname, resolve } from 'node:path';
import type { CheckpointIR, MetaGraphIR, ModelFormat, ModelIR } from '../../shared/ir.ts';
import { ModelError, asModelError } from './errors.ts';
import { detectFormat, type Detection } from './detect.ts';
import { hashHeldBytes, listModelFiles, type HeldFile } from './files.ts';
import { parseGraphDefText, decodeGraphDefBytes, readProtoFile } from './graphdef.ts';
import { decodeMetaGraphDefBytes, parseMetaGraphText } from './metagraph.ts';
import { decodeSavedModelBytes, parseSavedModelText, readSavedModel } from './savedmodel.ts';
import { openCheckpoint } from './tensorbundle.ts';
import { readKerasH5, readKerasV3 } from './keras.ts';
import { readTflite } from './tflite.ts';

export { ModelError } from './errors.ts';
export { detectFormat } from './detect.ts';

async function singleFileModel(path: string, format: ModelFormat, metaGraphs: MetaGraphIR[], warnings: string[], held?: HeldFile): Promise<ModelIR> {
  return { path, format, files: await listModelFiles(path, warnings, true, held ? new Map([[path, held]]) : undefined), metaGraphs, warnings };
}

/** A bare GraphDef wrapped as a meta graph with no tags, signatures or saver. */
export function graphOnlyMetaGraph(graph: MetaGraphIR['graph']): MetaGraphIR {
  return {
    tags: [],
    tensorflowVersion: '',
    tensorflowGitVersion: '',
    strippedDefaultAttrs: false,
    strippedOpList: [],
    signatures: [],
    graph,
    saverDef: null,
    collections: {},
    objectGraph: null,
    assetFiles: [],
  };
}

async function readGraphDefModel(path: string, text: boolean): Promise<ModelIR> {
  const bytes = await readProtoFile(path, text);
  const held = hashHeldBytes(bytes);
  const graph = text ? parseGraphDefText(bytes.toString('utf8'), path) : decodeGraphDefBytes(bytes, path);
  return singleFileModel(path, 'graph-def', [graphOnlyMetaGraph(graph)], [], held);
}

async function readMetaGraphModel(path: string, text: boolean): Promise<ModelIR> {
  const bytes = await readProtoFile(path, text);
  const held = hashHeldBytes(bytes);
  const meta = text ? parseMetaGraphText(bytes.toString('utf8'), path) : decodeMetaGraphDefBytes(bytes, path);
  return singleFileModel(path, 'meta-graph', [meta], [], held);
}

async function readSavedModelFile(path: string, text: boolean): Promise<ModelIR> {
  const bytes = await readProtoFile(path, text);
  const held = hashHeldBytes(bytes);
  const proto = text ? parseSavedModelText(bytes.toString('utf8'), path) : decodeSavedModelBytes(bytes, path);
  const warnings = [`${path}: SavedModel protobuf opened outside its directory; variables, assets and fingerprint not read`];
  const model = await singleFileModel(path, 'saved-model', proto.metaGraphs, warnings, held);
  model.savedModel = { schemaVersion: proto.schemaVersion, fingerprint: null, kerasMetadata: false, assets: [], assetsExtra: [] };
  return model;
}

/** A checkpoint opened on its own, as a model with no graph. */
async function readCheckpointModel(path: string): Promise<ModelIR> {
  const checkpoint: CheckpointIR = await openCheckpoint(path);
  const warnings: string[] = [];
  const root = checkpoint.version === 'v2' ? dirname(checkpoint.prefix) : checkpoint.prefix;
  const prefixName = basename(checkpoint.prefix);
  const files = checkpoint.version === 'v2'
    ? (await listModelFiles(root, warnings)).filter((f) => !f.path.includes('/') && (f.path.startsWith(`${prefixName}.`) || f.path === 'checkpoint'))
    : await listModelFiles(root, warnings);
  return { path: resolve(path), format: 'checkpoint', files, metaGraphs: [], checkpoint, warnings };
}

async function dispatch(detection: Detection): Promise<ModelIR> {
  switch (detection.kind) {
    case 'saved-model': return readSavedModel(detection.path);
    case 'saved-model-file': return readSavedModelFile(detection.path, detection.text);
    case 'graph-def': return readGraphDefModel(detection.path, detection.text);
    case 'meta-graph': return readMetaGraphModel(detection.path, detection.text);
    case 'checkpoint': return readCheckpointModel(detection.path);
    case 'keras-v3': return readKerasV3(detection.path);
    case 'keras-h5': return readKerasH5(detection.path);
    case 'tflite': return readTflite(detection.path);
  }
}

/** Opens whatever `path` is: a SavedModel directory, a model file, or a checkpoint prefix. */
export async function openModel(path: string): Promise<ModelIR> {
  const absolute = resolve(path);
  try {
    return await dispatch(await detectFormat(absolute));
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw asModelError(absolute, error, 'cannot read model');
  }
}
