// Folder drops in the browser: DataTransfer items are walked with webkitGetAsEntry() (in
// readEntries batches) and every file keeps its path relative to the drop; Electron passes the
// dropped items themselves (the preload resolves folders).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectDroppedFiles, relativePathOf } from '../../renderer/dropped-files.ts';

type Tree = { [name: string]: Tree | string };

function entry(name: string, node: Tree | string): unknown {
  if (typeof node === 'string') {
    const file = new File([node], name);
    return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(file) };
  }
  const children = Object.entries(node).map(([n, c]) => entry(n, c));
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader() {
      let offset = 0;
      // Two entries per batch, like Chromium's 100: the walker must keep reading until empty.
      return { readEntries: (ok: (e: unknown[]) => void) => ok(children.slice(offset, (offset += 2))) };
    },
  };
}

function dataTransfer(roots: Tree): DataTransfer {
  const items = Object.entries(roots).map(([name, node]) => ({ kind: 'file', webkitGetAsEntry: () => entry(name, node) }));
  return { items, files: [new File(['top'], 'top-level-only')] } as unknown as DataTransfer;
}

test('a dropped SavedModel folder and a checkpoint folder become files with relative paths', async () => {
  const dt = dataTransfer({
    P1: { 'saved_model.pb': 'pb', variables: { 'variables.index': 'i', 'variables.data-00000-of-00001': 'd' }, assets: { 'foo.txt': 'f' }, 'fingerprint.pb': 'fp' },
    ckpt_active: { 'ckpt.index': 'i', 'ckpt.data-00000-of-00001': 'd' },
  });
  const files = await collectDroppedFiles(dt, 'web');
  assert.deepEqual(files.map(relativePathOf).sort(), [
    'P1/assets/foo.txt',
    'P1/fingerprint.pb',
    'P1/saved_model.pb',
    'P1/variables/variables.data-00000-of-00001',
    'P1/variables/variables.index',
    'ckpt_active/ckpt.data-00000-of-00001',
    'ckpt_active/ckpt.index',
  ]);
});

test('the walk stops at the file limit; Electron gets the dropped items untouched', async () => {
  const many: Tree = {};
  for (let i = 0; i < 20; i++) many[`f${i}`] = 'x';
  await assert.rejects(collectDroppedFiles(dataTransfer({ big: many }), 'web', 10), /more than 10 files/);
  const electron = await collectDroppedFiles(dataTransfer({ P1: { a: 'x' } }), 'electron');
  assert.deepEqual(electron.map((f) => f.name), ['top-level-only']);
});
