import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditTrail } from "../../src/services/audit/verify-audit-trail.js";
import { arr, fixtures, obj, str } from "../support/fixture-finding-counts.js";
import { startRegistry, type TestRegistry } from "../support/registry.js";
import { trivyReport } from "../support/report-builders.js";
import { dispatchesOf, type RolloutHarness, startRolloutHarness } from "../support/rollout-harness.js";
import { waitFor } from "../support/spawn-cli.js";

/**
 * Base-image freshness against a real registry (Debian's docker-registry behind a Bearer token
 * server): a recorded Trivy report of a real image whose first three layers are "the base", a base
 * tag pushed with exactly those layers, then moved to a new release.
 */
const FIXTURE = join(fixtures, "trivy/fluentd-gems.trivy.json");
const report = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, unknown>;
const diffIds = arr(obj(report.Metadata).DiffIDs).map((d) => String(d));
const BASE_LAYERS = 3;

/** From the raw report, not through our parser: findings per severity in the base's layers and the rest. */
function expectedAttribution() {
  const base: Record<string, Set<string>> = {};
  const app = new Set<string>();
  for (const r of arr(report.Results)) {
    for (const v of arr(obj(r).Vulnerabilities)) {
      const o = obj(v);
      const key = JSON.stringify([
        o.VulnerabilityID,
        o.PkgName,
        o.InstalledVersion,
        o.PkgPath ?? obj(r).Target,
      ]);
      const layer = str(obj(o.Layer).DiffID);
      if (layer !== null && diffIds.slice(0, BASE_LAYERS).includes(layer)) {
        const sev = String(o.Severity).toLowerCase();
        base[sev] ??= new Set();
        base[sev].add(key);
      } else app.add(key);
    }
  }
  return {
    base: Object.fromEntries(Object.entries(base).map(([k, s]) => [k, s.size])),
    app: app.size,
  };
}

/** The id of the one critical finding the raw report places in the base's layers. */
function baseCriticalId(): string {
  for (const r of arr(report.Results)) {
    for (const v of arr(obj(r).Vulnerabilities)) {
      const o = obj(v);
      const layer = str(obj(o.Layer).DiffID);
      if (
        String(o.Severity) === "CRITICAL" &&
        layer !== null &&
        diffIds.slice(0, BASE_LAYERS).includes(layer)
      )
        return String(o.VulnerabilityID);
    }
  }
  throw new Error("the fixture has no critical finding in the base's layers");
}

let registry: TestRegistry;
let h: RolloutHarness;
let baseRef: string;

const yaml = (host: string) => `
version: 1
teams:
  - id: payments
    name: Payments
    channel: C0PAYMENTS
    approvers: { groups: [S0PAYAPPR], users: [] }
images:
  - id: fluentd
    repository: ghcr.io/acme/fluentd
    team: payments
    baseImage: ${host}/library/ruby:3.1
    onBaseImageDrift: notify
  - id: fluentd-auto
    repository: ghcr.io/acme/fluentd-auto
    team: payments
    baseImage: ${host}/library/ruby:3.1
    onBaseImageDrift: rollout
    github:
      repo: acme/fluentd-auto
      workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml }
defaultStages: [rebuild, staging]
stages:
  rebuild: { approvals: 0 }
  staging: { approvals: 1 }
registries:
  - host: "${host}"
    insecure: true
freshness:
  enabled: true
  interval: 1h
`;

