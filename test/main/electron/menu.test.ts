// The application menu: the commands and shortcuts desktop users expect, recent files by index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as ElectronModule from 'electron';
import { buildMenuTemplate } from '../../../main/electron/menu.ts';

type Item = ElectronModule.MenuItemConstructorOptions;

function flatten(items: Item[]): Item[] {
  return items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flatten(i.submenu as Item[]) : [])]);
}

function menu(platform: NodeJS.Platform, recent: string[]) {
  const sent: unknown[][] = [];
  let cleared = 0;
  const template = buildMenuTemplate({ platform, recent, send: (...args) => sent.push(args), clearRecent: () => cleared++ });
  return { items: flatten(template), sent, cleared: () => cleared, template };
}

const click = (item: Item) => (item.click as unknown as () => void)();

test('File menu: open file/folder, add checkpoint, export PDF with the usual shortcuts, and Quit', () => {
  const { items, sent } = menu('linux', []);
  const byLabel = (label: string) => items.find((i) => i.label === label)!;
  assert.equal(byLabel('Open Model File…').accelerator, 'CmdOrCtrl+O');
  assert.equal(byLabel('Open Model Folder…').accelerator, 'CmdOrCtrl+Shift+O');
  assert.equal(byLabel('Export PDF Report…').accelerator, 'CmdOrCtrl+E');
  assert.ok(byLabel('Add Checkpoint…').accelerator);
  const quit = items.find((i) => i.role === 'quit')!;
  assert.equal(quit.accelerator, 'CmdOrCtrl+Q');
  for (const label of ['Open Model File…', 'Open Model Folder…', 'Add Checkpoint…', 'Export PDF Report…']) click(byLabel(label));
  assert.deepEqual(sent, [['open-file'], ['open-folder'], ['add-checkpoint'], ['export-pdf']]);
  const accelerators = items.map((i) => i.accelerator).filter(Boolean);
  assert.equal(new Set(accelerators).size, accelerators.length, 'duplicate shortcut');
  assert.equal(byLabel('No recent models').enabled, false);
});

test('Open Recent lists paths by name and sends only their index', () => {
  const { items, sent, cleared } = menu('win32', ['/models/a/P1', '/models/b/P2']);
  const recent = items.filter((i) => typeof i.label === 'string' && /^\d+ {2}/.test(i.label));
  assert.deepEqual(recent.map((i) => i.label), ['1  P1', '2  P2']);
  click(recent[1]);
  assert.deepEqual(sent, [['open-recent', 1]]);
  click(items.find((i) => i.label === 'Clear Recent')!);
  assert.equal(cleared(), 1);
});

test('macOS gets the app menu; there Quit lives in it', () => {
  const { template, items } = menu('darwin', []);
  assert.equal(template[0].role, 'appMenu');
  assert.equal(items.some((i) => i.role === 'quit'), false);
});
