// TensorFlow as the oracle: 500 random programs (fixed seed) mixing tf.cond / autograph if /
// tf.switch_case / tf.range loops / tf.while_loop, nested tf.functions, variables of every dtype,
// self-assignments and a call counter, lookup tables, tf.random and tf.timestamp gates, and
// tf.io.write_file sinks into canary files. Each is scanned with its two checkpoints and run in
// TensorFlow inside bubblewrap, 5 calls per checkpoint. A sink that ran but that we reported dead,
// never-running, dormant, or below its ungated severity is a soundness bug: zero allowed.
// The comparator's own self-check (fabricated reports) runs without TensorFlow.
// Longer runs: `npm run oracle -- --count 5000 --seed N`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding, ScanReport } from '../../../shared/findings.ts';
import { TF_PYTHON } from '../../helpers/tensorflow.ts';
import {
  GENERATOR, describeBug, ensurePrograms, judgeAll, judgeProgram, runInTensorFlow, sandboxArgv, sinkOf, skipWithoutOracle, summarize, summaryTable,
  type Manifest, type OracleProgram, type TfProgramRun,
} from '../../helpers/oracle.ts';

const SEED = 16;
const COUNT = Number(process.env.TFAUDIT_ORACLE_COUNT ?? 500);
const skip = skipWithoutOracle();
const skipPython = TF_PYTHON && spawnSync(TF_PYTHON, ['-c', 'pass']).status === 0 ? false : `no Python at ${TF_PYTHON}`;

// ---- the comparator, on fabricated reports (must be able to fail) ---------------------------------

function writeFinding(sink: string, over: Partial<Finding> = {}, states: [string, 'active' | 'dormant' | 'unknown'][] = [['A', 'active'], ['B', 'active']]): Finding {
  return {
    id: 'F1', rule: 'file-write', severity: 'critical', capability: 'file-write', op: 'WriteFile', node: 'WriteFile', function: '__inference_serve_1',
    metaGraph: 'serve', message: '', evidence: [],
    arguments: [{ input: 'filename', value: `/tmp/oracle-canary/${sink}`, expression: `Const('/tmp/oracle-canary/${sink}')`, classification: 'local-path' }],
    reachability: 'signature', entryPoints: ['serving_default'],
    trigger: {
      kind: 'variable', variables: ['flag/.ATTRIBUTES/VARIABLE_VALUE'],
      gates: [{ function: '__inference_serve_1', node: 'cond', op: 'If', branch: 'then_branch', branchFunction: 'cond_true_1', predicate: { source: 'variable', variables: ['flag/.ATTRIBUTES/VARIABLE_VALUE'], inputs: [], nodes: [], expression: 'Greater(flag, 0)' } }],
      activation: states.map(([checkpoint, state]) => ({ checkpoint, state, values: {}, reason: '' })),
    },
    figure: { nodes: [], edges: [] }, recommendation: '',
    ...over,
  };
}

function report(findings: Finding[]): ScanReport {
  return {
    schemaVersion: 1, tool: { name: 'tfaudit', version: 'test' }, model: { path: '', format: 'saved-model', files: [], tensorflowVersion: null },
    checkpoints: [], findings, errors: [], analysis: { isolated: false, isolation: '', opsAnalysed: 0, functionsAnalysed: 0, unknownSemantics: [], notes: [] },
  };
}

const program: OracleProgram = { id: 'p00000', attempt: 0, counter: false, sinks: [{ id: 'p00000_s0', env: false }] };
const ranUnderB: TfProgramRun = { A: {}, B: { p00000_s0: 3 }, error: null, callErrors: [] };

test('oracle self-check: a sink TensorFlow ran under B but reported dormant under B is flagged', () => {
  const js = judgeProgram(program, report([writeFinding('p00000_s0', {}, [['A', 'dormant'], ['B', 'dormant']])]), ranUnderB);
  const b = js.find((j) => j.checkpoint === 'B')!;
  assert.equal(b.ranAtCall, 3);
  assert.match(b.unsound.join(), /ran in TensorFlow \(call 3\) but reported dormant/);
  assert.deepEqual(js.find((j) => j.checkpoint === 'A')!.unsound, [], 'dormant and did not run is sound');
});

