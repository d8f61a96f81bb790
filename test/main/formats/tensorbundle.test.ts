// V2 checkpoints (tensor bundles): every bundle in ../shared/corpus/real checked against
// FACTS.json, the facts PROVENANCE.md lists (snappy blocks, 2 shards, old string tensors,
// object graphs), the crafted P1 checkpoints, every way of naming a checkpoint, hostile
// bundles, and laziness on a 20 GB (sparse) data file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, rmSync, truncateSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { CheckpointIR, TensorIR } from '../../../shared/ir.ts';
import {
  decodeSliceKey, isTensorBundleIndex, openCheckpoint, readCheckpointTensor, readTensorBundle, shardPath, type TensorReadStats,
} from '../../../main/formats/tensorbundle.ts';
import { crc32c, maskCrc } from '../../../main/formats/crc32c.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { newTableStats, readTable } from '../../../main/formats/leveldb-table.ts';
import { protoTypes } from '../../../main/formats/protobuf.ts';
import { buildTable, writeTensorBundle } from '../../../main/writer/tensorbundle.ts';
import { copyToTemp, crafted, real, REAL, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { TF_PYTHON, skipWithoutTf } from '../../helpers/tensorflow.ts';

interface FactTensor {
  key: string;
  dtype: string;
  shape: number[];
  shard_id: number;
  offset: number;
  size: number;
  crc32c_masked: number;
  values?: unknown[];
  first_values?: number[];
  object_graph?: { id: number; children: Record<string, number>; attributes: [string, string][] }[];
}
interface FactIndex {
  kind: string;
  header: { num_shards: number; endianness: string };
  tensors: FactTensor[];
  snappy_compressed_blocks: number;
}

function bundleFacts(): { folder: string; file: string; facts: FactIndex }[] {
  const all = JSON.parse(readFileSync(join(REAL, 'FACTS.json'), 'utf8')) as Record<string, { files: Record<string, FactIndex> }>;
  const out: { folder: string; file: string; facts: FactIndex }[] = [];
  for (const [folder, entry] of Object.entries(all)) {
    for (const [file, facts] of Object.entries(entry.files)) if (facts.kind === 'bundle_index') out.push({ folder, file, facts });
  }
  return out;
}

function numbers(t: TensorIR): number[] {
  assert.ok(t.values.kind === 'number' || t.values.kind === 'bool', `numeric values expected, got ${JSON.stringify(t.values).slice(0, 200)}`);
  return (t.values.values as (number | boolean)[]).map(Number);
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length >= expected.length, true, `${what}: ${actual.length} values < ${expected.length}`);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    // FACTS.json rounds to 7 significant digits or 7 decimals, whichever is coarser.
    const tol = Math.max(1e-6 * Math.abs(e), 6e-8);
    assert.ok(Math.abs(a - e) <= tol || (Number.isNaN(a) && Number.isNaN(e)), `${what}[${i}]: ${a} != ${e}`);
  });
}

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
function strings(t: TensorIR): string[] {
  assert.equal(t.values.kind, 'string');
  return (t.values.values as Uint8Array[]).map(latin1);
}

