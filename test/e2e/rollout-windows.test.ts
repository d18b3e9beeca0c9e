import { afterEach, describe, expect, it } from "vitest";
import { ROLLOUT_ACTIONS } from "../../src/core/rollout/rollout-card-view.js";
import type { SyntheticVuln } from "../support/report-builders.js";
import {
  deliverHeldDispatches,
  digestOf,
  type RolloutHarness,
  startRolloutHarness,
  USERS,
  type User,
  waitForCard,
} from "../support/rollout-harness.js";

/**
 * Maintenance windows, freezes and the emergency lane, end to end. The app decides with the test
 * clock; see deliverHeldDispatches for how a held dispatch is "let through" when the test moves it.
 * December 2026: Tuesday the 1st, so the second Tuesday is the 8th; 10:00 in Berlin (CET) is 09:00 UTC.
 */
const SECOND_TUESDAY = new Date("2026-12-08T09:00:00Z");
const WEDNESDAY = new Date("2026-12-02T07:00:00Z");
const dateToken = (d: Date) => `<!date^${Math.floor(d.getTime() / 1000)}^`;

function config(opts: { freezes?: string; stages?: string } = {}): string {
  return `
version: 1
teams:
  - id: payments
    name: Payments
    channel: C0PAYMENTS
    approvers: { groups: [S0PAYAPPR, S0SECURITY], users: [] }
images:
  - id: payments-api
    repository: ghcr.io/acme/payments-api
    team: payments
    github:
      repo: acme/payments-api
      workflows: { build: build.yml, deploy: deploy.yml, rollback: rollback.yml }
defaultStages: ${opts.stages ?? "[rebuild, production]"}
windows:
  patch-tuesday: { cron: "0 10 * * 2#2", duration: 6h, timezone: Europe/Berlin }
stages:
  rebuild: { approvals: 0 }
  staging: { approvals: 1 }
  production:
    approvals: 1
    window: patch-tuesday
    expiry: 30d
    emergency: { approvals: 2, requiredGroups: [S0SECURITY] }
${opts.freezes ?? ""}
`;
}

let clock = new Date("2026-12-01T07:00:00Z");
let h: RolloutHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(yaml: string, running: SyntheticVuln[]): Promise<RolloutHarness> {
  h = await startRolloutHarness({ yaml, now: () => clock });
  await h.upload(1, running);
  return h;
}

const approve = (r: RolloutHarness, rollout: number, stage: string, user: User) =>
  r.click(ROLLOUT_ACTIONS.approve, { rollout, stage, digest: digestOf(2) }, user);

async function countOf(r: RolloutHarness, rollout: number, action: string): Promise<number> {
  return (await r.auditActions(rollout)).filter((a) => a.action === action).length;
}

async function auditPayloads(r: RolloutHarness, rollout: number, action: string) {
  const q = await r.t.owner.pool.query<{ payload: Record<string, unknown> }>(
    "SELECT payload FROM audit_events WHERE resource->>'rollout' = $1 AND action = $2 ORDER BY seq",
    [String(rollout), action],
  );
  return q.rows.map((x) => x.payload);
}

