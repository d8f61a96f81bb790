// The LevelDB-format table reader against real TensorFlow-written .index files (snappy and
// uncompressed blocks, ../shared/corpus/real) and against hand-built hostile tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  TABLE_MAGIC, bytesSource, findInTable, hasTableMagic, newTableStats, parseBlock, readTable,
} from '../../../main/formats/leveldb-table.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { crc32c, maskCrc } from '../../../main/formats/crc32c.ts';
import { buildTable } from '../../../main/writer/tensorbundle.ts';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A block from raw entries (shared, key delta, value) and restart offsets. */
function rawBlock(entries: { shared: number; delta: Uint8Array; value: Uint8Array }[], restarts = [0]): Uint8Array {
  const bytes: number[] = [];
  for (const e of entries) bytes.push(...varint(e.shared), ...varint(e.delta.length), ...varint(e.value.length), ...e.delta, ...e.value);
  const out = new Uint8Array(bytes.length + restarts.length * 4 + 4);
  out.set(bytes);
  const view = new DataView(out.buffer);
  restarts.forEach((r, i) => view.setUint32(bytes.length + i * 4, r, true));
  view.setUint32(bytes.length + restarts.length * 4, restarts.length, true);
  return out;
}

function trailer(contents: Uint8Array, type = 0): Uint8Array {
  const t = new Uint8Array(5);
  t[0] = type;
  new DataView(t.buffer).setUint32(1, maskCrc(crc32c(Uint8Array.of(type), crc32c(contents))), true);
  return t;
}

/** A table with the given data blocks (stored as is, with `type`), an empty metaindex and an index. */
function rawTable(blocks: { contents: Uint8Array; type?: number; lastKey: string }[], patchIndex?: (handles: { offset: number; size: number }[]) => void): Uint8Array {
  const parts: number[] = [];
  const handles: { offset: number; size: number }[] = [];
  for (const b of blocks) {
    handles.push({ offset: parts.length, size: b.contents.length });
    parts.push(...b.contents, ...trailer(b.contents, b.type ?? 0));
  }
  patchIndex?.(handles);
  const meta = rawBlock([]);
  const metaHandle = { offset: parts.length, size: meta.length };
  parts.push(...meta, ...trailer(meta));
  const index = rawBlock(
    blocks.map((b, i) => ({ shared: 0, delta: enc(b.lastKey), value: Uint8Array.from([...varint(handles[i]!.offset), ...varint(handles[i]!.size)]) })),
    [0],
  );
  const indexHandle = { offset: parts.length, size: index.length };
  parts.push(...index, ...trailer(index));
  const footer = new Uint8Array(48);
  footer.set([...varint(metaHandle.offset), ...varint(metaHandle.size), ...varint(indexHandle.offset), ...varint(indexHandle.size)]);
  footer.set(TABLE_MAGIC, 40);
  parts.push(...footer);
  return Uint8Array.from(parts);
}

function assertModelError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelError, `expected ModelError, got ${String(e)}`);
    assert.equal(e.file, 'hostile.index');
    assert.match(e.reason, pattern);
    return true;
  });
}

test('reads serving_saved_model_half_plus_two_cpu variables.index: snappy-compressed block, keys "" a a2 b c c2', { skip: skipWithoutCorpus }, () => {
  const file = real('serving_saved_model_half_plus_two_cpu', '00000123', 'variables', 'variables.index');
  const stats = newTableStats();
  const entries = readTable(readFileSync(file), file, stats);
  assert.deepEqual(entries.map((e) => dec(e.key)), ['', 'a', 'a2', 'b', 'c', 'c2']);
  assert.equal(stats.snappyBlocks, 1, 'PROVENANCE.md: this index has a snappy block (type byte 1)');
});

test('reads tf_bundle_old_string_tensors foo.index: uncompressed blocks', { skip: skipWithoutCorpus }, () => {
  const file = real('tf_bundle_old_string_tensors', 'foo.index');
  const stats = newTableStats();
  const entries = readTable(readFileSync(file), file, stats);
  assert.deepEqual(entries.map((e) => dec(e.key)), ['', 'floats', 'scalar', 'string_tensor', 'strs']);
  assert.equal(stats.snappyBlocks, 0);
});

test('tf_trt_mnist_ckpt index: shared-prefix keys rebuilt exactly, point lookups read one data block', { skip: skipWithoutCorpus }, () => {
  const file = real('tf_trt_mnist_ckpt', 'model.ckpt-46900.index');
  const bytes = readFileSync(file);
  const keys = readTable(bytes, file).map((e) => dec(e.key));
  assert.equal(keys.length, 28);
  assert.ok(keys.includes('conv2d/kernel/Adam_1'));
  assert.ok(keys.includes('global_step'));
  assert.deepEqual([...keys].sort(), keys, 'keys come out sorted');
  const stats = newTableStats();
  assert.ok(findInTable(bytesSource(bytes), file, enc('dense/bias/Adam'), undefined, stats));
  assert.equal(findInTable(bytesSource(bytes), file, enc('dense/bias/Adam_2')), null);
  assert.equal(stats.blocksRead, 1);
});

