import { LineChart } from "echarts/charts";
import { GraphicComponent, GridComponent, TitleComponent } from "echarts/components";
import { init, use } from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { buildTrendChartOption } from "./trend-chart/build-trend-chart-option.js";
import { rasterizeSvg } from "./trend-chart/rasterize-svg.js";
import { resolveChartFonts } from "./trend-chart/resolve-chart-fonts.js";

export type TrendPoint = {
  /** Short period name shown on the x axis, e.g. "W37". */
  periodLabel: string;
  critical: number;
  high: number;
};

use([LineChart, GridComponent, TitleComponent, GraphicComponent, SVGRenderer]);

/** Same red and orange as the 🔴/🟠 marks in messages. */
export const TREND_COLORS = { critical: "#d62828", high: "#f77f00" } as const;
export const TREND_CHART_SIZE = { width: 600, height: 240 } as const;
/** The digest shows twelve periods; older points would only squeeze the x axis. */
export const TREND_PERIODS = 12;
const DEFAULT_TITLE = "Open critical and high findings";
/** Twice the drawing size so the image stays sharp on high-density screens. */
const DEFAULT_PNG_WIDTH = TREND_CHART_SIZE.width * 2;

/** A count as drawn: a bad value from upstream shows as 0 instead of breaking the axis. */
const asCount = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.round(n) : 0);

/** The trend chart as a standalone SVG document (600×240 user units, white background). */
export async function renderTrendChartSvg(
  points: TrendPoint[],
  opts: { title?: string } = {},
): Promise<string> {
  const shown = points.slice(-TREND_PERIODS);
  const chart = init(null, null, { renderer: "svg", ssr: true, ...TREND_CHART_SIZE });
  try {
    chart.setOption(
      buildTrendChartOption({
        ...TREND_CHART_SIZE,
        title: opts.title ?? DEFAULT_TITLE,
        fontFamily: resolveChartFonts().family,
        periodLabels: shown.map((p) => p.periodLabel),
        series: [
          { name: "high", color: TREND_COLORS.high, values: shown.map((p) => asCount(p.high)) },
          { name: "critical", color: TREND_COLORS.critical, values: shown.map((p) => asCount(p.critical)) },
        ],
      }),
    );
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** The trend chart as a PNG `widthPx` wide (default 1200), for upload into the digest's thread. */
export async function renderTrendChartPng(
  points: TrendPoint[],
  opts: { title?: string; widthPx?: number } = {},
): Promise<Buffer> {
  const svg = await renderTrendChartSvg(points, opts.title === undefined ? {} : { title: opts.title });
  return rasterizeSvg(svg, opts.widthPx ?? DEFAULT_PNG_WIDTH, resolveChartFonts());
}
