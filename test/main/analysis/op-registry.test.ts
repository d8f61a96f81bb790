// Proves the op registry loader on main/analysis/op-registry.json (TensorFlow 2.21) and the
// historic-op table, and that every op of the benign real corpus (../shared/corpus/real,
// FACTS.json op sets) is a TensorFlow op, except TensorFlow Text's, which addons.ts names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  HISTORIC_OPS,
  indexRegistryText,
  isHistoricOp,
  isTensorFlowOp,
  registryOpDef,
  registryOpNames,
  registryVersion,
} from '../../../main/analysis/op-registry.ts';
import { addonLibrary } from '../../../main/analysis/addons.ts';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { opRegistryOnePerLine } from '../../../scripts/build.mjs';

test('registry: TensorFlow 2.21 with its 1908 ops', () => {
  assert.equal(registryVersion(), '2.21.0');
  assert.equal(registryOpNames().length, 1908);
});

test('registryOpDef gives exact argument names and statefulness', () => {
  const readFile = registryOpDef('ReadFile');
  assert.ok(readFile);
  assert.deepEqual(readFile.inputArgs, [{ name: 'filename', type: 'DT_STRING' }]);
  assert.equal(readFile.isStateful, false);
  const restore = registryOpDef('RestoreV2');
  assert.ok(restore);
  assert.deepEqual(restore.inputArgs.map((a) => a.name), ['prefix', 'tensor_names', 'shape_and_slices']);
  assert.equal(restore.outputArgs[0].typeListAttr, 'dtypes');
  assert.equal(restore.isStateful, true);
  const printV2 = registryOpDef('PrintV2');
  assert.ok(printV2);
  assert.ok(printV2.attrs.some((a) => a.name === 'output_stream' && a.type === 'string'));
  const variable = registryOpDef('VariableV2');
  assert.ok(variable);
  assert.equal(variable.outputArgs[0].isRef, true);
  assert.equal(registryOpDef('ZzCustomExfil'), null);
  assert.equal(registryOpDef('toString'), null, 'object prototype names are not ops');
  assert.equal(registryOpDef('ReadFile'), readFile, 'parsed once, cached');
});

test('old ops still in use are known: Variable, RestoreSlice, SaveSlices, Save, Restore', () => {
  for (const op of ['Variable', 'VariableV2', 'RestoreSlice', 'SaveSlices', 'Save', 'Restore', 'TemporaryVariable']) {
    assert.ok(isTensorFlowOp(op), op);
    assert.equal(isHistoricOp(op), false, `${op} is in the 2.21 registry itself`);
  }
  assert.equal(isTensorFlowOp('__proto__'), false);
  assert.equal(isTensorFlowOp(''), false);
});

test('historic ops: absent from the 2.21 registry, each with its origin and a definition', () => {
  const registry = new Set(registryOpNames());
  for (const [op, def] of Object.entries(HISTORIC_OPS)) {
    assert.equal(registry.has(op), false, `${op} is in the registry: drop it from HISTORIC_OPS`);
    assert.ok(isTensorFlowOp(op) && isHistoricOp(op), op);
    assert.match(def.origin, /tensorflow\//, op);
    const ir = registryOpDef(op);
    assert.ok(ir);
    assert.equal(ir.inputArgs.length, def.in.length);
  }
  assert.deepEqual(registryOpDef('Rpc')?.inputArgs.map((a) => a.name), ['address', 'method', 'request']);
  assert.deepEqual(registryOpDef('InitializeTRTResource')?.inputArgs.map((a) => a.name), ['resource_handle', 'filename']);
});

interface Facts {
  [model: string]: unknown;
}

function opSets(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) opSets(item, into);
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      if ((key === 'graph_op_types' || key === 'function_op_types' || key === 'stripped_op_list') && Array.isArray(child)) {
        for (const op of child) if (typeof op === 'string') into.add(op);
      } else {
        opSets(child, into);
      }
    }
  }
}

test('every op of the benign real corpus is a TensorFlow op, except TF-Text ops that addons.ts names', { skip: skipWithoutCorpus }, () => {
  const facts = JSON.parse(readFileSync(real('FACTS.json'), 'utf8')) as Facts;
  const unknown = new Map<string, string[]>();
  let models = 0;
  for (const [model, entry] of Object.entries(facts)) {
    if (model.startsWith('tabuse_')) continue;
    models++;
    const ops = new Set<string>();
    opSets(entry, ops);
    for (const op of ops) if (!isTensorFlowOp(op)) unknown.set(op, [...(unknown.get(op) ?? []), model]);
  }
  assert.ok(models > 80, `only ${models} benign models in FACTS.json`);
  // TRTEngineOp (tf_trt_tftrt_2.0_saved_model_sharded) is known through the historic table.
  assert.ok(isTensorFlowOp('TRTEngineOp'));
  assert.ok(unknown.size > 0, 'the TF-Text regression model uses TF-Text ops');
  for (const [op, models] of unknown) {
    assert.deepEqual(models, ['serving_tf_text_regression_2020'], `${op} unknown in ${models.join(', ')}`);
    assert.equal(addonLibrary(op)?.library, 'TensorFlow Text', op);
  }
});

test('every op the tabuse attack models use is a TensorFlow op (the attacks use TensorFlow itself)', { skip: skipWithoutCorpus }, () => {
  const facts = JSON.parse(readFileSync(real('FACTS.json'), 'utf8')) as Facts;
  const tabuse = Object.keys(facts).filter((m) => m.startsWith('tabuse_'));
  assert.equal(tabuse.length, 19);
  for (const model of tabuse) {
    const ops = new Set<string>();
    opSets(facts[model], ops);
    for (const op of ops) assert.ok(isTensorFlowOp(op), `${model}: ${op}`);
  }
});

test('the compiled CLI\'s one-op-per-line registry (scripts/build.mjs) holds the same ops, each parsed on first use', () => {
  const text = readFileSync(new URL('../../../main/analysis/op-registry.json', import.meta.url), 'utf8');
  const whole = indexRegistryText(text);
  const laidOut = opRegistryOnePerLine(text);
  assert.deepEqual(JSON.parse(laidOut), JSON.parse(text), 'still the same JSON');
  const indexed = indexRegistryText(laidOut);
  assert.equal(indexed.tensorflowVersion, '2.21.0');
  assert.deepEqual([...indexed.ops.keys()], [...whole.ops.keys()]);
  assert.equal(typeof indexed.ops.get('WriteFile'), 'string', 'entries stay text until asked for');
  for (const [name, entry] of whole.ops) assert.deepEqual(JSON.parse(indexed.ops.get(name) as string), entry, name);
  assert.throws(() => indexRegistryText(laidOut.replace('\n"Abs":', '\nAbs:')), /line \d+ is not one "name":\{…\} entry/);
});
