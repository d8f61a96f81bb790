// Checkpoint binding against real TensorFlow 2.21: one python process writes a SavedModel and
// checkpoints in the layouts training code produces (root, `model=`, two levels deep, a
// CheckpointManager folder with Adam slots, a checkpoint lacking a variable, another model's,
// a shape mismatch, two candidate roots, a truncated one, a crc-corrupted one, TF1 Saver
// checkpoints with a renamed var_list and with a partitioned variable). One bubblewrap'ed
// python process restores each into the model the way a user would, calls the signature and
// reports whether the unsafe branch wrote its canary. Every static verdict must equal it.
// The generated files are cached under the temp dir, keyed by the scripts' hash.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyse, type AnalyseResult } from '../../../main/worker/analyse.ts';
import { derivePolicy } from '../../../main/sandbox/policy.ts';
import { resolveRuntime } from '../../../main/sandbox/runners.ts';
import { runSandbox } from '../../../main/sandbox/run.ts';
import { AuditService } from '../../../main/service/audit-service.ts';
import type { AuditView } from '../../../shared/api.ts';
import type { CheckpointReport, Finding } from '../../../shared/findings.ts';
import { TF_PYTHON as PYTHON, skipWithoutTf } from '../../helpers/tensorflow.ts';

const GENERATE = String.raw`import json, os, sys, shutil
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import tensorflow as tf
out = sys.argv[1]
P = lambda *a: os.path.join(out, *a)

class Gated(tf.Module):
    """The model: flag > 0 switches on a branch that writes the file named by the caller."""
    def __init__(self, flag=0, scale=(1.0, 2.0)):
        super().__init__()
        self.flag = tf.Variable(flag, dtype=tf.int32, name='flag')
        self.scale = tf.Variable(list(scale), name='scale')

    @tf.function(input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.float32)])
    def __call__(self, path, x):
        def armed():
            tf.io.write_file(path, 'armed branch ran')
            return x * self.scale[0]
        return tf.cond(self.flag > 0, armed, lambda: x + self.scale[1])

class Other(tf.Module):
    def __init__(self):
        super().__init__()
        self.weights = tf.Variable([5.0, 6.0, 7.0], name='weights')
        self.mode = tf.Variable(1, dtype=tf.int32, name='mode')

class ScaleOnly(tf.Module):
    def __init__(self):
        super().__init__()
        self.scale = tf.Variable([3.0, 4.0], name='scale')

model = Gated()
tf.saved_model.save(model, P('model'), signatures={'serving_default': model.__call__})

tf.train.Checkpoint(root=Gated(1)).write(P('root', 'ckpt'))
tf.train.Checkpoint(model=Gated(1)).write(P('model_attr', 'ckpt'))
trainer = tf.Module()
trainer.model = Gated(1)
tf.train.Checkpoint(trainer=trainer).write(P('two_deep', 'ckpt'))

# A training loop: Adam slots, a step counter, save_counter; armed only in the second save.
m = Gated(0)
opt = tf.keras.optimizers.Adam(0.01)
step = tf.Variable(0, dtype=tf.int64)
ck = tf.train.Checkpoint(step=step, optimizer=opt, model=m)
manager = tf.train.CheckpointManager(ck, P('manager'), max_to_keep=5)
for armed in (0, 1):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(m.scale * m.scale)
    opt.apply_gradients(zip(tape.gradient(loss, [m.scale]), [m.scale]))
    m.flag.assign(armed)
    step.assign_add(1)
    manager.save()

tf.train.Checkpoint(model=ScaleOnly()).write(P('missing', 'ckpt'))
tf.train.Checkpoint(model=Other()).write(P('other_model', 'ckpt'))
tf.train.Checkpoint(model=Gated(1, (1.0, 2.0, 3.0))).write(P('shape_mismatch', 'ckpt'))
tf.train.Checkpoint(model=Gated(0), ema_model=Gated(1)).write(P('two_roots', 'ckpt'))

shutil.copytree(P('model_attr'), P('truncated'))
data = P('truncated', 'ckpt.data-00000-of-00001')
with open(data, 'r+b') as f:
    f.truncate(os.path.getsize(data) // 2)
# A distinctive armed flag, then its bytes changed in place: the index crc32c no longer matches.
tf.train.Checkpoint(model=Gated(0x5A5A5A5A)).write(P('crc', 'ckpt'))
data = P('crc', 'ckpt.data-00000-of-00001')
raw = bytearray(open(data, 'rb').read())
at = raw.find((0x5A5A5A5A).to_bytes(4, 'little'))
raw[at:at + 4] = (0x5A5A5A5B).to_bytes(4, 'little')
open(data, 'wb').write(bytes(raw))

# TF1 Saver checkpoints (name-based): a renamed var_list, and a partitioned variable.
with tf.Graph().as_default():
    flag = tf.compat.v1.get_variable('flag', initializer=tf.constant(1, tf.int32))
    scale = tf.compat.v1.get_variable('scale', initializer=tf.constant([1.0, 2.0]))
    saver = tf.compat.v1.train.Saver({'old_scope/flag': flag, 'old_scope/scale': scale})
    with tf.compat.v1.Session() as s:
        s.run(tf.compat.v1.global_variables_initializer())
        saver.save(s, P('saver_renamed', 'model.ckpt'), write_meta_graph=False)
with tf.Graph().as_default():
    flag = tf.compat.v1.get_variable('flag', initializer=tf.constant(1, tf.int32))
    scale = tf.compat.v1.get_variable('scale', shape=[2], dtype=tf.float32, initializer=tf.compat.v1.ones_initializer(),
                                      partitioner=tf.compat.v1.fixed_size_partitioner(2))
    saver = tf.compat.v1.train.Saver()
    with tf.compat.v1.Session() as s:
        s.run(tf.compat.v1.global_variables_initializer())
        saver.save(s, P('partitioned', 'model.ckpt'), write_meta_graph=False)
# Keras: a .keras model, its save_weights file, another model's weights, one lacking a layer, a legacy .h5 model.
import keras
def dense_model(units, extra=False):
    layers = [keras.Input((3,)), keras.layers.Dense(units, name='dense')]
    if extra:
        layers.append(keras.layers.Dense(1, name='head'))
    return keras.Sequential(layers)
os.makedirs(P('keras'), exist_ok=True)
km = dense_model(2, extra=True)
km.save(P('keras', 'model.keras'))
km.save(P('keras', 'legacy.h5'))
km.save_weights(P('keras', 'same.weights.h5'))
dense_model(4, extra=True).save_weights(P('keras', 'other_shape.weights.h5'))
dense_model(2).save_weights(P('keras', 'no_head.weights.h5'))
print(json.dumps({'ok': True}))
`;

