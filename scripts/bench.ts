// `npm run bench`: the user's path (`tfaudit scan PATH --format json`, compiled CLI, analyzer
// worker isolated) against protobuf's upb runtime decoding the same saved_model.pb in the same
// run; the worker's own peak RSS and phases; `tfaudit --help`; parse throughput; RSS and
// analysis cost against graph size; one-tensor checkpoint lookups.
// In-process measurements run in their own process (scripts/bench-task.ts) so peak RSS is theirs.
// Real Keras architectures (cached exports, see test/helpers/keras-applications.ts) are scanned
// next to the synthetic models. `npm run bench -- keras scan` runs only the named sections.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { WorkerUsage } from '../main/worker/protocol.ts';
import { buildCli } from './build.mjs';
import type { FunctionIR, NodeIR } from '../shared/ir.ts';
import { attrFunc, attrList, attrShape, attrType, constNode, func, graph, metaGraph, node, tensorInfo, attrS } from '../main/writer/graph.ts';
import { writeSavedModelDir } from '../main/writer/savedmodel.ts';
import { writeTensorBundle, type TensorToWrite } from '../main/writer/tensorbundle.ts';
import { registryBench } from './bench-registry.ts';
import { ensureKerasExports, type KerasExports } from '../test/helpers/keras-applications.ts';
import { skipWithoutTf } from '../test/helpers/tensorflow.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORK = join(ROOT, '.bench');
const SHARED_BENCH = resolve(ROOT, '..', 'shared', 'bench');
const PROTO_DIR = join(ROOT, 'main', 'proto');

interface TaskResult {
  ms: number;
  peakRssMb: number;
  [key: string]: number;
}

function task(...args: string[]): TaskResult {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'bench-task.ts'), ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`bench task ${args.join(' ')} failed: ${run.stderr}`);
  const line = run.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as TaskResult;
}

/** Best of three runs (each in a fresh process): the figure least disturbed by the machine. */
function best(...args: string[]): TaskResult {
  const runs = [task(...args), task(...args), task(...args)];
  return runs.reduce((a, b) => (b.ms < a.ms ? b : a));
}

/** Well-known types our .proto files import, for a protoc without its include files (Debian's protobuf-compiler alone). */
const WELL_KNOWN_STUBS: Record<string, string> = {
  'any.proto': 'syntax = "proto3";\npackage google.protobuf;\nmessage Any { string type_url = 1; bytes value = 2; }\n',
  'wrappers.proto':
    'syntax = "proto3";\npackage google.protobuf;\n' +
    ['Double double', 'Float float', 'Int64 int64', 'UInt64 uint64', 'Int32 int32', 'UInt32 uint32', 'Bool bool', 'String string', 'Bytes bytes']
      .map((pair) => { const [name, type] = pair.split(' '); return `message ${name}Value { ${type} value = 1; }\n`; })
      .join(''),
};

/** Python modules for our schema, compiled by protoc into `.bench/py`; null when protoc is missing or fails. */
function compileSchemaForPython(): string | null {
  const out = join(WORK, 'py');
  const include = join(WORK, 'proto-include');
  mkdirSync(out, { recursive: true });
  mkdirSync(join(include, 'google', 'protobuf'), { recursive: true });
  for (const [name, text] of Object.entries(WELL_KNOWN_STUBS)) writeFileSync(join(include, 'google', 'protobuf', name), text);
  const files = ['saved_model.proto', 'meta_graph.proto', 'graph.proto', 'node_def.proto', 'attr_value.proto', 'tensor.proto', 'tensor_shape.proto', 'types.proto', 'resource_handle.proto', 'function.proto', 'op_def.proto', 'versions.proto', 'saver.proto', 'saved_object_graph.proto', 'trackable_object_graph.proto', 'struct.proto', 'variable.proto', 'full_type.proto'].filter((p) => existsSync(join(PROTO_DIR, p)));
  // protoc's own include dir comes first when it has one; the stubs stand in otherwise.
  const protoc = spawnSync('protoc', [`-I${PROTO_DIR}`, `-I${include}`, `--python_out=${out}`, ...files], { encoding: 'utf8' });
  if (protoc.status !== 0) {
    console.error(`protoc failed: ${protoc.stderr ?? protoc.error}`);
    return null;
  }
  return out;
}

