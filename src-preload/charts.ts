/**
 * The ECharts options of every chart HomoPAI draws, shared by the renderer (vue-echarts) and the reports
 * (ECharts server-side SVG rendering in main), so a filed report shows exactly the charts of the app. No
 * Node or DOM import: it is bundled into the renderer and loaded by main as is.
 */
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import type { BarSeriesOption, HeatmapSeriesOption, LineSeriesOption } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import type { GridComponentOption, LegendComponentOption, TooltipComponentOption, VisualMapComponentOption } from 'echarts/components';
import { type ComposeOption, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

// SVG rather than canvas: crisp at any zoom, drawn by headless Chromium in the e2e tests, and the only
// renderer ECharts offers for server-side rendering.
use([SVGRenderer, BarChart, LineChart, HeatmapChart, GridComponent, TooltipComponent, LegendComponent, VisualMapComponent]);

export type ChartOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | HeatmapSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | VisualMapComponentOption
>;

export const ACCENT = '#2f7fbf';
const RISK = '#c2413b';
const EVAL_ONLY = '#5aa88f';
const MUTED = '#8a94a3';

/** No animation: a clinical readout should show its final numbers at once (and screenshots and reports should too). */
export function withChartDefaults(option: ChartOption): ChartOption {
  return { backgroundColor: 'transparent', animation: false, ...option };
}

export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export function confusionOption(c: ConfusionCounts, dark: boolean): ChartOption {
  // x: predicted, y: actual; drawn so the diagonal of correct decisions runs top-left to bottom-right.
  const cells: [number, number, number][] = [
    [0, 1, c.tn],
    [1, 1, c.fp],
    [0, 0, c.fn],
    [1, 0, c.tp],
  ];
  return {
    tooltip: { position: 'top' },
    grid: { left: 110, right: 20, top: 10, bottom: 50 },
    xAxis: { type: 'category', data: ['Not at risk', 'At risk'], name: 'Predicted', nameLocation: 'middle', nameGap: 30, splitArea: { show: true } },
    yAxis: { type: 'category', data: ['At risk', 'Not at risk'], name: 'Actual', nameLocation: 'middle', nameGap: 90, splitArea: { show: true } },
    visualMap: {
      show: false,
      min: 0,
      max: Math.max(1, c.tp, c.fp, c.tn, c.fn),
      // The empty end follows the surface so zero cells recede in either theme and keep their label readable.
      inRange: { color: [dark ? '#22354a' : '#e8f1f8', ACCENT] },
    },
    series: [{ type: 'heatmap', name: 'Patients', data: cells, label: { show: true, fontSize: 16 } }],
  };
}

/** null rates: the evaluated labels hold a single class, where a ROC curve is undefined. */
export interface RocPoint {
  fpr: number | null;
  tpr: number | null;
}

/** A bin of predicted probabilities: grid edges, never a patient's score. */
export interface ScoreBin {
  lo: number;
  hi: number;
}

const binLabel = (b: ScoreBin): string => `${b.lo.toFixed(2)}–${b.hi.toFixed(2)}`;

export function rocOption(roc: readonly RocPoint[]): ChartOption {
  // A single-class evaluation has no ROC curve (its rates are null): nothing is drawn then. One point per bin
  // edge, drawn as a line without markers.
  const points = roc.flatMap((p) => (p.fpr === null || p.tpr === null ? [] : [[p.fpr, p.tpr] as [number, number]]));
  return {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 50, right: 20, top: 10, bottom: 60 },
    xAxis: { type: 'value', min: 0, max: 1, name: 'False positive rate', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', min: 0, max: 1, name: 'True positive rate', nameLocation: 'middle', nameGap: 36 },
    series: [
      { type: 'line', name: 'Model', data: points, symbol: 'none', lineStyle: { width: 2, color: ACCENT }, itemStyle: { color: ACCENT } },
      { type: 'line', name: 'Chance', data: [[0, 0], [1, 1]], symbol: 'none', lineStyle: { type: 'dashed', width: 1, color: MUTED }, itemStyle: { color: MUTED } },
    ],
  };
}

/** Every patient's predicted probability, in bins of at least k patients of each batch. */
export function histogramOption(bins: readonly (ScoreBin & { patients: number })[]): ChartOption {
  return {
    tooltip: { trigger: 'axis' },
    grid: { left: 50, right: 20, top: 30, bottom: 50 },
    xAxis: { type: 'category', data: bins.map(binLabel), name: 'Predicted probability', nameLocation: 'middle', nameGap: 32 },
    yAxis: { type: 'value', name: 'Patients', minInterval: 1 },
    series: [
      {
        type: 'bar',
        name: 'Patients',
        data: bins.map((b) => ({ value: b.patients, itemStyle: { color: (b.lo + b.hi) / 2 >= 0.5 ? RISK : ACCENT } })),
        barCategoryGap: '10%',
      },
    ],
  };
}

/** The labeled patients' probabilities split by their actual class, stacked per bin. */
export function byClassOption(bins: readonly (ScoreBin & { positives: number; negatives: number })[]): ChartOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 50, right: 20, top: 30, bottom: 70 },
    xAxis: { type: 'category', data: bins.map(binLabel), name: 'Predicted probability', nameLocation: 'middle', nameGap: 32 },
    yAxis: { type: 'value', name: 'Patients', minInterval: 1 },
    series: [
      { type: 'bar', name: 'Not at risk', stack: 'class', data: bins.map((b) => b.negatives), itemStyle: { color: ACCENT } },
      { type: 'bar', name: 'At risk', stack: 'class', data: bins.map((b) => b.positives), itemStyle: { color: RISK } },
    ],
  };
}

