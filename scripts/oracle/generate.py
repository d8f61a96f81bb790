# Random small TensorFlow programs for the oracle test (test/main/analysis/oracle.test.ts).
#
# Each program is the source of one tf.Module: variables of every dtype with random values, a
# lookup table, an optional call counter the graph increments itself, nested tf.functions, and a
# serving signature built from a random tree of tf.cond / autograph `if` / tf.switch_case /
# `for i in tf.range(n)` / tf.while_loop, predicates over variables, loop counters, the table,
# tf.random.uniform and tf.timestamp, self-assignments, and unsafe sinks: tf.io.write_file to a
# canary file whose name identifies the sink. The program is saved as a SavedModel (checkpoint A)
# and its variables, re-assigned, as a second object checkpoint (checkpoint B) with the same keys.
#
#   python generate.py --seed 1 --count 500 --out DIR
#
# DIR/pNNNNN/{program.py, meta.json, A/ (SavedModel), B/variables.*}, DIR/manifest.json. Programs whose
# meta.json exists (written last) are kept: an interrupted run resumes where it stopped.
# Same seed and count, same programs (Python's `random` is deterministic across platforms).
import argparse
import json
import os
import random
import shutil
import subprocess
import sys

CANARY_DIR = '/tmp/oracle-canary'
WORDS = ['on', 'off', 'arm', 'idle', 'x', '']
MAX_SINKS = 6
COUNTER_LIMIT = 4  # gates `calls > k` use k < this, so a run of 5 calls decides them


class Expr:
    """Python source of a tensor expression and whether its value depends on the environment."""

    def __init__(self, code, env=False):
        self.code = code
        self.env = env


