import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PatchpilotConfig } from "../../src/config/file-schema.js";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { slaPolicyFromConfig } from "../../src/config/sla-policy-from-config.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { imageBaseStatus, images } from "../../src/db/schema/index.js";
import { createMetrics } from "../../src/http/metrics.js";
import type { GroupMembership } from "../../src/services/group-membership.js";
import { ingestScan, parseReportOrThrow } from "../../src/services/ingest-scan.js";
import { createPostureMetrics, type PostureMetrics } from "../../src/services/metrics/posture-metrics.js";
import { postureSnapshot } from "../../src/services/metrics/posture-snapshot.js";
import { startRollout } from "../../src/services/rollouts/start-rollout.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { parseExposition, type Sample } from "../support/prometheus-exposition.js";
import { digestOf, type SyntheticVuln, trivyReport } from "../support/report-builders.js";

const CONFIG = `
version: 1
teams:
  - { id: payments, name: Payments, channel: C0PAYMENTS, approvers: { groups: [S0PAYAPPR], users: [] } }
  - { id: search, name: Search, channel: C0SEARCH, approvers: { groups: [S0SEARCHAP], users: [] } }
images:
  - id: payments-api
    repository: ghcr.io/acme/payments-api
    team: payments
    baseImage: node:22-bookworm-slim
    stages: [staging]
    github: { repo: acme/payments-api, workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml } }
  - id: search-api
    repository: ghcr.io/acme/search-api
    team: search
    baseImage: eclipse-temurin:21-jre
stages:
  staging: { approvals: 1 }
sla: { critical: 7, high: 30, medium: 90, low: 180, dueSoonDays: 7 }
`;

const DAY = 86_400_000;
const NOW = new Date("2026-11-20T12:00:00Z");
const ago = (ms: number) => new Date(NOW.getTime() - ms);

let database: TestDatabase;
let app: Database;
let config: PatchpilotConfig;

const membership: GroupMembership = {
  members: async () => new Set(),
  groupsOf: async () => [],
};

