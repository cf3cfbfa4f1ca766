/**
 * Test-only transport: serves the built renderer over loopback HTTP and answers `window.homopai` calls with
 * the same createApi the Electron main process binds to IPC, so a plain browser (Playwright + Chromium) can
 * drive the real UI against real services. Never shipped.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { createApi } from '../../src-main/app/api.ts';
import { CONTENT_SECURITY_POLICY } from '../../src-main/app/csp.ts';

export interface BridgeOptions {
  workspaceDir: string;
  /** The built renderer: out/renderer. */
  rendererDir: string;
  /** Stands in for the OS open dialog. */
  pickCsv: () => string | null;
  /** Stands in for the OS open dialog for bundles; without it every choice is cancelled. */
  pickBundle?: () => string | null;
  /** Stands in for the OS save dialog; without it every save is cancelled. */
  savePath?: (defaultName: string) => string | null;
  /** Stands in for the OS folder dialog; without it every choice of folder is cancelled. */
  pickDirectory?: () => string | null;
}

export interface Bridge {
  url: string;
  close(): Promise<void>;
}

const CLIENT_SCRIPT = new URL('./bridge-client.js', import.meta.url);
const MAX_BODY_BYTES = 1024 * 1024;
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::ffff:127.0.0.1' || address === '::1';
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra });
  res.end(body);
}

/*
 * A classic script runs as the parser reaches it, before any module script (modules are deferred), so
 * window.homopai exists when the app starts, as the preload guarantees in Electron. Its src carries the
 * token: no inline script, so the app's CSP stays as shipped.
 */
function injectClient(html: string, token: string): string {
  const moduleScript = /<script\b[^>]*\btype=["']module["']/i;
  if (!moduleScript.test(html)) throw new HttpError(500, 'index.html has no module script to run the bridge client before');
  return html.replace(moduleScript, (tag) => `<script src="/__bridge/client.js?t=${token}"></script>\n    ${tag}`);
}

export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  const token = randomBytes(32).toString('hex');
  const root = resolve(opts.rendererDir);
  const streams = new Set<ServerResponse>();
  const api = createApi({
    workspaceDir: opts.workspaceDir,
    pickCsv: async () => opts.pickCsv(),
    pickBundle: async () => opts.pickBundle?.() ?? null,
    pickSavePath: async (name) => opts.savePath?.(name) ?? null,
    pickDirectory: async () => opts.pickDirectory?.() ?? null,
    emit: (p) => {
      for (const s of streams) s.write(`data: ${JSON.stringify(p)}\n\n`);
    },
  });
  let host = '';

  async function serveStatic(pathname: string, res: ServerResponse): Promise<void> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    } catch {
      throw new HttpError(400, 'malformed path');
    }
    const path = resolve(root, `.${decoded}`);
    const rel = relative(root, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new HttpError(404, 'not found');
    if (!(await stat(path).then((s) => s.isFile(), () => false))) throw new HttpError(404, 'not found');
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    if (rel === 'index.html') {
      send(res, 200, type, injectClient(await readFile(path, 'utf8'), token), { 'content-security-policy': CONTENT_SECURITY_POLICY });
    } else {
      send(res, 200, type, await readFile(path));
    }
  }

  async function invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, 'POST only');
    if (!sameSecret(String(req.headers['x-homopai-token'] ?? ''), token)) throw new HttpError(403, 'bad token');
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, 'the body is not JSON');
    }
    const { channel, req: payload } = (body ?? {}) as { channel?: unknown; req?: unknown };
    if (typeof channel !== 'string') throw new HttpError(400, 'the body needs a string "channel"');
    send(res, 200, 'application/json', JSON.stringify(await api.invoke(channel, payload)));
  }

  function events(url: URL, req: IncomingMessage, res: ServerResponse): void {
    if (!sameSecret(url.searchParams.get('t') ?? '', token)) throw new HttpError(403, 'bad token');
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': connected\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on another name that resolves to 127.0.0.1 sends its own name as Host.
    if (req.headers.host !== host) throw new HttpError(403, 'wrong Host');
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/__bridge/invoke') return invoke(req, res);
    if (req.method !== 'GET') throw new HttpError(405, 'GET only');
    if (url.pathname === '/__bridge/events') return events(url, req, res);
    if (url.pathname === '/__bridge/client.js') return send(res, 200, TYPES['.js']!, await readFile(CLIENT_SCRIPT));
    return serveStatic(url.pathname, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      if (res.headersSent) res.destroy();
      else send(res, status, 'text/plain; charset=utf-8', e instanceof Error ? e.message : 'error');
    });
  });
  server.on('connection', (socket) => {
    if (!isLoopback(socket.remoteAddress)) socket.destroy();
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `http://${host}/`,
    async close() {
      for (const s of streams) s.end();
      streams.clear();
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
      api.dispose();
    },
  };
}
