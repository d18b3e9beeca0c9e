import type { WebClient } from "@slack/web-api";
import { UnrecoverableError } from "bullmq";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { ChannelGate } from "../adapters/channel-gate.js";
import { classifySlackError, NotYet } from "../adapters/slack-errors.js";
import { isoWeek } from "../core/digest/digest-period.js";
import type { Db } from "../db/client.js";
import { outbox, slackMessages } from "../db/schema/index.js";
import { renderChartNotUploaded } from "../render/render-chart-not-uploaded.js";
import { renderTrendChartPng, TREND_PERIODS } from "../render/render-trend-chart.js";
import { paced } from "./upsert-slack-message.js";

export const digestChartPayload = z.object({
  key: z.string(),
  channel: z.string(),
  threadKey: z.string(),
  subscriptionId: z.uuid(),
  teamId: z.string(),
});

const runRow = z.object({ period_key: z.string(), open: z.record(z.string(), z.number()) });

/**
 * Uploads the trend of open critical and high findings over this subscription's last periods
 * into the digest's thread. Uploaded once: the key is remembered like a posted message.
 */
export async function postDigestChart(
  deps: { db: Db; slack: WebClient; gate?: ChannelGate },
  payload: z.infer<typeof digestChartPayload>,
): Promise<Record<string, unknown>> {
  const done = await deps.db.select().from(slackMessages).where(eq(slackMessages.key, payload.key));
  if (done.length > 0) return { skipped: "already uploaded" };
  const parent = (
    await deps.db.select().from(slackMessages).where(eq(slackMessages.key, payload.threadKey))
  )[0];
  if (!parent) {
    const main = (
      await deps.db
        .select({ status: outbox.status })
        .from(outbox)
        .where(eq(outbox.dedupeKey, payload.threadKey))
    )[0];
    if (main?.status === "failed")
      throw new UnrecoverableError(`digest ${payload.threadKey} could not be posted`);
    throw new NotYet(`digest ${payload.threadKey} not posted yet`, 1_000);
  }
  const runs = await deps.db.execute(sql`
    SELECT period_key, open FROM digest_runs
    WHERE subscription_id = ${payload.subscriptionId}::uuid AND team_id = ${payload.teamId}
    ORDER BY period_key DESC LIMIT ${TREND_PERIODS}`);
  const points = runs.rows
    .map((r) => runRow.parse(r))
    .reverse()
    .map((r) => ({
      periodLabel: Number.isFinite(Date.parse(r.period_key))
        ? `W${isoWeek(new Date(r.period_key), "UTC")}`
        : r.period_key.slice(0, 10),
      critical: r.open.critical ?? 0,
      high: r.open.high ?? 0,
    }));
  const title = `Open critical and high findings · ${payload.teamId} · last ${points.length} digest${points.length === 1 ? "" : "s"}`;
  const png = await renderTrendChartPng(points, { title });
  // Refused for good (no files:write scope, uploads not allowed): a note takes the chart's place
  // in the same slot (the refused upload posted nothing), and the digest is not held up.
  const refused = await paced(deps.gate, parent.channel, payload.key, async () => {
    try {
      await deps.slack.files.uploadV2({
        channel_id: parent.channel,
        thread_ts: parent.ts,
        file: png,
        filename: "patchpilot-trend.png",
        title,
        alt_text: title,
      });
      return null;
    } catch (e) {
      const failure = classifySlackError(e);
      if (failure.kind !== "permanent") throw e;
      await deps.slack.chat.postMessage({
        channel: parent.channel,
        thread_ts: parent.ts,
        ...renderChartNotUploaded(failure.reason),
      });
      return failure.reason;
    }
  });
  await deps.db
    .insert(slackMessages)
    .values({ key: payload.key, channel: parent.channel, ts: parent.ts, threadTs: parent.ts })
    .onConflictDoNothing();
  return refused ? { skipped: `upload refused: ${refused}` } : { points: points.length };
}
