// Soundness against real TensorFlow (issue 16): each model below hides a file write behind a
// gate that a loop counter, a variable the graph writes itself, the clock, a random draw or a
// lookup table decides. TensorFlow runs every model five times per checkpoint and records the
// calls that wrote; our verdict must never call a write that happened dormant, and must say
// why it runs (iterations, the call it starts from, the date). Skips without TensorFlow.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openModel } from '../../../main/formats/index.ts';
import { openCheckpoint } from '../../../main/formats/tensorbundle.ts';
import { scanModel } from '../../../main/analysis/scan.ts';
import type { Finding, ScanReport } from '../../../shared/findings.ts';
import { SEVERITY_RANK } from '../../../shared/findings.ts';
import { TF_PYTHON as PYTHON, skipWithoutTf as skip } from '../../helpers/tensorflow.ts';

const SCRIPT = String.raw`
import json, os, sys
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
import tensorflow as tf
out = sys.argv[1]
def p(name): return os.path.join(out, name)
SPEC = [tf.TensorSpec([], tf.float32)]

class LoopWrite(tf.Module):
    """The loop counter reaches 4 on the last of 5 iterations."""
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        for i in tf.range(5):
            if i == 4:
                tf.io.write_file(p('loop_write.out'), 'w')
        return x

class LoopTrip(tf.Module):
    """Trip count and threshold from variables: writes at iterations 10 and 11 of 12."""
    def __init__(self, k):
        super().__init__()
        self.n = tf.Variable(12, dtype=tf.int32)
        self.k = tf.Variable(k, dtype=tf.int32)
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        for i in tf.range(self.n):
            if i >= self.k:
                tf.io.write_file(p('loop_trip.out'), 'w')
        return x

class Counter(tf.Module):
    """calls.assign_add(1) on every call; the gate opens on the third."""
    def __init__(self):
        super().__init__()
        self.calls = tf.Variable(0, dtype=tf.int64)
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        self.calls.assign_add(1)
        if self.calls > 2:
            tf.io.write_file(p('counter.out'), 'w')
        return x

class CounterElse(tf.Module):
    """The else branch of calls != 4 runs on call 4 only."""
    def __init__(self):
        super().__init__()
        self.calls = tf.Variable(0, dtype=tf.int64)
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        self.calls.assign_add(1)
        def armed():
            tf.io.write_file(p('counter_else.out'), 'w')
            return x
        return tf.cond(self.calls != 4, lambda: x, armed)

class SelfAssign(tf.Module):
    """The graph arms itself for the next call (oracle finding 1)."""
    def __init__(self):
        super().__init__()
        self.s = tf.Variable('off')
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        def armed():
            tf.io.write_file(p('self_assign.out'), 'w')
            return x
        y = tf.cond(tf.equal(self.s, 'x'), armed, lambda: x)
        self.s.assign('x')
        return y

class RandomGate(tf.Module):
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        if tf.random.uniform([]) < 0.999:
            tf.io.write_file(p('random.out'), 'w')
        return x

class TimeBomb(tf.Module):
    def __init__(self, when):
        super().__init__()
        self.when = when
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        if tf.timestamp() > self.when:
            tf.io.write_file(p(('past' if self.when < 2e9 else 'future') + '_bomb.out'), 'w')
        return x

class TableGate(tf.Module):
    def __init__(self):
        super().__init__()
        self.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(tf.constant(['off', 'on']), tf.constant([0, 1], tf.int64)), -1)
        self.key = tf.Variable('on')
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        if self.table.lookup(self.key) == 1:
            tf.io.write_file(p('table.out'), 'w')
        return x

vocab = p('vocab.txt')
with open(vocab, 'w') as f:
    f.write('alpha\nbeta\ngamma\n')
class AssetTable(tf.Module):
    def __init__(self):
        super().__init__()
        self.table = tf.lookup.StaticHashTable(tf.lookup.TextFileInitializer(vocab, tf.string, tf.lookup.TextFileIndex.WHOLE_LINE, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER), -1)
        self.key = tf.Variable('gamma')
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        if self.table.lookup(self.key) == 2:
            tf.io.write_file(p('asset_table.out'), 'w')
        return x

class TableSize(tf.Module):
    def __init__(self):
        super().__init__()
        self.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(tf.constant(['a', 'b', 'c']), tf.constant([1, 2, 3], tf.int64)), -1)
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        if self.table.size() > 2:
            tf.io.write_file(p('table_size.out'), 'w')
        return x

class MutableTable(tf.Module):
    """A table the graph fills at run time: its contents are not the model's constants."""
    def __init__(self):
        super().__init__()
        self.table = tf.lookup.experimental.MutableHashTable(tf.string, tf.int64, -1)
    @tf.function(input_signature=SPEC)
    def __call__(self, x):
        self.table.insert(tf.constant(['k']), tf.constant([1], tf.int64))
        if self.table.lookup(tf.constant('k')) == 1:
            tf.io.write_file(p('mutable_table.out'), 'w')
        return x

models = {
    'loop_write': LoopWrite(), 'loop_trip': LoopTrip(10), 'loop_trip_off': LoopTrip(20), 'counter': Counter(), 'counter_else': CounterElse(),
    'self_assign': SelfAssign(), 'random': RandomGate(), 'past_bomb': TimeBomb(1700000000.0), 'future_bomb': TimeBomb(4102444800.0),
    'table': TableGate(), 'asset_table': AssetTable(), 'table_size': TableSize(), 'mutable_table': MutableTable(),
}
effect = {'loop_trip_off': 'loop_trip'}
for name, m in models.items():
    tf.saved_model.save(m, p(name), signatures={'serving_default': m.__call__})
ran = {}
def observe(name, load_and_call):
    f = p(effect.get(name, name) + '.out')
    calls = []
    fn = load_and_call()
    for c in range(5):
        if os.path.exists(f): os.remove(f)
        fn()
        calls.append(os.path.exists(f))
    ran[name] = calls
for name in models:
    def load(name=name):
        loaded = tf.saved_model.load(p(name))
        return lambda: loaded.signatures['serving_default'](x=tf.constant(1.0))
    observe(name, load)

# TF1 while frame (Enter/Merge/Switch/NextIteration/Exit): the body writes when i == 3, the
# trip count is a variable (5: iterations 0..4; 2: never reaches 3).
tf1 = tf.compat.v1
tf1.disable_control_flow_v2()
def tf1_model(name, n):
    g = tf.Graph()
    with g.as_default():
        x = tf1.placeholder(tf.float32, [], name='x')
        limit = tf1.Variable(n, dtype=tf.int32, name='limit')
        def body(i):
            def write():
                with tf.control_dependencies([tf.io.write_file(p('tf1_loop.out'), 'w')]):
                    return tf.identity(i)
            r = tf1.cond(tf.equal(i, 3), write, lambda: tf.identity(i))
            return r + 1
        end = tf1.while_loop(lambda i: i < limit, body, [tf.constant(0)])
        y = tf.identity(x + tf.cast(end, tf.float32), name='y')
        with tf1.Session(graph=g) as sess:
            sess.run(tf1.global_variables_initializer())
            b = tf1.saved_model.Builder(p(name))
            sig = tf1.saved_model.predict_signature_def(inputs={'x': x}, outputs={'y': y})
            b.add_meta_graph_and_variables(sess, ['serve'], signature_def_map={'serving_default': sig})
            b.save()
for name, n in (('tf1_loop', 5), ('tf1_loop_off', 2)):
    tf1_model(name, n)
    effect[name] = 'tf1_loop'
    def load(name=name):
        g = tf.Graph()
        sess = tf1.Session(graph=g)
        with g.as_default():
            tf1.saved_model.load(sess, ['serve'], p(name))
        return lambda: sess.run('y:0', {'x:0': 1.0})
    observe(name, load)
print(json.dumps(ran))
`;

