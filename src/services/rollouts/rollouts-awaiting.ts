import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import type { AwaitingRollout } from "../../core/digest/awaiting-rollout.js";
import { severityCounts } from "../../core/digest/severity-counts.js";
import { eligibleGroups, type StagePolicy } from "../../core/rollout/stage-policy.js";
import type { Db } from "../../db/client.js";
import { type LoadedRollout, loadRollout, type StageRow } from "../../db/rollout-repository.js";
import { images, OPEN_ROLLOUT_STATES, rolloutStages, rollouts } from "../../db/schema/index.js";
import type { GroupMembership } from "../group-membership.js";
import { loadCandidateDelta } from "./load-candidate-delta.js";
import { missingOf, policyOfStage } from "./rollout-progress.js";
import { votesOf } from "./stage-votes.js";

export type AwaitingDeps = { db: Db; config: PatchpilotConfig };

/** One rollout waiting at a stage, with what deciding who may approve it needs. */
type Waiting = { view: AwaitingRollout; loaded: LoadedRollout; stage: StageRow; policy: StagePolicy };

/** Open rollouts with a stage awaiting approval (forward or rollback stage), optionally of some teams. */
async function waitingRollouts(deps: AwaitingDeps, teamIds: readonly string[] | null): Promise<Waiting[]> {
  if (teamIds !== null && teamIds.length === 0) return [];
  const where: SQL[] = [
    inArray(rollouts.state, [...OPEN_ROLLOUT_STATES]),
    eq(rolloutStages.state, "awaiting_approval"),
  ];
  if (teamIds !== null) where.push(inArray(rollouts.teamId, [...teamIds]));
  const ids = await deps.db
    .selectDistinct({ id: rollouts.id })
    .from(rollouts)
    .innerJoin(rolloutStages, eq(rolloutStages.rolloutId, rollouts.id))
    .where(and(...where));
  const out: Waiting[] = [];
  for (const { id } of ids) {
    const loaded = await loadRollout(deps.db, id);
    const stage = loaded?.stages.find((s) => s.state === "awaiting_approval");
    if (!loaded || !stage) continue;
    const r = loaded.rollout;
    const image = (
      await deps.db
        .select({ id: images.id, configId: images.configId, repository: images.repository })
        .from(images)
        .where(eq(images.id, r.imageId))
    )[0];
    if (!image) continue;
    const scan = await loadCandidateDelta(deps.db, r.imageId, r.runningDigest, r.candidateDigest);
    const policy = policyOfStage(deps.config, loaded, stage);
    out.push({
      loaded,
      stage,
      policy,
      view: {
        rolloutId: r.id,
        image: { imageId: image.id, name: image.configId ?? image.repository, repository: image.repository },
        stage: stage.name,
        approverGroupId: policy.approvers.groups[0] ?? null,
        approvalsMissing: missingOf(deps.config, loaded, stage, (scan.delta?.blocking.length ?? 0) > 0),
        reason: r.reason,
        fixes: scan.delta?.fixed ?? severityCounts(),
        requestedAt: stage.requestedAt ?? r.createdAt,
        expiresAt: stage.expiresAt,
      },
    });
  }
  return out.sort((a, b) => a.view.rolloutId - b.view.rolloutId);
}

/**
 * The digest's "Needs a decision" for several teams at once: each team's rollouts whose current
 * stage awaits approval, keyed by team id (none waiting: no entry).
 */
export async function rolloutsAwaitingByTeam(
  deps: AwaitingDeps,
  teamIds: readonly string[],
): Promise<Map<string, AwaitingRollout[]>> {
  const out = new Map<string, AwaitingRollout[]>();
  for (const w of await waitingRollouts(deps, teamIds)) {
    const teamId = w.loaded.rollout.teamId;
    if (teamId === null) continue;
    out.set(teamId, [...(out.get(teamId) ?? []), w.view]);
  }
  return out;
}

/**
 * App Home's "Waiting for your approval": rollouts at a stage the viewer may approve — listed as a
 * user or a member of one of the policy's groups — that they have not approved yet and did not
 * start or request (four-eyes). Without `membership`, a group counts the viewer in when the
 * rollout is of one of `viewerTeams` (the teams Slack and the config say they approve for).
 */
export async function approvalsWaitingFor(
  deps: AwaitingDeps & { membership?: GroupMembership },
  viewer: { userId: string; viewerTeams: readonly string[] },
): Promise<AwaitingRollout[]> {
  const out: AwaitingRollout[] = [];
  for (const w of await waitingRollouts(deps, deps.membership ? null : viewer.viewerTeams)) {
    const { policy, loaded, stage } = w;
    const candidate = stage.candidateDigest ?? stage.targetDigest;
    if (votesOf(loaded, stage).some((v) => v.userId === viewer.userId && v.digest === candidate)) continue;
    if (
      policy.fourEyes &&
      (viewer.userId === loaded.rollout.requestedBy || viewer.userId === stage.requestedBy)
    )
      continue;
    const groups = eligibleGroups(policy);
    const listed =
      policy.approvers.users.includes(viewer.userId) ||
      (deps.membership
        ? (await deps.membership.groupsOf(viewer.userId, groups)).length > 0
        : groups.length > 0 && viewer.viewerTeams.includes(loaded.rollout.teamId ?? ""));
    if (listed) out.push(w.view);
  }
  return out;
}

const shippedRow = z.object({ team_id: z.string(), n: z.number().int() });

/**
 * The digest's "Shipped" for several teams: rollouts that reached done in (from, to], each team
 * from its own `from`, keyed by team id (every team) — done when their last forward stage completed.
 */
export async function rolloutsShippedByTeam(
  db: Db,
  q: { teams: readonly { teamId: string; from: Date }[]; to: Date },
): Promise<Map<string, number>> {
  const out = new Map<string, number>(q.teams.map((t) => [t.teamId, 0]));
  if (q.teams.length === 0) return out;
  const ids = sql.param(q.teams.map((t) => t.teamId));
  const froms = sql.param(q.teams.map((t) => t.from.toISOString()));
  const result = await db.execute(sql`
    SELECT team_id, count(*)::int AS n FROM (
      SELECT t.team_id FROM unnest(${ids}::text[], ${froms}::timestamptz[]) AS t(team_id, since)
      JOIN ${rollouts} ON ${rollouts.teamId} = t.team_id AND ${rollouts.state} = 'done'
      JOIN ${rolloutStages} ON ${rolloutStages.rolloutId} = ${rollouts.id} AND ${rolloutStages.kind} <> 'rollback'
      GROUP BY t.team_id, t.since, ${rollouts.id}
      HAVING max(${rolloutStages.completedAt}) > t.since
        AND max(${rolloutStages.completedAt}) <= ${q.to.toISOString()}::timestamptz
    ) done GROUP BY team_id`);
  for (const raw of result.rows) {
    const r = shippedRow.parse(raw);
    out.set(r.team_id, r.n);
  }
  return out;
}
