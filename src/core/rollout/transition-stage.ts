import type { StageState } from "./stage-state.js";

export type StageEvent =
  /** The stage before is done (or the rollout started): ask for approval. */
  | { type: "request" }
  /** A stage that needs no approval (approvals: 0) goes straight to approved. */
  | { type: "auto_approve" }
  /** The approvals now meet the policy's quorum. */
  | { type: "quorum_met" }
  /** The workflow run was created (its id is known). */
  | { type: "dispatched" }
  | { type: "run_started" }
  /** `verify`: the stage has a bake time or health gate, so it is judged before it is done. */
  | { type: "run_succeeded"; verify?: boolean }
  | { type: "run_failed" }
  | { type: "reject" }
  | { type: "expire" }
  | { type: "cancel" }
  /** A person asks again after a rejection or an expiry. */
  | { type: "request_again" }
  /** A person re-runs a failed stage's workflow (their click is the approval). */
  | { type: "retry" }
  /** The candidate digest changed: approvals bound to the old one no longer count. */
  | { type: "candidate_changed" }
  /** The health gate after the bake time: within thresholds, outside them, or unable to judge. */
  | { type: "gate_passed" }
  | { type: "gate_failed" }
  | { type: "gate_inconclusive" }
  /** A person promotes a stage whose health gate could not judge it. */
  | { type: "promote" };

export type StageSnapshot = {
  state: StageState;
  expiresAt: Date | null;
  /** The health gate's last word on a verifying stage; only an inconclusive one can be promoted. */
  gate?: "baking" | "inconclusive" | null;
};

export type Transition = { ok: true; state: StageState } | { ok: false; refusal: string };

const ok = (state: StageState): Transition => ({ ok: true, state });
const refuse = (refusal: string): Transition => ({ ok: false, refusal });

const DESCRIBE: Record<StageState, string> = {
  pending: "has not started (the stage before it is not done)",
  awaiting_approval: "is waiting for approval",
  approved: "is already approved",
  dispatched: "has already been dispatched",
  deploying: "is already deploying",
  verifying: "is deployed and waiting for its health gate",
  done: "is already done",
  failed: "has failed",
  rejected: "was rejected",
  expired: "expired without enough approvals",
  cancelled: "was cancelled",
};

/** Why an event does not apply, in words for the person who clicked. */
export function describeStageState(state: StageState): string {
  return DESCRIBE[state];
}

/**
 * The one place a stage changes state: a total function of (state, event, now). Every pair either
 * gives the next state or a refusal that says why; nothing moves a stage backwards, so a GitHub
 * delivery that arrives late or twice cannot undo a later one.
 */
export function transitionStage(stage: StageSnapshot, event: StageEvent, now: Date): Transition {
  const s = stage.state;
  const not = () => refuse(`This stage ${DESCRIBE[s]}.`);
  switch (event.type) {
    case "request":
      return s === "pending" ? ok("awaiting_approval") : not();
    case "auto_approve":
      return s === "pending" ? ok("approved") : not();
    case "quorum_met":
      if (s !== "awaiting_approval") return not();
      if (stage.expiresAt !== null && now.getTime() >= stage.expiresAt.getTime())
        return refuse("This approval request has expired; ask for a new one.");
      return ok("approved");
    case "dispatched":
      return s === "approved" ? ok("dispatched") : not();
    case "run_started":
      return s === "approved" || s === "dispatched" ? ok("deploying") : not();
    case "run_succeeded":
      return s === "approved" || s === "dispatched" || s === "deploying"
        ? ok(event.verify ? "verifying" : "done")
        : not();
    case "run_failed":
      return s === "approved" || s === "dispatched" || s === "deploying" ? ok("failed") : not();
    case "reject":
      // An approved stage still waiting for its window can be stopped; a dispatched one cannot.
      return s === "awaiting_approval" || s === "approved" ? ok("rejected") : not();
    case "expire":
      if (s !== "awaiting_approval") return not();
      if (stage.expiresAt === null || now.getTime() < stage.expiresAt.getTime())
        return refuse("This approval request has not expired yet.");
      return ok("expired");
    case "cancel":
      return s === "pending" ||
        s === "awaiting_approval" ||
        s === "approved" ||
        s === "failed" ||
        s === "rejected" ||
        s === "expired" ||
        s === "verifying"
        ? ok("cancelled")
        : s === "dispatched" || s === "deploying"
          ? refuse("This stage is deploying; wait for it to finish, then roll back.")
          : not();
    case "request_again":
      return s === "rejected" || s === "expired" ? ok("awaiting_approval") : not();
    case "retry":
      return s === "failed" ? ok("approved") : not();
    case "candidate_changed":
      return s === "awaiting_approval" || s === "approved" ? ok("awaiting_approval") : not();
    case "gate_passed":
      return s === "verifying" ? ok("done") : not();
    case "gate_failed":
      return s === "verifying" ? ok("failed") : not();
    case "gate_inconclusive":
      return s === "verifying" ? ok("verifying") : not();
    case "promote":
      if (s !== "verifying") return not();
      return stage.gate === "inconclusive"
        ? ok("done")
        : refuse("Its health gate has not judged it yet; promote it only if the gate cannot decide.");
  }
}
