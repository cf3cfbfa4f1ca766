import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppApi, createApi } from '../../src-main/app/api.ts';
import { csvText, predictionsCsv } from '../../src-main/reports/csv-export.ts';
import { rendererTrust } from '../../src-main/ipc/trust.ts';
import { samplePath } from '../../src-main/common/resources.ts';
import { sha256Hex } from '../../src-main/common/files.ts';
import { DB_FILE } from '../../src-main/store/db.ts';
import { signManifest } from '../../src-main/reports/manifest.ts';
import { publicKeyFingerprint } from '../../src-main/reports/signing.ts';
import type { Channel, Envelope, Progress, Req, Res, Role } from '../../src-preload/contract.ts';

const PASSPHRASE = 'correct horse battery staple';
/** The clinicians' credential: it opens the integrity key only, never the secret key. */
const CLINICIANS = 'ward seven import key';
const SAMPLE = samplePath();

/*
 * Vital values of the sample that no response may carry: every temperature (decimals) and every 3-digit
 * blood pressure. Matched as whole numbers, so 118 does not match inside 1183 or a hex fingerprint.
 */
function sampleVitals(): RegExp[] {
  const [header, ...rows] = readFileSync(SAMPLE, 'utf8').trim().split('\n');
  const vitalColumns = header!.split(',').flatMap((name, i) => (/temperature|bp|rate|spo2/.test(name) ? [i] : []));
  const values = new Set(rows.flatMap((r) => vitalColumns.map((i) => r.split(',')[i]!)).filter((v) => v.includes('.') || v.length === 3));
  return [...values].map((v) => new RegExp(`(?<![\\w.])${v.replace('.', '\\.')}(?![\\w.])`));
}

/**
 * One app over a workspace of its own: a fresh folder, or a copy of a prepared one, so no test sees another's
 * state or depends on the order tests run in. It stands in for the dialogs (what they return is set per test)
 * and records every envelope the API sends back.
 */
