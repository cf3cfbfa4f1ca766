// npm run bench:app [-- PATIENTS]: the app at scale. A workspace of PATIENTS synthetic patients (default
// 1,000,000) is imported, a model trained and the run predicted through the services; then the built renderer
// (out/renderer) runs in Chromium through the e2e bridge, as a researcher would use it, and each screen and action
// is measured: time until usable, the renderer's longest main-thread task, its JS heap and RSS, and the largest
// IPC response. Figures go to stdout and bench-results/bench-app-*.json. Needs `npx electron-vite build` first.
// BENCH_APP_WORKSPACE=dir keeps the workspace there (a fixed passphrase) and reuses it on the next run.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page, type Response } from 'playwright-core';
import { writeCohortCsv } from '../src-main/ingest/synthetic-cohort.ts';
import { callerFor } from '../src-main/services/caller.ts';
import { importCsv } from '../src-main/services/import.ts';
import { createKeySet, KeyHolder } from '../src-main/services/key-sets.ts';
import { predict } from '../src-main/services/predict.ts';
import { trainModel } from '../src-main/services/train.ts';
import { Workspace } from '../src-main/store/workspace.ts';
import { PassphraseVault } from '../src-main/vault/passphrase.ts';
import { CkksPool } from '../src-main/workers/pool.ts';
import { startBridge } from '../test/e2e/bridge.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RENDERER = join(ROOT, 'out/renderer');
const PATIENTS = Number(process.argv[2] ?? 1_000_000);
const KEPT = process.env['BENCH_APP_WORKSPACE'];
const PASSPHRASE = KEPT ? 'bench-app workspace' : randomBytes(18).toString('base64');
const MiB = 1024 * 1024;

if (!existsSync(join(RENDERER, 'index.html'))) throw new Error('out/renderer is missing: run `npx electron-vite build` first');
const tmp = mkdtempSync(join(tmpdir(), 'homopai-bench-app-'));
const log = (s: string) => process.stderr.write(`${s}\n`);

/** The workspace the app opens: built through the services, as the CLI would (its speed is `npm run bench`'s). */
async function buildWorkspace(dir: string): Promise<void> {
  using ws = Workspace.open(dir);
  const caller = callerFor(ws, { role: 'researcher', via: 'scratch' });
  const vault = new PassphraseVault(dir, PASSPHRASE);
  await createKeySet(caller, 'standard', () => vault);
  const holder = await KeyHolder.unlock(ws, vault);
  const encryptors = new CkksPool('encryptor');
  const evaluators = new CkksPool('evaluator');
  try {
    const csv = join(tmp, 'cohort.csv');
    const training = join(tmp, 'training.csv');
    await writeCohortCsv(csv, { patients: PATIENTS, seed: 7 });
    await writeCohortCsv(training, { patients: 20_000, seed: 8 });
    log(`importing ${PATIENTS.toLocaleString('en')} patients…`);
    const imported = await importCsv(caller, csv, {}, {}, { holder, pool: encryptors });
    rmSync(csv);
    const model = await trainModel(caller, training, {});
    log('predicting…');
    await predict(caller, { modelId: model.id, batchIds: [imported.batchId], scaling: 'folded' }, {}, evaluators);
  } finally {
    holder.lock();
    await encryptors.close();
    await evaluators.close();
  }
}

interface Figure {
  action: string;
  usableMs: number;
  longestTaskMs: number;
  heapMiB: number;
  rssMiB: number;
  largestResponseKiB: number;
}

