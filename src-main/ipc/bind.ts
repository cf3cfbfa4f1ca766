import { type BrowserWindow, ipcMain } from 'electron';
import { type Envelope, IPC_INVOKE, IPC_PROGRESS, type Progress } from '../../src-preload/contract.ts';
import type { AppApi } from '../app/api.ts';
import type { RendererTrust } from './trust.ts';

const FORBIDDEN: Envelope<never> = {
  ok: false,
  error: { name: 'Forbidden', message: 'only the HomoPAI window may call its services' },
};

/**
 * The only IPC handler. A call is answered only for our own top-level page: a frame or a page navigated
 * elsewhere (navigation is blocked, but this does not rely on it) gets nothing from the services.
 */
export function bindApi(api: AppApi, trust: RendererTrust): void {
  ipcMain.handle(IPC_INVOKE, (event, channel: unknown, req: unknown) => {
    const frame = event.senderFrame;
    if (!frame || frame.parent !== null || !trust.isRendererPage(frame.url)) return FORBIDDEN;
    return api.invoke(String(channel), req);
  });
}

export function sendProgress(window: BrowserWindow | null, p: Progress): void {
  if (window && !window.isDestroyed()) window.webContents.send(IPC_PROGRESS, p);
}
