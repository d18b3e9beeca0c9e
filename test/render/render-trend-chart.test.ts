import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  renderTrendChartPng,
  renderTrendChartSvg,
  TREND_COLORS,
  type TrendPoint,
} from "../../src/render/render-trend-chart.js";
import { integerScale } from "../../src/render/trend-chart/integer-scale.js";
import { rasterizeSvg } from "../../src/render/trend-chart/rasterize-svg.js";
import {
  chooseChartFonts,
  resolveChartFonts,
  SYSTEM_SANS,
} from "../../src/render/trend-chart/resolve-chart-fonts.js";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  // The first chunk must be IHDR: 4-byte length, type, then width and height.
  expect(png.subarray(12, 16).toString("latin1")).toBe("IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const CRITICAL = [9, 11, 12, 10, 8, 8, 7, 9, 6, 5, 4, 4];
const HIGH = [31, 34, 30, 28, 29, 25, 22, 24, 21, 18, 17, 15];
const twelveWeeks: TrendPoint[] = CRITICAL.map((critical, i) => ({
  periodLabel: `W${37 + i}`,
  critical,
  high: HIGH[i] ?? 0,
}));

/** Text content of every <text> element, unescaped. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    (m[1] ?? "").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&"),
  );
}

/** y-axis tick labels: the only right-anchored text in the chart. */
function yTicks(svg: string): number[] {
  return [...svg.matchAll(/<text[^>]*text-anchor="end"[^>]*>([^<]*)<\/text>/g)].map((m) =>
    Number((m[1] ?? "").replaceAll(",", "")),
  );
}

function labelY(svg: string, text: string): number {
  const m = new RegExp(`translate\\([\\d.]+ ([\\d.]+)\\)[^>]*>${text}</text>`).exec(svg);
  if (!m?.[1]) throw new Error(`no label ${text}`);
  return Number(m[1]);
}

describe("renderTrendChartPng", () => {
  it("produces a PNG of the requested width with the chart's 5:2 shape", async () => {
    expect(pngSize(await renderTrendChartPng(twelveWeeks, { widthPx: 600 }))).toEqual({
      width: 600,
      height: 240,
    });
    expect(pngSize(await renderTrendChartPng(twelveWeeks, { widthPx: 900 }))).toEqual({
      width: 900,
      height: 360,
    });
  });

  it("defaults to twice the drawing size, sharp on high-density screens", async () => {
    expect(pngSize(await renderTrendChartPng(twelveWeeks))).toEqual({ width: 1200, height: 480 });
  });

  it("renders all-zero, single-point and empty histories", async () => {
    const zeros = twelveWeeks.map((p) => ({ ...p, critical: 0, high: 0 }));
    for (const points of [zeros, [{ periodLabel: "W48", critical: 3, high: 7 }], []]) {
      expect(pngSize(await renderTrendChartPng(points, { widthPx: 600 })).width).toBe(600);
    }
  });
});

describe("renderTrendChartSvg", () => {
  it("draws both series in the severity colours, labelled with their latest values", async () => {
    const svg = await renderTrendChartSvg(twelveWeeks, { title: "Team payments, last 12 weeks" });
    expect(svg).toMatch(new RegExp(`<path d="M[^"]+"[^>]*stroke="${TREND_COLORS.critical}"`));
    expect(svg).toMatch(new RegExp(`<path d="M[^"]+"[^>]*stroke="${TREND_COLORS.high}"`));
    const t = texts(svg);
    expect(t).toContain("4 critical");
    expect(t).toContain("15 high");
    expect(t).toContain("Team payments, last 12 weeks");
    for (const p of twelveWeeks) expect(t).toContain(p.periodLabel);
  });

  it("has a zero-based y axis with whole-number ticks covering the largest value", async () => {
    const ticks = yTicks(await renderTrendChartSvg(twelveWeeks));
    expect(ticks[0]).toBe(0);
    expect(ticks.every(Number.isInteger)).toBe(true);
    expect(Math.max(...ticks)).toBeGreaterThanOrEqual(34);
  });

  it("keeps y ticks whole and zero-based for any counts", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ critical: fc.nat(5000), high: fc.nat(5000) }), { minLength: 1, maxLength: 12 }),
        async (counts) => {
          const points = counts.map((c, i) => ({ periodLabel: `W${i + 1}`, ...c }));
          const ticks = yTicks(await renderTrendChartSvg(points));
          const largest = Math.max(...counts.flatMap((c) => [c.critical, c.high]));
          expect(ticks[0]).toBe(0);
          expect(ticks.every(Number.isInteger)).toBe(true);
          expect(Math.max(...ticks)).toBeGreaterThanOrEqual(largest);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("shows an all-zero history as zeros on a 0–1 axis", async () => {
    const svg = await renderTrendChartSvg(twelveWeeks.map((p) => ({ ...p, critical: 0, high: 0 })));
    expect(yTicks(svg)).toEqual([0, 1]);
    expect(texts(svg)).toEqual(expect.arrayContaining(["0 critical", "0 high"]));
  });

  it("shows a single period as labelled dots", async () => {
    const svg = await renderTrendChartSvg([{ periodLabel: "W48", critical: 3, high: 7 }]);
    expect(texts(svg)).toEqual(expect.arrayContaining(["W48", "3 critical", "7 high"]));
    expect(svg.match(/<path [^>]*fill="#d62828"/g)?.length ?? 0).toBeGreaterThan(0);
    expect(svg.match(/<path [^>]*fill="#f77f00"/g)?.length ?? 0).toBeGreaterThan(0);
  });

  it("shows fewer than twelve periods, and only the latest twelve of a longer history", async () => {
    const four = texts(await renderTrendChartSvg(twelveWeeks.slice(-4)));
    expect(four).toEqual(expect.arrayContaining(["W45", "W48", "4 critical", "15 high"]));
    expect(four).not.toContain("W44");

    const older = [33, 34, 35].map((w) => ({ periodLabel: `W${w}`, critical: 99, high: 99 }));
    const shown = await renderTrendChartSvg([...older, ...twelveWeeks]);
    expect(texts(shown)).not.toContain("W33");
    expect(texts(shown)).toContain("W37");
    expect(Math.max(...yTicks(shown))).toBeLessThan(99);
  });

  it("says so when there is no history at all", async () => {
    expect(texts(await renderTrendChartSvg([]))).toContain("No history yet");
  });

  it("keeps the two end labels apart when the latest values are close", async () => {
    for (const [critical, high] of [
      [11, 11],
      [12, 11],
      [0, 0],
      [40, 39],
    ] as const) {
      const points = twelveWeeks.map((p) => ({ ...p, critical, high }));
      const svg = await renderTrendChartSvg(points);
      const gap = Math.abs(labelY(svg, `${critical} critical`) - labelY(svg, `${high} high`));
      expect(gap, `critical ${critical}, high ${high}`).toBeGreaterThanOrEqual(12);
      // The larger count's label stays on top (smaller y).
      if (critical > high)
        expect(labelY(svg, `${critical} critical`)).toBeLessThan(labelY(svg, `${high} high`));
    }
  });

  it("writes large counts with thousands separators", async () => {
    const svg = await renderTrendChartSvg([{ periodLabel: "W1", critical: 1234, high: 56789 }]);
    expect(texts(svg)).toEqual(expect.arrayContaining(["1,234 critical", "56,789 high"]));
  });

  it("escapes period labels and titles instead of injecting markup", async () => {
    const svg = await renderTrendChartSvg([{ periodLabel: "<b>W1&", critical: 1, high: 2 }], {
      title: "</svg><script>x</script>",
    });
    expect(svg).not.toContain("<script>");
    expect(svg).not.toContain("<b>");
    expect(texts(svg)).toContain("<b>W1&");
  });

  it("draws bad counts from upstream as zero rather than failing", async () => {
    const svg = await renderTrendChartSvg([{ periodLabel: "W1", critical: Number.NaN, high: -3 }]);
    expect(texts(svg)).toEqual(expect.arrayContaining(["0 critical", "0 high"]));
  });
});

