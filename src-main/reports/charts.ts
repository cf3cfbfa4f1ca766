import { init } from 'echarts/core';
import { type ChartOption, withChartDefaults } from '../../src-preload/charts.ts';

/** zrender's SVG painter; ECharts' public renderToSVGString() does not pass the options used below. */
interface SvgStringPainter {
  renderToString(opts: { cssAnimation: boolean; cssEmphasis: boolean; useViewBox: boolean }): string;
}

/**
 * One chart as a standalone SVG document, by ECharts server-side rendering (no DOM). Hover and animation CSS
 * are left out: a filed report has neither, and their class names come from process-wide counters that would
 * make the same report differ byte for byte. Element ids (clip paths) are renamed after `id` for the same
 * reason, and so that several charts inlined in one HTML page cannot collide.
 */
export function chartSvg(id: string, option: ChartOption, width: number, height: number): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(withChartDefaults(option));
    const painter = chart.getZr().painter as unknown as SvgStringPainter;
    return painter.renderToString({ cssAnimation: false, cssEmphasis: false, useViewBox: true }).replace(/\bzr\d+-/g, `${id}-`);
  } finally {
    // An undisposed chart keeps zrender's animation loop, and so the process, alive.
    chart.dispose();
  }
}
