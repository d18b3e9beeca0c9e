import { sql } from "drizzle-orm";
import type { PatchpilotConfig } from "../config/file-schema.js";
import { type DigestPeriod, digestPeriod } from "../core/digest/digest-period.js";
import { isQuietDigest } from "../core/digest/is-quiet-digest.js";
import { severityCounts } from "../core/digest/severity-counts.js";
import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { Db } from "../db/client.js";
import { insertIntents, insertIntentsIfNew, type OutboxIntent } from "../db/outbox-repository.js";
import { renderDigest } from "../render/render-digest.js";
import { buildTeamDigests } from "./build-team-digest.js";
import { findSubscription } from "./digest-subscriptions.js";
import { unownedPosture } from "./posture/unowned-posture.js";

export type PostDigestDeps = {
  db: Db;
  sla: SlaPolicy;
  charts: boolean;
  now: () => Date;
  /** Queues what a team's digest recorded: one channel's messages, in the order they appear. */
  afterCommit: (outboxIds: number[]) => Promise<void>;
  /** The stage policies: rollouts awaiting approval in "Needs a decision". */
  config: PatchpilotConfig;
};

/**
 * Posts one subscription's digests for the current period: per team, a row in digest_runs (unique
 * per subscription, period and team) and the outbox intents for the message, its thread replies
 * and the trend chart, all in one transaction. A second worker, a retry or a restart finds the
 * row and posts nothing more, so each period is posted exactly once.
 */
export async function postDigest(
  deps: PostDigestDeps,
  subscriptionId: string,
): Promise<{ posted: string[] }> {
  const sub = await findSubscription(deps.db, subscriptionId);
  if (!sub) return { posted: [] };
  const period = digestPeriod(sub.cron, sub.timezone, deps.now());
  return postTeamDigests(deps, {
    channel: sub.channel,
    teams: sub.teams,
    period,
    run: { subscriptionId: sub.id, periodKey: period.key },
    keyPrefix: `digest:${sub.id}:${period.key}`,
  });
}

/**
 * `/patch digest [team]`: the same digest, now, in the asking channel. It is not a period of any
 * subscription (no digest_runs row, no trend chart), so it never stands in for the scheduled one;
 * the command's trigger id keys it, so it is posted once.
 */
export async function postDigestNow(
  deps: PostDigestDeps,
  q: { channel: string; teams: string[]; triggerId: string },
): Promise<{ posted: string[] }> {
  const now = deps.now();
  return postTeamDigests(
    { ...deps, charts: false },
    {
      channel: q.channel,
      teams: q.teams,
      period: digestPeriod("0 0 * * *", "UTC", now),
      run: null,
      keyPrefix: `digest-now:${q.channel}:${q.triggerId}`,
    },
  );
}

async function postTeamDigests(
  deps: PostDigestDeps,
  target: {
    channel: string;
    teams: string[];
    period: DigestPeriod;
    run: { subscriptionId: string; periodKey: string } | null;
    keyPrefix: string;
  },
): Promise<{ posted: string[] }> {
  const now = deps.now();
  const unowned = (await unownedPosture(deps.db, { now, sla: deps.sla })).map((u) => ({
    repository: u.repository,
    open: u.counts.open,
    lastScanAt: u.lastScanAt,
  }));
  // Every team's digest from one run of each query; then one transaction per team, as before.
  const digests = await buildTeamDigests(deps.db, {
    teamIds: target.teams,
    subscriptionId: target.run?.subscriptionId ?? null,
    period: target.period,
    now,
    sla: deps.sla,
    unowned,
    chartAttached: deps.charts,
    config: deps.config,
  });
  const posted: string[] = [];
  for (const teamId of target.teams) {
    const vm = digests.get(teamId);
    if (!vm) continue;
    const rendered = renderDigest(vm);
    const mainKey = `${target.keyPrefix}:${teamId}`;
    const intents: OutboxIntent[] = [
      {
        kind: "slack.post",
        dedupeKey: mainKey,
        payload: {
          key: mainKey,
          channel: target.channel,
          text: rendered.main.text,
          blocks: rendered.main.blocks,
        },
      },
      ...rendered.thread.map((reply, i) => {
        const key = `${mainKey}:thread:${i}`;
        return {
          kind: "slack.post",
          dedupeKey: key,
          payload: {
            key,
            channel: target.channel,
            text: reply.text,
            blocks: reply.blocks,
            threadKey: mainKey,
          },
        };
      }),
    ];
    if (deps.charts && target.run && !isQuietDigest(vm)) {
      intents.push({
        kind: "slack.digest-chart",
        dedupeKey: `${mainKey}:chart`,
        payload: {
          key: `${mainKey}:chart`,
          channel: target.channel,
          threadKey: mainKey,
          subscriptionId: target.run.subscriptionId,
          teamId,
        },
      });
    }
    // One statement: the period's run row and its messages, or nothing if the period was posted.
    const ids = target.run
      ? await insertIntentsIfNew(
          deps.db,
          sql`INSERT INTO digest_runs (subscription_id, period_key, team_id, open)
              VALUES (${target.run.subscriptionId}::uuid, ${target.run.periodKey}, ${teamId}, ${JSON.stringify(severityCounts(vm.open))}::jsonb)
              ON CONFLICT (subscription_id, period_key, team_id) DO NOTHING RETURNING id`,
          intents,
        )
      : await insertIntents(deps.db, intents);
    if (ids.length > 0) {
      posted.push(teamId);
      await deps.afterCommit(ids);
    }
  }
  return { posted };
}