test('oracle self-check: dead, never-running (info) and missing findings for a sink that ran are flagged', () => {
  assert.match(judgeProgram(program, report([writeFinding('p00000_s0', { reachability: 'dead', severity: 'low' })]), ranUnderB)[1].unsound.join(), /reported dead/);
  assert.match(judgeProgram(program, report([writeFinding('p00000_s0', { severity: 'info' })]), ranUnderB)[1].unsound.join(), /reported never/);
  assert.match(judgeProgram(program, report([]), ranUnderB)[1].unsound.join(), /no finding/);
});

test('oracle self-check: severity below the ungated one is flagged when the sink ran or the verdict is unknown', () => {
  const medium = writeFinding('p00000_s0', { severity: 'medium' }, [['A', 'unknown'], ['B', 'unknown']]);
  const [a, b] = judgeProgram(program, report([medium]), ranUnderB);
  assert.match(b.unsound.join(), /severity medium is below the ungated high/);
  assert.match(a.unsound.join(), /verdict unknown but severity medium/);
});

test('oracle self-check: an op the engine cannot evaluate is no caller input; a function argument is', () => {
  const gated = (inputs: string[]): Finding => {
    const f = writeFinding('p00000_s0', { severity: 'medium' }, [['A', 'unknown'], ['B', 'unknown']]);
    f.trigger.kind = 'input';
    f.trigger.gates[0].predicate = { ...f.trigger.gates[0].predicate, source: 'input', variables: [], inputs };
    return f;
  };
  for (const op of ['__inference_serve_1/Timestamp (Timestamp)', '__inference_serve_1/random_uniform/RandomUniform (RandomUniform)', '__inference_serve_1/None_Lookup/LookupTableFindV2 (LookupTableFindV2)'])
    assert.match(judgeProgram(program, report([gated([op])]), ranUnderB)[1].unsound.join(), /severity medium is below the ungated high/, op);
  // The copy TensorFlow keeps for a saved tf.function, gated on its own argument: input-driven by design.
  assert.deepEqual(judgeProgram(program, report([gated(['__inference_h0_7/x (_Arg)'])]), ranUnderB).map((j) => j.unsound), [[], []]);
});

test('oracle self-check: sound verdicts pass, the worst of several findings for one sink counts', () => {
  const sound = judgeProgram(program, report([writeFinding('p00000_s0', {}, [['A', 'dormant'], ['B', 'active']])]), ranUnderB);
  assert.deepEqual(sound.map((j) => j.unsound), [[], []]);
  assert.deepEqual(judgeProgram(program, report([writeFinding('p00000_s0', { severity: 'high' }, [['A', 'unknown'], ['B', 'unknown']])]), ranUnderB).map((j) => j.unsound), [[], []]);
  const twoCopies = [writeFinding('p00000_s0', {}, [['A', 'active'], ['B', 'active']]), writeFinding('p00000_s0', { id: 'F2' }, [['A', 'active'], ['B', 'dormant']])];
  assert.match(judgeProgram(program, report(twoCopies), ranUnderB)[1].unsound.join(), /reported dormant/);
  assert.equal(sinkOf(twoCopies[0]), 'p00000_s0');
});

test('oracle self-check: the summary counts unknown where TensorFlow was decided, and active that never ran', () => {
  const manifest: Manifest = { seed: 0, count: 1, programs: [{ ...program, sinks: [{ id: 'p00000_s0', env: false }, { id: 'p00000_s1', env: true }] }] };
  const run: TfProgramRun = { A: { p00000_s0: 1 }, B: {}, error: null, callErrors: [] };
  const js = judgeProgram(manifest.programs[0], report([
    writeFinding('p00000_s0', { severity: 'high' }, [['A', 'unknown'], ['B', 'dormant']]),
    writeFinding('p00000_s1', { id: 'F2' }, [['A', 'active'], ['B', 'active']]),
  ]), run);
  const s = summarize(manifest, { programs: { p00000: run }, seconds: 0 }, js);
  assert.equal(s.decided, 2);
  assert.equal(s.decidedUnknown, 1);
  assert.equal(s.decidedExact, 1);
  assert.equal(s.activeNotRan, 2);
  assert.equal(s.activeNotRanDecided, 0);
  assert.equal(s.soundnessBugs.length, 0);
});

