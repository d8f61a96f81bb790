// The tensor-bundle writer: round trips through our reader (every dtype it writes, shards,
// snappy blocks, a 10k-entry checkpoint), and — when TensorFlow is installed (/opt/tfvenv or
// TFAUDIT_TF_PYTHON) — real TensorFlow restores what we wrote, and we read what it wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { TensorIR } from '../../../shared/ir.ts';
import { openCheckpoint, readCheckpointTensor, shardPath } from '../../../main/formats/tensorbundle.ts';
import { newTableStats, readTable } from '../../../main/formats/leveldb-table.ts';
import { floatToBfloat16, floatToHalf, writeTensorBundle, type TensorToWrite } from '../../../main/writer/tensorbundle.ts';
import { bfloat16ToFloat, halfToFloat } from '../../../main/formats/tensor.ts';
import { tempDir } from '../../helpers/corpus.ts';
import { TF_PYTHON, skipWithoutTf } from '../../helpers/tensorflow.ts';


const SAMPLE: TensorToWrite[] = [
  { key: 'dense/kernel', dtype: 'DT_FLOAT', shape: [2, 3], values: [0.5, -1, 2.25, 3e10, -0, 1e-30] },
  { key: 'dense/bias', dtype: 'DT_DOUBLE', shape: [2], values: [Math.PI, -Math.E] },
  { key: 'mode', dtype: 'DT_INT32', shape: [], values: [1] },
  { key: 'global_step', dtype: 'DT_INT64', shape: [], values: [2 ** 40 + 3] },
  { key: 'neg64', dtype: 'DT_INT64', shape: [2], values: [-5, -(2 ** 50)] },
  { key: 'u8', dtype: 'DT_UINT8', shape: [3], values: [0, 128, 255] },
  { key: 'i8', dtype: 'DT_INT8', shape: [2], values: [-128, 127] },
  { key: 'i16', dtype: 'DT_INT16', shape: [2], values: [-32768, 32767] },
  { key: 'u16', dtype: 'DT_UINT16', shape: [1], values: [65535] },
  { key: 'u32', dtype: 'DT_UINT32', shape: [1], values: [4294967295] },
  { key: 'u64', dtype: 'DT_UINT64', shape: [1], values: [2 ** 53] },
  { key: 'flags', dtype: 'DT_BOOL', shape: [4], values: [true, false, false, true] },
  { key: 'half', dtype: 'DT_HALF', shape: [4], values: [1.5, -2, 65504, 0.000060975551605224609375] },
  { key: 'bf16', dtype: 'DT_BFLOAT16', shape: [3], values: [1.5, -3.25, 256] },
  { key: 'c64', dtype: 'DT_COMPLEX64', shape: [1], values: [1.5, -2] },
  { key: 'words', dtype: 'DT_STRING', shape: [2, 2], values: ['hello', '', 'x'.repeat(300), 'é'] },
  { key: 'blob', dtype: 'DT_STRING', shape: [], values: [Uint8Array.of(0, 255, 10, 0)] },
  { key: 'empty', dtype: 'DT_FLOAT', shape: [0, 4], values: [] },
];

function plain(t: TensorIR): unknown[] {
  const v = t.values;
  if (v.kind === 'string') return v.values.map((b) => Buffer.from(b).toString('latin1'));
  assert.notEqual(v.kind, 'unsupported');
  return (v as { values: unknown[] }).values;
}

