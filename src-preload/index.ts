import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { HomopaiApi, IPC_INVOKE, IPC_PROGRESS, Progress } from './contract.ts';

/*
 * The channel names are restated rather than imported: a value import of the contract would pull in zod,
 * which electron-vite leaves as require('zod'), and a sandboxed preload can require nothing but electron.
 * Typing each as the contract's literal makes tsc fail if the two ever drift apart.
 */
const INVOKE: typeof IPC_INVOKE = 'homopai:invoke';
const PROGRESS: typeof IPC_PROGRESS = 'homopai:progress';

/*
 * The renderer gets these two functions and nothing else: no ipcRenderer, and no Electron event objects
 * (they would hand it the sender). Main validates every payload, so nothing is checked here.
 */
const api: HomopaiApi = {
  invoke: (channel, req) => ipcRenderer.invoke(INVOKE, channel, req),
  onProgress(listener) {
    const forward = (_event: IpcRendererEvent, p: Progress): void => listener(p);
    ipcRenderer.on(PROGRESS, forward);
    return () => {
      ipcRenderer.removeListener(PROGRESS, forward);
    };
  },
};

contextBridge.exposeInMainWorld('homopai', api);