test('every tensor bundle in the corpus matches FACTS.json: header, entries, crcs, values, object graphs', { skip: skipWithoutCorpus }, async () => {
  const bundles = bundleFacts();
  assert.ok(bundles.length >= 60, `expected the corpus's 68 bundles, found ${bundles.length}`);
  let valuesChecked = 0;
  let graphsChecked = 0;
  for (const { folder, file, facts } of bundles) {
    const prefix = join(REAL, folder, file.replace(/\.index$/, ''));
    const where = `${folder}/${file}`;
    const ckpt = await readTensorBundle(prefix);
    assert.equal(ckpt.version, 'v2');
    assert.equal(ckpt.numShards, facts.header.num_shards, where);
    assert.equal(ckpt.endianness, facts.header.endianness.toLowerCase(), where);
    const stats = newTableStats();
    readTable(readFileSync(`${prefix}.index`), where, stats);
    assert.equal(stats.snappyBlocks, facts.snappy_compressed_blocks, `${where}: snappy blocks`);
    assert.deepEqual(
      ckpt.entries.map((e) => [e.key, e.dtype, e.shape, e.shardId, e.offset, e.size, e.crc32c]),
      facts.tensors.map((t) => [t.key, t.dtype, t.shape, t.shard_id, t.offset, t.size, t.crc32c_masked]),
      where,
    );
    for (const fact of facts.tensors) {
      const expected = fact.values ?? fact.first_values;
      if (expected && fact.dtype !== 'DT_STRING') {
        const tensor = await readCheckpointTensor(ckpt, fact.key);
        assertClose(numbers(tensor), expected as number[], `${where} ${fact.key}`);
        if (fact.size <= 64 * 1024) assertClose(numbers(ckpt.preview[fact.key]!), (expected as number[]).slice(0, 16), `${where} preview ${fact.key}`);
        valuesChecked++;
      } else if (expected && fact.dtype === 'DT_STRING') {
        const tensor = await readCheckpointTensor(ckpt, fact.key);
        assert.equal(tensor.values.kind, 'string');
        const got = (tensor.values.values as Uint8Array[]).map(latin1);
        (expected as string[]).forEach((s, i) => assert.ok(got[i]!.startsWith(s), `${where} ${fact.key}[${i}]`));
        valuesChecked++;
      }
      if (fact.object_graph) {
        assert.ok(ckpt.objectGraph, `${where}: object graph decoded`);
        assert.equal(ckpt.objectGraph.nodes.length, fact.object_graph.length, where);
        fact.object_graph.forEach((node, i) => {
          const ours = ckpt.objectGraph!.nodes[i]!;
          assert.deepEqual(Object.fromEntries(ours.children.map((c) => [c.name, c.nodeId])), node.children, `${where} node ${i} children`);
          assert.deepEqual(ours.attributes.map((a) => [a.name, a.checkpointKey]), node.attributes, `${where} node ${i} attributes`);
        });
        graphsChecked++;
      }
    }
    assert.equal(ckpt.warnings, undefined, `${where}: ${ckpt.warnings}`);
  }
  assert.ok(valuesChecked > 250, `values checked: ${valuesChecked}`);
  assert.ok(graphsChecked >= 40, `object graphs checked: ${graphsChecked}`);
});

test('serving_saved_model_half_plus_two_cpu (snappy index): a=0.5 a2=0.5 b=2 c=3 c2=3', { skip: skipWithoutCorpus }, async () => {
  const ckpt = await openCheckpoint(real('serving_saved_model_half_plus_two_cpu', '00000123', 'variables', 'variables'));
  const values = Object.fromEntries(ckpt.entries.map((e) => [e.key, numbers(ckpt.preview[e.key]!)]));
  assert.deepEqual(values, { a: [0.5], a2: [0.5], b: [2], c: [3], c2: [3] });
});

test('tf_trt_tftrt_2.0_saved_model_sharded: 2 shards, v read from data-00001-of-00002, object graph names its key', { skip: skipWithoutCorpus }, async () => {
  const ckpt = await openCheckpoint(real('tf_trt_tftrt_2.0_saved_model_sharded', 'variables'));
  assert.equal(ckpt.numShards, 2);
  const v = ckpt.entries.find((e) => e.key === 'v/.ATTRIBUTES/VARIABLE_VALUE')!;
  assert.equal(v.shardId, 1);
  assert.equal(shardPath(ckpt.prefix, 1, 2), real('tf_trt_tftrt_2.0_saved_model_sharded', 'variables', 'variables.data-00001-of-00002'));
  const stats: TensorReadStats = { bytesRead: 0, bytesAllocated: 0 };
  const tensor = await readCheckpointTensor(ckpt, v.key, stats);
  assert.deepEqual(tensor.shape, [1, 1, 1]);
  assert.deepEqual(numbers(tensor), [1]);
  assert.equal(stats.bytesRead, 4);
  assert.deepEqual(ckpt.objectGraph!.nodes[1]!.attributes, [{ name: 'VARIABLE_VALUE', checkpointKey: 'v/.ATTRIBUTES/VARIABLE_VALUE' }]);
  assert.deepEqual(ckpt.objectGraph!.nodes[0]!.children.map((c) => c.name), ['v', 'signatures', 'trt_engine_resources']);
});

