// The TensorFlow runtime setting in real Chromium against `tfaudit serve` with the real
// AuditService: open the corpus LeNet GraphDef (dl4j_tf_lenet_frozen), see Conv2D listed as an
// info line, assess it for TensorFlow 2.4.1 (CVE-2021-29526, fixed in 2.4.2), see the finding
// with its advisory and the credit, then clear the setting again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { real, skipWithoutCorpus } from '../helpers/corpus.ts';
import { SCREENSHOTS, skipWithoutChromium, startWorkbench } from './harness.ts';

const LENET = real('dl4j_tf_lenet_frozen', 'lenet_frozen.pb');

test('runtime setting: info line, then a medium Conv2D finding for 2.4.1 with its advisory, then cleared', { skip: skipWithoutCorpus || skipWithoutChromium, timeout: 90_000 }, async () => {
  const workbench = await startWorkbench({ isolation: 'off' });
  try {
    const page = await (await workbench.browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(workbench.server.urlWithToken);
    await page.setInputFiles('[data-testid=file-input]', LENET);
    await page.getByTestId('verdict').waitFor({ timeout: 30_000 });
    const state = page.getByTestId('tf-runtime-state');
    assert.match((await state.textContent()) ?? '', /not set/);
    const row = page.locator('tr.row', { has: page.locator('td.mono.strong', { hasText: /^Conv2D$/ }) });
    await row.waitFor();
    assert.equal(await row.locator('.sev').textContent(), 'info');

    await page.getByTestId('tf-runtime').fill('2.4.1');
    await page.getByTestId('tf-runtime-apply').click();
    await page.waitForFunction(() => /assessed for TensorFlow 2\.4\.1/.test(document.querySelector('[data-testid=tf-runtime-state]')?.textContent ?? ''));
    assert.equal(await row.locator('.sev').textContent(), 'medium');
    await row.click();
    const advisories = page.getByTestId('advisories');
    await advisories.waitFor();
    assert.match((await advisories.textContent()) ?? '', /PYSEC-2021-454.*division-by-zero.*fixed in 2\.4\.2.*CVE-2021-29526/);
    assert.ok(await page.getByText('Data: PyPA Advisory Database, CC BY 4.0').first().isVisible());
    await page.screenshot({ path: join(SCREENSHOTS, '11-runtime-assessed.png') });

    await page.getByTestId('tf-runtime').fill('');
    await page.getByTestId('tf-runtime-apply').click();
    await page.waitForFunction(() => /not set/.test(document.querySelector('[data-testid=tf-runtime-state]')?.textContent ?? ''));
    assert.equal(await row.locator('.sev').textContent(), 'info');
    assert.deepEqual(pageErrors, []);
  } finally {
    await workbench.close();
  }
});
