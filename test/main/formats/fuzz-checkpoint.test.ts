// Property tests: real corpus checkpoints (.index tables, data shards, a V1 file) mutated
// thousands of times — raw bit flips and truncations, block edits with a re-computed crc so
// the damage reaches the block parser, and BundleEntryProto fields rewritten to absurd values
// (shapes, offsets, sizes, dtypes). Every outcome must be a CheckpointIR / TensorIR or a
// ModelError that names a file of the checkpoint; nothing else may escape, nothing may hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CheckpointIR } from '../../../shared/ir.ts';
import { openCheckpoint, readCheckpointTensor } from '../../../main/formats/tensorbundle.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { bytesSource, readFooter, readIndex, readTable } from '../../../main/formats/leveldb-table.ts';
import { crc32c, maskCrc } from '../../../main/formats/crc32c.ts';
import { protoTypes } from '../../../main/formats/protobuf.ts';
import { buildTable } from '../../../main/writer/tensorbundle.ts';
import { copyToTemp, real, skipWithoutCorpus } from '../../helpers/corpus.ts';

/** Bundles chosen for their variety: snappy, 2 shards, old strings, optimizer slots, many keys. */
const TARGETS = [
  ['serving_saved_model_half_plus_two_cpu', '00000123', 'variables'],
  ['tf_trt_tftrt_2.0_saved_model_sharded', 'variables'],
  ['tf_bundle_old_string_tensors'],
  ['tf_cc_OptimizerSlotVariableModule', 'variables'],
  ['tf_trt_mnist_ckpt'],
];
const TIME_LIMIT_MS = 7_000;

interface Target {
  dir: string;
  /** Every file of the checkpoint with its pristine bytes. */
  files: { path: string; bytes: Uint8Array }[];
}

function loadTarget(parts: string[]): Target {
  const dir = copyToTemp(real(...parts));
  const files = readdirSync(dir)
    .filter((n) => n.includes('.index') || n.includes('.data-') || n === 'checkpoint')
    .map((n) => ({ path: join(dir, n), bytes: new Uint8Array(readFileSync(join(dir, n))) }));
  return { dir, files };
}

function restore(target: Target): void {
  for (const f of target.files) writeFileSync(f.path, f.bytes);
}

/** Opens the checkpoint and reads every tensor; throws only if something escapes unchecked. */
async function exercise(target: Target): Promise<'ok' | 'error'> {
  let ckpt: CheckpointIR;
  try {
    ckpt = await openCheckpoint(target.dir);
  } catch (error) {
    assertOurs(error, target);
    return 'error';
  }
  assert.ok(Array.isArray(ckpt.entries));
  for (const entry of ckpt.entries) {
    try {
      const t = await readCheckpointTensor(ckpt, entry.key);
      assert.ok(t.values && typeof t.values.kind === 'string');
    } catch (error) {
      assertOurs(error, target);
    }
  }
  return 'ok';
}

function assertOurs(error: unknown, target: Target): void {
  if (!(error instanceof ModelError)) throw error;
  assert.ok(error.file.startsWith(target.dir), `error names ${error.file}, outside ${target.dir}`);
  assert.ok(error.reason.length > 0);
}

const indexOf = (t: Target): { path: string; bytes: Uint8Array } => t.files.find((f) => f.path.endsWith('.index'))!;

function mutateRaw(bytes: Uint8Array, kind: number, at: number, value: number): Uint8Array {
  const pos = at % Math.max(1, bytes.length);
  switch (kind) {
    case 0: {
      const out = bytes.slice();
      out[pos] ^= 1 << (value & 7);
      return out;
    }
    case 1: {
      const out = bytes.slice();
      out[pos] = value & 0xff;
      return out;
    }
    case 2:
      return bytes.slice(0, pos);
    case 3: {
      const out = new Uint8Array(bytes.length + 1 + (value % 64));
      out.set(bytes.subarray(0, pos));
      out.fill(value & 0xff, pos, pos + 1 + (value % 64));
      out.set(bytes.subarray(pos), pos + 1 + (value % 64));
      return out;
    }
    default: {
      const out = bytes.slice();
      const view = new DataView(out.buffer);
      if (pos + 4 <= out.length) view.setUint32(pos, value >>> 0, true);
      return out;
    }
  }
}