test('oracle sandbox: no network, models read-only, only the canary directory writable', () => {
  const argv = sandboxArgv('/models', '/host/canary', ['p00001']);
  assert.ok(argv.includes('--unshare-all'));
  assert.deepEqual(argv.slice(argv.indexOf('/models') - 1, argv.indexOf('/models') + 2), ['--ro-bind', '/models', '/tmp/oracle/models']);
  assert.deepEqual(argv.slice(argv.indexOf('/host/canary') - 1, argv.indexOf('/host/canary') + 2), ['--bind', '/host/canary', '/tmp/oracle-canary']);
  assert.equal(argv.filter((a) => a === '--bind').length, 1);
});

test('oracle generator: deterministic per seed, and the programs cover every shape the engine must handle', { skip: skipPython }, () => {
  const gen = (out: string): void => {
    const r = spawnSync(TF_PYTHON, [GENERATOR, '--seed', String(SEED), '--count', '500', '--out', out, '--sources-only'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  const one = mkdtempSync(join(tmpdir(), 'tfaudit-oracle-src-'));
  const two = mkdtempSync(join(tmpdir(), 'tfaudit-oracle-src-'));
  try {
    gen(one);
    gen(two);
    const sources = readdirSync(one).filter((n) => n.startsWith('p')).map((n) => readFileSync(join(one, n, 'program.py'), 'utf8'));
    assert.equal(sources.length, 500);
    assert.deepEqual(readdirSync(two).filter((n) => n.startsWith('p')).map((n) => readFileSync(join(two, n, 'program.py'), 'utf8')), sources);
    const all = sources.join('\n');
    for (const shape of ['tf.cond(', '\n        if ', 'tf.switch_case(', 'in tf.range(', 'tf.while_loop(', '@tf.function\n', 'self.h0(', 'tf.random.uniform(', 'tf.timestamp()',
      'self.calls.assign_add(1)', '(self.calls > ', '.assign_add(', '.assign(', 'StaticHashTable', 'self.table.lookup(self.s)', 'self.itable.lookup(tf.cast(self.a',
      'tf.equal(self.s, ', 'tf.logical_and(', 'tf.logical_or(', 'tf.math.logical_xor(', 'tf.logical_not(', 'tf.math.floormod(', 'tf.where(', 'tf.Variable(True', 'tf.Variable(False',
      'dtype=tf.float32', 'dtype=tf.int64', 'tf.equal(i0, ', '(i0 >= ', 'tf.io.write_file(']) {
      assert.ok(all.includes(shape), `no generated program uses ${JSON.stringify(shape)}`);
    }
    const manifest = JSON.parse(readFileSync(join(one, 'manifest.json'), 'utf8')) as Manifest;
    const sinks = manifest.programs.flatMap((p) => p.sinks);
    assert.ok(sinks.length >= 1000, `${sinks.length} sinks`);
    assert.ok(sinks.some((s) => s.env) && sinks.some((s) => !s.env));
    assert.equal(new Set(sinks.map((s) => s.id)).size, sinks.length, 'sink ids are unique');
  } finally {
    rmSync(one, { recursive: true, force: true });
    rmSync(two, { recursive: true, force: true });
  }
});

// ---- the oracle itself ------------------------------------------------------------------------------

test(`oracle: ${COUNT} random programs (seed ${SEED}) run in TensorFlow under bubblewrap; zero soundness bugs`, { skip, timeout: 1_200_000 }, async (t) => {
  const log = (s: string): void => t.diagnostic(s);
  const { dir, manifest, cached } = await ensurePrograms(SEED, COUNT, { jobs: 2 });
  log(`programs ${cached ? 'from the cache' : 'generated'}: ${dir}`);
  const run = await runInTensorFlow(dir, manifest, { parallel: 2 });
  const { judgements, scanErrors } = await judgeAll(dir, manifest, run);
  const summary = summarize(manifest, run, judgements);
  for (const line of summaryTable(summary).split('\n')) log(line);
  assert.equal(summary.programs, COUNT);
  assert.deepEqual(Object.entries(run.programs).filter(([, r]) => r.error).map(([id, r]) => `${id}: ${r.error}`), [], 'every program loads and restores in TensorFlow');
  assert.deepEqual(scanErrors, []);
  assert.ok(summary.ran > 0 && summary.notRan > 0, 'TensorFlow ran some sinks and skipped others');
  assert.deepEqual(summary.soundnessBugs.map((j) => describeBug(j, dir)), [], 'soundness bugs (append them to the findings with their program.py)');
});
