import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cancelRefusal,
  currentStage,
  ROLLOUT_STATES,
  type RolloutState,
  rollbackTarget,
  rolloutState,
  type StageSummary,
} from "../../../src/core/rollout/rollout-state.js";
import { STAGE_STATES, type StageKind, type StageState } from "../../../src/core/rollout/stage-state.js";

const DISPATCHED_AT = new Date("2026-11-24T09:30:00Z");
/** States whose workflow has certainly been dispatched; a fixture's default dispatchedAt follows them. */
const RAN: readonly StageState[] = ["dispatched", "deploying", "done", "failed"];

const stage = (
  name: string,
  kind: StageKind,
  state: StageState,
  position: number,
  dispatchedAt: Date | null = RAN.includes(state) ? DISPATCHED_AT : null,
): StageSummary => ({ name, kind, state, position, dispatchedAt });

/** The same stages with one stage's state and dispatchedAt replaced (a retry, a re-request). */
function withStage(
  stages: StageSummary[],
  name: string,
  state: StageState,
  dispatchedAt: Date | null,
): StageSummary[] {
  return stages.map((s) => (s.name === name ? { ...s, state, dispatchedAt } : s));
}

/** rebuild → staging → canary → production, with the given states in that order. */
function rollout(
  rebuild: StageState,
  staging: StageState,
  canary: StageState,
  production: StageState,
  ...rollbacks: StageState[]
): StageSummary[] {
  return [
    stage("rebuild", "build", rebuild, 0),
    stage("staging", "deploy", staging, 1),
    stage("canary", "deploy", canary, 2),
    stage("production", "deploy", production, 3),
    ...rollbacks.map((state, i) => stage("rollback", "rollback", state, 4 + i)),
  ];
}

describe("rolloutState", () => {
  it.each<[string, StageSummary[], RolloutState]>([
    ["all stages done", rollout("done", "done", "done", "done"), "done"],
    ["nothing started", rollout("pending", "pending", "pending", "pending"), "active"],
    ["rebuild running", rollout("deploying", "pending", "pending", "pending"), "active"],
    ["canary awaiting approval", rollout("done", "done", "awaiting_approval", "pending"), "active"],
    ["production approved, waiting for its window", rollout("done", "done", "done", "approved"), "active"],
    ["production deploying", rollout("done", "done", "done", "deploying"), "active"],
    ["the rebuild failed", rollout("failed", "pending", "pending", "pending"), "halted"],
    ["staging failed", rollout("done", "failed", "pending", "pending"), "halted"],
    ["canary rejected", rollout("done", "done", "rejected", "pending"), "halted"],
    ["production's request expired", rollout("done", "done", "done", "expired"), "halted"],
    ["the rest was cancelled", rollout("done", "done", "cancelled", "cancelled"), "cancelled"],
    ["cancelled after a failure", rollout("done", "failed", "cancelled", "cancelled"), "cancelled"],
    [
      "cancelled before anything ran",
      rollout("cancelled", "cancelled", "cancelled", "cancelled"),
      "cancelled",
    ],
    ["a rollout with no stages", [], "active"],
    ["canary deployed, its health gate pending", rollout("done", "done", "verifying", "pending"), "active"],
    ["a deploy-only rollout, all done", [stage("production", "deploy", "done", 0)], "done"],
  ])("%s → %s", (_label, stages, expected) => {
    expect(rolloutState(stages)).toBe(expected);
  });

  const ROLLBACK_OUTCOME: Record<StageState, RolloutState> = {
    pending: "rolling_back",
    awaiting_approval: "rolling_back",
    approved: "rolling_back",
    dispatched: "rolling_back",
    deploying: "rolling_back",
    verifying: "rolling_back",
    done: "rolled_back",
    failed: "halted",
    rejected: "halted",
    expired: "halted",
    cancelled: "halted",
  };

  it.each(STAGE_STATES.map((s) => [s, ROLLBACK_OUTCOME[s]] as const))(
    "a rollback stage %s decides the rollout: %s",
    (rollbackState, expected) => {
      // Whatever the forward stages say (here: finished, or halted on a failure).
      expect(rolloutState(rollout("done", "done", "done", "done", rollbackState))).toBe(expected);
      expect(rolloutState(rollout("done", "done", "done", "failed", rollbackState))).toBe(expected);
    },
  );

  it("the latest rollback stage decides, whatever the order stages are given in", () => {
    const stages = rollout("done", "done", "done", "done", "failed", "done");
    expect(rolloutState(stages)).toBe("rolled_back");
    expect(rolloutState([...stages].reverse())).toBe("rolled_back");
    const retried = rollout("done", "done", "done", "done", "done", "deploying");
    expect(rolloutState([...retried].reverse())).toBe("rolling_back");
  });
});

