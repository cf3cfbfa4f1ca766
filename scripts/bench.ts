// npm run bench [-- SIZES [TRAINING_SIZES]]: the benchmark tables for the standard cohorts (import, encryption,
// encrypted prediction) and for encrypted training, plus a JSON file under bench-results/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchTable, limitsTable, privacyBenchTable, trainingBenchTable } from '../src-main/cli/bench-table.ts';
import { type PrivacyBenchFigures, runPrivacyBench } from '../src-main/services/bench-privacy.ts';
import { runTrainingBench, type TrainingBenchFigures, type TrainingBenchOptions } from '../src-main/services/bench-training.ts';
import { runBench, type BenchFigures } from '../src-main/services/bench.ts';

const list = (arg: string | undefined, fallback: string): number[] => (arg ?? fallback).split(',').map(Number);
const sizes = list(process.argv[2], '19,4096,100000,1000000');
const trainingSizes = list(process.argv[3], '1000,20000,100000');

const rows: BenchFigures[] = [];
for (const patients of sizes) {
  process.stderr.write(`benchmarking ${patients.toLocaleString('en')} patients…\n`);
  rows.push(await runBench({ patients }));
}

// Synthetic labeled cohorts, and framingham (the data of TenSEAL's encrypted-training tutorial, 160 s per
// epoch there) when the shared datasets sit beside the project.
const framingham = join(import.meta.dirname, '../../shared/datasets/framingham.csv');
const trainings: TrainingBenchOptions[] = [
  ...trainingSizes.map((patients) => ({ patients })),
  ...(existsSync(framingham) ? [{ csv: { path: framingham, ingest: { label: 'TenYearCHD', missing: 'drop' as const } } }] : []),
];
const trainingRows: TrainingBenchFigures[] = [];
for (const t of trainings) {
  process.stderr.write(`benchmarking encrypted training on ${t.csv ? t.csv.path : `${t.patients!.toLocaleString('en')} patients`}…\n`);
  trainingRows.push(await runTrainingBench({ ...t, epochs: 3 }));
}

// What differential privacy costs at epsilon 1 per release: run metrics on the shared datasets, and cohort
// statistics and encrypted training (5 epochs) on a synthetic vitals cohort, whose features have validated ranges.
const maternal = join(import.meta.dirname, '../../shared/datasets/maternal-health-risk.csv');
const privacyRuns = [
  ...(existsSync(maternal) ? [{ csv: { path: maternal, ingest: { label: 'RiskLevel', positive: 'high risk' } } }] : []),
  ...(existsSync(framingham) ? [{ csv: { path: framingham, ingest: { label: 'TenYearCHD', missing: 'drop' as const } } }] : []),
  { patients: 20_000, training: true },
];
const privacyRows: PrivacyBenchFigures[] = [];
for (const p of privacyRuns) {
  process.stderr.write(`measuring differential privacy on ${p.csv ? p.csv.path : 'a synthetic cohort'}…\n`);
  privacyRows.push(await runPrivacyBench({ ...p, epsilon: 1, repeats: 10 }));
}

process.stdout.write(
  `${benchTable(rows)}\n\neach stage against its node-seal floor (bare SEAL work per block x blocks / workers; decryption on one thread):\n${limitsTable(rows)}\n` +
    `\nencrypted training (standard preset, 3 epochs, full batch):\n${trainingBenchTable(trainingRows)}\n` +
    `\ndifferential privacy, epsilon 1 per release, 10 noisy releases (mean and largest |difference| from exact):\n${privacyBenchTable(privacyRows)}\n`,
);
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform };
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ machine, results: rows, training: trainingRows, privacy: privacyRows }, null, 2));
process.stderr.write(`written ${file}\n`);
