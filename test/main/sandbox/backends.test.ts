// Backend detection: bubblewrap found here; a host without any backend gets the install command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectBackend, findExecutable, INSTALL_HINT } from '../../../main/sandbox/backends.ts';
import { skipWithoutBwrap } from '../../fixtures/sandbox/host.ts';

test('bubblewrap is detected with its path and version', { skip: skipWithoutBwrap }, async () => {
  const detection = await detectBackend({ prefer: 'bubblewrap' });
  assert.equal(detection.backend, 'bubblewrap');
  if (detection.backend) {
    assert.equal(detection.path, findExecutable('bwrap'));
    assert.match(detection.version, /bubblewrap \d+\.\d+/);
  }
});

test('no backend on PATH: a clear message with the install command, never a fallback', async () => {
  const detection = await detectBackend({ pathEnv: '/nonexistent:/also-missing', prefer: null });
  assert.equal(detection.backend, null);
  if (detection.backend === null) {
    assert.match(detection.message, /apt-get install bubblewrap/);
    assert.match(detection.message, /never run unsandboxed/);
    assert.equal(detection.message, INSTALL_HINT);
  }
});

test('nsjail forced but absent: unavailable (no silent switch)', async () => {
  const detection = await detectBackend({ pathEnv: '/nonexistent', prefer: 'nsjail' });
  assert.equal(detection.backend, null);
});
