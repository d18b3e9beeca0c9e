import type { WebClient } from "@slack/web-api";
import { UnrecoverableError } from "bullmq";
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { ChannelGate } from "../../adapters/channel-gate.js";
import { configImage, configTeam } from "../../config/config-lookup.js";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import { quorum } from "../../core/rollout/quorum.js";
import type { RolloutCardView } from "../../core/rollout/rollout-card-view.js";
import type { RolloutState } from "../../core/rollout/rollout-state.js";
import type { StageKind, StageState } from "../../core/rollout/stage-state.js";
import { windowState } from "../../core/windows/window-state.js";
import type { Db } from "../../db/client.js";
import { loadRollout } from "../../db/rollout-repository.js";
import { findingLifecycle, images, outbox, rollouts, slackMessages } from "../../db/schema/index.js";
import { renderApprovalRequest } from "../../render/render-approval-request.js";
import { renderRolloutCard } from "../../render/render-rollout-card.js";
import { upsertSlackMessage } from "../upsert-slack-message.js";
import { loadCandidateDelta } from "./load-candidate-delta.js";
import { rolloutPolicy } from "./rollout-policy.js";
import { slaClockDueAt } from "./sla-due.js";
import { votesOf } from "./stage-votes.js";

type CardDeps = { db: Db; config: PatchpilotConfig; now: () => Date };

export const rolloutCardPayload = z.object({
  rolloutId: z.number().int(),
  version: z.number().int().optional(),
});

/** The card's view of a rollout as the database has it now; null if the rollout does not exist. */
export async function rolloutCardView(deps: CardDeps, rolloutId: number): Promise<RolloutCardView | null> {
  const loaded = await loadRollout(deps.db, rolloutId);
  if (!loaded) return null;
  const r = loaded.rollout;
  const now = deps.now();
  const imageRow = (await deps.db.select().from(images).where(eq(images.id, r.imageId)))[0];
  const image = configImage(deps.config, imageRow?.configId);
  const team = configTeam(deps.config, r.teamId);
  const scan = await loadCandidateDelta(deps.db, r.imageId, r.runningDigest, r.candidateDigest);
  const needsOverride = (scan.delta?.blocking.length ?? 0) > 0;
  const stages = loaded.stages.map((s) => {
    const policy = rolloutPolicy(deps.config, team, s.name, s.kind as StageKind);
    const votes = votesOf(loaded, s);
    const w = policy.window ? deps.config.windows[policy.window] : undefined;
    const state = w ? windowState(w, now) : null;
    return {
      name: s.name,
      kind: s.kind as StageKind,
      state: s.state as StageState,
      approvalsRequired: policy.approvals,
      approverGroups: [...policy.approvers.groups],
      approverUsers: [...policy.approvers.users],
      requiredGroups: [...policy.requiredGroups],
      confirm: policy.confirm,
      missing:
        s.state === "awaiting_approval"
          ? quorum(policy, votes, s.candidateDigest ?? s.targetDigest, {
              needsOverride: needsOverride && policy.blockNewCritical && s.kind === "deploy",
            }).missing
          : [],
      approvals: votes.map((v) => ({
        userId: v.userId,
        userName: v.userName,
        at: v.at,
        override: v.override,
      })),
      requestedAt: s.requestedAt,
      expiresAt: s.expiresAt,
      decidedBy: s.decidedBy,
      decisionReason: s.decisionReason,
      window:
        w && policy.window
          ? { name: policy.window, ...w, opensAt: state && !state.open ? state.opensAt : null }
          : null,
      blockedReason: s.blockedReason,
      scheduledFor: s.scheduledFor,
      emergency: s.emergency,
      run:
        s.runId || s.runUrl
          ? { id: s.runId, url: s.runUrl, status: s.runStatus, conclusion: s.runConclusion }
          : null,
      dispatchedAt: s.dispatchedAt,
      completedAt: s.completedAt,
      health: s.health ?? null,
    };
  });
  return {
    rolloutId: r.id,
    now,
    image: { id: image?.id ?? imageRow?.repository ?? "image", repository: imageRow?.repository ?? "" },
    team: team ? { id: team.id, name: team.name ?? team.id, channel: team.channel } : null,
    state: r.state as RolloutState,
    trigger: r.trigger,
    reason: r.reason,
    requestedBy: { id: r.requestedBy, name: r.requestedByName },
    createdAt: r.createdAt,
    runningDigest: r.runningDigest,
    candidateDigest: r.candidateDigest,
    candidateScanned: scan.candidateScanned,
    delta: scan.delta,
    slaDeadline: await earliestDeadline(deps, r.imageId, scan.delta?.fixedUrgent ?? []),
    stages,
  };
}

