import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ROLLOUT_CONFIG,
  type RolloutHarness,
  startRolloutHarness,
  USERS,
} from "../support/rollout-harness.js";

// A second configured image, so "Patch all" has more than one to start.
const YAML = `${ROLLOUT_CONFIG.replace(
  "defaultStages:",
  `  - id: ledger-worker
    repository: ghcr.io/acme/ledger-worker
    team: payments
    github:
      repo: acme/ledger-worker
      workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml }
defaultStages:`,
)}`;

let h: RolloutHarness;
const imageIds = new Map<string, string>();
beforeAll(async () => {
  h = await startRolloutHarness({ yaml: YAML });
  const rows = await h.t.owner.pool.query<{ id: string; config_id: string }>(
    "SELECT id, config_id FROM images WHERE config_id IS NOT NULL",
  );
  for (const r of rows.rows) imageIds.set(r.config_id, r.id);
});
afterAll(async () => {
  await h?.close();
});

describe("Patch now buttons start rollouts", () => {
  it("a digest's Patch now starts a rollout of that image, and a second click says which one runs", async () => {
    const value = { imageId: imageIds.get("payments-api"), vulnerabilityId: "CVE-2026-1111" };
    const first = await h.click("digest_patch_now", value, USERS.maria);
    expect(first).toMatch(/Rollout #\d+ of payments-api started/);
    const again = await h.click("status_patch_now", value, USERS.omar);
    expect(again).toMatch(/Rollout #\d+ of payments-api is already in progress/);
    const [build] = await h.waitForDispatches(1);
    expect(build?.repo).toBe("payments-api");
    const rows = await h.t.owner.pool.query<{ trigger: string; requested_by: string }>(
      "SELECT trigger, requested_by FROM rollouts",
    );
    expect(rows.rows).toEqual([{ trigger: "patch-now", requested_by: USERS.maria.id }]);
  });

  it("an alert's Patch all starts one rollout per image and reports each", async () => {
    const answer = await h.click(
      "alert_patch_all",
      { imageIds: [imageIds.get("payments-api"), imageIds.get("ledger-worker")] },
      USERS.maria,
    );
    expect(answer).toContain("Started 1 of 2 rollouts.");
    expect(answer).toMatch(/payments-api is already in progress/);
    expect(answer).toMatch(/Rollout #\d+ of ledger-worker started/);
    const dispatches = await h.waitForDispatches(2);
    expect(dispatches.map((d) => d.repo).sort()).toEqual(["ledger-worker", "payments-api"]);
  });
});
