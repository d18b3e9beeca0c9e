import { Counter, Gauge, type Registry } from "prom-client";
import type { Logger } from "../../adapters/logger.js";
import { SEVERITIES } from "../../core/digest/severity-counts.js";
import { ROLLOUT_STATES } from "../../core/rollout/rollout-state.js";
import { BASE_IMAGE_STATES, type PostureSnapshot } from "./posture-snapshot.js";

export type PostureMetrics = {
  /**
   * Computes the snapshot now (unless one is already being computed: then waits for that one).
   * Scrapes never call this; they start a refresh in the background when the values are stale.
   */
  refresh(): Promise<void>;
  /** Resolves when the refresh in flight, if any, has finished; starts none. */
  settled(): Promise<void>;
  /** No refresh starts after this; resolves when the one in flight (if any) has finished. */
  stop(): Promise<void>;
};

export type PostureMetricsOptions = {
  registry: Registry;
  /** The fleet pass (`postureSnapshot` bound to the database, the SLA policy and the clock). */
  load: () => Promise<PostureSnapshot>;
  logger: Pick<Logger, "warn">;
  /** At most one fleet pass per interval, however often /metrics is scraped. */
  intervalMs?: number;
  /** Milliseconds of a monotonic clock, for staleness (not the business clock the SLA reads). */
  clockMs?: () => number;
};

export const POSTURE_METRICS_INTERVAL_MS = 60_000;

/**
 * The fleet's posture as Prometheus gauges in `registry`. The aggregate behind it takes about a
 * second on a large fleet, so it never runs inside a scrape: a scrape serves the last values and,
 * when they are older than the interval, starts one refresh in the background (single flight; a
 * failed one is not retried before the interval has passed again). Nothing is computed for a
 * process nobody scrapes, and no timer holds the process open.
 * `patchpilot_posture_metrics_age_seconds` says how old the served values are.
 */
export function createPostureMetrics(opts: PostureMetricsOptions): PostureMetrics {
  const intervalMs = opts.intervalMs ?? POSTURE_METRICS_INTERVAL_MS;
  const clockMs = opts.clockMs ?? (() => performance.now());
  const registers = [opts.registry];
  const createdAtMs = clockMs();
  let computedAtMs: number | null = null;
  let lastAttemptMs: number | null = null;
  let inFlight: Promise<void> | null = null;
  let stopped = false;

  const team = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ["team"] as const, registers });
  // A second label from a fixed set (severity, state): team × that set bounds the series.
  const teamAnd = <L extends string>(name: string, help: string, label: L) =>
    new Gauge({ name, help, labelNames: ["team", label] as const, registers });
  const open = teamAnd(
    "patchpilot_open_findings",
    "Open findings (latest scan of each image, not accepted or suppressed by VEX) by team and severity",
    "severity",
  );
  const breached = team("patchpilot_sla_breached_findings", "Open findings at or past their SLA due date");
  const dueSoon = team(
    "patchpilot_sla_due_soon_findings",
    "Open findings not yet breached that fall due within the SLA's dueSoonDays",
  );
  const fixable = team("patchpilot_fixable_findings", "Open findings with a fixed version available");
  const knownExploited = team("patchpilot_known_exploited_findings", "Open findings known to be exploited");
  const accepted = team(
    "patchpilot_accepted_findings",
    "Findings of the latest scans covered by a risk acceptance or VEX statement in force",
  );
  const scanned = team("patchpilot_scanned_images", "Images with at least one scan");
  const baseImages = teamAnd(
    "patchpilot_base_images",
    "Images with a base image by freshness state (current, behind, unknown)",
    "state",
  );
  const driftAge = team(
    "patchpilot_base_image_drift_age_seconds",
    "Seconds since the base tag moved, of the team's longest-behind image (0: none behind)",
  );
  const rollouts = teamAnd("patchpilot_rollouts", "Rollouts by team and state", "state");
  const approvals = team("patchpilot_approvals_waiting", "Open rollouts whose current stage awaits approval");
  const approvalWait = team(
    "patchpilot_approvals_waiting_max_age_seconds",
    "Seconds the longest-waiting approval request has waited (0: none waiting)",
  );
  const refreshDuration = new Gauge({
    name: "patchpilot_posture_metrics_refresh_duration_seconds",
    help: "How long the last successful posture refresh took",
    registers,
  });
  const refreshFailures = new Counter({
    name: "patchpilot_posture_metrics_refresh_failures_total",
    help: "Posture refreshes that failed (the previous values are served meanwhile)",
    registers,
  });

  const apply = (snapshot: PostureSnapshot) => {
    // Synchronous from reset to the last set: a scrape never sees half a snapshot, and a team
    // removed from the config disappears with it.
    for (const g of [open, breached, dueSoon, fixable, knownExploited, accepted, scanned, baseImages])
      g.reset();
    for (const g of [driftAge, rollouts, approvals, approvalWait]) g.reset();
    for (const [name, t] of snapshot.teams) {
      for (const severity of SEVERITIES) open.set({ team: name, severity }, t.open[severity]);
      breached.set({ team: name }, t.breached);
      dueSoon.set({ team: name }, t.dueSoon);
      fixable.set({ team: name }, t.fixable);
      knownExploited.set({ team: name }, t.knownExploited);
      accepted.set({ team: name }, t.accepted);
      scanned.set({ team: name }, t.scannedImages);
      for (const state of BASE_IMAGE_STATES) baseImages.set({ team: name, state }, t.baseImages[state]);
      driftAge.set({ team: name }, t.driftAgeSeconds);
      for (const state of ROLLOUT_STATES) rollouts.set({ team: name, state }, t.rollouts[state]);
      approvals.set({ team: name }, t.approvalsWaiting);
      approvalWait.set({ team: name }, t.approvalWaitSeconds);
    }
  };

  const refresh = (): Promise<void> => {
    if (inFlight) return inFlight;
    if (stopped) return Promise.resolve();
    const started = clockMs();
    lastAttemptMs = started;
    inFlight = (async () => {
      try {
        const snapshot = await opts.load();
        apply(snapshot);
        computedAtMs = clockMs();
        refreshDuration.set((computedAtMs - started) / 1000);
      } catch (e) {
        refreshFailures.inc();
        opts.logger.warn(
          { err: e instanceof Error ? e.message : String(e) },
          "computing posture metrics failed; /metrics serves the previous values",
        );
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };

  new Gauge({
    name: "patchpilot_posture_metrics_age_seconds",
    help: "Seconds since the posture metrics were computed (before the first success: since the process started)",
    registers,
    collect() {
      // Runs in every scrape: start a refresh when due, never wait for it.
      if (
        !stopped &&
        inFlight === null &&
        (lastAttemptMs === null || clockMs() - lastAttemptMs >= intervalMs)
      )
        void refresh();
      this.set((clockMs() - (computedAtMs ?? createdAtMs)) / 1000);
    },
  });

  return {
    refresh,
    async settled() {
      await inFlight;
    },
    async stop() {
      stopped = true;
      await inFlight;
    },
  };
}
