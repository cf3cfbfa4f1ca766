import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createApi } from '../../src-main/app/api.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { installNetworkGuard, NetworkBlockedError } from '../fixtures/network-guard.ts';
import { PASSPHRASE, tempDir } from '../helpers/workspace.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../src-main/cli/main.ts');
const PRELOAD = join(import.meta.dirname, '../fixtures/network-guard-preload.ts');
// Reserved for private networks and unrouted here: a connection to it would hang, never reach anyone.
const UNREACHABLE = '10.255.255.1';

function attemptsIn(log: string): string[] {
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : [];
}

/** A child Node process with the guard preloaded through NODE_OPTIONS, as every process beneath it inherits. */
async function guardedNode(args: string[], log: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const options = { env: { ...process.env, ...env, NODE_OPTIONS: `--import=${pathToFileURL(PRELOAD).href}`, HOMOPAI_NETWORK_GUARD_LOG: log }, maxBuffer: 1 << 24 };
  try {
    return { code: 0, ...(await run(process.execPath, args, options)) };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('the network guard', () => {
  it(`stops a connection to ${UNREACHABLE} by every route before it is made`, async () => {
    using tmp = tempDir();
    const log = join(tmp.dir, 'attempts.log');
    const originalConnect = net.Socket.prototype.connect;
    const guard = installNetworkGuard(log);
    try {
      const socket = new net.Socket();
      expect(() => socket.connect(9, UNREACHABLE)).toThrow(NetworkBlockedError);
      // Thrown before Node's own connect: the socket never started connecting and has no OS handle.
      expect(socket.connecting).toBe(false);
      expect((socket as unknown as { _handle: unknown })._handle).toBeNull();
      socket.destroy();
      expect(() => net.connect({ host: UNREACHABLE, port: 443 })).toThrow(NetworkBlockedError);
      expect(() => tls.connect({ host: UNREACHABLE, port: 443 })).toThrow(NetworkBlockedError);
      expect(() => http.get(`http://${UNREACHABLE}/`)).toThrow(NetworkBlockedError);
      expect(() => https.request({ host: UNREACHABLE, path: '/' })).toThrow(NetworkBlockedError);
      await expect(fetch(`https://${UNREACHABLE}/`)).rejects.toThrow(NetworkBlockedError);
      expect(() => dns.lookup('example.org', () => undefined)).toThrow(NetworkBlockedError);
      expect(() => dns.promises.resolve4('example.org')).toThrow(NetworkBlockedError);
      const udp = dgram.createSocket('udp4');
      expect(() => udp.send('x', 53, UNREACHABLE)).toThrow(NetworkBlockedError);
      udp.close();
      // A worker thread has modules of its own: the guard is installed there before the worker's code runs.
      const worker = new Worker(`require('node:net').connect(9, '${UNREACHABLE}');`, { eval: true });
      const workerError = await new Promise<Error>((resolve) => worker.once('error', resolve));
      expect(workerError.message).toMatch(/blocked by the test guard: tcp connect 10\.255\.255\.1:9/);
    } finally {
      guard.uninstall();
    }
    expect(net.Socket.prototype.connect).toBe(originalConnect);
    expect(guard.attempts).toEqual([
      `tcp connect ${UNREACHABLE}:9`,
      `tcp connect ${UNREACHABLE}:443`,
      `tcp connect ${UNREACHABLE}:443`,
      `http.get ${UNREACHABLE}`,
      `https.request ${UNREACHABLE}`,
      `fetch ${UNREACHABLE}`,
      'dns lookup example.org',
      'dns resolve4 example.org',
      `udp send ${UNREACHABLE}`,
    ]);
    // The worker's attempt is only in the log, which every thread and process appends to.
    expect(attemptsIn(log)).toEqual([...guard.attempts, `tcp connect ${UNREACHABLE}:9`]);
  });

  it('lets loopback through', async () => {
    const server = http.createServer((_req, res) => res.end('local')).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const guard = installNetworkGuard();
    try {
      const { port } = server.address() as AddressInfo;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('local');
      const viaHttp = await new Promise<number | undefined>((resolve, reject) =>
        http.get({ host: '127.0.0.1', port }, (res) => resolve(res.resume().statusCode)).on('error', reject),
      );
      expect(viaHttp).toBe(200);
    } finally {
      guard.uninstall();
      server.close();
    }
    expect(guard.attempts).toEqual([]);
  });

  it('covers a child process and its worker threads through NODE_OPTIONS', async () => {
    using tmp = tempDir();
    const log = join(tmp.dir, 'attempts.log');
    const script = `
      const { Worker } = require('node:worker_threads');
      try { require('node:net').connect(9, '${UNREACHABLE}'); } catch (e) { console.log(e.name); }
      new Worker("try { require('node:net').connect(9, '${UNREACHABLE}'); } catch (e) { console.log(e.name); }", { eval: true });
    `;
    const child = await guardedNode(['-e', script], log);
    expect(child).toMatchObject({ code: 0, stdout: 'NetworkBlockedError\nNetworkBlockedError\n' });
    expect(attemptsIn(log)).toEqual([`tcp connect ${UNREACHABLE}:9`, `tcp connect ${UNREACHABLE}:9`]);
  });
});

describe('zero network', () => {
  it('runs the app’s whole pipeline without one connection attempt', async () => {
    using tmp = tempDir();
    const log = join(tmp.dir, 'attempts.log');
    const guard = installNetworkGuard(log);
    let savePath: string | null = null;
    const api = createApi({
      workspaceDir: join(tmp.dir, 'ws'),
      pickCsv: async () => samplePath(),
      pickBundle: async () => null,
      pickSavePath: async () => savePath,
      pickDirectory: async () => null,
      emit: () => undefined,
    });
    try {
      const ok = async (channel: string, req: unknown): Promise<unknown> => {
        const envelope = await api.invoke(channel, req);
        if (!envelope.ok) throw new Error(`${channel}: ${envelope.error.name}: ${envelope.error.message}`);
        return envelope.value;
      };
      await ok('keys.create', { preset: 'standard', custody: 'passphrase', passphrase: PASSPHRASE, role: 'researcher' });
      await ok('files.pickCsv', {});
      const imported = (await ok('import.run', { jobId: 'import', path: samplePath() })) as { result: { batchId: number } };
      // Training runs the whole experiment: split, train, encrypt, predict on ciphertexts, decrypt, evaluate.
      const trained = (await ok('models.train', { jobId: 'train', path: samplePath(), testFraction: 0 })) as { model: { id: string } };
      const run = (await ok('predict.run', { jobId: 'predict', modelId: trained.model.id, batchIds: [imported.result.batchId] })) as { id: number };
      expect(await ok('predictions.decrypt', { runId: run.id })).toMatchObject({ patients: 19 });
      const query = { runId: run.id, offset: 0, limit: 50, sort: { key: 'patientId', direction: 'asc' }, filter: { text: '', atRiskOnly: false } } as const;
      expect(await ok('predictions.page', query)).toMatchObject({ matching: 19 });
      await ok('evaluate.run', { runId: run.id });
      savePath = join(tmp.dir, 'predictions.csv');
      await ok('predictions.exportCsv', { runId: run.id });
      await ok('session.status', {});
    } finally {
      api.dispose();
      guard.uninstall();
    }
    expect(guard.attempts).toEqual([]);
    expect(attemptsIn(log)).toEqual([]);
  });

  it('runs the CLI’s pipeline, dependencies included, without one connection attempt', async () => {
    using tmp = tempDir();
    const log = join(tmp.dir, 'attempts.log');
    const ws = ['--workspace', join(tmp.dir, 'ws')];
    const env = { HOMOPAI_PASSPHRASE: PASSPHRASE };
    // demo: the whole experiment (import, train, predict on ciphertexts, decrypt, evaluate) in a workspace of its
    // own; init and import: key generation, the passphrase vault and the CSV importer in a workspace that stays.
    for (const args of [['demo', '--json'], ['init', ...ws], ['import', samplePath(), ...ws]]) {
      const r = await guardedNode([CLI, ...args], log, env);
      expect(r, `homopai ${args[0]}: ${r.stderr}`).toMatchObject({ code: 0 });
    }
    expect(attemptsIn(log)).toEqual([]);
  }, 180_000);
});
