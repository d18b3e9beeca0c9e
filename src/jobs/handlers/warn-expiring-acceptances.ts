import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client.js";
import { recordAcceptanceNotices } from "../../services/risk/expired-acceptance-notice.js";

/** How far ahead the team is warned: long enough to renew or fix over a weekend. */
export const EXPIRY_WARNING_MS = 3 * 24 * 3600_000;
const BATCH = 200;
const claimed = z.object({ id: z.string(), team_id: z.string().nullable() });

/**
 * Active acceptances expiring within EXPIRY_WARNING_MS are warned about once, one message per
 * team for all of a run's (`notify.acceptance-expiring`). Marking and the intents share a
 * transaction on rows no other worker holds, so overlapping runs warn once.
 */
export function warnExpiringAcceptances(deps: { db: Db; now: () => Date }): () => Promise<void> {
  return async () => {
    const now = deps.now();
    const horizon = new Date(now.getTime() + EXPIRY_WARNING_MS);
    for (;;) {
      const warned = await deps.db.transaction(async (tx) => {
        const r = await tx.execute(sql`
          WITH warned AS (
            UPDATE risk_acceptances SET expiry_warned_at = ${now.toISOString()}
            WHERE id IN (
              SELECT id FROM risk_acceptances
              WHERE expires_at > ${now.toISOString()} AND expires_at <= ${horizon.toISOString()}
                AND revoked_at IS NULL AND expiry_warned_at IS NULL AND expiry_notified_at IS NULL
              ORDER BY expires_at LIMIT ${BATCH}
              FOR UPDATE SKIP LOCKED)
            RETURNING id, team_id, image_id)
          SELECT w.id, coalesce(w.team_id, i.team_id) AS team_id
          FROM warned w LEFT JOIN images i ON i.id = w.image_id`);
        const marked = r.rows.map((x) => {
          const row = claimed.parse(x);
          return { id: row.id, teamId: row.team_id };
        });
        await recordAcceptanceNotices(tx, "notify.acceptance-expiring", marked);
        return marked.length;
      });
      if (warned < BATCH) return;
    }
  };
}
