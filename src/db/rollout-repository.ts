import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { AuditEventInput } from "../core/audit/audit-event.js";
import { auditedTransaction, type ClosingStatement } from "./audit-repository.js";
import type { Db, Tx } from "./client.js";
import {
  approvals,
  images,
  OPEN_ROLLOUT_STATES,
  rolloutStages,
  rollouts,
  type runtimeFreezes,
} from "./schema/index.js";
import { type Rows, type Statement, setList } from "./statements.js";

export type { Tx };
export type RolloutRow = typeof rollouts.$inferSelect;
export type StageRow = typeof rolloutStages.$inferSelect;
/** A vote as decisions read it (its serial id only orders the votes read from Postgres). */
export type ApprovalRow = Omit<typeof approvals.$inferSelect, "id">;
export type LoadedRollout = { rollout: RolloutRow; stages: StageRow[]; approvals: ApprovalRow[] };

/**
 * A rollout with its stages and approvals. With `lock`, the rollout row is locked until the
 * transaction ends: every decision about one rollout takes this lock first, so concurrent clicks,
 * webhooks and dispatches are applied one after another and never on a stale read. The rollout,
 * its stages and its votes are read in one statement, so from one snapshot: the stages and votes
 * are exactly those of its `version` (with `lock`, read after the lock is taken).
 */
export async function loadRollout(
  db: Db | Tx,
  id: number,
  opts: { lock?: boolean } = {},
): Promise<LoadedRollout | null> {
  if (opts.lock) {
    const locked = await db
      .select({ id: rollouts.id })
      .from(rollouts)
      .where(eq(rollouts.id, id))
      .for("update");
    if (locked.length === 0) return null;
  }
  const rows = await loadQueryOf(db).execute({ id });
  const rollout = rows[0]?.rollout;
  if (!rollout) return null;
  const stages = new Map<number, StageRow>();
  const votes: Array<typeof approvals.$inferSelect> = [];
  for (const r of rows) {
    if (r.stage && !stages.has(r.stage.id)) stages.set(r.stage.id, r.stage);
    if (r.approval) votes.push(r.approval);
  }
  return { rollout, stages: [...stages.values()], approvals: votes.sort((a, b) => a.id - b.id) };
}

/**
 * The read of a rollout with its stages and votes, built once per database handle and sent as a
 * named prepared statement: every click reads it first (a replayed click reads nothing else),
 * and building its forty-odd columns each time cost more CPU than the rest of such a click.
 */
function buildLoadQuery(db: Db | Tx) {
  return (db as Db)
    .select({ rollout: rollouts, stage: rolloutStages, approval: approvals })
    .from(rollouts)
    .leftJoin(rolloutStages, eq(rolloutStages.rolloutId, rollouts.id))
    .leftJoin(approvals, eq(approvals.stageId, rolloutStages.id))
    .where(eq(rollouts.id, sql.placeholder("id")))
    .orderBy(asc(rolloutStages.position), asc(approvals.id))
    .prepare("pp_load_rollout");
}
const loadQueries = new WeakMap<Db | Tx, ReturnType<typeof buildLoadQuery>>();
function loadQueryOf(db: Db | Tx): ReturnType<typeof buildLoadQuery> {
  let query = loadQueries.get(db);
  if (!query) {
    query = buildLoadQuery(db);
    loadQueries.set(db, query);
  }
  return query;
}

/** The image a rollout deploys, as the audit trail and the policy name it. */
export type RolloutImage = { repository: string; configId: string | null };

/**
 * Locks the rollout row until the transaction ends (see `loadRollout`) and reads it with its
 * image. `known` is the same rollout read before the transaction: it is reused when the locked
 * row's version is still its version, since every change to a rollout's stages or votes bumps
 * the rollout's version in the same transaction (rollout-tx.ts); otherwise it is read again. So
 * `rollouts`, `rollout_stages` and `approvals` are written only through `inRolloutTx`: a write
 * that left the version as it was would let a later decision act on the read from before it.
 */
export async function lockRollout(
  tx: Tx,
  id: number,
  known?: LoadedRollout | null,
  /** The locked row, when the transaction's opening round trip took the lock (`rolloutTransaction`). */
  lockedRow?: LockedRolloutRow | null,
): Promise<{ loaded: LoadedRollout; image: RolloutImage | null } | null> {
  const [row] =
    lockedRow !== undefined
      ? lockedRow
        ? [lockedRow]
        : []
      : await tx
          .select({ version: rollouts.version, repository: images.repository, configId: images.configId })
          .from(rollouts)
          .leftJoin(images, eq(images.id, rollouts.imageId))
          .where(eq(rollouts.id, id))
          .for("update", { of: rollouts });
  if (!row) return null;
  const image = row.repository === null ? null : { repository: row.repository, configId: row.configId };
  if (known && known.rollout.id === id && known.rollout.version === row.version)
    return { loaded: known, image };
  const loaded = await loadRollout(tx, id);
  return loaded ? { loaded, image } : null;
}

/** What `lockRollout` reads under the lock: the rollout's version and its image. */
export type LockedRolloutRow = { version: number; repository: string | null; configId: string | null };
type RawLockedRow = { version: number; repository: string | null; config_id: string | null };
export type RuntimeFreezeRow = typeof runtimeFreezes.$inferSelect;
type RawFreezeRow = {
  id: number;
  environment: string;
  reason: string;
  started_by: string;
  started_at: Date;
  ended_by: string | null;
  ended_at: Date | null;
};

