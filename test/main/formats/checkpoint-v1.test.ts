// V1 checkpoints (TensorSliceWriter SSTables): serving_bad_half_plus_two/00000123/export and
// serving_half_plus_two_tf1_v1ckpt/00000123/export (Variable=0.5, Variable_1=2.0, PROVENANCE.md
// fact 5: the data TensorProto has no dtype, it comes from the meta), plus hand-built hostile ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TensorIR } from '../../../shared/ir.ts';
import { isV1Checkpoint, readV1Checkpoint, sliceKeyName } from '../../../main/formats/checkpoint-v1.ts';
import { openCheckpoint, readCheckpointTensor } from '../../../main/formats/tensorbundle.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { protoTypes } from '../../../main/formats/protobuf.ts';
import { buildTable } from '../../../main/writer/tensorbundle.ts';
import { copyToTemp, real, REAL, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { TF_PYTHON, skipWithoutTf } from '../../helpers/tensorflow.ts';

const V1_FILES = [
  ['serving_bad_half_plus_two', '00000123/export'],
  ['serving_half_plus_two_tf1_v1ckpt', '00000123/export'],
] as const;

function numbers(t: TensorIR): number[] {
  assert.equal(t.values.kind, 'number');
  return t.values.values as number[];
}

test('both V1 checkpoints in the corpus: meta from FACTS.json, Variable=0.5, Variable_1=2.0', { skip: skipWithoutCorpus }, async () => {
  const facts = JSON.parse(readFileSync(join(REAL, 'FACTS.json'), 'utf8'));
  for (const [folder, file] of V1_FILES) {
    const path = real(folder, file);
    const fact = facts[folder].files[file];
    assert.equal(fact.kind, 'v1_checkpoint');
    assert.equal(await isV1Checkpoint(path), true);
    const ckpt = await openCheckpoint(path);
    assert.equal(ckpt.version, 'v1');
    assert.equal(ckpt.prefix, path);
    assert.deepEqual(
      ckpt.entries.map((e) => [e.key, e.dtype, e.shape, e.slices ?? 1]),
      fact.meta.map((m: { name: string; dtype: string; shape: number[]; num_slices: number }) => [m.name, m.dtype, m.shape, m.num_slices]),
    );
    for (const d of fact.data as { name: string; values: number[] }[]) {
      assert.deepEqual(numbers(await readCheckpointTensor(ckpt, d.name)), d.values);
      assert.deepEqual(numbers(ckpt.preview[d.name]!), d.values);
      assert.equal(ckpt.preview[d.name]!.dtype, 'DT_FLOAT', 'dtype taken from the meta, not the DT_INVALID data proto');
    }
  }
});

test('serving_bad_half_plus_two/00000123: the state file\'s absolute /tmp path is found beside it', { skip: skipWithoutCorpus }, async () => {
  const dir = real('serving_bad_half_plus_two', '00000123');
  const ckpt = await openCheckpoint(dir);
  assert.equal(ckpt.version, 'v1');
  assert.equal(ckpt.prefix, join(dir, 'export'));
  assert.deepEqual(numbers(await readCheckpointTensor(ckpt, 'Variable_1')), [2]);
});

test('a directory holding only a V1 checkpoint (serving_half_plus_two_tf1_v1ckpt/00000123) opens it by content', { skip: skipWithoutCorpus }, async () => {
  const dir = real('serving_half_plus_two_tf1_v1ckpt', '00000123');
  const ckpt = await openCheckpoint(dir);
  assert.equal(ckpt.version, 'v1');
  assert.equal(ckpt.prefix, join(dir, 'export'));
});

test('the V1 table is not mistaken for a bundle index, and a bundle index is not a V1 checkpoint', { skip: skipWithoutCorpus }, async () => {
  assert.equal(await isV1Checkpoint(real('tf_bundle_old_string_tensors', 'foo.index')), false);
  assert.equal(await isV1Checkpoint(real('tf_cc_half_plus_two_v2', '00000123', 'saved_model.pb')), false);
  const copy = copyToTemp(real('serving_bad_half_plus_two', '00000123', 'export'));
  const bytes = readFileSync(copy);
  bytes[20] ^= 0x10;
  writeFileSync(copy, bytes);
  await assert.rejects(readV1Checkpoint(copy), (e: unknown) => e instanceof ModelError && e.file === copy && /crc32c mismatch/.test(e.reason));
});

test('sliceKeyName decodes OrderedCode names with 00 FF / FF 00 escapes', () => {
  assert.equal(sliceKeyName(Uint8Array.of(0, 0x61, 0x62, 0, 1, 0)), 'ab');
  assert.equal(sliceKeyName(Uint8Array.of(0, 0x61, 0, 0xff, 0x62, 0, 1)), 'a\u0000b');
  assert.equal(sliceKeyName(Uint8Array.of(0, 0x61, 0, 0x05)), null);
  assert.equal(sliceKeyName(Uint8Array.of(0x61, 0, 1)), null);
});

// A V1 table written here: meta for `tensors`, data entries as given.
function v1Table(metas: Record<string, unknown>[], data: { name: string; value: Record<string, unknown> }[]): Uint8Array {
  const enc = new TextEncoder();
  // The name part of an OrderedCode slice key; a counter stands in for the encoded extents.
  const key = (name: string): Uint8Array => Uint8Array.from([0, ...enc.encode(name), 0, 1, 1]);
  const rows: { key: Uint8Array; value: Uint8Array }[] = [{ key: new Uint8Array(0), value: protoTypes.SavedTensorSlices.encode(protoTypes.SavedTensorSlices.fromObject({ meta: { tensor: metas } })).finish() }];
  const sorted = [...data].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const [i, d] of sorted.entries()) rows.push({ key: Uint8Array.from([...key(d.name), i]), value: protoTypes.SavedTensorSlices.encode(protoTypes.SavedTensorSlices.fromObject({ data: d.value })).finish() });
  return buildTable(rows);
}

