import { sql } from "drizzle-orm";
import { z } from "zod";
import { SEVERITIES, type SeverityCounts, severityCounts } from "../../core/digest/severity-counts.js";
import { ROLLOUT_STATES, type RolloutState } from "../../core/rollout/rollout-state.js";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { OPEN_ROLLOUT_STATES } from "../../db/schema/index.js";
import { epochMs, msDate } from "../posture/epoch-ms.js";
import { imagePostureRows } from "../posture/image-posture-rows.js";

/** The `team` label of images (and rollouts) no team owns. */
export const UNOWNED_TEAM = "unowned";

/** `image_base_status.state` values; anything else is counted as unknown. */
export const BASE_IMAGE_STATES = ["current", "behind", "unknown"] as const;
export type BaseImageState = (typeof BASE_IMAGE_STATES)[number];

/** One team's numbers (or the unowned images'), as the posture metrics export them. */
export type TeamPostureMetrics = {
  /** Open findings (latest scan, not suppressed) by severity. */
  open: SeverityCounts;
  breached: number;
  dueSoon: number;
  fixable: number;
  knownExploited: number;
  accepted: number;
  scannedImages: number;
  baseImages: Record<BaseImageState, number>;
  /** Seconds since the base tag moved, of the team's longest-behind image; 0 when none is behind. */
  driftAgeSeconds: number;
  rollouts: Record<RolloutState, number>;
  /** Open rollouts whose current stage awaits approval. */
  approvalsWaiting: number;
  /** Seconds the longest-waiting of those has waited; 0 when none waits. */
  approvalWaitSeconds: number;
};

/** The whole fleet's numbers at `at`, by team label: every team in `teams`, plus `unowned`. */
export type PostureSnapshot = { at: Date; teams: Map<string, TeamPostureMetrics> };

function emptyTeam(): TeamPostureMetrics {
  return {
    open: severityCounts(),
    breached: 0,
    dueSoon: 0,
    fixable: 0,
    knownExploited: 0,
    accepted: 0,
    scannedImages: 0,
    baseImages: { current: 0, behind: 0, unknown: 0 },
    driftAgeSeconds: 0,
    rollouts: Object.fromEntries(ROLLOUT_STATES.map((s) => [s, 0])) as Record<RolloutState, number>,
    approvalsWaiting: 0,
    approvalWaitSeconds: 0,
  };
}

const teamRows = z.array(z.object({ id: z.string() }));
const driftRows = z.array(
  z.object({
    team_id: z.string().nullable(),
    state: z.string(),
    images: z.number().int(),
    oldest_moved_at: msDate.nullable(),
  }),
);
const rolloutRows = z.array(
  z.object({ team_id: z.string().nullable(), state: z.string(), n: z.number().int() }),
);
const approvalRows = z.array(
  z.object({ team_id: z.string().nullable(), waiting: z.number().int(), oldest: msDate.nullable() }),
);

const ageSeconds = (now: Date, since: Date | null) =>
  since === null ? 0 : Math.max(0, (now.getTime() - since.getTime()) / 1000);

/**
 * The fleet's posture by team, for `/metrics`. Open, breached, due-soon and accepted counts come
 * from the posture aggregate (`imagePostureRows` over the fleet: the definitions of
 * `services/posture/`), summed per team; base-image drift from `image_base_status`; rollouts by
 * state; approvals waiting as the digest's "Needs a decision" counts them (open rollouts with a
 * stage in `awaiting_approval`, by the rollout's team). One fleet pass: seconds on a large fleet,
 * so callers cache it (`createPostureMetrics`).
 */
export async function postureSnapshot(
  db: Db,
  { now, sla }: { now: Date; sla: SlaPolicy },
): Promise<PostureSnapshot> {
  const [teamResult, images, drift, rollouts, approvals] = await Promise.all([
    db.execute(sql`SELECT id FROM teams`),
    imagePostureRows(db, { scope: { kind: "fleet" }, now, sla }),
    db.execute(sql`
      SELECT i.team_id, b.state, count(*)::int AS images,
        ${epochMs(sql`min(b.moved_at) FILTER (WHERE b.state = 'behind')`)} AS oldest_moved_at
      FROM image_base_status b JOIN images i ON i.id = b.image_id
      GROUP BY i.team_id, b.state`),
    db.execute(sql`SELECT team_id, state, count(*)::int AS n FROM rollouts GROUP BY team_id, state`),
    db.execute(sql`
      SELECT r.team_id, count(DISTINCT r.id)::int AS waiting,
        ${epochMs(sql`min(coalesce(s.requested_at, r.created_at))`)} AS oldest
      FROM rollouts r JOIN rollout_stages s ON s.rollout_id = r.id
      WHERE r.state IN (${sql.join(
        OPEN_ROLLOUT_STATES.map((s) => sql`${s}`),
        sql`, `,
      )}) AND s.state = 'awaiting_approval'
      GROUP BY r.team_id`),
  ]);

  const teams = new Map<string, TeamPostureMetrics>();
  for (const { id } of teamRows.parse(teamResult.rows)) teams.set(id, emptyTeam());
  teams.set(UNOWNED_TEAM, emptyTeam());
  // A team id the teams table lacks cannot occur (foreign keys); if it did, it would count as unowned
  // rather than add a label value nobody configured.
  const of = (teamId: string | null): TeamPostureMetrics =>
    teams.get(teamId ?? UNOWNED_TEAM) ?? (teams.get(UNOWNED_TEAM) as TeamPostureMetrics);

  for (const image of images) {
    const t = of(image.teamId);
    const c = image.counts;
    for (const s of SEVERITIES) t.open[s] += c.open[s];
    t.breached += c.breached;
    t.dueSoon += c.dueSoon;
    t.fixable += c.fixable;
    t.knownExploited += c.knownExploited;
    t.accepted += c.acceptedCount;
    t.scannedImages += 1;
  }
  for (const row of driftRows.parse(drift.rows)) {
    const t = of(row.team_id);
    const state = (BASE_IMAGE_STATES as readonly string[]).includes(row.state)
      ? (row.state as BaseImageState)
      : "unknown";
    t.baseImages[state] += row.images;
    t.driftAgeSeconds = Math.max(t.driftAgeSeconds, ageSeconds(now, row.oldest_moved_at));
  }
  for (const row of rolloutRows.parse(rollouts.rows)) {
    if (!(ROLLOUT_STATES as readonly string[]).includes(row.state)) continue;
    of(row.team_id).rollouts[row.state as RolloutState] += row.n;
  }
  for (const row of approvalRows.parse(approvals.rows)) {
    const t = of(row.team_id);
    t.approvalsWaiting += row.waiting;
    t.approvalWaitSeconds = Math.max(t.approvalWaitSeconds, ageSeconds(now, row.oldest));
  }
  return { at: now, teams };
}
