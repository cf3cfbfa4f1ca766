import { app, BrowserWindow, session, type WebContents } from 'electron';
import { join } from 'node:path';
import { createApi } from './app/api.ts';
import { CONTENT_SECURITY_POLICY } from './app/csp.ts';
import { bindApi, sendProgress } from './ipc/bind.ts';
import { electronDialogs } from './ipc/dialogs.ts';
import { rendererTrust } from './ipc/trust.ts';

// Electron would name the folder after package.json's "homopai"; services/workspace.ts appDataDir() uses
// "HomoPAI", and the CLI and the app must share one workspace.
app.setPath('userData', join(app.getPath('appData'), 'HomoPAI'));
if (app.isPackaged) process.env['HOMOPAI_RESOURCES'] ??= join(process.resourcesPath, 'resources');
app.enableSandbox();

const rendererDir = join(import.meta.dirname, '../renderer');
const devServerUrl = app.isPackaged ? undefined : process.env['ELECTRON_RENDERER_URL'];
const trust = rendererTrust({ rendererDir, devServerUrl });
let mainWindow: BrowserWindow | null = null;

/** The renderer gets no permission, no remote content, and a script policy of our own files only. */
function hardenSession(): void {
  const s = session.defaultSession;
  s.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
  s.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !trust.mayLoad(details.url) }));
  s.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } }),
  );
}

function withoutHash(url: string): string {
  return url.split('#', 1)[0]!;
}

/** Applied to every web contents, devtools included: no navigation away, no new windows, no webviews. */
function confine(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (withoutHash(url) !== withoutHash(contents.getURL())) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'HomoPAI',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  });
  mainWindow = win;
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(join(rendererDir, 'index.html'));
}

function start(): void {
  app.on('web-contents-created', (_event, contents) => confine(contents));
  // One process per workspace: a second launch focuses the first instead of opening the database again.
  app.on('second-instance', () => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
  });
  const api = createApi({
    workspaceDir: join(app.getPath('userData'), 'workspace'),
    ...electronDialogs(() => mainWindow),
    emit: (p) => sendProgress(mainWindow, p),
  });
  app.on('will-quit', () => api.dispose());
  void app.whenReady().then(() => {
    hardenSession();
    bindApi(api, trust);
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });
  app.on('window-all-closed', () => app.quit());
}

if (app.requestSingleInstanceLock()) start();
else app.quit();
