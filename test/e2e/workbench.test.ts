// End to end in real Chromium against `tfaudit serve` started in-process with the real
// AuditService: open crafted/P1_trojan_if_writefile through the page's folder input, add its
// ckpt_active checkpoint, see the WriteFile finding, watch the verdict flip between
// variables/variables (dormant) and ckpt_active/ckpt (active), open the branch view.
// Screenshots go to test-output/e2e/ for review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { crafted, skipWithoutCorpus } from '../helpers/corpus.ts';
import { SCREENSHOTS, skipWithoutChromium, startWorkbench } from './harness.ts';

const MODEL = crafted('P1_trojan_if_writefile');
const skip = skipWithoutCorpus || skipWithoutChromium;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

test('drop P1 and its ckpt_active checkpoint, see the verdict flip, open the branch view', { skip, timeout: 90_000 }, async () => {
  const workbench = await startWorkbench();
  const { browser, server } = workbench;
  const pageErrors: string[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });

    // Without the token the host answers 401; with it, the cookie carries the session.
    const anonymous = await fetch(server.url);
    assert.equal(anonymous.status, 401);
    await page.goto(server.urlWithToken);
    assert.equal(new URL(page.url()).search, '', 'the token stays in the address bar');
    await page.getByRole('heading', { name: 'Drop a TensorFlow model to audit it' }).waitFor();
    await shot(page, '01-empty');

    // The model folder, uploaded file by file with relative paths through the page's input.
    await page.setInputFiles('[data-testid=folder-input]', MODEL);
    const verdict = page.getByTestId('verdict');
    await verdict.waitFor({ timeout: 30_000 });
    const row = page.locator('tr.row', { has: page.locator('td.mono.strong', { hasText: /^WriteFile$/ }) });
    await row.waitFor();
    assert.match((await row.locator('.sev').textContent()) ?? '', /^(critical|high)$/);
    assert.equal(await row.locator('td').nth(3).textContent(), 'file-write');
    assert.equal(await verdict.getAttribute('data-level'), 'dormant');
    assert.equal(await row.locator('[data-state]').getAttribute('data-state'), 'dormant');
    // Keyboard: Tab reaches the row, Enter expands it to the evidence chain.
    await row.focus();
    await page.keyboard.press('Enter');
    assert.equal(await row.getAttribute('aria-expanded'), 'true');
    await page.locator('ol.chain li').last().waitFor();
    assert.match((await page.locator('ol.chain li').last().textContent()) ?? '', /WriteFile/);
    await shot(page, '02-findings-dormant');

    // The second checkpoint: a folder holding ckpt.index + ckpt.data-00000-of-00001.
    await page.setInputFiles('[data-testid=checkpoint-folder-input]', join(MODEL, 'ckpt_active'));
    const activeCkpt = page.getByRole('radio', { name: 'ckpt_active/ckpt' });
    await activeCkpt.waitFor({ timeout: 30_000 });
    const ownCkpt = page.getByRole('radio', { name: /variables\/variables/ });

    await activeCkpt.click();
    await page.waitForFunction(() => document.querySelector('[data-testid=verdict]')?.getAttribute('data-level') === 'unsafe');
    assert.equal(await row.locator('[data-state]').getAttribute('data-state'), 'active');
    assert.match((await verdict.textContent()) ?? '', /Unsafe to run with checkpoint ckpt_active\/ckpt/);
    await shot(page, '03-findings-active');

    await ownCkpt.click();
    await page.waitForFunction(() => document.querySelector('[data-testid=verdict]')?.getAttribute('data-level') === 'dormant');
    assert.equal(await row.locator('[data-state]').getAttribute('data-state'), 'dormant');
    await activeCkpt.click();

    // Branch view: variable → predicate → If → then_branch → call → WriteFile, taken path marked.
    await page.getByRole('button', { name: 'Open branch view' }).click();
    const figure = page.getByTestId('branch-view');
    await figure.waitFor();
    for (const kind of ['variable', 'predicate', 'control', 'branch', 'unsafe']) assert.ok((await figure.getByTestId(`fig-node-${kind}`).count()) >= 1, kind);
    assert.match((await figure.locator('.fig-node.fig-unsafe').first().getAttribute('class')) ?? '', /\bactive\b/);
    assert.match((await figure.locator('.fig-node.fig-variable .fig-value').first().textContent()) ?? '', /= 1/);
    await shot(page, '04-branch-active');
    await ownCkpt.click();
    assert.doesNotMatch((await figure.locator('.fig-node.fig-unsafe').first().getAttribute('class')) ?? '', /\bactive\b/);
    assert.match((await figure.locator('.fig-node.fig-variable .fig-value').first().textContent()) ?? '', /= 0/);
    await shot(page, '05-branch-dormant');

    await page.getByRole('tab', { name: /Checkpoints/ }).click();
    await page.getByRole('table', { name: 'Variables per checkpoint' }).waitFor();
    await shot(page, '06-checkpoints');
    await page.getByRole('tab', { name: /Model overview/ }).click();
    await page.getByRole('heading', { name: /Op histogram/ }).waitFor();
    await shot(page, '07-overview');
    // Sandbox: the policy is derived and shown for review before anything runs.
    await page.getByRole('tab', { name: 'Sandbox' }).click();
    await page.locator('.policy-facts, .sandbox .inline-error').first().waitFor({ timeout: 20_000 });
    await shot(page, '10-sandbox-policy');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('tab', { name: /Findings/ }).click();
    await shot(page, '08-findings-light');
    await page.emulateMedia({ colorScheme: 'dark' });

    // A file that is no model: an error screen that says what happened and what to do next.
    await page.setInputFiles('[data-testid=file-input]', { name: 'garbage.pb', mimeType: 'application/octet-stream', buffer: Buffer.from('\x0a\xff\xff\xff\xff\x0f not a graph') });
    const failure = page.getByTestId('error');
    await failure.waitFor({ timeout: 30_000 });
    assert.match((await failure.textContent()) ?? '', /Could not open the model/);
    assert.match((await failure.textContent()) ?? '', /garbage\.pb/);
    await shot(page, '09-error');
    await page.getByRole('button', { name: 'Open another model' }).click();
    await page.getByTestId('dropzone').waitFor();

    assert.deepEqual(pageErrors.filter((e) => !/status of 4\d\d/.test(e)), [], 'errors in the page');
    // The page's own upload API refuses a traversal name (cookie-authenticated, from the page).
    const status = await page.evaluate(async () => {
      const { uploadId } = await (await fetch('/api/uploads', { method: 'POST' })).json();
      return (await fetch(`/api/uploads/${uploadId}?path=${encodeURIComponent('../../escape')}`, { method: 'PUT', body: 'x' })).status;
    });
    assert.equal(status, 400);
  } finally {
    await workbench.close();
  }
  assert.equal(existsSync(server.workspace.root), false, 'workspace left behind');
});
