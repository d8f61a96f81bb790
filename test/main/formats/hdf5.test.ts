// HDF5 wrapper over jsfive: the corpus Keras .h5 files (root attributes and datasets as FACTS.json
// lists them), the weights file inside binja's .keras, and malformed input (not HDF5, truncated,
// corrupted offsets, hard-link cycles) ending in ModelErrors that name the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ModelError } from '../../../main/formats/errors.ts';
import { isHdf5, readHdf5 } from '../../../main/formats/hdf5.ts';
import { REAL, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

interface FactH5 { kind: string; keras_version?: string; backend?: string; num_datasets: number; datasets: [string, number[], string][] }

function h5Facts(): [string, FactH5][] {
  const facts = JSON.parse(readFileSync(join(REAL, 'FACTS.json'), 'utf8')) as Record<string, { folder: string; files: Record<string, FactH5> }>;
  const out: [string, FactH5][] = [];
  for (const entry of Object.values(facts)) for (const [file, f] of Object.entries(entry.files)) if (f.kind === 'h5') out.push([join(entry.folder, file), f]);
  return out;
}

test('corpus Keras HDF5 files: root attributes and every dataset (path, shape, dtype) as FACTS.json lists them', { skip: skipWithoutCorpus }, async () => {
  const files = h5Facts();
  assert.ok(files.length >= 8);
  for (const [file, fact] of files) {
    const summary = await readHdf5(new Uint8Array(readFileSync(real(file))), file);
    if (fact.keras_version) assert.equal(summary.rootAttrs.keras_version, fact.keras_version, file);
    if (fact.backend) assert.equal(summary.rootAttrs.backend, fact.backend, file);
    assert.equal(summary.datasets.length, fact.num_datasets, file);
    // FACTS.json lists a sample of the datasets when there are many.
    const datasets = new Map(summary.datasets.map((d) => [d.path, [d.path, d.shape, d.dtype]]));
    for (const expected of fact.datasets) assert.deepEqual(datasets.get(expected[0]), expected, `${file} ${expected[0]}`);
  }
});

test('dl4j_keras2_simple_lstm_tf weights-only file: layer_names attribute, no model_config', { skip: skipWithoutCorpus }, async () => {
  const summary = await readHdf5(new Uint8Array(readFileSync(real('dl4j_keras2_simple_lstm_tf', 'simple_lstm_tf_keras_2_weights.h5'))), 'w.h5');
  assert.deepEqual(summary.rootAttrs.layer_names, ['lstm_1', 'dense_1']);
  assert.equal(summary.rootAttrs.model_config, undefined);
  assert.equal(summary.groupAttrs['lstm_1'] !== undefined, true);
});

test('not HDF5, truncated and corrupted files end in ModelError naming the file', { skip: skipWithoutCorpus }, async () => {
  const good = new Uint8Array(readFileSync(real('dl4j_tfkeras_mlp_0', 'mlp_0.h5')));
  assert.ok(isHdf5(good));
  const small = { maxMillis: 4000, maxHeapMb: 128 };
  const expectError = async (bytes: Uint8Array, pattern: RegExp, label: string) =>
    assert.rejects(readHdf5(bytes, 'broken.h5', small), (e: unknown) => e instanceof ModelError && e.file === 'broken.h5' && pattern.test(e.reason), label);
  await expectError(new TextEncoder().encode('{"not": "hdf5"}'), /not an HDF5 file/, 'json');
  await expectError(good.subarray(0, 50), /shorter than a superblock/, 'tiny');
  for (const cut of [200, 800, 2000]) await expectError(good.subarray(0, cut), /malformed HDF5/, `cut ${cut}`);
  const badVersion = good.slice();
  badVersion[8] = 9;
  await expectError(badVersion, /malformed HDF5: unsupported superblock version/, 'superblock version');
});

test('wild addresses in the object headers: error, parse, or a stopped worker, never a crash or a hang', { skip: skipWithoutCorpus }, async () => {
  const good = new Uint8Array(readFileSync(real('dl4j_tfkeras_mlp_0', 'mlp_0.h5')));
  const limits = { maxMillis: 3000, maxHeapMb: 128 };
  const outcomes = new Set<string>();
  // Positions inside the superblock, root object header and first B-tree / heap (mlp_0.h5 layout).
  for (const pos of [24, 32, 40, 64, 96, 136, 200, 264, 328, 400, 520, 680, 800, 1000, 1200, 1400]) {
    const copy = good.slice();
    new DataView(copy.buffer).setUint32(pos, 0x7fff0000, true);
    try {
      await readHdf5(copy, 'broken.h5', limits);
      outcomes.add('parsed');
    } catch (error) {
      assert.ok(error instanceof ModelError && error.file === 'broken.h5', `word ${pos}: ${String(error)}`);
      outcomes.add('error');
    }
  }
  assert.ok(outcomes.has('error'));
});

const python = '/opt/tfvenv/bin/python';
const haveH5py = spawnSync(python, ['-c', 'import h5py'], { timeout: 20_000 }).status === 0;

test('a hard-link cycle (group linking to its parent) is walked once; limits stop huge trees', { skip: haveH5py ? false : 'h5py in /opt/tfvenv is needed to write the HDF5 test file' }, async () => {
  const dir = tempDir();
  const file = join(dir, 'cycle.h5');
  const script = `import h5py, numpy as np\nf=h5py.File(${JSON.stringify(file)},'w')\ng=f.create_group('a')\ng['loop']=f\ng['child']=g\nfor i in range(30):\n    f.create_dataset('d%d'%i, data=np.zeros((2,3),dtype='f4'))\nf.attrs['keras_version']='2.12.0'\nf.close()`;
  const out = spawnSync(python, ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(out.status, 0, out.stderr);
  const bytes = new Uint8Array(readFileSync(file));
  const summary = await readHdf5(bytes, file);
  assert.equal(summary.datasets.length, 30);
  assert.ok(summary.datasets.every((d) => d.dtype === 'float32' && d.shape.join() === '2,3'));
  assert.equal(summary.rootAttrs.keras_version, '2.12.0');
  await assert.rejects(readHdf5(bytes, file, { maxObjects: 10 }), (e: unknown) => e instanceof ModelError && /more than 10 objects/.test(e.reason));
});
