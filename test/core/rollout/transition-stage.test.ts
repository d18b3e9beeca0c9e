import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FINAL_STAGE_STATES,
  IN_FLIGHT_STATES,
  STAGE_STATES,
  type StageState,
} from "../../../src/core/rollout/stage-state.js";
import {
  describeStageState,
  type StageEvent,
  type StageSnapshot,
  transitionStage,
} from "../../../src/core/rollout/transition-stage.js";

type EventType = StageEvent["type"];
const EVENT_TYPES = [
  "request",
  "auto_approve",
  "quorum_met",
  "dispatched",
  "run_started",
  "run_succeeded",
  "run_failed",
  "reject",
  "expire",
  "cancel",
  "request_again",
  "retry",
  "candidate_changed",
  "gate_passed",
  "gate_failed",
  "gate_inconclusive",
  "promote",
] as const satisfies readonly EventType[];

const R = "refused" as const;
type Outcome = StageState | typeof R;

/**
 * The whole machine, written out by hand: for each state, what every event leads to while an
 * approval request is still open (before its expiry). After the expiry only the two
 * awaiting_approval cells for quorum_met and expire differ (see AFTER_EXPIRY).
 */
const BEFORE_EXPIRY: Record<StageState, Record<EventType, Outcome>> = {
  pending: {
    request: "awaiting_approval",
    auto_approve: "approved",
    quorum_met: R,
    dispatched: R,
    run_started: R,
    run_succeeded: R,
    run_failed: R,
    reject: R,
    expire: R,
    cancel: "cancelled",
    request_again: R,
    retry: R,
    candidate_changed: R,
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  awaiting_approval: {
    request: R,
    auto_approve: R,
    quorum_met: "approved",
    dispatched: R,
    run_started: R,
    run_succeeded: R,
    run_failed: R,
    reject: "rejected",
    expire: R,
    cancel: "cancelled",
    request_again: R,
    retry: R,
    candidate_changed: "awaiting_approval",
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  approved: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: "dispatched",
    run_started: "deploying",
    run_succeeded: "done",
    run_failed: "failed",
    reject: "rejected",
    expire: R,
    cancel: "cancelled",
    request_again: R,
    retry: R,
    candidate_changed: "awaiting_approval",
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  dispatched: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: R,
    run_started: "deploying",
    run_succeeded: "done",
    run_failed: "failed",
    reject: R,
    expire: R,
    cancel: R,
    request_again: R,
    retry: R,
    candidate_changed: R,
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  deploying: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: R,
    run_started: R,
    run_succeeded: "done",
    run_failed: "failed",
    reject: R,
    expire: R,
    cancel: R,
    request_again: R,
    retry: R,
    candidate_changed: R,
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  verifying: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: R,
    run_started: R,
    run_succeeded: R,
    run_failed: R,
    reject: R,
    expire: R,
    cancel: "cancelled",
    request_again: R,
    retry: R,
    candidate_changed: R,
    gate_passed: "done",
    gate_failed: "failed",
    gate_inconclusive: "verifying",
    // Only once the gate said it cannot judge (see the health gate tests below).
    promote: R,
  },
  done: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: R,
    run_started: R,
    run_succeeded: R,
    run_failed: R,
    reject: R,
    expire: R,
    cancel: R,
    request_again: R,
    retry: R,
    candidate_changed: R,
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  failed: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: R,
    run_started: R,
    run_succeeded: R,
    run_failed: R,
    reject: R,
    expire: R,
    cancel: "cancelled",
    request_again: R,
    retry: "approved",
    candidate_changed: R,
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  rejected: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: R,
    run_started: R,
    run_succeeded: R,
    run_failed: R,
    reject: R,
    expire: R,
    cancel: "cancelled",
    request_again: "awaiting_approval",
    retry: R,
    candidate_changed: R,
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  expired: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: R,
    run_started: R,
    run_succeeded: R,
    run_failed: R,
    reject: R,
    expire: R,
    cancel: "cancelled",
    request_again: "awaiting_approval",
    retry: R,
    candidate_changed: R,
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
  cancelled: {
    request: R,
    auto_approve: R,
    quorum_met: R,
    dispatched: R,
    run_started: R,
    run_succeeded: R,
    run_failed: R,
    reject: R,
    expire: R,
    cancel: R,
    request_again: R,
    retry: R,
    candidate_changed: R,
    gate_passed: R,
    gate_failed: R,
    gate_inconclusive: R,
    promote: R,
  },
};

const AFTER_EXPIRY: Record<StageState, Record<EventType, Outcome>> = {
  ...BEFORE_EXPIRY,
  awaiting_approval: { ...BEFORE_EXPIRY.awaiting_approval, quorum_met: R, expire: "expired" },
};

const requestedAt = new Date("2026-11-24T09:12:00Z");
const expiresAt = new Date("2026-11-27T09:12:00Z");
const beforeExpiry = new Date(expiresAt.getTime() - 60_000);
const afterExpiry = new Date(expiresAt.getTime() + 60_000);

const rows = (table: Record<StageState, Record<EventType, Outcome>>) =>
  STAGE_STATES.flatMap((state) => EVENT_TYPES.map((event) => [state, event, table[state][event]] as const));

/** A refusal a person reads: a sentence, starting with a capital and ending with a full stop. */
const expectSentence = (text: string) => {
  expect(text.trim().length).toBeGreaterThan(10);
  expect(text).toMatch(/^[A-Z][^\n]*[a-z)]\.$/);
};

