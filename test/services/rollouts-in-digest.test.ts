import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFileSchema } from "../../src/config/file-schema.js";
import { slaPolicyFromConfig } from "../../src/config/sla-policy-from-config.js";
import { digestPeriod } from "../../src/core/digest/digest-period.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { loadRollout } from "../../src/db/rollout-repository.js";
import { renderRolloutProgress } from "../../src/render/render-rollout-progress.js";
import { buildTeamDigest } from "../../src/services/build-team-digest.js";
import { createHomeView } from "../../src/services/home-view.js";
import { ingestScan, parseReportOrThrow } from "../../src/services/ingest-scan.js";
import { applyWorkflowRun } from "../../src/services/rollouts/apply-workflow-run.js";
import { approveStage } from "../../src/services/rollouts/approve-stage.js";
import { recordCandidate } from "../../src/services/rollouts/record-candidate.js";
import type { RolloutDeps } from "../../src/services/rollouts/rollout-deps.js";
import { startRollout } from "../../src/services/rollouts/start-rollout.js";
import { imageStatusView, teamStatusView } from "../../src/services/status-views.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { digestOf, type SyntheticVuln, trivyReport } from "../support/report-builders.js";
import { staticMembership } from "../support/rollout-services.js";

const config = configFileSchema.parse({
  version: 1,
  teams: [
    {
      id: "payments",
      name: "Payments",
      channel: "C0PAYMENTS",
      approvers: { groups: ["S0PAYAPPR"], users: [] },
    },
    { id: "search", channel: "C0SEARCH", approvers: { groups: ["S0SEARCHAP"], users: [] } },
  ],
  images: [
    {
      id: "payments-api",
      repository: "ghcr.io/acme/payments-api",
      team: "payments",
      github: {
        repo: "acme/payments-api",
        workflows: { build: "build.yml", deploy: "deploy.yml", rollback: "rollback.yml" },
      },
    },
  ],
  defaultStages: ["rebuild", "staging", "production"],
  stages: {
    rebuild: { approvals: 0 },
    staging: { approvals: 1 },
    production: { approvals: 2, requiredGroups: ["S0SECURITY"], confirm: true },
  },
});
const sla = slaPolicyFromConfig(config.sla);
const GROUPS: Record<string, string[]> = {
  S0PAYAPPR: ["U0MARIA", "U0LEE"],
  S0SEARCHAP: ["U0SEARCHER"],
  S0SECURITY: ["U0SEC"],
};
const membership = staticMembership(GROUPS);

let database: TestDatabase;
let app: Database;
let clock = new Date("2026-11-16T09:00:00Z");
let deps: RolloutDeps;
let rolloutId: number;
let imageId: string;

async function ingest(n: number, vulns: SyntheticVuln[], forRollout?: number) {
  const r = await ingestScan(
    {
      db: app.db,
      now: () => clock,
      onRolloutScan: (s) => recordCandidate(deps, s),
    },
    {
      report: parseReportOrThrow(
        trivyReport({ image: "ghcr.io/acme/payments-api:1.0", digest: digestOf(n), vulns }),
      ),
      uploaderTeam: "payments",
      actor: { id: "token:test", name: "ci" },
      origin: { source: "test" },
      rolloutId: forRollout,
    },
  );
  return r;
}