const RESTORE = String.raw`import json, os, sys
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import tensorflow as tf
out = sys.argv[1]
P = lambda *a: os.path.join(out, *a)

def holder(path):
    inner = None
    def bind(loaded):
        node = loaded
        for name in reversed(path[1:]):
            h = tf.Module()
            setattr(h, name, node)
            node = h
        return tf.train.Checkpoint(**{path[0]: node})
    return bind

def by_map(prefix, old, new):
    """init_from_checkpoint-style: model names under NEW restored from checkpoint names under OLD."""
    def run(loaded):
        reader = tf.train.load_checkpoint(prefix)
        for v in (loaded.flag, loaded.scale):
            name = v.name.split(':')[0]
            if name.startswith(new):
                v.assign(reader.get_tensor(old + name[len(new):]))
    return run

# layout -> (checkpoint prefix, restore); restore returns a tf.train.Checkpoint to .read() or restores itself
cases = {
    'root': (P('root', 'ckpt'), lambda l: tf.train.Checkpoint(root=l)),
    'model_attr': (P('model_attr', 'ckpt'), lambda l: tf.train.Checkpoint(model=l)),
    'two_deep': (P('two_deep', 'ckpt'), holder(['trainer', 'model'])),
    'manager': (tf.train.latest_checkpoint(P('manager')), lambda l: tf.train.Checkpoint(model=l)),
    'manager_ckpt1': (P('manager', 'ckpt-1'), lambda l: tf.train.Checkpoint(model=l)),
    'missing': (P('missing', 'ckpt'), lambda l: tf.train.Checkpoint(model=l)),
    'other_model': (P('other_model', 'ckpt'), lambda l: tf.train.Checkpoint(model=l)),
    'shape_mismatch': (P('shape_mismatch', 'ckpt'), lambda l: tf.train.Checkpoint(model=l)),
    'two_roots': (P('two_roots', 'ckpt'), lambda l: tf.train.Checkpoint(model=l)),
    'two_roots_ema': (P('two_roots', 'ckpt'), lambda l: tf.train.Checkpoint(ema_model=l)),
    'truncated': (P('truncated', 'ckpt'), lambda l: tf.train.Checkpoint(model=l)),
    'crc': (P('crc', 'ckpt'), lambda l: tf.train.Checkpoint(model=l)),
    'saver_renamed': (P('saver_renamed', 'model.ckpt'), lambda l: tf.train.Checkpoint(model=l)),
    'saver_renamed_mapped': (P('saver_renamed', 'model.ckpt'), by_map(P('saver_renamed', 'model.ckpt'), 'old_scope/', '')),
    'partitioned': (P('partitioned', 'model.ckpt'), lambda l: tf.train.Checkpoint(model=l)),
}
import keras
for name in ('same', 'other_shape', 'no_head'):
    try:
        km = keras.models.load_model(P('keras', 'model.keras'))
        km.load_weights(P('keras', name + '.weights.h5'))
        keras_result = {'loaded': True}
    except Exception as e:
        keras_result = {'loaded': False, 'error': type(e).__name__ + ': ' + str(e)[:300]}
    cases_keras = globals().setdefault('cases_keras', {})
    cases_keras[name] = keras_result
try:
    km = keras.models.load_model(P('keras', 'legacy.h5'))
    km.load_weights(P('keras', 'legacy.h5'))
    cases_keras['legacy'] = {'loaded': True}
except Exception as e:
    cases_keras['legacy'] = {'loaded': False, 'error': type(e).__name__ + ': ' + str(e)[:300]}

result = {'keras': cases_keras}
for name, (prefix, restore) in cases.items():
    canary = P('canary-' + name)
    if os.path.exists(canary):
        os.remove(canary)
    loaded = tf.saved_model.load(P('model'))
    try:
        ck = restore(loaded)
        if ck is not None:
            ck.read(prefix).expect_partial()
        loaded.signatures['serving_default'](path=tf.constant(canary), x=tf.constant(1.0))
        result[name] = {'written': os.path.exists(canary), 'flag': int(loaded.flag.numpy())}
    except Exception as e:
        result[name] = {'written': os.path.exists(canary), 'error': type(e).__name__ + ': ' + str(e)[:300]}
print(json.dumps(result))
`;

