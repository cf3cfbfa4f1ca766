import type { TrainingBenchFigures } from '../services/bench-training.ts';
import type { BenchFigures } from '../services/bench.ts';
import type { StageLimit, StageLimits } from '../services/bench-limits.ts';
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
    ['import ms', (r) => r.importMs.toFixed(0)],
    ['enc µs/value', (r) => `${r.encryptUsPerValue.toFixed(2)} (1w ${r.encryptUsPerValue1Worker.toFixed(2)})`],
    ['e2e pat/s', (r) => Math.round(r.predictPatientsPerS).toLocaleString('en')],
    ['eval pat/s exact', (r) => `${Math.round(r.evalPatientsPerS).toLocaleString('en')} (1w ${Math.round(r.evalPatientsPerS1Worker).toLocaleString('en')})`],
    ['eval pat/s poly', (r) => Math.round(r.evalPolyPatientsPerS).toLocaleString('en')],
    ['decrypt ms', (r) => r.decryptMs.toFixed(0)],
    ['B/patient', (r) => `${r.bytesPerPatient.toFixed(0)} (+label ${r.bytesPerPatientWithLabel.toFixed(0)})`],
    ['HE/plain', (r) => r.heToPlainRatio.toFixed(0)],
    ['heap MiB', (r) => `${(r.wasmHeapBytesBefore / 2 ** 20).toFixed(0)}→${(r.wasmHeapBytesAfter / 2 ** 20).toFixed(0)}`],
    ['peak RSS MiB', (r) => (r.peakRssBytes / 2 ** 20).toFixed(0)],
  ], rows);
}

/**
 * How far each stage is from what node-seal can do on this machine: the stage's floor (its bare SEAL work per
 * block, spread over the workers) beside its measured time, and their ratio.
 */
export function limitsTable(rows: readonly BenchFigures[]): string {
  const stage = (l: StageLimit): string => `${l.limitMs.toFixed(0)} / ${l.actualMs.toFixed(0)} (${(l.efficiency * 100).toFixed(0)}%)`;
  const measured = rows.filter((r): r is BenchFigures & { limits: StageLimits } => r.limits !== undefined);
  return aligned<BenchFigures & { limits: StageLimits }>([
    ['patients', (r) => r.patients.toLocaleString('en')],
    ['per block ms: encrypt / load / circuit / decrypt', (r) => {
      const c = r.limits.perBlock;
      return [c.encryptMs, c.loadMs, c.circuitMs, c.decryptMs].map((v) => v.toFixed(2)).join(' / ');
    }],
    ['import: floor / actual ms', (r) => stage(r.limits.encrypt)],
    ['prediction: floor / actual ms', (r) => stage(r.limits.predict)],
    ['decryption: floor / actual ms', (r) => stage(r.limits.decrypt)],
  ], measured);
}

/** The encrypted-training benchmark: the cost of the statistics, the setup and each epoch. */
export function trainingBenchTable(rows: readonly TrainingBenchFigures[]): string {
  return aligned<TrainingBenchFigures>([
    ['training data', (r) => r.source],
    ['patients', (r) => r.patients.toLocaleString('en')],
    ['features', (r) => String(r.features)],
    ['blocks', (r) => String(r.blocks)],
    ['stats ms', (r) => r.statsMs.toFixed(0)],
    ['setup ms', (r) => r.prepareMs.toFixed(0)],
    ['epoch ms (max)', (r) => `${r.epochMsMean.toFixed(0)} (${r.epochMsMax.toFixed(0)})`],
    ['evaluator / key holder ms', (r) => `${r.evaluateMsMean.toFixed(0)} / ${r.refreshMsMean.toFixed(0)}`],
    ['metrics pass ms', (r) => r.metricsMsMean.toFixed(0)],
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
