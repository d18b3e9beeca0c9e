/** One health check's verdict as recorded on a stage (numbers seen, and why). */
export type StageHealthCheck = {
  name: string;
  /** The PromQL that ran, with the image, stage and digest filled in. */
  query: string;
  value: number | null;
  requests: number | null;
  outcome: "pass" | "fail" | "inconclusive";
  reason: string;
};

/**
 * A deployed stage's health gate: it bakes until `bakeUntil`, then its checks judge it. Kept on the
 * stage (and in the audit trail) so the card can show the numbers behind a pass, fail or
 * inconclusive.
 */
export type StageHealth = {
  status: "baking" | "pass" | "fail" | "inconclusive";
  /** The configured health check's id, or null for a bake time alone. */
  check: string | null;
  bakeUntil: string;
  checkedAt: string | null;
  checks: StageHealthCheck[];
  /** Whether a failed gate rolls back on its own (the stage policy's autoRollback). */
  autoRollback: boolean;
  /** Times the gate found Prometheus unreachable and asked again later, before judging. */
  unreachable?: number;
};

/** The one line a card or alert shows for a gate's result: the first check that decided it. */
export function healthSummary(h: StageHealth): string {
  const deciding =
    h.checks.find((c) => c.outcome === h.status) ?? h.checks.find((c) => c.outcome !== "pass") ?? h.checks[0];
  if (!deciding) return h.check === null ? "baked, no health check configured" : "no result";
  // The traffic behind the verdict, unless the reason already is about it.
  const traffic =
    deciding.requests === null || deciding.reason.includes("requests")
      ? ""
      : `, ${Math.floor(deciding.requests)} requests`;
  return `${deciding.name}: ${deciding.reason}${traffic}`;
}