const bwrapMissing = spawnSync('bwrap', ['--version']).status === 0 ? false : 'bubblewrap (bwrap) is not installed';
const skip = skipWithoutTf || bwrapMissing;

type TfOutcome = { written: boolean; flag?: number; error?: string };
type KerasOutcome = { loaded: boolean; error?: string };
let dir = '';
let tf: Record<string, TfOutcome> & { keras?: Record<string, KerasOutcome> } = {};
let scan: AnalyseResult;
let mapped: AnalyseResult;

const P = (...parts: string[]) => join(dir, ...parts);

/** Layout → the checkpoint as given to the analysis, and the activation label TensorFlow's restore corresponds to. */
const layouts = () => ({
  root: { given: P('root', 'ckpt'), label: P('root', 'ckpt') },
  model_attr: { given: P('model_attr', 'ckpt'), label: P('model_attr', 'ckpt') },
  two_deep: { given: P('two_deep', 'ckpt'), label: P('two_deep', 'ckpt') },
  manager: { given: P('manager'), label: P('manager') },
  manager_ckpt1: { given: P('manager', 'ckpt-1'), label: P('manager', 'ckpt-1') },
  missing: { given: P('missing', 'ckpt'), label: P('missing', 'ckpt') },
  other_model: { given: P('other_model', 'ckpt'), label: P('other_model', 'ckpt') },
  shape_mismatch: { given: P('shape_mismatch', 'ckpt'), label: P('shape_mismatch', 'ckpt') },
  two_roots: { given: P('two_roots', 'ckpt'), label: P('two_roots', 'ckpt') },
  two_roots_ema: { given: P('two_roots', 'ckpt'), label: `${P('two_roots', 'ckpt')} @ ema_model` },
  truncated: { given: P('truncated', 'ckpt'), label: P('truncated', 'ckpt') },
  crc: { given: P('crc', 'ckpt'), label: P('crc', 'ckpt') },
  saver_renamed: { given: P('saver_renamed', 'model.ckpt'), label: P('saver_renamed', 'model.ckpt') },
  partitioned: { given: P('partitioned', 'model.ckpt'), label: P('partitioned', 'model.ckpt') },
});

