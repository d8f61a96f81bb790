// Which weights a Keras weights file CHANGES, against real Keras 3.15 files: one python process
// writes a .keras model, a legacy .h5 of it, its save_weights file, and copies edited with h5py
// (dense kernel: one element +0.5; the second Dense's bias: all +2; BatchNormalization's moving
// variance: one NaN; the legacy .h5's head bias: all -0.25). The coverage must report exactly the
// edited datasets as changed, every other matched weight as unchanged, and a weight above the
// comparison limit as not compared (never unchanged). Files are cached in the temp dir by hash.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyse, kerasCoverage } from '../../../main/worker/analyse.ts';
import { openModel } from '../../../main/formats/index.ts';
import { coverageSummary } from '../../../shared/report.ts';
import type { ModelIR } from '../../../shared/ir.ts';
import { TF_PYTHON as PYTHON, skipWithoutTf as skip } from '../../helpers/tensorflow.ts';

const GENERATE = String.raw`import json, os, sys, shutil
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('KERAS_BACKEND', 'tensorflow')
import numpy as np, h5py, keras
out = sys.argv[1]
P = lambda *a: os.path.join(out, *a)
keras.utils.set_random_seed(7)
m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name='dense'), keras.layers.Dense(2, name='head'), keras.layers.BatchNormalization(name='bn')])
m.save(P('model.keras'))
m.save(P('legacy.h5'))
m.save_weights(P('same.weights.h5'))
def datasets(f):
    found = []
    f.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
    return found
def edit(src, dst, edits):
    shutil.copy(src, dst)
    changed = []
    with h5py.File(dst, 'r+') as f:
        names = datasets(f)
        for pattern, fn in edits:
            name = next(n for n in names if pattern(n))
            v = f[name][...]
            f[name][...] = fn(v)
            changed.append(name)
    return changed
def one(v, d):
    v = v.copy(); v.flat[0] += d; return v
def nan_one(v):
    v = v.copy(); v.flat[1] = np.nan; return v
result = {}
# Keras 3 layout: layers/<name>/vars/<i>; dense kernel one element +0.5, head bias all +2, bn moving_variance one NaN.
result['changed'] = edit(P('same.weights.h5'), P('changed.weights.h5'), [
    (lambda n: n == 'layers/dense/vars/0', lambda v: one(v, 0.5)),
    (lambda n: n == 'layers/dense_1/vars/1', lambda v: v + 2.0),
    (lambda n: n == 'layers/batch_normalization/vars/3', nan_one),
])
# Legacy HDF5 model used as its own weights file, with the head bias changed.
result['legacy'] = edit(P('legacy.h5'), P('legacy_changed.h5'), [
    (lambda n: n.startswith('model_weights/head/') and n.split('/')[-1] in ('bias', 'bias:0'), lambda v: v - 0.25),
])
result['all'] = datasets(h5py.File(P('same.weights.h5'), 'r'))
result['legacy_all'] = datasets(h5py.File(P('legacy.h5'), 'r'))
print(json.dumps(result))
`;

type Generated = { changed: string[]; legacy: string[]; all: string[]; legacy_all: string[] };
let dir = '';
let made: Generated;
let v3: ModelIR;
let legacy: ModelIR;
const P = (...parts: string[]) => join(dir, ...parts);