describe("transitionStage: every (state × event) pair", () => {
  it("the table covers every state and every event", () => {
    expect(rows(BEFORE_EXPIRY)).toHaveLength(STAGE_STATES.length * EVENT_TYPES.length);
    expect(Object.keys(BEFORE_EXPIRY).sort()).toEqual([...STAGE_STATES].sort());
  });

  describe.each([
    ["before the approval request expires", BEFORE_EXPIRY, beforeExpiry],
    ["after the approval request expired", AFTER_EXPIRY, afterExpiry],
  ] as const)("%s", (_label, table, now) => {
    it.each(rows(table))("%s + %s → %s", (state, event, expected) => {
      const result = transitionStage({ state, expiresAt }, { type: event }, now);
      if (expected === R) {
        expect(result.ok).toBe(false);
        if (!result.ok) expectSentence(result.refusal);
      } else {
        expect(result).toEqual({ ok: true, state: expected });
      }
    });
  });

  it.each(STAGE_STATES)("a plain refusal from %s says what state the stage is in", (state) => {
    // `request` is refused everywhere but pending, and always with the state's description.
    const result = transitionStage({ state, expiresAt: null }, { type: "request" }, beforeExpiry);
    if (state === "pending") return expect(result.ok).toBe(true);
    expect(result).toEqual({ ok: false, refusal: `This stage ${describeStageState(state)}.` });
  });

  it.each(["dispatched", "deploying"] as const)(
    "cancelling a %s stage says to roll back instead",
    (state) => {
      const result = transitionStage({ state, expiresAt: null }, { type: "cancel" }, beforeExpiry);
      expect(result).toEqual({
        ok: false,
        refusal: "This stage is deploying; wait for it to finish, then roll back.",
      });
    },
  );

  it.each(FINAL_STAGE_STATES)("%s is never left, whatever the event or time", (state) => {
    for (const type of EVENT_TYPES) {
      for (const now of [beforeExpiry, expiresAt, afterExpiry]) {
        expect(transitionStage({ state, expiresAt }, { type }, now).ok).toBe(false);
      }
    }
  });
});