interface ProtobufRuntime {
  python: string;
  /** 'upb', or the backend we fell back to. */
  backend: string;
  version: string;
  note: string;
}

function probePython(python: string): { backend: string; version: string } | null {
  const probe = spawnSync(python, ['-c', 'import google.protobuf as p; from google.protobuf.internal import api_implementation as a; print(a.Type(), p.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const [backend, version] = probe.stdout.trim().split(' ');
  return backend && version ? { backend, version } : null;
}

/**
 * protobuf's upb runtime (Python `protobuf` >= 5): $TFAUDIT_UPB_PYTHON, /opt/upbvenv, or a venv
 * cached under ~/.cache/tfaudit-bench installed from the local wheel mirror (/opt/pypi/simple).
 * Falls back to Debian's python3-protobuf (C++ backend), which says so in the tables.
 */
function protobufRuntime(): ProtobufRuntime | null {
  const cached = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tfaudit-bench', 'upb-venv');
  const candidates = [process.env.TFAUDIT_UPB_PYTHON, '/opt/upbvenv/bin/python', join(cached, 'bin', 'python')].filter((p): p is string => Boolean(p));
  const isUpb = (found: { backend: string; version: string } | null) => found !== null && found.backend === 'upb' && Number(found.version.split('.')[0]) >= 5;
  for (const python of candidates) {
    const found = existsSync(python) ? probePython(python) : null;
    if (found && isUpb(found)) return { python, ...found, note: '' };
  }
  if (existsSync('/opt/pypi/simple')) {
    console.error(`installing protobuf (upb) into ${cached} from the local wheel mirror`);
    spawnSync('python3', ['-m', 'venv', cached], { stdio: 'inherit' });
    spawnSync(join(cached, 'bin', 'pip'), ['install', '-q', '--index-url', 'file:///opt/pypi/simple', 'protobuf>=5'], { stdio: 'inherit' });
    const found = probePython(join(cached, 'bin', 'python'));
    if (found && isUpb(found)) return { python: join(cached, 'bin', 'python'), ...found, note: '' };
  }
  const system = probePython('/usr/bin/python3');
  if (system) return { python: '/usr/bin/python3', ...system, note: `upb runtime unavailable: fell back to Debian python3-protobuf ${system.version} (${system.backend} backend), slower than upb, which flatters our ratios` };
  return null;
}

/** Best of five ParseFromString of `file` as a SavedModel: wall and CPU seconds. */
function protobufDecodeSeconds(runtime: ProtobufRuntime, modules: string, file: string): { wall: number; cpu: number } | null {
  const script = `
import sys, time
sys.path.insert(0, ${JSON.stringify(modules)})
import saved_model_pb2
data = open(${JSON.stringify(file)}, 'rb').read()
wall = cpu = None
for _ in range(5):
    t = time.perf_counter(); c = time.process_time()
    m = saved_model_pb2.SavedModel(); m.ParseFromString(data)
    d = time.perf_counter() - t; e = time.process_time() - c
    wall = d if wall is None else min(wall, d)
    cpu = e if cpu is None else min(cpu, e)
    del m
print(wall, cpu)
`;
  const py = spawnSync(runtime.python, ['-c', script], { encoding: 'utf8' });
  if (py.status !== 0) {
    console.error(`protobuf decode failed: ${py.stderr}`);
    return null;
  }
  const [wall, cpu] = py.stdout.trim().split(' ').map(Number);
  return { wall: wall!, cpu: cpu! };
}

const BIN = join(ROOT, 'bin', 'tfaudit.mjs');

interface CliRun {
  wallMs: number;
  worker: WorkerUsage;
  cli: { cpuMs: number; peakRssMb: number };
  isolated: boolean;
  /** The CLI's wall time by phase (`--stats` cli.phases): startup, launch, worker, answer, report. */
  cliPhases?: Record<string, number>;
  /** Nodes analysed, graph and functions (the report's analysis.opsAnalysed). */
  nodes: number;
}

/** One `tfaudit scan PATH --format json` as a user runs it (isolation on), with the worker's own figures. */
function cliScan(path: string): CliRun {
  const stats = join(WORK, 'stats.json');
  rmSync(stats, { force: true });
  const started = performance.now();
  const run = spawnSync(process.execPath, [BIN, 'scan', path, '--format', 'json', '--fail-on', 'critical', '--stats', stats], { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 28 });
  const wallMs = performance.now() - started;
  if (run.status !== 0 && run.status !== 1) throw new Error(`tfaudit scan ${path} failed (${run.status}): ${run.stderr}`);
  const report = JSON.parse(run.stdout) as { analysis: { isolated: boolean; opsAnalysed: number } };
  const { worker, cli } = JSON.parse(readFileSync(stats, 'utf8')) as { worker: WorkerUsage; cli: CliRun['cli'] & { phases?: Record<string, number> } };
  return { wallMs, worker, cli, cliPhases: cli.phases, isolated: report.analysis.isolated, nodes: report.analysis.opsAnalysed };
}

function bestCli(path: string, runs = 3): CliRun {
  let best: CliRun | null = null;
  for (let i = 0; i < runs; i++) {
    const r = cliScan(path);
    if (!best || r.wallMs < best.wallMs) best = r;
  }
  return best!;
}

/** Best-of-5 wall ms of a bare Node start (with and without NODE_EXTRA_CA_CERTS when it is set) and of bubblewrap alone. */
function processFloors(): { node: number; withoutCaCerts: number | null; bwrap: number | null } {
  const bestOf = (command: string, args: string[], env?: NodeJS.ProcessEnv): number | null => {
    let b = Infinity;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const run = spawnSync(command, args, { env });
      if (run.status !== 0) return null;
      b = Math.min(b, performance.now() - t);
    }
    return b;
  };
  const { NODE_EXTRA_CA_CERTS, ...withoutCa } = process.env;
  return {
    node: bestOf(process.execPath, ['-e', '0']) ?? NaN,
    withoutCaCerts: NODE_EXTRA_CA_CERTS ? bestOf(process.execPath, ['-e', '0'], withoutCa) : null,
    bwrap: bestOf('bwrap', ['--ro-bind', '/', '/', '--die-with-parent', 'true']),
  };
}

function helpMs(runs = 5): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const run = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', cwd: ROOT });
    const ms = performance.now() - started;
    if (run.status !== 0) throw new Error(`tfaudit --help failed: ${run.stderr}`);
    best = Math.min(best, ms);
  }
  return best;
}