class Program:
    def __init__(self, rng, pid):
        self.rng = rng
        self.pid = pid
        self.sinks = []
        self.helpers = []  # (name, lines)
        self.n_int = rng.randint(1, 3)
        self.int_a = [rng.randint(-2, 7) for _ in range(self.n_int)]
        self.int_b = [self._maybe_same(v, lambda: rng.randint(-2, 7)) for v in self.int_a]
        self.wide_a = rng.randint(-3, 9)  # int64 variable
        self.wide_b = self._maybe_same(self.wide_a, lambda: rng.randint(-3, 9))
        self.f_a = rng.choice([-1.5, 0.0, 0.25, 0.5, 1.0, 2.5, 4.0])
        self.f_b = self._maybe_same(self.f_a, lambda: rng.choice([-1.5, 0.0, 0.25, 0.5, 1.0, 2.5, 4.0]))
        self.b_a = rng.random() < 0.5
        self.b_b = self._maybe_same(self.b_a, lambda: rng.random() < 0.5)
        self.s_a = rng.choice(WORDS)
        self.s_b = self._maybe_same(self.s_a, lambda: rng.choice(WORDS))
        self.counter = rng.random() < 0.45
        self.calls_a = 0
        self.calls_b = self._maybe_same(0, lambda: rng.randint(0, 3)) if self.counter else 0
        self.table_keys = rng.sample(WORDS, 4)
        self.table_vals = [rng.randint(-1, 5) for _ in self.table_keys]
        self.itable_keys = rng.sample(range(-2, 8), 4)
        self.itable_vals = [rng.randint(0, 6) for _ in self.itable_keys]
        self.loop_depth = 0
        self.in_loop = 0
        # A variable written under a random/time gate (or with such a value): every later read of
        # it, hence every sink, depends on the environment.
        self.env_state = False
        self.budget = rng.randint(3, 9)  # statements in the whole program

    def _maybe_same(self, value, fresh):
        return value if self.rng.random() < 0.3 else fresh()

    # ---- expressions ------------------------------------------------------------------------
    def int_expr(self, scope, depth=0):
        r = self.rng
        leaves = [lambda: Expr('self.a%d' % r.randrange(self.n_int))] * 3 + [
            lambda: Expr('tf.constant(%d)' % r.randint(-1, 6)),
            lambda: Expr('tf.cast(self.w, tf.int32)'),
            lambda: Expr('tf.cast(self.f, tf.int32)'),
            lambda: Expr('tf.cast(self.table.lookup(self.s), tf.int32)'),
            lambda: Expr('tf.cast(self.itable.lookup(tf.cast(self.a%d, tf.int64)), tf.int32)' % r.randrange(self.n_int)),
            lambda: Expr('tf.strings.length(self.s)'),
        ]
        if self.counter:
            leaves.append(lambda: Expr('tf.cast(self.calls, tf.int32)'))
        for name in scope:
            leaves += [lambda name=name: Expr(name)] * 3
        if depth >= 2 or r.random() < 0.5:
            return r.choice(leaves)()
        a = self.int_expr(scope, depth + 1)
        kind = r.randrange(7)
        if kind == 0:
            b = self.int_expr(scope, depth + 1)
            return Expr('(%s + %s)' % (a.code, b.code), a.env or b.env)
        if kind == 1:
            b = self.int_expr(scope, depth + 1)
            return Expr('(%s - %s)' % (a.code, b.code), a.env or b.env)
        if kind == 2:
            return Expr('(%s * %d)' % (a.code, r.randint(-2, 3)), a.env)
        if kind == 3:
            return Expr('tf.math.floormod(%s, %d)' % (a.code, r.randint(2, 4)), a.env)
        if kind == 4:
            b = self.int_expr(scope, depth + 1)
            return Expr('tf.%s(%s, %s)' % (r.choice(['maximum', 'minimum']), a.code, b.code), a.env or b.env)
        if kind == 5:
            p = self.bool_expr(scope, depth + 1)
            b = self.int_expr(scope, depth + 1)
            return Expr('tf.where(%s, %s, %s)' % (p.code, a.code, b.code), a.env or b.env or p.env)
        return Expr('tf.abs(%s)' % a.code, a.env)

    def float_expr(self, scope, depth):
        r = self.rng
        choice = r.randrange(4)
        if choice == 0:
            return Expr('self.f')
        if choice == 1:
            return Expr('(self.f * %s)' % r.choice(['2.0', '-1.0', '0.5']))
        if choice == 2:
            i = self.int_expr(scope, depth + 1)
            return Expr('(self.f + tf.cast(%s, tf.float32))' % i.code, i.env)
        return Expr('tf.cast(%s, tf.float32) / 2.0' % self.int_expr(scope, depth + 1).code)

    def bool_expr(self, scope, depth=0):
        r = self.rng
        kind = r.randrange(16)
        if kind <= 4:
            a = self.int_expr(scope, depth + 1)
            b = self.int_expr(scope, depth + 1) if r.random() < 0.3 else Expr(str(r.randint(-1, 6)))
            op = r.choice(['equal', 'not_equal', 'less', 'less_equal', 'greater', 'greater_equal', '>', '<', '>=', '=='])
            if op in ('>', '<', '>='):
                return Expr('(%s %s %s)' % (a.code, op, b.code), a.env or b.env)
            if op == '==':
                return Expr('tf.equal(%s, %s)' % (a.code, b.code), a.env or b.env)
            return Expr('tf.math.%s(%s, %s)' % (op, a.code, b.code), a.env or b.env)
        if kind == 5:
            f = self.float_expr(scope, depth)
            return Expr('(%s %s %s)' % (f.code, r.choice(['>', '<', '>=']), r.choice(['0.0', '0.5', '1.0', '2.0'])), f.env)
        if kind == 6:
            return Expr(r.choice(['self.b', 'tf.logical_not(self.b)', 'tf.equal(self.b, True)']))
        if kind == 7:
            return Expr(r.choice(['tf.equal(self.s, %r)', 'tf.not_equal(self.s, %r)']) % r.choice(WORDS))
        if kind == 8:
            return Expr('tf.strings.length(self.s) %s %d' % (r.choice(['>', '<', '>=']), r.randint(0, 3)))
        if kind == 9:
            return Expr('(self.table.lookup(%s) > %d)' % (r.choice(['self.s', 'tf.constant(%r)' % r.choice(WORDS)]), r.randint(-1, 4)))
        if kind == 10 and depth < 3:
            a = self.bool_expr(scope, depth + 1)
            b = self.bool_expr(scope, depth + 1)
            op = r.choice(['logical_and', 'logical_or', 'logical_xor'])
            mod = 'tf.math' if op == 'logical_xor' else 'tf'
            return Expr('%s.%s(%s, %s)' % (mod, op, a.code, b.code), a.env or b.env)
        if kind == 11 and depth < 3:
            a = self.bool_expr(scope, depth + 1)
            return Expr('tf.logical_not(%s)' % a.code, a.env)
        if kind == 12:
            return Expr(r.choice(['(tf.random.uniform([]) < %s)' % r.choice(['0.3', '0.6', '0.95']),
                                  '(tf.random.uniform([], maxval=10, dtype=tf.int32) > %d)' % r.randint(2, 7)]), True)
        if kind == 13:
            # 1.6e9 is in the past (true now), 4.1e9 is in 2099 (false now): both are environment.
            return Expr('(tf.timestamp() %s %s)' % (r.choice(['>', '<']), r.choice(['1.6e9', '4.1e9'])), True)
        if kind == 14 and self.counter:
            return Expr(r.choice(['(self.calls > %d)', 'tf.equal(self.calls, %d)', '(self.calls >= %d)']) % r.randint(0, COUNTER_LIMIT - 1))
        if kind == 15 and scope:
            v = r.choice(scope)
            return Expr(r.choice(['tf.equal(%s, %d)', '(%s >= %d)', 'tf.equal(tf.math.floormod(%s, 2), %d)']) % (v, r.randint(0, 4)))
        a = self.int_expr(scope, depth + 1)
        return Expr('(%s > %d)' % (a.code, r.randint(-1, 4)), a.env)

    # ---- statements -------------------------------------------------------------------------
    def sink(self, env):
        sid = 'p%05d_s%d' % (self.pid, len(self.sinks))
        self.sinks.append({'id': sid, 'env': env})
        return ["tf.io.write_file(%r, %r)" % (CANARY_DIR + '/' + sid, sid)]

    def assignment(self, scope, env):
        r = self.rng
        if env:
            self.env_state = True
        # Inside a loop, int variables stay put: loop bounds read them, and trip counts must stay small.
        kind = r.randrange(2, 5) if self.in_loop else r.randrange(5)
        if kind == 0:
            return ['self.a%d.assign_add(%d)' % (r.randrange(self.n_int), r.choice([-1, 1, 2]))]
        if kind == 1:
            e = self.int_expr(scope, 1)
            self.env_state = self.env_state or e.env
            return ['self.a%d.assign(tf.minimum(%s, 9))' % (r.randrange(self.n_int), e.code)]
        if kind == 2:
            return ['self.b.assign(tf.logical_not(self.b))']
        if kind == 3:
            return ['self.s.assign(%r)' % r.choice(WORDS)]
        return ['self.f.assign(self.f + %s)' % r.choice(['1.0', '-0.5', '0.25'])]

    def block(self, scope, env, depth, min_len=1):
        """Statements of one body; env: an enclosing gate depends on the environment."""
        r = self.rng
        lines = []
        n = r.randint(min_len, 3)
        for _ in range(n):
            if len(self.sinks) >= MAX_SINKS:
                break
            lines += self.statement(scope, env, depth)
        if not lines:
            lines = self.sink(env) if len(self.sinks) < MAX_SINKS else ['pass']
        return lines

    def statement(self, scope, env, depth):
        r = self.rng
        self.budget -= 1
        if depth >= 4 or self.budget <= 0:
            return self.sink(env) if r.random() < 0.8 else self.assignment(scope, env)
        kind = r.choices(['sink', 'assign', 'cond', 'if', 'case', 'for', 'while', 'call', 'flow'], [3, 1, 3, 2, 2, 2, 1, 2, 2])[0]
        if kind == 'sink':
            return self.sink(env)
        if kind == 'assign':
            return self.assignment(scope, env)
        if kind == 'cond':
            p = self.bool_expr(scope)
            tag = self.fresh()
            then = self.block(scope, env or p.env, depth + 1)
            other = self.block(scope, env or p.env, depth + 1, 0) if r.random() < 0.5 else ['pass']
            return (['def then_%s():' % tag] + indent(then + ['return tf.constant(0)'])
                    + ['def else_%s():' % tag] + indent(other + ['return tf.constant(0)'])
                    + ['tf.cond(%s, then_%s, else_%s)' % (p.code, tag, tag)])
        if kind == 'if':
            p = self.bool_expr(scope)
            then = self.block(scope, env or p.env, depth + 1)
            if r.random() < 0.4:
                return ['if %s:' % p.code] + indent(then) + ['else:'] + indent(self.block(scope, env or p.env, depth + 1))
            return ['if %s:' % p.code] + indent(then)
        if kind == 'case':
            idx = self.int_expr(scope)
            tag = self.fresh()
            lines = []
            names = []
            for k in range(r.randint(2, 4)):
                body = self.block(scope, env or idx.env, depth + 1) if r.random() < 0.7 else ['pass']
                lines += ['def case_%s_%d():' % (tag, k)] + indent(body + ['return tf.constant(0)'])
                names.append('case_%s_%d' % (tag, k))
            return lines + ['tf.switch_case(tf.convert_to_tensor(%s), [%s])' % (idx.code, ', '.join(names))]
        if kind in ('for', 'while'):
            if self.loop_depth >= 2:
                return self.sink(env)
            bound = r.choice([Expr(str(r.randint(0, 6)))] + [Expr('self.a%d' % r.randrange(self.n_int))] * 2
                             + [Expr('tf.cast(self.w, tf.int32)'), Expr('tf.minimum(%s, 8)' % self.int_expr(scope).code)])
            var = 'i%d' % self.loop_depth
            self.loop_depth += 1
            self.in_loop += 1
            body = self.block(scope + [var], env or bound.env, depth + 1)
            self.loop_depth -= 1
            self.in_loop -= 1
            if kind == 'for':
                # tf.range fails at run time on a negative limit; most loops clamp it like real code.
                limit = bound.code if r.random() < 0.3 or bound.code.isdigit() else 'tf.maximum(%s, 0)' % bound.code
                return ['for %s in tf.range(%s):' % (var, limit)] + indent(body)
            tag = self.fresh()
            return (['n_%s = %s' % (tag, bound.code), 'def body_%s(%s):' % (tag, var)] + indent(body + ['return (%s + 1,)' % var])
                    + ['tf.while_loop(lambda %s: %s < n_%s, body_%s, (tf.constant(0),))' % (var, var, tag, tag)])
        if kind == 'flow':
            return self.value_gate(scope, env, depth)
        # call: a nested tf.function taking an int argument
        arg = self.int_expr(scope)
        slot = len(self.helpers)
        name = 'h%d' % slot
        self.helpers.append((name, None, None))
        saved = self.loop_depth
        self.loop_depth = 0
        body = self.block(['x'], env or arg.env, depth + 1)
        self.loop_depth = saved
        self.helpers[slot] = (name, body, None)
        return ['self.%s(%s)' % (name, arg.code)]

    def value_gate(self, scope, env, depth):
        """A value computed by control flow (out of a tf.cond, a loop-carried accumulator, a nested
        function's result), then a gate on it."""
        r = self.rng
        tag = self.fresh()
        name = 'v%s' % tag
        shape = r.randrange(3)
        if shape == 0:
            p = self.bool_expr(scope)
            a = self.int_expr(scope, 1)
            b = self.int_expr(scope, 1)
            head = ['%s = tf.cond(%s, lambda: %s, lambda: %s)' % (name, p.code, a.code, b.code)]
            venv = p.env or a.env or b.env
        elif shape == 1:
            j = 'j%s' % tag
            bound = r.choice([str(r.randint(0, 6)), 'tf.maximum(self.a%d, 0)' % r.randrange(self.n_int), 'tf.cast(self.w, tf.int32)'])
            step = self.int_expr(scope + [j], 1)
            head = ['_, %s = tf.while_loop(lambda %s, acc: %s < %s, lambda %s, acc: (%s + 1, acc + %s), (tf.constant(0), tf.constant(%d)))'
                    % (name, j, j, bound, j, j, step.code, r.randint(-2, 2))]
            venv = step.env
        else:
            arg = self.int_expr(scope)
            slot = len(self.helpers)
            hname = 'h%d' % slot
            self.helpers.append((hname, None, None))
            saved = self.loop_depth
            self.loop_depth = 0
            hbody = self.block(['x'], env or arg.env, depth + 1, 0) if r.random() < 0.5 else []
            ret = self.int_expr(['x'], 1)
            self.loop_depth = saved
            self.helpers[slot] = (hname, hbody, ret.code)
            head = ['%s = self.%s(%s)' % (name, hname, arg.code)]
            venv = arg.env or ret.env
        test = r.choice(['tf.equal(%s, %d)', '(%s > %d)', '(%s >= %d)', 'tf.not_equal(%s, %d)', '(%s < %d)']) % (name, r.randint(-1, 6))
        body = self.block(scope + [name], env or venv, depth + 1)
        if r.random() < 0.5:
            return head + ['if %s:' % test] + indent(body)
        return head + ['def then_%s():' % tag] + indent(body + ['return tf.constant(0)']) + ['tf.cond(%s, then_%s, lambda: tf.constant(0))' % (test, tag)]

    def fresh(self):
        self._n = getattr(self, '_n', 0) + 1
        return str(self._n)

    # ---- the whole program ------------------------------------------------------------------
    def source(self):
        body = []
        while not self.sinks:
            self.budget = max(self.budget, 2)
            body += self.block([], False, 0, 1)
        if self.env_state:
            for sink in self.sinks:
                sink['env'] = True
        pre = ['self.calls.assign_add(1)'] if self.counter else []
        init = ['super().__init__()']
        for k in range(self.n_int):
            init.append('self.a%d = tf.Variable(%d, dtype=tf.int32)' % (k, self.int_a[k]))
        init += [
            'self.w = tf.Variable(%d, dtype=tf.int64)' % self.wide_a,
            'self.f = tf.Variable(%r, dtype=tf.float32)' % self.f_a,
            'self.b = tf.Variable(%r)' % self.b_a,
            'self.s = tf.Variable(%r)' % self.s_a,
            'self.table = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(tf.constant(%r), tf.constant(%r, tf.int64)), default_value=-1)' % (self.table_keys, self.table_vals),
            'self.itable = tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(tf.constant(%r, tf.int64), tf.constant(%r, tf.int64)), default_value=0)' % (self.itable_keys, self.itable_vals),
        ]
        if self.counter:
            init.append('self.calls = tf.Variable(%d, dtype=tf.int64)' % self.calls_a)
        cls = ['class Program(tf.Module):'] + indent(['def __init__(self):'] + indent(init))
        for name, hbody, ret in self.helpers:
            cls += indent(['', '@tf.function%s' % autograph(hbody, ''), 'def %s(self, x):' % name] + indent(hbody + ['return %s' % (ret or 'tf.constant(0)')]))
        cls += indent(['', '@tf.function(input_signature=[]%s)' % autograph(body, ', '), 'def serve(self):'] + indent(pre + body + ['return {"out": tf.constant(0)}']))
        alternate = {'a%d' % k: self.int_b[k] for k in range(self.n_int)}
        alternate.update({'w': self.wide_b, 'f': self.f_b, 'b': self.b_b, 's': self.s_b})
        if self.counter:
            alternate['calls'] = self.calls_b
        return '\n'.join(['import tensorflow as tf', '', ''] + cls + ['', '', 'ALTERNATE = %r' % alternate, '']), alternate


