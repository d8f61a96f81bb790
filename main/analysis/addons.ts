// Well-known add-on op libraries. An op TensorFlow does not define is native code shipped with
// the model; when its name belongs to a widely used library, the auditor can tell a known kernel
// (TensorFlow Text's WordpieceTokenizeWithOffsets) from an unknown one (ZzCustomExfil). The
// names below were taken from each library's op registrations.

export interface AddonLibrary {
  library: string;
  note: string;
}

interface PrefixLibrary {
  prefix: string;
  library: string;
  note: string;
}

// Libraries that namespace every op with a prefix (REGISTER_OP("Addons>…") etc.).
const PREFIXES: PrefixLibrary[] = [
  { prefix: 'TFText>', library: 'TensorFlow Text', note: 'text processing ops of tensorflow-text (tokenizers, normalizers); needs `import tensorflow_text` to load.' },
  { prefix: 'Addons>', library: 'TensorFlow Addons', note: 'ops of tensorflow-addons (image, seq2seq, activations); the project is end-of-life.' },
  { prefix: 'IO>', library: 'TensorFlow I/O', note: 'ops of tensorflow-io: many read files or reach the network (Kafka, cloud stores, databases); check each one.' },
  { prefix: 'TFRA>', library: 'TensorFlow Recommenders-Addons', note: 'dynamic embedding ops of tensorflow-recommenders-addons; some talk to external key-value stores (Redis).' },
  { prefix: 'Scann>', library: 'ScaNN', note: 'nearest-neighbour search ops of scann; searchers can be loaded from files.' },
  { prefix: 'SimpleML', library: 'TensorFlow Decision Forests', note: 'ops of tensorflow-decision-forests (Yggdrasil); model loading ops read a model directory from disk.' },
];

// TensorFlow Text ops registered without a prefix (tensorflow_text/core/ops/*.cc).
const TF_TEXT_OPS = [
  'CaseFoldUTF8',
  'NormalizeUTF8',
  'NormalizeUTF8WithOffsets',
  'FindSourceOffsets',
  'ConstrainedSequence',
  'MaxSpanningTree',
  'RegexSplitWithOffsets',
  'RougeL',
  'SentenceFragments',
  'SentenceFragmentsV2',
  'SplitMergeTokenizeWithOffsets',
  'TokenizerFromLogits',
  'UnicodeScriptTokenizeWithOffsets',
  'WhitespaceTokenizeWithOffsets',
  'WordpieceTokenizeWithOffsets',
  'SentencepieceOp',
  'SentencepieceTokenizeOp',
  'SentencepieceTokenizeWithOffsetsOp',
  'SentencepieceDetokenizeOp',
  'SentencepieceVocabSizeOp',
  'SentencepieceIdToStringOp',
  'SentencepieceStringToIdOp',
];

// The SentencePiece project's own TensorFlow ops (tf_sentencepiece, sentencepiece_processor_ops.cc).
const SENTENCEPIECE_OPS = [
  'SentencepieceGetPieceSize',
  'SentencepiecePieceToId',
  'SentencepieceIdToPiece',
  'SentencepieceGetPieceType',
  'SentencepieceEncodeDense',
  'SentencepieceEncodeSparse',
  'SentencepieceDecode',
];

// Pure-computation ops of TensorFlow 1.x tf.contrib, loaded from contrib's own libraries
// (tensorflow/contrib/*/ops/*.cc); TensorFlow 2 cannot load them.
const TF1_CONTRIB_OPS = [
  'GatherTree', // contrib/seq2seq beam search
  'ImageProjectiveTransform', // contrib/image
  'Resampler', // contrib/resampler
  'ResamplerGrad',
  'ZeroInitializer', // contrib/framework
  'SparseFeatureCross', // contrib/layers
  'SparseFeatureCrossV2',
];

const NAMED: ReadonlyMap<string, AddonLibrary> = new Map<string, AddonLibrary>([
  ...TF_TEXT_OPS.map((op): [string, AddonLibrary] => [
    op,
    {
      library: 'TensorFlow Text',
      note: op.startsWith('Sentencepiece')
        ? 'SentencePiece tokenizer op of tensorflow-text; the model proto is embedded in the graph (attr `model`).'
        : 'text processing op of tensorflow-text; needs `import tensorflow_text` to load.',
    },
  ]),
  ...SENTENCEPIECE_OPS.map((op): [string, AddonLibrary] => [
    op,
    {
      library: 'SentencePiece (tf_sentencepiece)',
      note: 'SentencePiece op of the tf_sentencepiece package; a non-empty attr `model_file` makes it read that file.',
    },
  ]),
  ...TF1_CONTRIB_OPS.map((op): [string, AddonLibrary] => [
    op,
    {
      library: 'TensorFlow 1.x contrib',
      note: 'pure-computation op of tf.contrib (TensorFlow 1.x); TensorFlow 2 cannot load the model without that library.',
    },
  ]),
]);

/** The add-on library an op name belongs to, or null when it is not a known library's op. */
export function addonLibrary(op: string): AddonLibrary | null {
  const named = NAMED.get(op);
  if (named) return named;
  for (const entry of PREFIXES) {
    if (op.startsWith(entry.prefix) && op.length > entry.prefix.length) return { library: entry.library, note: entry.note };
  }
  return null;
}

/** Names of the libraries this module recognises (for documentation). */
export function knownAddonLibraries(): string[] {
  return [...new Set([...PREFIXES.map((p) => p.library), ...[...NAMED.values()].map((v) => v.library)])].sort();
}