/** Least-squares slope and intercept of y over x. */
function linearFit(points: { x: number; y: number }[]): { slope: number; intercept: number } {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** A model shaped like TF2 exports: top-level calls into a library of functions with If gates. */
async function writeSyntheticModel(dir: string, targetNodes: number): Promise<number> {
  const perFunction = 200;
  const functions: FunctionIR[] = [];
  const top: NodeIR[] = [node('x', 'Placeholder', [], { dtype: attrType('DT_FLOAT'), shape: attrShape([-1, 1]) })];
  let count = 1;
  let index = 0;
  while (count < targetNodes) {
    const body: NodeIR[] = [constNode('c0', 'DT_FLOAT', [], [1])];
    let previous = 'x';
    for (let i = 1; i < perFunction - 3; i++) {
      body.push(node(`n${i}`, 'AddV2', [previous, 'c0:output:0'], { T: attrType('DT_FLOAT') }));
      previous = `n${i}:z:0`;
    }
    body.push(constNode('flag', 'DT_BOOL', [], [false]));
    body.push(
      node('gate', 'If', ['flag:output:0', previous], {
        Tcond: attrType('DT_BOOL'),
        Tin: attrList({ type: ['DT_FLOAT'] }),
        Tout: attrList({ type: ['DT_FLOAT'] }),
        then_branch: attrFunc(`branch_${index}`),
        else_branch: attrFunc(`branch_${index}`),
      }),
    );
    body.push(node('out', 'Identity', ['gate:output:0'], { T: attrType('DT_FLOAT') }));
    functions.push(func(`__inference_block_${index}`, { inputs: [['x', 'DT_FLOAT']], outputs: [['y', 'DT_FLOAT']] }, body, { y: 'out:output:0' }));
    functions.push(func(`branch_${index}`, { inputs: [['x', 'DT_FLOAT']], outputs: [['y', 'DT_FLOAT']] }, [node('id', 'Identity', ['x'], { T: attrType('DT_FLOAT') })], { y: 'id:output:0' }));
    top.push(node(`call_${index}`, 'StatefulPartitionedCall', ['x'], { Tin: attrList({ type: ['DT_FLOAT'] }), Tout: attrList({ type: ['DT_FLOAT'] }), f: attrFunc(`__inference_block_${index}`), config: attrS(''), config_proto: attrS(''), executor_type: attrS('') }));
    count += body.length + 2;
    index++;
  }
  const meta = metaGraph(graph(top, functions), {
    signatures: [{ key: 'serving_default', methodName: 'tensorflow/serving/predict', inputs: { x: tensorInfo('x:0', 'DT_FLOAT', [-1, 1]) }, outputs: { y: tensorInfo('call_0:0', 'DT_FLOAT', [-1, 1]) } }],
  });
  await writeSavedModelDir(dir, { metaGraphs: [meta] });
  return count;
}

function checkpointTensors(count: number): TensorToWrite[] {
  const tensors: TensorToWrite[] = [];
  for (let i = 0; i < count; i++) tensors.push({ key: `layer_${String(i).padStart(5, '0')}/kernel/.ATTRIBUTES/VARIABLE_VALUE`, dtype: 'DT_FLOAT', shape: [4], values: [i, i + 1, i + 2, i + 3] });
  return tensors;
}

function bytesUnder(path: string): number {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, name) => n + bytesUnder(join(path, name)), 0) : st.size;
}