def autograph(lines, sep):
    """Autograph costs most of the generation time: off where no Python `if`/`for` needs it."""
    if any(line.lstrip().startswith(('if ', 'for ')) for line in lines):
        return ''
    return '%sautograph=False' % sep if sep else '(autograph=False)'


def indent(lines):
    return ['    ' + line if line else line for line in lines]


REPRO = '''
# Reproduce: python program.py  (writes canaries under %s; run it inside a sandbox)
if __name__ == '__main__':
    import os
    os.makedirs(%r, exist_ok=True)
    for label in ('A', 'B'):
        m = Program()
        if label == 'B':
            for k, v in ALTERNATE.items():
                getattr(m, k).assign(v)
        for call in range(1, 6):
            before = set(os.listdir(%r))
            m.serve()
            print(label, 'call', call, 'new canaries:', sorted(set(os.listdir(%r)) - before))
''' % (CANARY_DIR, CANARY_DIR, CANARY_DIR, CANARY_DIR)


def save_program(tf, src, pdir, alternate):
    namespace = {'tf': tf}
    exec(compile(src, os.path.join(pdir, 'program.py'), 'exec'), namespace)
    module = namespace['Program']()
    tf.saved_model.save(module, os.path.join(pdir, 'A'), signatures={'serving_default': module.serve})
    for key, value in alternate.items():
        getattr(module, key).assign(value)
    os.makedirs(os.path.join(pdir, 'B'))
    tf.train.Checkpoint(module).write(os.path.join(pdir, 'B', 'variables'))


