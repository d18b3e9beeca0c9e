import type { LineSeriesOption } from "echarts/charts";
import type { GraphicComponentOption, GridComponentOption, TitleComponentOption } from "echarts/components";
import type { ComposeOption } from "echarts/core";
import { integerScale } from "./integer-scale.js";

export type TrendChartOption = ComposeOption<
  LineSeriesOption | GridComponentOption | TitleComponentOption | GraphicComponentOption
>;

export type TrendSeries = { name: string; color: string; values: number[] };

export type TrendChartLayout = {
  width: number;
  height: number;
  title: string;
  fontFamily: string;
  periodLabels: string[];
  /** Drawn in this order, so the last one lies on top where lines cross. */
  series: [TrendSeries, TrendSeries];
};

const GRID = { top: 48, bottom: 26 };
const INK = "#222222";
const MUTED = "#6b6b6b";
const RULE = "#e6e6e6";
const LABEL_SIZE = 12;
/** Vertical room one end label needs before it collides with the other. */
const LABEL_GAP = LABEL_SIZE + 3;
/** Rough advance of one digit or letter at the label sizes used; only margins depend on it. */
const CHAR_WIDTH = { axis: 6.5, end: 7.5 };

const formatCount = (n: number): string => n.toLocaleString("en-US");

/** Side margins sized to the longest label, so large counts are not cut off at the edges. */
function margins(max: number, series: TrendSeries[]): { left: number; right: number } {
  const left = Math.max(28, 14 + formatCount(max).length * CHAR_WIDTH.axis);
  const endLabels = series.map((s) => `${formatCount(s.values.at(-1) ?? 0)} ${s.name}`.length);
  const right = Math.max(64, 20 + Math.max(...endLabels) * CHAR_WIDTH.end);
  return { left: Math.round(left), right: Math.round(right) };
}

/**
 * End labels sit at their line's last value; when the two values are close on screen they
 * would print over each other, so they are pushed apart (never below the x axis).
 */
function endLabelOffsets(lastValues: [number, number], plotHeight: number, max: number): [number, number] {
  const px = lastValues.map((v) => (v / max) * plotHeight);
  const [a = 0, b = 0] = px;
  // The series drawn on top (the second) wins ties and takes the upper slot.
  const upperIsSecond = b >= a;
  const hi = upperIsSecond ? b : a;
  const lo = upperIsSecond ? a : b;
  if (hi - lo >= LABEL_GAP) return [0, 0];
  const newLo = Math.max(0, (hi + lo) / 2 - LABEL_GAP / 2);
  const newHi = newLo + LABEL_GAP;
  // Screen y grows downwards, so moving a label up is a negative offset.
  const dLo = -(newLo - lo);
  const dHi = -(newHi - hi);
  return upperIsSecond ? [dLo, dHi] : [dHi, dLo];
}

function lineSeries(s: TrendSeries, dy: number): LineSeriesOption {
  const lastIndex = s.values.length - 1;
  return {
    type: "line",
    name: s.name,
    color: s.color,
    lineStyle: { width: 2.5, color: s.color },
    // Only the latest value gets a dot: it anchors the label and keeps a single period visible.
    symbol: "none",
    showSymbol: true,
    data: s.values.map((value, i) =>
      i === lastIndex ? { value, symbol: "circle", symbolSize: 7, itemStyle: { color: s.color } } : { value },
    ),
    endLabel: {
      show: true,
      formatter: `${formatCount(s.values[lastIndex] ?? 0)} ${s.name}`,
      color: s.color,
      fontSize: LABEL_SIZE,
      fontWeight: 600,
      distance: 8,
      offset: [0, dy],
    },
    silent: true,
    animation: false,
  };
}

/** The whole chart as an ECharts option: two lines, integer y ticks from zero, no legend. */
export function buildTrendChartOption(layout: TrendChartLayout): TrendChartOption {
  const [first, second] = layout.series;
  const all = [...first.values, ...second.values];
  const scale = integerScale(Math.max(0, ...all));
  const plotHeight = layout.height - GRID.top - GRID.bottom;
  const [dyFirst, dySecond] = endLabelOffsets(
    [first.values.at(-1) ?? 0, second.values.at(-1) ?? 0],
    plotHeight,
    scale.max,
  );
  const empty = layout.periodLabels.length === 0;
  const grid = { ...GRID, ...margins(scale.max, layout.series) };
  const firstLabelFits = ((layout.periodLabels[0]?.length ?? 0) * CHAR_WIDTH.axis) / 2 < grid.left - 4;
  return {
    backgroundColor: "#ffffff",
    animation: false,
    textStyle: { fontFamily: layout.fontFamily },
    title: {
      text: layout.title,
      left: 8,
      top: 12,
      textStyle: {
        fontSize: 14,
        fontWeight: 600,
        color: INK,
        fontFamily: layout.fontFamily,
        width: layout.width - 16,
        overflow: "truncate",
      },
    },
    // A fixed grid keeps the label offsets above exact; labels are short enough to fit its margins.
    grid: { ...grid, outerBoundsMode: "none" },
    xAxis: {
      type: "category",
      data: layout.periodLabels,
      boundaryGap: false,
      axisTick: { show: false },
      axisLine: { lineStyle: { color: "#bdbdbd" } },
      // Every label when they fit; longer period names drop some rather than overlap.
      axisLabel: {
        color: MUTED,
        fontSize: 11,
        margin: 8,
        hideOverlap: true,
        // A long first label centred on its tick would run off the left edge.
        alignMinLabel: firstLabelFits ? "center" : "left",
      },
    },
    yAxis: {
      type: "value",
      min: 0,
      max: scale.max,
      interval: scale.step,
      axisLabel: { color: MUTED, fontSize: 11, margin: 8, formatter: (v: number) => formatCount(v) },
      splitLine: { lineStyle: { color: RULE } },
    },
    series: empty ? [] : [lineSeries(first, dyFirst), lineSeries(second, dySecond)],
    graphic: empty
      ? [
          {
            type: "text",
            left: "center",
            top: "middle",
            style: { text: "No history yet", fill: MUTED, fontSize: 13, fontFamily: layout.fontFamily },
          },
        ]
      : [],
  };
}
