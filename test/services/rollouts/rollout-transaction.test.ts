import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFileSchema } from "../../../src/config/file-schema.js";
import type { Database } from "../../../src/db/client.js";
import { loadRollout } from "../../../src/db/rollout-repository.js";
import { ingestScan, parseReportOrThrow } from "../../../src/services/ingest-scan.js";
import { applyWorkflowRun } from "../../../src/services/rollouts/apply-workflow-run.js";
import { approveStage } from "../../../src/services/rollouts/approve-stage.js";
import { setFreeze } from "../../../src/services/rollouts/freezes.js";
import { recordCandidate } from "../../../src/services/rollouts/record-candidate.js";
import type { RolloutDeps } from "../../../src/services/rollouts/rollout-deps.js";
import { startRollout } from "../../../src/services/rollouts/start-rollout.js";
import { digestOf, type SyntheticVuln, trivyReport } from "../../support/report-builders.js";
import { openRolloutServices, paymentsImage, staticMembership } from "../../support/rollout-services.js";

/**
 * A rollout decision's transaction opens in one round trip (lock timeout, the rollout's lock, the
 * runtime freezes) and writes its stages with the rollout: what a clicker notices of that, on a
 * real Postgres. A click that meets a rollout locked elsewhere gives up within the 2 s lock
 * timeout, records nothing, and goes through once the lock is gone; a Slack freeze set before
 * the click holds the approved stage; the candidate's new findings are told from the running ones.
 */
const image = paymentsImage;
const config = configFileSchema.parse({
  version: 1,
  teams: [{ id: "payments", channel: "C0PAYMENTS", approvers: { groups: ["S0PAYAPPR"], users: [] } }],
  images: [image("payments-api"), image("ledger-api"), image("billing-api")],
  defaultStages: ["rebuild", "staging", "production"],
  stages: {
    rebuild: { approvals: 0 },
    staging: { approvals: 1, expiry: "1h" },
    production: { approvals: 1 },
  },
});
const LEE = { id: "U0LEE", name: "lee" };
const MARIA = { id: "U0MARIA", name: "maria" };
const GROUPS: Record<string, string[]> = { S0PAYAPPR: [LEE.id, MARIA.id] };
const membership = staticMembership(GROUPS);
const ORIGIN = { source: "test" };

let services: Awaited<ReturnType<typeof openRolloutServices>> | undefined;
let app: Database;
const clock = new Date("2026-11-20T09:00:00Z");
let deps: RolloutDeps;

beforeAll(async () => {
  services = await openRolloutServices(config, { now: () => clock, membership });
  ({ app, deps } = services);
}, 30_000);
afterAll(async () => {
  await services?.close();
});

type Vuln = SyntheticVuln;

async function ingest(imageId: string, n: number, vulns: Vuln[], rolloutId?: number) {
  await ingestScan(
    { db: app.db, now: () => clock, onRolloutScan: (s) => recordCandidate(deps, s) },
    {
      report: parseReportOrThrow(
        trivyReport({ image: `ghcr.io/acme/${imageId}:1.0`, digest: digestOf(n), vulns }),
      ),
      uploaderTeam: "payments",
      actor: { id: "token:test", name: "ci" },
      origin: ORIGIN,
      rolloutId,
    },
  );
}

let runs = 9000;
/** Lee starts a rollout (running n → candidate n+1, scanned with `before` and `after`); its rebuild completes. */
async function awaitingStaging(imageId: string, n: number, before: Vuln[] = [], after: Vuln[] = []) {
  await ingest(imageId, n, before);
  const started = await startRollout(deps, {
    image: imageId,
    actor: LEE,
    origin: ORIGIN,
    reason: "rollout transaction",
    trigger: "manual",
  });
  expect(started.ok, started.message).toBe(true);
  const id = started.rolloutId ?? 0;
  await ingest(imageId, n + 1, after, id);
  const rebuild = (await loadRollout(app.db, id))?.stages.find((s) => s.name === "rebuild");
  runs += 1;
  const applied = await applyWorkflowRun(
    deps,
    {
      runId: String(runs),
      title: `rebuild ${rebuild?.dispatchId}`,
      status: "completed",
      conclusion: "success",
      htmlUrl: null,
    },
    ORIGIN,
  );
  expect(applied).toBe("applied");
  return id;
}

