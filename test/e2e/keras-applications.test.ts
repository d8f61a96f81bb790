// The browser workbench on real Keras exports (issue 17: it failed on them like the CLI did, the
// analyzer worker's answer being cut off). In real Chromium against `tfaudit serve` in-process:
// drop the DenseNet121 SavedModel folder (the largest answer of the set) and the MobileNetV2
// .keras file through the page's inputs, see the clean verdict and the model overview.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { skipWithoutTf } from '../helpers/tensorflow.ts';
import { ensureKerasExports } from '../helpers/keras-applications.ts';
import { SCREENSHOTS, skipWithoutChromium, startWorkbench } from './harness.ts';

const skip = skipWithoutTf || skipWithoutChromium;

test('drop real Keras exports (DenseNet121 SavedModel folder, MobileNetV2 .keras): clean verdict, overview shown', { skip, timeout: 600_000 }, async () => {
  const exports = ensureKerasExports();
  const folder = exports.models.find((m) => m.name === 'DenseNet121')!;
  const archive = exports.models.find((m) => m.name === 'MobileNetV2.keras')!;
  const workbench = await startWorkbench();
  const pageErrors: string[] = [];
  try {
    const context = await workbench.browser.newContext({ viewport: { width: 1440, height: 900 } });
    for (const [input, model] of [['folder-input', folder], ['file-input', archive]] as const) {
      const page = await context.newPage();
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') pageErrors.push(m.text());
      });
      await page.goto(workbench.server.urlWithToken);
      await page.getByRole('heading', { name: 'Drop a TensorFlow model to audit it' }).waitFor();
      await page.setInputFiles(`[data-testid=${input}]`, model.path);
      const verdict = page.getByTestId('verdict');
      await verdict.waitFor({ timeout: 120_000 });
      assert.equal(await verdict.getAttribute('data-level'), 'clean', `${model.name}: ${await verdict.textContent()}`);
      assert.match((await verdict.textContent()) ?? '', /No unsafe behaviour found/);
      await page.screenshot({ path: join(SCREENSHOTS, `keras-${model.name}.png`) });
      await page.getByRole('tab', { name: /Model overview/ }).click();
      if (model.kind === 'savedmodel') {
        await page.getByRole('heading', { name: /Op histogram/ }).waitFor();
        assert.ok((await page.getByText('Conv2D', { exact: true }).count()) >= 1, `${model.name}: Conv2D in the op histogram`);
      } else {
        await page.getByText(/keras-v3/).first().waitFor();
      }
      await page.close();
    }
    assert.deepEqual(pageErrors, []);
  } finally {
    await workbench.close();
  }
});
