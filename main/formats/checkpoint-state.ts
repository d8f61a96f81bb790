// The text-format CheckpointState file named `checkpoint` that tf.train.Saver and
// tf.train.CheckpointManager write beside checkpoints: which prefix is the latest.
import { readFile, stat } from 'node:fs/promises';
import { ModelError, asModelError } from './errors.ts';
import { parseTextProto } from './pbtxt.ts';
import { protoTypes } from './protobuf.ts';

/** Real state files are a few hundred bytes; anything this large is not one. */
const MAX_STATE_BYTES = 16 * 1024 * 1024;

export interface CheckpointStateIR {
  modelCheckpointPath: string;
  allModelCheckpointPaths: string[];
}

export function parseCheckpointState(text: string, file: string): CheckpointStateIR {
  const state = parseTextProto(text, protoTypes.CheckpointState, file) as unknown as {
    model_checkpoint_path?: string;
    all_model_checkpoint_paths?: string[];
  };
  return {
    modelCheckpointPath: state.model_checkpoint_path ?? '',
    allModelCheckpointPaths: [...(state.all_model_checkpoint_paths ?? [])],
  };
}

export async function readCheckpointState(file: string): Promise<CheckpointStateIR> {
  let text: string;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_STATE_BYTES) throw new ModelError(file, `checkpoint state file of ${size} bytes is too large`);
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw asModelError(file, error, 'cannot read checkpoint state file');
  }
  return parseCheckpointState(text, file);
}