const approve = (id: number, candidate: number) =>
  approveStage(deps, {
    rolloutId: id,
    stage: "staging",
    actor: MARIA,
    buttonDigest: digestOf(candidate),
    origin: ORIGIN,
  });

async function counts(id: number) {
  const r = await app.pool.query<{ votes: string; audits: string; dispatches: string }>(
    `SELECT (SELECT count(*) FROM approvals a JOIN rollout_stages s ON s.id = a.stage_id WHERE s.rollout_id = $1) votes,
            (SELECT count(*) FROM audit_events WHERE resource->>'rollout' = $1::text AND action = 'stage.approved') audits,
            (SELECT count(*) FROM outbox WHERE kind = 'github.dispatch' AND (payload->>'rolloutId')::int = $1) dispatches`,
    [id],
  );
  const row = r.rows[0];
  return { votes: Number(row?.votes), audits: Number(row?.audits), dispatches: Number(row?.dispatches) };
}

describe("a rollout decision's transaction", () => {
  it("gives up within the 2 s lock timeout on a rollout locked elsewhere, records nothing, and goes through after", async () => {
    const id = await awaitingStaging("payments-api", 10);
    const before = await counts(id);
    const holder = new pg.Client({ connectionString: services?.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT id FROM rollouts WHERE id = $1 FOR UPDATE", [id]);
      const t0 = performance.now();
      const refused = await approve(id, 11).then(
        () => null,
        (e: unknown) => e,
      );
      const ms = performance.now() - t0;
      expect(String((refused as { message?: string } | null)?.message)).toMatch(/lock timeout/);
      expect(ms).toBeGreaterThan(1_500);
      expect(ms).toBeLessThan(2_500);
      expect(await counts(id)).toEqual(before);
    } finally {
      await holder.query("ROLLBACK");
      await holder.end();
    }
    const approved = await approve(id, 11);
    expect(approved.message).toMatch(/Approved/);
    expect(await counts(id)).toEqual({ votes: before.votes + 1, audits: before.audits + 1, dispatches: 2 });
    // The connection the refused decision used went back to the pool in working order.
    expect((await app.pool.query("SELECT 1 AS one")).rows[0]).toEqual({ one: 1 });
  });

  it("holds an approved stage for a freeze set from Slack before the click, and releases none", async () => {
    const id = await awaitingStaging("ledger-api", 20);
    const frozen = await setFreeze(
      { db: app.db, now: () => clock },
      { environment: "all", on: true, reason: "year-end", actor: LEE, origin: ORIGIN },
    );
    expect(frozen.ok, frozen.message).toBe(true);
    try {
      const approved = await approve(id, 21);
      expect(approved.message).toMatch(/not dispatched: Frozen: year-end/);
      const staging = (await loadRollout(app.db, id))?.stages.find((s) => s.name === "staging");
      expect(staging?.state).toBe("approved");
      expect(staging?.blockedReason).toMatch(/year-end/);
    } finally {
      await setFreeze(
        { db: app.db, now: () => clock },
        { environment: "all", on: false, reason: "done", actor: LEE, origin: ORIGIN },
      );
    }
  });

  it("refuses a candidate that brings a new critical, telling it from the running digest's findings", async () => {
    const old: Vuln = { id: "CVE-2026-1000", pkg: "openssl", severity: "CRITICAL" };
    const fresh: Vuln = { id: "CVE-2026-2000", pkg: "zlib", severity: "CRITICAL" };
    const id = await awaitingStaging("billing-api", 30, [old], [old, fresh]);
    const refused = await approve(id, 31);
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(/CVE-2026-2000/);
    expect(refused.message).not.toMatch(/CVE-2026-1000/);
  });
});
