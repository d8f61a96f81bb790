// `npm run bench`: parse and scan throughput, peak RSS, and one-tensor lookup cost, with the
// C++ protobuf decode of the same files measured in the same run for comparison.
// Each measurement runs in its own process (scripts/bench-task.ts) so peak RSS is its own.
// Real Keras architectures (cached exports, see test/helpers/keras-applications.ts) are scanned
// next to the synthetic models. `npm run bench -- keras scan` runs only the named sections.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
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

function pythonDecodeSeconds(file: string): number | null {
  const out = join(WORK, 'py');
  mkdirSync(out, { recursive: true });
  const protoc = spawnSync('protoc', [`-I${PROTO_DIR}`, `--python_out=${out}`, ...['saved_model.proto', 'meta_graph.proto', 'graph.proto', 'node_def.proto', 'attr_value.proto', 'tensor.proto', 'tensor_shape.proto', 'types.proto', 'resource_handle.proto', 'function.proto', 'op_def.proto', 'versions.proto', 'saver.proto', 'saved_object_graph.proto', 'trackable_object_graph.proto', 'struct.proto', 'variable.proto', 'full_type.proto'].filter((p) => existsSync(join(PROTO_DIR, p)))], { encoding: 'utf8' });
  if (protoc.status !== 0) return null;
  const script = `
import sys, time
sys.path.insert(0, ${JSON.stringify(out)})
from google.protobuf.internal import api_implementation
import saved_model_pb2
data = open(${JSON.stringify(file)}, 'rb').read()
best = None
for _ in range(3):
    t = time.perf_counter(); m = saved_model_pb2.SavedModel(); m.ParseFromString(data); d = time.perf_counter() - t
    best = d if best is None else min(best, d)
print(api_implementation.Type(), best)
`;
  const py = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  if (py.status !== 0) return null;
  const [, seconds] = py.stdout.trim().split(' ');
  return Number(seconds);
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
  const sections = ['parse', 'scan', 'keras', 'checkpoint', 'registry'];
  const only = process.argv.slice(2);
  for (const name of only) if (!sections.includes(name)) throw new Error(`unknown bench section ${name}: choose from ${sections.join(', ')}`);
  const wanted = (section: string) => only.length === 0 || only.includes(section);

  if (wanted('parse')) {
    say('## Parse (openModel: protobuf decode + IR) vs C++ protobuf decode of the same saved_model.pb, same run');
    say('| model | size MB | nodes | tfaudit parse s | MB/s | peak RSS MB | python3-protobuf (C++) decode s | ratio |');
    say('|---|---|---|---|---|---|---|---|');
    for (const name of ['nodes_100000', 'nodes_400000']) {
      const dir = join(SHARED_BENCH, name);
      if (!existsSync(dir)) continue;
      const size = statSync(join(dir, 'saved_model.pb')).size;
      const ours = best('parse', dir);
      const cpp = pythonDecodeSeconds(join(dir, 'saved_model.pb'));
      const ratio = cpp ? (ours.ms / 1000 / cpp).toFixed(2) : 'n/a';
      say(`| ${name} | ${mb(size)} | ${ours.nodes} | ${(ours.ms / 1000).toFixed(3)} | ${(size / 1048576 / (ours.ms / 1000)).toFixed(1)} | ${ours.peakRssMb} | ${cpp?.toFixed(3) ?? 'n/a'} | ${ratio}× |`);
    }
    say('');
  }

  if (wanted('scan')) {
    say('## Full scan (parse + analysis) of generated TF2-style models: graph + function library with If gates');
    say('| nodes | parse s | analysis s | total s | analysis µs/node | peak RSS MB |');
    say('|---|---|---|---|---|---|');
    for (const target of [25_000, 50_000, 100_000, 200_000]) {
      const dir = join(WORK, `synthetic_${target}`);
      const nodes = await writeSyntheticModel(dir, target);
      const r = best('scan', dir);
      say(`| ${nodes} | ${(r.parseMs / 1000).toFixed(3)} | ${(r.analyseMs / 1000).toFixed(3)} | ${(r.ms / 1000).toFixed(3)} | ${((r.analyseMs * 1000) / nodes).toFixed(2)} | ${r.peakRssMb} |`);
    }
    for (const name of ['nodes_100000', 'nodes_400000']) {
      const dir = join(SHARED_BENCH, name);
      if (!existsSync(dir)) continue;
      const r = best('scan', dir);
      say(`| ${name} (shared/bench) | ${(r.parseMs / 1000).toFixed(3)} | ${(r.analyseMs / 1000).toFixed(3)} | ${(r.ms / 1000).toFixed(3)} | – | ${r.peakRssMb} |`);
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