test('V1 built here: int64 and string tensors typed by the meta; hostile layouts end in ModelErrors', async () => {
  const dir = tempDir();
  const path = join(dir, 'model.ckpt');
  writeFileSync(path, v1Table(
    [
      { name: 'steps', type: 9, shape: { dim: [{ size: 2 }] }, slice: [{}] },
      { name: 'names', type: 7, shape: { dim: [{ size: 1 }] }, slice: [{}] },
      { name: 'parted', type: 1, shape: { dim: [{ size: 4 }] }, slice: [{ extent: [{ start: 0, length: 2 }] }, { extent: [{ start: 2, length: 2 }] }] },
      { name: 'missing', type: 1, shape: { dim: [] }, slice: [{}] },
    ],
    [
      { name: 'steps', value: { name: 'steps', slice: {}, data: { int64_val: [5, 2 ** 40] } } },
      { name: 'names', value: { name: 'names', slice: {}, data: { string_val: [Buffer.from('tok')] } } },
      { name: 'parted', value: { name: 'parted', slice: { extent: [{ start: 2, length: 2 }] }, data: { float_val: [3, 4] } } },
      { name: 'parted', value: { name: 'parted', slice: { extent: [{ start: 0, length: 2 }] }, data: { float_val: [1, 2] } } },
    ],
  ));
  const ckpt = await openCheckpoint(path);
  assert.equal(ckpt.version, 'v1');
  assert.deepEqual(numbers(await readCheckpointTensor(ckpt, 'steps')), [5, 2 ** 40]);
  const names = await readCheckpointTensor(ckpt, 'names');
  assert.equal(names.dtype, 'DT_STRING');
  assert.deepEqual(names.values, { kind: 'string', values: [new Uint8Array(Buffer.from('tok'))] });
  assert.equal(ckpt.entries.find((e) => e.key === 'parted')!.slices, 2);
  assert.deepEqual(numbers(await readCheckpointTensor(ckpt, 'parted')), [1, 2, 3, 4], 'slices placed by their extents');
  assert.deepEqual(numbers(ckpt.preview['parted']!), [1, 2, 3, 4]);
  await assert.rejects(readCheckpointTensor(ckpt, 'missing'), (e: unknown) => e instanceof ModelError && e.file === path && /no data for "missing"/.test(e.reason));

  writeFileSync(path, v1Table([{ name: 'a', type: 1, shape: { dim: [{ size: 3 }] }, slice: [{}] }], [{ name: 'a', value: { name: 'a', data: { float_val: [1, 2] } } }]));
  await assert.rejects(openCheckpoint(path), (e: unknown) => e instanceof ModelError && /"a" has 2 values for 3 elements/.test(e.reason));
  writeFileSync(path, v1Table([{ name: 'a', type: 1, slice: [{}] }], [{ name: 'b', value: { name: 'b', data: { float_val: [1] } } }]));
  await assert.rejects(openCheckpoint(path), (e: unknown) => e instanceof ModelError && /data for "b", which the meta does not list/.test(e.reason));
});


test('a V1 checkpoint written by TensorFlow (Saver write_version=V1) with a partitioned variable', { skip: skipWithoutTf }, async () => {
  const dir = tempDir();
  const script = String.raw`
import sys, os
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
import tensorflow as tf
tf.compat.v1.disable_eager_execution()
with tf.compat.v1.variable_scope('rows', partitioner=tf.compat.v1.fixed_size_partitioner(3)):
    tf.compat.v1.get_variable('w', initializer=tf.reshape(tf.range(20, dtype=tf.float32), [10, 2]))
tf.compat.v1.get_variable('plain', initializer=tf.constant([[7.0, 8.0]]))
tf.compat.v1.get_variable('step', initializer=tf.constant(2**40, tf.int64))
saver = tf.compat.v1.train.Saver(write_version=tf.compat.v1.train.SaverDef.V1)
with tf.compat.v1.Session() as s:
    s.run(tf.compat.v1.global_variables_initializer())
    saver.save(s, sys.argv[1])
`;
  const r = spawnSync(TF_PYTHON, ['-c', script, join(dir, 'model')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const ckpt = await openCheckpoint(dir); // through the `checkpoint` state file
  assert.equal(ckpt.version, 'v1');
  assert.deepEqual(ckpt.entries.map((e) => [e.key, e.dtype, e.shape, e.slices ?? 1]), [
    ['plain', 'DT_FLOAT', [1, 2], 1],
    ['rows/w', 'DT_FLOAT', [10, 2], 3],
    ['step', 'DT_INT64', [], 1],
  ]);
  assert.deepEqual(numbers(await readCheckpointTensor(ckpt, 'rows/w')), Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(numbers(ckpt.preview['rows/w']!), Array.from({ length: 16 }, (_, i) => i));
  assert.deepEqual(numbers(await readCheckpointTensor(ckpt, 'plain')), [7, 8]);
  assert.deepEqual(numbers(ckpt.preview['step']!), [2 ** 40]);
});
