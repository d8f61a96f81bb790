// The end-to-end set-up both browser tests share: the renderer bundle built into a temp dir,
// `tfaudit serve` in-process over the real AuditService, and Debian's Chromium.
import { mkdirSync } from 'node:fs';
import { skipWithout } from '../helpers/toolchain.ts';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startServer } from '../../main/web/server.ts';
import { createAuditBackend, type AuditBackend } from '../../main/service/backend.ts';
import { buildRenderer } from '../../scripts/build.mjs';
import { REPO_ROOT, tempDir } from '../helpers/corpus.ts';

export const CHROMIUM = process.env.TFAUDIT_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'e2e');
export const skipWithoutChromium: string | false = skipWithout('chromium');

export interface Workbench {
  backend: AuditBackend;
  server: Awaited<ReturnType<typeof startServer>>;
  browser: Browser;
  close(): Promise<void>;
}

/** `isolation: 'off'` for tests of the UI that do not depend on the OS sandbox around the analyzer. */
export async function startWorkbench(options: { isolation?: 'auto' | 'off' } = {}): Promise<Workbench> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const rendererDir = await buildRenderer(join(tempDir('tfaudit-e2e-'), 'renderer'));
  const backend = await createAuditBackend({ isolation: options.isolation ?? 'auto' });
  const server = await startServer({ backend, rendererDir });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  return {
    backend,
    server,
    browser,
    async close() {
      await browser.close();
      await server.close();
      await backend.dispose();
    },
  };
}
