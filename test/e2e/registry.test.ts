// End to end in real Chromium against `tfaudit serve` with the real AuditService: upload a folder
// holding three models (tabuse_printv2_local_file, a TF Serving half_plus_two version, a Keras
// .h5 from ../shared/corpus/real), see the registry view, sort it, open the unsafe model's full
// audit, go back, export the registry PDF. Screenshots go to test-output/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { real, skipWithoutCorpus, tempDir } from '../helpers/corpus.ts';
import { SCREENSHOTS, skipWithoutChromium, startWorkbench } from './harness.ts';

const skip = skipWithoutCorpus || skipWithoutChromium;

test('a dropped folder of models opens the registry view; a row opens its audit; Export PDF covers the registry', { skip, timeout: 120_000 }, async () => {
  const registry = join(tempDir('tfaudit-e2e-registry-'), 'models');
  cpSync(real('tabuse_printv2_local_file'), join(registry, 'team', 'printer'), { recursive: true });
  cpSync(real('serving_saved_model_half_plus_two_cpu', '00000123'), join(registry, 'serving', 'half_plus_two', '1'), { recursive: true });
  mkdirSync(join(registry, 'keras'));
  cpSync(real('dl4j_keras_optimizer_adam', 'adam.h5'), join(registry, 'keras', 'adam.h5'));
  const workbench = await startWorkbench();
  const pageErrors: string[] = [];
  try {
    const context = await workbench.browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark', acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(workbench.server.urlWithToken);
    await page.setInputFiles('[data-testid=folder-input]', registry);
    const table = page.getByTestId('registry');
    await table.waitFor({ timeout: 60_000 });
    const rows = table.locator('tbody tr');
    assert.equal(await rows.count(), 3);
    // worst first: the PrintV2 attack is the one unsafe model
    assert.equal(await rows.first().getAttribute('data-verdict'), 'unsafe');
    assert.match((await rows.first().textContent()) ?? '', /team\/printer/);
    assert.equal(await page.getByTestId('registry-verdict').getAttribute('data-level'), 'unsafe');
    await page.screenshot({ path: join(SCREENSHOTS, 'registry-01-table.png') });

    await table.locator('[data-sort=path]').click();
    assert.deepEqual(await rows.locator('td:nth-child(2)').allTextContents(), ['keras/adam.h5', 'serving/half_plus_two/1', 'team/printer']);

    await rows.filter({ hasText: 'team/printer' }).click();
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    await page.locator('td.mono.strong', { hasText: /^PrintV2$/ }).first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'registry-02-row-audit.png') });
    await page.getByTestId('back-to-registry').click();
    await table.waitFor();

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export PDF' }).click();
    const file = join(tempDir('tfaudit-e2e-dl-'), 'registry.pdf');
    await (await download).saveAs(file);
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(file).subarray(0, 5).toString(), '%PDF-');
    assert.deepEqual(pageErrors, []);
  } finally {
    await workbench.close();
  }
});
