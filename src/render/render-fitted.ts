import { type BlockKitPayload, type BlockKitSurface, checkBlockKitLimits } from "./block-kit-limits.js";

/**
 * Builds with `maxShown` items per list, then fewer until Slack's limits hold. Item texts are
 * clipped so `maxShown` fits in practice; this is the guarantee for text that escapes to far more
 * than it looked (every `&` becomes `&amp;`). Returns the build at 0 if nothing fits.
 */
export function renderFitted<T extends BlockKitPayload>(
  build: (shown: number) => T,
  surface: BlockKitSurface,
  maxShown: number,
): { rendered: T; shown: number } {
  for (let shown = maxShown; shown > 0; shown--) {
    const rendered = build(shown);
    if (checkBlockKitLimits(rendered, surface).length === 0) return { rendered, shown };
  }
  return { rendered: build(0), shown: 0 };
}
