// Property tests: real corpus protobufs (saved_model.pb, .meta, frozen .pb) mutated by
// truncation, bit flips, byte overwrites, splices and length-prefix corruption. Every outcome
// must be IR or a ModelError naming the file: never another exception, never a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeSavedModelBytes, parseSavedModelText } from '../../../main/formats/savedmodel.ts';
import { decodeMetaGraphDefBytes, parseMetaGraphText } from '../../../main/formats/metagraph.ts';
import { decodeGraphDefBytes, parseGraphDefText } from '../../../main/formats/graphdef.ts';
import { classifyProtoBytes } from '../../../main/formats/detect.ts';
import { openModel } from '../../../main/formats/index.ts';
import { ModelError } from '../../../main/formats/errors.ts';
import { real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

type Decoder = (bytes: Uint8Array, file: string) => unknown;

const SEEDS: { file: string; decode: Decoder }[] = [
  { file: real('serving_saved_model_half_plus_two_cpu', '00000123', 'saved_model.pb'), decode: decodeSavedModelBytes },
  { file: real('tabuse_printv2_tmp_file', 'saved_model.pb'), decode: decodeSavedModelBytes },
  { file: real('tf_cc_VarsAndArithmeticObjectGraph', 'saved_model.pb'), decode: decodeSavedModelBytes },
  { file: real('tfnet_metagraphs', 'kmeans.meta'), decode: decodeMetaGraphDefBytes },
  { file: real('serving_half_plus_two_tf1_v2ckpt', '00000123', 'export.meta'), decode: decodeMetaGraphDefBytes },
  { file: real('tfonnx_lstm_frozen', 'frozen.pb'), decode: decodeGraphDefBytes },
  { file: real('dl4j_tf_cond_true', 'frozen_model.pb'), decode: decodeGraphDefBytes },
];

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'overwrite'; at: number; bytes: number[] }
  | { kind: 'splice'; from: number; length: number; to: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'varint'; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('splice' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 512 }), to: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  // A length prefix rewritten to something absurd (a 5-byte varint up to 2^32-1).
  fc.record({ kind: fc.constant('varint' as const), at: fc.nat(), value: fc.oneof(fc.constant(0xffffffff), fc.nat(), fc.constant(0x7fffffff)) }),
);

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(seed);
  for (const m of mutations) {
    const n = bytes.length;
    if (n === 0) break;
    switch (m.kind) {
      case 'truncate': bytes = bytes.subarray(0, m.at % n); break;
      case 'flip': bytes[m.at % n]! ^= 1 << m.bit; break;
      case 'overwrite': m.bytes.forEach((b, i) => { if ((m.at % n) + i < n) bytes[(m.at % n) + i] = b; }); break;
      case 'splice': {
        const from = m.from % n;
        const to = m.to % n;
        bytes = concat(bytes.subarray(0, to), bytes.slice(from, from + m.length), bytes.subarray(to));
        break;
      }
      case 'delete': bytes = concat(bytes.subarray(0, m.at % n), bytes.subarray((m.at % n) + m.length)); break;
      case 'varint': {
        const at = m.at % n;
        bytes = concat(bytes.subarray(0, at), Uint8Array.from(varint(m.value)), bytes.subarray(at + 1));
        break;
      }
    }
  }
  return bytes;
}

function expectIrOrModelError(run: () => unknown, file: string): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ModelError)) throw new Error(`${file}: non-ModelError ${String(error)}`);
    assert.equal(error.file, file);
    assert.ok(error.reason.length > 0);
  }
}

test('mutated corpus protobufs decode to IR or fail with a ModelError naming the file', { skip: skipWithoutCorpus }, () => {
  const seeds = SEEDS.map((s) => ({ ...s, bytes: readFileSync(s.file) }));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, mutations) => {
      const seed = seeds[which]!;
      const bytes = mutate(seed.bytes, mutations);
      expectIrOrModelError(() => seed.decode(bytes, seed.file), seed.file);
      // Detection scoring must never throw, whatever the bytes.
      classifyProtoBytes(bytes);
    }),
    { numRuns: 6000 },
  );
});

test('mutated bytes under each of the three decoders (cross-type confusion)', { skip: skipWithoutCorpus }, () => {
  const seeds = SEEDS.map((s) => readFileSync(s.file));
  const decoders: Decoder[] = [decodeSavedModelBytes, decodeMetaGraphDefBytes, decodeGraphDefBytes];
  fc.assert(
    fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.integer({ min: 0, max: 2 }), fc.array(mutation, { maxLength: 2 }), (which, decoder, mutations) => {
      const bytes = mutate(seeds[which]!, mutations);
      expectIrOrModelError(() => decoders[decoder]!(bytes, 'confused.pb'), 'confused.pb');
    }),
    { numRuns: 1500 },
  );
});

test('openModel on mutated saved_model.pb files: a ModelIR or a ModelError, nothing else', { skip: skipWithoutCorpus }, async () => {
  const seed = readFileSync(real('tabuse_rpc_call', 'saved_model.pb'));
  const dir = tempDir();
  const file = join(dir, 'saved_model.pb');
  let opened = 0;
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
      writeFileSync(file, mutate(seed, mutations));
      try {
        const model = await openModel(dir);
        assert.equal(model.format, 'saved-model');
        opened++;
      } catch (error) {
        if (!(error instanceof ModelError)) throw new Error(`non-ModelError ${String(error)}`);
        assert.ok(error.file.startsWith(dir), error.message);
        refused++;
      }
    }),
    { numRuns: 150 },
  );
  assert.ok(opened > 0 && refused > 0, `opened ${opened}, refused ${refused}`);
});

test('mutated text-format protos convert to IR or fail with a ModelError naming the file', { skip: skipWithoutCorpus }, () => {
  const seeds: { file: string; parse: (text: string, file: string) => unknown }[] = [
    { file: real('tf_grappler_graphdefs', 'while_loop.pbtxt'), parse: parseGraphDefText },
    { file: real('tf_grappler_graphdefs', 'function_functional_while.pbtxt'), parse: parseGraphDefText },
    { file: real('tf_framework_metrics_export_meta_graph', 'metrics_export_meta_graph.pb'), parse: parseMetaGraphText },
    { file: real('tf_cc_half_plus_two_pbtxt', '00000123', 'saved_model.pbtxt'), parse: parseSavedModelText },
  ];
  const bytes = seeds.map((s) => readFileSync(s.file));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
      const seed = seeds[which]!;
      const text = Buffer.from(mutate(bytes[which]!, mutations)).toString('utf8');
      expectIrOrModelError(() => seed.parse(text, seed.file), seed.file);
    }),
    { numRuns: 1500 },
  );
});