test('round trip through the table builder: many blocks, restart intervals, snappy', () => {
  const entries = Array.from({ length: 2000 }, (_, i) => ({ key: enc(`layer_${String(i).padStart(5, '0')}/kernel`), value: enc(`v${i}`.repeat(1 + (i % 7))) }));
  for (const options of [{}, { blockSize: 64, restartInterval: 1 }, { blockSize: 1024, restartInterval: 3, snappy: true }]) {
    const table = buildTable(entries, options);
    assert.ok(hasTableMagic(table));
    const back = readTable(table, 'built.index');
    assert.equal(back.length, entries.length);
    back.forEach((e, i) => {
      assert.deepEqual(e.key, entries[i]!.key);
      assert.deepEqual(e.value, entries[i]!.value);
    });
  }
});

test('hostile: no magic, too short, footer handles past the end', () => {
  const good = buildTable([{ key: enc('a'), value: enc('1') }]);
  assertModelError(() => readTable(good.subarray(0, 40), 'hostile.index'), /shorter than the 48-byte footer/);
  const noMagic = good.slice();
  noMagic[noMagic.length - 1] ^= 1;
  assertModelError(() => readTable(noMagic, 'hostile.index'), /magic/);
  const farIndex = good.slice();
  // Rewrite the footer: index handle offset 1e12.
  const footer = new Uint8Array(48);
  footer.set([0, 0, ...varint(1e12), 10]);
  footer.set(TABLE_MAGIC, 40);
  farIndex.set(footer, farIndex.length - 48);
  assertModelError(() => readTable(farIndex, 'hostile.index'), /runs past the end/);
});

test('hostile: block crc mismatch, unknown compression, bad snappy', () => {
  const block = rawBlock([{ shared: 0, delta: enc('k'), value: enc('v') }]);
  const table = rawTable([{ contents: block, lastKey: 'k' }]);
  assert.equal(readTable(table, 'hostile.index').length, 1);
  const flipped = table.slice();
  flipped[3] ^= 0x40;
  assertModelError(() => readTable(flipped, 'hostile.index'), /crc32c mismatch/);
  assertModelError(() => readTable(rawTable([{ contents: block, type: 7, lastKey: 'k' }]), 'hostile.index'), /unknown compression type 7/);
  assertModelError(() => readTable(rawTable([{ contents: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2), type: 1, lastKey: 'k' }]), 'hostile.index'), /snappy/);
});

test('hostile: absurd restart count, restart outside entries, shared prefix longer than the previous key', () => {
  const bad1 = Uint8Array.of(0, 1, 1, 0x6b, 0x76, 0xff, 0xff, 0xff, 0x0f);
  assertModelError(() => readTable(rawTable([{ contents: bad1, lastKey: 'k' }]), 'hostile.index'), /restart count/);
  const bad2 = rawBlock([{ shared: 0, delta: enc('k'), value: enc('v') }], [999]);
  assertModelError(() => readTable(rawTable([{ contents: bad2, lastKey: 'k' }]), 'hostile.index'), /restart point 999/);
  const bad3 = rawBlock([{ shared: 0, delta: enc('ab'), value: enc('') }, { shared: 5, delta: enc('c'), value: enc('') }]);
  assertModelError(() => readTable(rawTable([{ contents: bad3, lastKey: 'abc' }]), 'hostile.index'), /shares 5 bytes with a 2-byte previous key/);
  const bad4 = Uint8Array.of(0, 200, 1, 0x6b, 0, 0, 0, 0, 1, 0, 0, 0);
  assertModelError(() => readTable(rawTable([{ contents: bad4, lastKey: 'k' }]), 'hostile.index'), /runs past the end/);
});

test('hostile: keys whose shared prefixes would expand quadratically stop at the key budget', () => {
  const long = new Uint8Array(4000).fill(0x61);
  const entries = [{ shared: 0, delta: long, value: new Uint8Array(0) }];
  for (let i = 0; i < 20_000; i++) entries.push({ shared: 4000, delta: new Uint8Array(0), value: new Uint8Array(0) });
  const block = rawBlock(entries);
  assert.ok(block.length < 100_000);
  assert.throws(() => parseBlock(block, 'hostile.index', 'data', { bytes: 8 * 1024 * 1024 }), /beyond the size limit/);
});

test('hostile: overlapping data blocks in the index are refused (bounded work)', () => {
  const block = rawBlock([{ shared: 0, delta: enc('k'), value: enc('v') }]);
  const table = rawTable(
    [{ contents: block, lastKey: 'k' }, { contents: block, lastKey: 'l' }],
    (handles) => {
      handles[1] = { ...handles[0]! };
    },
  );
  assertModelError(() => readTable(table, 'hostile.index'), /overlaps the previous block/);
});