before(async () => {
  if (skip) return;
  const hash = createHash('sha256').update(GENERATE).update(RESTORE).digest('hex').slice(0, 16);
  dir = join(tmpdir(), `tfaudit-binding-${hash}`);
  const resultFile = join(dir, 'tensorflow-did.json');
  if (!existsSync(resultFile)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const gen = spawnSync(PYTHON, ['-c', GENERATE, dir], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(gen.status, 0, gen.stderr);
    writeFileSync(join(dir, 'restore.py'), RESTORE);
    // Restoring runs model code: inside bubblewrap, with only the layouts' folder writable.
    const run = spawnSync('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--bind', dir, dir, '--unshare-all', '--die-with-parent', PYTHON, join(dir, 'restore.py'), dir], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(run.status, 0, run.stderr);
    writeFileSync(resultFile, run.stdout.trim().split('\n').pop()!);
  }
  tf = JSON.parse(readFileSync(resultFile, 'utf8')) as typeof tf;
  const all = layouts();
  const givens = [...new Set(Object.values(all).map((l) => l.given))];
  scan = await analyse({ model: P('model'), checkpoints: givens });
  mapped = await analyse({ model: P('model'), checkpoints: [all.saver_renamed.given], checkpointMaps: ['old_scope/='] });
});

function writeFinding(result: AnalyseResult): Finding {
  const f = result.report.findings.find((x) => x.op === 'WriteFile');
  assert.ok(f, `no WriteFile finding: ${result.report.findings.map((x) => x.rule).join(', ')}`);
  return f;
}

function verdict(result: AnalyseResult, label: string): string {
  const a = writeFinding(result).trigger.activation.find((x) => x.checkpoint === label);
  assert.ok(a, `no activation for ${label}: ${writeFinding(result).trigger.activation.map((x) => x.checkpoint).join(', ')}`);
  return a.state;
}

function entry(result: AnalyseResult, label: string): CheckpointReport {
  const e = result.report.checkpoints.find((c) => c.path === label);
  assert.ok(e, `no checkpoint entry ${label}`);
  return e;
}

/** What TensorFlow did, as a verdict: the branch ran (active), did not (dormant), the restore failed (unknown). */
const tfVerdict = (o: TfOutcome) => (o.written ? 'active' : o.error ? 'unknown' : 'dormant');

test('every static verdict equals what TensorFlow did after restoring the checkpoint', { skip }, () => {
  const all = layouts();
  const mismatches: string[] = [];
  for (const [name, l] of Object.entries(all)) {
    const expected = tfVerdict(tf[name] as TfOutcome);
    const got = verdict(scan, l.label);
    if (got !== expected) mismatches.push(`${name}: static ${got}, TensorFlow ${expected} (${JSON.stringify(tf[name])})`);
  }
  const withMap = verdict(mapped, all.saver_renamed.label);
  if (withMap !== tfVerdict(tf.saver_renamed_mapped as TfOutcome)) mismatches.push(`saver_renamed with --checkpoint-map: static ${withMap}, TensorFlow ${tfVerdict(tf.saver_renamed_mapped as TfOutcome)}`);
  assert.deepEqual(mismatches, []);
  // The layouts really exercise both outcomes (a generator regression would make this vacuous).
  assert.equal((tf.model_attr as TfOutcome).written, true);
  assert.equal((tf.manager_ckpt1 as TfOutcome).written, false);
  assert.match((tf.shape_mismatch as TfOutcome).error ?? '', /incompatible tensor with shape/);
});

test('the model root binds where TensorFlow binds it, at any depth', { skip }, () => {
  const all = layouts();
  assert.equal(entry(scan, all.root.label).coverage?.root, '');
  assert.equal(entry(scan, all.model_attr.label).coverage?.root, 'model');
  assert.match(entry(scan, all.model_attr.label).coverage?.restoreCall ?? '', /tf\.train\.Checkpoint\(model=loaded\)/);
  assert.deepEqual(entry(scan, all.two_deep.label).coverage?.rootPath, ['trainer', 'model']);
  for (const l of [all.root, all.model_attr, all.two_deep]) {
    const c = entry(scan, l.label).coverage!;
    assert.equal(c.method, 'object-graph');
    assert.equal(`${c.matched}/${c.total}`, '2/2');
  }
});

test('a CheckpointManager folder evaluates its latest ckpt-N, lists them all, and ignores optimizer slots and counters', { skip }, () => {
  const e = entry(scan, P('manager'));
  assert.deepEqual(e.siblings?.map((s) => s.split('/').pop()), ['ckpt-1', 'ckpt-2']);
  const c = e.coverage!;
  assert.equal(c.root, 'model');
  assert.equal(c.matched, 2);
  assert.ok(c.extra.some((k) => k.startsWith('optimizer/')), c.extra.join(', '));
  assert.ok(c.extra.includes('save_counter/.ATTRIBUTES/VARIABLE_VALUE'));
  assert.ok(c.extra.includes('step/.ATTRIBUTES/VARIABLE_VALUE'));
});

test('a checkpoint lacking a variable is evaluated with the model\'s own value, and says so', { skip }, () => {
  const l = layouts().missing;
  const c = entry(scan, l.label).coverage!;
  assert.equal(`${c.matched}/${c.total}`, '1/2');
  assert.deepEqual(c.missing, ['flag/.ATTRIBUTES/VARIABLE_VALUE']);
  const a = writeFinding(scan).trigger.activation.find((x) => x.checkpoint === l.label)!;
  assert.match(a.values['flag/.ATTRIBUTES/VARIABLE_VALUE'] ?? '', /model's own value/);
});

test('another model\'s checkpoint, a refused restore and several candidate roots are said plainly', { skip }, () => {
  const all = layouts();
  assert.equal(entry(scan, all.other_model.label).coverage?.differentModel, true);
  const refused = entry(scan, all.shape_mismatch.label).coverage!;
  assert.match(refused.refused ?? '', /TensorFlow will refuse this checkpoint: scale\/\.ATTRIBUTES\/VARIABLE_VALUE has shape \[3\] in the checkpoint, \[2\] in the model/);
  const two = entry(scan, all.two_roots.label).coverage!;
  assert.equal(two.candidates, 2);
  assert.equal(two.root, 'model');
  assert.deepEqual(two.alternatives, ['ema_model']);
  assert.equal(entry(scan, all.two_roots_ema.label).coverage?.root, 'ema_model');
});

test('truncated and crc-corrupted checkpoints give integrity findings naming the file, and stay in the activation list', { skip }, () => {
  const all = layouts();
  const integrity = scan.report.findings.filter((f) => f.capability === 'integrity');
  for (const [l, why] of [[all.truncated, /points outside the \d+-byte data file/], [all.crc, /crc32c mismatch/]] as const) {
    const f = integrity.find((x) => x.trigger.activation[0]?.checkpoint === l.label);
    assert.ok(f, `no integrity finding for ${l.label}`);
    assert.ok(['medium', 'high', 'critical'].includes(f.severity));
    assert.match(f.message, why);
    assert.ok(f.evidence.some((e) => e.includes('ckpt.data-00000-of-00001')), f.evidence.join('; '));
    assert.match(writeFinding(scan).trigger.activation.find((x) => x.checkpoint === l.label)!.reason, /cannot be read/);
  }
});

test('a TF1 Saver checkpoint with a renamed var_list binds by name only through --checkpoint-map', { skip }, () => {
  const l = layouts().saver_renamed;
  const plain = entry(scan, l.label).coverage!;
  assert.equal(plain.method, 'names');
  assert.equal(plain.matched, 0);
  assert.ok(plain.notes.some((n) => n.includes('--checkpoint-map old_scope/=')), plain.notes.join('; '));
  const withMap = entry(mapped, l.label).coverage!;
  assert.equal(`${withMap.matched}/${withMap.total}`, '2/2');
  const partitioned = entry(scan, layouts().partitioned.label).coverage!;
  assert.equal(`${partitioned.method} ${partitioned.matched}/${partitioned.total}`, 'names 2/2');
});

test('the sandbox tf-python runner restores at the root the analysis bound (two levels deep) and the branch runs there', { skip, timeout: 300_000 }, async () => {
  const l = layouts().two_deep;
  const bound = entry(scan, l.label).coverage!;
  const runtime = await resolveRuntime('tf-python');
  const policy = derivePolicy({
    modelPath: P('model'), findings: scan.report.findings, signatures: ['serving_default'], checkpoint: l.given, checkpointRoot: bound.rootPath,
    overrides: { runner: 'tf-python', timeoutSeconds: 150 }, runner: { readOnlyMounts: runtime.readOnlyMounts },
  });
  assert.deepEqual(policy.checkpointRoot, ['trainer', 'model']);
  const report = await runSandbox(policy);
  try {
    assert.match(report.stdoutTail, /"root": "trainer\/model".*"bound_by": "analysis", "tfaudit": "restored"/);
    // The armed branch returns x * scale[0] = 1.0 (the dormant one x + scale[1] = 3.0).
    assert.match(report.stdoutTail, /"outputs": \{"output_0": \{"dtype": "float32", "shape": \[\], "values": \[1\.0\]/);
    assert.match(report.stdoutTail, /"trainer\/model\/flag\/\.ATTRIBUTES\/VARIABLE_VALUE": \{"dtype": "int32", "shape": \[\], "values": \[1\]/);
    assert.ok(report.filesWritten.some((f) => f.change === 'created'), `the armed branch wrote nothing: ${JSON.stringify(report.filesWritten)}\n${report.stdoutTail}\n${report.stderrTail}`);
  } finally {
    rmSync(join(policy.scratchDir, '..'), { recursive: true, force: true });
  }
});

test('Keras weights files as checkpoints: coverage agrees with what model.load_weights did', { skip }, async () => {
  const k = (...p: string[]) => P('keras', ...p);
  const v3 = await analyse({ model: k('model.keras'), checkpoints: ['same', 'other_shape', 'no_head'].map((n) => k(`${n}.weights.h5`)) });
  const legacy = await analyse({ model: k('legacy.h5'), checkpoints: [k('legacy.h5')] });
  const keras = tf.keras!;
  const cov = (r: AnalyseResult, path: string) => entry(r, path).coverage!;
  for (const name of ['same', 'other_shape', 'no_head']) {
    const c = cov(v3, k(`${name}.weights.h5`));
    assert.equal(c.method, 'keras-weights');
    // Keras loads exactly the files the static side finds complete and consistent.
    const complete = c.matched === c.total && c.mismatches.length === 0 && c.extraCount === 0;
    assert.equal(complete, keras[name]!.loaded, `${name}: ${JSON.stringify(c)} vs ${JSON.stringify(keras[name])}`);
  }
  assert.equal(`${cov(v3, k('same.weights.h5')).matched}/${cov(v3, k('same.weights.h5')).total}`, '4/4');
  assert.match(cov(v3, k('other_shape.weights.h5')).refused ?? '', /Keras will refuse these weights: .*shape \[3,4\] in the weights file, \[3,2\] in the model/);
  assert.deepEqual(cov(v3, k('no_head.weights.h5')).missing.length, 2);
  const l = cov(legacy, k('legacy.h5'));
  assert.equal(`${l.matched}/${l.total}`, `${l.total}/${l.total}`);
  assert.ok(l.total > 0);
  assert.equal(keras.legacy!.loaded, true);
  // Values: the model's own save_weights changes nothing; a weight whose shape differs is not compared (never unchanged).
  const counts = (c: ReturnType<typeof cov>) => [c.values!.changed, c.values!.unchanged, c.values!.notCompared];
  assert.deepEqual(counts(cov(v3, k('same.weights.h5'))), [0, 4, 0]);
  // no_head is a freshly initialised model: its random kernel differs, its zero bias does not.
  assert.deepEqual(counts(cov(v3, k('no_head.weights.h5'))), [1, 1, 0]);
  assert.deepEqual(cov(v3, k('no_head.weights.h5')).values!.changedWeights.map((w) => w.variable), ['layers/dense/vars/0']);
  assert.deepEqual(counts(l), [0, l.total, 0]);
  const other = cov(v3, k('other_shape.weights.h5')).values!;
  assert.deepEqual(other.notComparedWeights.map((w) => w.reason.replace(/^shape .*: values not compared$/, 'shape')), ['shape', 'shape', 'shape']);
  assert.equal(other.changed + other.unchanged, 1);
});

test('the app service: each candidate root is its own checkpoint column, and the sandbox restores at the root that triggers', { skip }, async () => {
  const service = new AuditService({ isolation: 'off' });
  try {
    const ckpt = P('two_roots', 'ckpt');
    const view = (await service.open([P('model'), `${ckpt}.index`, `${ckpt}.data-00000-of-00001`])) as AuditView;
    assert.deepEqual(view.checkpoints.map((c) => [c.id, c.label]), [['own', `${P('model')}/variables/variables`], ['c1', ckpt], ['c1.2', `${ckpt} @ ema_model`]]);
    const write = view.report.findings.find((f) => f.op === 'WriteFile')!;
    assert.deepEqual(write.trigger.activation.map((a) => a.state), ['dormant', 'dormant', 'active']);
    const triggered = await service.sandboxPlan(view.auditId, write.id, {});
    assert.equal(triggered.checkpoint, ckpt);
    assert.deepEqual(triggered.checkpointRoot, ['ema_model']);
    const chosen = await service.sandboxPlan(view.auditId, write.id, { checkpointId: 'c1' });
    assert.deepEqual(chosen.checkpointRoot, ['model']);
  } finally {
    await service.dispose();
  }
});
