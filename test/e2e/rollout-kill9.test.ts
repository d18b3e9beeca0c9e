import { afterAll, describe, expect, it } from "vitest";
import { verifyAuditTrail } from "../../src/services/audit/verify-audit-trail.js";
import { manyImagesConfig, type ProcCluster, startProcCluster } from "../support/rollout-proc-cluster.js";
import { waitFor } from "../support/spawn-cli.js";

// QUALITY.md scenario 10. Workers run with BullMQ's lock at 2 s and its stall check every 1 s
// (test/support/rollout-proc-fast-stall.mjs) instead of 30 s each; the reconciler keeps its 15 s.
const LOCK_MS = 2_000;
const STALL_MS = 1_000;
const RECONCILER_MS = 15_000;
const ROLLOUTS = 20;
const PER_ROUND = 4;

let c: ProcCluster | undefined;
afterAll(async () => {
  await c?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("kill -9 of workers during CI dispatch", () => {
  it(`dispatches each of ${ROLLOUTS} approved stages exactly once, loses no audit row, and leaves no stage stuck`, async () => {
    c = await startProcCluster({ yaml: manyImagesConfig(ROLLOUTS) });
    const cluster = c;
    const web = await cluster.spawnWeb();
    await cluster.syncImages(web.baseUrl, ROLLOUTS);
    const rollouts: number[] = [];

    // Rounds of fresh workers. Each `/patch rollout` approves the rebuild (it needs no approval)
    // and commits its dispatch intent; 0–300 ms later a worker gets kill -9.
    // Some dispatches are slowed (GitHub accepts them after the worker died) and some are
    // processed by GitHub with the connection dropped before our worker hears back.
    const killedAt: number[] = [];
    for (let round = 0; round < ROLLOUTS / PER_ROUND; round++) {
      const workers = await Promise.all(
        Array.from({ length: PER_ROUND }, () => cluster.spawnWorker({ fastStall: true })),
      );
      await Promise.all(
        workers.map(async (worker, j) => {
          const i = round * PER_ROUND + j;
          if (i % 3 === 0)
            cluster.github.failNext(
              { pathIncludes: "/dispatches" },
              { delayMs: 150 + Math.floor(Math.random() * 300) },
            );
          if (i % 3 === 1)
            cluster.github.failNext({ pathIncludes: "/dispatches" }, { dropAfterProcessing: true });
          await sleep(j * 40);
          rollouts.push(await cluster.startRollout(web.baseUrl, i + 1));
          await sleep(Math.floor(Math.random() * 300));
          await worker.kill("SIGKILL");
          killedAt.push(Date.now());
        }),
      );
    }
    const lastKill = Math.max(...killedAt);

    expect(rollouts).toHaveLength(ROLLOUTS);

    await cluster.spawnWorker({ fastStall: true });
    const bound = LOCK_MS + STALL_MS + RECONCILER_MS + 5_000;
    await waitFor(
      async () => [...(await cluster.stages("rebuild")).values()].every((s) => s.state === "dispatched"),
      bound,
      "every rebuild stage dispatched",
    );
    const recoveredMs = Date.now() - lastKill;
    const found = await cluster.owner.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM audit_events WHERE action = 'stage.dispatched' AND payload->>'foundExisting' = 'true'",
    );
    console.log(
      `kill -9 x${ROLLOUTS}: all stages dispatched ${recoveredMs} ms after the last kill; ` +
        `${found.rows[0]?.n ?? 0} recovered by finding GitHub's run for the dispatch id`,
    );

    // Exactly one workflow_dispatch per approved stage, found by dispatch_id.
    const dispatches = cluster.github.dispatches();
    const ids = dispatches.map((d) => d.inputs.dispatch_id);
    expect(new Set(ids).size).toBe(ids.length);
    const stages = await cluster.stages("rebuild");
    for (const id of rollouts) {
      const mine = dispatches.filter((d) => d.inputs.rollout_id === String(id));
      expect(mine.map((d) => d.inputs.dispatch_id)).toEqual([stages.get(id)?.dispatchId]);
      expect(mine[0]?.workflow).toBe("build.yml");
    }
    expect(dispatches).toHaveLength(ROLLOUTS);

    // No audit row lost: the chain verifies, and each rollout has its request, approval and one dispatch.
    const verdict = await verifyAuditTrail(cluster.owner.db);
    expect(verdict.ok).toBe(true);
    const audit = await cluster.owner.pool.query<{ rollout: string; action: string; n: number }>(
      `SELECT resource->>'rollout' AS rollout, action, count(*)::int AS n FROM audit_events
        WHERE action IN ('rollout.requested', 'stage.auto_approved', 'stage.dispatched') GROUP BY 1, 2`,
    );
    for (const id of rollouts) {
      for (const action of ["rollout.requested", "stage.auto_approved", "stage.dispatched"]) {
        const row = audit.rows.find((r) => r.rollout === String(id) && r.action === action);
        expect(row?.n, `${action} of #${id}`).toBe(1);
      }
    }
  }, 240_000);
});
