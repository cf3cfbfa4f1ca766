/**
 * The user journey in real Chromium against the real services, through the loopback bridge: the built
 * renderer (out/renderer) exactly as the app ships it, CKKS keys, encryption and inference included.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptBundle } from '../../src-main/services/bundle-encrypt.ts';
import { HospitalIdentity } from '../../src-main/federation/identity.ts';
import { kitJson, parseKit } from '../../src-main/federation/kit.ts';
import { writeCohortCsv } from '../../src-main/ingest/synthetic-cohort.ts';
import { Workspace } from '../../src-main/store/workspace.ts';
import { type Bridge, startBridge } from './bridge.ts';
import { valuesInHeap } from './heap-probe.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const RENDERER = join(ROOT, 'out/renderer');
const SAMPLE = join(ROOT, 'resources/sample/pilot-vitals.csv');
const SCREENSHOTS = join(ROOT, 'test-results/screenshots');
const CHROMIUM = '/usr/bin/chromium';
const PASSPHRASE = 'journey passphrase 2025';
// Key generation, encryption and encrypted inference each take seconds on a slow CI core.
const CKKS_MS = 180_000;

type Role = 'clinician' | 'researcher' | 'auditor';

let tmp: string;
let bridge: Bridge;
let context: BrowserContext;
let page: Page;
let picked: string | null = null;
let pickedBundle: string | null = null;
const pageErrors: string[] = [];
/** Every decrypted probability the renderer was sent (pages of results), as the bridge delivered them. */
const received = new Set<number>();

/** Pages wider than the window (they would scroll sideways), at either size, as `name: width`. */
const overflowing: string[] = [];

/**
 * Screenshots at 1280 px and at 1024x700 (the smallest window the app supports). At 1024 px the page must not
 * be wider than the window: a table or a long fingerprint that pushes it wider is recorded and fails the test.
 */
async function shot(name: string): Promise<void> {
  // A full-page capture of a scrolled page draws the sticky header mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const wide = page.viewportSize()!;
  const wideWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  if (wideWidth > wide.width) overflowing.push(`${name} at ${wide.width}: ${wideWidth}`);
  await page.setViewportSize({ width: 1024, height: 700 });
  try {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 1024) overflowing.push(`${name}: ${width}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SCREENSHOTS, `${name}@1024.png`), fullPage: true });
  } finally {
    await page.setViewportSize(wide);
  }
}

/** The clinicians' credential: it opens the integrity key only. */
const CLINICIANS = 'journey clinicians 2025';

/**
 * Creates the key set on first use (as its key holder), unlocks it afterwards with the credential the role holds:
 * the researcher's passphrase, the clinicians' one, or none for the auditor.
 */
async function signIn(role: Role): Promise<void> {
  if (await page.getByTestId('lock').isVisible()) {
    await page.getByTestId('lock').click();
  }
  await page.getByTestId('unlock-view').waitFor();
  const creating = await page.getByTestId('preset-standard').isVisible();
  if (creating) {
    if (role !== 'researcher') throw new Error('the key set is created by its key holder');
    await page.getByTestId('preset-standard').check();
    await page.getByTestId('custody-passphrase').check();
    await page.getByTestId('passphrase').fill(PASSPHRASE);
    await page.getByTestId('passphrase-confirm').fill(PASSPHRASE);
    await page.getByTestId('clinician-passphrase').fill(CLINICIANS);
  } else {
    await page.getByTestId(`role-${role}`).check();
    if (role !== 'auditor') await page.getByTestId('passphrase').fill(role === 'researcher' ? PASSPHRASE : CLINICIANS);
    else expect(await page.getByTestId('passphrase').count()).toBe(0);
  }
  await page.getByTestId('unlock-submit').click();
  await page.getByTestId('role').filter({ hasText: role }).waitFor({ timeout: CKKS_MS });
}

async function go(view: string): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
  await page.getByTestId(`${view}-view`).waitFor();
}

async function expectChart(testid: string): Promise<void> {
  await page.locator(`[data-testid=${testid}] svg`).first().waitFor({ timeout: 30_000 });
}

beforeAll(async () => {
  if (!existsSync(join(RENDERER, 'index.html'))) {
    throw new Error(`${join(RENDERER, 'index.html')} is missing: run \`npx electron-vite build\` before the e2e tests`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'homopai-journey-'));
  mkdirSync(join(tmp, 'exports'));
  bridge = await startBridge({
    workspaceDir: join(tmp, 'workspace'),
    rendererDir: RENDERER,
    pickCsv: () => picked,
    pickBundle: () => pickedBundle,
    savePath: (name) => join(tmp, 'exports', name),
    pickDirectory: () => join(tmp, 'reports'),
  });
  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('response', async (r) => {
    if (!r.url().endsWith('/__bridge/invoke') || !r.request().postData()?.includes('"channel":"predictions.page"')) return;
    const body = (await r.json()) as { ok: boolean; value?: { rows: { probability: number }[] } };
    for (const row of body.value?.rows ?? []) received.add(row.probability);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Uncaught|\[Vue warn\]/.test(m.text())) pageErrors.push(m.text());
  });
  await page.goto(bridge.url);
});

