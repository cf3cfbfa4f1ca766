import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppApi, createApi } from '../../src-main/app/api.ts';
import { listAudit } from '../../src-main/audit/log.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { mayUse } from '../../src-preload/roles.ts';
import type { Channel, Req, Role } from '../../src-preload/contract.ts';
import { PASSPHRASE } from '../helpers/workspace.ts';

/*
 * Every channel, under every role and under none, through the API facade the IPC adapter calls: the role rule
 * is checked against a table written out here, not read from src-preload/roles.ts, so widening a role there
 * (say, opening predictions.exportCsv to auditors) fails this test. Requests are valid for their schema, so
 * what answers is the role check, not validation; dialogs return nothing, so no allowed call changes the
 * workspace in a way a later one depends on.
 */
const CLINICIANS = 'ward seven import key';

type Who = Role | 'locked';
const C: Who = 'clinician';
const R: Who = 'researcher';
const A: Who = 'auditor';
const ANYONE: readonly Who[] = ['locked', C, R, A];

const EXPECTED: Readonly<Record<Exclude<Channel, 'keys.create' | 'keys.unlock' | 'keys.lock'>, readonly Who[]>> = {
  'session.status': ANYONE,
  'presets.list': ANYONE,
  'jobs.cancel': ANYONE,
  'keys.list': [C, R, A],
  'keys.rotate': [R],
  'files.pickCsv': [C, R],
  'files.pickBundle': [C, R],
  'import.preview': [C, R],
  'import.check': [C, R],
  'import.run': [C, R],
  'import.bundle': [C, R],
  'patients.list': [C, R],
  'patients.overview': [C, R, A],
  'models.list': [R, A],
  'predict.runs': [R, A],
  'bench.history': [R, A],
  'privacy.status': [R, A],
  'reports.verify': [R, A],
  'models.train': [R],
  'names.set': [R],
  'models.trainEncrypted': [R],
  'predict.run': [R],
  'predictions.decrypt': [R],
  'predictions.page': [R],
  'predictions.exportCsv': [R],
  'evaluate.run': [R],
  'bench.run': [R],
  'reports.generate': [R],
  'reports.publicKey': [R],
  'audit.list': [A],
  'audit.verify': [A],
  'audit.export': [A],
};

/** A request each channel's schema accepts; what it names does not exist, so an allowed call fails after the role check. */
const REQUESTS: { [C in keyof typeof EXPECTED]: Req<C> } = {
  'session.status': {},
  'presets.list': {},
  'jobs.cancel': { jobId: 'no-such-job' },
  'keys.list': {},
  // A wrong passphrase: allowed for the key holder, it fails at the vault, before anything is generated.
  'keys.rotate': { jobId: 'j', old: 'archive', passphrase: 'not the passphrase' },
  'files.pickCsv': {},
  'files.pickBundle': {},
  'import.preview': { path: '/nowhere.csv' },
  'import.check': { jobId: 'check-1', path: '/nowhere.csv' },
  'import.run': { jobId: 'j', path: '/nowhere.csv' },
  'import.bundle': { jobId: 'j', path: '/nowhere.bundle' },
  'patients.list': { batchId: 999, offset: 0, limit: 10 },
  'patients.overview': {},
  'models.list': {},
  'predict.runs': {},
  'bench.history': {},
  'privacy.status': {},
  'reports.verify': { source: 'folder' },
  'models.train': { jobId: 'j', path: '/nowhere.csv' },
  'names.set': { what: 'model', id: 'no-such-model', name: 'x' },
  'models.trainEncrypted': { jobId: 'j', batchIds: [999], epochs: 1, lr: 1 },
  'predict.run': { jobId: 'j', modelId: 'no-such-model', batchIds: [999] },
  'predictions.decrypt': { runId: 999 },
  'predictions.page': { runId: 999, offset: 0, limit: 10, sort: { key: 'probability', direction: 'desc' }, filter: { text: '', atRiskOnly: false } },
  'predictions.exportCsv': { runId: 999 },
  'evaluate.run': { runId: 999 },
  'bench.run': { jobId: 'j', patients: 1 },
  'reports.generate': { passphrase: PASSPHRASE },
  'reports.publicKey': {},
  'audit.list': { limit: 1 },
  'audit.verify': {},
  'audit.export': {},
};