async function ingest(at: Date, image: string, team: string | null, n: number, vulns: SyntheticVuln[]) {
  await ingestScan(
    { db: app.db, now: () => at },
    {
      report: parseReportOrThrow(trivyReport({ image, digest: digestOf(n), vulns })),
      uploaderTeam: team,
      actor: { id: "token:test", name: "ci" },
      origin: { source: "test" },
    },
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 8 });
  const parsed = parseConfigText(CONFIG);
  if (!parsed.ok) throw new Error(`test config invalid: ${JSON.stringify(parsed)}`);
  config = parsed.config;
  await syncConfig(app.db, config, (r) => normalizeImageRef(r).repository);
  // payments: a critical first seen 10 days ago (7-day SLA: breached) and a high (30 days: fine).
  await ingest(ago(10 * DAY), "ghcr.io/acme/payments-api", "payments", 1, [
    { id: "CVE-2026-0001", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.9" },
    { id: "CVE-2026-0002", pkg: "zlib", severity: "HIGH" },
  ]);
  // search: a critical seen yesterday (due in 6 days: due soon) and a low.
  await ingest(ago(DAY), "ghcr.io/acme/search-api", "search", 2, [
    { id: "CVE-2026-0003", pkg: "glibc", severity: "CRITICAL" },
    { id: "CVE-2026-0004", pkg: "curl", severity: "LOW" },
  ]);
  // An image no config names: uploaded by an operator, owned by nobody.
  await ingest(ago(2 * DAY), "ghcr.io/acme/stray-tool", null, 3, [
    { id: "CVE-2026-0005", pkg: "busybox", severity: "HIGH" },
  ]);

  // The freshness check found payments-api's base moved three days ago; search-api's is current.
  const ids = new Map((await app.db.select().from(images)).map((i) => [i.configId, i.id]));
  const base = { checkedAt: NOW, currentDigest: digestOf(90) };
  await app.db.insert(imageBaseStatus).values([
    {
      ...base,
      imageId: String(ids.get("payments-api")),
      baseRef: "node:22-bookworm-slim",
      state: "behind",
      builtOnDigest: digestOf(89),
      movedAt: ago(3 * DAY),
    },
    { ...base, imageId: String(ids.get("search-api")), baseRef: "eclipse-temurin:21-jre", state: "current" },
  ]);

  // A rollout of payments-api, started two hours ago, waits at its staging approval.
  const started = await startRollout(
    { db: app.db, config, now: () => ago(2 * 3_600_000), membership, afterCommit: async () => {} },
    {
      image: "payments-api",
      actor: { id: "U0LEE", name: "lee" },
      origin: { source: "test" },
      reason: null,
      trigger: "manual",
    },
  );
  expect(started.ok, started.message).toBe(true);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

/** A posture-metrics collector on its own registry, with a hand-driven monotonic clock. */
function collector(opts: { load?: () => ReturnType<typeof postureSnapshot> } = {}) {
  const metrics = createMetrics();
  let clockMs = 1_000_000;
  let loads = 0;
  const warnings: unknown[] = [];
  const posture: PostureMetrics = createPostureMetrics({
    registry: metrics.registry,
    intervalMs: 60_000,
    clockMs: () => clockMs,
    logger: { warn: (o: unknown) => void warnings.push(o) },
    load: () => {
      loads++;
      return (
        opts.load ?? (() => postureSnapshot(app.db, { now: NOW, sla: slaPolicyFromConfig(config.sla) }))
      )();
    },
  });
  return {
    posture,
    warnings,
    loads: () => loads,
    advance: (ms: number) => {
      clockMs += ms;
    },
    scrape: async () => parseExposition(await metrics.registry.metrics()),
  };
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;

const POSTURE_NAMES = [
  "patchpilot_open_findings",
  "patchpilot_sla_breached_findings",
  "patchpilot_sla_due_soon_findings",
  "patchpilot_fixable_findings",
  "patchpilot_known_exploited_findings",
  "patchpilot_accepted_findings",
  "patchpilot_scanned_images",
  "patchpilot_base_images",
  "patchpilot_base_image_drift_age_seconds",
  "patchpilot_rollouts",
  "patchpilot_approvals_waiting",
  "patchpilot_approvals_waiting_max_age_seconds",
];

describe("posture on /metrics", () => {
  it("exports open findings, SLA, base-image drift, rollouts and approvals by team", async () => {
    const c = collector();
    // The first scrape has nothing to serve yet: it starts the computation and returns at once.
    const first = await c.scrape();
    expect(first.some((s) => s.name === "patchpilot_open_findings")).toBe(false);
    // Until the first success, the age counts from the start: an alert on it also catches "never".
    expect(value(first, "patchpilot_posture_metrics_age_seconds")).toBe(0);
    await c.posture.settled();
    c.advance(5_000);
    const s = await c.scrape();

    const open = (team: string, severity: string) => value(s, "patchpilot_open_findings", { team, severity });
    expect([open("payments", "critical"), open("payments", "high"), open("payments", "low")]).toEqual([
      1, 1, 0,
    ]);
    expect([open("search", "critical"), open("search", "low")]).toEqual([1, 1]);
    expect([open("unowned", "high"), open("unowned", "critical")]).toEqual([1, 0]);

    const byTeam = (name: string) =>
      Object.fromEntries(["payments", "search", "unowned"].map((team) => [team, value(s, name, { team })]));
    expect(byTeam("patchpilot_sla_breached_findings")).toEqual({ payments: 1, search: 0, unowned: 0 });
    expect(byTeam("patchpilot_sla_due_soon_findings")).toEqual({ payments: 0, search: 1, unowned: 0 });
    expect(byTeam("patchpilot_fixable_findings")).toEqual({ payments: 1, search: 0, unowned: 0 });
    expect(byTeam("patchpilot_scanned_images")).toEqual({ payments: 1, search: 1, unowned: 1 });

    expect(value(s, "patchpilot_base_images", { team: "payments", state: "behind" })).toBe(1);
    expect(value(s, "patchpilot_base_images", { team: "search", state: "behind" })).toBe(0);
    expect(value(s, "patchpilot_base_images", { team: "search", state: "current" })).toBe(1);
    expect(byTeam("patchpilot_base_image_drift_age_seconds")).toEqual({
      payments: 3 * 86_400,
      search: 0,
      unowned: 0,
    });

    expect(value(s, "patchpilot_rollouts", { team: "payments", state: "active" })).toBe(1);
    expect(value(s, "patchpilot_rollouts", { team: "search", state: "active" })).toBe(0);
    expect(byTeam("patchpilot_approvals_waiting")).toEqual({ payments: 1, search: 0, unowned: 0 });
    expect(value(s, "patchpilot_approvals_waiting_max_age_seconds", { team: "payments" })).toBe(7_200);

    expect(value(s, "patchpilot_posture_metrics_age_seconds")).toBe(5);

    // Bounded cardinality: only team, severity and state labels, and only configured teams + unowned.
    const posture = s.filter((x) => POSTURE_NAMES.includes(x.name));
    expect(new Set(posture.map((x) => x.name))).toEqual(new Set(POSTURE_NAMES));
    for (const x of posture) {
      expect(Object.keys(x.labels).every((l) => ["team", "severity", "state"].includes(l))).toBe(true);
      expect(["payments", "search", "unowned"]).toContain(x.labels.team);
    }
  });

  it("computes at most once per interval, and serves new numbers after it", async () => {
    const c = collector();
    await c.scrape();
    await c.posture.settled();
    expect(
      value(await c.scrape(), "patchpilot_open_findings", { team: "unowned", severity: "critical" }),
    ).toBe(0);

    // A new critical in the stray image. Within the interval, scrapes keep serving the last values.
    await ingest(ago(DAY / 2), "ghcr.io/acme/stray-tool", null, 4, [
      { id: "CVE-2026-0005", pkg: "busybox", severity: "HIGH" },
      { id: "CVE-2026-0006", pkg: "musl", severity: "CRITICAL" },
    ]);
    c.advance(30_000);
    for (let i = 0; i < 5; i++) await c.scrape();
    expect(c.loads()).toBe(1);
    const stale = await c.scrape();
    expect(value(stale, "patchpilot_open_findings", { team: "unowned", severity: "critical" })).toBe(0);
    expect(value(stale, "patchpilot_posture_metrics_age_seconds")).toBe(30);

    // Past the interval the next scrape starts one refresh; the one after sees its numbers.
    c.advance(31_000);
    await Promise.all([c.scrape(), c.scrape(), c.scrape()]);
    expect(c.loads()).toBe(2);
    await c.posture.settled();
    const fresh = await c.scrape();
    expect(value(fresh, "patchpilot_open_findings", { team: "unowned", severity: "critical" })).toBe(1);
    expect(value(fresh, "patchpilot_posture_metrics_age_seconds")).toBe(0);
  });

  it("answers a scrape while the fleet query is stuck, with the last values and their age", async () => {
    let running = false;
    const c = collector({
      load: async () => {
        running = true;
        try {
          return await postureSnapshot(app.db, { now: NOW, sla: slaPolicyFromConfig(config.sla) });
        } finally {
          running = false;
        }
      },
    });
    await c.posture.refresh();
    // Another session holds images locked: the aggregate cannot read until it lets go.
    const lock = await app.pool.connect();
    try {
      await lock.query("BEGIN");
      await lock.query("LOCK TABLE images IN ACCESS EXCLUSIVE MODE");
      c.advance(61_000);
      await c.scrape(); // starts the refresh, which now waits for the lock
      const started = Date.now();
      const during = await c.scrape();
      expect(Date.now() - started).toBeLessThan(500);
      expect(running).toBe(true);
      expect(value(during, "patchpilot_open_findings", { team: "payments", severity: "critical" })).toBe(1);
      expect(value(during, "patchpilot_posture_metrics_age_seconds")).toBe(61);
      expect(c.loads()).toBe(2);
    } finally {
      await lock.query("COMMIT");
      lock.release();
    }
    await c.posture.stop();
    expect(running).toBe(false);
    expect(value(await c.scrape(), "patchpilot_posture_metrics_age_seconds")).toBe(0);
    // Stopped: however stale, no new fleet pass starts.
    c.advance(600_000);
    await c.scrape();
    expect(c.loads()).toBe(2);
  });

  it("keeps serving the last values when a refresh fails, and counts the failure", async () => {
    let fail = false;
    const c = collector({
      load: async () => {
        if (fail) throw new Error("connection terminated");
        return postureSnapshot(app.db, { now: NOW, sla: slaPolicyFromConfig(config.sla) });
      },
    });
    await c.posture.refresh();
    fail = true;
    c.advance(60_000);
    await c.scrape();
    await c.posture.settled();
    const s = await c.scrape();
    expect(value(s, "patchpilot_posture_metrics_refresh_failures_total")).toBe(1);
    expect(value(s, "patchpilot_sla_breached_findings", { team: "payments" })).toBe(1);
    expect(value(s, "patchpilot_posture_metrics_age_seconds")).toBe(60);
    expect(c.warnings).toHaveLength(1);
    // Not retried on every scrape: the next attempt waits for the interval.
    await c.scrape();
    expect(c.loads()).toBe(2);
  });
});