test('tf_bundle_old_string_tensors (written before varint64 lengths): strings and floats', { skip: skipWithoutCorpus }, async () => {
  const ckpt = await openCheckpoint(real('tf_bundle_old_string_tensors', 'foo'));
  const strs = await readCheckpointTensor(ckpt, 'strs');
  assert.deepEqual(strings(strs), ['hello', '', 'x01', 'c'.repeat(1024)]);
  const scalar = await readCheckpointTensor(ckpt, 'scalar');
  assert.deepEqual(strings(scalar), ['hello']);
  const empty = await readCheckpointTensor(ckpt, 'string_tensor');
  assert.deepEqual(strings(empty), ['']);
  const floats = await readCheckpointTensor(ckpt, 'floats');
  assert.deepEqual(floats.shape, [2, 3]);
  assert.deepEqual(numbers(floats), new Array(6).fill(Math.fround(16.18)));
});

test('crafted P1: mode=0 in variables/variables (dormant), mode=1 in ckpt_active/ckpt (active)', { skip: skipWithoutCorpus }, async () => {
  const own = await openCheckpoint(crafted('P1_trojan_if_writefile', 'variables', 'variables'));
  const active = await openCheckpoint(crafted('P1_trojan_if_writefile', 'ckpt_active', 'ckpt'));
  const key = 'mode/.ATTRIBUTES/VARIABLE_VALUE';
  assert.equal(own.entries.find((e) => e.key === key)!.dtype, 'DT_INT32');
  assert.deepEqual(numbers(await readCheckpointTensor(own, key)), [0]);
  assert.deepEqual(numbers(await readCheckpointTensor(active, key)), [1]);
  // The else branch is a*x+b = x*0.5+2 in both.
  for (const ckpt of [own, active]) {
    assert.deepEqual(numbers(ckpt.preview['a/.ATTRIBUTES/VARIABLE_VALUE']!), [0.5]);
    assert.deepEqual(numbers(ckpt.preview['b/.ATTRIBUTES/VARIABLE_VALUE']!), [2]);
  }
  const modeNode = own.objectGraph!.nodes.findIndex((n) => n.attributes.some((a) => a.checkpointKey === key));
  assert.ok(own.objectGraph!.nodes[0]!.children.some((c) => c.name === 'mode' && c.nodeId === modeNode));
});

test('openCheckpoint accepts a prefix, the .index, a .data shard, a directory with a state file, a variables/ directory', { skip: skipWithoutCorpus }, async () => {
  const mnist = real('tf_trt_mnist_ckpt');
  const forms = [
    join(mnist, 'model.ckpt-46900'),
    join(mnist, 'model.ckpt-46900.index'),
    join(mnist, 'model.ckpt-46900.data-00000-of-00001'),
    mnist, // `checkpoint` state file: model_checkpoint_path: "model.ckpt-46900" (relative)
  ];
  for (const form of forms) {
    const ckpt = await openCheckpoint(form);
    assert.equal(ckpt.prefix, join(mnist, 'model.ckpt-46900'), form);
    assert.equal(ckpt.entries.length, 27);
    assert.deepEqual(numbers(ckpt.preview['global_step']!), [46900]);
  }
  const viaState = await openCheckpoint(join(mnist, 'checkpoint'));
  assert.equal(viaState.prefix, join(mnist, 'model.ckpt-46900'));
  const vars = await openCheckpoint(real('tf_cc_half_plus_two_v2', '00000123', 'variables'));
  assert.equal(vars.prefix, real('tf_cc_half_plus_two_v2', '00000123', 'variables', 'variables'));
  const savedModel = await openCheckpoint(real('tf_cc_half_plus_two_v2', '00000123'));
  assert.equal(savedModel.prefix, vars.prefix);
});

test('checkpoint state with an absolute path: used when it exists, else its basename beside the state file', { skip: skipWithoutCorpus }, async () => {
  const dir = copyToTemp(real('tfonnx_regression_checkpoint'));
  writeFileSync(join(dir, 'checkpoint'), `model_checkpoint_path: "/nonexistent/train/model"\nall_model_checkpoint_paths: "/nonexistent/train/model"\n`);
  const moved = await openCheckpoint(dir);
  assert.equal(moved.prefix, join(dir, 'model'));
  assert.deepEqual(moved.entries.map((e) => e.key), ['W', 'b']);
  writeFileSync(join(dir, 'checkpoint'), `model_checkpoint_path: "${join(dir, 'model')}"\n`);
  assert.equal((await openCheckpoint(dir)).prefix, join(dir, 'model'));
  writeFileSync(join(dir, 'checkpoint'), `model_checkpoint_path: "gone"\n`);
  await assert.rejects(openCheckpoint(dir), (e: unknown) => e instanceof ModelError && e.file === join(dir, 'checkpoint') && /points at no checkpoint/.test(e.reason));
  writeFileSync(join(dir, 'checkpoint'), `model_checkpoint_path: "model"\nbogus {`);
  await assert.rejects(openCheckpoint(dir), (e: unknown) => e instanceof ModelError && /line 2:1: no field "bogus"/.test(e.reason));
});

