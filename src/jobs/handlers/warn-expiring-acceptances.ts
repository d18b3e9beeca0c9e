import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client.js";
import { insertIntent } from "../../db/outbox-repository.js";

/** How far ahead the team is warned: long enough to renew or fix over a weekend. */
export const EXPIRY_WARNING_MS = 3 * 24 * 3600_000;
const BATCH = 200;
const claimed = z.object({ id: z.string() });

/**
 * Active acceptances expiring within EXPIRY_WARNING_MS get one `notify.acceptance-expiring`
 * intent each. Marking and the intent share a transaction on rows no other worker holds, and the
 * dedupe key is the acceptance, so overlapping runs warn once.
 */
export function warnExpiringAcceptances(deps: { db: Db; now: () => Date }): () => Promise<void> {
  return async () => {
    const now = deps.now();
    const horizon = new Date(now.getTime() + EXPIRY_WARNING_MS);
    for (;;) {
      const warned = await deps.db.transaction(async (tx) => {
        const r = await tx.execute(sql`
          UPDATE risk_acceptances SET expiry_warned_at = ${now.toISOString()}
          WHERE id IN (
            SELECT id FROM risk_acceptances
            WHERE expires_at > ${now.toISOString()} AND expires_at <= ${horizon.toISOString()}
              AND revoked_at IS NULL AND expiry_warned_at IS NULL AND expiry_notified_at IS NULL
            ORDER BY expires_at LIMIT ${BATCH}
            FOR UPDATE SKIP LOCKED)
          RETURNING id`);
        const ids = r.rows.map((x) => claimed.parse(x).id);
        for (const id of ids) {
          await insertIntent(tx, {
            kind: "notify.acceptance-expiring",
            dedupeKey: `acceptance-expiring:${id}`,
            payload: { acceptanceId: id },
          });
        }
        return ids.length;
      });
      if (warned < BATCH) return;
    }
  };
}
