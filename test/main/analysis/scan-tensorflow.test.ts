// Verdicts against real TensorFlow. Each tf.Module below hides an unsafe branch behind a
// tf.Variable; it is saved twice (dormant value, then armed value). We scan the first
// SavedModel with both checkpoints, then let TensorFlow run both and check that the side
// effect happens exactly under the checkpoint we call active. Skips without TensorFlow.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir } from '../../helpers/corpus.ts';
import { openModel } from '../../../main/formats/index.ts';
import { openCheckpoint } from '../../../main/formats/tensorbundle.ts';
import { scanModel } from '../../../main/analysis/scan.ts';
import type { Finding, ScanReport } from '../../../shared/findings.ts';
import { TF_PYTHON as PYTHON, skipWithoutTf as skip } from '../../helpers/tensorflow.ts';


const SCRIPT = String.raw`
import json, os, sys
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import tensorflow as tf
out = sys.argv[1]
secret = os.path.join(out, 'secret.txt')
with open(secret, 'w') as f:
    f.write('top secret')

class CondWrite(tf.Module):
    """tf.cond on an int flag; the true branch writes a file."""
    def __init__(self):
        super().__init__()
        self.flag = tf.Variable(0, dtype=tf.int32)
        self.scale = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def __call__(self, x):
        def armed():
            tf.io.write_file(os.path.join(out, 'cond_write.txt'), 'written by the armed branch')
            return x * self.scale
        return tf.cond(self.flag > 0, armed, lambda: x + self.scale)

class CaseExfil(tf.Module):
    """tf.switch_case on an int route; branch 2 copies a secret file."""
    def __init__(self):
        super().__init__()
        self.route = tf.Variable(0, dtype=tf.int32)

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def __call__(self, x):
        def exfil():
            tf.io.write_file(os.path.join(out, 'case_copy.txt'), tf.io.read_file(secret))
            return x
        return tf.switch_case(tf.convert_to_tensor(self.route), [lambda: x + 1.0, lambda: x - 1.0, exfil])

class StringPrint(tf.Module):
    """A string variable compared with tf.equal; the true branch prints into a file."""
    def __init__(self):
        super().__init__()
        self.mode = tf.Variable('off')

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def __call__(self, x):
        def leak():
            tf.print('leaked', x, output_stream='file://' + os.path.join(out, 'print.txt'))
            return x
        return tf.cond(tf.logical_and(tf.equal(self.mode, 'on'), tf.logical_not(x > 1e9)), leak, lambda: x)

class LoopDos(tf.Module):
    """A while loop whose bound is a variable."""
    def __init__(self):
        super().__init__()
        self.steps = tf.Variable(10, dtype=tf.int64)

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def __call__(self, x):
        i = tf.constant(0, dtype=tf.int64)
        _, y = tf.while_loop(lambda i, y: i < self.steps, lambda i, y: (i + 1, y * 1.0001), (i, x))
        return y

def save_twice(name, module, arm):
    tf.saved_model.save(module, os.path.join(out, name, 'dormant'), signatures={'serving_default': module.__call__})
    arm(module)
    tf.saved_model.save(module, os.path.join(out, name, 'armed'), signatures={'serving_default': module.__call__})

save_twice('cond_write', CondWrite(), lambda m: m.flag.assign(1))
save_twice('case_exfil', CaseExfil(), lambda m: m.route.assign(2))
save_twice('string_print', StringPrint(), lambda m: m.mode.assign('on'))
save_twice('loop_dos', LoopDos(), lambda m: m.steps.assign(2 ** 40))

effects = {'cond_write': 'cond_write.txt', 'case_exfil': 'case_copy.txt', 'string_print': 'print.txt'}
ran = {}
for name, effect in effects.items():
    for variant in ('dormant', 'armed'):
        path = os.path.join(out, effect)
        if os.path.exists(path):
            os.remove(path)
        loaded = tf.saved_model.load(os.path.join(out, name, variant))
        loaded.signatures['serving_default'](x=tf.constant(1.0))
        ran[name + '/' + variant] = os.path.exists(path)
print(json.dumps(ran))
`;

