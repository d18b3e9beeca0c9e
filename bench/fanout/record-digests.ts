import pLimit from "p-limit";
import type { Db } from "../../src/db/client.js";
import { insertIntents } from "../../src/db/outbox-repository.js";
import type { JobQueues } from "../../src/jobs/job-queues.js";
import { queueIntents } from "../../src/services/record-effect.js";

const RECORDING_CONCURRENCY = 20;

/** One message the bench expects in the fake: its text carries the key, so it can be found. */
export type ExpectedPost = { key: string; channel: string; text: string; threadKey?: string };

/**
 * A digest's shape per channel: the main message, two thread replies and a second top-level
 * message (the chart or a follow-up), recorded as `slack.post` intents.
 */
export function digestPosts(channel: string, run: string): ExpectedPost[] {
  const main = `fanout:${run}:${channel}:main`;
  return [
    { key: main, channel, text: `digest ${main}` },
    { key: `${main}:thread:0`, channel, text: `reply ${main}:thread:0`, threadKey: main },
    { key: `${main}:thread:1`, channel, text: `reply ${main}:thread:1`, threadKey: main },
    { key: `fanout:${run}:${channel}:follow-up`, channel, text: `follow-up ${run} ${channel}` },
  ];
}

/**
 * As `postDigest` does: every channel's intents in one statement (a scheduled digest's also
 * records its period's run in it), queued once it has committed. The
 * channels are written concurrently, as the digest jobs of many subscriptions would be, as many at
 * once as the bench has connections (20): 200 at once waited for a connection and failed with
 * "timeout exceeded when trying to connect" under load.
 */
export async function recordDigests(
  deps: { db: Db; queues: JobQueues },
  posts: readonly ExpectedPost[],
): Promise<Map<string, number>> {
  // When each channel's digest was queued, ms since the epoch.
  const queuedAt = new Map<string, number>();
  const byChannel = new Map<string, ExpectedPost[]>();
  for (const p of posts) byChannel.set(p.channel, [...(byChannel.get(p.channel) ?? []), p]);
  const limit = pLimit(RECORDING_CONCURRENCY);
  await Promise.all(
    [...byChannel.values()].map((channelPosts) =>
      limit(async () => {
        const ids = await insertIntents(
          deps.db,
          channelPosts.map((p) => ({
            kind: "slack.post",
            dedupeKey: p.key,
            payload: {
              key: p.key,
              channel: p.channel,
              text: p.text,
              ...(p.threadKey !== undefined && { threadKey: p.threadKey }),
            },
          })),
        );
        await queueIntents({ queues: deps.queues }, ids, { oneChannel: true });
        queuedAt.set(channelPosts[0]?.channel ?? "", Date.now());
      }),
    ),
  );
  return queuedAt;
}
