// Proves the advisory table (main/analysis/advisories.json) and its reader: the shipped table is
// exactly what scripts/gen-advisories.mjs makes of ../shared/advisories (PyPA OSV records), the
// op names in it are registry ops, and version ranges follow the OSV events at both edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { buildAdvisoryTable, classify, componentOf, DEFAULT_OUTPUT, DEFAULT_SOURCE, opsNamed, parseYaml, rangesOf, serialise } from '../../../scripts/gen-advisories.mjs';
import { advisoriesForOp, affects, allAdvisories, clearFrom, compareVersions, fixedIn, inRange, parseVersion, upgradeTarget, ADVISORY_CLASSES, type Advisory } from '../../../main/analysis/advisories.ts';
import { isTensorFlowOp, registryOpNames } from '../../../main/analysis/op-registry.ts';

const skipWithoutAdvisories = existsSync(DEFAULT_SOURCE) ? false : `advisory records ${DEFAULT_SOURCE} are not present`;
const REGISTRY = new Set(registryOpNames());

test('the shipped table is what the generator makes of ../shared/advisories', { skip: skipWithoutAdvisories }, () => {
  const table = buildAdvisoryTable(DEFAULT_SOURCE);
  assert.equal(serialise(table), readFileSync(DEFAULT_OUTPUT, 'utf8'), 'rerun: node scripts/gen-advisories.mjs');
  assert.equal(table.advisories.length, 297);
  assert.ok(table.advisories.filter((a) => a.ops.length > 0).length >= 170);
  assert.match(table.credit, /PyPA Advisory Database, CC BY 4\.0/);
});

