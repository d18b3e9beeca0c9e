import { randomBytes } from "node:crypto";
import { type ConfigImage, type ConfigTeam, configImage, configTeam } from "../../config/config-lookup.js";
import type { AuditEventInput } from "../../core/audit/audit-event.js";
import { rolloutState } from "../../core/rollout/rollout-state.js";
import type { StagePolicy } from "../../core/rollout/stage-policy.js";
import type { StageKind, StageState } from "../../core/rollout/stage-state.js";
import type { ClosingStatement } from "../../db/audit-repository.js";
import { intentsAtCommit, type OutboxIntent } from "../../db/outbox-repository.js";
import {
  type LoadedRollout,
  lockRollout,
  type RuntimeFreezeRow,
  rolloutTouch,
  rolloutTransaction,
  type StageRow,
  type Tx,
} from "../../db/rollout-repository.js";
import { promoteCandidateScan } from "../../db/scan-repository.js";
import type { Rows, Statement } from "../../db/statements.js";
import { homeRefreshIntent } from "../home-refresh-intent.js";
import { type Actor, type Origin, type RolloutDeps, SYSTEM_ACTOR } from "./rollout-deps.js";
import { rolloutPolicy } from "./rollout-policy.js";

/** One decision about one rollout, inside its transaction with the rollout row locked. */
export type RolloutStep = {
  tx: Tx;
  /** The freezes set from Slack, read as the transaction opened (see `listFreezes`). */
  runtimeFreezes: RuntimeFreezeRow[];
  now: Date;
  deps: RolloutDeps;
  loaded: LoadedRollout;
  repository: string;
  image: ConfigImage | null;
  team: ConfigTeam | null;
  policyOf(stage: StageRow): StagePolicy;
  setStage(stage: StageRow, patch: Partial<StageRow>): Promise<void>;
  /** Changes the rollout's own columns (its state is derived and written at the end). */
  setRollout(patch: { candidateDigest?: string | null }): void;
  audit(
    actor: Actor,
    action: string,
    outcome: AuditEventInput["outcome"],
    origin: Origin,
    extra?: { stage?: StageRow; payload?: Record<string, unknown> },
  ): void;
  intent(intent: OutboxIntent): Promise<void>;
  /**
   * A write sent with the decision's COMMIT, in its last round trip: for a row nothing in the
   * decision reads back from Postgres (a vote, whose conflicts the lock rules out; see
   * `recordVote`). If it fails, the whole decision rolls back.
   */
  write(statement: Statement): void;
  newDispatchId(stage: StageRow): string;
  /**
   * What the caller's `alsoRead` returned under the lock, when the rollout read before the
   * transaction (which its parameters came from) was still current; else undefined.
   */
  alsoRead?: Rows;
};

export class RolloutNotFound extends Error {}

/** How long a decision waits for a lock (its rollout's, the audit chain's) before giving up. */
const LOCK_TIMEOUT_MS = 2_000;

/**
 * Runs `fn` as one transaction on a locked rollout: stage changes, outbox intents, then the
 * rollout's derived state, a card refresh and the audit events, appended last (they take the
 * chain's lock, held until commit). Nothing is half-recorded: all of it commits or none.
 */