async function upload(image: string, digest: string, body: Record<string, unknown>) {
  const q = new URLSearchParams({ image, digest });
  const r = await fetch(`${h.t.baseUrl}/api/v1/scans?${q}`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.uploadToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(r.status, await r.clone().text()).toBeLessThan(300);
}

/** One run of the freshness job, as its scheduler would start it; waits until it finished. */
async function poll(): Promise<void> {
  const { createJobQueues, createRedis } = await import("../../src/jobs/job-queues.js");
  const connection = createRedis(h.t.env.REDIS_URL ?? "", {});
  await connection.connect();
  const queues = createJobQueues({ connection, prefix: h.t.env.REDIS_PREFIX ?? "" });
  const maintenance = new Queue("maintenance", { connection, prefix: h.t.env.REDIS_PREFIX ?? "" });
  try {
    const jobId = `test-poll-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
    await queues.enqueue("check-base-images", {}, { jobId });
    await waitFor(
      async () => {
        const state = await (await maintenance.getJob(jobId))?.getState();
        if (state === "failed") throw new Error((await maintenance.getJob(jobId))?.failedReason);
        return state === "completed";
      },
      20_000,
      "the freshness job",
    );
  } finally {
    await maintenance.close();
    await queues.close();
    connection.disconnect();
  }
}

const statusOf = async (configId: string) =>
  (
    await h.t.owner.pool.query(
      `SELECT s.* FROM image_base_status s JOIN images i ON i.id = s.image_id WHERE i.config_id = $1`,
      [configId],
    )
  ).rows[0];

const driftNotices = () =>
  h.t.slack
    .callsTo("chat.postMessage")
    .filter((c) => String(c.args.text ?? "").startsWith("Base image") && c.args.channel === "C0PAYMENTS");

beforeAll(async () => {
  registry = await startRegistry({ bearer: true });
  baseRef = `${registry.host}/library/ruby:3.1`;
  h = await startRolloutHarness({ yaml: yaml(registry.host) });
  // The base as the image was built on it: exactly the image's first three layers.
  await registry.pushImage("library/ruby", "3.1", { diffIds: diffIds.slice(0, BASE_LAYERS) });
  const digest = `sha256:${"f1".repeat(32)}`;
  await upload("ghcr.io/acme/fluentd", digest, report);
  await upload("ghcr.io/acme/fluentd-auto", `sha256:${"f2".repeat(32)}`, report);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await registry?.stop();
});

describe("base-image freshness against a real registry", () => {
  it("finds both images current on the base they were built on, and says nothing", async () => {
    await poll();
    const s = await statusOf("fluentd");
    expect(s).toMatchObject({ state: "current", base_ref: baseRef, error: null });
    expect(s.current_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(driftNotices()).toHaveLength(0);
    // The bearer flow was used: the token server gave a token for the base's repository.
    expect(registry.tokenRequests.some((t) => t.scope === "repository:library/ruby:pull")).toBe(true);
  });

  it("detects the move within one poll, attributes findings to the base as the report's layers say, notifies and rolls out as configured", async () => {
    const before = (await statusOf("fluentd")).current_digest as string;
    // The base publishes a new release under the same tag: new layers.
    const moved = await registry.pushImage("library/ruby", "3.1", {
      diffIds: [`sha256:${"a1".repeat(32)}`, `sha256:${"a2".repeat(32)}`, `sha256:${"a3".repeat(32)}`],
      created: "2026-11-20T00:00:00Z",
    });
    expect(moved.digest).not.toBe(before);
    await poll();

    const expected = expectedAttribution();
    const s = await statusOf("fluentd");
    expect(s).toMatchObject({ state: "behind", built_on_digest: before, current_digest: moved.digest });
    expect(s.base_counts).toMatchObject(expected.base);
    expect(s.app_findings).toBe(expected.app);
    expect(expected.base.critical).toBe(1);
    // The new base has no scan of its own yet, so nothing is claimed about what a bump fixes.
    expect(s.bump_fixes).toBeNull();

    // notify: one message in the team channel naming the base, the move and what comes from it.
    await waitFor(() => driftNotices().length > 0, 15_000, "the drift notice");
    const notice = driftNotices()[0];
    expect(String(notice?.args.text)).toContain(
      `Base image ${baseRef} moved; fluentd is built on an older release`,
    );
    expect(String(notice?.args.text)).toContain("1 finding (1 critical) from the base");
    const blocks = JSON.stringify(notice?.args.blocks);
    expect(blocks).toContain("drift_patch_now");
    expect(blocks).toContain(`Open findings from the base: 1 · from the image's own layers: ${expected.app}`);

    // rollout: fluentd-auto's rollout started by patchpilot, the bump as its reason; the rebuild is dispatched.
    let rollout: { id: number; trigger: string; reason: string; requested_by: string } | undefined;
    await waitFor(
      async () => {
        rollout = (
          await h.t.owner.pool.query(
            "SELECT r.id, r.trigger, r.reason, r.requested_by FROM rollouts r JOIN images i ON i.id = r.image_id WHERE i.config_id = 'fluentd-auto'",
          )
        ).rows[0];
        return rollout !== undefined;
      },
      15_000,
      "the automatic rollout",
    );
    if (!rollout) throw new Error("no rollout");
    const rolloutId = rollout.id;
    expect(rollout).toMatchObject({ trigger: "base-image", requested_by: "system" });
    expect(rollout.reason).toContain(`${baseRef} ${before.slice(0, 19)}… → ${moved.digest.slice(0, 19)}…`);
    await waitFor(() => dispatchesOf(h, rolloutId, "rebuild").length === 1, 15_000, "the rebuild dispatch");
    await waitFor(() => h.cardText().includes("base image bump"), 15_000, "the card naming the bump");

    // Audited once per image, with the numbers.
    const audits = await h.t.owner.pool.query(
      "SELECT resource, payload FROM audit_events WHERE action = 'base_image.moved' ORDER BY seq",
    );
    expect(audits.rows).toHaveLength(2);
    expect(audits.rows[0].payload).toMatchObject({
      from: before,
      to: moved.digest,
      baseFindings: Object.values(expected.base).reduce((a, b) => a + b, 0),
      baseCritical: 1,
      appFindings: expected.app,
    });
    expect(await verifyAuditTrail(h.t.owner.db)).toMatchObject({ ok: true });
  });

  it("does not tell the team twice about the same move, and knows what a bump fixes once the new base is scanned", async () => {
    const s = await statusOf("fluentd");
    // The new base's own scan: the critical the image got from the old base is gone.
    await upload(
      `${registry.host}/library/ruby`,
      s.current_digest,
      trivyReport({ image: baseRef, vulns: [] }),
    );
    const seenBefore = registry.requestLog.length;
    await poll();
    // A release already recorded costs one HEAD per run (shared by both images), not a pull:
    // registries such as Docker Hub count manifest GETs against a rate limit.
    const asked = registry.requestLog.slice(seenBefore).filter((r) => r.path.includes("/manifests/"));
    expect(asked.filter((r) => r.method === "GET")).toHaveLength(0);
    expect(asked.filter((r) => r.method === "HEAD" && r.status === 200)).toHaveLength(1);
    const after = await statusOf("fluentd");
    expect(after.bump_fixes).toMatchObject({ critical: 1 });
    expect(driftNotices()).toHaveLength(1);
    const audits = await h.t.owner.pool.query("SELECT 1 FROM audit_events WHERE action = 'base_image.moved'");
    expect(audits.rowCount).toBe(2);
    // /patch status shows the base, the drift and what bumping fixes.
    const status = await h.patch("status fluentd");
    const shown = JSON.stringify(status);
    expect(shown).toContain(
      `Base image \`${baseRef}\` — newer release \`${after.current_digest.slice(0, 19)}…\` available`,
    );
    expect(shown).toContain("days behind");
    expect(shown).toContain("bumping fixes 🔴 1");
    // The weekly digest lists the base the team's images are behind on, with what a bump fixes.
    await h.patch("digest payments");
    await waitFor(
      () =>
        h.t.slack
          .callsTo("chat.postMessage")
          .some((c) => JSON.stringify(c.args.blocks).includes("Base images that moved")),
      15_000,
      "the digest",
    );
    const digest = h.t.slack
      .callsTo("chat.postMessage")
      .find((c) => JSON.stringify(c.args.blocks).includes("Base images that moved"));
    const digestText = JSON.stringify(digest?.args.blocks);
    expect(digestText).toContain(`${baseRef}`);
    expect(digestText).toMatch(/2 images \(fluentd, fluentd-auto\)|2 images \(fluentd-auto, fluentd\)/);
  });

  it("leaves an accepted finding out of what comes from the base and what a bump fixes", async () => {
    const critical = baseCriticalId();
    await h.t.owner.pool.query(
      `INSERT INTO risk_acceptances (vulnerability_id, team_id, source, status, reason, accepted_by, expires_at)
       VALUES ($1, 'payments', 'cli', 'accepted', 'not reachable from the network', 'U0SEC', now() + interval '30 days')`,
      [critical],
    );
    await poll();
    const accepted = await statusOf("fluentd");
    const expected = expectedAttribution();
    expect(accepted.base_counts).toMatchObject({ ...expected.base, critical: 0 });
    expect(accepted.bump_fixes).toMatchObject({ critical: 0 });
    expect(JSON.stringify(await h.patch("status fluentd"))).not.toContain("bumping fixes 🔴");

    // Once the acceptance is gone, the next check counts it again.
    await h.t.owner.pool.query("DELETE FROM risk_acceptances WHERE vulnerability_id = $1", [critical]);
    await poll();
    expect((await statusOf("fluentd")).base_counts).toMatchObject(expected.base);
  });

  it("a registry that cannot be reached is recorded on the image's status, which keeps what was known", async () => {
    await registry.stop();
    await poll();
    const s = await statusOf("fluentd");
    expect(s.error).toMatch(/127\.0\.0\.1:\d+/);
    expect(s.state).toBe("behind");
  });
});
