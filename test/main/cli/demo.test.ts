// `tfaudit demo` (the README's first command): the project's own writer builds the trojaned
// SavedModel and its malicious checkpoint; the audit must find the switched-on exfiltration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../../helpers/corpus.ts';
import { writeDemoTrojan } from '../../../main/demo/trojan.ts';
import { analyse } from '../../../main/worker/analyse.ts';

test('the demo model: ReadFile and WriteFile dormant under its own checkpoint, active under the malicious one', async () => {
  const { model, maliciousCheckpoint } = await writeDemoTrojan(tempDir());
  const { report, summary } = await analyse({ model, checkpoints: [maliciousCheckpoint] });
  assert.equal(summary.format, 'saved-model');
  for (const capability of ['file-read', 'file-write'] as const) {
    const finding = report.findings.find((f) => f.capability === capability);
    assert.ok(finding, capability);
    assert.equal(finding.severity, 'critical');
    assert.deepEqual(finding.trigger.variables, ['mode/.ATTRIBUTES/VARIABLE_VALUE']);
    assert.deepEqual(finding.trigger.activation.map((a) => a.state), ['dormant', 'active']);
  }
  const read = report.findings.find((f) => f.capability === 'file-read')!;
  assert.equal(read.arguments[0]?.value, '~/.ssh/id_rsa');
  assert.equal(read.arguments[0]?.classification, 'sensitive-path');
});

test('tfaudit demo writes the example, prints the critical findings and a PDF', () => {
  const dir = tempDir();
  const run = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'tfaudit.mjs'), 'demo', '--dir', dir], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 300_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /CRITICAL/);
  assert.match(run.stdout, /~\/\.ssh\/id_rsa/);
  assert.ok(existsSync(join(dir, 'audit.pdf')));
  assert.equal(readFileSync(join(dir, 'audit.pdf')).subarray(0, 5).toString(), '%PDF-');
});
