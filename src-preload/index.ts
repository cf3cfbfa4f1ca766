import { contextBridge } from 'electron';

contextBridge.exposeInMainWorld('homopai', { version: 1 });