async function stageOf(name: string) {
  const loaded = await loadRollout(app.db, rolloutId);
  const s = loaded?.stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return s;
}

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  await syncConfig(app.db, config, (r) => normalizeImageRef(r).repository);
  deps = { db: app.db, config, now: () => clock, membership, afterCommit: async () => {} };

  // Running digest 1 has a critical and a high; the rebuild (digest 2) fixes both.
  const running = await ingest(1, [
    { id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" },
    { id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH", fixed: "1.3.1" },
  ]);
  const started = await startRollout(deps, {
    image: "payments-api",
    actor: { id: "U0LEE", name: "lee" },
    origin: { source: "test" },
    reason: "fix openssl",
    trigger: "manual",
  });
  expect(started.ok, started.message).toBe(true);
  rolloutId = started.rolloutId ?? 0;
  const loaded = await loadRollout(app.db, rolloutId);
  imageId = loaded?.rollout.imageId ?? "";
  expect(running.digest).toBe(loaded?.rollout.runningDigest);

  // The build uploads its scan for the rollout (the candidate), then its run succeeds.
  clock = new Date("2026-11-16T09:10:00Z");
  await ingest(2, [], rolloutId);
  const rebuild = await stageOf("rebuild");
  const applied = await applyWorkflowRun(
    deps,
    {
      runId: "9001",
      title: `build ${rebuild.dispatchId}`,
      status: "completed",
      conclusion: "success",
      htmlUrl: null,
    },
    { source: "test" },
  );
  expect(applied).toBe("applied");
  expect((await stageOf("staging")).state).toBe("awaiting_approval");
  clock = new Date("2026-11-16T10:00:00Z");
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("rollouts where users look", () => {
  it("lists the rollout waiting at staging under the digest's 'Needs a decision'", async () => {
    const vm = await buildTeamDigest(app.db, {
      teamId: "payments",
      subscriptionId: null,
      period: digestPeriod("0 9 * * 1", "UTC", clock),
      now: clock,
      sla,
      unowned: [],
      chartAttached: false,
      config,
    });
    expect(vm?.rolloutsAwaitingApproval).toEqual([
      expect.objectContaining({
        rolloutId,
        image: expect.objectContaining({ imageId, name: "payments-api" }),
        stage: "staging",
        approverGroupId: "S0PAYAPPR",
        approvalsMissing: 1,
        reason: "fix openssl",
        fixes: expect.objectContaining({ critical: 1, high: 1, medium: 0 }),
        requestedAt: new Date("2026-11-16T09:10:00Z"),
      }),
    ]);
    expect(vm?.rolloutsAwaitingApproval[0]?.expiresAt).toBeInstanceOf(Date);
    // Not done yet, so nothing shipped; the team's image row says where the rollout is.
    expect(vm?.shipped.count).toBe(0);
    expect(vm?.topImages.find((i) => i.imageId === imageId)?.rollout).toEqual({
      rolloutId,
      stage: "staging",
      awaitingApproval: true,
    });
  });

  it("shows the rollout's progress in /patch status <image>", async () => {
    const v = await imageStatusView(app.db, { imageId, now: clock, sla, baseImageOf: () => null, config });
    expect(v?.rollouts).toHaveLength(1);
    const line = renderRolloutProgress(v?.rollouts[0] ?? { rolloutId: 0, reason: null, stages: [] });
    expect(line).toContain(`Rollout #${rolloutId} in progress: rebuild ✅ · staging ⏳ awaiting 1 approval`);
    expect(v?.rollouts[0]?.stages.map((s) => [s.name, s.state, s.approvalsMissing])).toEqual([
      ["rebuild", "done", 0],
      ["staging", "awaiting_approval", 1],
      ["production", "pending", 0],
    ]);
    // Without the config (no stage policies) nothing is claimed about approvals.
    const bare = await imageStatusView(app.db, { imageId, now: clock, sla, baseImageOf: () => null });
    expect(bare?.rollouts).toEqual([]);

    const team = await teamStatusView(app.db, { teamId: "payments", now: clock, sla });
    expect(team?.images.find((i) => i.imageId === imageId)?.rollout?.awaitingApproval).toBe(true);
  });

  it("lists it on the App Home of an approver, not of its requester or another team's approver", async () => {
    const home = createHomeView({
      db: app.db,
      sla,
      teamsOfUser: async (u) => (u === "U0SEARCHER" ? ["search"] : ["payments"]),
      now: () => clock,
      config,
      membership,
    });
    expect((await home("U0MARIA")).approvalsWaiting.map((a) => [a.rolloutId, a.stage])).toEqual([
      [rolloutId, "staging"],
    ]);
    // Lee started the rollout (four-eyes); the search approver is in no eligible group.
    expect((await home("U0LEE")).approvalsWaiting).toEqual([]);
    expect((await home("U0SEARCHER")).approvalsWaiting).toEqual([]);

    // Without group membership, the viewer's teams stand in for the approver groups.
    const byTeam = createHomeView({
      db: app.db,
      sla,
      teamsOfUser: async (u) => (u === "U0SEARCHER" ? ["search"] : ["payments"]),
      now: () => clock,
      config,
    });
    expect((await byTeam("U0OMAR")).approvalsWaiting.map((a) => a.rolloutId)).toEqual([rolloutId]);
    expect((await byTeam("U0SEARCHER")).approvalsWaiting).toEqual([]);
  });

  it("counts the rollout as shipped once its last stage is done, and no longer as waiting", async () => {
    for (const [name, votes] of [
      ["staging", ["U0MARIA"]],
      ["production", ["U0MARIA", "U0SEC"]],
    ] as const) {
      for (const user of votes) {
        const out = await approveStage(deps, {
          rolloutId,
          stage: name,
          actor: { id: user, name: user },
          origin: { source: "test" },
          buttonDigest: digestOf(2),
          overrideReason: null,
          confirmed: true,
        });
        expect(out.ok, out.message).toBe(true);
      }
      const s = await stageOf(name);
      await applyWorkflowRun(
        deps,
        {
          runId: `run-${name}`,
          title: `deploy ${s.dispatchId}`,
          status: "completed",
          conclusion: "success",
          htmlUrl: null,
        },
        { source: "test" },
      );
    }
    const vm = await buildTeamDigest(app.db, {
      teamId: "payments",
      subscriptionId: null,
      period: digestPeriod("0 9 * * 1", "UTC", clock),
      now: new Date(clock.getTime() + 60_000),
      sla,
      unowned: [],
      chartAttached: false,
      config,
    });
    expect(vm?.rolloutsAwaitingApproval).toEqual([]);
    expect(vm?.shipped.count).toBe(1);
    const v = await imageStatusView(app.db, { imageId, now: clock, sla, baseImageOf: () => null, config });
    expect(v?.rollouts).toEqual([]);
  });
});
