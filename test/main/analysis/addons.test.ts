// Proves the add-on library table on the TF-Text ops of the real corpus model
// serving_tf_text_regression_2020 (FACTS.json), on prefixed library names, and that TensorFlow
// ops and invented names are not attributed to any library.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { addonLibrary, knownAddonLibraries } from '../../../main/analysis/addons.ts';
import { isTensorFlowOp, registryOpNames } from '../../../main/analysis/op-registry.ts';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';

test('serving_tf_text_regression_2020: every non-TensorFlow op is named as TensorFlow Text', { skip: skipWithoutCorpus }, () => {
  const facts = JSON.parse(readFileSync(real('FACTS.json'), 'utf8')) as Record<string, unknown>;
  const text = JSON.stringify(facts.serving_tf_text_regression_2020);
  const ops = new Set<string>();
  for (const match of text.matchAll(/"(graph_op_types|function_op_types|stripped_op_list)":\[([^\]]*)\]/g)) {
    for (const op of JSON.parse(`[${match[2]}]`) as string[]) ops.add(op);
  }
  const custom = [...ops].filter((op) => !isTensorFlowOp(op)).sort();
  assert.ok(custom.includes('WordpieceTokenizeWithOffsets'));
  assert.ok(custom.includes('SentencepieceOp'));
  assert.ok(custom.length >= 10, `only ${custom.length} TF-Text ops found`);
  for (const op of custom) {
    const lib = addonLibrary(op);
    assert.ok(lib, `${op} not attributed`);
    assert.equal(lib.library, 'TensorFlow Text', op);
    assert.ok(lib.note.length > 10);
  }
});

test('prefixed libraries: Addons>, IO>, TFRA>, TFText>, Scann>, SimpleML', () => {
  assert.equal(addonLibrary('Addons>ImageProjectiveTransformV2')?.library, 'TensorFlow Addons');
  assert.equal(addonLibrary('IO>KafkaDataset')?.library, 'TensorFlow I/O');
  assert.match(addonLibrary('IO>KafkaDataset')?.note ?? '', /network/);
  assert.equal(addonLibrary('TFRA>CuckooHashTableOfTensors')?.library, 'TensorFlow Recommenders-Addons');
  assert.equal(addonLibrary('TFText>FastWordpieceTokenizeWithOffsets')?.library, 'TensorFlow Text');
  assert.equal(addonLibrary('Scann>ScannCreateSearcher')?.library, 'ScaNN');
  assert.equal(addonLibrary('SimpleMLLoadModelFromPath')?.library, 'TensorFlow Decision Forests');
  assert.equal(addonLibrary('Addons>'), null, 'a bare prefix is not an op');
});

test('SentencePiece ops: TF-Text resource ops and tf_sentencepiece model_file ops', () => {
  assert.equal(addonLibrary('SentencepieceTokenizeOp')?.library, 'TensorFlow Text');
  assert.equal(addonLibrary('SentencepieceEncodeDense')?.library, 'SentencePiece (tf_sentencepiece)');
  assert.match(addonLibrary('SentencepieceEncodeDense')?.note ?? '', /model_file/);
});

test('TensorFlow ops and unknown names belong to no add-on library', () => {
  for (const op of ['MatMul', 'ReadFile', 'StringSplitV2', 'RegexReplace', 'ZzCustomExfil', 'CaseFold', 'addons>x']) {
    assert.equal(addonLibrary(op), null, op);
  }
  assert.ok(knownAddonLibraries().includes('TensorFlow Text'));
});

test('TensorFlow 1.x contrib ops are named, and none of them is a TensorFlow 2.21 op', () => {
  for (const op of ['GatherTree', 'ImageProjectiveTransform', 'Resampler', 'ResamplerGrad', 'ZeroInitializer', 'SparseFeatureCross', 'SparseFeatureCrossV2']) {
    assert.equal(addonLibrary(op)?.library, 'TensorFlow 1.x contrib', op);
    assert.equal(isTensorFlowOp(op), false, op);
  }
});

test('no TensorFlow registry op is attributed to an add-on library', () => {
  const claimed = registryOpNames().filter((op) => addonLibrary(op) !== null);
  assert.deepEqual(claimed, []);
});
