import type { GroupSpec } from "./build-uploads.js";
import type { GroupResult } from "./run-group.js";

export type GroupSummary = {
  shape: GroupSpec["shape"];
  size: number;
  count: number;
  rounds: GroupResult[];
  /** The round whose uploads went fastest; its wall time, CPU and diff figures are reported. */
  best: GroupResult;
  oursPerSecond: number[];
  copyPerSecond: number[];
  bestOurs: number;
  bestCopy: number;
  /** Latencies of every round together. */
  latenciesMs: number[];
  errors: string[];
  skipped: number;
  peakRssKb: number;
};

/**
 * Groups the rounds of each size and shape. Each side keeps its best round: noise from other
 * work on a shared machine only slows a run down, so the best round is the nearest to capacity.
 */
export function summarizeRounds(results: readonly GroupResult[]): GroupSummary[] {
  const keys = [...new Set(results.map((g) => `${g.spec.shape}:${g.spec.size}`))];
  return keys.map((key) => {
    const rounds = results.filter((g) => `${g.spec.shape}:${g.spec.size}` === key);
    const first = rounds[0];
    if (!first) throw new Error(`no rounds for ${key}`);
    const ours = rounds.map((g) => g.post.storedFindings / (g.post.wallMs / 1000));
    const copy = rounds.map((g) => g.totalFindings / (g.copyMs / 1000));
    const bestOurs = Math.max(...ours);
    return {
      shape: first.spec.shape,
      size: first.spec.size,
      count: first.spec.count,
      rounds,
      best: rounds[ours.indexOf(bestOurs)] ?? first,
      oursPerSecond: ours,
      copyPerSecond: copy,
      bestOurs,
      bestCopy: Math.max(...copy),
      latenciesMs: rounds.flatMap((g) => g.post.latenciesMs),
      errors: rounds.flatMap((g) => g.post.errors),
      skipped: rounds.reduce((n, g) => n + g.post.skipped, 0),
      peakRssKb: Math.max(...rounds.map((g) => g.peakRssKb)),
    };
  });
}
