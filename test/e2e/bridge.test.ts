import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePath } from '../../src-main/common/resources.ts';
import { type Bridge, startBridge } from './bridge.ts';

const CHROMIUM = '/usr/bin/chromium';

/** Raw HTTP, because fetch will not let a test forge the Host header. */
function http(
  url: string,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string; type: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

// The minimal "renderer": a module script that uses window.homopai as the app does, under the app's CSP.
const INDEX = `<!doctype html>
<html><head>
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; connect-src 'self'" />
<script type="module" src="./assets/app.js"></script>
</head><body></body></html>`;

const APP = `
const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
const api = window.homopai;
const progress = [];
const stop = api.onProgress((p) => progress.push(p));
const status = await api.invoke('session.status', {});
const unknown = await api.invoke('no.such.channel', {});
await api.invoke('keys.create', { preset: 'standard', custody: 'passphrase', passphrase: 'a long enough passphrase' });
const path = (await api.invoke('files.pickCsv', {})).value;
const outcome = await api.invoke('import.run', { jobId: 'browser-import', path });
await new Promise((r) => setTimeout(r, 200));
stop();
document.body.dataset.result = JSON.stringify({ status, unknown, outcome, progress, violations, frozen: Object.isFrozen(api) });
`;

describe('the e2e bridge', () => {
  let dir: string;
  let bridge: Bridge;
  let token = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'homopai-bridge-'));
    const rendererDir = join(dir, 'renderer');
    mkdirSync(join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), INDEX);
    writeFileSync(join(rendererDir, 'assets', 'app.js'), APP);
    writeFileSync(join(dir, 'secret.txt'), 'outside the renderer');
    bridge = await startBridge({ workspaceDir: join(dir, 'workspace'), rendererDir, pickCsv: () => samplePath() });
  });
  afterAll(async () => {
    await bridge.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const host = () => new URL(bridge.url).host;
  const invoke = (headers: Record<string, string>, body = JSON.stringify({ channel: 'presets.list', req: {} })) =>
    http(bridge.url, { method: 'POST', path: '/__bridge/invoke', headers: { 'content-type': 'application/json', ...headers }, body });

  it('listens on loopback only and injects its client before the app module', async () => {
    expect(new URL(bridge.url).hostname).toBe('127.0.0.1');
    const page = await http(bridge.url, { path: '/', headers: { host: host() } });
    expect(page.status).toBe(200);
    const match = /<script src="\/__bridge\/client\.js\?t=([0-9a-f]{64})"><\/script>\s*<script type="module"/.exec(page.body);
    expect(match).not.toBeNull();
    token = match![1]!;
  });

  it('refuses a foreign Host, a missing or wrong token, and paths outside the renderer', async () => {
    expect((await http(bridge.url, { path: '/', headers: { host: `evil.example:${new URL(bridge.url).port}` } })).status).toBe(403);
    expect((await invoke({ host: host() })).status).toBe(403);
    expect((await invoke({ host: host(), 'x-homopai-token': 'f'.repeat(64) })).status).toBe(403);
    expect((await invoke({ host: `localhost:${new URL(bridge.url).port}`, 'x-homopai-token': token })).status).toBe(403);
    expect((await http(bridge.url, { path: '/__bridge/events', headers: { host: host() } })).status).toBe(403);
    expect((await http(bridge.url, { path: '/%2e%2e/secret.txt', headers: { host: host() } })).status).toBe(404);
    expect((await invoke({ host: host(), 'x-homopai-token': token }, '{not json')).status).toBe(400);
  });

  it('answers an invoke with the API envelope', async () => {
    const res = await invoke({ host: host(), 'x-homopai-token': token });
    expect(res.status).toBe(200);
    const envelope = JSON.parse(res.body) as { ok: boolean; value: { name: string }[] };
    expect(envelope.ok).toBe(true);
    expect(envelope.value.map((p) => p.name)).toEqual(['standard', 'deep']);
  });

  // Skipped only off CI: there, a missing browser fails the run (launching it throws).
  it.skipIf(!existsSync(CHROMIUM) && process.env.CI !== 'true')('gives a real page window.homopai, progress events included, under the CSP', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(bridge.url);
      await page.waitForFunction(() => document.body.dataset['result'], undefined, { timeout: 60_000 });
      const result = JSON.parse((await page.evaluate(() => document.body.dataset['result']))!);
      expect(result.status).toMatchObject({ ok: true, value: { unlocked: false } });
      expect(result.unknown).toMatchObject({ ok: false, error: { name: 'UnknownChannel' } });
      expect(result.outcome).toMatchObject({ ok: true, value: { ok: true, result: { rows: 19 } } });
      expect(result.progress.some((p: { jobId: string }) => p.jobId === 'browser-import')).toBe(true);
      expect(result.violations).toEqual([]);
      expect(result.frozen).toBe(true);
    } finally {
      await browser.close();
    }
  });

  it('ends every connection on close', async () => {
    const spare = await startBridge({ workspaceDir: join(dir, 'spare'), rendererDir: join(dir, 'renderer'), pickCsv: () => null });
    const url = new URL(spare.url);
    const spareToken = /client\.js\?t=([0-9a-f]+)/.exec((await http(spare.url, { path: '/', headers: { host: url.host } })).body)![1]!;
    const stream = await new Promise<IncomingMessage>((resolve) => {
      request({ hostname: url.hostname, port: url.port, path: `/__bridge/events?t=${spareToken}`, headers: { host: url.host } }, resolve).end();
    });
    expect(stream.statusCode).toBe(200);
    const ended = new Promise<void>((resolve) => stream.on('close', () => resolve()));
    stream.resume();
    await spare.close();
    await ended;
    await expect(http(spare.url, { path: '/', headers: { host: url.host } })).rejects.toThrow();
  });
});