describe("transitionStage: the health gate", () => {
  it.each(["approved", "dispatched", "deploying"] as const)(
    "a successful run of a stage with a health gate moves %s to verifying, not done",
    (state) => {
      const verify = transitionStage(
        { state, expiresAt: null },
        { type: "run_succeeded", verify: true },
        beforeExpiry,
      );
      expect(verify).toEqual({ ok: true, state: "verifying" });
      const plain = transitionStage(
        { state, expiresAt: null },
        { type: "run_succeeded", verify: false },
        beforeExpiry,
      );
      expect(plain).toEqual({ ok: true, state: "done" });
    },
  );

  it("a person may promote a verifying stage only after the gate was inconclusive", () => {
    const baking = transitionStage(
      { state: "verifying", expiresAt: null, gate: "baking" },
      { type: "promote" },
      beforeExpiry,
    );
    expect(baking.ok).toBe(false);
    if (!baking.ok) expect(baking.refusal).toMatch(/health gate has not judged it yet/);
    expect(
      transitionStage(
        { state: "verifying", expiresAt: null, gate: "inconclusive" },
        { type: "promote" },
        beforeExpiry,
      ),
    ).toEqual({ ok: true, state: "done" });
    for (const state of STAGE_STATES.filter((s) => s !== "verifying"))
      expect(
        transitionStage({ state, expiresAt: null, gate: "inconclusive" }, { type: "promote" }, beforeExpiry)
          .ok,
      ).toBe(false);
  });
});

describe("transitionStage: expiry edges", () => {
  const awaiting = (expires: Date | null): StageSnapshot => ({
    state: "awaiting_approval",
    expiresAt: expires,
  });

  it.each<[string, Date, Outcome]>([
    ["one millisecond before expiresAt", new Date(expiresAt.getTime() - 1), "approved"],
    ["exactly at expiresAt", expiresAt, R],
    ["one millisecond after expiresAt", new Date(expiresAt.getTime() + 1), R],
    ["right after the request", requestedAt, "approved"],
  ])("quorum_met %s → %s", (_label, now, expected) => {
    const result = transitionStage(awaiting(expiresAt), { type: "quorum_met" }, now);
    if (expected === R)
      expect(result).toEqual({ ok: false, refusal: "This approval request has expired; ask for a new one." });
    else expect(result).toEqual({ ok: true, state: expected });
  });

  it.each<[string, Date, Outcome]>([
    ["one millisecond before expiresAt", new Date(expiresAt.getTime() - 1), R],
    ["exactly at expiresAt", expiresAt, "expired"],
    ["one millisecond after expiresAt", new Date(expiresAt.getTime() + 1), "expired"],
    ["a year after expiresAt", new Date(expiresAt.getTime() + 365 * 86_400_000), "expired"],
  ])("expire %s → %s", (_label, now, expected) => {
    const result = transitionStage(awaiting(expiresAt), { type: "expire" }, now);
    if (expected === R)
      expect(result).toEqual({ ok: false, refusal: "This approval request has not expired yet." });
    else expect(result).toEqual({ ok: true, state: expected });
  });

  it("without an expiry (expiresAt null) a request never expires and quorum is always accepted", () => {
    for (const now of [new Date(0), requestedAt, new Date("2099-01-01T00:00:00Z")]) {
      expect(transitionStage(awaiting(null), { type: "expire" }, now)).toEqual({
        ok: false,
        refusal: "This approval request has not expired yet.",
      });
      expect(transitionStage(awaiting(null), { type: "quorum_met" }, now)).toEqual({
        ok: true,
        state: "approved",
      });
    }
  });

  it("expire is refused outside awaiting_approval even long after expiresAt", () => {
    for (const state of STAGE_STATES.filter((s) => s !== "awaiting_approval")) {
      const result = transitionStage({ state, expiresAt }, { type: "expire" }, afterExpiry);
      expect(result).toEqual({ ok: false, refusal: `This stage ${describeStageState(state)}.` });
    }
  });
});

const T0 = Date.parse("2026-11-24T00:00:00Z");
const stepArb = fc.record({
  type: fc.constantFrom(...EVENT_TYPES),
  /** Minutes after T0; expiresAt is drawn from the same range so both sides of it are hit. */
  minute: fc.integer({ min: 0, max: 120 }),
});
const runArb = fc.record({
  expiresMinute: fc.option(fc.integer({ min: 0, max: 120 }), { nil: null }),
  steps: fc.array(stepArb, { maxLength: 40 }),
});

type Step = { type: EventType; minute: number };
type Accepted = { from: StageState; to: StageState; type: EventType };

