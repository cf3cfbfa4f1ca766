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
  // Correct decisions in the accent, errors in the risk colour, each shaded by its share of the patients, so the
  // two kinds stay apart in a dark theme too (one colour scale made them alike there). The colour dimension is
  // that share, signed (+ correct, - error); the label shows the count.
  const total = Math.max(1, c.tp + c.fp + c.tn + c.fn);
  const empty = dark ? '#1c2430' : '#f4f7fa';
  // A non-empty cell is at least a third saturated: five errors among a hundred patients still read as errors.
  const cell = (x: number, y: number, n: number, correct: boolean): [number, number, number, number] => [x, y, n === 0 ? 0 : (correct ? 1 : -1) * (0.35 + (0.65 * n) / total), n];
  const cells = [cell(0, 1, c.tn, true), cell(1, 1, c.fp, false), cell(0, 0, c.fn, false), cell(1, 0, c.tp, true)];
  return {
    tooltip: { position: 'top' },
    grid: { left: 110, right: 20, top: 10, bottom: 50 },
    xAxis: { type: 'category', data: ['Not at risk', 'At risk'], name: 'Predicted', nameLocation: 'middle', nameGap: 30, splitArea: { show: true } },
    yAxis: { type: 'category', data: ['At risk', 'Not at risk'], name: 'Actual', nameLocation: 'middle', nameGap: 90, splitArea: { show: true } },
    visualMap: { show: false, dimension: 2, min: -1, max: 1, inRange: { color: [RISK, empty, ACCENT] } },
    series: [
      {
        type: 'heatmap',
        name: 'Patients',
        data: cells,
        // White on the saturated cells, the theme's text colour on the pale ones.
        label: { show: true, fontSize: 16, formatter: (p) => String((p.value as number[])[3]), color: dark ? '#f3f6fa' : '#1b2733' },
      },
    ],
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
  const rotated = bins.length > 6;
  // Three series, so the legend says what each colour means: bins wholly below the 0.5 threshold, wholly at or
  // above it (flagged at risk), and bins the release rule had to stretch across it (mixed).
  const side = (keep: (b: ScoreBin) => boolean) => bins.map((b) => (keep(b) ? b.patients : 0));
  return {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 50, right: 20, top: 30, bottom: rotated ? 116 : 86 },
    xAxis: {
      type: 'category',
      data: bins.map(binLabel),
      name: 'Predicted probability',
      nameLocation: 'middle',
      nameGap: rotated ? 60 : 30,
      // Every bin labelled: bins are uneven (at least k patients each), so a skipped label hides an edge.
      axisLabel: { interval: 0, rotate: rotated ? 40 : 0, fontSize: 10 },
    },
    yAxis: { type: 'value', name: 'Patients', minInterval: 1 },
    series: [
      { type: 'bar', name: 'Below 0.5', stack: 'side', data: side((b) => b.hi <= 0.5), itemStyle: { color: ACCENT }, barCategoryGap: '10%' },
      { type: 'bar', name: 'Across 0.5', stack: 'side', data: side((b) => b.lo < 0.5 && b.hi > 0.5), itemStyle: { color: MUTED } },
      { type: 'bar', name: '≥ 0.5 (at risk)', stack: 'side', data: side((b) => b.lo >= 0.5), itemStyle: { color: RISK } },
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
    // Axis names sit above their axes and the epoch name below the axis, so none overlaps a tick label.
    grid: { left: 64, right: 64, top: 40, bottom: 80 },
    xAxis: { type: 'value', name: 'Epoch', nameLocation: 'middle', nameGap: 28, minInterval: 1, min: 1, max: Math.max(1, ...epochs.map((e) => e.epoch)) },
    yAxis: [
      { type: 'value', name: 'Log-loss', nameLocation: 'end', nameGap: 14, nameTextStyle: { align: 'left' }, scale: true },
      { type: 'value', name: 'Accuracy / AUC', nameLocation: 'end', nameGap: 14, nameTextStyle: { align: 'right' }, min: 0, max: 1 },
    ],
    series: [
      { type: 'line', name: 'Log-loss', yAxisIndex: 0, data: at((t) => t.logLoss), itemStyle: { color: RISK }, symbolSize: 7 },
      { type: 'line', name: 'Accuracy', yAxisIndex: 1, data: at((t) => t.accuracy), itemStyle: { color: ACCENT }, symbolSize: 7 },
      { type: 'line', name: 'AUC', yAxisIndex: 1, data: at((t) => t.auc), itemStyle: { color: EVAL_ONLY }, symbolSize: 7, lineStyle: { type: 'dashed' } },
    ],
  };
}