test('isTensorBundleIndex: bundle indexes yes; V1 checkpoints, GraphDefs and empty input no', { skip: skipWithoutCorpus }, () => {
  assert.equal(isTensorBundleIndex(readFileSync(real('tf_bundle_old_string_tensors', 'foo.index'))), true);
  assert.equal(isTensorBundleIndex(readFileSync(real('serving_saved_model_half_plus_two_cpu', '00000123', 'variables', 'variables.index'))), true);
  assert.equal(isTensorBundleIndex(readFileSync(real('serving_bad_half_plus_two', '00000123', 'export'))), false);
  assert.equal(isTensorBundleIndex(readFileSync(real('tf_cc_half_plus_two_v2', '00000123', 'saved_model.pb'))), false);
  assert.equal(isTensorBundleIndex(new Uint8Array(0)), false);
});

test('hostile data: crc mismatch, missing shard, tensor past the end of its shard', { skip: skipWithoutCorpus }, async () => {
  const dir = copyToTemp(real('serving_saved_model_half_plus_two_cpu', '00000123', 'variables'));
  const prefix = join(dir, 'variables');
  const data = `${prefix}.data-00000-of-00001`;
  const bytes = readFileSync(data);
  bytes[9] ^= 0x01; // inside "b" (offset 8)
  writeFileSync(data, bytes);
  const ckpt = await openCheckpoint(prefix);
  assert.deepEqual(numbers(ckpt.preview['a']!), [0.5], 'other tensors still read');
  assert.equal(ckpt.preview['b']!.values.kind, 'unsupported');
  assert.match((ckpt.preview['b']!.values as { reason: string }).reason, /crc32c mismatch/);
  await assert.rejects(readCheckpointTensor(ckpt, 'b'), (e: unknown) => e instanceof ModelError && e.file === data && /"b": crc32c mismatch/.test(e.reason));

  truncateSync(data, 14);
  await assert.rejects(readCheckpointTensor(ckpt, 'c2'), (e: unknown) => e instanceof ModelError && e.file === data && /runs past the end of the 14-byte shard/.test(e.reason));
  renameSync(data, `${data}.moved`);
  await assert.rejects(readCheckpointTensor(ckpt, 'a'), (e: unknown) => e instanceof ModelError && e.file === data && /cannot open data shard/.test(e.reason));
  await assert.rejects(readCheckpointTensor(ckpt, 'nope'), (e: unknown) => e instanceof ModelError && /no tensor "nope"/.test(e.reason));
  const reopened = await openCheckpoint(prefix);
  assert.equal(reopened.entries.length, 5, 'the index still lists every entry without its data');
  assert.equal(reopened.preview['a']!.values.kind, 'unsupported');
});

function indexWith(entries: { key: string; entry: Record<string, unknown> }[], header: Record<string, unknown> = { num_shards: 1 }): Uint8Array {
  const enc = new TextEncoder();
  const rows = [{ key: new Uint8Array(0), value: protoTypes.BundleHeaderProto.encode(protoTypes.BundleHeaderProto.fromObject(header)).finish() }];
  for (const { key, entry } of entries) rows.push({ key: enc.encode(key), value: protoTypes.BundleEntryProto.encode(protoTypes.BundleEntryProto.fromObject(entry)).finish() });
  return buildTable(rows);
}

