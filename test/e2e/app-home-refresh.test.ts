import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOME_REFRESH_WINDOW_MS } from "../../src/services/home-refresh-intent.js";
import type { RecordedCall } from "../support/fake-slack.js";
import {
  type RolloutHarness,
  requeuePendingIntents,
  startRolloutHarness,
  USERS,
} from "../support/rollout-harness.js";
import { eventCallback, postSigned } from "../support/sign-slack.js";
import { waitFor } from "../support/spawn-cli.js";
import { TEST_SIGNING_SECRET } from "../support/test-app.js";

/**
 * The app's clock: the wall clock (moved ahead when a test needs a fresh refresh window), or held
 * still so that a burst of changes surely falls in one window.
 */
let ahead = 0;
let frozen: Date | null = null;
const appNow = () => frozen ?? new Date(Date.now() + ahead);
let h: RolloutHarness;
beforeAll(async () => {
  h = await startRolloutHarness({ now: appNow });
  await h.upload(1, [{ id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" }]);
});
afterAll(async () => {
  await h?.close();
});

const publishesFor = (user: string): RecordedCall[] =>
  h.t.slack.callsTo("views.publish").filter((c) => c.args.user_id === user && c.status === 200);
const viewText = (call: RecordedCall | undefined): string => JSON.stringify(call?.args.view ?? null);

async function openHome(user: string): Promise<void> {
  const before = publishesFor(user).length;
  const event = {
    type: "app_home_opened",
    user,
    channel: "D0HOME0001",
    tab: "home",
    event_ts: `${Math.floor(Date.now() / 1000)}.000100`,
  };
  const res = await postSigned(h.t.baseUrl, "/slack/events", eventCallback(event, TEST_SIGNING_SECRET));
  expect(res.status).toBe(200);
  await waitFor(() => publishesFor(user).length > before, 10_000, `the Home tab of ${user}`);
}

const pendingRefreshes = async () =>
  (
    await h.t.owner.pool.query<{ id: string; dedupe_key: string }>(
      "SELECT id, dedupe_key FROM outbox WHERE kind = 'home.refresh' AND status = 'pending' ORDER BY id",
    )
  ).rows;

/** Lets the refresh window close: pending refreshes become due now and are queued for delivery. */
async function closeRefreshWindow(): Promise<void> {
  await h.t.owner.pool.query(
    "UPDATE outbox SET available_at = now() WHERE kind = 'home.refresh' AND status = 'pending'",
  );
  await requeuePendingIntents(h, ["home.refresh"]);
  await waitFor(async () => (await pendingRefreshes()).length === 0, 10_000, "the Home refreshes");
}

/** Moves the app clock into the next refresh window: the current one's refresh is delivered. */
function enterNextWindow(): void {
  const next = (Math.floor(appNow().getTime() / HOME_REFRESH_WINDOW_MS) + 1) * HOME_REFRESH_WINDOW_MS;
  ahead += next + 1_000 - appNow().getTime();
}

describe("App Home refreshed when a team's state changes", () => {
  it("shows a viewer the approval now waiting for them, without being opened again", async () => {
    await openHome(USERS.maria.id);
    await openHome(USERS.outsider.id);
    expect(viewText(publishesFor(USERS.maria.id).at(-1))).toContain("Nothing is waiting for your approval.");
    // Whatever the first scan queued is delivered: what follows is the rollout's doing.
    await closeRefreshWindow();
    enterNextWindow();

    const started = await h.patch("rollout payments-api", USERS.lee);
    const rolloutId = Number(/Rollout #(\d+)/.exec(started.text ?? "")?.[1]);
    expect(rolloutId).toBeGreaterThan(0);
    const [build] = await h.waitForDispatches(1);
    await h.upload(2, [], rolloutId);
    expect((await h.webhook(h.github.completeRun(build?.runId ?? 0, "success"), "completed")).status).toBe(
      200,
    );
    expect(await h.stageState(rolloutId, "staging")).toBe("awaiting_approval");

    await closeRefreshWindow();
    await waitFor(
      () => viewText(publishesFor(USERS.maria.id).at(-1)).includes(`rollout #${rolloutId}`),
      5_000,
      "maria's Home listing the approval",
    );
    const home = viewText(publishesFor(USERS.maria.id).at(-1));
    expect(home).toContain("*staging* awaiting 1 approval");
    expect(home).toContain("home_review_rollout");
    // omar and lee approve for payments too but never opened the Home tab: nothing is pushed to them.
    expect(publishesFor(USERS.omar.id)).toEqual([]);
    expect(publishesFor(USERS.lee.id)).toEqual([]);
    // The outsider opened it but is not in payments: their tab is not touched by payments' changes.
    expect(publishesFor(USERS.outsider.id)).toHaveLength(1);

    // Its Review button (and the digest's, the same action) shows maria the rollout's card, to her only.
    for (const action of ["home_review_rollout", "digest_review_rollout"]) {
      const card = await h.click(action, { rolloutId, stage: "staging" }, USERS.maria);
      expect(card).toContain(`#${rolloutId}`);
      expect(card).toContain("staging");
    }
    expect(await h.click("home_review_rollout", { rolloutId: 999_999, stage: "staging" }, USERS.maria)).toBe(
      "That rollout no longer exists.",
    );
  });

  it("coalesces a burst of five changes in one window into one refresh per viewer", async () => {
    await closeRefreshWindow();
    const before = publishesFor(USERS.maria.id).length;
    enterNextWindow();
    frozen = appNow();
    try {
      for (let n = 10; n < 15; n++) {
        await h.upload(n, [{ id: `CVE-2026-10${n}`, pkg: "curl", severity: "MEDIUM" }]);
      }
    } finally {
      frozen = null;
    }
    expect(await pendingRefreshes()).toHaveLength(1);
    await closeRefreshWindow();
    await waitFor(() => publishesFor(USERS.maria.id).length > before, 5_000, "maria's refreshed Home");
    expect(publishesFor(USERS.maria.id)).toHaveLength(before + 1);
    expect(publishesFor(USERS.omar.id)).toEqual([]);
  });
});