let dir = '';
let ran: Record<string, boolean> = {};

before(() => {
  if (skip) return;
  dir = tempDir('tfaudit-tf-');
  const run = spawnSync(PYTHON, ['-c', SCRIPT, dir], { encoding: 'utf8', timeout: 400_000 });
  assert.equal(run.status, 0, run.stderr);
  ran = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, boolean>;
});

async function scanPair(name: string): Promise<ScanReport> {
  const model = await openModel(join(dir, name, 'dormant'));
  return scanModel(model, {
    checkpoints: [
      { label: 'dormant', checkpoint: model.checkpoint! },
      { label: 'armed', checkpoint: await openCheckpoint(join(dir, name, 'armed', 'variables', 'variables')) },
    ],
    toolVersion: 'test',
  });
}

function verdict(f: Finding): Record<string, string> {
  return Object.fromEntries(f.trigger.activation.map((a) => [a.checkpoint, a.state]));
}

/** What TensorFlow did, as activation states. */
function observed(name: string): Record<string, string> {
  return { dormant: ran[`${name}/dormant`] ? 'active' : 'dormant', armed: ran[`${name}/armed`] ? 'active' : 'dormant' };
}

test('real TF: TensorFlow itself runs each unsafe branch only under the armed checkpoint', { skip }, () => {
  assert.deepEqual(ran, { 'cond_write/dormant': false, 'cond_write/armed': true, 'case_exfil/dormant': false, 'case_exfil/armed': true, 'string_print/dormant': false, 'string_print/armed': true });
});

test('real TF: tf.cond on an int variable guarding tf.io.write_file', { skip }, async () => {
  const report = await scanPair('cond_write');
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.trigger.kind, 'variable');
  assert.ok(f.trigger.variables.some((v) => v.startsWith('flag/')), JSON.stringify(f.trigger.variables));
  assert.deepEqual(verdict(f), observed('cond_write'));
  assert.equal(f.severity, 'critical');
  assert.equal(f.arguments[0].value, join(dir, 'cond_write.txt'));
  for (const g of report.findings.filter((x) => x.reachability === 'saver')) assert.equal(g.severity, 'info');
});

test('real TF: tf.switch_case on a variable guarding read_file + write_file', { skip }, async () => {
  const report = await scanPair('case_exfil');
  for (const op of ['ReadFile', 'WriteFile']) {
    const f = report.findings.find((x) => x.op === op)!;
    assert.ok(f, op);
    assert.ok(f.trigger.variables.some((v) => v.startsWith('route/')));
    assert.deepEqual(verdict(f), observed('case_exfil'), op);
  }
  assert.equal(report.findings.find((x) => x.op === 'ReadFile')!.arguments[0].value, join(dir, 'secret.txt'));
});

test('real TF: tf.equal on a string variable and logical ops guarding tf.print into a file', { skip }, async () => {
  const report = await scanPair('string_print');
  const f = report.findings.find((x) => x.op === 'PrintV2')!;
  assert.ok(f.trigger.variables.some((v) => v.startsWith('mode/')));
  // The predicate also reads the caller's input (x > 1e9): the armed checkpoint makes it input-dependent.
  assert.equal(verdict(f).dormant, 'dormant');
  assert.notEqual(verdict(f).armed, 'dormant');
  assert.equal(observed('string_print').armed, 'active');
  assert.ok(f.arguments.some((a) => a.value === `file://${join(dir, 'print.txt')}`), JSON.stringify(f.arguments));
});

test('real TF: tf.while_loop bounded by a variable is a resource-exhaustion finding, active at 2^40 steps', { skip }, async () => {
  const report = await scanPair('loop_dos');
  const f = report.findings.find((x) => x.capability === 'resource-exhaustion')!;
  assert.ok(f, JSON.stringify(report.findings.map((x) => [x.op, x.capability])));
  assert.ok(f.trigger.variables.some((v) => v.startsWith('steps/')));
  assert.deepEqual(verdict(f), { dormant: 'dormant', armed: 'active' });
  assert.equal(f.trigger.activation[1].values.elements, String(2 ** 40));
});