test('hostile index: shard out of range, negative dims, absurd sizes, wrong byte counts, duplicate keys', async () => {
  const dir = tempDir();
  const prefix = join(dir, 'evil');
  const write = (entries: { key: string; entry: Record<string, unknown> }[], header?: Record<string, unknown>): void => {
    writeFileSync(`${prefix}.index`, indexWith(entries, header));
  };
  const rejects = async (pattern: RegExp, key?: string): Promise<void> => {
    const run = key ? readTensorBundle(prefix).then((c) => readCheckpointTensor(c, key)) : readTensorBundle(prefix);
    await assert.rejects(run, (e: unknown) => {
      assert.ok(e instanceof ModelError, String(e));
      assert.match(e.message, pattern);
      assert.ok(e.file.startsWith(prefix), e.file);
      return true;
    });
  };
  write([{ key: 'x', entry: { dtype: 1, shard_id: 3, size: 4 } }]);
  await rejects(/shard 3 is outside the 1 shards/);
  write([{ key: 'x', entry: { dtype: 1, shape: { dim: [{ size: -5 }] }, size: 4 } }]);
  await rejects(/invalid dimension -5/);
  write([{ key: 'x', entry: { dtype: 1, shape: { dim: [{ size: 100_000_000 }] }, size: 400_000_000 } }]);
  writeFileSync(shardPath(prefix, 0, 1), new Uint8Array(16));
  await rejects(/400000000 bytes, more than the \d+-byte read limit/, 'x');
  write([{ key: 'x', entry: { dtype: 1, shape: { dim: [{ size: 3 }] }, size: 4 } }]);
  await rejects(/needs 12 bytes but the entry says 4/, 'x');
  write([{ key: 'x', entry: { dtype: 7, shape: { dim: [{ size: 1_000_000 }] }, size: 8 } }]);
  await rejects(/claims 1000000 elements in 8 bytes/, 'x');
  write([{ key: 'x', entry: { dtype: 1, size: 4 } }], { num_shards: 1, endianness: 7 });
  await rejects(/endianness 7 is unknown/);
  writeFileSync(`${prefix}.index`, new Uint8Array(100));
  await rejects(/magic/);
  rmSync(`${prefix}.index`);
  await assert.rejects(openCheckpoint(prefix), (e: unknown) => e instanceof ModelError && /no such checkpoint/.test(e.reason));
});

test('a tensor with more elements than the decode limit: values cut, crc still verified over every byte', async () => {
  const prefix = join(tempDir(), 'big');
  const n = (1 << 20) + 5000;
  const values = Array.from({ length: n }, (_, i) => i % 1000);
  await writeTensorBundle(prefix, [{ key: 'big', dtype: 'DT_FLOAT', shape: [n], values }]);
  const ckpt = await openCheckpoint(prefix);
  assert.equal(ckpt.preview['big'], undefined, 'no preview for a 4 MB tensor');
  const stats: TensorReadStats = { bytesRead: 0, bytesAllocated: 0 };
  const t = await readCheckpointTensor(ckpt, 'big', stats);
  assert.equal(t.truncated, true);
  assert.equal(numbers(t).length, 1 << 20);
  assert.equal(stats.bytesRead, n * 4, 'every byte passes through the crc');
  assert.ok(stats.bytesAllocated <= (1 << 20) * 4 + (1 << 20), `allocated ${stats.bytesAllocated}`);
  // Corrupt a byte after the decoded part: only the crc can notice.
  const data = shardPath(prefix, 0, 1);
  const bytes = readFileSync(data);
  bytes[bytes.length - 2] ^= 0xff;
  writeFileSync(data, bytes);
  await assert.rejects(readCheckpointTensor(ckpt, 'big'), /crc32c mismatch/);
});

async function readOneWithMemory(ckpt: CheckpointIR, key: string): Promise<{ stats: TensorReadStats; grew: number }> {
  global.gc?.();
  const before = process.memoryUsage();
  const stats: TensorReadStats = { bytesRead: 0, bytesAllocated: 0 };
  const t = await readCheckpointTensor(ckpt, key, stats);
  const after = process.memoryUsage();
  assert.deepEqual(numbers(t).slice(0, 3), [0, 1, 2]);
  return { stats, grew: after.arrayBuffers - before.arrayBuffers + Math.max(0, after.rss - before.rss) };
}

