// Protobuf decoders generated ahead of time (precompiledDecodersModule → the bundles' copy of
// main/formats/proto-decoders.ts) and the decode-only set-up of main/formats/protobuf.ts:
// - on every real SavedModel in ../shared/corpus/real (serving_saved_model_half_plus_two_tf2_cpu,
//   tf_regularization_bert1, …) they decode exactly what protobufjs's run-time decoders decode,
//   and they are the ones used;
// - an ahead-of-time decoder made for other fields is never used (protobufjs generates one);
// - a type set up for decoding only still encodes (the writers in main/writer encode).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type protobuf from 'protobufjs';
import { loadProtoRoot, parseProtoFiles, precompiledDecodersModule, protoRoot, type PrecompiledDecoders } from '../../../main/formats/protobuf.ts';
import { REAL, skipWithoutCorpus } from '../../helpers/corpus.ts';

async function generatedDecoders(): Promise<PrecompiledDecoders> {
  const source = precompiledDecodersModule(protoRoot);
  const module = (await import(`data:text/javascript,${encodeURIComponent(source)}`)) as { PRECOMPILED_DECODERS: PrecompiledDecoders };
  return module.PRECOMPILED_DECODERS;
}

/** Every saved_model.pb under the real corpus. */
function corpusSavedModels(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (name === 'saved_model.pb') found.push(full);
      else if (depth < 3 && statSync(full).isDirectory()) walk(full, depth + 1);
    }
  };
  walk(REAL, 0);
  return found.sort();
}

/** A decoded message as comparable text: bytes as hex, 64-bit numbers as strings. */
function canonical(message: unknown): string {
  return JSON.stringify(message, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
    if (value && typeof value === 'object' && 'low' in value && 'high' in value && 'unsigned' in value) return `long:${String(value)}`;
    return value;
  });
}

/** The same decoders, counting which types' ahead-of-time decoders were installed. */
function counting(decoders: PrecompiledDecoders, used: Set<string>): PrecompiledDecoders {
  return Object.fromEntries(
    Object.entries(decoders).map(([name, entry]) => [name, { ...entry, decode: (...args: Parameters<typeof entry.decode>) => (used.add(name), entry.decode(...args)) }]),
  );
}

const savedModelType = (root: protobuf.Root) => root.lookupType('tensorflow.SavedModel');

test('decoders generated ahead of time decode every corpus SavedModel exactly as protobufjs run-time decoders do, and are used', { skip: skipWithoutCorpus }, async () => {
  const decoders = await generatedDecoders();
  assert.ok(Object.keys(decoders).length > 50, 'a decoder for every message type of main/proto');
  const used = new Set<string>();
  const ahead = loadProtoRoot(counting(decoders, used), parseProtoFiles());
  const runtime = loadProtoRoot(null, parseProtoFiles());
  const files = corpusSavedModels();
  assert.ok(files.length >= 10, `${files.length} SavedModels`);
  for (const file of files) {
    const bytes = readFileSync(file);
    assert.equal(canonical(savedModelType(ahead).decode(bytes)), canonical(savedModelType(runtime).decode(bytes)), file);
  }
  for (const name of ['.tensorflow.SavedModel', '.tensorflow.MetaGraphDef', '.tensorflow.GraphDef', '.tensorflow.NodeDef', '.tensorflow.AttrValue', '.tensorflow.SignatureDef', '.tensorflow.SavedObjectGraph']) {
    assert.ok(used.has(name), `${name} decoded by its ahead-of-time decoder`);
  }
});

test('an ahead-of-time decoder generated for other fields is never used: protobufjs generates the decoder', { skip: skipWithoutCorpus }, async () => {
  const decoders = await generatedDecoders();
  const stale: PrecompiledDecoders = {
    ...decoders,
    '.tensorflow.SavedModel': {
      ...decoders['.tensorflow.SavedModel']!,
      fields: `${decoders['.tensorflow.SavedModel']!.fields};3:extra:string:::false:false:false:true:NONE`,
      decode: () => {
        throw new Error('a decoder for other fields was installed');
      },
    },
  };
  const root = loadProtoRoot(stale, parseProtoFiles());
  const bytes = readFileSync(join(REAL, 'serving_saved_model_half_plus_two_tf2_cpu', '00000123', 'saved_model.pb'));
  const decoded = savedModelType(root).decode(bytes) as unknown as { meta_graphs: unknown[] };
  assert.equal(decoded.meta_graphs.length, 1);
});

test('a type set up for decoding only still encodes, verifies and converts (the writers encode)', { skip: skipWithoutCorpus }, async () => {
  const root = loadProtoRoot(await generatedDecoders(), parseProtoFiles());
  const type = savedModelType(root);
  const bytes = readFileSync(join(REAL, 'serving_saved_model_half_plus_two_tf2_cpu', '00000123', 'saved_model.pb'));
  const decoded = type.decode(bytes);
  const encoded = type.encode(decoded).finish();
  assert.equal(canonical(type.decode(encoded)), canonical(decoded));
  assert.equal(type.verify(decoded), null);
  const plain = type.toObject(decoded, { defaults: false });
  assert.equal(canonical(type.decode(type.encode(type.fromObject(plain)).finish())), canonical(decoded));
  // a type first touched by encode (no decode before it) is set up by protobufjs itself
  const fresh = loadProtoRoot(await generatedDecoders(), parseProtoFiles());
  const versions = fresh.lookupType('tensorflow.VersionDef');
  const again = versions.decode(versions.encode({ producer: 7, min_consumer: 1 }).finish()) as unknown as { producer: number };
  assert.equal(again.producer, 7);
});