async function earliestDeadline(
  deps: CardDeps,
  imageId: string,
  fixed: ReadonlyArray<{ vulnerabilityId: string; packageName: string }>,
): Promise<{ vulnerabilityId: string; dueAt: Date } | null> {
  if (fixed.length === 0) return null;
  const rows = await deps.db
    .select({ vulnerabilityId: findingLifecycle.vulnerabilityId, firstSeenAt: findingLifecycle.firstSeenAt })
    .from(findingLifecycle)
    .where(
      and(
        eq(findingLifecycle.imageId, imageId),
        inArray(
          findingLifecycle.vulnerabilityId,
          fixed.map((f) => f.vulnerabilityId),
        ),
      ),
    );
  const due = rows
    .map((r) => ({ vulnerabilityId: r.vulnerabilityId, dueAt: slaClockDueAt(deps.config, r.firstSeenAt) }))
    .sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  return due[0] ?? null;
}

/**
 * Posts or updates the rollout's card from the current state (so a delivery renders the latest
 * version; one superseded by a newer version is skipped). A transaction-scoped advisory lock per rollout makes two deliveries
 * take turns, so the first post is never made twice.
 */
export async function postRolloutCard(
  deps: CardDeps & { slack: WebClient; gate?: ChannelGate; retryOf?: Date | undefined },
  rolloutId: number,
  version?: number,
): Promise<Record<string, unknown>> {
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${CARD_LOCK}::int, ${rolloutId}::int)`);
    // A later version's intent will render the card; this one would spend a paced send for nothing.
    const current = (
      await tx.select({ version: rollouts.version }).from(rollouts).where(eq(rollouts.id, rolloutId))
    )[0];
    if (version !== undefined && current && current.version > version)
      return { skipped: "a newer version follows" };
    const view = await rolloutCardView(deps, rolloutId);
    if (!view?.team) return { skipped: "no team channel" };
    const message = renderRolloutCard(view);
    const r = await upsertSlackMessage(
      tx,
      deps.slack,
      { key: `rollout:${rolloutId}`, channel: view.team.channel, text: message.text, blocks: message.blocks },
      deps.gate,
      { retryOf: deps.retryOf },
    );
    return { ts: r.ts, updated: r.updated };
  });
}

// The advisory lock space of rollout cards (the second key is the rollout id).
const CARD_LOCK = 7_310_445;

export const approvalRequestPayload = z.object({
  rolloutId: z.number().int(),
  stage: z.string(),
  round: z.number().int(),
});

/**
 * The approval request in the card's thread, mentioning the approver groups and nobody else —
 * unless the stage no longer waits for that round's approvals (approved meanwhile, expired,
 * asked again), in which case nothing is posted.
 */
export async function postApprovalRequest(
  deps: CardDeps & { slack: WebClient; gate?: ChannelGate; retryOf?: Date | undefined },
  request: z.infer<typeof approvalRequestPayload>,
): Promise<Record<string, unknown>> {
  const loaded = await loadRollout(deps.db, request.rolloutId);
  const stage = loaded?.stages.find((s) => s.name === request.stage);
  if (!loaded || !stage || stage.state !== "awaiting_approval" || stage.round !== request.round)
    return { skipped: "the stage no longer waits for this request" };
  const team = configTeam(deps.config, loaded.rollout.teamId);
  if (!team) return { skipped: "no team channel" };
  // The request is a reply to the card: if every post of the card failed for good, waiting for
  // it would never end, so the request is dropped (the card's failure is in the outbox).
  if (await cardFailedForGood(deps.db, request.rolloutId))
    throw new UnrecoverableError(`the card of rollout #${request.rolloutId} could not be posted`);
  const imageRow = (await deps.db.select().from(images).where(eq(images.id, loaded.rollout.imageId)))[0];
  const policy = rolloutPolicy(deps.config, team, stage.name, stage.kind as StageKind);
  const message = renderApprovalRequest({
    rolloutId: loaded.rollout.id,
    stage: stage.name,
    image: imageRow?.configId ?? imageRow?.repository ?? "image",
    policy,
    missing: quorum(policy, votesOf(loaded, stage), stage.candidateDigest ?? stage.targetDigest).missing,
  });
  const key = `rollout:${request.rolloutId}:ask:${request.stage}:${request.round}`;
  const r = await upsertSlackMessage(
    deps.db,
    deps.slack,
    {
      key,
      channel: team.channel,
      text: message.text,
      blocks: message.blocks,
      threadKey: `rollout:${request.rolloutId}`,
    },
    deps.gate,
    { retryOf: deps.retryOf },
  );
  return { ts: r.ts };
}

/** No card message yet, and no card delivery left that could post it. */
async function cardFailedForGood(db: Db, rolloutId: number): Promise<boolean> {
  const posted = await db
    .select({ key: slackMessages.key })
    .from(slackMessages)
    .where(eq(slackMessages.key, `rollout:${rolloutId}`));
  if (posted.length > 0) return false;
  const deliveries = await db
    .select({ status: outbox.status })
    .from(outbox)
    .where(and(eq(outbox.kind, "rollout.card"), sql`${outbox.payload}->>'rolloutId' = ${String(rolloutId)}`));
  return deliveries.length > 0 && !deliveries.some((d) => d.status === "pending");
}