export async function inRolloutTx<T>(
  deps: RolloutDeps,
  /** The rollout, or a function that creates it in this transaction and returns its id. */
  which: number | ((tx: Tx) => Promise<number | T>),
  fn: (step: RolloutStep) => Promise<T>,
  /** The rollout as read just before (for checks that must not wait on the lock), reused if current. */
  known?: LoadedRollout | null,
  /** A read built from `known`, sent in the transaction's opening (see `RolloutStep.alsoRead`). */
  alsoRead?: Statement | null,
): Promise<T> {
  let recorded: ReturnType<typeof intentsAtCommit> | undefined;
  // A click must be answered quickly even when something holds a lock for long (scenario 8). A
  // known rollout is locked in the transaction's opening round trip.
  const opening = {
    lockTimeoutMs: LOCK_TIMEOUT_MS,
    ...(typeof which === "number" ? { lock: which, alsoRead: known ? (alsoRead ?? null) : null } : {}),
  };
  const result = await rolloutTransaction(deps.db, opening, async (tx, opened) => {
    const intents: OutboxIntent[] = [];
    const created = typeof which === "number" ? which : await which(tx);
    if (typeof created !== "number") return { value: created, audits: [] };
    const rolloutId = created;
    const locked = await lockRollout(tx, rolloutId, known, opened.locked);
    if (!locked) throw new RolloutNotFound(`rollout #${rolloutId} does not exist`);
    const { loaded, image: imageRow } = locked;
    const image = configImage(deps.config, imageRow?.configId);
    const team = configTeam(deps.config, loaded.rollout.teamId);
    const now = deps.now();
    const audits: AuditEventInput[] = [];
    // Sent with the audit events and COMMIT, in one round trip.
    const closing: ClosingStatement[] = [];
    const writes: Statement[] = [];
    let changed = false;
    const stagePatches = new Map<number, Partial<StageRow>>();
    let rolloutPatch: { candidateDigest?: string | null } = {};
    const repository = imageRow?.repository ?? "unknown";
    const step: RolloutStep = {
      tx,
      runtimeFreezes: opened.runtimeFreezes,
      now,
      deps,
      loaded,
      repository,
      image,
      team,
      ...(opened.alsoRead && loaded === known ? { alsoRead: opened.alsoRead } : {}),
      policyOf: (stage) => rolloutPolicy(deps.config, team, stage.name, stage.kind as StageKind),
      async setStage(stage, patch) {
        // Written once per stage at the end of the decision, however many steps changed it.
        Object.assign(stage, patch);
        stagePatches.set(stage.id, { ...stagePatches.get(stage.id), ...patch });
        changed = true;
      },
      setRollout(patch) {
        rolloutPatch = { ...rolloutPatch, ...patch };
        Object.assign(loaded.rollout, patch);
        changed = true;
      },
      audit(actor, action, outcome, origin, extra = {}) {
        const stage = extra.stage;
        audits.push({
          at: now,
          actor,
          action,
          outcome,
          origin,
          resource: {
            rollout: loaded.rollout.id,
            image: repository,
            digest: stage?.targetDigest ?? loaded.rollout.candidateDigest ?? loaded.rollout.runningDigest,
            ...(stage ? { stage: stage.name } : {}),
            ...(stage?.runId ? { run: stage.runId } : {}),
          },
          payload: extra.payload ?? {},
        });
      },
      async intent(intent) {
        intents.push(intent);
      },
      write(statement) {
        writes.push(statement);
      },
      newDispatchId(stage) {
        const hex = deps.randomHex?.(4) ?? randomBytes(4).toString("hex");
        return `pp-${loaded.rollout.id}-${stage.position}-${stage.attempt + 1}-${hex}`;
      },
    };
    const value = await fn(step);
    // A stage's patch is written with the rollout's state (a change to a stage sets `changed`).
    if (changed) {
      const state = rolloutState(
        loaded.stages.map((s) => ({ ...s, kind: s.kind as StageKind, state: s.state as StageState })),
      );
      // Production is done: from now on the candidate is what runs, and posture says so.
      if (state === "done" && loaded.rollout.state !== "done" && loaded.rollout.candidateDigest) {
        const promoted = await promoteCandidateScan(
          tx,
          loaded.rollout.imageId,
          loaded.rollout.candidateDigest,
          now,
        );
        audits.push({
          at: now,
          actor: SYSTEM_ACTOR,
          action: "rollout.done",
          outcome: "ok",
          origin: { source: "system" },
          resource: { rollout: rolloutId, image: repository, digest: loaded.rollout.candidateDigest },
          payload: {
            from: loaded.rollout.runningDigest,
            to: loaded.rollout.candidateDigest,
            postureUpdated: promoted,
          },
        });
      }
      closing.push(rolloutTouch(rolloutId, { ...rolloutPatch, state }, now, stagePatches));
      // The rollout is locked, so the statement above makes this its version.
      const version = loaded.rollout.version + 1;
      loaded.rollout.version = version;
      loaded.rollout.state = state;
      intents.push({
        kind: "rollout.card",
        dedupeKey: `rollout-card:${rolloutId}:${version}`,
        payload: { rolloutId, version },
      });
      // Approvals waiting and posture show on the team's App Homes: refresh them (coalesced).
      const teamId = loaded.rollout.teamId;
      if (teamId !== null) intents.push(homeRefreshIntent(teamId, now));
    }
    // Every intent of the decision in one statement; its ids are read once committed.
    recorded = intentsAtCommit(intents);
    return { value, audits, closing: [...writes, ...closing, ...recorded.closing] };
  });
  const outboxIds = (await recorded?.ids(deps.db)) ?? [];
  if (outboxIds.length > 0) await deps.afterCommit(outboxIds);
  return result;
}