/** Flips bytes inside one block of the table and re-computes its trailer crc. */
function mutateBlockWithValidCrc(bytes: Uint8Array, which: number, at: number, value: number): Uint8Array {
  const source = bytesSource(bytes);
  const footer = readFooter(source, 'x');
  const handles = [...readIndex(source, 'x').map((b) => b.handle), footer.index, footer.metaindex];
  const h = handles[which % handles.length]!;
  if (h.size === 0) return bytes;
  const out = bytes.slice();
  out[h.offset + (at % h.size)] = value & 0xff;
  const type = out[h.offset + h.size]!;
  const crc = crc32c(Uint8Array.of(type), crc32c(out.subarray(h.offset, h.offset + h.size)));
  new DataView(out.buffer, out.byteOffset).setUint32(h.offset + h.size + 1, maskCrc(crc), true);
  return out;
}

const targetsArb = fc.integer({ min: 0, max: TARGETS.length - 1 });

test('fuzz: raw mutations of .index files and data shards', { skip: skipWithoutCorpus }, async (t) => {
  const targets = TARGETS.map(loadTarget);
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(targetsArb, fc.nat(), fc.integer({ min: 0, max: 4 }), fc.nat(), fc.nat(), async (targetIndex, fileChoice, kind, at, value) => {
      const target = targets[targetIndex]!;
      const file = target.files[fileChoice % target.files.length]!;
      writeFileSync(file.path, mutateRaw(file.bytes, kind, at, value));
      try {
        await exercise(target);
      } finally {
        writeFileSync(file.path, file.bytes);
      }
      runs++;
    }),
    { numRuns: 3000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
  );
  targets.forEach(restore);
  t.diagnostic(`${runs} runs`);
  assert.ok(runs >= 100, `only ${runs} runs`);
});

test('fuzz: block contents damaged behind a valid crc reach the block parser', { skip: skipWithoutCorpus }, async (t) => {
  const targets = TARGETS.map(loadTarget);
  let runs = 0;
  let opened = 0;
  await fc.assert(
    fc.asyncProperty(targetsArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), async (targetIndex, which, at, value) => {
      const target = targets[targetIndex]!;
      const index = indexOf(target);
      writeFileSync(index.path, mutateBlockWithValidCrc(index.bytes, which, at, value));
      try {
        if ((await exercise(target)) === 'ok') opened++;
      } finally {
        writeFileSync(index.path, index.bytes);
      }
      runs++;
    }),
    { numRuns: 3000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
  );
  t.diagnostic(`${runs} runs`);
  assert.ok(runs >= 100, `only ${runs} runs`);
  t.diagnostic(`${opened} mutated tables still opened`);
  assert.ok(opened > 0, 'some mutations still open (the fuzzer gets past the crc)');
});

const absurdInt = fc.oneof(
  fc.integer({ min: -5, max: 64 }),
  fc.constantFrom(-1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 40, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER),
  fc.nat(),
);

