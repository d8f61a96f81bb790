// Registry discovery on a tree laid out like real registries: a TF Serving base path with two
// versions, a TF1 export (`.meta` + its checkpoint), a GraphDef with a checkpoint beside it, a
// Keras file with a CheckpointManager folder, a Keras file renamed `.bin`, an orphan checkpoint,
// and a symbolic link pointing outside. Models come from ../shared/corpus/real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { real, skipWithoutCorpus } from '../../helpers/corpus.ts';
import { discoverModels } from '../../../main/service/registry-discovery.ts';

function registry(): string {
  const root = mkdtempSync(join(tmpdir(), 'tfaudit-registry-'));
  const sm = real('serving_saved_model_half_plus_two_cpu', '00000123');
  cpSync(sm, join(root, 'serving', 'half_plus_two', '1'), { recursive: true });
  cpSync(sm, join(root, 'serving', 'half_plus_two', '2'), { recursive: true });
  cpSync(real('serving_half_plus_two_tf1_v2ckpt', '00000123'), join(root, 'tf1'), { recursive: true });
  cpSync(real('tf_profiler_ckpt_graph'), join(root, 'profiler'), { recursive: true });
  mkdirSync(join(root, 'keras', 'ckpts'), { recursive: true });
  cpSync(real('dl4j_keras_optimizer_adam', 'adam.h5'), join(root, 'keras', 'adam.h5'));
  cpSync(real('tf_feature_column_embedding_ckpt', 'embedding.ckpt.index'), join(root, 'keras', 'ckpts', 'ckpt-1.index'));
  cpSync(real('tf_feature_column_embedding_ckpt', 'embedding.ckpt.data-00000-of-00001'), join(root, 'keras', 'ckpts', 'ckpt-1.data-00000-of-00001'));
  writeFileSync(join(root, 'keras', 'ckpts', 'checkpoint'), 'model_checkpoint_path: "ckpt-1"\n');
  mkdirSync(join(root, 'hidden'));
  cpSync(real('dl4j_keras_optimizer_adam', 'adam.h5'), join(root, 'hidden', 'weights.bin'));
  writeFileSync(join(root, 'hidden', 'notes.txt'), 'not a model');
  cpSync(real('tf_feature_column_embedding_ckpt'), join(root, 'orphan'), { recursive: true });
  cpSync(real('serving_saved_model_half_plus_two_tf2_cpu', '00000123', 'fingerprint.pb'), join(root, 'orphan', 'fingerprint.pb'));
  symlinkSync('/etc', join(root, 'escape'));
  return root;
}

test('discovery lists every model once, with the checkpoints that belong to it', { skip: skipWithoutCorpus }, () => {
  const root = registry();
  const { models, skipped } = discoverModels(root);
  const byPath = Object.fromEntries(models.map((m) => [m.relativePath, m]));
  assert.deepEqual(
    models.map((m) => [m.relativePath, m.format]),
    [
      ['hidden/weights.bin', 'keras-h5'],
      ['keras/adam.h5', 'keras-h5'],
      ['orphan/embedding.ckpt', 'checkpoint'],
      ['profiler/graph.pbtxt', 'graph-def'],
      ['serving/half_plus_two/1', 'saved-model'],
      ['serving/half_plus_two/2', 'saved-model'],
      ['tf1/export.meta', 'meta-graph'],
    ],
  );
  // files inside a SavedModel are its own, never models of their own
  assert.ok(byPath['serving/half_plus_two/1']!.files.some((f) => f.endsWith('variables/variables.index')));
  assert.deepEqual(byPath['serving/half_plus_two/1']!.checkpoints, []);
  // the CheckpointManager folder beside the Keras file is evaluated with it
  assert.deepEqual(byPath['keras/adam.h5']!.checkpoints, [join(root, 'keras', 'ckpts', 'ckpt-1')]);
  assert.ok(byPath['keras/adam.h5']!.files.includes(join(root, 'keras', 'ckpts', 'checkpoint')));
  // the checkpoint beside a GraphDef belongs to it
  assert.deepEqual(byPath['profiler/graph.pbtxt']!.checkpoints, [join(root, 'profiler', 'ckpt')]);
  // a .meta owns the checkpoint written under its prefix (the reader opens it): no extra checkpoint, but hashed
  assert.deepEqual(byPath['tf1/export.meta']!.checkpoints, []);
  assert.ok(byPath['tf1/export.meta']!.files.includes(join(root, 'tf1', 'export.index')));
  assert.deepEqual(skipped.map((s) => s.path), [join(root, 'escape')]);
  assert.match(skipped[0]!.reason, /symbolic link/);
  // the root the auditor names may itself be a link (a mount point alias)
  const alias = join(mkdtempSync(join(tmpdir(), 'tfaudit-alias-')), 'models');
  symlinkSync(root, alias);
  assert.equal(discoverModels(alias).models.length, models.length);
});

test('a folder that is itself one SavedModel is one model named "."', { skip: skipWithoutCorpus }, () => {
  const { models } = discoverModels(real('tabuse_MatchingFiles'));
  assert.deepEqual(models.map((m) => [m.relativePath, m.format]), [['.', 'saved-model']]);
});

test('the real corpus: every SavedModel, GraphDef, meta graph, Keras and TFLite file found, none twice', { skip: skipWithoutCorpus }, () => {
  const { models } = discoverModels(real());
  const paths = models.map((m) => m.relativePath);
  assert.equal(new Set(paths).size, paths.length);
  assert.ok(paths.includes('serving_saved_model_half_plus_two_cpu/00000123'));
  assert.ok(paths.includes('tabuse_MatchingFiles'));
  assert.ok(paths.includes('binja_keras_custom_layer/malicious_model.keras'));
  assert.ok(paths.includes('tfnet_metagraphs/xor.meta'));
  // no model nested in another
  for (const a of paths) for (const b of paths) if (a !== b) assert.ok(!b.startsWith(`${a}/`), `${b} is inside ${a}`);
  // no SavedModel part is listed as a model
  assert.ok(!paths.some((p) => /(^|\/)(saved_model\.pb|fingerprint\.pb|keras_metadata\.pb)$/.test(p)));
  assert.ok(models.length >= 120, `${models.length} models`);
});
