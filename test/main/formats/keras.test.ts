// Keras readers: P7_keras_lambdas (model.keras and model.h5), binja_keras_custom_layer, the dl4j
// Keras 1/2 HDF5 models, keras_metadata.pb of tabuse_demo_lambda_savedmodel, crafted .keras
// archives (nested models, wrappers, several Lambdas) written here, and malformed archives
// (truncated, zip-slip names, zip bombs, too many entries, missing config) ending in ModelErrors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LIMITS, ModelError } from '../../../main/formats/errors.ts';
import { collectLayers, parseKerasMetadataPb, parsePythonJson, readKerasH5, readKerasV3, unsafeEntryName } from '../../../main/formats/keras.ts';
import { copyToTemp, crafted, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { buildKerasArchive, buildZip } from './writers.ts';

const layerSummary = (layers: { path: string; className: string; name: string }[]) => layers.map((l) => `${l.path}|${l.className}|${l.name}`);

test('P7_keras_lambdas model.keras: nested Functional, both Lambdas with config paths, weights listed', { skip: skipWithoutCorpus }, async () => {
  const model = await readKerasV3(crafted('P7_keras_lambdas', 'model.keras'));
  assert.equal(model.format, 'keras-v3');
  assert.deepEqual(model.metaGraphs, []);
  assert.equal(model.files[0].path, 'model.keras');
  assert.equal(model.files[0].size, readFileSync(crafted('P7_keras_lambdas', 'model.keras')).length);
  assert.match(model.files[0].sha256, /^[0-9a-f]{64}$/);
  const k = model.keras!;
  assert.equal(k.kerasVersion, '3.15.1');
  assert.deepEqual(layerSummary(k.layers), [
    '|Functional|nested_lambda_model',
    'config.layers[0]|InputLayer|features',
    'config.layers[1]|Dense|dense_in',
    'config.layers[2]|Lambda|double',
    'config.layers[3]|Functional|inner_block',
    'config.layers[3].config.layers[0]|InputLayer|inner_x',
    'config.layers[3].config.layers[1]|Lambda|postprocess',
  ]);
  assert.equal(k.layers[3].module, 'keras.layers');
  assert.deepEqual(k.weights, [
    { path: 'layers/dense/vars/0', dtype: 'float32', shape: [3, 3] },
    { path: 'layers/dense/vars/1', dtype: 'float32', shape: [3] },
  ]);
  assert.deepEqual((k.metadata.archiveEntries as { name: string }[]).map((e) => e.name), ['metadata.json', 'config.json', 'model.weights.h5']);
});

test('P7_keras_lambdas model.h5: the same layers from the model_config attribute', { skip: skipWithoutCorpus }, async () => {
  const model = await readKerasH5(crafted('P7_keras_lambdas', 'model.h5'));
  assert.equal(model.format, 'keras-h5');
  const k = model.keras!;
  assert.equal(k.kerasVersion, '3.15.1');
  assert.equal(k.backend, 'tensorflow');
  assert.ok(layerSummary(k.layers).includes('config.layers[3].config.layers[1]|Lambda|postprocess'));
  assert.equal(k.weights.length, 2);
});

test('binja_keras_custom_layer: .keras and .h5 name the custom class', { skip: skipWithoutCorpus }, async () => {
  const v3 = await readKerasV3(real('binja_keras_custom_layer', 'malicious_model.keras'));
  assert.equal(v3.keras!.kerasVersion, '3.3.3');
  assert.deepEqual(v3.keras!.layers.map((l) => [l.className, l.module, l.registeredName]), [['MaliciousModel', 'malicious_model', 'Custom>MaliciousModel']]);
  assert.deepEqual(v3.keras!.weights.map((w) => [w.path, w.shape]), [['dense/vars/0', [10, 10]], ['dense/vars/1', [10]]]);
  const h5 = await readKerasH5(real('binja_keras_custom_layer', 'malicious_model.h5'));
  assert.equal(h5.keras!.kerasVersion, '3.3.3');
  assert.equal(h5.keras!.layers[0].className, 'MaliciousModel');
});

test('dl4j Keras 1 and 2 HDF5 models: Sequential list configs, functional models, training_config, weights-only file', { skip: skipWithoutCorpus }, async () => {
  const keras1 = await readKerasH5(real('dl4j_keras1_simple_lstm_th', 'simple_lstm_th_keras_1_model.h5'));
  assert.equal(keras1.keras!.kerasVersion, '1.2.2');
  assert.equal(keras1.keras!.backend, null);
  assert.deepEqual(layerSummary(keras1.keras!.layers), ['|Sequential|', 'config[0]|LSTM|lstm_1', 'config[1]|Dense|dense_1']);
  assert.equal(keras1.keras!.weights.length, 28);
  const lambda = await readKerasH5(real('dl4j_keras_lambda', 'sequential_lambda.h5'));
  assert.deepEqual(lambda.keras!.layers.map((l) => l.className), ['Sequential', 'Dense', 'Lambda', 'Lambda', 'Dense']);
  const adam = await readKerasH5(real('dl4j_keras_optimizer_adam', 'adam.h5'));
  assert.equal((adam.keras!.metadata.training_config as { optimizer_config: { class_name: string } }).optimizer_config.class_name, 'Adam');
  const weightsOnly = await readKerasH5(real('dl4j_keras2_simple_lstm_tf', 'simple_lstm_tf_keras_2_weights.h5'));
  assert.equal(weightsOnly.keras!.config, null);
  assert.match(weightsOnly.warnings[0], /weights-only Keras HDF5/);
  assert.equal(weightsOnly.keras!.weights.length, 5);
});

test('tabuse_demo_lambda_savedmodel keras_metadata.pb: nodes, nested Sequential and the Lambda naming __main__.exploit', { skip: skipWithoutCorpus }, () => {
  const file = real('tabuse_demo_lambda_savedmodel', 'keras_metadata.pb');
  const k = parseKerasMetadataPb(readFileSync(file), file);
  assert.equal(k.kerasVersion, '2.15.0');
  const lambda = k.layers.find((l) => l.className === 'Lambda')!;
  assert.equal(lambda.path, 'root#config.layers[3]');
  assert.deepEqual(lambda.config, { name: 'lambda', trainable: true, dtype: 'float32', function: 'exploit', function_type: 'function', module: '__main__', output_shape: null, output_shape_type: 'raw', output_shape_module: null, arguments: {} });
  assert.ok(layerSummary(k.layers).includes('root#config.layers[1].config.layers[2]|Dense|dense'));
  const nodes = k.metadata.nodes as { nodePath: string; identifier: string }[];
  assert.deepEqual(nodes.slice(0, 4).map((n) => [n.nodePath, n.identifier]), [
    ['root', '_tf_keras_sequential'],
    ['root.layer_with_weights-0', '_tf_keras_sequential'],
    ['root.layer-1', '_tf_keras_layer'],
    ['root.layer-2', '_tf_keras_layer'],
  ]);
  assert.equal(k.layers.filter((l) => l.className === 'Lambda').length, 1, 'copies of the same layer in node metadata are merged');
  assert.throws(() => parseKerasMetadataPb(new Uint8Array([0x0a, 0xff, 0xff]), 'bad.pb'), (e: unknown) => e instanceof ModelError && e.file === 'bad.pb');
});

test('crafted .keras: nested Sequential inside Functional, TimeDistributed and Bidirectional wrappers, RNN cells', async () => {
  const lambda = (name: string) => ({ module: 'keras.layers', class_name: 'Lambda', registered_name: null, config: { name, trainable: true, function: { class_name: '__lambda__', config: { code: 'AA==', defaults: null, closure: null } } } });
  const config = {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'outer',
      trainable: true,
      layers: [
        { module: 'keras.layers', class_name: 'TimeDistributed', config: { name: 'td', trainable: true, layer: lambda('td_inner') } },
        { module: 'keras.layers', class_name: 'Bidirectional', config: { name: 'bi', trainable: true, layer: { module: 'keras.layers', class_name: 'LSTM', config: { name: 'fwd', trainable: true } }, backward_layer: { module: 'keras.layers', class_name: 'LSTM', config: { name: 'bwd', trainable: true } } } },
        { module: 'keras.layers', class_name: 'RNN', config: { name: 'rnn', trainable: true, cell: { module: 'keras.layers', class_name: 'StackedRNNCells', config: { cells: [{ module: 'keras.layers', class_name: 'GRUCell', config: { name: 'gru_cell', trainable: true } }] } } } },
        { module: 'keras', class_name: 'Sequential', config: { name: 'seq', trainable: true, layers: [lambda('seq_a'), { module: 'keras', class_name: 'Functional', config: { name: 'deep', trainable: true, layers: [lambda('seq_deep')] } }] } },
      ],
    },
  };
  const dir = tempDir();
  const file = join(dir, 'wrappers.keras');
  writeFileSync(file, buildKerasArchive(config));
  const k = (await readKerasV3(file)).keras!;
  assert.deepEqual(layerSummary(k.layers), [
    '|Functional|outer',
    'config.layers[0]|TimeDistributed|td',
    'config.layers[0].config.layer|Lambda|td_inner',
    'config.layers[1]|Bidirectional|bi',
    'config.layers[1].config.layer|LSTM|fwd',
    'config.layers[1].config.backward_layer|LSTM|bwd',
    'config.layers[2]|RNN|rnn',
    'config.layers[2].config.cell|StackedRNNCells|',
    'config.layers[2].config.cell.config.cells[0]|GRUCell|gru_cell',
    'config.layers[3]|Sequential|seq',
    'config.layers[3].config.layers[0]|Lambda|seq_a',
    'config.layers[3].config.layers[1]|Functional|deep',
    'config.layers[3].config.layers[1].config.layers[0]|Lambda|seq_deep',
  ]);
});