/** 2026-01-01: after the past bomb's date (2023-11-14), before the future one's (2100-01-01). */
const NOW = new Date('2026-01-01T00:00:00Z');
let dir = '';
let ran: Record<string, boolean[]> = {};

before(() => {
  if (skip) return;
  // One Python run writes every model; cached by the script's hash (models are read-only inputs).
  const hash = createHash('sha256').update(SCRIPT).digest('hex').slice(0, 16);
  dir = join(tmpdir(), `tfaudit-soundness-${hash}`);
  const done = join(dir, 'ran.json');
  if (!existsSync(done)) {
    const work = `${dir}.${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    // AutoGraph converts `for i in tf.range` and `if tensor:` only when it can read the source: a file, not -c.
    writeFileSync(join(work, 'models.py'), SCRIPT);
    const run = spawnSync(PYTHON, [join(work, 'models.py'), work], { encoding: 'utf8', timeout: 400_000 });
    assert.equal(run.status, 0, run.stderr);
    writeFileSync(join(work, 'ran.json'), run.stdout.trim().split('\n').pop()!);
    if (!existsSync(done)) renameSync(work, dir);
    else rmSync(work, { recursive: true, force: true });
  }
  ran = JSON.parse(readFileSync(done, 'utf8')) as Record<string, boolean[]>;
});

async function scan(name: string, alternate?: string): Promise<ScanReport> {
  const model = await openModel(join(dir, name));
  const checkpoints = [{ label: 'own', checkpoint: model.checkpoint! }];
  if (alternate) checkpoints.push({ label: 'alternate', checkpoint: await openCheckpoint(join(dir, alternate, 'variables', 'variables')) });
  return scanModel(model, { checkpoints, toolVersion: 'test', now: NOW });
}

function write(report: ScanReport): Finding {
  const f = report.findings.find((x) => x.op === 'WriteFile');
  assert.ok(f, JSON.stringify(report.findings.map((x) => x.op)));
  return f;
}

/** The soundness contract against what TensorFlow did: a write that happened is never dormant, and never below high. */
function assertSound(f: Finding, label: string, wrote: boolean[]) {
  const a = f.trigger.activation.find((x) => x.checkpoint === label)!;
  if (wrote.some(Boolean)) {
    assert.notEqual(a.state, 'dormant', `${label}: TensorFlow wrote (${JSON.stringify(wrote)}) but we say dormant: ${a.reason}`);
    assert.ok(SEVERITY_RANK[f.severity] >= SEVERITY_RANK.high, `severity ${f.severity} below the ungated high`);
  }
}

test('real TF: what TensorFlow did on five calls of each model', { skip }, () => {
  assert.deepEqual(ran, {
    loop_write: [true, true, true, true, true],
    loop_trip: [true, true, true, true, true],
    loop_trip_off: [false, false, false, false, false],
    counter: [false, false, true, true, true],
    counter_else: [false, false, false, true, false],
    self_assign: [false, true, true, true, true],
    random: ran.random,
    past_bomb: [true, true, true, true, true],
    future_bomb: [false, false, false, false, false],
    table: [true, true, true, true, true],
    asset_table: [true, true, true, true, true],
    table_size: [true, true, true, true, true],
    mutable_table: [true, true, true, true, true],
    tf1_loop: [true, true, true, true, true],
    tf1_loop_off: [false, false, false, false, false],
  });
  assert.ok(ran.random.some(Boolean));
});

test('real TF: a write in a tf.range loop at i == 4 runs at iteration 4 of 5, not "constant-false"', { skip }, async () => {
  const f = write(await scan('loop_write'));
  assert.doesNotMatch(f.message, /constant-false/);
  assert.equal(f.severity, 'high');
  assert.equal(f.trigger.activation[0].state, 'active');
  assert.match(f.trigger.activation[0].reason, /runs at iteration 4 of 5/);
  assert.match(f.message, /iteration 4 of 5/);
  assertSound(f, 'own', ran.loop_write);
});

test('real TF: variable trip count and i >= k: iterations 10 and 11 of 12, dormant only when no iteration reaches k', { skip }, async () => {
  const f = write(await scan('loop_trip', 'loop_trip_off'));
  assert.equal(f.trigger.kind, 'variable');
  assert.deepEqual(Object.fromEntries(f.trigger.activation.map((a) => [a.checkpoint, a.state])), { own: 'active', alternate: 'dormant' });
  assert.match(f.trigger.activation[0].reason, /runs at iterations 10 and 11 of 12/);
  assert.match(f.trigger.activation[1].reason, /12 iterations; the op is reached in none of them/);
  assert.equal(f.severity, 'critical');
  assertSound(f, 'own', ran.loop_trip);
  assert.deepEqual(ran.loop_trip_off, [false, false, false, false, false]);
});

test('real TF: a call counter the graph increments itself is active from call 3 (and call 4 for the else of != 4)', { skip }, async () => {
  const f = write(await scan('counter'));
  assert.equal(f.trigger.activation[0].state, 'active');
  assert.match(f.trigger.activation[0].reason, /active from call 3/);
  assert.ok(f.trigger.selfWritten?.some((w) => /^calls\/.*AssignAddVariableOp.*\+1 per run/.test(w)), JSON.stringify(f.trigger.selfWritten));
  assert.match(f.message, /changes calls\S* itself/);
  assert.equal(f.severity, 'critical');
  assertSound(f, 'own', ran.counter);
  const g = write(await scan('counter_else'));
  assert.match(g.trigger.activation[0].reason, /active from call 4/);
  assertSound(g, 'own', ran.counter_else);
});

test('real TF: a variable the graph assigns for the next call is not read as the checkpoint constant', { skip }, async () => {
  const f = write(await scan('self_assign'));
  assert.equal(f.trigger.activation[0].state, 'active');
  assert.match(f.trigger.activation[0].reason, /once it holds "x" \(set by /);
  assertSound(f, 'own', ran.self_assign);
});

test('real TF: a gate on tf.random.uniform is an environment trigger, at least high, never input', { skip }, async () => {
  const f = write(await scan('random'));
  assert.equal(f.trigger.kind, 'environment');
  assert.ok(f.trigger.environment?.some((e) => /random number generator: RandomUniform/.test(e)), JSON.stringify(f.trigger.environment));
  assert.equal(f.trigger.activation[0].state, 'unknown');
  assert.equal(f.severity, 'high');
  assert.doesNotMatch(f.message, /input of the caller/);
  assert.ok(f.figure.nodes.some((n) => n.kind === 'environment' && /RandomUniform/.test(n.label)));
  assertSound(f, 'own', ran.random);
});

test('real TF: a time bomb on tf.timestamp() is judged against the scan time with its date', { skip }, async () => {
  const past = write(await scan('past_bomb'));
  assert.equal(past.trigger.kind, 'environment');
  assert.equal(past.trigger.activation[0].state, 'active');
  assert.match(past.trigger.activation[0].reason, /true since 2023-11-14 22:13:2\d UTC/);
  assert.equal(past.severity, 'critical');
  assertSound(past, 'own', ran.past_bomb);
  const future = write(await scan('future_bomb'));
  assert.equal(future.trigger.activation[0].state, 'unknown');
  assert.match(future.trigger.activation[0].reason, /becomes true on 2100-01-01 00:00:0\d UTC/);
  assert.equal(future.severity, 'high');
});

test('real TF: StaticHashTable lookups over constants and over an asset file are evaluated', { skip }, async () => {
  for (const name of ['table', 'asset_table']) {
    const f = write(await scan(name));
    assert.equal(f.trigger.kind, 'variable', name);
    assert.equal(f.trigger.activation[0].state, 'active', `${name}: ${f.trigger.activation[0].reason}`);
    assert.equal(f.severity, 'critical');
    assert.equal(f.trigger.environment, undefined);
    assertSound(f, 'own', ran[name]);
  }
});

test('real TF: LookupTableSizeV2 of a constant table is evaluated; a MutableHashTable the graph fills is run-time state, never dormant', { skip }, async () => {
  const size = write(await scan('table_size'));
  assert.equal(size.trigger.activation[0].state, 'active', size.trigger.activation[0].reason);
  assert.equal(size.trigger.kind, 'none');
  assertSound(size, 'own', ran.table_size);
  const mutable = write(await scan('mutable_table'));
  assert.equal(mutable.trigger.kind, 'environment');
  assert.ok(mutable.trigger.environment?.some((e) => /lookup table written at run time.*mutable table/.test(e)), JSON.stringify(mutable.trigger.environment));
  assert.equal(mutable.trigger.activation[0].state, 'unknown');
  assert.equal(mutable.severity, 'high');
  assertSound(mutable, 'own', ran.mutable_table);
});

test('real TF: a TF1 while frame is iterated: the write at i == 3 runs under limit 5, not under limit 2', { skip }, async () => {
  const f = write(await scan('tf1_loop', 'tf1_loop_off'));
  assert.deepEqual(Object.fromEntries(f.trigger.activation.map((a) => [a.checkpoint, a.state])), { own: 'active', alternate: 'dormant' });
  assert.match(f.trigger.activation[0].reason, /runs at iteration 3 of 5/);
  assertSound(f, 'own', ran.tf1_loop);
});
