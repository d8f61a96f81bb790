// The application menu: what desktop users expect, with the usual shortcuts. Commands that need
// the renderer's state (which audit is open) are sent to it as menu commands.
import { basename } from 'node:path';
import type * as ElectronModule from 'electron';
import type { MenuCommand } from '../../shared/api.ts';

export interface MenuActions {
  platform: NodeJS.Platform;
  recent: string[];
  send(command: MenuCommand, recentIndex?: number): void;
  clearRecent(): void;
}

export function buildMenuTemplate(actions: MenuActions): ElectronModule.MenuItemConstructorOptions[] {
  const isMac = actions.platform === 'darwin';
  const recentItems: ElectronModule.MenuItemConstructorOptions[] =
    actions.recent.length === 0
      ? [{ label: 'No recent models', enabled: false }]
      : [
          ...actions.recent.map((path, index) => ({
            label: `${index + 1}  ${basename(path)}`,
            toolTip: path,
            click: () => actions.send('open-recent', index),
          })),
          { type: 'separator' as const },
          { label: 'Clear Recent', click: () => actions.clearRecent() },
        ];
  const file: ElectronModule.MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open Model File…', accelerator: 'CmdOrCtrl+O', click: () => actions.send('open-file') },
      { label: 'Open Model Folder…', accelerator: 'CmdOrCtrl+Shift+O', click: () => actions.send('open-folder') },
      { label: 'Open Recent', submenu: recentItems },
      { type: 'separator' },
      { label: 'Add Checkpoint…', accelerator: 'CmdOrCtrl+Shift+K', click: () => actions.send('add-checkpoint') },
      { type: 'separator' },
      { label: 'Export PDF Report…', accelerator: 'CmdOrCtrl+E', click: () => actions.send('export-pdf') },
      { type: 'separator' },
      isMac ? { role: 'close' } : { role: 'quit', label: 'Quit', accelerator: 'CmdOrCtrl+Q' },
    ],
  };
  const template: ElectronModule.MenuItemConstructorOptions[] = [
    file,
    { label: '&Edit', submenu: [{ role: 'copy' }, { role: 'selectAll' }] },
    {
      label: '&View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }],
    },
    { label: '&Window', submenu: [{ role: 'minimize' }, { role: 'close' }] },
  ];
  if (isMac) template.unshift({ role: 'appMenu' });
  return template;
}
