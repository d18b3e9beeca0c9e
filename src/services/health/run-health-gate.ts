import type {
  PrometheusClient,
  PromValue,
  QuerySource,
} from "../../adapters/prometheus/prometheus-client.js";
import {
  combineGate,
  evaluateHealthCheck,
  type HealthCheckConfig,
  type HealthOutcome,
} from "../../core/health/evaluate-health-check.js";
import {
  type HealthQueryVars,
  healthQueryProblems,
  renderHealthQuery,
} from "../../core/health/render-health-query.js";

/** What the gate needs from Prometheus (the adapter's client, or a stand-in). */
export type PrometheusQueries = Pick<PrometheusClient, "query">;

export type GateCheckResult = {
  /** The `healthChecks` id. */
  name: string;
  /** The PromQL as sent, placeholders filled in. */
  query: string;
  /** The worst sample; null when there was none (or it was NaN / ±Inf, which the reason spells out). */
  value: number | null;
  /** Requests in the window; null without a requests query or when it returned nothing. */
  requests: number | null;
  outcome: HealthOutcome;
  reason: string;
  /** Inconclusive only because Prometheus was unreachable or unavailable: asking later may judge it. */
  transient?: boolean;
};

/** A gate's verdict, plain JSON (for the audit trail and job data). */
export type GateResult = {
  outcome: HealthOutcome;
  /** When the queries were evaluated (ISO 8601). */
  checkedAt: string;
  checks: GateCheckResult[];
};

/**
 * Runs a stage's health checks against Prometheus at `now` and combines them. Never throws and
 * never guesses: a check whose query cannot be rendered, is rejected, or whose Prometheus cannot
 * be reached (after the client's retries) is inconclusive, with the reason.
 */
export async function runHealthGate(
  client: PrometheusQueries,
  checks: ReadonlyArray<{ name: string; check: HealthCheckConfig }>,
  vars: HealthQueryVars,
  now: Date,
): Promise<GateResult> {
  const results = await Promise.all(
    checks.map(({ name, check }) => runCheck(client, name, check, vars, now)),
  );
  return { outcome: combineGate(results), checkedAt: now.toISOString(), checks: results };
}

async function runCheck(
  client: PrometheusQueries,
  name: string,
  check: HealthCheckConfig,
  vars: HealthQueryVars,
  now: Date,
): Promise<GateCheckResult> {
  const query = renderHealthQuery(check.query, vars);
  const inconclusive = (reason: string, transient = false): GateCheckResult => ({
    name,
    query,
    value: null,
    requests: null,
    outcome: "inconclusive",
    reason,
    ...(transient ? { transient } : {}),
  });

  const fields = [
    ["query", check.query],
    ["requestsQuery", check.requestsQuery],
  ] as const;
  for (const [field, template] of fields) {
    const problem = template === undefined ? undefined : healthQueryProblems(template, vars)[0];
    if (problem !== undefined)
      return inconclusive(`healthChecks.${name}.${field} in patchpilot.yaml: ${problem}`);
  }

  const ask = async (promql: string, field: NonNullable<QuerySource["field"]>) => {
    try {
      return { ok: true as const, value: await client.query(promql, now, { healthCheck: name, field }) };
    } catch (err) {
      return {
        ok: false as const,
        reason: errorReason(err),
        transient:
          err instanceof Error &&
          err.name === "PrometheusError" &&
          (err as { retryable?: boolean }).retryable === true,
      };
    }
  };
  const [main, reqs] = await Promise.all([
    ask(query, "query"),
    check.requestsQuery === undefined
      ? undefined
      : ask(renderHealthQuery(check.requestsQuery, vars), "requestsQuery"),
  ]);
  if (!main.ok) return inconclusive(main.reason, main.transient);
  if (reqs !== undefined && !reqs.ok)
    return inconclusive(`the requests query failed: ${reqs.reason}`, reqs.transient);

  const samples = numbersOf(main.value);
  if (samples === undefined)
    return inconclusive(
      `healthChecks.${name}.query returns a ${main.value.type}, not a number: use an instant vector or scalar, e.g. sum(rate(x[5m]))`,
    );
  let requests: number | null | undefined;
  if (reqs !== undefined) {
    const counted = numbersOf(reqs.value);
    if (counted === undefined)
      return inconclusive(
        `healthChecks.${name}.requestsQuery returns a ${reqs.value.type}, not a number: use e.g. sum(increase(x[5m]))`,
      );
    // Several series (one per pod, say) add up to the requests in the window.
    requests = counted.length === 0 ? null : counted.reduce((a, b) => a + b, 0);
  }
  const verdict = evaluateHealthCheck(check, { samples, requests });
  return { name, query, ...verdict };
}

function numbersOf(v: PromValue): number[] | undefined {
  if (v.type === "vector") return v.samples.map((s) => s.value);
  if (v.type === "scalar") return [v.value];
  return undefined;
}

function errorReason(err: unknown): string {
  // PrometheusError messages are written for people; anything else is our bug, shown briefly.
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split("\n")[0] ?? "";
  return err instanceof Error && err.name === "PrometheusError"
    ? line
    : `the check could not be run: ${line}`;
}