def generate(seed, pids, out, sources_only):
    pids = [p for p in pids if not os.path.exists(os.path.join(out, 'p%05d' % p, 'meta.json'))]
    if not sources_only and pids:
        os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
        import tensorflow as tf
        tf.get_logger().setLevel('ERROR')
    for done, pid in enumerate(pids, 1):
        name = 'p%05d' % pid
        pdir = os.path.join(out, name)
        if os.path.exists(os.path.join(pdir, 'meta.json')):
            continue  # finished by an earlier, interrupted run of the same generator (meta.json is written last)
        # A program TensorFlow refuses at trace time (e.g. tf.range of a constant negative limit)
        # is replaced by the next attempt's, deterministically.
        for attempt in range(20):
            rng = random.Random('%d/%d/%d' % (seed, pid, attempt))
            prog = Program(rng, pid)
            src, alternate = prog.source()
            shutil.rmtree(pdir, ignore_errors=True)
            os.makedirs(pdir)
            with open(os.path.join(pdir, 'program.py'), 'w') as f:
                f.write(src + REPRO)
            if sources_only:
                break
            try:
                save_program(tf, src, pdir, alternate)
                break
            except Exception as e:  # noqa: BLE001 - any trace/save failure means: next attempt
                print('%s attempt %d rejected by TensorFlow: %s' % (name, attempt, str(e).strip().splitlines()[-1][:200]), file=sys.stderr)
        else:
            raise SystemExit('%s: no attempt traced' % name)
        meta = {'id': name, 'attempt': attempt, 'sinks': prog.sinks, 'counter': prog.counter}
        with open(os.path.join(pdir, 'meta.json'), 'w') as f:
            json.dump(meta, f)
        if done % 50 == 0:
            print('generated %d/%d' % (done, len(pids)), file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--jobs', type=int, default=1, help='worker processes (TensorFlow tracing is single-threaded)')
    ap.add_argument('--shard', default=None, help='K/J: generate only programs with id %% J == K (used by --jobs)')
    ap.add_argument('--sources-only', action='store_true', help='write program.py files, no TensorFlow')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.shard:
        k, j = (int(x) for x in args.shard.split('/'))
        generate(args.seed, [p for p in range(args.count) if p % j == k], args.out, args.sources_only)
        return
    if args.jobs > 1:
        base = [sys.executable, os.path.abspath(__file__), '--seed', str(args.seed), '--count', str(args.count), '--out', args.out]
        if args.sources_only:
            base.append('--sources-only')
        workers = [subprocess.Popen(base + ['--shard', '%d/%d' % (k, args.jobs)]) for k in range(args.jobs)]
        if any(w.wait() != 0 for w in workers):
            raise SystemExit('a generator worker failed')
    else:
        generate(args.seed, list(range(args.count)), args.out, args.sources_only)
    manifest = []
    for pid in range(args.count):
        with open(os.path.join(args.out, 'p%05d' % pid, 'meta.json')) as f:
            manifest.append(json.load(f))
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump({'seed': args.seed, 'count': args.count, 'programs': manifest}, f)


if __name__ == '__main__':
    main()