describe('the role table, every channel under every role, through the API', () => {
  let dir: string;
  let api: AppApi;

  async function become(who: Who): Promise<void> {
    await api.invoke('keys.lock', {});
    if (who === 'locked') return;
    const passphrase = who === 'researcher' ? { passphrase: PASSPHRASE } : who === 'clinician' ? { passphrase: CLINICIANS } : {};
    const r = await api.invoke('keys.unlock', { custody: 'passphrase', role: who, ...passphrase });
    if (!r.ok) throw new Error(`unlock as ${who}: ${r.error.message}`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'homopai-roles-table-'));
    api = createApi({ workspaceDir: dir, pickCsv: async () => null, pickBundle: async () => null, pickSavePath: async () => null, pickDirectory: async () => null, emit: () => undefined });
    const created = await api.invoke('keys.create', { preset: 'standard', custody: 'passphrase', passphrase: PASSPHRASE, clinicianPassphrase: CLINICIANS });
    if (!created.ok) throw new Error(created.error.message);
  });
  afterAll(() => {
    api.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every channel of the contract', () => {
    const contract = Object.keys(REQUESTS).concat(['keys.create', 'keys.unlock', 'keys.lock']).sort();
    expect(Object.keys(EXPECTED).concat(['keys.create', 'keys.unlock', 'keys.lock']).sort()).toEqual(contract);
  });

  it('shows the renderer the same table: what its navigation offers each role is what the API allows', () => {
    for (const [channel, roles] of Object.entries(EXPECTED) as [keyof typeof EXPECTED, readonly Who[]][]) {
      for (const who of ANYONE) expect(mayUse(channel, who === 'locked' ? null : who), `${channel} as ${who}`).toBe(roles.includes(who));
    }
  });

  it('says which role to unlock as when locked, and records each refused attempt at per-patient results', async () => {
    await become('locked');
    const locked = await api.invoke('predict.run', REQUESTS['predict.run']);
    expect(locked.ok ? null : locked.error.message).toBe('the key set is locked: unlock it as researcher to use predict.run');
    await become('clinician');
    const refused = await api.invoke('audit.list', REQUESTS['audit.list']);
    expect(refused.ok ? null : refused.error.message).toBe('the clinician role may not use audit.list (allowed for: auditor)');
    const decrypting = ['predictions.decrypt', 'predictions.page', 'predictions.exportCsv', 'evaluate.run'] as const;
    const refusals = (): { role: string; detail: object }[] => {
      using ws = Workspace.open(dir);
      return listAudit(ws.db, { action: 'decrypt-refused' });
    };
    const before = refusals().length;
    for (const channel of decrypting) await api.invoke(channel, REQUESTS[channel]);
    // Refused too, but not an attempt at per-patient results: not recorded.
    await api.invoke('predict.run', REQUESTS['predict.run']);
    expect(refusals().slice(before).map((e) => [e.role, e.detail])).toEqual(decrypting.map((channel) => ['clinician', { purpose: 'role', channel, via: 'app' }]));
  });

  for (const who of ANYONE) {
    it(`allows and refuses exactly as the table says, ${who === 'locked' ? 'with the workspace locked' : `as ${who}`}`, async () => {
      await become(who);
      const outcome: Record<string, 'allowed' | 'refused'> = {};
      for (const channel of Object.keys(EXPECTED) as (keyof typeof EXPECTED)[]) {
        const r = await api.invoke(channel, REQUESTS[channel]);
        expect(r.ok || r.error.name !== 'ValidationError', `${channel}: ${r.ok ? '' : r.error.message}`).toBe(true);
        outcome[channel] = !r.ok && r.error.name === 'PermissionError' ? 'refused' : 'allowed';
      }
      const expected = Object.fromEntries(Object.entries(EXPECTED).map(([channel, roles]) => [channel, roles.includes(who) ? 'allowed' : 'refused']));
      expect(outcome).toEqual(expected);
    });
  }
});