/** Resident memory of Chromium's renderer processes (the page's), from /proc: what the OS sees the renderer use. */
async function rendererRssMiB(page: Page): Promise<number> {
  const cdp = await page.context().browser()!.newBrowserCDPSession();
  try {
    const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as { processInfo: { type: string; id: number }[] };
    let kib = 0;
    for (const p of processInfo.filter((p) => p.type === 'renderer')) {
      const status = readFileSync(`/proc/${p.id}/status`, 'utf8');
      kib = Math.max(kib, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
    }
    return kib / 1024;
  } finally {
    await cdp.detach();
  }
}

async function main(): Promise<void> {
  const dir = KEPT ?? join(tmp, 'workspace');
  if (!existsSync(join(dir, 'homopai.db'))) {
    mkdirSync(dir, { recursive: true });
    await buildWorkspace(dir);
  }
  const bridge = await startBridge({ workspaceDir: dir, rendererDir: RENDERER, pickCsv: () => null });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--enable-precise-memory-info'],
  });
  const figures: Figure[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // Long tasks on the renderer's main thread, as the browser itself reports them.
    await page.addInitScript(() => {
      const w = window as unknown as { __longest: number };
      w.__longest = 0;
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longest = Math.max(w.__longest, e.duration);
      }).observe({ type: 'longtask', buffered: true });
    });
    let largest = 0;
    page.on('response', (r: Response) => {
      if (r.url().endsWith('/__bridge/invoke')) r.body().then((b) => (largest = Math.max(largest, b.length)), () => undefined);
    });
    const isPage = (r: Response) => r.url().endsWith('/__bridge/invoke') && (r.request().postData() ?? '').includes('"channel":"predictions.page"');
    const frame = () => page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => setTimeout(r, 0))));

    async function measure(action: string, work: () => Promise<void>): Promise<void> {
      await page.evaluate(() => ((window as unknown as { __longest: number }).__longest = 0));
      largest = 0;
      const t0 = performance.now();
      await work();
      await frame();
      const usableMs = performance.now() - t0;
      // Long tasks are reported after they end: give the observer a moment.
      await page.waitForTimeout(100);
      const longestTaskMs = await page.evaluate(() => (window as unknown as { __longest: number }).__longest);
      const heapMiB = (await page.evaluate(() => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize)) / MiB;
      const figure = { action, usableMs, longestTaskMs, heapMiB, rssMiB: await rendererRssMiB(page), largestResponseKiB: largest / 1024 };
      figures.push(figure);
      log(`${action}: ${usableMs.toFixed(0)} ms, longest task ${longestTaskMs.toFixed(0)} ms, heap ${heapMiB.toFixed(0)} MiB, RSS ${figure.rssMiB.toFixed(0)} MiB, largest response ${figure.largestResponseKiB.toFixed(1)} KiB`);
    }
    const go = async (view: string) => {
      await page.getByTestId(`nav-${view}`).click();
      await page.getByTestId(`${view}-view`).waitFor();
    };
    const pageAfter = async (act: () => Promise<void>) => {
      const answered = page.waitForResponse(isPage, { timeout: 120_000 });
      await act();
      await answered;
    };

    await measure('open the app (unlock screen)', async () => {
      await page.goto(bridge.url);
      await page.getByTestId('unlock-view').waitFor();
    });
    await measure('unlock as researcher', async () => {
      await page.getByTestId('role-researcher').check();
      await page.getByTestId('passphrase').fill(PASSPHRASE);
      await page.getByTestId('unlock-submit').click();
      await page.getByTestId('role').filter({ hasText: 'researcher' }).waitFor({ timeout: 120_000 });
    });
    await measure('Patients screen', async () => {
      await go('patients');
      await page.getByTestId('batch-row').first().waitFor();
    });
    await measure('Train & Predict screen', () => go('predict'));
    await measure(`decrypt the ${PATIENTS.toLocaleString('en')}-patient run, first page shown`, async () => {
      await pageAfter(async () => void (await page.getByTestId('results-run').selectOption({ index: 1 })));
      await page.getByTestId('result-row').first().waitFor();
    });
    for (const key of ['probability', 'patientId', 'hospital', 'atRisk'] as const) {
      await measure(`sort by ${key}`, () => pageAfter(() => page.getByTestId(`sort-${key}`).click()));
    }
    await measure('next page', () => pageAfter(() => page.getByTestId('page-next').click()));
    await measure('last page', () => pageAfter(() => page.getByTestId('page-last').click()));
    await measure('at-risk only on', () => pageAfter(() => page.getByTestId('results-at-risk-only').check()));
    await measure('at-risk only off', () => pageAfter(() => page.getByTestId('results-at-risk-only').uncheck()));
    // Typed as a person types (120 ms between keys: within the debounce, so no request goes out); measured from
    // the last key until the filtered page is shown, the debounce's pause included.
    await page.getByTestId('results-filter').pressSequentially('P-123', { delay: 120 });
    await measure('type a 6-character filter: last key to filtered page', () => pageAfter(() => page.getByTestId('results-filter').press('4')));
    await measure('clear the filter', () => pageAfter(() => page.getByTestId('results-filter').fill('')));
    await measure(`Evaluation of the ${PATIENTS.toLocaleString('en')}-patient run`, async () => {
      await go('evaluation');
      await page.getByTestId('metric-card').nth(5).waitFor({ timeout: 300_000 });
      await page.locator('[data-testid=chart-roc] svg').first().waitFor();
    });
    await measure('Benchmarks screen', () => go('bench'));
    await measure('Lock', async () => {
      await page.getByTestId('lock').click();
      await page.getByTestId('unlock-view').waitFor();
    });
  } finally {
    await browser.close();
    await bridge.close();
    rmSync(tmp, { recursive: true, force: true });
  }

  const pad = (s: string, n: number) => s.padStart(n);
  const lines = [
    `${'action'.padEnd(52)} ${pad('usable ms', 10)} ${pad('longest task ms', 16)} ${pad('heap MiB', 9)} ${pad('RSS MiB', 8)} ${pad('largest IPC KiB', 16)}`,
    ...figures.map(
      (f) =>
        `${f.action.padEnd(52)} ${pad(f.usableMs.toFixed(0), 10)} ${pad(f.longestTaskMs.toFixed(0), 16)} ${pad(f.heapMiB.toFixed(0), 9)} ${pad(f.rssMiB.toFixed(0), 8)} ${pad(f.largestResponseKiB.toFixed(1), 16)}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform };
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/bench-app-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ machine, patients: PATIENTS, figures }, null, 2));
  log(`written ${file}`);
}

await main();
