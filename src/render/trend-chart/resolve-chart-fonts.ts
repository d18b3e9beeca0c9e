import { existsSync } from "node:fs";
import { createRequire } from "node:module";

export type ChartFonts = {
  /** TTF files to hand to resvg; empty when none was found. */
  files: string[];
  /** Family the SVG asks for, so the rasterizer and the text measurements agree. */
  family: string;
  /** True when no bundled or known file exists and resvg must scan the system's fonts. */
  useSystemFonts: boolean;
};

const require = createRequire(import.meta.url);

/**
 * Inter comes from an npm package so every machine and image draws the same glyphs without an
 * apt step; Debian's DejaVu (fonts-dejavu-core) is the fallback when node_modules lacks it.
 */
export type FontCandidate = { family: string; files: () => string[] };

export const FONT_CANDIDATES: FontCandidate[] = [
  {
    family: "Inter",
    files: () => [
      require.resolve("@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf"),
      require.resolve("@expo-google-fonts/inter/600SemiBold/Inter_600SemiBold.ttf"),
    ],
  },
  {
    family: "DejaVu Sans",
    files: () => [
      "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
      "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ],
  },
];

function existing(candidate: () => string[]): string[] {
  try {
    return candidate().filter((f) => existsSync(f));
  } catch {
    // require.resolve throws when the package is absent; that candidate simply does not apply.
    return [];
  }
}

/** resvg maps a bare "sans-serif" to Arial or else the first font it finds, often a serif one. */
export const SYSTEM_SANS = "DejaVu Sans, Liberation Sans, Noto Sans, Arial, Helvetica, sans-serif";

/** The first candidate family whose files exist, else whatever fonts the system has. */
export function chooseChartFonts(candidates: FontCandidate[]): ChartFonts {
  for (const c of candidates) {
    const files = existing(c.files);
    if (files.length > 0) return { files, family: c.family, useSystemFonts: false };
  }
  return { files: [], family: SYSTEM_SANS, useSystemFonts: true };
}

let cached: ChartFonts | undefined;

/** `chooseChartFonts` over the known candidates, looked up once per process. */
export function resolveChartFonts(): ChartFonts {
  cached ??= chooseChartFonts(FONT_CANDIDATES);
  return cached;
}
