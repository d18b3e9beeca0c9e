import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGithubClient } from "../../src/adapters/github/github-client.js";
import { loadConfigFile } from "../../src/config/load-config-file.js";
import { ROLLOUT_ACTIONS } from "../../src/core/rollout/rollout-card-view.js";
import { pollWorkflowRuns } from "../../src/services/rollouts/poll-workflow-runs.js";
import type { FakeRun } from "../support/fake-github.js";
import { digestOf } from "../support/report-builders.js";
import {
  auditRowsOf,
  dispatchesOf,
  finishRollout,
  GITHUB_TOKEN,
  type RolloutHarness,
  startRolloutHarness,
  startToFirstApproval,
  USERS,
  WEBHOOK_SECRET,
} from "../support/rollout-harness.js";
import { githubDelivery } from "../support/sign-github.js";
import { postSigned } from "../support/sign-slack.js";
import { waitFor } from "../support/spawn-cli.js";

/**
 * QUALITY.md scenarios 16 (duplicate, out-of-order and lost workflow_run webhooks) and 2 (webhook
 * signature and size checks), through POST /github/webhooks of the app running in-process.
 */

let h: RolloutHarness;
beforeAll(async () => {
  h = await startRolloutHarness();
  await h.upload(1, [{ id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" }]);
});
afterAll(async () => {
  await h?.close();
});

const auditCount = async () =>
  Number((await h.t.owner.pool.query("SELECT count(*) AS n FROM audit_events")).rows[0]?.n);

/** Approves staging as maria and waits until its deploy run exists: the stage is dispatched. */
async function dispatchStaging(id: number, candidate: number): Promise<FakeRun> {
  const answer = await h.click(
    ROLLOUT_ACTIONS.approve,
    { rollout: id, stage: "staging", digest: digestOf(candidate) },
    USERS.maria,
  );
  expect(answer).toMatch(/Approved/);
  await waitFor(() => dispatchesOf(h, id, "staging").length === 1, 15_000, "the staging dispatch");
  await waitFor(
    async () => (await h.stageState(id, "staging")) === "dispatched",
    10_000,
    "staging dispatched",
  );
  const runId = dispatchesOf(h, id, "staging")[0]?.runId;
  const run = h.github.runs().find((r) => r.id === runId);
  if (!run) throw new Error("no staging run");
  return run;
}

describe("workflow_run webhooks (QUALITY.md scenario 16)", () => {
  it("applies a delivery sent 5 times once: one run.completed row, the next stage asked once", async () => {
    const started = await h.patch('rollout payments-api --reason "duplicates"', USERS.lee);
    const id = Number(/Rollout #(\d+)/.exec(started.text ?? "")?.[1]);
    await waitFor(() => dispatchesOf(h, id, "rebuild").length > 0, 15_000, "the rebuild dispatch");
    await h.upload(2, [], id);
    const run = h.github.completeRun(dispatchesOf(h, id, "rebuild")[0]?.runId ?? 0, "success");

    const deliveryId = randomUUID();
    const concurrent = await Promise.all([1, 2].map(() => h.webhook(run, "completed", { deliveryId })));
    const sequential = [];
    for (let i = 0; i < 3; i++) sequential.push(await h.webhook(run, "completed", { deliveryId }));
    const all = [...concurrent, ...sequential];
    for (const r of all) expect(r.status).toBe(200);
    expect(all.filter((r) => (r.json as { duplicate?: boolean }).duplicate === true)).toHaveLength(4);

    expect(await h.stageState(id, "rebuild")).toBe("done");
    expect(await h.stageState(id, "staging")).toBe("awaiting_approval");
    const rows = await auditRowsOf(h, id);
    expect(rows.filter((r) => r.action === "run.completed")).toHaveLength(1);
    expect(rows.filter((r) => r.action === "run.completed")[0]?.origin.delivery).toBe(deliveryId);
    expect(
      rows.filter((r) => r.action === "stage.approval_requested" && r.resource.stage === "staging"),
    ).toHaveLength(1);
    expect(await finishRollout(h, id)).toBe("cancelled");
  });

  it("keeps a completed stage done when its in_progress delivery arrives late, recording it as ignored", async () => {
    const id = await startToFirstApproval(h, { candidate: 3 });
    const running = await dispatchStaging(id, 3);
    const completed = h.github.completeRun(running.id, "success");
    expect((await h.webhook(completed, "completed")).status).toBe(200);
    expect(await h.stageState(id, "staging")).toBe("done");

    const late: FakeRun = { ...structuredClone(completed), status: "in_progress", conclusion: null };
    const res = await h.webhook(late, "in_progress");
    expect(res.status).toBe(200);
    expect(await h.stageState(id, "staging")).toBe("done");
    expect(await h.stageState(id, "production")).toBe("awaiting_approval");
    const rows = (await auditRowsOf(h, id)).filter((r) => r.resource.stage === "staging");
    expect(rows.filter((r) => r.action === "run.completed" && r.outcome === "ok")).toHaveLength(1);
    expect(rows.filter((r) => r.action === "run.in_progress").map((r) => r.outcome)).toEqual(["ignored"]);
    expect(await finishRollout(h, id)).toBe("cancelled");
  });

  it("repairs a lost webhook with the poller: the stage completes and the next one is requested", async () => {
    const id = await startToFirstApproval(h, { candidate: 4 });
    const running = await dispatchStaging(id, 4);
    // GitHub finishes the run, but its webhook never arrives.
    h.github.completeRun(running.id, "success");
    expect(await h.stageState(id, "staging")).toBe("dispatched");

    const applied = await pollWorkflowRuns({
      db: h.t.owner.db,
      config: await loadConfigFile(h.t.env.PATCHPILOT_CONFIG ?? ""),
      // Three minutes on, so the stage has been quiet long enough to be asked about.
      now: () => new Date(Date.now() + 3 * 60_000),
      membership: { members: async () => new Set(), groupsOf: async () => [] },
      afterCommit: async () => {},
      github: createGithubClient({ apiUrl: h.github.url, auth: { kind: "token", token: GITHUB_TOKEN } }),
    });
    expect(applied).toBe(1);
    expect(await h.stageState(id, "staging")).toBe("done");
    expect(await h.stageState(id, "production")).toBe("awaiting_approval");
    const rows = await auditRowsOf(h, id);
    const completed = rows.filter((r) => r.action === "run.completed" && r.resource.stage === "staging");
    expect(completed).toHaveLength(1);
    expect(completed[0]?.origin).toMatchObject({ source: "github", poller: true });
    expect(
      rows.filter((r) => r.action === "stage.approval_requested" && r.resource.stage === "production"),
    ).toHaveLength(1);
    expect(await finishRollout(h, id)).toBe("cancelled");
  });
});

describe("webhook security (QUALITY.md scenario 2)", () => {
  let id: number;
  let completed: FakeRun;
  const payload = () => ({ action: "completed", workflow_run: completed, repository: completed.repository });
  const send = (req: { body: string; headers: Record<string, string> }) =>
    postSigned(h.t.baseUrl, "/github/webhooks", req);

  beforeAll(async () => {
    id = await startToFirstApproval(h, { candidate: 5 });
    completed = h.github.completeRun((await dispatchStaging(id, 5)).id, "success");
  });
  afterAll(async () => {
    await finishRollout(h, id);
  });

  /** After each refused delivery: the stage has not moved and nothing was audited. */
  async function nothingApplied(auditBefore: number) {
    expect(await h.stageState(id, "staging")).toBe("dispatched");
    expect(await auditCount()).toBe(auditBefore);
  }

  it("refuses a tampered body with 401 and applies nothing", async () => {
    const before = await auditCount();
    const req = await githubDelivery("workflow_run", payload(), WEBHOOK_SECRET);
    const tampered = req.body.replace('"conclusion":"success"', '"conclusion":"failure"');
    expect(tampered).not.toBe(req.body);
    const res = await send({ ...req, body: tampered });
    expect(res.status).toBe(401);
    await nothingApplied(before);
  });

  it("refuses a body re-serialized differently from what was signed", async () => {
    const before = await auditCount();
    const compact = await githubDelivery("workflow_run", payload(), WEBHOOK_SECRET);
    const pretty = JSON.stringify(JSON.parse(compact.body), null, 2);
    expect((await send({ ...compact, body: pretty })).status).toBe(401);
    await nothingApplied(before);
  });

  it("refuses a delivery signed only with the SHA-1 header", async () => {
    const before = await auditCount();
    const req = await githubDelivery("workflow_run", payload(), WEBHOOK_SECRET);
    const { "X-Hub-Signature-256": _sha256, ...headers } = req.headers;
    expect(headers["X-Hub-Signature"]).toMatch(/^sha1=/);
    expect((await send({ body: req.body, headers })).status).toBe(401);
    await nothingApplied(before);
  });

  it("answers 413 to a body over 1 MB, even a correctly signed one", async () => {
    const before = await auditCount();
    const big = { ...payload(), padding: "x".repeat(1024 * 1024 + 10) };
    const res = await send(await githubDelivery("workflow_run", big, WEBHOOK_SECRET));
    expect(res.status).toBe(413);
    expect(res.text).toContain("too_large");
    await nothingApplied(before);
  });

  it("answers 200 to a run that is not ours and changes nothing", async () => {
    const before = await auditCount();
    const stranger: FakeRun = {
      ...structuredClone(completed),
      id: 77_000_000_001,
      name: "nightly",
      display_title: "nightly cleanup",
    };
    const res = await send(
      await githubDelivery(
        "workflow_run",
        { action: "completed", workflow_run: stranger, repository: stranger.repository },
        WEBHOOK_SECRET,
      ),
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ result: "unknown" });
    await nothingApplied(before);
  });

  it("answers 200 to a ping", async () => {
    const before = await auditCount();
    const res = await send(
      await githubDelivery("ping", { zen: "Keep it logically awesome.", hook_id: 1 }, WEBHOOK_SECRET),
    );
    expect(res.status).toBe(200);
    await nothingApplied(before);
  });

  it("still applies the genuine delivery afterwards", async () => {
    expect((await send(await githubDelivery("workflow_run", payload(), WEBHOOK_SECRET))).status).toBe(200);
    expect(await h.stageState(id, "staging")).toBe("done");
  });
});
