// Attack and benign SavedModels built with our own writer for the analysis tests: each is
// written to a temp dir with its own checkpoint plus an alternative checkpoint, opened with the
// real readers and scanned, so the tests exercise the whole path a user's model takes.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { FunctionIR, GraphIR, NodeIR, SignatureIR, SavedObjectGraphIR, SaverDefIR } from '../../../shared/ir.ts';
import type { ScanReport, Finding } from '../../../shared/findings.ts';
import { attrFunc, attrList, attrS, attrType, constNode, graph, metaGraph, node, tensorInfo } from '../../../main/writer/graph.ts';
import { writeSavedModelDir } from '../../../main/writer/savedmodel.ts';
import { writeTensorBundle, type TensorToWrite } from '../../../main/writer/tensorbundle.ts';
import { openModel } from '../../../main/formats/index.ts';
import { openCheckpoint } from '../../../main/formats/tensorbundle.ts';
import { scanModel } from '../../../main/analysis/scan.ts';
import type { OpPolicy } from '../../../main/analysis/policy.ts';
import { tempDir } from '../../helpers/corpus.ts';

export { attrFunc, attrList, attrS, attrType, constNode, graph, node };

export interface BuiltModel {
  nodes: NodeIR[];
  library?: FunctionIR[];
  signatures?: SignatureIR[];
  saverDef?: SaverDefIR | null;
  objectGraph?: SavedObjectGraphIR | null;
  /** The model's own checkpoint and an alternative one. */
  own: TensorToWrite[];
  alt?: TensorToWrite[];
  policy?: OpPolicy;
  /** `--tf-runtime`: the TensorFlow release the known advisories are judged for. */
  tfRuntime?: string;
}

export function signature(key: string, outputs: Record<string, string>, inputs: Record<string, string> = {}): SignatureIR {
  return {
    key,
    methodName: 'tensorflow/serving/predict',
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tensorInfo(v, 'DT_FLOAT')])),
    outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, tensorInfo(v, 'DT_FLOAT')])),
  };
}

/** A function with (name, dtype) args and outputs. */
export function fn(name: string, inputs: [string, string][], outputs: [string, string][], nodes: NodeIR[], ret: Record<string, string>): FunctionIR {
  return {
    name,
    signature: { name, inputArgs: inputs.map(([n, type]) => ({ name: n, type })), outputArgs: outputs.map(([n, type]) => ({ name: n, type })), attrs: [], isStateful: true },
    nodes,
    ret,
    controlRet: {},
    attr: {},
  };
}

export const scalar = (key: string, dtype: string, value: number | boolean | string): TensorToWrite => ({
  key,
  dtype,
  shape: [],
  values: (typeof value === 'string' ? [value] : typeof value === 'boolean' ? [value] : [value]) as TensorToWrite['values'],
});

export async function buildAndScan(model: BuiltModel): Promise<ScanReport> {
  const dir = join(tempDir('tfaudit-analysis-'), 'model');
  const g: GraphIR = graph(model.nodes, model.library ?? []);
  await writeSavedModelDir(dir, {
    metaGraphs: [metaGraph(g, { signatures: model.signatures ?? [], saverDef: model.saverDef ?? null, objectGraph: model.objectGraph ?? null })],
    variables: model.own,
  });
  const opened = await openModel(dir);
  const checkpoints = [{ label: 'own', checkpoint: opened.checkpoint! }];
  if (model.alt) {
    mkdirSync(join(dir, 'alt'), { recursive: true });
    await writeTensorBundle(join(dir, 'alt', 'ckpt'), model.alt);
    checkpoints.push({ label: 'alt', checkpoint: await openCheckpoint(join(dir, 'alt', 'ckpt')) });
  }
  return scanModel(opened, { checkpoints, toolVersion: 'test', policy: model.policy ?? null, tfRuntime: model.tfRuntime ?? null });
}

export function states(f: Finding): Record<string, string> {
  return Object.fromEntries(f.trigger.activation.map((a) => [a.checkpoint, a.state]));
}

export const varHandle = (name: string, dtype: string) => node(name, 'VarHandleOp', [], { dtype: attrType(dtype), shared_name: attrS(name), shape: { type: 'shape', shape: { unknownRank: false, dims: [] } } });
export const call = (name: string, f: string, inputs: string[]) => node(name, 'StatefulPartitionedCall', inputs, { f: attrFunc(f) });
