import { app, type BrowserWindow, dialog, type OpenDialogOptions, type SaveDialogOptions } from 'electron';
import { join } from 'node:path';
import type { Dialogs } from '../app/handlers.ts';

/** The OS file dialogs, modal to the app window: the user, not the renderer, chooses every path. */
export function electronDialogs(window: () => BrowserWindow | null): Dialogs {
  const open = (o: OpenDialogOptions) => {
    const w = window();
    return w ? dialog.showOpenDialog(w, o) : dialog.showOpenDialog(o);
  };
  const save = (o: SaveDialogOptions) => {
    const w = window();
    return w ? dialog.showSaveDialog(w, o) : dialog.showSaveDialog(o);
  };
  return {
    async pickCsv() {
      const r = await open({
        title: 'Choose a CSV file of patient vitals',
        properties: ['openFile'],
        filters: [
          { name: 'CSV files', extensions: ['csv', 'tsv', 'txt'] },
          { name: 'All files', extensions: ['*'] },
        ],
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async pickBundle() {
      const r = await open({
        title: "Choose a hospital's encrypted bundle",
        properties: ['openFile'],
        filters: [
          { name: 'HomoPAI bundles', extensions: ['bundle', 'hpb'] },
          { name: 'All files', extensions: ['*'] },
        ],
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async pickDirectory(purpose) {
      const r = await open({
        title: purpose === 'save-report' ? 'Choose the folder for the signed report' : 'Choose the folder of the report to verify',
        buttonLabel: purpose === 'save-report' ? 'Save report here' : 'Verify this report',
        defaultPath: app.getPath('documents'),
        properties: ['openDirectory', 'createDirectory'],
      });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async pickSavePath(defaultName) {
      const r = await save({ defaultPath: join(app.getPath('documents'), defaultName), properties: ['createDirectory', 'showOverwriteConfirmation'] });
      return r.canceled || !r.filePath ? null : r.filePath;
    },
  };
}