test('laziness: a tensor at offset ~20 GB of a 20 GB (sparse) shard costs what it costs in a 20 kB shard', async () => {
  const dir = tempDir();
  const tensors = [
    { key: 'w', dtype: 'DT_FLOAT', shape: [1024], values: Array.from({ length: 1024 }, (_, i) => i) },
    { key: 'z', dtype: 'DT_INT64', shape: [2], values: [7, 8] },
  ];
  const huge = 20 * 1024 ** 3;
  await writeTensorBundle(join(dir, 'huge'), tensors, { startOffset: huge });
  await writeTensorBundle(join(dir, 'small'), tensors, { startOffset: 16 * 1024 });
  const hugeData = shardPath(join(dir, 'huge'), 0, 1);
  assert.ok(existsSync(hugeData));
  const hugeCkpt = await openCheckpoint(join(dir, 'huge'));
  const smallCkpt = await openCheckpoint(join(dir, 'small'));
  assert.equal(hugeCkpt.entries.find((e) => e.key === 'w')!.offset, huge);
  const big = await readOneWithMemory(hugeCkpt, 'w');
  const small = await readOneWithMemory(smallCkpt, 'w');
  assert.deepEqual(big.stats, { bytesRead: 4096, bytesAllocated: 4096 });
  assert.deepEqual(big.stats, small.stats);
  assert.ok(big.grew < 32 * 1024 * 1024, `memory grew by ${big.grew} bytes reading from a 20 GB shard`);
  rmSync(dir, { recursive: true, force: true });
});

test('decodeSliceKey: OrderedCode names, ranks and signed numbers (TensorFlow\'s documented examples)', () => {
  const key = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
  // "s/w", rank 2, [0,4) x [0,2) — as TensorFlow wrote it for a fixed_size_partitioner(3) slice.
  assert.deepEqual(decodeSliceKey(key(0, 0x73, 0x2f, 0x77, 0, 1, 1, 2, 0x80, 0x84, 0x80, 0x82), 'k'), {
    name: 's/w',
    extents: [{ start: 0, length: 4 }, { start: 0, length: 2 }],
  });
  // 0x424242 -> f0 42 42 42; -0x800 -> 38 00; -1 (whole dimension) -> 7f; escaped 0x00 and 0xff in the name.
  assert.deepEqual(decodeSliceKey(key(0, 0x61, 0, 0xff, 0xff, 0, 0, 1, 1, 2, 0xf0, 0x42, 0x42, 0x42, 0x38, 0x00, 0x80, 0x7f), 'k'), {
    name: 'a\u0000\ufffd',
    extents: [{ start: 0x424242, length: -0x800 }, { start: 0, length: -1 }],
  });
  for (const bad of [key(0, 0x61), key(0, 0x61, 0, 1, 9), key(0, 0x61, 0, 1, 1, 1, 0x80), key(0, 0x61, 0, 1, 1, 1, 0x80, 0x80, 0x80)]) {
    assert.throws(() => decodeSliceKey(bad, 'k.index'), (e: unknown) => e instanceof ModelError && e.file === 'k.index' && /malformed slice key/.test(e.reason));
  }
});