test('fuzz: BundleEntryProto fields rewritten to absurd shapes, offsets, sizes, dtypes, shards', { skip: skipWithoutCorpus }, async (t) => {
  const targets = TARGETS.map(loadTarget);
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      targetsArb,
      fc.nat(),
      fc.record({
        dtype: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 100, max: 130 }), fc.integer({ min: -3, max: 1000 })),
        shape: fc.array(absurdInt, { maxLength: 6 }),
        shard_id: fc.oneof(fc.integer({ min: -1, max: 3 }), absurdInt),
        offset: absurdInt,
        size: absurdInt,
        crc32c: fc.nat({ max: 0xffffffff }),
      }, { requiredKeys: [] }),
      fc.option(fc.record({ num_shards: absurdInt, endianness: fc.integer({ min: 0, max: 3 }) }, { requiredKeys: [] })),
      async (targetIndex, which, patch, headerPatch) => {
        const target = targets[targetIndex]!;
        const index = indexOf(target);
        const rows = readTable(index.bytes, 'x');
        const i = 1 + (which % Math.max(1, rows.length - 1));
        const next = rows.map((r) => ({ key: r.key, value: r.value }));
        if (i < next.length) {
          const entry = protoTypes.BundleEntryProto.toObject(protoTypes.BundleEntryProto.decode(next[i]!.value)) as Record<string, unknown>;
          const merged = { ...entry, ...patch, shape: patch.shape ? { dim: patch.shape.map((size) => ({ size })) } : entry.shape };
          next[i]!.value = protoTypes.BundleEntryProto.encode(protoTypes.BundleEntryProto.fromObject(merged)).finish();
        }
        if (headerPatch) {
          const header = protoTypes.BundleHeaderProto.toObject(protoTypes.BundleHeaderProto.decode(next[0]!.value)) as Record<string, unknown>;
          next[0]!.value = protoTypes.BundleHeaderProto.encode(protoTypes.BundleHeaderProto.fromObject({ ...header, ...headerPatch })).finish();
        }
        writeFileSync(index.path, buildTable(next));
        try {
          await exercise(target);
        } finally {
          writeFileSync(index.path, index.bytes);
        }
        runs++;
      },
    ),
    { numRuns: 3000, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
  );
  t.diagnostic(`${runs} runs`);
  assert.ok(runs >= 100, `only ${runs} runs`);
});

test('fuzz: V1 checkpoint (serving_half_plus_two_tf1_v1ckpt export) mutated', { skip: skipWithoutCorpus }, async (t) => {
  const path = copyToTemp(real('serving_half_plus_two_tf1_v1ckpt', '00000123', 'export'));
  const pristine = new Uint8Array(readFileSync(path));
  const target: Target = { dir: path, files: [{ path, bytes: pristine }] };
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.boolean(), fc.integer({ min: 0, max: 4 }), fc.nat(), fc.nat(), async (valid, kind, at, value) => {
      writeFileSync(path, valid ? mutateBlockWithValidCrc(pristine, at, at >>> 3, value) : mutateRaw(pristine, kind, at, value));
      try {
        let ckpt: CheckpointIR;
        try {
          ckpt = await openCheckpoint(path);
        } catch (error) {
          assertOurs(error, target);
          return;
        }
        for (const e of ckpt.entries) {
          try {
            await readCheckpointTensor(ckpt, e.key);
          } catch (error) {
            assertOurs(error, target);
          }
        }
      } finally {
        writeFileSync(path, pristine);
        runs++;
      }
    }),
    { numRuns: 2000, interruptAfterTimeLimit: 4_000, markInterruptAsFailure: false },
  );
  t.diagnostic(`${runs} runs`);
  assert.ok(runs >= 100, `only ${runs} runs`);
});

/** A slice key as TensorFlow's EncodeTensorNameSlice writes it, for numbers in [-64, 64). */
function sliceKey(name: string, extents: { start: number; length: number }[]): Uint8Array {
  const small = (v: number): number => (0x80 ^ v) & 0xff;
  return Uint8Array.from([0, ...new TextEncoder().encode(name), 0, 1, 1, extents.length, ...extents.flatMap((x) => [small(x.start), small(x.length)])]);
}