afterAll(async () => {
  await context?.close();
  await bridge?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('HomoPAI in Chromium', () => {
  it(
    'creates a key set, imports, trains, predicts, evaluates, benchmarks, signs a report and shows a verified activity log',
    async () => {
      await page.getByTestId('unlock-view').waitFor();
      await page.getByTestId('preset-standard').waitFor();
      await shot('01-create-key-set');
      await signIn('researcher');
      await expect(page.getByTestId('key-fingerprint').innerText()).resolves.toMatch(/[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}/);

      // Import: the researcher's first view.
      await page.getByTestId('import-view').waitFor();
      picked = SAMPLE;
      await page.getByTestId('choose-csv').click();
      await page.getByTestId('import-preview').waitFor();
      await expect(page.getByTestId('preview-schema').innerText()).resolves.toBe('vitals');
      await expect(page.getByTestId('preview-feature').count()).resolves.toBe(5);
      await shot('02-import-preview');
      await page.getByTestId('run-import').click();
      await page.getByTestId('import-result').waitFor({ timeout: CKKS_MS });
      await expect(page.getByTestId('import-rows').innerText()).resolves.toBe('19');
      await shot('03-import-done');

      await go('patients');
      await page.getByTestId('batch-row').waitFor();
      await expect(page.getByTestId('batch-rows').innerText()).resolves.toBe('19');
      await expect(page.getByTestId('total-patients').innerText()).resolves.toBe('19 patients');
      await expect(page.getByTestId('integrity').innerText()).resolves.toBe('Intact');
      await page.getByTestId('batch-row').getByRole('button', { name: 'Patients' }).click();
      await page.getByTestId('patients-range').filter({ hasText: '1–19 of 19' }).waitFor();
      await expect(page.getByTestId('patient-row').count()).resolves.toBe(19);
      await shot('04-patients');

      await go('predict');
      await page.getByTestId('train-pick').click();
      await page.getByTestId('train-file').filter({ hasText: 'pilot-vitals.csv' }).waitFor();
      await page.getByTestId('train-run').click();
      await page.getByTestId('train-result').waitFor({ timeout: CKKS_MS });
      await page.getByTestId('fidelity').waitFor();
      await page.getByTestId('predict-run').filter({ hasText: 'Predict 19 patients' }).click();
      await page.getByTestId('results-table').waitFor({ timeout: CKKS_MS });
      await expect(page.getByTestId('result-row').count()).resolves.toBe(19);
      await expect(page.getByTestId('results-count').innerText()).resolves.toBe('19 of 19 patients');
      await page.getByTestId('results-filter').fill('H-NORTH');
      await expect.poll(() => page.getByTestId('result-row').count()).toBe(7);
      await expect(page.getByTestId('results-count').innerText()).resolves.toBe('7 of 19 patients');
      await page.getByTestId('results-filter').fill('');
      await expect.poll(() => page.getByTestId('result-row').count()).toBe(19);
      // The model and the run get names people read beside their ids.
      await page.getByTestId('model-name-input').fill('Pilot vitals model');
      await page.getByTestId('model-name-save').click();
      await page.locator('[data-testid=predict-model] option').filter({ hasText: 'Pilot vitals model' }).waitFor({ state: 'attached' });
      await page.getByTestId('run-name-input').fill('Ward check, December');
      await page.getByTestId('run-name-input').press('Enter');
      await page.locator('[data-testid=results-run] option').filter({ hasText: 'Ward check, December' }).waitFor({ state: 'attached' });
      await page.getByTestId('export-csv').click();
      await page.getByTestId('banner').filter({ hasText: '19 predictions saved' }).waitFor();
      const csv = readFileSync(join(tmp, 'exports', 'homopai-run-1-predictions.csv'), 'utf8');
      expect(csv.trim().split(/\r?\n/)).toHaveLength(20);
      await page.getByTestId('banner').getByRole('button').click();
      await shot('05-train-predict');

      await go('evaluation');
      // The run is evaluated (labels decrypted, metrics computed) after navigation: wait for it, then count.
      await page.getByTestId('metric-card').nth(5).waitFor({ timeout: 60_000 });
      await expect(page.getByTestId('metric-card').count()).resolves.toBe(6);
      for (const chart of ['chart-confusion', 'chart-roc', 'chart-histogram']) await expectChart(chart);
      await page.getByTestId('evaluation-fidelity').waitFor();
      await shot('06-evaluation');
      // Theme cycles system (light in headless Chromium) -> light -> dark -> system.
      await page.getByTestId('theme-toggle').click();
      await page.getByTestId('theme-toggle').click();
      await expect(page.locator('html').getAttribute('data-theme')).resolves.toBe('dark');
      await expectChart('chart-roc');
      await shot('06b-evaluation-dark');
      await page.getByTestId('theme-toggle').click();
      await expect(page.locator('html').getAttribute('data-theme')).resolves.toBe('light');

      await go('bench');
      await page.getByTestId('bench-19').check();
      await page.getByTestId('bench-run').click();
      await page.getByTestId('bench-cards').waitFor({ timeout: CKKS_MS });
      await expectChart('chart-bench');
      await shot('07-benchmarks');

      // Reports: signed into the folder the scripted dialog returns, then checked from disk.
      await go('reports');
      await page.getByTestId('empty-state').waitFor();
      await page.getByTestId('report-passphrase').fill(PASSPHRASE);
      await page.getByTestId('report-generate').click();
      await page.getByTestId('report-result').waitFor({ timeout: CKKS_MS });
      const name = await page.locator('[data-testid=report-result] h3 code').innerText();
      expect(readdirSync(join(tmp, 'reports')).sort()).toEqual(
        ['html', 'json', 'manifest.json', 'manifest.sig', 'pdf'].map((ext) => `${name}.${ext}`),
      );
      await expect(page.getByTestId('report-file').count()).resolves.toBe(3);
      await expect(page.getByTestId('metric-card').count()).resolves.toBe(6);
      await page.getByTestId('report-save-key').click();
      await page.getByTestId('banner').filter({ hasText: 'Verification key saved' }).waitFor();
      const pem = readdirSync(join(tmp, 'exports')).filter((f) => f.endsWith('.pem'));
      expect(pem).toHaveLength(1);
      expect(readFileSync(join(tmp, 'exports', pem[0]!), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      await page.getByTestId('banner').getByRole('button').click();
      await page.getByTestId('report-verify').click();
      await page.getByTestId('report-verification').filter({ hasText: /^Verified/ }).waitFor();
      await shot('11-reports');
      const keySet = await page.getByTestId('report-key-set').getAttribute('title');
      expect(keySet).toMatch(/^[0-9a-f]{64}$/);
      const { stdout: pdfText } = await promisify(execFile)('pdftotext', ['-layout', join(tmp, 'reports', `${name}.pdf`), '-']);
      expect(pdfText).toContain(keySet);
      // The run scored the file its model was trained on: the report says the figures are not held out.
      expect(pdfText.replace(/\s+/g, ' ')).toContain('Not a held-out evaluation: the model was trained on batch #1 of this run');
      // A PDF handed on alone says how it is verified (with the manifest beside it).
      expect(pdfText.replace(/\s+/g, ' ')).toContain('a copy of this file handed on alone cannot be verified');

      // Lock leaves no decrypted probability in the renderer: shown again, every page the renderer received is
      // in its heap (the probe sees them), and after Lock and a garbage collection none is.
      await go('predict');
      await page.getByTestId('results-run').selectOption('1');
      await expect.poll(() => page.getByTestId('result-row').count()).toBe(19);
      expect(received.size, 'distinct probabilities received').toBeGreaterThan(10);
      const probabilities = [...received];
      expect((await valuesInHeap(page, probabilities)).length, 'the probe sees the probabilities while they are shown').toBeGreaterThan(0);

      // The activity log is the auditor's: lock, and come back under that role.
      await signIn('auditor');
      expect(await valuesInHeap(page, probabilities), 'decrypted probabilities left in the renderer after Lock').toEqual([]);
      await go('audit');
      await page.getByTestId('audit-row').first().waitFor();
      expect(await page.getByTestId('audit-row').count()).toBeGreaterThanOrEqual(8);
      await expect(page.getByTestId('audit-verification').innerText()).resolves.toMatch(/^Chain verified/);
      await page.getByTestId('audit-action').selectOption('decrypt');
      await page.getByTestId('audit-row').filter({ hasText: 'decrypt' }).first().waitFor();
      // The decryption policy records each one: the results shown (twice), the CSV export, the evaluation and the report's.
      await expect.poll(() => page.getByTestId('audit-row').count()).toBe(5);
      await page.getByTestId('audit-action').selectOption('');
      await shot('08-activity-log');

      await go('evaluation');
      await page.getByTestId('runs-table').waitFor();
      await shot('09-evaluation-auditor');

      // The auditor checks the signed report with public material only: no passphrase, no generate form.
      await go('reports');
      await expect(page.getByTestId('report-generate').count()).resolves.toBe(0);
      await page.getByTestId('report-verify-folder').click();
      await page.getByTestId('report-verification').filter({ hasText: new RegExp(`^Verified · ${name}`) }).waitFor();
      await shot('09b-reports-auditor');

      expect(pageErrors).toEqual([]);
      expect(overflowing, 'pages wider than their window').toEqual([]);
    },
    600_000,
  );

  it(
    'rejects a CSV with a non-numeric SpO2 and an out-of-range temperature, naming the rows',
    async () => {
      const bad = join(tmp, 'bad-vitals.csv');
      writeFileSync(
        bad,
        [
          'hospital_id,patient_id,temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2,at_risk',
          'H-EAST,E-01,36.7,118,76,14,98,0',
          'H-EAST,E-02,37.1,131,84,16,n.a.,0',
          'H-EAST,E-03,36.4,109,68,13,99,0',
          'H-EAST,E-04,55.0,92,54,28,89,1',
          'H-EAST,E-05,36.9,142,88,17,96,0',
          '',
        ].join('\n'),
      );
      await signIn('clinician');
      await page.getByTestId('import-view').waitFor();
      picked = bad;
      await page.getByTestId('choose-csv').click();
      await page.getByTestId('chosen-file').filter({ hasText: 'bad-vitals.csv' }).waitFor();
      // Checked before anything is encrypted: the same lines the import then names.
      await page.getByTestId('check-import').click();
      await page.getByTestId('check-problems').waitFor({ timeout: CKKS_MS });
      await expect(page.getByTestId('check-problems').getByTestId('issue-lines').allInnerTexts()).resolves.toEqual(['3', '5']);
      await shot('10a-import-checked');
      await page.getByTestId('run-import').click();
      await page.getByTestId('import-issues').waitFor({ timeout: CKKS_MS });
      await expect(page.getByTestId('issue-lines').allInnerTexts()).resolves.toEqual(['3', '5']);
      const rows = await page.getByTestId('issue-row').allInnerTexts();
      expect(rows[0]).toMatch(/spo2.*not a number/s);
      expect(rows[1]).toMatch(/temperature_c.*out of physiological range/s);
      await expect(page.getByTestId('issues-more').count()).resolves.toBe(0);
      await shot('10-import-rejected');

      // Nothing of the rejected file was stored.
      await go('patients');
      await page.getByTestId('batch-row').waitFor();
      await expect(page.getByTestId('batch-row').count()).resolves.toBe(1);

      // A ward export whose Weight column could be kg or lb, with one unreadable SpO2: the clinician picks the unit in
      // the preview and imports the valid rows, the other one reported.
      const ward = join(tmp, 'ward-weights.csv');
      writeFileSync(
        ward,
        [
          'patient_id,temperature_c,systolic_bp,diastolic_bp,respiratory_rate,spo2,Weight',
          'W-01,36.7,118,76,14,98,71',
          'W-02,37.1,131,84,16,97,88',
          'W-03,36.4,109,68,13,n.a.,64',
          'W-04,38.2,92,54,28,89,79',
          'W-05,36.9,142,88,17,96,83',
          'W-06,37.0,125,80,15,99,69',
          '',
        ].join('\n'),
      );
      await go('import');
      picked = ward;
      await page.getByTestId('import-hospital').fill('H-EAST');
      await page.getByTestId('choose-csv').click();
      await page.getByTestId('units-needed').waitFor();
      await shot('10b-import-unit-needed');
      expect(await page.getByTestId('run-import').isDisabled()).toBe(true);
      await page.getByTestId('unit-Weight').selectOption('lb');
      await page.getByTestId('unit-how').filter({ hasText: 'as you chose' }).waitFor();
      await page.getByTestId('import-invalid').selectOption('skip');
      await page.getByTestId('run-import').click();
      await page.getByTestId('import-skipped').filter({ hasText: '1' }).waitFor({ timeout: CKKS_MS });
      await expect(page.getByTestId('import-rows').innerText()).resolves.toBe('5');
      await shot('10c-import-skipped');
      expect(pageErrors).toEqual([]);
      expect(overflowing, 'pages wider than their window').toEqual([]);
    },
    300_000,
  );

  it(
    'imports three hospitals’ signed bundles, accepts a re-keyed hospital only once confirmed, and trains on the ciphertexts with a live curve',
    async () => {
      // The hospitals' side, in Node: each encrypts a labeled cohort with only the workstation's kit.
      const kit = (() => {
        using ws = Workspace.open(join(tmp, 'workspace'));
        return parseKit(kitJson(ws.requireKeySet()));
      })();
      const bundleOf = async (hospital: string, seed: number, identityDir = join(tmp, 'hospitals', hospital)): Promise<string> => {
        const csv = join(tmp, `${hospital}-${seed}.csv`);
        await writeCohortCsv(csv, { patients: 400, seed, hospitals: 1 });
        // A hospital's own export has no hospital column: the bundle is its signer's.
        const lines = readFileSync(csv, 'utf8').split('\n');
        writeFileSync(csv, lines.map((l) => l.slice(l.indexOf(',') + 1)).join('\n'));
        const { identity } = await HospitalIdentity.open(identityDir, hospital, PASSPHRASE);
        const out = join(tmp, `${hospital}-${seed}.bundle`);
        try {
          await encryptBundle({ kit, identity, csv, out });
        } finally {
          identity.lock();
        }
        return out;
      };
      const hospitals = ['H-ALPHA', 'H-BETA', 'H-GAMMA'];
      const bundles = [];
      for (const [i, h] of hospitals.entries()) bundles.push(await bundleOf(h, 100 + i));
      // H-GAMMA again, from a reinstalled machine: a new signing key.
      const rekeyed = await bundleOf('H-GAMMA', 200, join(tmp, 'hospitals', 'H-GAMMA-reinstalled'));

      await signIn('researcher');
      await page.getByTestId('import-view').waitFor();
      for (const [i, b] of bundles.entries()) {
        pickedBundle = b;
        await page.getByTestId('choose-bundle').click();
        await page.getByTestId('bundle-result').filter({ hasText: `400 patients of ${hospitals[i]}` }).waitFor({ timeout: CKKS_MS });
      }
      await expect(page.getByTestId('bundle-result').innerText()).resolves.toMatch(/key registered and pinned/);
      await shot('11-bundle-imported');

      pickedBundle = rekeyed;
      await page.getByTestId('choose-bundle').click();
      await page.getByTestId('bundle-refused').waitFor({ timeout: CKKS_MS });
      await expect(page.getByTestId('bundle-refusal-message').innerText()).resolves.toMatch(/hospital "H-GAMMA" is registered with signing key .* refused/);
      await expect(page.getByTestId('accept-new-key').isDisabled()).resolves.toBe(true);
      await shot('12-bundle-rekeyed-refused');
      await page.getByTestId('confirm-new-key').check();
      await page.getByTestId('accept-new-key').click();
      await page.getByTestId('bundle-result').filter({ hasText: 'accepted in place of' }).waitFor({ timeout: CKKS_MS });

      // Train on the four bundles only, not on the pilot CSV imported earlier.
      await go('training');
      await page.getByTestId('training-batch-1').waitFor();
      await page.getByTestId('training-batch-1').uncheck();
      await page.getByTestId('training-epochs').fill('4');
      await page.getByTestId('training-run').click();
      // The curve grows while the job runs: the first epoch's row appears before the training ends.
      await page.getByTestId('training-epoch-row').first().waitFor({ timeout: CKKS_MS });
      await page.getByTestId('training-result').waitFor({ timeout: CKKS_MS });
      await expect(page.getByTestId('training-epoch-row').count()).resolves.toBe(4);
      await expectChart('training-chart');
      await expect(page.locator('[data-testid=training-chart] svg path').count()).resolves.toBeGreaterThan(3);
      const rows = await page.getByTestId('training-epoch-row').allInnerTexts();
      const losses = rows.map((r) => Number(r.split('\t')[1]));
      expect(losses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
      expect(losses.at(-1)!).toBeLessThan(losses[0]!);
      await expect(page.getByTestId('training-result').innerText()).resolves.toMatch(/1,600 labeled patients of 3 hospitals/);
      await expect(page.locator('[data-testid=training-scaler] tbody tr').count()).resolves.toBe(5);
      await shot('13-encrypted-training');

      await page.getByTestId('training-goto-predict').click();
      await page.getByTestId('predict-view').waitFor();

      // The key holder rotates to a new key set from the Patients screen; the header follows it.
      const before = await page.getByTestId('key-fingerprint').innerText();
      await go('patients');
      await page.getByTestId('key-set-row').first().waitFor();
      await page.getByTestId('old-archive').check();
      await page.getByTestId('rotate-passphrase').fill(PASSPHRASE);
      await page.getByTestId('rotate-run').click();
      await page.getByTestId('rotate-result').waitFor({ timeout: CKKS_MS });
      await expect(page.getByTestId('key-set-row').count()).resolves.toBe(2);
      await expect(page.getByTestId('key-fingerprint').innerText()).resolves.not.toBe(before);
      await shot('14-key-rotation');
      expect(pageErrors).toEqual([]);
      expect(overflowing, 'pages wider than their window').toEqual([]);
    },
    300_000,
  );
});