/**
 * Full scans of real Keras exports (keras.applications with weights=None, text models), next to
 * the synthetic rows: the same cached exports the tests scan (test/helpers/keras-applications.ts).
 */
function realArchitectureRows(say: (line: string) => void): void {
  say('## Full scan of real Keras 3 exports (keras.applications, weights=None; model.export SavedModel and model.save .keras)');
  if (skipWithoutTf) {
    say(`(skipped: ${skipWithoutTf})`);
    return;
  }
  let exports: KerasExports;
  try {
    exports = ensureKerasExports();
  } catch (error) {
    say(`(skipped: ${(error as Error).message})`);
    return;
  }
  say(`TensorFlow ${exports.tensorflow}, Keras ${exports.keras}; exports cached in ${exports.dir}${exports.generated ? ' (exported by this run)' : ''}`);
  say('');
  say('| model | format | nodes / layers | size MB | parse s | analysis s | total s | analysis µs/node | findings (≥ medium) | peak RSS MB |');
  say('|---|---|---|---|---|---|---|---|---|---|');
  for (const model of exports.models) {
    const r = best('scan', model.path);
    const size = mb(bytesUnder(model.path));
    const units = model.kind === 'keras' ? `${r.layers} layers` : `${r.nodes} nodes`;
    const perNode = r.nodes > 0 ? ((r.analyseMs * 1000) / r.nodes).toFixed(2) : '–';
    say(
      `| ${model.name} | ${model.kind === 'keras' ? '.keras' : 'SavedModel'} | ${units} | ${size} | ${(r.parseMs / 1000).toFixed(3)} | ${(r.analyseMs / 1000).toFixed(3)} | ` +
        `${(r.ms / 1000).toFixed(3)} | ${perNode} | ${r.findings} (${r.mediumOrAbove}) | ${r.peakRssMb} |`,
    );
  }
}

