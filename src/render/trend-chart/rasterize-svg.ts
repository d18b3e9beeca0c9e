import { renderAsync } from "@resvg/resvg-js";
import type { ChartFonts } from "./resolve-chart-fonts.js";

/** An SVG document as a PNG `widthPx` wide on white, drawing text with `fonts`. */
export async function rasterizeSvg(svg: string, widthPx: number, fonts: ChartFonts): Promise<Buffer> {
  const font = fonts.useSystemFonts
    ? { loadSystemFonts: true }
    : {
        fontFiles: fonts.files,
        // Skipping the system scan keeps every machine's output identical and each call fast.
        loadSystemFonts: false,
        defaultFontFamily: fonts.family,
        sansSerifFamily: fonts.family,
      };
  // resvg works on libuv's thread pool, so rendering a batch of digests leaves the event loop free.
  const image = await renderAsync(svg, {
    fitTo: { mode: "width", value: Math.max(1, Math.round(widthPx)) },
    background: "#ffffff",
    font,
  });
  return image.asPng();
}
