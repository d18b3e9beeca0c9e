import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLLOUT_CONFIG, type RolloutHarness, startRolloutHarness } from "../support/rollout-harness.js";
import { waitFor } from "../support/spawn-cli.js";

let h: RolloutHarness;
beforeAll(async () => {
  h = await startRolloutHarness({
    yaml: ROLLOUT_CONFIG.replace(
      "    team: payments\n",
      "    team: payments\n    autoRollout: fixable-critical\n",
    ),
  });
});
afterAll(async () => {
  await h?.close();
});

describe("autoRollout: fixable-critical", () => {
  it("starts a rollout by itself when a scan brings a new fixable critical, once", async () => {
    await h.upload(1, [{ id: "CVE-2026-7777", pkg: "glibc", severity: "MEDIUM" }]);
    expect(h.github.dispatches()).toHaveLength(0);

    await h.upload(2, [
      { id: "CVE-2026-7777", pkg: "glibc", severity: "MEDIUM" },
      { id: "CVE-2026-8888", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.16" },
    ]);
    const [build] = await h.waitForDispatches(1);
    expect(build?.workflow).toBe("build.yml");
    const rows = await h.t.owner.pool.query<{
      id: number;
      trigger: string;
      requested_by: string;
      reason: string;
    }>("SELECT id, trigger, requested_by, reason FROM rollouts");
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]).toMatchObject({ trigger: "auto-critical", requested_by: "system" });
    await waitFor(() => /automatic/i.test(h.cardText()), 10_000, "the card naming the automatic start");

    // Another new critical while that rollout is open does not start a second one.
    await h.upload(3, [{ id: "CVE-2026-9999", pkg: "zlib", severity: "CRITICAL", fixed: "1.3.2" }]);
    const again = await h.t.owner.pool.query("SELECT id FROM rollouts");
    expect(again.rows).toHaveLength(1);
    expect(h.github.dispatches()).toHaveLength(1);
  });
});