/** Reliability: mean predicted probability against the observed at-risk rate, per bin; the diagonal is perfect. */
export function calibrationOption(points: readonly { predicted: number; observed: number; patients: number }[]): ChartOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 50, right: 20, top: 10, bottom: 60 },
    xAxis: { type: 'value', min: 0, max: 1, name: 'Mean predicted probability', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', min: 0, max: 1, name: 'Observed at-risk rate', nameLocation: 'middle', nameGap: 36 },
    series: [
      // Markers on: with few patients the release rule leaves one or two bins, and a lone point draws no line.
      {
        type: 'line',
        name: 'Model',
        data: points.map((p) => [p.predicted, p.observed]),
        symbol: 'circle',
        symbolSize: 8,
        lineStyle: { width: 2, color: ACCENT },
        itemStyle: { color: ACCENT },
      },
      {
        type: 'line',
        name: 'Perfect calibration',
        data: [[0, 0], [1, 1]],
        symbol: 'none',
        lineStyle: { type: 'dashed', width: 1, color: MUTED },
        itemStyle: { color: MUTED },
      },
    ],
  };
}

export interface BenchPoint {
  id: number;
  preset: string;
  patients: number;
  predictPatientsPerS: number;
  evalPatientsPerS: number;
}

/** Throughput of benchmark runs, oldest first. */
export function benchHistoryOption(history: readonly BenchPoint[]): ChartOption {
  const runs = [...history].sort((a, b) => a.id - b.id);
  return {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 70, right: 20, top: 30, bottom: 80 },
    xAxis: { type: 'category', data: runs.map((r) => `#${r.id} ${r.preset}\n${Math.round(r.patients).toLocaleString('en-US')} pts`), axisLabel: { lineHeight: 16 } },
    // Log scale: runs of 19 and of a million patients differ by four orders of magnitude and must both show.
    yAxis: { type: 'log', name: 'patients/s (log scale)', logBase: 10 },
    series: [
      { type: 'bar', name: 'End-to-end', data: runs.map((r) => Math.round(r.predictPatientsPerS)), itemStyle: { color: ACCENT }, barMaxWidth: 40 },
      { type: 'bar', name: 'Evaluation only', data: runs.map((r) => Math.round(r.evalPatientsPerS)), itemStyle: { color: EVAL_ONLY }, barMaxWidth: 40 },
    ],
  };
}

export interface EpochPoint {
  epoch: number;
  training: { logLoss: number; accuracy: number; auc: number | null } | null;
}

/**
 * Encrypted training, epoch by epoch: training-set log-loss (left axis) and accuracy and AUC (right axis, 0–1),
 * each decrypted only as an aggregate over the cohort. Epochs without metrics are left out.
 */
export function trainingCurveOption(epochs: readonly EpochPoint[]): ChartOption {
  const points = epochs.filter((e) => e.training !== null);
  const at = (pick: (t: NonNullable<EpochPoint['training']>) => number | null) => points.map((e) => [e.epoch, pick(e.training!)]);
  return {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 60, right: 60, top: 30, bottom: 60 },
    xAxis: { type: 'value', name: 'epoch', minInterval: 1, min: 1, max: Math.max(1, ...epochs.map((e) => e.epoch)) },
    yAxis: [
      { type: 'value', name: 'log-loss', scale: true },
      { type: 'value', name: 'accuracy / AUC', min: 0, max: 1 },
    ],
    series: [
      { type: 'line', name: 'Log-loss', yAxisIndex: 0, data: at((t) => t.logLoss), itemStyle: { color: RISK }, symbolSize: 7 },
      { type: 'line', name: 'Accuracy', yAxisIndex: 1, data: at((t) => t.accuracy), itemStyle: { color: ACCENT }, symbolSize: 7 },
      { type: 'line', name: 'AUC', yAxisIndex: 1, data: at((t) => t.auc), itemStyle: { color: EVAL_ONLY }, symbolSize: 7, lineStyle: { type: 'dashed' } },
    ],
  };
}