describe("integerScale", () => {
  it("always ends on a whole multiple of a whole step at or above the largest value", () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), (n) => {
        const { max, step } = integerScale(n);
        expect(Number.isInteger(step) && step >= 1).toBe(true);
        expect(max % step).toBe(0);
        expect(max).toBeGreaterThanOrEqual(Math.max(n, 1));
        expect(max / step).toBeLessThanOrEqual(5);
      }),
    );
  });
});

describe("chart fonts", () => {
  const textSvg = (text: string): string =>
    `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="10" y="28" font-family="${resolveChartFonts().family}" font-size="20">${text}</text></svg>`;

  it("finds the bundled font, so text is actually drawn", async () => {
    const fonts = resolveChartFonts();
    expect(fonts.useSystemFonts).toBe(false);
    expect(fonts.files.length).toBeGreaterThan(0);
    // Without a usable font resvg silently drops text and both images come out blank.
    const withText = await rasterizeSvg(textSvg("W48 12 critical"), 200, fonts);
    const blank = await rasterizeSvg(textSvg(""), 200, fonts);
    expect(withText.equals(blank)).toBe(false);
  });

  it("falls back to the system's fonts when no font file exists", async () => {
    const fonts = chooseChartFonts([{ family: "Nope", files: () => ["/nonexistent/font.ttf"] }]);
    expect(fonts).toEqual({ files: [], family: SYSTEM_SANS, useSystemFonts: true });
    const missingPackage = chooseChartFonts([
      {
        family: "Nope",
        files: () => {
          throw new Error("Cannot find module");
        },
      },
    ]);
    expect(missingPackage.useSystemFonts).toBe(true);
    const svg = await renderTrendChartSvg(twelveWeeks);
    expect(pngSize(await rasterizeSvg(svg, 600, fonts))).toEqual({ width: 600, height: 240 });
  });
});