test('partitioned variables saved by TensorFlow (tf.compat.v1 fixed_size_partitioner) are assembled from their slices', { skip: skipWithoutTf }, async () => {
  const dir = tempDir();
  const script = String.raw`
import sys, os
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
import tensorflow as tf
tf.compat.v1.disable_eager_execution()
with tf.compat.v1.variable_scope('rows', partitioner=tf.compat.v1.fixed_size_partitioner(3)):
    tf.compat.v1.get_variable('w', initializer=tf.reshape(tf.range(20, dtype=tf.float32), [10, 2]))
with tf.compat.v1.variable_scope('cols', partitioner=tf.compat.v1.fixed_size_partitioner(2, axis=1)):
    tf.compat.v1.get_variable('u', initializer=tf.reshape(tf.range(12, dtype=tf.int64), [3, 4]))
tf.compat.v1.get_variable('plain', initializer=tf.constant([7.0]))
saver = tf.compat.v1.train.Saver()
with tf.compat.v1.Session() as s:
    s.run(tf.compat.v1.global_variables_initializer())
    saver.save(s, sys.argv[1])
`;
  const r = spawnSync(TF_PYTHON, ['-c', script, join(dir, 'model')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const ckpt = await openCheckpoint(dir);
  assert.deepEqual(ckpt.entries.map((e) => [e.key, e.slices ?? 0, e.sliceParts?.length ?? 0]), [['cols/u', 2, 2], ['plain', 0, 0], ['rows/w', 3, 3]]);
  const w = await readCheckpointTensor(ckpt, 'rows/w');
  assert.deepEqual(w.shape, [10, 2]);
  assert.deepEqual(numbers(w), Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(numbers(await readCheckpointTensor(ckpt, 'cols/u')), Array.from({ length: 12 }, (_, i) => i));
  assert.deepEqual(numbers(ckpt.preview['cols/u']!), Array.from({ length: 12 }, (_, i) => i));
  // A slice's bytes are crc-checked like any tensor.
  const data = shardPath(ckpt.prefix, 0, 1);
  const part = ckpt.entries.find((e) => e.key === 'rows/w')!.sliceParts![1]!;
  const bytes = readFileSync(data);
  bytes[part.offset] ^= 0x20;
  writeFileSync(data, bytes);
  await assert.rejects(readCheckpointTensor(ckpt, 'rows/w'), (e: unknown) => e instanceof ModelError && /rows\/w \(slice 1\)": crc32c mismatch/.test(e.reason));
});

test('big-endian bundles (header endianness BIG): numbers and strings byte-swapped, crcs over the stored bytes', async () => {
  const prefix = join(tempDir(), 'be');
  const floats = new Uint8Array(8);
  new DataView(floats.buffer).setFloat32(0, 1.5, false);
  new DataView(floats.buffer).setFloat32(4, -2, false);
  // Strings: varint lengths, masked crc of the lengths as big-endian uint32s (stored big-endian), bytes.
  const lengthsCrc = crc32c(Uint8Array.of(0, 0, 0, 2, 0, 0, 0, 1));
  const stored = new Uint8Array(4);
  new DataView(stored.buffer).setUint32(0, maskCrc(lengthsCrc), false);
  const stringBytes = Uint8Array.from([2, 1, ...stored, 0x68, 0x69, 0x21]);
  const stringsCrc = crc32c(Uint8Array.of(0x68, 0x69, 0x21), crc32c(stored, lengthsCrc));
  writeFileSync(shardPath(prefix, 0, 1), Uint8Array.from([...floats, ...stringBytes]));
  writeFileSync(`${prefix}.index`, indexWith(
    [
      { key: 'f', entry: { dtype: 1, shape: { dim: [{ size: 2 }] }, offset: 0, size: 8, crc32c: maskCrc(crc32c(floats)) } },
      { key: 's', entry: { dtype: 7, shape: { dim: [{ size: 2 }] }, offset: 8, size: stringBytes.length, crc32c: maskCrc(stringsCrc) } },
    ],
    { num_shards: 1, endianness: 1 },
  ));
  const ckpt = await openCheckpoint(prefix);
  assert.equal(ckpt.endianness, 'big');
  assert.deepEqual(numbers(await readCheckpointTensor(ckpt, 'f')), [1.5, -2]);
  assert.deepEqual(strings(await readCheckpointTensor(ckpt, 's')), ['hi', '!']);
});

test('crafted P2–P5: the trigger variable differs between variables/variables and ckpt_active/ckpt as expect.json notes say', { skip: skipWithoutCorpus }, async () => {
  const cases: [string, string, unknown[], unknown[]][] = [
    ['P2_tf1_switch_readfile', 'flag', [false], [true]],
    ['P3_case_exfil', 'route', [0], [2]],
    ['P4_decoy_constant_pred', 'toggle', [0], [1]],
    ['P5_tile_dos', 'reps', [1, 1], [100000, 100000]],
  ];
  for (const [model, variable, own, active] of cases) {
    for (const [ckptPath, expected] of [[crafted(model, 'variables', 'variables'), own], [crafted(model, 'ckpt_active', 'ckpt'), active]] as const) {
      const ckpt = await openCheckpoint(ckptPath);
      const entry = ckpt.entries.find((e) => e.key === variable || e.key.startsWith(`${variable}/.ATTRIBUTES/`));
      assert.ok(entry, `${model}: no checkpoint key for ${variable} in ${ckpt.entries.map((e) => e.key).join(', ')}`);
      const t = await readCheckpointTensor(ckpt, entry.key);
      assert.deepEqual(t.values.kind === 'bool' ? t.values.values : numbers(t), expected, `${model} ${ckptPath}`);
    }
  }
});