test('fuzz: partitioned tensors with arbitrary slice extents, overlaps, gaps and sizes', async (t) => {
  const dir = copyToTemp(real('tf_bundle_old_string_tensors'));
  const prefix = join(dir, 'part');
  const target: Target = { dir, files: [] };
  const extent = fc.record({ start: fc.integer({ min: -2, max: 8 }), length: fc.integer({ min: -2, max: 8 }) });
  let runs = 0;
  let assembled = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }),
      fc.array(fc.array(extent, { minLength: 1, maxLength: 3 }), { minLength: 0, maxLength: 5 }),
      fc.boolean(),
      fc.nat(),
      fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
      async (shape, randomSlices, listAll, sizeSkew, cuts) => {
        // Half the runs tile dimension 0 properly (the layout partitioners produce), half are random.
        const tile = sizeSkew % 2 === 0;
        const points = [...new Set([0, ...cuts.filter((c) => c < shape[0]!), shape[0]!])].sort((a, b) => a - b);
        const slices = tile
          ? points.slice(1).map((end, i) => [{ start: points[i]!, length: end - points[i]! }, ...shape.slice(1).map((n) => ({ start: 0, length: n }))])
          : randomSlices;
        const rows: { key: Uint8Array; value: Uint8Array }[] = [];
        const data: number[] = [];
        const partRows: { key: Uint8Array; value: Uint8Array }[] = [];
        for (const [i, extents] of slices.entries()) {
          const lengths = extents.map((x, d) => (x.length === -1 ? (shape[d] ?? 1) : Math.max(0, x.length)));
          const count = lengths.reduce((a, b) => a * b, 1);
          const bytes = new Uint8Array(new Float32Array(Array.from({ length: count }, (_, k) => i * 100 + k)).buffer);
          const size = i === 0 && sizeSkew % 7 === 1 ? bytes.length + 4 : bytes.length;
          const entry = { dtype: 1, shape: { dim: lengths.map((size) => ({ size })) }, offset: data.length, size, crc32c: maskCrc(crc32c(bytes)) };
          data.push(...bytes);
          partRows.push({ key: sliceKey('p', extents), value: protoTypes.BundleEntryProto.encode(protoTypes.BundleEntryProto.fromObject(entry)).finish() });
        }
        const listed = listAll || tile ? slices : slices.slice(0, 1);
        const full = { dtype: 1, shape: { dim: shape.map((size) => ({ size })) }, slices: listed.map((extents) => ({ extent: extents.map((x) => ({ start: x.start, length: x.length })) })) };
        rows.push({ key: new Uint8Array(0), value: protoTypes.BundleHeaderProto.encode(protoTypes.BundleHeaderProto.fromObject({ num_shards: 1 })).finish() });
        const sortedParts = partRows.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))).filter((r, i, all) => i === 0 || Buffer.compare(Buffer.from(all[i - 1]!.key), Buffer.from(r.key)) !== 0);
        rows.push(...sortedParts);
        rows.push({ key: new TextEncoder().encode('p'), value: protoTypes.BundleEntryProto.encode(protoTypes.BundleEntryProto.fromObject(full)).finish() });
        writeFileSync(`${prefix}.index`, buildTable(rows));
        writeFileSync(`${prefix}.data-00000-of-00001`, Uint8Array.from(data));
        runs++;
        let ckpt: CheckpointIR;
        try {
          ckpt = await openCheckpoint(prefix);
        } catch (error) {
          assertOurs(error, target);
          return;
        }
        try {
          const tensor = await readCheckpointTensor(ckpt, 'p');
          assert.equal(tensor.values.kind, 'number');
          assert.equal((tensor.values as { values: number[] }).values.length, shape.reduce((a, b) => a * b, 1));
          assert.ok((tensor.values as { values: number[] }).values.every((v) => typeof v === 'number'), 'every element filled');
          assembled++;
        } catch (error) {
          assertOurs(error, target);
        }
      },
    ),
    { numRuns: 2000, interruptAfterTimeLimit: 4_000, markInterruptAsFailure: false },
  );
  t.diagnostic(`${runs} runs, ${assembled} assembled`);
  assert.ok(runs >= 100, `only ${runs} runs`);
  assert.ok(assembled > 0, 'some slice layouts are valid and assemble');
});
