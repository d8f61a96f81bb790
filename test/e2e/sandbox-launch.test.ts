// End to end in real Chromium: from the web host's findings table, "Confirm in sandbox…" on
// crafted P1's WriteFile finding, then "Launch in sandbox". The policy restores the checkpoint
// that activates the finding (ckpt_active/ckpt), the tf-python runner calls serving_default
// under bubblewrap, and the outcome lists /tmp/tfaudit_canary written inside the sandbox only;
// the runs table and the findings table's Sandbox column say the WriteFile finding is confirmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findTensorFlowPython } from '../../main/sandbox/runners.ts';
import { findExecutable } from '../../main/sandbox/backends.ts';
import { crafted, skipWithoutCorpus } from '../helpers/corpus.ts';
import { SCREENSHOTS, skipWithoutChromium, startWorkbench } from './harness.ts';

const MODEL = crafted('P1_trojan_if_writefile');
const HOST_CANARY = '/tmp/tfaudit_canary';

async function skipReason(): Promise<string | false> {
  if (skipWithoutCorpus) return skipWithoutCorpus;
  if (skipWithoutChromium) return skipWithoutChromium;
  if (!findExecutable('bwrap')) return 'bubblewrap (bwrap) is not installed';
  const python = await findTensorFlowPython();
  if ('error' in python) return `TensorFlow not available for the tf-python runner: ${python.error}`;
  return false;
}

test('Launch in sandbox from the web host confirms P1 WriteFile under ckpt_active/ckpt', { skip: await skipReason(), timeout: 240_000 }, async () => {
  rmSync(HOST_CANARY, { force: true });
  const workbench = await startWorkbench();
  const { browser, server } = workbench;
  try {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(server.urlWithToken);
    await page.setInputFiles('[data-testid=folder-input]', MODEL);
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    await page.setInputFiles('[data-testid=checkpoint-folder-input]', join(MODEL, 'ckpt_active'));
    await page.getByRole('radio', { name: 'ckpt_active/ckpt' }).waitFor({ timeout: 60_000 });

    const row = page.locator('tr.row', { has: page.locator('td.mono.strong', { hasText: /^WriteFile$/ }) });
    await row.click();
    await page.getByRole('button', { name: 'Confirm in sandbox…' }).click();
    const policy = page.getByRole('region', { name: 'Sandbox policy' });
    await policy.waitFor();
    const launch = page.getByRole('button', { name: 'Launch in sandbox' });
    await page.waitForFunction(() => {
      const b = Array.from(document.querySelectorAll('button')).find((x) => x.textContent?.trim() === 'Launch in sandbox');
      return b !== undefined && !b.hasAttribute('disabled');
    }, undefined, { timeout: 30_000 });
    await launch.click();
    const outcome = page.getByRole('region', { name: 'Outcome' });
    await outcome.waitFor({ timeout: 200_000 });
    await page.screenshot({ path: join(SCREENSHOTS, '11-sandbox-outcome.png') });
    const written = await outcome.locator('div', { has: page.getByRole('heading', { name: 'Files written' }) }).locator('li').allTextContents();
    assert.ok(written.some((line) => /^created .*tfaudit_canary/.test(line)), `the WriteFile branch ran and its file was observed in the scratch directory: ${written.join('; ')}`);
    assert.equal(existsSync(HOST_CANARY), false, 'nothing was written to the host /tmp');

    // the run's verdict per finding, next to the analysis's: WriteFile confirmed under ckpt_active, no disagreement
    const compared = page.getByRole('region', { name: 'Sandbox runs compared' });
    await compared.waitFor();
    const writeRow = compared.locator('tr', { has: page.locator('span.mono.strong', { hasText: /^WriteFile$/ }) });
    assert.match((await writeRow.textContent()) ?? '', /Confirmed static: active.*openat\(write\) \/tmp\/tfaudit_canary → ok \[during the signature call\]/s);
    assert.equal(await page.getByTestId('sandbox-disagreements').count(), 0);
    await page.screenshot({ path: join(SCREENSHOTS, '12-sandbox-runs-compared.png'), fullPage: true });
    // the findings table's Sandbox column says the same under the checkpoint that ran
    await page.getByRole('tab', { name: 'Findings' }).click();
    await page.getByRole('radio', { name: 'ckpt_active/ckpt' }).check();
    const sandboxCell = page.locator('tr.row', { has: page.locator('td.mono.strong', { hasText: /^WriteFile$/ }) }).locator('[data-sandbox]');
    assert.equal(await sandboxCell.getAttribute('data-sandbox'), 'confirmed');
  } finally {
    await workbench.close();
  }
});
