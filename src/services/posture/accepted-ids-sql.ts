import { type SQL, sql } from "drizzle-orm";
import { riskAcceptances } from "../../db/schema/index.js";
import { SUPPRESSING_STATUSES, validAcceptanceAt } from "../risk/valid-acceptance.js";
import { type ImageScope, imageScopeSql } from "./image-scope.js";

/** A `risk_acceptances` row (unaliased) that takes findings out of the open counts at `now`. */
export function suppressingAcceptanceSql(now: Date): SQL {
  const statuses = sql.join(
    SUPPRESSING_STATUSES.map((s) => sql`${s}::text`),
    sql`, `,
  );
  return sql`${validAcceptanceAt(now)} AND ${riskAcceptances.status} IN (${statuses})`;
}

/**
 * Rows (image_id, ids): per image in scope, the vulnerability ids that suppressing acceptances
 * name for it, directly or through its team. Two joins instead of one with OR: an OR join cannot
 * be hashed and compares every acceptance with every image.
 */
export function acceptedIdsSql(scope: ImageScope, now: Date): SQL {
  const suppressing = suppressingAcceptanceSql(now);
  const inScope = imageScopeSql(scope);
  return sql`
    SELECT image_id, array_agg(DISTINCT vulnerability_id) AS ids FROM (
      SELECT i.id AS image_id, ${riskAcceptances.vulnerabilityId} AS vulnerability_id
      FROM risk_acceptances JOIN images i ON i.id = ${riskAcceptances.imageId}
      WHERE ${inScope} AND ${suppressing}
      UNION ALL
      SELECT i.id, ${riskAcceptances.vulnerabilityId}
      FROM risk_acceptances JOIN images i ON i.team_id = ${riskAcceptances.teamId}
      WHERE ${inScope} AND ${suppressing}
    ) matched GROUP BY image_id`;
}

/** Whether finding `f` is covered by one of the ids in `ids` (null: none), by its id or an alias. */
export function isSuppressedSql(ids: SQL): SQL {
  return sql`coalesce(f.vulnerability_id = ANY (${ids}) OR f.aliases && ${ids}, false)`;
}
