// Electronegativity (Doyensec's Electron security scanner) over main/electron and the built
// bundles (main, preload, analyzer, renderer + its index.html with the CSP). Its CLI exits 0
// whatever it finds, so this drives the programmatic API and fails on anything above
// informational, and on any file it could not parse (a file it skips is a file not checked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { buildElectron, buildRenderer } from '../../../scripts/build.mjs';
import { REPO_ROOT, tempDir } from '../../helpers/corpus.ts';

const require = createRequire(import.meta.url);

interface ScanIssue {
  id: string;
  file: string;
  description: string;
  sample?: string;
  severity: { name: string };
  confidence: { name: string };
}
interface ScanResult {
  errors: { file: string; message: string; tolerable: boolean }[];
  issues: ScanIssue[];
}

async function scan(input: string, options: Record<string, unknown> = {}): Promise<ScanResult> {
  const mod = require('@doyensec/electronegativity');
  const run = (mod.default ?? mod) as (o: Record<string, unknown>) => Promise<ScanResult>;
  const log = console.log;
  console.log = () => undefined; // its progress chatter ("No connectivity?") is not a result
  try {
    return await run({ input, isSarif: false, ...options });
  } finally {
    console.log = log;
  }
}

/**
 * Findings that are review prompts (manualReview), not defects, which were reviewed. Each is
 * pinned to its check, file and code sample, so anything new or moved still fails the test.
 */
const REVIEWED: { id: string; file: RegExp; sample: RegExp; why: string }[] = [
  {
    id: 'PRELOAD_JS_CHECK',
    file: /\/main\/electron\/window\.ts$/,
    sample: /^preload: paths\.preload,?$/,
    why: 'The preload is required (contextBridge); it exposes only the typed TfauditApi — see preload.test.ts.',
  },
];

function reviewed(issue: ScanIssue & { manualReview?: boolean }): boolean {
  return issue.manualReview === true && REVIEWED.some((r) => r.id === issue.id && r.file.test(issue.file) && r.sample.test((issue.sample ?? '').trim()));
}

const describe = (issues: ScanIssue[]) => issues.map((i) => `${i.severity.name} ${i.id} ${i.file}: ${i.description}${i.sample ? ` [${i.sample.slice(0, 160)}]` : ''}`).join('\n');

function stagingDir(): string {
  const dir = tempDir('tfaudit-scan-');
  const electronVersion = require('electron/package.json').version as string;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'tf-audit-workbench', main: 'dist/electron/main.js', devDependencies: { electron: electronVersion } }));
  return dir;
}

test('electronegativity finds nothing above informational in main/electron and the built app', async () => {
  const dir = stagingDir();
  mkdirSync(join(dir, 'main', 'electron'), { recursive: true });
  for (const f of readdirSync(join(REPO_ROOT, 'main', 'electron'))) copyFileSync(join(REPO_ROOT, 'main', 'electron', f), join(dir, 'main', 'electron', f));
  await buildRenderer(join(dir, 'dist', 'renderer'));
  const built = await buildElectron(tempDir('tfaudit-electron-'));
  // The scanner reads .js, not .cjs.
  mkdirSync(join(dir, 'dist', 'electron'), { recursive: true });
  for (const name of ['main', 'preload', 'analyzer']) copyFileSync(join(built, `${name}.cjs`), join(dir, 'dist', 'electron', `${name}.js`));

  const result = await scan(dir);
  const unparsed = result.errors.filter((e) => !e.tolerable);
  assert.deepEqual(unparsed, [], `files electronegativity could not parse:\n${unparsed.map((e) => `${e.file}: ${e.message}`).join('\n')}`);
  const serious = result.issues.filter((i) => i.severity.name !== 'INFORMATIONAL' && !reviewed(i));
  assert.equal(serious.length, 0, `electronegativity findings:\n${describe(serious)}`);
  for (const r of REVIEWED) assert.ok(result.issues.some((i) => i.id === r.id && reviewed(i)), `stale review entry ${r.id}`);
});

test('the scan is not vacuous: an insecure window and a weak CSP are reported', async () => {
  const dir = stagingDir();
  writeFileSync(
    join(dir, 'window.ts'),
    "import { BrowserWindow } from 'electron';\nexport const w = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\n",
  );
  writeFileSync(join(dir, 'index.html'), `<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'unsafe-inline'">`);
  const checks = ['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'CSP_GLOBAL_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK'];
  const result = await scan(dir, { customScan: checks.map((c) => c.replaceAll('_', '').toLowerCase()) });
  const ids = new Set(result.issues.filter((i) => i.severity.name !== 'INFORMATIONAL').map((i) => i.id));
  for (const id of checks) assert.ok(ids.has(id), `${id} not reported: ${[...ids].join(', ')}`);
});