/** Starts a rollout, builds the candidate (digest 2, with `candidate`'s findings) and returns its id. */
async function buildCandidate(r: RolloutHarness, candidate: SyntheticVuln[]): Promise<number> {
  const started = await r.patch('rollout payments-api --reason "patch"', USERS.lee);
  const rolloutId = Number(/Rollout #(\d+)/.exec(started.text ?? "")?.[1]);
  expect(rolloutId).toBeGreaterThan(0);
  const [build] = await r.waitForDispatches(1);
  await r.upload(2, candidate, rolloutId);
  expect((await r.webhook(r.github.completeRun(build?.runId ?? 0, "success"), "completed")).status).toBe(200);
  return rolloutId;
}

const CRITICAL: SyntheticVuln = {
  id: "CVE-2026-9001",
  pkg: "openssl",
  severity: "CRITICAL",
  fixed: "3.0.15",
};
const HIGH: SyntheticVuln = { id: "CVE-2026-9002", pkg: "zlib", severity: "HIGH", fixed: "1.3.1" };

describe("maintenance windows", () => {
  it("holds a production approval given on a Wednesday until the second Tuesday, says when, then dispatches once", async () => {
    clock = new Date("2026-12-01T07:00:00Z");
    const r = await start(config(), [HIGH]);
    const id = await buildCandidate(r, []);

    clock = WEDNESDAY;
    const answer = await approve(r, id, "production", USERS.maria);
    expect(answer).toContain("waits for its maintenance window");
    expect(answer).toContain(dateToken(SECOND_TUESDAY));
    expect(await r.stageState(id, "production")).toBe("approved");
    const card = await waitForCard(r, /approved and waits: window patch-tuesday opens/, "the waiting card");
    expect(card).toContain(`window patch-tuesday opens ${dateToken(SECOND_TUESDAY)}`);
    expect(card).toContain("(Europe/Berlin)");
    const waiting = await auditPayloads(r, id, "stage.waiting_for_window");
    expect(waiting[0]).toMatchObject({ window: "patch-tuesday", opensAt: SECOND_TUESDAY.toISOString() });

    // Delivered before the window opens (a reconciler pass, a restart): still held.
    clock = new Date(SECOND_TUESDAY.getTime() - 60_000);
    await deliverHeldDispatches(r);
    expect(r.github.dispatches()).toHaveLength(1);
    expect(await r.stageState(id, "production")).toBe("approved");

    // The window opens: the held dispatch goes, once, however often it is delivered.
    clock = new Date(SECOND_TUESDAY.getTime() + 60_000);
    await deliverHeldDispatches(r);
    const [, production] = await r.waitForDispatches(2);
    expect(production).toMatchObject({ workflow: "deploy.yml", inputs: { stage: "production" } });
    await deliverHeldDispatches(r);
    expect(r.github.dispatches()).toHaveLength(2);
    expect(await r.stageState(id, "production")).toBe("dispatched");
    expect(await countOf(r, id, "stage.dispatched")).toBe(2);
  });

  it("dispatches at once when approved inside the window", async () => {
    clock = new Date("2026-12-01T07:00:00Z");
    const r = await start(config(), [HIGH]);
    const id = await buildCandidate(r, []);

    clock = new Date("2026-12-08T12:30:00Z"); // 13:30 in Berlin, inside 10:00–16:00
    const answer = await approve(r, id, "production", USERS.maria);
    expect(answer).toContain("is being dispatched");
    const [, production] = await r.waitForDispatches(2);
    expect(production?.inputs.stage).toBe("production");
    expect(await countOf(r, id, "stage.waiting_for_window")).toBe(0);
  });
});

describe("freezes", () => {
  it("holds staging under /patch freeze and production under a config freeze, saying why", async () => {
    clock = new Date("2026-12-08T12:30:00Z"); // inside the window, so only freezes can hold production
    const freezes = `
freezes:
  - id: year-end
    from: 2026-12-07
    to: 2026-12-09
    environments: [production]
    reason: Year-end trading freeze
`;
    const r = await start(config({ freezes, stages: "[rebuild, staging, production]" }), [HIGH]);
    const id = await buildCandidate(r, []);

    const on = await r.patch('freeze staging on --reason "incident 42"', USERS.lee);
    expect(on.text).toContain("staging frozen");
    const answer = await approve(r, id, "staging", USERS.maria);
    expect(answer).toContain("not dispatched: Frozen: incident 42");
    expect(await r.stageState(id, "staging")).toBe("approved");
    await waitForCard(r, /Staging is approved but frozen: incident 42/, "the frozen card");
    expect(await countOf(r, id, "stage.frozen")).toBe(1);
    await deliverHeldDispatches(r);
    expect(r.github.dispatches()).toHaveLength(1);

    // Lifting the freeze releases the held stage at its next re-check (every 60 s; done here at once).
    const off = await r.patch("freeze staging off", USERS.lee);
    expect(off.text).toContain("lifted");
    await deliverHeldDispatches(r);
    const [, staging] = await r.waitForDispatches(2);
    expect(staging?.inputs.stage).toBe("staging");
    await r.webhook(r.github.completeRun(staging?.runId ?? 0, "success"), "completed");

    // Production: the config freeze holds it, even inside its window.
    const prod = await approve(r, id, "production", USERS.maria);
    expect(prod).toContain("not dispatched: Frozen: Year-end trading freeze");
    await waitForCard(r, /Production is approved but frozen: Year-end trading freeze/, "the frozen card");
    await deliverHeldDispatches(r);
    expect(r.github.dispatches()).toHaveLength(2);
    expect(await r.stageState(id, "production")).toBe("approved");
    const frozen = await auditPayloads(r, id, "stage.frozen");
    expect(frozen.at(-1)).toMatchObject({ freeze: "year-end", reason: "Year-end trading freeze" });
    const audit = await r.t.owner.pool.query<{ action: string }>(
      "SELECT action FROM audit_events WHERE action LIKE 'freeze.%' ORDER BY seq",
    );
    expect(audit.rows.map((a) => a.action)).toEqual(["freeze.started", "freeze.lifted"]);
  });
});

describe("the emergency lane", () => {
  /** The running digest's critical was first seen 10 days before Wednesday: past the 7-day SLA. */
  async function overdueCritical(): Promise<{ r: RolloutHarness; id: number }> {
    clock = new Date("2026-11-22T07:00:00Z");
    const r = await start(config(), [CRITICAL, HIGH]);
    clock = new Date("2026-12-01T07:00:00Z");
    const id = await buildCandidate(r, [HIGH]);
    clock = WEDNESDAY;
    return { r, id };
  }

  it("lets a fix for an SLA-breached critical skip the window once the stricter quorum approves", async () => {
    const { r, id } = await overdueCritical();
    const first = await approve(r, id, "production", USERS.maria);
    expect(first).toContain("waits for its maintenance window");
    expect(first).toContain("emergency lane");
    expect(first).toContain("<!subteam^S0SECURITY>");
    await deliverHeldDispatches(r);
    expect(r.github.dispatches()).toHaveLength(1);

    const second = await approve(r, id, "production", USERS.sec);
    expect(second).toContain("emergency lane (window skipped)");
    const [, production] = await r.waitForDispatches(2);
    expect(production?.inputs.stage).toBe("production");
    const bypass = await auditPayloads(r, id, "stage.emergency_bypass");
    expect(bypass).toHaveLength(1);
    expect(bypass[0]).toMatchObject({ window: "patch-tuesday" });
    await waitForCard(r, /Production is deploying through the emergency lane/, "the card's emergency lane");

    // The first, window-held intent is superseded: delivering it again dispatches nothing more.
    await deliverHeldDispatches(r);
    expect(r.github.dispatches()).toHaveLength(2);
  });

  it("does not bypass a freeze, even with the emergency quorum", async () => {
    const { r, id } = await overdueCritical();
    expect(await approve(r, id, "production", USERS.maria)).toContain("waits for its maintenance window");
    expect((await r.patch('freeze production on --reason "incident 43"', USERS.lee)).text).toContain(
      "frozen",
    );
    const second = await approve(r, id, "production", USERS.sec);
    expect(second).not.toContain("emergency lane");
    await deliverHeldDispatches(r);
    expect(r.github.dispatches()).toHaveLength(1);
    expect(await countOf(r, id, "stage.emergency_bypass")).toBe(0);
    // The re-check at delivery sees the freeze: audited, and the card says why.
    expect(await countOf(r, id, "stage.frozen")).toBe(1);
    await waitForCard(r, /Production is approved but frozen: incident 43/, "the frozen card");
  });

  it("tells the emergency approver that a freeze, not the window, holds the stage", async () => {
    const { r, id } = await overdueCritical();
    await approve(r, id, "production", USERS.maria);
    await r.patch('freeze production on --reason "incident 43"', USERS.lee);
    expect(await approve(r, id, "production", USERS.sec)).toContain("held by a freeze: incident 43");
  });

  it("never takes the emergency lane for a rollout that fixes nothing urgent", async () => {
    clock = new Date("2026-11-22T07:00:00Z");
    const r = await start(config(), [HIGH]);
    clock = new Date("2026-12-01T07:00:00Z");
    const id = await buildCandidate(r, []);
    clock = WEDNESDAY;
    const first = await approve(r, id, "production", USERS.maria);
    expect(first).toContain("waits for its maintenance window");
    expect(first).not.toContain("emergency lane");
    const second = await approve(r, id, "production", USERS.sec);
    expect(second).toContain("still waits for its window");
    await deliverHeldDispatches(r);
    expect(r.github.dispatches()).toHaveLength(1);
    expect(await countOf(r, id, "stage.emergency_bypass")).toBe(0);
    expect(await r.stageState(id, "production")).toBe("approved");
  });
});