describe("currentStage", () => {
  it.each<[string, StageSummary[], string | null]>([
    ["nothing started", rollout("pending", "pending", "pending", "pending"), "rebuild"],
    ["staging deploying", rollout("done", "deploying", "pending", "pending"), "staging"],
    ["canary failed", rollout("done", "done", "failed", "pending"), "canary"],
    ["production cancelled", rollout("done", "done", "done", "cancelled"), "production"],
    ["all done", rollout("done", "done", "done", "done"), null],
    [
      "all done and rolling back (the rollback is not a forward stage)",
      rollout("done", "done", "done", "done", "deploying"),
      null,
    ],
    ["no stages", [], null],
  ])("%s → %s", (_label, stages, expected) => {
    expect(currentStage(stages)?.name ?? null).toBe(expected);
  });

  it("follows positions, not array order, and returns the caller's object", () => {
    const stages = rollout("done", "done", "awaiting_approval", "pending").reverse();
    const found = currentStage(stages);
    expect(found).toBe(stages.find((s) => s.name === "canary"));
  });
});

describe("cancelRefusal", () => {
  it.each<[string, StageSummary[], string | null]>([
    ["nothing started", rollout("pending", "pending", "pending", "pending"), null],
    ["canary awaiting approval", rollout("done", "done", "awaiting_approval", "pending"), null],
    ["canary failed (halted)", rollout("done", "done", "failed", "pending"), null],
    ["production approved, waiting for its window", rollout("done", "done", "done", "approved"), null],
    ["production rejected", rollout("done", "done", "done", "rejected"), null],
    [
      "production dispatched",
      rollout("done", "done", "done", "dispatched"),
      "production has been deployed; roll back instead.",
    ],
    [
      "production deploying",
      rollout("done", "done", "done", "deploying"),
      "production has been deployed; roll back instead.",
    ],
    ["all done", rollout("done", "done", "done", "done"), "production has been deployed; roll back instead."],
    [
      "production failed (halted, but it ran)",
      rollout("done", "done", "done", "failed"),
      "production has been deployed; roll back instead.",
    ],
    [
      "production retried after a failure (approved again, dispatched before)",
      withStage(rollout("done", "done", "done", "failed"), "production", "approved", DISPATCHED_AT),
      "production has been deployed; roll back instead.",
    ],
    [
      "a failed rollback of a finished rollout",
      rollout("done", "done", "done", "done", "failed"),
      "production has been deployed; roll back instead.",
    ],
    [
      "a cancelled rollback of a finished rollout",
      rollout("done", "done", "done", "done", "cancelled"),
      "production has been deployed; roll back instead.",
    ],
    [
      "the rebuild running",
      rollout("deploying", "pending", "pending", "pending"),
      "rebuild is deploying now; wait for it to finish, or roll back.",
    ],
    [
      "staging dispatched",
      rollout("done", "dispatched", "pending", "pending"),
      "staging is deploying now; wait for it to finish, or roll back.",
    ],
    [
      "canary deploying",
      rollout("done", "done", "deploying", "pending"),
      "canary is deploying now; wait for it to finish, or roll back.",
    ],
    [
      "rolled back",
      rollout("done", "done", "done", "done", "done"),
      "This rollout was rolled back; nothing is left to cancel.",
    ],
    [
      "already cancelled",
      rollout("done", "done", "cancelled", "cancelled"),
      "This rollout is already cancelled.",
    ],
    [
      "being rolled back",
      rollout("done", "done", "done", "deploying", "dispatched"),
      "This rollout is being rolled back.",
    ],
  ])("%s → %j", (_label, stages, expected) => {
    expect(cancelRefusal(stages)).toBe(expected);
  });

  it("finds the last stage by position, not array order", () => {
    const stages = rollout("done", "done", "done", "deploying").reverse();
    expect(cancelRefusal(stages)).toBe("production has been deployed; roll back instead.");
    const early = rollout("done", "done", "deploying", "pending").reverse();
    expect(cancelRefusal(early)).toBe("canary is deploying now; wait for it to finish, or roll back.");
  });

  it("the rollout's own state is reported before a deployed last stage", () => {
    // Production ran, and a rollback is running or done: the rollback is what the person must hear.
    expect(cancelRefusal(rollout("done", "done", "done", "done", "deploying"))).toBe(
      "This rollout is being rolled back.",
    );
    expect(cancelRefusal(rollout("done", "done", "done", "failed", "done"))).toBe(
      "This rollout was rolled back; nothing is left to cancel.",
    );
  });
});

