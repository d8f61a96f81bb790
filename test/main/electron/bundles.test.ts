// The built Electron bundles stand alone: main requires only electron and Node built-ins, the
// analyzer bundle (utilityProcess entry) runs with the assets copied beside it and finds
// crafted/P1's WriteFile without the TypeScript sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildElectron } from '../../../scripts/build.mjs';
import { crafted, skipWithoutCorpus, tempDir } from '../../helpers/corpus.ts';

const PREFIX = '@@tfaudit-worker ';
let built: Promise<string> | null = null;
const bundles = () => (built ??= buildElectron(join(tempDir('tfaudit-bundles-'), 'electron')));

function requiredModules(file: string): string[] {
  return [...new Set([...readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))];
}

test('main.cjs and analyzer.cjs need nothing outside the bundle but electron and Node built-ins', async () => {
  const dir = await bundles();
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  for (const name of ['main.cjs', 'analyzer.cjs']) {
    const external = requiredModules(join(dir, name)).filter((m) => m !== 'electron' && !builtins.has(m));
    assert.deepEqual(external, [], `${name} requires ${external.join(', ')}`);
  }
  assert.doesNotMatch(readFileSync(join(dir, 'analyzer.cjs'), 'utf8'), /require\("electron"\)/);
});

test('the analyzer bundle analyses crafted/P1 on its own (stdio transport)', { skip: skipWithoutCorpus, timeout: 60_000 }, async () => {
  const dir = await bundles();
  const model = crafted('P1_trojan_if_writefile');
  const run = spawnSync(process.execPath, [join(dir, 'analyzer.cjs')], {
    input: JSON.stringify({ model, checkpoints: [join(model, 'ckpt_active', 'ckpt')], tfRuntime: '2.4.1' }),
    cwd: tempDir(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(run.status, 0, run.stderr);
  const result = run.stdout
    .split('\n')
    .filter((l) => l.startsWith(PREFIX))
    .map((l) => JSON.parse(l.slice(PREFIX.length)))
    .find((m) => m.type === 'result');
  assert.ok(result, `no result: ${run.stdout.slice(0, 500)}`);
  const writeFile = result.result.report.findings.find((f: { op: string }) => f.op === 'WriteFile');
  assert.ok(writeFile, 'WriteFile finding missing');
  const states = Object.fromEntries(writeFile.trigger.activation.map((a: { checkpoint: string; state: string }) => [a.checkpoint.slice(model.length + 1), a.state]));
  assert.deepEqual(states, { 'variables/variables': 'dormant', 'ckpt_active/ckpt': 'active' });
  // The advisory table is copied beside the bundle: SaveV2 carries CVE-2021-37648 in 2.4.1.
  const saveV2 = result.result.report.findings.find((f: { capability: string; op: string }) => f.capability === 'known-vulnerability' && f.op === 'SaveV2');
  assert.deepEqual(saveV2?.advisories?.map((a: { id: string }) => a.id), ['PYSEC-2021-561']);
});