function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  const sections = ['cli', 'parse', 'scan', 'keras', 'checkpoint', 'registry'];
  const only = process.argv.slice(2);
  for (const name of only) if (!sections.includes(name)) throw new Error(`unknown bench section ${name}: choose from ${sections.join(', ')}`);
  const wanted = (section: string) => only.length === 0 || only.includes(section);

  // The user's path is the compiled CLI: build it so bin/tfaudit.mjs runs the bundles, not tsx.
  if (wanted('cli') || wanted('scan')) await buildCli();
  const runtime = wanted('cli') || wanted('parse') ? protobufRuntime() : null;
  const modules = runtime ? compileSchemaForPython() : null;
  const baseline = (file: string) => (runtime && modules ? protobufDecodeSeconds(runtime, modules, file) : null);
  const runtimeLabel = runtime ? `protobuf ${runtime.version} ${runtime.backend}` : 'protobuf';
  if (runtime?.note) say(`> ${runtime.note}`);
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  say(`> ${new Date().toISOString()}, load average ${loadavg}; best of 5 (the user's path on the shared models, ${runtimeLabel} decode, --help) / 3 (other CLI runs, in-process tasks)`);

  const scaling: { nodes: number; rss: number; analyseMs: number; analyseCpuMs: number; label: string }[] = [];
  if (wanted('cli')) {
    say('');
    say(`## The user's path: \`tfaudit scan PATH --format json\` (compiled CLI, analyzer worker isolated) vs ${runtimeLabel} decode of the same saved_model.pb, same run`);
    say('| model | nodes | scan wall s | worker: start-up / parse / analyse / summary s | CPU s (worker + CLI) | worker peak RSS MB | isolated | decode wall s | decode CPU s | wall ratio | CPU ratio |');
    say('|---|---|---|---|---|---|---|---|---|---|---|');
    const cliRows: [string, CliRun][] = [];
    const row = (label: string, nodes: string, r: CliRun, decode: { wall: number; cpu: number } | null) => {
      cliRows.push([label, r]);
      const p = r.worker.phases;
      const phase = (k: string) => ((p[k] ?? 0) / 1000).toFixed(3);
      const cpu = (r.worker.cpuMs + r.cli.cpuMs) / 1000;
      say(`| ${label} | ${nodes} | ${(r.wallMs / 1000).toFixed(3)} | ${phase('startup')} / ${phase('parse')} / ${phase('analyse')} / ${phase('summary')} | ${cpu.toFixed(3)} (${(r.worker.cpuMs / 1000).toFixed(3)} + ${(r.cli.cpuMs / 1000).toFixed(3)}) | ${r.worker.peakRssMb} | ${r.isolated ? 'yes' : 'no'} | ${decode?.wall.toFixed(3) ?? '–'} | ${decode?.cpu.toFixed(3) ?? '–'} | ${decode ? `${(r.wallMs / 1000 / decode.wall).toFixed(2)}×` : '–'} | ${decode ? `${(cpu / decode.cpu).toFixed(2)}×` : '–'} |`);
    };
    for (const name of ['nodes_100000', 'nodes_400000']) {
      const dir = join(SHARED_BENCH, name);
      if (!existsSync(dir)) continue;
      // Best of five, as the decode it is compared with.
      const r = bestCli(dir, 5);
      row(name, String(r.nodes), r, baseline(join(dir, 'saved_model.pb')));
      scaling.push({ nodes: r.nodes, rss: r.worker.peakRssMb, analyseMs: r.worker.phases.analyse ?? 0, analyseCpuMs: r.worker.cpuPhases.analyse ?? 0, label: `${name} (shared/bench)` });
    }
    // The model the shared bench inputs grew from: what one scan costs before any graph size.
    const tinyModel = spawnSync('find', [join(SHARED_BENCH, '..', 'corpus', 'real'), '-maxdepth', '4', '-path', '*half_plus_two_cpu*', '-name', 'saved_model.pb'], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean).sort()[0];
    if (tinyModel) row(`${dirname(tinyModel).split('/').slice(-2).join('/')} (fixed cost of one scan)`, '–', bestCli(dirname(tinyModel)), null);
    say('');
    say('Where the wall time of each scan above went, as `--stats` splits it (ms): the CLI\'s own start-up, launching the sandbox, the worker (its start-up and phases), the answer, writing the report.');
    say('| model | CLI start-up | launch | worker (start-up / parse / analyse / summary) | answer | report | worker code cache |');
    say('|---|---|---|---|---|---|---|');
    for (const [label, r] of cliRows) {
      const c = r.cliPhases ?? {};
      const p = r.worker.phases;
      const ms = (v: number | undefined) => (v ?? 0).toFixed(0);
      say(`| ${label} | ${ms(c.startup)} | ${ms(c.launch)} | ${ms(c.worker)} (${ms(p.startup)} / ${ms(p.parse)} / ${ms(p.analyse)} / ${ms(p.summary)}) | ${ms(c.answer)} | ${ms(c.report)} | ${r.worker.codeCache ?? 'n/a (sources)'}${r.worker.codeCache && r.worker.codeCache !== 'accepted' ? ' ⚠ compiled from source' : ''} |`);
    }
    const floor = processFloors();
    say('');
    say(`Process floors on this machine (best of 5): \`node -e 0\` ${floor.node.toFixed(0)} ms${floor.withoutCaCerts !== null ? ` (${floor.withoutCaCerts.toFixed(0)} ms without NODE_EXTRA_CA_CERTS, which Node reads at every start)` : ''}; bubblewrap alone (\`bwrap --ro-bind / / true\`) ${floor.bwrap === null ? 'n/a' : `${floor.bwrap.toFixed(0)} ms`}. A scan starts two Node processes (the CLI and the worker), the worker inside bubblewrap.`);
    say('');
    say('Worker peak RSS and CPU are measured by the worker itself (getrusage of its own process, inside the sandbox), sent with its answer and written by `--stats` with the CLI\'s own CPU. On a loaded machine wall times swing with the load; the CPU ratio (both sides measured as process CPU time) is the steadier figure.');
    say('');
    say(`\`tfaudit --help\`: ${helpMs().toFixed(0)} ms (best of 5, compiled CLI; \`node -e 0\` alone: ${(() => { let b = Infinity; for (let i = 0; i < 5; i++) { const t = performance.now(); spawnSync(process.execPath, ['-e', '0']); b = Math.min(b, performance.now() - t); } return b.toFixed(0); })()} ms)`);
  }

  if (wanted('parse')) {
    say('');
    say(`## Parse (openModel: protobuf decode + IR, in-process) vs ${runtimeLabel} decode of the same saved_model.pb, same run`);
    say(`| model | size MB | nodes | tfaudit parse s | MB/s | peak RSS MB | ${runtimeLabel} decode s | ratio |`);
    say('|---|---|---|---|---|---|---|---|');
    for (const name of ['nodes_100000', 'nodes_400000']) {
      const dir = join(SHARED_BENCH, name);
      if (!existsSync(dir)) continue;
      const size = statSync(join(dir, 'saved_model.pb')).size;
      const ours = best('parse', dir);
      const decode = baseline(join(dir, 'saved_model.pb'));
      const ratio = decode ? `${(ours.ms / 1000 / decode.wall).toFixed(2)}×` : 'n/a';
      say(`| ${name} | ${mb(size)} | ${ours.nodes} | ${(ours.ms / 1000).toFixed(3)} | ${(size / 1048576 / (ours.ms / 1000)).toFixed(1)} | ${ours.peakRssMb} | ${decode?.wall.toFixed(3) ?? 'n/a'} | ${ratio} |`);
    }
  }

  if (wanted('scan')) {
    say('');
    say('## Size scaling through the user\'s path: generated TF2-style models (graph + function library with If gates) and the shared ones');
    say('| model | nodes | worker analyse wall s | analyse CPU s | analysis CPU µs/node | worker peak RSS MB |');
    say('|---|---|---|---|---|---|');
    if (!wanted('cli')) {
      for (const name of ['nodes_100000', 'nodes_400000']) {
        const dir = join(SHARED_BENCH, name);
        if (!existsSync(dir)) continue;
        const r = bestCli(dir);
        scaling.push({ nodes: r.nodes, rss: r.worker.peakRssMb, analyseMs: r.worker.phases.analyse ?? 0, analyseCpuMs: r.worker.cpuPhases.analyse ?? 0, label: `${name} (shared/bench)` });
      }
    }
    for (const target of [25_000, 50_000, 100_000, 200_000, 400_000]) {
      const dir = join(WORK, `synthetic_${target}`);
      const nodes = await writeSyntheticModel(dir, target);
      const r = bestCli(dir);
      scaling.push({ nodes, rss: r.worker.peakRssMb, analyseMs: r.worker.phases.analyse ?? 0, analyseCpuMs: r.worker.cpuPhases.analyse ?? 0, label: `synthetic ${target}` });
    }
    scaling.sort((a, b) => a.nodes - b.nodes);
    for (const s of scaling) say(`| ${s.label} | ${s.nodes} | ${(s.analyseMs / 1000).toFixed(3)} | ${(s.analyseCpuMs / 1000).toFixed(3)} | ${((s.analyseCpuMs * 1000) / s.nodes).toFixed(2)} | ${s.rss} |`);
    const synthetic = scaling.filter((s) => s.label.startsWith('synthetic'));
    for (const [label, points] of [['generated models', synthetic], ['shared/bench models', scaling.filter((s) => !s.label.startsWith('synthetic'))]] as const) {
      if (points.length < 2) continue;
      const fit = linearFit(points.map((s) => ({ x: s.nodes / 100_000, y: s.rss })));
      say(`Worker peak RSS, ${label}: ${fit.intercept.toFixed(0)} MB + ${fit.slope.toFixed(1)} MB per 100k nodes (least squares over ${points.length} sizes).`);
    }
    say('');
  }

  if (wanted('keras')) {
    realArchitectureRows(say);
    say('');
  }

  if (wanted('checkpoint')) {
    say('## Checkpoint: 10k-entry bundle; one-tensor lookup vs data-file size (median of 20 lookups)');
    say('| checkpoint | entries | data file | lookup ms | peak RSS MB |');
    say('|---|---|---|---|---|');
    const key = 'layer_05000/kernel/.ATTRIBUTES/VARIABLE_VALUE';
    const small = join(WORK, 'ckpt_small', 'ckpt');
    mkdirSync(dirname(small), { recursive: true });
    await writeTensorBundle(small, checkpointTensors(10_000), { snappy: true });
    const huge = join(WORK, 'ckpt_huge', 'ckpt');
    mkdirSync(dirname(huge), { recursive: true });
    await writeTensorBundle(huge, checkpointTensors(10_000), { snappy: true, startOffset: 20 * 1024 ** 3 });
    for (const [label, prefix] of [['small', small], ['sparse 20 GB', huge]] as const) {
      const r = best('lookup', prefix, key);
      const data = statSync(`${prefix}.data-00000-of-00001`).size;
      say(`| ${label} | ${r.entries} | ${mb(data)} MB | ${r.ms.toFixed(3)} | ${r.peakRssMb} |`);
    }
    say('');
  }

  if (wanted('registry')) await registryBench(say);
  writeFileSync(join(WORK, 'results.md'), `${lines.join('\n')}\n`);
  console.log(`\n(written to ${join(WORK, 'results.md')})`);
}

await main();