test('Python JSON extensions (NaN, Infinity) are accepted; broken JSON is a ModelError', () => {
  assert.deepEqual(parsePythonJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN"}', 'x'), { a: null, b: [null, null], c: 'NaN' });
  assert.throws(() => parsePythonJson('{"a": ', 'model.keras', 'config.json'), (e: unknown) => e instanceof ModelError && e.file === 'model.keras' && /config\.json is invalid JSON/.test(e.reason));
});

test('deeply nested configs are walked up to the limit, with a warning, and never overflow the stack', () => {
  let config: unknown = { class_name: 'Dense', config: { name: 'leaf', trainable: true } };
  for (let i = 0; i < 5000; i++) config = { class_name: 'Sequential', config: { name: `s${i}`, trainable: true, layers: [config] } };
  const warnings: string[] = [];
  const layers = collectLayers(config, '', warnings, 'deep.keras');
  assert.ok(layers.length > 100 && layers.length < 5001);
  assert.match(warnings.join(), /deep\.keras: Keras config deeper than/);
});

// ---------------------------------------------------------------- malformed archives

async function expectArchiveError(bytes: Uint8Array, pattern: RegExp, name = 'bad.keras'): Promise<void> {
  const file = join(tempDir(), name);
  writeFileSync(file, bytes);
  await assert.rejects(readKerasV3(file), (e: unknown) => {
    assert.ok(e instanceof ModelError, String(e));
    assert.equal(e.file, file);
    assert.match(e.reason, pattern);
    return true;
  });
}

test('zip-slip entry names are rejected before anything is read', async () => {
  assert.equal(unsafeEntryName('assets/vocab.txt'), null);
  for (const [name, pattern] of [
    ['../../etc/cron.d/x', /\.\. component|invalid relative path/],
    ['/etc/passwd', /absolute path/],
    ['assets\\..\\..\\x', /backslash|invalid relative path|\.\. component/],
    ['C:/Windows/x', /drive-letter|absolute path/],
  ] as const) {
    await expectArchiveError(buildZip([{ name: 'config.json', data: '{}' }, { name, data: 'x' }]), pattern);
  }
});

test('a truncated archive, a non-zip file and an archive without config.json end in clear errors', { skip: skipWithoutCorpus }, async () => {
  const bytes = new Uint8Array(readFileSync(crafted('P7_keras_lambdas', 'model.keras')));
  await expectArchiveError(bytes.subarray(0, bytes.length - 40), /not a readable zip archive|malformed zip/);
  await expectArchiveError(bytes.subarray(0, 1000), /not a readable zip archive/);
  await expectArchiveError(new TextEncoder().encode('plain text'), /not a readable zip archive/);
  await expectArchiveError(buildZip([{ name: 'metadata.json', data: '{}' }]), /config\.json is missing/);
  await expectArchiveError(buildZip([{ name: 'config.json', data: '{"class_name": ' }]), /config\.json is invalid JSON/, 'config.keras');
  // Corrupted deflate stream inside config.json.
  const zip = buildZip([{ name: 'config.json', data: JSON.stringify({ class_name: 'Sequential', config: { layers: [] }, pad: 'x'.repeat(500) }), deflate: true }]);
  zip.fill(0x55, 40, 60);
  await expectArchiveError(zip, /corrupt|invalid|inflates|unreadable/);
});

test('zip bombs: an entry compressed beyond 100:1, and an entry that inflates past its declared size', async () => {
  await expectArchiveError(buildZip([{ name: 'config.json', data: '{}' }, { name: 'model.weights.h5', data: new Uint8Array(24 * 1024 * 1024), deflate: true }]), /zip bomb/);
  const lying = buildZip([{ name: 'config.json', data: JSON.stringify({ pad: ' '.repeat(200_000) }), deflate: true, claimSize: 100 }]);
  await expectArchiveError(lying, /too many bytes|inflates beyond|size/);
});

test('too many entries (more than LIMITS.maxZipEntries) stop reading before the entries are walked', async () => {
  const entries = Array.from({ length: LIMITS.maxZipEntries + 1 }, (_, i) => ({ name: `f${i}`, data: '' }));
  const zip = buildZip(entries);
  // More than 0xffff entries: the writer adds a ZIP64 end record, which carries the real count.
  const started = Date.now();
  await expectArchiveError(zip, /declares 100001 entries, more than the limit of 100000/);
  assert.ok(Date.now() - started < 10_000);
});

test('copies of the corpus archive with a tampered config are re-read from the copy (temp dir)', { skip: skipWithoutCorpus }, async () => {
  const copy = copyToTemp(crafted('P7_keras_lambdas', 'model.keras'));
  const bytes = new Uint8Array(readFileSync(copy));
  // Flip one byte in the stored config.json: the CRC check fails.
  const at = Buffer.from(bytes).indexOf('nested_lambda_model');
  bytes[at] ^= 0x20;
  writeFileSync(copy, bytes);
  await assert.rejects(readKerasV3(copy), (e: unknown) => e instanceof ModelError && e.file === copy && /config\.json" is corrupt: CRC-32/.test(e.reason));
});

const python = '/opt/tfvenv/bin/python';
const haveH5py = spawnSync(python, ['-c', 'import h5py'], { timeout: 20_000 }).status === 0;

test('crafted legacy .h5 written with h5py: model_config, training_config and datasets', { skip: haveH5py ? false : 'h5py in /opt/tfvenv is needed to write the HDF5 test file' }, async () => {
  const file = join(tempDir(), 'crafted.h5');
  const config = { class_name: 'Sequential', config: { name: 'seq', layers: [{ class_name: 'Dense', config: { name: 'd', trainable: true, units: 2 } }] } };
  const script = `import h5py, json, numpy as np\nf=h5py.File(${JSON.stringify(file)},'w')\nf.attrs['model_config']=${JSON.stringify(JSON.stringify(config))}\nf.attrs['keras_version']='2.12.0'\nf.attrs['backend']='tensorflow'\nf.attrs['training_config']=json.dumps({'loss':'mse','optimizer_config':{'class_name':'Adam','config':{'learning_rate':float('nan')}}})\ng=f.create_group('model_weights/d/d')\ng.create_dataset('kernel:0', data=np.zeros((4,2),dtype='f4'))\nf.close()`;
  const out = spawnSync(python, ['-c', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(out.status, 0, out.stderr);
  const model = await readKerasH5(file);
  const k = model.keras!;
  assert.equal(k.kerasVersion, '2.12.0');
  assert.deepEqual(layerSummary(k.layers), ['|Sequential|seq', 'config.layers[0]|Dense|d']);
  assert.deepEqual(k.weights, [{ path: 'model_weights/d/d/kernel:0', dtype: 'float32', shape: [4, 2] }]);
  assert.equal((k.metadata.training_config as { loss: string }).loss, 'mse');
});

test('fuzz: mutated .keras archives resolve or fail with a ModelError, never crash (bounded run)', { skip: skipWithoutCorpus }, async () => {
  const fc = (await import('fast-check')).default;
  const seed = new Uint8Array(readFileSync(crafted('P7_keras_lambdas', 'model.keras')));
  const dir = tempDir();
  const deadline = Date.now() + 20_000;
  let i = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.boolean(), async (edits, tail) => {
      if (Date.now() > deadline) return;
      const data = seed.slice();
      // Half the runs hit the central directory / end record, where the zip structure lives.
      for (const [pos, value] of edits) data[tail ? data.length - 1 - (pos % 200) : pos % data.length] = value;
      const file = join(dir, `fuzz${i++}.keras`);
      writeFileSync(file, data);
      try {
        await readKerasV3(file);
      } catch (error) {
        assert.ok(error instanceof ModelError, String(error));
        assert.equal(error.file, file);
      }
    }),
    { numRuns: 60 },
  );
});
