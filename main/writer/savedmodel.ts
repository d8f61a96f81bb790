// Writes a SavedModel directory: saved_model.pb plus, when variables are given, the checkpoint
// variables/variables.{index,data-00000-of-00001} (written by the tensor-bundle writer).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetaGraphIR } from '../../shared/ir.ts';
import { encodeSavedModel } from './graph.ts';
import { writeTensorBundle, type TensorToWrite, type WriteBundleOptions } from './tensorbundle.ts';

export interface SavedModelToWrite {
  metaGraphs: MetaGraphIR[];
  variables?: TensorToWrite[];
  /** Extra files relative to the directory (e.g. `assets/vocab.txt`). */
  files?: Record<string, string | Uint8Array>;
  schemaVersion?: number;
  bundle?: WriteBundleOptions;
}

export async function writeSavedModelDir(dir: string, model: SavedModelToWrite): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'saved_model.pb'), encodeSavedModel(model.metaGraphs, model.schemaVersion ?? 1));
  if (model.variables) {
    await mkdir(join(dir, 'variables'), { recursive: true });
    await writeTensorBundle(join(dir, 'variables', 'variables'), model.variables, model.bundle ?? {});
  }
  for (const [relative, content] of Object.entries(model.files ?? {})) {
    const target = join(dir, relative);
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, content);
  }
}
