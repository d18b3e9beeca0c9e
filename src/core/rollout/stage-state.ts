/**
 * The life of one stage of a rollout. A stage moves forward only: `pending` until the stage
 * before it is done, then `awaiting_approval`, `approved` (committed approvals; may wait for a
 * window), `dispatched` (the workflow run exists), `deploying` (it runs), `verifying` (deployed; it
 * bakes, then its health gate judges it), and one of the ends.
 * `failed`, `rejected` and `expired` can be re-opened by a person (retry / request again).
 */
export const STAGE_STATES = [
  "pending",
  "awaiting_approval",
  "approved",
  "dispatched",
  "deploying",
  "verifying",
  "done",
  "failed",
  "rejected",
  "expired",
  "cancelled",
] as const;
export type StageState = (typeof STAGE_STATES)[number];

/** States in which the stage's workflow may be running or about to run. */
export const IN_FLIGHT_STATES: readonly StageState[] = ["approved", "dispatched", "deploying"];

/** States a stage never leaves. */
export const FINAL_STAGE_STATES: readonly StageState[] = ["done", "cancelled"];

/**
 * `build` runs the image's build workflow (the stage named `rebuild`), `deploy` its deploy
 * workflow, `rollback` its rollback workflow back to the running digest.
 */
export type StageKind = "build" | "deploy" | "rollback";

/** The kind of a configured stage: the one named `rebuild` builds, the others deploy. */
export function stageKindOf(name: string): StageKind {
  return name === "rebuild" ? "build" : "deploy";
}