describe("rollbackTarget", () => {
  it.each<[string, StageSummary[], string | null]>([
    ["nothing deployed", rollout("pending", "pending", "pending", "pending"), null],
    [
      "only the rebuild ran (build stages are not rolled back)",
      rollout("done", "awaiting_approval", "pending", "pending"),
      null,
    ],
    ["the rebuild failed", rollout("failed", "pending", "pending", "pending"), null],
    ["staging dispatched", rollout("done", "dispatched", "pending", "pending"), "staging"],
    ["staging deploying", rollout("done", "deploying", "pending", "pending"), "staging"],
    [
      "staging done, canary awaiting approval",
      rollout("done", "done", "awaiting_approval", "pending"),
      "staging",
    ],
    ["canary failed", rollout("done", "done", "failed", "pending"), "canary"],
    ["production approved but not dispatched", rollout("done", "done", "done", "approved"), "canary"],
    ["production rejected", rollout("done", "done", "done", "rejected"), "canary"],
    ["production done", rollout("done", "done", "done", "done"), "production"],
    ["production deploying", rollout("done", "done", "done", "deploying"), "production"],
    ["production failed", rollout("done", "done", "done", "failed"), "production"],
    [
      "production retried after a failure (failed → approved, dispatched before)",
      withStage(rollout("done", "done", "done", "failed"), "production", "approved", DISPATCHED_AT),
      "production",
    ],
    [
      "production re-requested after an expiry (never dispatched)",
      withStage(rollout("done", "done", "done", "expired"), "production", "awaiting_approval", null),
      "canary",
    ],
    [
      "a deploy-only rollout whose only stage was dispatched",
      [stage("production", "deploy", "dispatched", 0)],
      "production",
    ],
  ])("%s → %s", (_label, stages, expected) => {
    expect(rollbackTarget(stages)?.name ?? null).toBe(expected);
  });

  it("ignores rollback stages and follows positions, not array order", () => {
    const stages = rollout("done", "done", "done", "done", "done").reverse();
    const target = rollbackTarget(stages);
    expect(target).toBe(stages.find((s) => s.name === "production"));
  });
});

describe("rollout-state properties", () => {
  // A stage that ran (dispatched, deploying, done, failed) has a dispatchedAt; any other state may or
  // may not have one (a retried stage is `approved` again yet was dispatched before), so the helpers
  // must follow dispatchedAt, not guess from the state.
  const stageArb = fc
    .record({ state: fc.constantFrom(...STAGE_STATES), dispatched: fc.boolean() })
    .map(({ state, dispatched }) => ({ state, dispatched: dispatched || RAN.includes(state) }));
  const stagesArb = fc
    .tuple(
      fc.array(stageArb, { minLength: 0, maxLength: 5 }),
      fc.array(stageArb, { maxLength: 2 }),
      fc.boolean(),
    )
    .map(([forward, rollbacks, withBuild]) => {
      const at = (dispatched: boolean) => (dispatched ? DISPATCHED_AT : null);
      const stages: StageSummary[] = forward.map(({ state, dispatched }, i) =>
        stage(
          i === 0 && withBuild ? "rebuild" : `env${i}`,
          i === 0 && withBuild ? "build" : "deploy",
          state,
          i,
          at(dispatched),
        ),
      );
      for (const [i, { state, dispatched }] of rollbacks.entries()) {
        stages.push(stage(`rollback${i}`, "rollback", state, forward.length + i, at(dispatched)));
      }
      return stages;
    })
    .chain((stages) => fc.shuffledSubarray(stages, { minLength: stages.length, maxLength: stages.length }));

  it("every combination of stages gives exactly one rollout state, and the helpers agree with it", () => {
    fc.assert(
      fc.property(stagesArb, (stages) => {
        const state = rolloutState(stages);
        expect(ROLLOUT_STATES).toContain(state);

        const current = currentStage(stages);
        if (current) {
          expect(current.kind).not.toBe("rollback");
          expect(current.state).not.toBe("done");
        }
        if (state === "done") expect(current).toBeNull();

        const refusal = cancelRefusal(stages);
        if (refusal === null) expect(["active", "halted"]).toContain(state);
        else expect(refusal).toMatch(/^[A-Za-z].*\.$/);
      }),
      { numRuns: 1000 },
    );
  });

  it("the rollback target is the furthest deploy stage ever dispatched, and only that", () => {
    fc.assert(
      fc.property(stagesArb, (stages) => {
        const touched = stages.filter((s) => s.kind === "deploy" && s.dispatchedAt !== null);
        const target = rollbackTarget(stages);
        if (touched.length === 0) {
          expect(target).toBeNull();
          return;
        }
        expect(target).not.toBeNull();
        expect(stages).toContain(target);
        expect(target?.kind).toBe("deploy");
        expect(target?.dispatchedAt).not.toBeNull();
        for (const s of touched) expect(s.position).toBeLessThanOrEqual(target?.position ?? -1);
      }),
      { numRuns: 1000 },
    );
  });

  it("cancel is allowed only while nothing is running and the last stage was never dispatched", () => {
    fc.assert(
      fc.property(stagesArb, (stages) => {
        const forward = stages.filter((s) => s.kind !== "rollback").sort((a, b) => a.position - b.position);
        const last = forward.at(-1);
        const running = forward.some((s) => s.state === "dispatched" || s.state === "deploying");
        const state = rolloutState(stages);
        const refusal = cancelRefusal(stages);
        const open = state === "active" || state === "halted";
        expect(refusal === null).toBe(open && !running && (last?.dispatchedAt ?? null) === null);
        if (open && last?.dispatchedAt)
          expect(refusal).toBe(`${last.name} has been deployed; roll back instead.`);
      }),
      { numRuns: 1000 },
    );
  });
});