/** Replays events from pending and returns every accepted transition, in order. */
function replay(
  expiresMinute: number | null,
  steps: readonly Step[],
): { accepted: Accepted[]; final: StageState } {
  const expires = expiresMinute === null ? null : new Date(T0 + expiresMinute * 60_000);
  let state: StageState = "pending";
  const accepted: Accepted[] = [];
  for (const step of steps) {
    const result = transitionStage(
      { state, expiresAt: expires },
      { type: step.type },
      new Date(T0 + step.minute * 60_000),
    );
    if (result.ok) {
      accepted.push({ from: state, to: result.state, type: step.type });
      state = result.state;
    } else {
      expect(result.refusal.trim()).not.toBe("");
    }
  }
  return { accepted, final: state };
}

describe("transitionStage properties", () => {
  it("(a) from pending, no sequence of events leaves STAGE_STATES or leaves done/cancelled", () => {
    fc.assert(
      fc.property(runArb, ({ expiresMinute, steps }) => {
        const { accepted } = replay(expiresMinute, steps);
        for (const t of accepted) {
          expect(STAGE_STATES).toContain(t.to);
          expect(FINAL_STAGE_STATES).not.toContain(t.from);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("(b) nothing is dispatched, deploying or done without passing through approved", () => {
    const RESET: readonly StageState[] = ["pending", "awaiting_approval", "rejected", "expired"];
    const APPROVING: readonly EventType[] = ["quorum_met", "auto_approve", "retry"];
    const RUNNING: readonly StageState[] = ["dispatched", "deploying", "done"];
    fc.assert(
      fc.property(runArb, ({ expiresMinute, steps }) => {
        const { accepted } = replay(expiresMinute, steps);
        let since: EventType[] = [];
        for (const t of accepted) {
          if (RESET.includes(t.to)) since = [];
          else since.push(t.type);
          if (RUNNING.includes(t.to)) {
            expect(since.some((e) => APPROVING.includes(e))).toBe(true);
            // The step right before is itself approved or further along the run.
            expect(IN_FLIGHT_STATES).toContain(t.from);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it("(c) after run_succeeded, no run_started, run_failed or dispatched is accepted", () => {
    fc.assert(
      fc.property(runArb, ({ expiresMinute, steps }) => {
        const { accepted } = replay(expiresMinute, steps);
        const succeeded = accepted.findIndex((t) => t.type === "run_succeeded");
        if (succeeded === -1) return;
        const later = accepted.slice(succeeded + 1).map((t) => t.type);
        expect(later).not.toContain("run_started");
        expect(later).not.toContain("run_failed");
        expect(later).not.toContain("dispatched");
        expect(later).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("run events arriving late, twice or out of order never move a stage backwards", () => {
    const RANK: Partial<Record<StageState, number>> = {
      approved: 0,
      dispatched: 1,
      deploying: 2,
      done: 3,
      failed: 3,
    };
    const runEvent = fc.constantFrom("dispatched", "run_started", "run_succeeded", "run_failed" as const);
    fc.assert(
      fc.property(fc.array(runEvent, { maxLength: 20 }), (events) => {
        let state: StageState = "approved";
        for (const type of events) {
          const result = transitionStage({ state, expiresAt: null }, { type }, new Date(T0));
          if (result.ok) {
            expect(RANK[result.state]).toBeGreaterThan(RANK[state]!);
            state = result.state;
          }
        }
      }),
    );
  });

  it("any delivery order of dispatched / run_started / run_succeeded ends done", () => {
    const deliveries = fc
      .array(fc.constantFrom("dispatched", "run_started" as const), { maxLength: 6 })
      .chain((others) =>
        fc.shuffledSubarray([...others, "run_succeeded" as const], { minLength: others.length + 1 }),
      );
    fc.assert(
      fc.property(deliveries, (events) => {
        let state: StageState = "approved";
        for (const type of events) {
          const result = transitionStage({ state, expiresAt: null }, { type }, new Date(T0));
          if (result.ok) state = result.state;
        }
        expect(state).toBe("done");
      }),
    );
  });
});
