export type IntegerScale = { max: number; step: number };

const TARGET_TICKS = 4;

/**
 * A zero-based y scale with whole-number ticks (1, 2, 5 × 10ⁿ) and about four intervals. Fixing
 * it here rather than letting the chart library choose means the end labels can be placed
 * knowing where each value lands, and a count never shows a fractional tick like 2.5.
 */
export function integerScale(maxValue: number): IntegerScale {
  const top = Math.max(0, Math.ceil(maxValue));
  if (top <= TARGET_TICKS) return { max: Math.max(top, 1), step: 1 };
  const rough = top / TARGET_TICKS;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  return { max: Math.ceil(top / step) * step, step };
}
