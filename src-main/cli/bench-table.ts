import type { TrainingBenchFigures } from '../services/bench-training.ts';
import type { BenchFigures } from '../services/bench.ts';
import type { Deviation, PrivacyBenchFigures } from '../services/bench-privacy.ts';

type Column<T> = [header: string, cell: (row: T) => string];

function aligned<T>(cols: Column<T>[], rows: readonly T[]): string {
  const cells = [cols.map(([h]) => h), ...rows.map((r) => cols.map(([, f]) => f(r)))];
  const widths = cols.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((x, i) => x.padStart(widths[i]!)).join('  ')).join('\n');
}

/** The benchmark as one aligned text table, as printed by `homopai bench` and `npm run bench`. */
export function benchTable(rows: readonly BenchFigures[]): string {
  return aligned<BenchFigures>([
    ['patients', (r) => r.patients.toLocaleString('en')],
    ['import ms', (r) => r.import_ms.toFixed(0)],
    ['enc µs/value', (r) => `${r.encrypt_us_per_value.toFixed(2)} (1w ${r.encrypt_us_per_value_1_worker.toFixed(2)})`],
    ['e2e pat/s', (r) => Math.round(r.predict_patients_per_s).toLocaleString('en')],
    ['eval pat/s', (r) => `${Math.round(r.eval_patients_per_s).toLocaleString('en')} (1w ${Math.round(r.eval_patients_per_s_1_worker).toLocaleString('en')})`],
    ['decrypt ms', (r) => r.decrypt_ms.toFixed(0)],
    ['B/patient', (r) => `${r.bytes_per_patient.toFixed(0)} (+label ${r.bytes_per_patient_with_label.toFixed(0)})`],
    ['HE/plain', (r) => r.he_to_plain_ratio.toFixed(0)],
    ['heap MiB', (r) => `${(r.wasm_heap_bytes_before / 2 ** 20).toFixed(0)}→${(r.wasm_heap_bytes_after / 2 ** 20).toFixed(0)}`],
    ['peak RSS MiB', (r) => (r.peak_rss_bytes / 2 ** 20).toFixed(0)],
  ], rows);
}

/** The encrypted-training benchmark: the cost of the statistics, the setup and each epoch. */
export function trainingBenchTable(rows: readonly TrainingBenchFigures[]): string {
  return aligned<TrainingBenchFigures>([
    ['training data', (r) => r.source],
    ['patients', (r) => r.patients.toLocaleString('en')],
    ['features', (r) => String(r.features)],
    ['blocks', (r) => String(r.blocks)],
    ['stats ms', (r) => r.stats_ms.toFixed(0)],
    ['setup ms', (r) => r.prepare_ms.toFixed(0)],
    ['epoch ms (max)', (r) => `${r.epoch_ms_mean.toFixed(0)} (${r.epoch_ms_max.toFixed(0)})`],
    ['evaluator / key holder ms', (r) => `${r.evaluate_ms_mean.toFixed(0)} / ${r.refresh_ms_mean.toFixed(0)}`],
    ['metrics pass ms', (r) => r.metrics_ms_mean.toFixed(0)],
    ['train accuracy', (r) => r.accuracy.toFixed(3)],
  ], rows);
}

/** What differential privacy costs: each noisy figure's mean (and largest) absolute difference from the exact one. */
export function privacyBenchTable(rows: readonly PrivacyBenchFigures[]): string {
  const dev = (d: Deviation | null, digits = 3): string => (d === null ? '-' : `${d.mean.toFixed(digits)} (${d.max.toFixed(digits)})`);
  return aligned<PrivacyBenchFigures>([
    ['data', (r) => r.source],
    ['patients', (r) => r.patients.toLocaleString('en')],
    ['epsilon', (r) => String(r.epsilon)],
    ['exact accuracy / AUC', (r) => `${r.exact.accuracy.toFixed(3)} / ${r.exact.auc?.toFixed(3) ?? 'n/a'}`],
    ['|Δ accuracy|', (r) => dev(r.accuracy)],
    ['|Δ AUC|', (r) => dev(r.auc)],
    ['|Δ Brier|', (r) => dev(r.brier)],
    ['|Δ mean| / range', (r) => dev(r.meanOfRange, 4)],
    ['training AUC exact → |Δ|', (r) => (r.trainingAuc ? `${r.trainingAuc.exact.toFixed(3)} → ${dev(r.trainingAuc.dp)}` : '-')],
  ], rows);
}