/** What a rollout transaction's opening round trip read. */
export type RolloutTxOpening = {
  /** The locked rollout, when one was asked for (null when it does not exist). */
  locked?: LockedRolloutRow | null;
  /** The freezes set from Slack and not lifted yet, read after the lock. */
  runtimeFreezes: RuntimeFreezeRow[];
  /** The rows of the caller's `alsoRead`, read after the lock. */
  alsoRead?: Rows;
};

/** The rollout's lock, taken only once the statement has set the transaction's lock timeout. */
const LOCKING_READ =
  "SELECT r.version, i.repository, i.config_id FROM rollouts r LEFT JOIN images i ON i.id = r.image_id WHERE r.id = $1 AND set_config('lock_timeout', $2, true) IS NOT NULL FOR UPDATE OF r";

/**
 * Runs `fn` as an `auditedTransaction` whose opening round trip also sets the transaction's lock
 * timeout, locks the rollout `lock` as `lockRollout` does (given one), reads the runtime freezes
 * (a decision that dispatches needs them) and the caller's `alsoRead`: one round trip where
 * BEGIN, the lock timeout, the locking read and the freezes took four. The locking read sets the
 * timeout itself, in its filter, which Postgres evaluates before it locks the row it found. The
 * freezes and `alsoRead` are read after the lock is held. The audit events `fn` returns are
 * appended with the COMMIT.
 */
export async function rolloutTransaction<T>(
  db: Db,
  opts: { lockTimeoutMs: number; lock?: number; alsoRead?: Statement | null },
  fn: (
    tx: Tx,
    opening: RolloutTxOpening,
  ) => Promise<{ value: T; audits: readonly AuditEventInput[]; closing?: readonly ClosingStatement[] }>,
): Promise<T> {
  const { lockTimeoutMs, lock, alsoRead } = opts;
  if (!Number.isSafeInteger(lockTimeoutMs) || lockTimeoutMs < 0)
    throw new Error(`lock timeout ${lockTimeoutMs} is not a whole number of ms`);
  const timeout = `${lockTimeoutMs}ms`;
  const statements: Statement[] = [
    lock === undefined
      ? { text: "SELECT set_config('lock_timeout', $1, true)", values: [timeout] }
      : { text: LOCKING_READ, values: [lock, timeout] },
    {
      text: "SELECT id, environment, reason, started_by, started_at, ended_by, ended_at FROM runtime_freezes WHERE ended_at IS NULL",
      values: [],
    },
  ];
  if (alsoRead) statements.push(alsoRead);
  return auditedTransaction(db, statements, (tx, results) => {
    const freezes = (results[1] ?? []) as RawFreezeRow[];
    const opening: RolloutTxOpening = {
      runtimeFreezes: freezes.map((f) => ({
        id: f.id,
        environment: f.environment,
        reason: f.reason,
        startedBy: f.started_by,
        startedAt: f.started_at,
        endedBy: f.ended_by,
        endedAt: f.ended_at,
      })),
    };
    if (alsoRead) opening.alsoRead = results[2] ?? [];
    if (lock !== undefined) {
      const row = results[0]?.[0] as RawLockedRow | undefined;
      opening.locked = row
        ? { version: row.version, repository: row.repository, configId: row.config_id }
        : null;
    }
    return fn(tx, opening);
  });
}

/** The open rollout of an image (active, halted or rolling back), if any. */
export async function findOpenRollout(db: Db | Tx, imageId: string): Promise<RolloutRow | null> {
  const rows = await db
    .select()
    .from(rollouts)
    .where(and(eq(rollouts.imageId, imageId), inArray(rollouts.state, [...OPEN_ROLLOUT_STATES])));
  return rows[0] ?? null;
}

/** The rollout a stage belongs to, found by its workflow run id or dispatch id. */
export async function findStageByRun(
  db: Db | Tx,
  by: { runId?: string | undefined; dispatchId?: string | undefined },
): Promise<{ stageId: number; rolloutId: number } | null> {
  const conditions = [
    ...(by.runId ? [eq(rolloutStages.runId, by.runId)] : []),
    ...(by.dispatchId ? [eq(rolloutStages.dispatchId, by.dispatchId)] : []),
  ];
  if (conditions.length === 0) return null;
  for (const c of conditions) {
    const rows = await db
      .select({ stageId: rolloutStages.id, rolloutId: rolloutStages.rolloutId })
      .from(rolloutStages)
      .where(c);
    if (rows[0]) return rows[0];
  }
  return null;
}

/**
 * The statement that records the rollout's (derived) state and bumps its version (the card
 * renders each version once), writing the patched stages in the same statement, each bumping its
 * own version. It is sent with the decision's COMMIT (see `inRolloutTx`); the rollout is locked,
 * so its new version is the one read under the lock plus one (a `version` in a patch is
 * ignored). Written from the tables' column maps (`setList`), not through drizzle's update
 * builder: it is in every decision, and building it took a tenth of an approval's CPU.
 */
export function rolloutTouch(
  id: number,
  patch: Partial<RolloutRow>,
  now: Date,
  stagePatches: ReadonlyMap<number, Partial<StageRow>> = new Map(),
): Statement {
  const values: unknown[] = [];
  const stages = [...stagePatches].map(([stageId, stagePatch], i) => {
    const set = setList(rolloutStages, { ...stagePatch, updatedAt: now }, values, ["version"]);
    values.push(stageId);
    return `stage${i} AS (UPDATE rollout_stages SET ${set}, version = version + 1 WHERE id = $${values.length})`;
  });
  const set = setList(rollouts, { ...patch, updatedAt: now }, values, ["version"]);
  values.push(id);
  const touch = `UPDATE rollouts SET ${set}, version = version + 1 WHERE id = $${values.length}`;
  return { text: stages.length > 0 ? `WITH ${stages.join(", ")} ${touch}` : touch, values };
}