before(async () => {
  if (skip) return;
  dir = join(tmpdir(), `tfaudit-keras-values-${createHash('sha256').update(GENERATE).digest('hex').slice(0, 16)}`);
  const resultFile = join(dir, 'generated.json');
  if (!existsSync(resultFile)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const gen = spawnSync(PYTHON, ['-c', GENERATE, dir], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(gen.status, 0, gen.stderr);
    writeFileSync(resultFile, gen.stdout.trim().split('\n').pop()!);
  }
  made = JSON.parse(readFileSync(resultFile, 'utf8')) as Generated;
  v3 = await openModel(P('model.keras'));
  legacy = await openModel(P('legacy.h5'));
});

test('a .weights.h5 edited in three weights: exactly those are changed, the other five unchanged', { skip }, async () => {
  const c = await kerasCoverage(v3, P('changed.weights.h5'));
  assert.equal(`${c.matched}/${c.total}`, '8/8');
  const v = c.values!;
  assert.deepEqual([v.changed, v.unchanged, v.notCompared], [3, 5, 0]);
  assert.deepEqual(new Set(v.changedWeights.map((w) => w.checkpointKey)), new Set(made.changed));
  const by = Object.fromEntries(v.changedWeights.map((w) => [w.variable, w]));
  assert.deepEqual([by['layers/dense/vars/0']!.elementsChanged, by['layers/dense/vars/0']!.elements, by['layers/dense/vars/0']!.maxAbsDiff], [1, 12, 0.5]);
  assert.deepEqual([by['layers/dense_1/vars/1']!.elementsChanged, by['layers/dense_1/vars/1']!.maxAbsDiff], [2, 2]);
  // NaN against a number: changed, with no finite difference to show.
  assert.deepEqual([by['layers/batch_normalization/vars/3']!.elementsChanged, by['layers/batch_normalization/vars/3']!.maxAbsDiff], [1, null]);
  const line = coverageSummary({ path: P('changed.weights.h5'), coverage: c });
  assert.match(line, /3 changed, 5 unchanged, 0 not compared; changed: layers\/batch_normalization\/vars\/3 \(1 of 2 values, max \|Δ\| non-finite\), layers\/dense\/vars\/0 \(1 of 12 values, max \|Δ\| 0\.5\), layers\/dense_1\/vars\/1 \(2 of 2 values, max \|Δ\| 2\)/);
});

test('the model\'s own save_weights file changes nothing', { skip }, async () => {
  const v = (await kerasCoverage(v3, P('same.weights.h5'))).values!;
  assert.deepEqual([v.changed, v.unchanged, v.notCompared], [0, 8, 0]);
});

test('a weight above the per-weight limit is not compared (never unchanged), and the total budget is honoured', { skip }, async () => {
  const small = (await kerasCoverage(v3, P('changed.weights.h5'), { maxElementsPerDataset: 10 })).values!;
  // dense/vars/0 (3x4) and dense_1/vars/0 (4x2 = 8 fits) : only the 12-element kernel is above 10.
  assert.deepEqual([small.changed, small.unchanged, small.notCompared], [2, 5, 1]);
  assert.deepEqual(small.notComparedWeights.map((w) => w.variable), ['layers/dense/vars/0']);
  assert.match(small.notComparedWeights[0]!.reason, /12 elements, above the per-weight comparison limit of 10/);
  assert.equal(small.limits.maxElementsPerWeight, 10);
  const budget = (await kerasCoverage(v3, P('changed.weights.h5'), { maxTotalElements: 8 })).values!;
  // In model order the four 2-element BatchNormalization weights use the budget up; the rest is not compared.
  assert.deepEqual([budget.changed, budget.unchanged, budget.notCompared], [1, 3, 4]);
  assert.deepEqual(budget.notComparedWeights.map((w) => w.variable), ['layers/dense/vars/0', 'layers/dense/vars/1', 'layers/dense_1/vars/0', 'layers/dense_1/vars/1']);
  assert.ok(budget.notComparedWeights.every((w) => /above what remains of the total comparison budget of 8 elements/.test(w.reason)), JSON.stringify(budget.notComparedWeights));
  assert.match(coverageSummary({ path: 'x', coverage: { ...(await kerasCoverage(v3, P('changed.weights.h5'), { maxTotalElements: 8 })) } }), /4 not compared; .*not compared \(their effect is unknown\): layers\/dense\/vars\/0: 12 elements/);
});

test('a legacy .h5 model against an edited copy of itself: only the head bias is changed', { skip }, async () => {
  const c = await kerasCoverage(legacy, P('legacy_changed.h5'));
  assert.equal(`${c.matched}/${c.total}`, '8/8');
  const v = c.values!;
  assert.deepEqual([v.changed, v.unchanged, v.notCompared], [1, 7, 0]);
  assert.deepEqual(v.changedWeights.map((w) => [w.checkpointKey, w.elementsChanged, w.maxAbsDiff]), [[made.legacy[0], 2, 0.25]]);
});

test('analyse: the JSON report carries the value comparison of a Keras weights checkpoint', { skip }, async () => {
  const r = await analyse({ model: P('model.keras'), checkpoints: [P('changed.weights.h5')] });
  const c = r.report.checkpoints.find((e) => e.path === P('changed.weights.h5'))!.coverage!;
  assert.equal(c.method, 'keras-weights');
  assert.equal(c.values?.changed, 3);
  // Round-trips through JSON unchanged (null for the non-finite difference).
  assert.deepEqual(JSON.parse(JSON.stringify(c.values)), c.values);
});

test('a truncated weights file is an integrity problem, not a comparison', { skip }, async () => {
  const bytes = readFileSync(P('changed.weights.h5'));
  const cut = P('truncated.weights.h5');
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 3)));
  const c = await kerasCoverage(v3, cut);
  assert.match(c.integrity ?? '', /truncated\.weights\.h5: malformed HDF5/);
  assert.equal(c.values, undefined);
});

test('fuzz: byte-flipped copies of the weights file end in an integrity note or a full count, never a crash or a hang (bounded run)', { skip, timeout: 120_000 }, async () => {
  const bytes = readFileSync(P('changed.weights.h5'));
  const mutant = P('mutant.weights.h5');
  let seed = 11;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  const outcomes = new Set<string>();
  for (let round = 0; round < 16; round++) {
    const copy = Buffer.from(bytes);
    for (let i = 0; i < 6; i++) copy[next() % copy.length] ^= 1 + (next() % 255);
    writeFileSync(mutant, copy);
    const c = await kerasCoverage(v3, mutant);
    if (c.integrity) outcomes.add('integrity');
    else {
      const v = c.values!;
      assert.equal(v.changed + v.unchanged + v.notCompared, c.matched, JSON.stringify(c));
      outcomes.add(v.notCompared ? 'not compared' : 'compared');
    }
  }
  // The fixed seed reaches every path: unreadable structure, unreadable values, and values compared.
  assert.deepEqual([...outcomes].sort(), ['compared', 'integrity', 'not compared']);
});