class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'homopai-api-'));
  readonly workspace = join(this.dir, 'workspace');
  readonly api: AppApi;
  picked: string | null = SAMPLE;
  savePath: string | null = null;
  reportDir: string | null = null;
  readonly progress: Progress[] = [];
  readonly seen: { channel: string; envelope: Envelope<unknown> }[] = [];

  constructor(from?: string, idleLockMs?: number) {
    if (from) cpSync(from, this.workspace, { recursive: true });
    this.api = createApi({
      workspaceDir: this.workspace,
      pickCsv: async () => this.picked,
      pickBundle: async () => null,
      pickSavePath: async () => this.savePath,
      pickDirectory: async () => this.reportDir,
      emit: (p) => this.progress.push(p),
      ...(idleLockMs ? { idleLockMs } : {}),
    });
  }

  async call(channel: string, req: unknown): Promise<Envelope<unknown>> {
    const envelope = await this.api.invoke(channel, req);
    this.seen.push({ channel, envelope });
    return envelope;
  }
  async ok<C extends Channel>(channel: C, req: Req<C>): Promise<Res<C>> {
    const envelope = await this.call(channel, req);
    if (!envelope.ok) throw new Error(`${channel} failed: ${envelope.error.name}: ${envelope.error.message}`);
    return envelope.value as Res<C>;
  }
  async refused(channel: Channel, req: unknown): Promise<{ name: string; message: string }> {
    const envelope = await this.call(channel, req);
    if (envelope.ok) throw new Error(`${channel} was expected to fail`);
    return envelope.error;
  }
  unlock(role: Role): Promise<Res<'keys.unlock'>> {
    const passphrase = { researcher: PASSPHRASE, clinician: CLINICIANS, auditor: undefined }[role];
    return this.ok('keys.unlock', { custody: 'passphrase', role, ...(passphrase ? { passphrase } : {}) });
  }
  /** A prediction run of the prepared model over the prepared batch, as the researcher. */
  async predictRun(jobId = 'predict'): Promise<number> {
    return (await this.ok('predict.run', { jobId, modelId: prepared.modelId, batchIds: [prepared.batchId] })).id;
  }
  db(): Database.Database {
    return new Database(join(this.workspace, DB_FILE));
  }
  [Symbol.dispose](): void {
    this.api.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/*
 * Two prepared workspaces, copied into each test that starts from one: KEYED holds a key set and the clinicians'
 * credential; IMPORTED also the sample, imported by a clinician, and a model the researcher trained on it.
 */
const prepared = { root: '', keyed: '', imported: '', batchId: 0, modelId: '' };
beforeAll(async () => {
  prepared.root = mkdtempSync(join(tmpdir(), 'homopai-api-prepared-'));
  prepared.keyed = join(prepared.root, 'keyed');
  prepared.imported = join(prepared.root, 'imported');
  {
    using h = new Harness();
    await h.ok('keys.create', { preset: 'standard', custody: 'passphrase', passphrase: PASSPHRASE, clinicianPassphrase: CLINICIANS });
    await h.ok('keys.lock', {});
    h.api.dispose();
    cpSync(h.workspace, prepared.keyed, { recursive: true });
  }
  using h = new Harness(prepared.keyed);
  await h.unlock('clinician');
  await h.ok('files.pickCsv', {});
  const imported = await h.ok('import.run', { jobId: 'import', path: SAMPLE });
  if (!imported.ok) throw new Error('the sample was not imported');
  prepared.batchId = imported.result.batchId;
  await h.unlock('researcher');
  prepared.modelId = (await h.ok('models.train', { jobId: 'train', path: SAMPLE, testFraction: 0.3, seed: 11 })).model.id;
  await h.ok('keys.lock', {});
  h.api.dispose();
  cpSync(h.workspace, prepared.imported, { recursive: true });
});
afterAll(() => rmSync(prepared.root, { recursive: true, force: true }));

describe('the API facade over real services', () => {
  it('starts locked, with no key set and no role', async () => {
    using h = new Harness();
    const s = await h.ok('session.status', {});
    expect(s).toMatchObject({ keySet: null, unlocked: false, role: null });
    expect(typeof s.keychainAvailable).toBe('boolean');
    expect(await h.ok('presets.list', {})).toHaveLength(2);
    expect((await h.refused('files.pickCsv', {})).message).toMatch(/locked: unlock it as clinician or researcher/);
  });

  it('rejects unknown channels and malformed requests with readable messages', async () => {
    using h = new Harness();
    expect((await h.call('secrets.dump', {})).ok).toBe(false);
    const bad = await h.refused('keys.create', { preset: 'huge', custody: 'passphrase' });
    expect(bad.name).toBe('ValidationError');
    expect(bad.message).toMatch(/^invalid keys\.create request: preset: /);
    expect((await h.refused('patients.list', { batchId: 1, offset: -1, limit: 10 })).message).toMatch(/offset: /);
    expect((await h.refused('keys.create', { preset: 'standard', custody: 'passphrase' })).message).toMatch(/passphrase custody needs a passphrase/);
  });

  it('creates a key set as its key holder, sealing a separate credential for clinicians', async () => {
    using h = new Harness();
    const s = await h.ok('keys.create', { preset: 'standard', custody: 'passphrase', passphrase: PASSPHRASE, clinicianPassphrase: CLINICIANS });
    expect(s).toMatchObject({ unlocked: true, role: 'researcher', keySet: { preset: 'standard', custody: 'passphrase' } });
    expect((await h.refused('keys.create', { preset: 'standard', custody: 'passphrase', passphrase: PASSPHRASE })).message).toMatch(/already has key set/);
  });

  it('gives each role what its credential opens, not what the person declares', async () => {
    using h = new Harness(prepared.keyed);
    // The key holder's passphrase does not open the clinicians' vault, nor theirs the secret key.
    expect(await h.refused('keys.unlock', { custody: 'passphrase', passphrase: PASSPHRASE, role: 'clinician' })).toMatchObject({ name: 'VaultError' });
    expect(await h.refused('keys.unlock', { custody: 'passphrase', passphrase: CLINICIANS, role: 'researcher' })).toMatchObject({ name: 'VaultError' });
    expect(await h.unlock('clinician')).toMatchObject({ unlocked: true, role: 'clinician' });
    expect((await h.refused('audit.list', {})).message).toMatch(/the clinician role may not use audit\.list/);
  });

  it('refuses to read a file the dialog did not return', async () => {
    using h = new Harness(prepared.keyed);
    await h.unlock('clinician');
    expect((await h.refused('import.preview', { path: '/etc/passwd' })).message).toMatch(/not chosen in this session's file dialog/);
  });

  it('previews and imports the sample as a clinician, with progress under the job id', async () => {
    using h = new Harness(prepared.keyed);
    await h.unlock('clinician');
    expect(await h.ok('files.pickCsv', {})).toBe(SAMPLE);
    const preview = await h.ok('import.preview', { path: SAMPLE });
    expect(preview).toMatchObject({ file: 'pilot-vitals.csv', schema: 'vitals', hospitalColumn: 'hospital_id', patientColumn: 'patient_id' });
    const outcome = await h.ok('import.run', { jobId: 'import-1', path: SAMPLE });
    if (!outcome.ok) throw new Error('import rejected');
    expect(outcome.result).toMatchObject({ rows: 19, labeledRows: 19, hospitals: ['H-CENTRAL', 'H-NORTH', 'H-SOUTH'] });
    expect(h.progress.some((p) => p.jobId === 'import-1' && p.phase === 'encrypting')).toBe(true);
    expect((await h.ok('patients.overview', {})).batches.map((b) => b.id)).toEqual([outcome.result.batchId]);
  });

  it('rejects a bad CSV whole, with row numbers and without echoing its cells', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('clinician');
    const lines = readFileSync(SAMPLE, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('37.1', 'XYZZY-hot');
    lines[5] = lines[5]!.replace(/,96,0$/, ',150,0');
    const bad = join(h.dir, 'bad.csv');
    writeFileSync(bad, lines.join('\n'));
    h.picked = bad;
    await h.ok('files.pickCsv', {});
    // Checked first, every row, nothing stored: the same problems the import will name.
    const checked = await h.ok('import.check', { jobId: 'check-bad', path: bad });
    expect(checked).toMatchObject({ file: 'bad.csv', rows: 17, invalidRows: 2, totalIssues: 2 });
    expect(checked.issues.map((i) => [i.row, i.column])).toEqual([
      [3, 'temperature_c'],
      [6, 'spo2'],
    ]);
    expect(JSON.stringify(checked)).not.toContain('XYZZY');
    expect((await h.ok('patients.overview', {})).batches).toHaveLength(1);
    const outcome = await h.ok('import.run', { jobId: 'import-bad', path: bad });
    if (outcome.ok) throw new Error('a bad file was imported');
    expect(outcome.totalIssues).toBe(2);
    expect(outcome.issues.map((i) => [i.row, i.column])).toEqual([
      [3, 'temperature_c'],
      [6, 'spo2'],
    ]);
    expect(JSON.stringify(outcome)).not.toContain('XYZZY');
    expect((await h.ok('patients.overview', {})).batches).toHaveLength(1);
  });

  it('cancels a running import, storing nothing', async () => {
    using h = new Harness(prepared.keyed);
    await h.unlock('clinician');
    await h.ok('files.pickCsv', {});
    const running = h.call('import.run', { jobId: 'import-2', path: SAMPLE });
    expect(await h.ok('jobs.cancel', { jobId: 'import-2' })).toEqual({ cancelled: true });
    const envelope = await running;
    expect(envelope.ok ? 'stored' : envelope.error.name).toMatch(/Cancelled|Abort/);
    expect(await h.ok('jobs.cancel', { jobId: 'import-2' })).toEqual({ cancelled: false });
    expect((await h.ok('patients.overview', {})).batches).toHaveLength(0);
  });

  it('keeps a clinician away from prediction and decryption', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('clinician');
    const e = await h.refused('predict.run', { jobId: 'p', modelId: prepared.modelId, batchIds: [prepared.batchId] });
    expect(e.name).toBe('PermissionError');
    expect(e.message).toMatch(/the clinician role may not use predict\.run/);
    expect((await h.refused('predictions.decrypt', { runId: 1 })).message).toMatch(/clinician/);
  });

  it('lists patient metadata page by page', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('clinician');
    const page = await h.ok('patients.list', { batchId: prepared.batchId, offset: 5, limit: 4 });
    expect(page.total).toBe(19);
    expect(page.patients.map((p) => p.patientId)).toEqual(['P-0006', 'P-0007', 'P-0008', 'P-0009']);
  });

  it('refuses a wrong passphrase and switches to the researcher role with the right one', async () => {
    using h = new Harness(prepared.keyed);
    await h.unlock('clinician');
    const wrong = await h.refused('keys.unlock', { custody: 'passphrase', passphrase: 'not the passphrase', role: 'researcher' });
    expect(wrong).toMatchObject({ name: 'VaultError' });
    expect(await h.ok('session.status', {})).toMatchObject({ role: 'clinician' });
    expect((await h.unlock('researcher')).role).toBe('researcher');
  });

  it('trains on the sample with a held-out check', async () => {
    using h = new Harness(prepared.keyed);
    await h.unlock('researcher');
    await h.ok('files.pickCsv', {});
    const r = await h.ok('models.train', { jobId: 'train-1', path: SAMPLE, testFraction: 0.3, seed: 11 });
    expect(r.check.nTrain + r.check.nTest).toBe(19);
    expect(r.check.fidelity.labelAgreement).toBeGreaterThan(0.8);
    expect(r.model.features.map((f) => f.name)).toContain('spo2');
    expect((await h.ok('models.list', {})).map((m) => m.id)).toEqual([r.model.id]);
  });

  it('predicts on ciphertexts, decrypts 19 probabilities, evaluates and exports', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('researcher');
    const { modelId, batchId } = prepared;
    // A prediction that fails stores nothing and is recorded all the same.
    expect((await h.refused('predict.run', { jobId: 'predict-0', modelId, batchIds: [999] })).message).toMatch(/batch 999/);
    const run = await h.ok('predict.run', { jobId: 'predict-1', modelId, batchIds: [batchId] });
    expect(run).toMatchObject({ modelId, batchIds: [batchId], patients: 19, scaling: 'folded' });
    const runId = run.id;
    expect((await h.ok('predict.runs', {})).map((r) => r.id)).toEqual([runId]);

    expect(await h.ok('predictions.decrypt', { runId })).toEqual({ runId, patients: 19, atRisk: 3 });
    const page = { runId, offset: 0, limit: 500, sort: { key: 'probability', direction: 'desc' }, filter: { text: '', atRiskOnly: false } } as const;
    const all = await h.ok('predictions.page', page);
    expect(all.matching).toBe(19);
    const predictions = all.rows;
    expect(predictions).toHaveLength(19);
    expect(predictions.map((p) => p.probability)).toEqual(predictions.map((p) => p.probability).sort((a, b) => b - a));
    const second = await h.ok('predictions.page', { ...page, offset: 5, limit: 5 });
    expect(second.rows).toEqual(predictions.slice(5, 10));
    expect((await h.refused('predictions.page', { ...page, limit: 501 })).message).toMatch(/limit: Too big: expected number to be <=500/);
    for (const p of predictions) {
      expect(p.probability).toBeGreaterThanOrEqual(0);
      expect(p.probability).toBeLessThanOrEqual(1);
      expect(p.atRisk).toBe(p.probability >= 0.5);
    }
    const atRisk = await h.ok('predictions.page', { ...page, sort: { key: 'patientId', direction: 'asc' }, filter: { text: '', atRiskOnly: true } });
    expect(atRisk.rows.map((p) => p.patientId)).toEqual(['P-0004', 'P-0010', 'P-0017']);

    const evaluation = await h.ok('evaluate.run', { runId });
    expect(evaluation.labeled).toBe(19);
    expect(evaluation.histogram.reduce((a, b) => a + b.patients, 0)).toBe(19);
    expect(evaluation.roc[0]!.threshold).toBeNull();
    // The model was trained on the very file this batch was imported from: the evaluation says so.
    expect(evaluation.trainedOn).toEqual([batchId]);

    h.savePath = join(h.dir, 'predictions.csv');
    expect(await h.ok('predictions.exportCsv', { runId })).toEqual({ path: h.savePath, rows: 19 });
    const csv = readFileSync(h.savePath, 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('batch_id,hospital,patient_id,probability,at_risk');
    expect(csv).toHaveLength(20);
    h.savePath = null;
    expect(await h.ok('predictions.exportCsv', { runId })).toEqual({ path: null, rows: 0 });
  });

  it('names a model and a run for people, records it, and shows no name edited in the .db file', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('researcher');
    const { modelId } = prepared;
    const runId = await h.predictRun();
    expect(await h.ok('names.set', { what: 'model', id: modelId, name: '  Pilot\tvitals\u0007 model ' })).toEqual({ name: 'Pilot vitals model' });
    expect(await h.ok('names.set', { what: 'run', id: String(runId), name: 'Ward 7, first look' })).toEqual({ name: 'Ward 7, first look' });
    expect((await h.ok('models.list', {})).find((m) => m.id === modelId)).toMatchObject({ name: 'Pilot vitals model', trainedBy: expect.stringMatching(/ \(researcher\)$/) });
    expect((await h.ok('predict.runs', {})).find((r) => r.id === runId)?.name).toBe('Ward 7, first look');
    expect((await h.refused('names.set', { what: 'run', id: '999', name: 'x' })).message).toMatch(/no prediction run 999/);
    expect((await h.refused('names.set', { what: 'model', id: modelId, name: 'x'.repeat(81) })).message).toMatch(/at most 80 characters/);
    // Whoever holds the file relabels the model: the tag no longer matches and the name is not shown.
    const db = h.db();
    try {
      db.prepare("UPDATE names SET name = 'Validated by the ethics board' WHERE kind = 'model'").run();
    } finally {
      db.close();
    }
    expect((await h.ok('models.list', {})).find((m) => m.id === modelId)?.name).toBeNull();
    expect((await h.ok('predict.runs', {})).find((r) => r.id === runId)?.name).toBe('Ward 7, first look');
    await h.ok('keys.lock', {});
    await h.unlock('auditor');
    expect((await h.ok('audit.list', { action: 'name' })).map((e) => e.detail)).toEqual([
      { what: 'model', id: modelId, name: 'Pilot vitals model', via: 'app' },
      { what: 'run', id: String(runId), name: 'Ward 7, first look', via: 'app' },
    ]);
  });

  it('signs a report into the chosen folder, evaluated for the researcher, and verifies it from disk', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('researcher');
    const runId = await h.predictRun();
    expect((await h.refused('reports.generate', { formats: ['json'] })).message).toMatch(/passphrase custody needs a passphrase/);
    expect((await h.refused('reports.generate', { passphrase: 'not the passphrase' })).name).toBe('VaultError');
    expect((await h.refused('reports.verify', {})).message).toMatch(/generate one first/);
    // Cancelling the folder dialog writes nothing.
    expect(await h.ok('reports.generate', { passphrase: PASSPHRASE })).toBeNull();

    const reportDir = join(h.dir, 'report');
    h.reportDir = reportDir;
    const r = await h.ok('reports.generate', { passphrase: PASSPHRASE, formats: ['pdf', 'json'] });
    if (!r) throw new Error('no report');
    expect(r.files.map((f) => f.name)).toEqual([`${r.name}.pdf`, `${r.name}.json`]);
    expect(readdirSync(reportDir).sort()).toEqual([...r.files.map((f) => f.name), r.manifest, r.signature].sort());
    expect(sha256Hex(readFileSync(join(reportDir, r.manifest)))).toBe(r.manifestSha256);
    expect(r).toMatchObject({
      directory: reportDir,
      generatedBy: { role: 'researcher' },
      totals: { hospitals: 3, batches: 1, patients: 19, labeled: 19 },
      model: { id: prepared.modelId, sigmoidDegree: 3 },
      evaluation: { evaluated: true, runId, labeled: 19 },
      audit: { chainOk: true },
    });

    expect(await h.ok('reports.verify', {})).toMatchObject({ ok: true, report: r.name, files: 2, signer: { role: 'researcher', fingerprint: r.signer } });
    h.savePath = join(h.dir, 'report-key.pem');
    expect(await h.ok('reports.publicKey', {})).toEqual({ path: h.savePath, fingerprint: r.signer });
    expect(readFileSync(h.savePath, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);

    const pdf = join(reportDir, `${r.name}.pdf`);
    const bytes = readFileSync(pdf);
    bytes[bytes.length >> 1]! ^= 1;
    writeFileSync(pdf, bytes);
    expect(await h.ok('reports.verify', {})).toMatchObject({ ok: false, file: `${r.name}.pdf` });
  });

  it('benchmarks in a throwaway workspace and keeps the figures', async () => {
    using h = new Harness(prepared.keyed);
    await h.unlock('researcher');
    const bench = await h.ok('bench.run', { jobId: 'bench-1', patients: 40 });
    expect(bench).toMatchObject({ patients: 40, preset: 'standard' });
    expect((await h.ok('bench.history', {})).map((b) => b.id)).toEqual([bench.id]);
  });

  it('locks: the key is gone, decryption is refused, and the decrypted run held in main is gone with it', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('researcher');
    const runId = await h.predictRun();
    const page = { runId, offset: 0, limit: 5, sort: { key: 'probability', direction: 'desc' }, filter: { text: '', atRiskOnly: false } } as const;
    await h.ok('predictions.decrypt', { runId });
    expect((await h.ok('predictions.page', page)).rows).toHaveLength(5);
    expect(await h.ok('keys.lock', {})).toMatchObject({ unlocked: false, role: null });
    expect((await h.refused('predictions.decrypt', { runId })).message).toMatch(/locked/);
    expect((await h.refused('predictions.page', page)).message).toMatch(/locked/);
    // The same key holder back a moment later finds nothing held: Lock cleared it, it is not merely hidden.
    await h.unlock('researcher');
    expect((await h.refused('predictions.page', page)).message).toMatch(/not decrypted in this session \(or was cleared on lock\)/);
  });

  it('gives the auditor a verifiable log of ids and counts, and nothing to import or decrypt', async () => {
    using h = new Harness(prepared.imported);
    const { modelId, batchId } = prepared;
    // A researcher's session leaves one entry of each kind: a refused import, a failed and a good prediction,
    // decryption, evaluation, export, a benchmark, the lock.
    await h.unlock('researcher');
    h.picked = join(h.dir, 'bad.csv');
    writeFileSync(h.picked, readFileSync(SAMPLE, 'utf8').replace('37.1', 'hot'));
    await h.ok('files.pickCsv', {});
    expect((await h.ok('import.run', { jobId: 'bad', path: h.picked })).ok).toBe(false);
    await h.refused('predict.run', { jobId: 'predict-0', modelId, batchIds: [999] });
    const runId = await h.predictRun();
    await h.ok('predictions.decrypt', { runId });
    await h.ok('evaluate.run', { runId });
    h.savePath = join(h.dir, 'predictions.csv');
    await h.ok('predictions.exportCsv', { runId });
    await h.ok('bench.run', { jobId: 'bench', patients: 40 });
    await h.ok('keys.lock', {});

    // The auditor unlocks nothing: no passphrase, no key.
    await h.unlock('auditor');
    expect((await h.refused('files.pickCsv', {})).message).toMatch(/the auditor role may not/);
    expect((await h.refused('predictions.decrypt', { runId })).message).toMatch(/auditor/);
    const log = await h.ok('audit.list', {});
    const actions = new Set(log.map((e) => e.action));
    expect(log.find((e) => e.action === 'predict-failed')?.detail).toMatchObject({ modelId, batchIds: [999], reason: expect.stringMatching(/batch 999/) });
    for (const a of ['keygen', 'unlock', 'import', 'import-rejected', 'train', 'predict', 'predict-failed', 'decrypt', 'evaluate', 'export', 'bench', 'lock', 'decrypt-refused']) {
      expect(actions, a).toContain(a);
    }
    expect(log.find((e) => e.action === 'import')).toMatchObject({ role: 'clinician', detail: { batchId, rows: 19 } });
    // Each unlock recorded what its credential held; the role follows from it.
    const unlocks = log.filter((e) => e.action === 'unlock').map((e) => [e.role, e.detail['holds']]);
    expect(unlocks).toEqual([
      ['clinician', 'integrity-key'],
      ['researcher', 'secret-key'],
      ['researcher', 'secret-key'],
      ['auditor', 'nothing'],
    ]);
    expect((await h.ok('audit.list', { action: 'decrypt', limit: 1 })).map((e) => e.action)).toEqual(['decrypt']);
    expect((await h.refused('audit.list', { action: 'nonsense' })).message).toMatch(/unknown audit action/);
    expect((await h.ok('audit.verify', {})).ok).toBe(true);
    h.savePath = join(h.dir, 'audit.jsonl');
    const exported = await h.ok('audit.export', {});
    expect(exported.path).toBe(h.savePath);
    expect(readFileSync(h.savePath, 'utf8').trim().split('\n')).toHaveLength(exported.entries);
    expect(await h.ok('patients.overview', {})).toMatchObject({ batches: [{ id: batchId, rows: 19, integrity: 'ok' }] });
  });

  it('lets the auditor verify a report from its folder with public material, and refuses one signed by another key', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('researcher');
    await h.predictRun();
    const reportDir = join(h.dir, 'report');
    h.reportDir = reportDir;
    await h.ok('reports.generate', { passphrase: PASSPHRASE, formats: ['json'] });
    await h.ok('keys.lock', {});

    await h.unlock('auditor');
    expect((await h.refused('reports.generate', { passphrase: PASSPHRASE })).message).toMatch(/the auditor role may not use reports\.generate/);
    const verified = await h.ok('reports.verify', { source: 'folder' });
    expect(verified).toMatchObject({ ok: true, signer: { role: 'researcher' } });

    // A forger copies the report, changes a file and re-signs the manifest with a key of their own, which they
    // put in the manifest: internally consistent, but not a key this workspace ever recorded.
    const forged = join(h.dir, 'report-forged');
    mkdirSync(forged);
    const manifest = readdirSync(reportDir).find((f) => f.endsWith('.manifest.json'))!;
    const name = manifest.slice(0, -'.manifest.json'.length);
    const json = readFileSync(join(reportDir, `${name}.json`));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = { privateKey, publicKey, fingerprint: publicKeyFingerprint(publicKey), created: true };
    const signer = { user: 'researcher', role: 'researcher' };
    const files = [{ name: `${name}.json`, bytes: Buffer.from(json.toString('utf8').replace(/"patients": 19/, '"patients": 20')) }];
    const signed = signManifest({ report: name, signedAt: new Date().toISOString(), appVersion: '0', keySet: 'f'.repeat(64), signer, files }, key);
    writeFileSync(join(forged, files[0]!.name), files[0]!.bytes);
    writeFileSync(join(forged, manifest), signed.manifestBytes);
    writeFileSync(join(forged, `${name}.manifest.sig`), signed.signature);
    h.reportDir = forged;
    const refusedForgery = await h.ok('reports.verify', { source: 'folder' });
    expect(refusedForgery).toMatchObject({ ok: false, problem: expect.stringMatching(/never recorded as its report key/) });
    h.reportDir = null;
    expect(await h.ok('reports.verify', { source: 'folder' })).toBeNull();
    expect((await h.ok('audit.list', { action: 'keygen' })).map((e) => e.detail['key'])).toEqual(['key-set', 'clinician-credential', 'report-signing']);
  });

  it('never puts a vital value in any payload but the pages of decrypted predictions', async () => {
    const vitals = sampleVitals();
    expect(vitals.length).toBeGreaterThan(20);
    for (const v of vitals) expect(readFileSync(SAMPLE, 'utf8'), 'the matcher finds the value in the sample itself').toMatch(v);

    // Every step a file's values pass through, from the clinician's preview to the auditor's export.
    using h = new Harness(prepared.keyed);
    await h.unlock('clinician');
    await h.ok('files.pickCsv', {});
    await h.ok('import.preview', { path: SAMPLE });
    await h.ok('import.check', { jobId: 'check', path: SAMPLE });
    const imported = await h.ok('import.run', { jobId: 'import', path: SAMPLE });
    if (!imported.ok) throw new Error('not imported');
    const batchId = imported.result.batchId;
    await h.ok('patients.list', { batchId, offset: 0, limit: 50 });
    await h.unlock('researcher');
    const { model } = await h.ok('models.train', { jobId: 'train', path: SAMPLE, testFraction: 0.3, seed: 11 });
    const runId = (await h.ok('predict.run', { jobId: 'predict', modelId: model.id, batchIds: [batchId] })).id;
    await h.ok('predictions.decrypt', { runId });
    await h.ok('predictions.page', { runId, offset: 0, limit: 500, sort: { key: 'probability', direction: 'desc' }, filter: { text: '', atRiskOnly: false } });
    await h.ok('evaluate.run', { runId });
    await h.ok('models.list', {});
    await h.ok('predict.runs', {});
    await h.ok('privacy.status', {});
    h.reportDir = join(h.dir, 'report');
    await h.ok('reports.generate', { passphrase: PASSPHRASE, formats: ['json'] });
    await h.ok('keys.lock', {});
    await h.unlock('auditor');
    await h.ok('patients.overview', {});
    await h.ok('audit.list', {});
    h.savePath = join(h.dir, 'audit.jsonl');
    await h.ok('audit.export', {});

    expect(h.seen.filter((s) => s.channel === 'predictions.page')).toHaveLength(1);
    const payloads = h.seen.filter((s) => s.channel !== 'predictions.page').map((s) => JSON.stringify(s.envelope));
    payloads.push(readFileSync(h.savePath, 'utf8'));
    for (const text of payloads) for (const v of vitals) expect(text).not.toMatch(v);
  });

  it('flags a batch whose stored ciphertext was altered', async () => {
    using h = new Harness(prepared.imported);
    await h.unlock('auditor');
    expect((await h.ok('patients.overview', {})).batches[0]?.integrity).toBe('ok');
    const db = h.db();
    try {
      db.prepare('UPDATE ciphertexts SET bytes = zeroblob(LENGTH(bytes)) WHERE id = (SELECT MIN(id) FROM ciphertexts)').run();
    } finally {
      db.close();
    }
    expect((await h.ok('patients.overview', {})).batches[0]?.integrity).toBe('damaged');
  });

  it('locks itself after the idle time', async () => {
    using h = new Harness(prepared.keyed, 300);
    await h.unlock('auditor');
    expect(await h.ok('session.status', {})).toMatchObject({ unlocked: true });
    await new Promise((r) => setTimeout(r, 600));
    expect(await h.ok('session.status', {})).toMatchObject({ unlocked: false, role: null });
    await h.unlock('auditor');
    const locks = await h.ok('audit.list', { action: 'lock' });
    expect(locks.at(-1)?.detail).toMatchObject({ reason: 'idle' });
  });
});

