import { and, asc, count, desc, eq, or, type SQL, sql } from "drizzle-orm";
import type { RolloutAuditEntry, RolloutAuditView } from "../../core/rollout/rollout-audit-view.js";
import { readChainHead } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { auditEvents, images, rollouts, teams } from "../../db/schema/index.js";

/** At most this many events are read; beyond it the first HEAD and the latest rest are kept. */
export const ROLLOUT_HISTORY_CAP = 200;
const HEAD = 20;

type AuditRow = typeof auditEvents.$inferSelect;

const record = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
const textOf = (value: unknown): string | null => (typeof value === "string" ? value : null);

function toEntry(row: AuditRow): RolloutAuditEntry {
  const resource = record(row.resource);
  return {
    seq: row.seq,
    at: row.at,
    actor: { id: row.actorId, name: row.actorName },
    action: row.action,
    outcome: row.outcome,
    stage: textOf(resource.stage),
    digest: textOf(resource.digest),
    payload: record(row.payload),
  };
}

/** The events about one rollout: its own (`resource.rollout`) and the scans of its build (`resource.rolloutId`). */
function aboutRollout(rolloutId: number): SQL {
  const id = String(rolloutId);
  return or(
    sql`${auditEvents.resource}->>'rollout' = ${id}`,
    and(eq(auditEvents.action, "scan.ingested"), sql`${auditEvents.resource}->>'rolloutId' = ${id}`),
  ) as SQL;
}

/**
 * `/patch audit <rollout>`: the rollout with its image and team, and every audit event about it
 * in seq order — or, past the cap, the first ones and the latest ones with how many lie between.
 * Null when there is no such rollout.
 */
export async function rolloutHistory(db: Db, rolloutId: number): Promise<RolloutAuditView | null> {
  const found = (
    await db
      .select({ rollout: rollouts, image: images, team: teams })
      .from(rollouts)
      .innerJoin(images, eq(images.id, rollouts.imageId))
      .leftJoin(teams, eq(teams.id, rollouts.teamId))
      .where(eq(rollouts.id, rolloutId))
  )[0];
  if (!found) return null;
  const where = aboutRollout(rolloutId);
  const total = (await db.select({ n: count() }).from(auditEvents).where(where))[0]?.n ?? 0;
  let head: AuditRow[];
  let tail: AuditRow[] = [];
  if (total <= ROLLOUT_HISTORY_CAP) {
    head = await db
      .select()
      .from(auditEvents)
      .where(where)
      .orderBy(asc(auditEvents.seq))
      .limit(ROLLOUT_HISTORY_CAP);
  } else {
    head = await db.select().from(auditEvents).where(where).orderBy(asc(auditEvents.seq)).limit(HEAD);
    const lastOfHead = head.at(-1)?.seq ?? 0;
    tail = (
      await db
        .select()
        .from(auditEvents)
        .where(and(where, sql`${auditEvents.seq} > ${lastOfHead}`))
        .orderBy(desc(auditEvents.seq))
        .limit(ROLLOUT_HISTORY_CAP - HEAD)
    ).reverse();
  }
  const { rollout, image, team } = found;
  return {
    rolloutId: rollout.id,
    image: { id: image.configId ?? image.repository, repository: image.repository },
    team: team ? { id: team.id, name: team.name, channel: team.channel } : null,
    state: rollout.state,
    trigger: rollout.trigger,
    reason: rollout.reason,
    requestedBy: { id: rollout.requestedBy, name: rollout.requestedByName },
    createdAt: rollout.createdAt,
    head: head.map(toEntry),
    tail: tail.map(toEntry),
    skipped: Math.max(0, total - head.length - tail.length),
    chainHeadSeq: (await readChainHead(db)).seq,
  };
}