test('every op in the table is a registry op; every advisory has ids, a class, ranges and a link', () => {
  for (const a of allAdvisories()) {
    assert.match(a.id, /^PYSEC-\d{4}-\d+$/);
    for (const id of a.cve) assert.match(id, /^CVE-\d{4}-\d+$/);
    for (const id of a.ghsa) assert.match(id, /^GHSA-/);
    for (const op of a.ops) assert.ok(isTensorFlowOp(op), `${a.id}: ${op}`);
    assert.ok((ADVISORY_CLASSES as readonly string[]).includes(a.class), a.id);
    assert.match(a.url, /^https:\/\//);
    for (const r of a.ranges) {
      assert.ok(parseVersion(r.introduced), `${a.id} introduced ${r.introduced}`);
      if (r.fixed !== null) assert.ok(compareVersions(r.introduced, r.fixed) < 0, `${a.id}: ${r.introduced} < ${r.fixed}`);
    }
  }
});

test('StringNGrams: the five advisories of the database, with their ids and classes', () => {
  const ids = advisoriesForOp('StringNGrams').map((a) => a.id);
  assert.deepEqual(ids, ['PYSEC-2020-285', 'PYSEC-2021-469', 'PYSEC-2021-470', 'PYSEC-2021-559', 'PYSEC-2022-57']);
  const heap = advisoriesForOp('StringNGrams').find((a) => a.id === 'PYSEC-2021-470')!;
  assert.deepEqual(heap.cve, ['CVE-2021-29542']);
  assert.equal(heap.class, 'heap-out-of-bounds');
  assert.match(heap.url, /GHSA-/);
  assert.deepEqual(advisoriesForOp('toString'), []);
  assert.deepEqual(advisoriesForOp('NotAnOp'), []);
});

test('op names: raw_ops, backticks, CamelCase and wildcards count; English words and non-ops do not', () => {
  const text = 'Where the input to `tf.raw_ops.StringNGrams` is empty, Fill and Print crash; the `SparseBinCount` op and TensorFlow Lite and GitHub and tf.strings.substr and `tf.raw_ops.Conv3DBackprop*`.';
  const ops = opsNamed(text, REGISTRY);
  assert.ok(ops.includes('StringNGrams'));
  assert.ok(ops.includes('SparseBincount'), 'backticked name with its case misspelt');
  assert.ok(ops.includes('Substr'), 'Python API name');
  assert.ok(ops.includes('Conv3DBackpropInputV2'), 'wildcard');
  for (const word of ['Where', 'Fill', 'Print', 'TensorFlow', 'GitHub']) assert.ok(!ops.includes(word), word);
  assert.deepEqual(opsNamed('`Where` and `tf.raw_ops.Fill`', REGISTRY), ['Fill', 'Where']);
  assert.deepEqual(opsNamed('tf.raw_ops.Map* and `*Dataset`', REGISTRY).filter((o) => o.endsWith('Dataset')), [], 'Map* names staging maps, not MapDataset; *Dataset matches too many');
});

test('class and component from the advisory words', () => {
  assert.equal(classify('integer overflow that leads to a heap buffer overflow'), 'heap-out-of-bounds');
  assert.equal(classify('a `CHECK`-fail'), 'check-failure');
  assert.equal(classify('a division by 0 in'), 'division-by-zero');
  assert.equal(classify('reference binding to null pointer'), 'null-dereference');
  assert.equal(classify('a heap use after free'), 'use-after-free');
  assert.equal(classify('format string'), 'other');
  assert.equal(componentOf('The TFLite implementation of Gather'), 'tflite');
  assert.equal(componentOf('see https://github.com/tensorflow/tensorflow/blob/x/tensorflow/lite/core/subgraph.cc'), 'tflite');
  assert.equal(componentOf('`tf.raw_ops.Gather`'), 'tensorflow');
  // TFLite kernels are not the TensorFlow op of the same name.
  assert.ok(!advisoriesForOp('Gather').some((a) => a.component === 'tflite'));
});

test('YAML reader: OSV shapes read, other constructs refused with file and line', () => {
  const doc = parseYaml("id: X\ndetails: 'it''s\n  folded'\naffected:\n- ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"0\"\n    - fixed: 2.4.0rc0\naliases:\n- CVE-1\n", 'x.yaml') as Record<string, unknown>;
  assert.equal(doc.details, "it's folded");
  assert.deepEqual(doc.aliases, ['CVE-1']);
  assert.deepEqual(rangesOf(doc, 'x.yaml'), [{ introduced: '0', fixed: '2.4.0rc0' }]);
  assert.throws(() => parseYaml('id: &a X\n', 'y.yaml'), /y\.yaml:1: unsupported YAML construct/);
  assert.throws(() => parseYaml('details: |\n  text\n', 'z.yaml'), /z\.yaml:1/);
  assert.throws(() => parseYaml('a: 1\na: 2\n', 'd.yaml'), /duplicate key a/);
  assert.deepEqual(rangesOf({ affected: [{ ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.6.0' }] }] }] }, 'o.yaml'), [{ introduced: '2.6.0', fixed: null }]);
  assert.throws(() => rangesOf({ affected: [{ ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { last_affected: '2.1.0' }] }] }] }, 'l.yaml'), /last_affected/);
});

test('versions: PEP 440 order, pre-releases before their release', () => {
  const order = ['1.15.0', '2.0.0', '2.4.0.dev1', '2.4.0rc0', '2.4.0rc1', '2.4.0', '2.4.0.post1', '2.4.1', '2.10.0'];
  for (let i = 1; i < order.length; i++) assert.ok(compareVersions(order[i - 1]!, order[i]!) < 0, `${order[i - 1]} < ${order[i]}`);
  assert.equal(compareVersions('2.4', '2.4.0'), 0);
  assert.equal(compareVersions('2.16.0-rc0', '2.16.0rc0'), 0);
  assert.equal(parseVersion('latest'), null);
  assert.equal(parseVersion('2.x'), null);
});

const range = (introduced: string, fixed: string | null) => ({ introduced, fixed });

test('ranges: the introduced version is affected, the fixed version is not', () => {
  const r = range('2.6.0', '2.6.3');
  assert.equal(inRange(r, '2.5.9'), false);
  assert.equal(inRange(r, '2.6.0'), true, 'introduced is affected');
  assert.equal(inRange(r, '2.6.2'), true);
  assert.equal(inRange(r, '2.6.3'), false, 'fixed is not');
  assert.equal(inRange(r, '2.6.0rc1'), true, 'a pre-release of the introduced release is inside');
  assert.equal(inRange(r, '2.6.3rc0'), true, 'a pre-release of the fixed release is still before the fix');
  assert.equal(inRange(range('0', '1.15.4'), '0.12.0'), true);
  assert.equal(inRange(range('2.3.0', null), '9.0.0'), true, 'open range');
  // Pre-release events keep PEP 440 order: only the release candidates of 2.4.0 were affected.
  const rcOnly = range('2.4.0rc0', '2.4.0');
  assert.equal(inRange(rcOnly, '2.4.0rc0'), true);
  assert.equal(inRange(rcOnly, '2.4.0rc4'), true);
  assert.equal(inRange(rcOnly, '2.4.0'), false);
  assert.equal(inRange(rcOnly, '2.3.4'), false);
  const fixedAtRc = range('0', '2.2.0rc0');
  assert.equal(inRange(fixedAtRc, '2.1.9'), true);
  assert.equal(inRange(fixedAtRc, '2.2.0rc0'), false);
  assert.equal(inRange(fixedAtRc, '2.2.0'), false);
});

const advisory = (id: string, ranges: { introduced: string; fixed: string | null }[]): Advisory => ({ id, cve: [], ghsa: [], ops: ['X'], component: 'tensorflow', class: 'heap-out-of-bounds', ranges, url: 'https://example.invalid', published: '' });

test('fixedIn and the upgrade target: the lowest release on the line that is clean of every advisory', () => {
  const a = advisory('A', [range('0', '2.4.4'), range('2.5.0', '2.5.2'), range('2.6.0', '2.6.1')]);
  const b = advisory('B', [range('2.5.0', '2.5.3')]);
  assert.equal(fixedIn(a, '2.5.0'), '2.5.2');
  assert.equal(fixedIn(a, '2.4.3'), '2.4.4');
  assert.equal(fixedIn(a, '2.6.0rc1'), '2.6.1');
  assert.equal(upgradeTarget([a, b], '2.5.1'), '2.5.3', '2.5.2 still carries B');
  assert.equal(upgradeTarget([a], '2.6.0'), '2.6.1');
  assert.equal(upgradeTarget([advisory('O', [range('2.0.0', null)])], '2.1.0'), null, 'no fix recorded');
  assert.equal(clearFrom([a, b]), '2.6.1');
  assert.equal(clearFrom([a, advisory('O', [range('2.0.0', null)])]), null);
});

test('StringNGrams on real release numbers, both sides of each edge of CVE-2022-21733', () => {
  const adv = advisoriesForOp('StringNGrams').find((a) => a.id === 'PYSEC-2022-57')!;
  assert.deepEqual(adv.ranges, [range('0', '2.5.3'), range('2.6.0', '2.6.3')]);
  assert.equal(affects(adv, '2.5.2'), true);
  assert.equal(affects(adv, '2.5.3'), false);
  assert.equal(affects(adv, '2.6.0'), true);
  assert.equal(affects(adv, '2.6.2'), true);
  assert.equal(affects(adv, '2.6.3'), false);
  assert.equal(affects(adv, '2.7.0'), false);
  assert.equal(fixedIn(adv, '2.6.2'), '2.6.3');
  assert.equal(upgradeTarget(advisoriesForOp('StringNGrams'), '2.4.1'), '2.5.3');
});