function expected(t: TensorToWrite): unknown[] {
  if (t.dtype === 'DT_STRING') return (t.values as (string | Uint8Array)[]).map((s) => Buffer.from(typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('latin1'));
  if (t.dtype === 'DT_FLOAT' || t.dtype === 'DT_COMPLEX64') return (t.values as number[]).map(Math.fround);
  return t.values as unknown[];
}

test('round trip through our reader: every dtype, 3 shards, snappy, tiny blocks', async () => {
  const prefix = join(tempDir(), 'model.ckpt-12');
  await writeTensorBundle(prefix, SAMPLE, { shards: 3, snappy: true, blockSize: 128 });
  for (let s = 0; s < 3; s++) assert.ok(existsSync(shardPath(prefix, s, 3)));
  const stats = newTableStats();
  const rows = readTable(readFileSync(`${prefix}.index`), 'index', stats);
  assert.ok(stats.blocksRead > 3, 'several data blocks');
  assert.equal(rows[0]!.key.length, 0, 'header entry first');
  const keys = rows.slice(1).map((r) => Buffer.from(r.key).toString());
  assert.deepEqual(keys, [...keys].sort(), 'entries sorted by key');
  const ckpt = await openCheckpoint(prefix);
  assert.equal(ckpt.numShards, 3);
  assert.deepEqual(new Set(ckpt.entries.map((e) => e.shardId)), new Set([0, 1, 2]));
  for (const t of SAMPLE) {
    const back = await readCheckpointTensor(ckpt, t.key);
    assert.equal(back.dtype, t.dtype, t.key);
    assert.deepEqual(back.shape, t.shape, t.key);
    assert.deepEqual(plain(back), expected(t), t.key);
  }
});

test('half and bfloat16 conversion round-to-nearest-even, with inf/nan/subnormals', () => {
  for (const v of [0, -0, 1, -1, 0.5, 65504, 1e-7, 6.1e-5, 5.96e-8, 2.98e-8, 70000, Infinity, -Infinity, 1.0009765625, 1.00048828125]) {
    const h = halfToFloat(floatToHalf(v));
    const b = bfloat16ToFloat(floatToBfloat16(v));
    if (Math.abs(v) >= 65520) assert.equal(h, v > 0 ? Infinity : -Infinity, `half ${v}`);
    else assert.ok(Math.abs(h - v) <= Math.max(Math.abs(v) * 2 ** -11, 2 ** -25), `half ${v} -> ${h}`);
    assert.ok(Math.abs(b - v) <= Math.abs(v) * 2 ** -8 || b === v, `bf16 ${v} -> ${b}`);
  }
  assert.equal(floatToHalf(1.00048828125), 0x3c00, 'a tie rounds to even');
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  assert.ok(Number.isNaN(bfloat16ToFloat(floatToBfloat16(NaN))));
});

test('big-checkpoint mode: 12k entries, every entry listed and a lookup reads only its bytes', async () => {
  const prefix = join(tempDir(), 'big');
  const n = 12_000;
  const tensors: TensorToWrite[] = Array.from({ length: n }, (_, i) => ({ key: `model/layer_${i}/kernel`, dtype: 'DT_FLOAT', shape: [4], values: [i, i + 1, i + 2, i + 3] }));
  await writeTensorBundle(prefix, tensors, { snappy: true });
  const tableStats = newTableStats();
  readTable(readFileSync(`${prefix}.index`), 'index', tableStats);
  assert.ok(tableStats.snappyBlocks > 50, `snappy blocks: ${tableStats.snappyBlocks}`);
  const ckpt = await openCheckpoint(prefix);
  assert.equal(ckpt.entries.length, n);
  const stats = { bytesRead: 0, bytesAllocated: 0 };
  const t = await readCheckpointTensor(ckpt, 'model/layer_9876/kernel', stats);
  assert.deepEqual(plain(t), [9876, 9877, 9878, 9879]);
  assert.equal(stats.bytesRead, 16);
  assert.deepEqual(plain(ckpt.preview['model/layer_11999/kernel']!), [11999, 12000, 12001, 12002]);
});

test('writer refuses inconsistent input', async () => {
  const prefix = join(tempDir(), 'bad');
  await assert.rejects(writeTensorBundle(prefix, [{ key: 'a', dtype: 'DT_FLOAT', shape: [3], values: [1] }]), /1 values for shape \[3\]/);
  await assert.rejects(writeTensorBundle(prefix, [{ key: '', dtype: 'DT_FLOAT', shape: [], values: [1] }]), /cannot be empty/);
  await assert.rejects(writeTensorBundle(prefix, [{ key: 'a', dtype: 'DT_FLOAT', shape: [], values: [1] }, { key: 'a', dtype: 'DT_FLOAT', shape: [], values: [1] }]), /duplicate/);
  await assert.rejects(writeTensorBundle(prefix, [{ key: 'a', dtype: 'DT_NOPE', shape: [], values: [1] }]), /unknown dtype/);
  await assert.rejects(writeTensorBundle(prefix, [{ key: 'a', dtype: 'DT_RESOURCE', shape: [], values: [1] }]), /cannot be written/);
});

const TF_SCRIPT = String.raw`
import sys, json, os
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
import numpy as np
import tensorflow as tf
ours, theirs = sys.argv[1], sys.argv[2]
def plain(v):
    if isinstance(v, bytes):  # a scalar string (numpy's S dtype would drop trailing NULs)
        return [v.decode('latin1')]
    a = np.asarray(v)
    if a.dtype == object or a.dtype.kind == 'S':
        return [x.decode('latin1') for x in a.reshape(-1)]
    if a.dtype.kind == 'c':
        return [float(y) for x in a.reshape(-1) for y in (x.real, x.imag)]
    if a.dtype.kind == 'b':
        return [bool(x) for x in a.reshape(-1)]
    if a.dtype.kind in 'iu':
        return [int(x) for x in a.reshape(-1)]
    return [float(x) for x in a.astype(np.float64).reshape(-1)]
out = {}
r = tf.train.load_checkpoint(ours)
shapes = r.get_variable_to_shape_map(); dtypes = r.get_variable_to_dtype_map()
for k in sorted(shapes):
    out[k] = {'dtype': dtypes[k].name, 'shape': list(shapes[k]), 'values': plain(r.get_tensor(k))}
# TensorFlow writes a bundle for us to read.
names = ['f16', 'bf16', 'c128', 'u64', 's', 'b', 'i64']
values = [tf.constant([1.5, -2.0, 0.25], tf.float16), tf.constant([1.5, -3.25], tf.bfloat16),
          tf.constant([1+2j, complex(0.0, -3.5)], tf.complex128), tf.constant([2**63 + 2**11], tf.uint64),
          tf.constant([[b'a', b''], [b'\x00\xff', b'z' * 200]]), tf.constant([True, False]),
          tf.constant([-(2**62), 7], tf.int64)]
tf.raw_ops.SaveV2(prefix=theirs, tensor_names=names, shape_and_slices=[''] * len(names), tensors=values)
print(json.dumps(out))
`;

test('TensorFlow restores what we wrote (tf.train.load_checkpoint), and we read what TensorFlow wrote', { skip: skipWithoutTf }, async () => {
  const dir = tempDir();
  const ours = join(dir, 'ours', 'model.ckpt-5');
  const theirs = join(dir, 'theirs', 'tf.ckpt');
  await import('node:fs').then((fs) => {
    fs.mkdirSync(join(dir, 'ours'));
    fs.mkdirSync(join(dir, 'theirs'));
  });
  await writeTensorBundle(ours, SAMPLE, { shards: 2, snappy: true, blockSize: 256 });
  const r = spawnSync(TF_PYTHON, ['-c', TF_SCRIPT, ours, theirs], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr.slice(-3000));
  const tf = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, { dtype: string; shape: number[]; values: unknown[] }>;
  const tfDtype: Record<string, string> = {
    DT_FLOAT: 'float32', DT_DOUBLE: 'float64', DT_INT32: 'int32', DT_INT64: 'int64', DT_UINT8: 'uint8', DT_INT8: 'int8', DT_INT16: 'int16',
    DT_UINT16: 'uint16', DT_UINT32: 'uint32', DT_UINT64: 'uint64', DT_BOOL: 'bool', DT_HALF: 'float16', DT_BFLOAT16: 'bfloat16',
    DT_COMPLEX64: 'complex64', DT_STRING: 'string',
  };
  assert.deepEqual(Object.keys(tf).sort(), SAMPLE.map((t) => t.key).sort());
  for (const t of SAMPLE) {
    const got = tf[t.key]!;
    assert.equal(got.dtype, tfDtype[t.dtype], t.key);
    assert.deepEqual(got.shape, t.shape, t.key);
    if (t.dtype === 'DT_HALF') assert.deepEqual(got.values, (t.values as number[]).map((v) => halfToFloat(floatToHalf(v))), t.key);
    else if (t.dtype === 'DT_BFLOAT16') assert.deepEqual(got.values, (t.values as number[]).map((v) => bfloat16ToFloat(floatToBfloat16(v))), t.key);
    else assert.deepEqual(got.values, expected(t), t.key);
  }

  const ckpt = await openCheckpoint(theirs);
  const read = async (key: string): Promise<unknown[]> => plain(await readCheckpointTensor(ckpt, key));
  assert.deepEqual(await read('f16'), [1.5, -2, 0.25]);
  assert.deepEqual(await read('bf16'), [1.5, -3.25]);
  assert.deepEqual(await read('c128'), [1, 2, 0, -3.5]);
  assert.deepEqual(await read('u64'), [2 ** 63 + 2 ** 11]);
  assert.deepEqual(await read('s'), ['a', '', '\u0000\u00ff', 'z'.repeat(200)]);
  assert.deepEqual(await read('b'), [true, false]);
  assert.deepEqual(await read('i64'), [-(2 ** 62), 7]);
  assert.equal(ckpt.entries.find((e) => e.key === 's')!.dtype, 'DT_STRING');
});