describe('a clinician’s messy file through the API', () => {
  it('shows an undecided unit as needed, refuses to import it, imports once it is chosen, and skips invalid rows on request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homopai-api-units-'));
    const csv = join(dir, 'ward.csv');
    const [header, ...rows] = readFileSync(SAMPLE, 'utf8').trim().split('\n');
    // Weights of 60-90 are plausible in kg and in lb alike: only the clinician knows which.
    const body = rows.map((r, i) => `${r},${60 + i}`);
    body[4] = body[4]!.replace(/,(\d+)$/, ',n.a.');
    writeFileSync(csv, `${header},Weight\n${body.join('\n')}\n`);
    const api = createApi({ workspaceDir: join(dir, 'ws'), pickCsv: async () => csv, pickBundle: async () => null, pickSavePath: async () => null, pickDirectory: async () => null, emit: () => undefined });
    const ok = async <C extends Channel>(channel: C, req: Req<C>): Promise<Res<C>> => {
      const e = await api.invoke(channel, req);
      if (!e.ok) throw new Error(`${channel}: ${e.error.message}`);
      return e.value as Res<C>;
    };
    try {
      await ok('keys.create', { preset: 'standard', custody: 'passphrase', passphrase: PASSPHRASE, clinicianPassphrase: CLINICIANS });
      await ok('keys.lock', {});
      await ok('keys.unlock', { custody: 'passphrase', passphrase: CLINICIANS, role: 'clinician' });
      await ok('files.pickCsv', {});

      const preview = await ok('import.preview', { path: csv });
      const weight = preview.features.find((f) => f.source === 'Weight');
      expect(weight).toMatchObject({ recognisedAs: 'weight', sourceUnit: { from: 'needed' }, unitChoices: [{ id: 'kg' }, { id: 'lb' }] });
      expect(preview.features.find((f) => f.source === 'temperature_c')).toMatchObject({ sourceUnit: { id: 'C', from: 'header' }, range: [25, 45] });

      const undecided = await ok('import.run', { jobId: 'undecided', path: csv });
      expect(undecided.ok).toBe(false);
      if (undecided.ok) return;
      expect(undecided.issues[0]).toMatchObject({ column: 'Weight', message: expect.stringMatching(/header names no unit.*--unit "Weight=kg"/) });

      const options = { units: { Weight: 'lb' }, invalid: 'skip' as const };
      expect((await ok('import.preview', { path: csv, options })).features.find((f) => f.source === 'Weight')).toMatchObject({
        sourceUnit: { id: 'lb', from: 'option' },
        conversion: 'lb → kg',
      });
      const done = await ok('import.run', { jobId: 'decided', path: csv, options });
      if (!done.ok) throw new Error('not imported');
      expect(done.result).toMatchObject({ rows: 18, rejected: { rows: 1, issues: [{ row: 6, column: 'Weight' }] } });
      expect(readFileSync(done.result.rejected.report!, 'utf8')).toMatch(/row 6.*Weight/);
    } finally {
      api.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('key rotation through the API', () => {
  it('refuses a wrong passphrase before generating anything, then rotates and keeps every prediction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homopai-api-rotate-'));
    const api = createApi({ workspaceDir: join(dir, 'ws'), pickCsv: async () => SAMPLE, pickBundle: async () => null, pickSavePath: async () => null, pickDirectory: async () => null, emit: () => undefined });
    const ok = async <C extends Channel>(channel: C, req: Req<C>): Promise<Res<C>> => {
      const e = await api.invoke(channel, req);
      if (!e.ok) throw new Error(`${channel}: ${e.error.name}: ${e.error.message}`);
      return e.value as Res<C>;
    };
    try {
      await ok('keys.create', { preset: 'standard', custody: 'passphrase', passphrase: PASSPHRASE });
      await ok('files.pickCsv', {});
      const imported = await ok('import.run', { jobId: 'i', path: SAMPLE });
      if (!imported.ok) throw new Error('not imported');
      const model = await ok('models.train', { jobId: 't', path: SAMPLE, testFraction: 0 });
      const run = await ok('predict.run', { jobId: 'p', modelId: model.model.id, batchIds: [imported.result.batchId] });
      const before = await ok('predictions.decrypt', { runId: run.id });

      const wrong = await api.invoke('keys.rotate', { jobId: 'r0', old: 'destroy', passphrase: 'not the passphrase' });
      expect(wrong).toMatchObject({ ok: false, error: { name: 'VaultError' } });
      expect((await ok('keys.list', {})).map((k) => k.state)).toEqual(['active']);

      const r = await ok('keys.rotate', { jobId: 'r1', old: 'destroy', passphrase: PASSPHRASE });
      expect(r).toMatchObject({ resumed: false, ciphertexts: 6, predictionBlocks: 1, old: 'destroy' });
      expect((await ok('keys.list', {})).map((k) => [k.fingerprint === r.to.fingerprint, k.state])).toEqual([
        [true, 'active'],
        [false, 'retired'],
      ]);
      // The session carries on under the new key set: the earlier run decrypts to the same probabilities.
      expect(await ok('session.status', {})).toMatchObject({ role: 'researcher', keySet: { fingerprint: r.to.fingerprint } });
      expect(await ok('predictions.decrypt', { runId: run.id })).toEqual(before);
      const rotations = await ok('keys.lock', {}).then(() => ok('keys.unlock', { custody: 'passphrase', role: 'auditor' })).then(() => ok('audit.list', { action: 'rotate' }));
      expect(rotations.map((e) => e.detail['phase'])).toEqual(['start', 'commit', 'old-key']);
    } finally {
      api.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('keychain custody through the API', () => {
  // Needs a Secret Service: run under scripts/with-keyring.sh; skipped where there is none.
  it('creates, locks and unlocks a key set held by the OS keychain', async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), 'homopai-api-kc-'));
    const api = createApi({ workspaceDir: dir, pickCsv: async () => null, pickBundle: async () => null, pickSavePath: async () => null, pickDirectory: async () => null, emit: () => undefined });
    try {
      const status = await api.invoke('session.status', {});
      if (!status.ok) throw new Error(status.error.message);
      if (!(status.value as Res<'session.status'>).keychainAvailable) {
        // CI must exercise the keychain: it fails there rather than passing by skipping.
        if (process.env.CI === 'true') throw new Error('no Secret Service here: CI runs the tests under scripts/with-keyring.sh');
        ctx.skip();
      }
      const created = await api.invoke('keys.create', { preset: 'standard', custody: 'keychain' });
      expect(created).toMatchObject({ ok: true, value: { unlocked: true, keySet: { custody: 'keychain' } } });
      await api.invoke('keys.lock', {});
      // With keychain custody the clinicians' credential is in the keychain too.
      const unlocked = await api.invoke('keys.unlock', { custody: 'keychain', role: 'clinician' });
      expect(unlocked).toMatchObject({ ok: true, value: { unlocked: true, role: 'clinician' } });
    } finally {
      api.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CSV export', () => {
  it('neutralises cells a spreadsheet would run as formulas', () => {
    expect(csvText('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    for (const lead of ['+', '-', '@', '\t', '\r']) expect(csvText(`${lead}1`).replace(/^"/, '')).toMatch(/^'/);
    expect(csvText('H-NORTH')).toBe('H-NORTH');
    expect(csvText('a,b')).toBe('"a,b"');
    expect(predictionsCsv([{ batchId: 1, hospital: '@evil', patientId: 'P1', probability: 0.25, atRisk: false }])).toBe(
      "batch_id,hospital,patient_id,probability,at_risk\r\n1,'@evil,P1,0.25,0\r\n",
    );
  });
});

describe('renderer trust', () => {
  const built = rendererTrust({ rendererDir: '/app/out/renderer' });
  const dev = rendererTrust({ rendererDir: '/app/out/renderer', devServerUrl: 'http://localhost:5173/' });

  it('accepts only our own page as a caller', () => {
    expect(built.isRendererPage('file:///app/out/renderer/index.html')).toBe(true);
    expect(built.isRendererPage('file:///app/out/renderer/index.html#/patients')).toBe(true);
    expect(built.isRendererPage('file:///app/out/renderer/other.html')).toBe(false);
    expect(built.isRendererPage('https://example.org/')).toBe(false);
    expect(built.isRendererPage('not a url')).toBe(false);
    expect(dev.isRendererPage('http://localhost:5173/')).toBe(true);
    expect(dev.isRendererPage('http://localhost:5174/')).toBe(false);
  });

  it('lets the renderer load its own files and nothing remote', () => {
    expect(built.mayLoad('file:///app/out/renderer/assets/index.js')).toBe(true);
    expect(built.mayLoad('file:///app/out/renderer/../main/index.js')).toBe(false);
    expect(built.mayLoad('file:///etc/passwd')).toBe(false);
    expect(built.mayLoad('https://cdn.example.org/x.js')).toBe(false);
    expect(built.mayLoad('data:image/png;base64,AAAA')).toBe(true);
    expect(dev.mayLoad('ws://localhost:5173/?token=x')).toBe(true);
    expect(dev.mayLoad('http://localhost:8080/')).toBe(false);
  });
});
