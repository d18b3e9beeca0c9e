import { sql } from "drizzle-orm";
import { z } from "zod";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { epochMs, msDate } from "./epoch-ms.js";
import { type ImageAcceptance, imageAcceptances } from "./image-acceptances.js";
import { imagePostureRows } from "./image-posture-rows.js";
import { type PostureCounts, zeroPostureCounts } from "./posture-counts.js";
import { type UrgentFinding, urgentFindings } from "./urgent-findings.js";

/** Rollout states after which nothing more happens; any other state is a rollout in flight. */
export const FINAL_ROLLOUT_STATES = [
  "done",
  "failed",
  "cancelled",
  "rolled_back",
  "rejected",
  "expired",
] as const;

/** What `/patch status <image>` shows. */
export type ImagePosture = PostureCounts & {
  image: {
    imageId: string;
    /** The config id, or the repository for an image no config names. */
    name: string;
    configId: string | null;
    repository: string;
    /** Digest of the latest scan. */
    digest: string | null;
  };
  team: { id: string; name: string } | null;
  lastScan: { at: Date; scanner: string; findings: number } | null;
  /** Breached then due-soon open findings, most overdue first, at most `listLimit`. */
  urgent: UrgentFinding[];
  /** Acceptances in force covering latest findings, soonest to expire first. */
  accepted: ImageAcceptance[];
  rolloutsInFlight: number;
};

export type ImagePostureParams = { imageId: string; now: Date; sla: SlaPolicy; listLimit?: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const imageSchema = z.object({
  id: z.string(),
  config_id: z.string().nullable(),
  repository: z.string(),
  latest_digest: z.string().nullable(),
  latest_scan_at: msDate.nullable(),
  team_id: z.string().nullable(),
  team_name: z.string().nullable(),
  scanner_name: z.string().nullable(),
  scanner_version: z.string().nullable(),
  finding_count: z.number().int().nullable(),
  rollouts_in_flight: z.number().int(),
});

/** One image's posture at `now`; null when no image has that id. Four small queries, run concurrently. */
export async function imagePosture(db: Db, params: ImagePostureParams): Promise<ImagePosture | null> {
  const { imageId, now, sla } = params;
  // Not an id Postgres could hold: no such image (rather than a cast error).
  if (!UUID.test(imageId)) return null;
  const limit = params.listLimit ?? 5;
  const scope = { kind: "image", imageId } as const;
  const final = sql.join(
    FINAL_ROLLOUT_STATES.map((s) => sql`${s}::text`),
    sql`, `,
  );
  const [imageResult, rows, urgent, accepted] = await Promise.all([
    db.execute(sql`
      SELECT i.id, i.config_id, i.repository, i.latest_digest, ${epochMs(sql`i.latest_scan_at`)} AS latest_scan_at, i.team_id,
        t.name AS team_name, s.scanner_name, s.scanner_version, s.finding_count,
        (SELECT count(*)::int FROM rollouts r WHERE r.image_id = i.id AND r.state NOT IN (${final}))
          AS rollouts_in_flight
      FROM images i
      LEFT JOIN teams t ON t.id = i.team_id
      LEFT JOIN scans s ON s.id = i.latest_scan_id
      WHERE i.id = ${imageId}::uuid`),
    imagePostureRows(db, { scope, now, sla }),
    urgentFindings(db, { scope, now, sla, limit }),
    imageAcceptances(db, { imageId, now }),
  ]);
  const raw = imageResult.rows[0];
  if (raw === undefined) return null;
  const image = imageSchema.parse(raw);
  const counts = rows[0]?.counts ?? zeroPostureCounts();
  return {
    ...counts,
    image: {
      imageId: image.id,
      name: image.config_id ?? image.repository,
      configId: image.config_id,
      repository: image.repository,
      digest: image.latest_digest,
    },
    team: image.team_id === null ? null : { id: image.team_id, name: image.team_name ?? image.team_id },
    lastScan:
      image.latest_scan_at === null
        ? null
        : {
            at: image.latest_scan_at,
            scanner: [image.scanner_name, image.scanner_version].filter((x) => x !== null).join(" "),
            findings: image.finding_count ?? 0,
          },
    urgent,
    accepted,
    rolloutsInFlight: image.rollouts_in_flight,
  };
}
