// electron-builder configuration (packaging runs on release machines, so CI validates the
// configuration): schema-valid, the targets, the fuses, resources present, main is the bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { REPO_ROOT } from '../../helpers/corpus.ts';

const config = JSON.parse(readFileSync(join(REPO_ROOT, 'build', 'electron-builder.json'), 'utf8'));
const require = createRequire(import.meta.url);

test('the configuration passes electron-builder’s own schema validation', async () => {
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js');
  const { DebugLogger } = require('builder-util');
  const { $schema: _schema, ...rest } = config;
  await validateConfiguration(rest, new DebugLogger(false));
  await assert.rejects(validateConfiguration({ ...rest, linux: { target: 'AppImage', bogusOption: true } }, new DebugLogger(false)));
});

test('targets: Linux AppImage + deb, Windows nsis, macOS dmg (hardened, with entitlements)', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.win.target, ['nsis']);
  assert.deepEqual(config.mac.target, ['dmg']);
  assert.equal(config.mac.hardenedRuntime, true);
  for (const f of [config.mac.entitlements, config.mac.entitlementsInherit, config.win.icon, config.mac.icon, 'build/icon.svg', 'build/icons/512x512.png', 'build/icons/256x256.png']) {
    assert.ok(existsSync(join(REPO_ROOT, f)), f);
  }
  const entitlements = readFileSync(join(REPO_ROOT, config.mac.entitlements), 'utf8');
  const keys = [...entitlements.matchAll(/<key>([^<]+)<\/key>/g)].map((m) => m[1]);
  assert.deepEqual(keys, ['com.apple.security.cs.allow-jit']);
  const png = readFileSync(join(REPO_ROOT, 'build', 'icon.png'));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.readUInt32BE(16) >= 512, 'icon narrower than 512 px');
});

test('fuses: no run-as-node, no NODE_OPTIONS, no --inspect, asar only with integrity, encrypted cookies', () => {
  assert.deepEqual(config.electronFuses, {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    grantFileProtocolExtraPrivileges: false,
  });
  assert.equal(config.asar, true);
});

test('the package ships the built bundles only, started from dist/electron/main.cjs', () => {
  assert.equal(config.extraMetadata.main, 'dist/electron/main.cjs');
  assert.ok(config.files.includes('dist/electron/**/*'));
  assert.ok(config.files.includes('dist/renderer/**/*'));
  assert.ok(config.files.includes('dist/proto/**/*'), 'the analyzer reads its .proto schemas at run time');
  assert.ok(!config.files.some((f: string) => /^(main|renderer|shared|test)\//.test(f)), 'sources are not shipped');
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.equal(pkg.main, 'dist/electron/main.cjs');
});
