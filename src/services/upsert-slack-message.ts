import type { Block, KnownBlock } from "@slack/types";
import type { WebClient } from "@slack/web-api";
import { UnrecoverableError } from "bullmq";
import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { ChannelGate } from "../adapters/channel-gate.js";
import { classifySlackError, NotYet } from "../adapters/slack-errors.js";
import { botIdsOf } from "../adapters/slack-web.js";
import type { Db, Tx } from "../db/client.js";
import type { IntentTx } from "../db/outbox-repository.js";
import { outbox, slackMessages } from "../db/schema/index.js";
import type { Statement } from "../db/statements.js";
import { assertWithinBlockKitLimits } from "../render/block-kit-limits.js";

export const slackPostPayload = z.object({
  /** Stable key (kind + subject): the same key updates the message already posted. */
  key: z.string().min(1).max(200),
  channel: z.string().min(1),
  text: z.string().min(1),
  blocks: z.array(z.looseObject({ type: z.string() })).optional(),
  threadKey: z.string().optional(),
});
export type SlackPost = Omit<z.infer<typeof slackPostPayload>, "blocks"> & {
  blocks?: Array<KnownBlock | Block> | undefined;
};

const postAnswer = z.object({ ts: z.string(), channel: z.string() });

/**
 * Takes the channel's next send slot right before the request, so pacing follows real send
 * times; otherwise the message (its ticket) holds a reserved slot: a wait of a few tens of ms is
 * slept here, a longer one becomes NotYet saying when to come back for it. A 429 closes the gate
 * until Retry-After and also becomes NotYet.
 */
export async function paced<T>(
  gate: ChannelGate | undefined,
  channel: string,
  ticket: string,
  send: () => Promise<T>,
): Promise<T> {
  if (!gate) return send();
  for (;;) {
    const wait = await gate.acquire(channel, ticket);
    if (wait === 0) break;
    if (wait > SLEEP_WAIT_MS) throw new NotYet(`channel ${channel} paced`, wait);
    await new Promise((r) => setTimeout(r, wait));
  }
  try {
    return await send();
  } catch (e) {
    const failure = classifySlackError(e);
    if (failure.kind !== "rate_limited") throw e;
    const wait = await gate.block(channel, failure.retryAfterMs, ticket);
    throw new NotYet(`Slack rate-limited channel ${channel}`, wait);
  } finally {
    // The next send is spaced from now. Not awaited: the delivery's commit need not wait for
    // Redis, and this process's next call on the gate's connection goes after this one. Should
    // Redis fail here, the channel stays closed until the in-flight mark expires, which only
    // delays messages.
    gate.sent(channel).catch(() => undefined);
  }
}

// Waking a job again costs more than this; a message this close to its slot waits in place.
const SLEEP_WAIT_MS = 60;

/**
 * The `alsoRead` of a `slack.post` delivery: the message itself and its thread's parent, read
 * with the intent's lock.
 */
export function knownMessagesRead(outboxId: number): Statement {
  const payload = (field: string) => `SELECT payload->>'${field}' FROM outbox WHERE id = $1`;
  return {
    text: `SELECT key, channel, ts FROM slack_messages WHERE key IN (${payload("key")} UNION ALL ${payload("threadKey")})`,
    values: [outboxId],
  };
}
type KnownMessage = { key: string; channel: string; ts: string };

/**
 * Posts a message, or updates it in place when one with the same key was posted before, and
 * remembers channel + ts so later changes edit rather than repeat. With a gate, sends are paced
 * per channel (see `paced`). Within an outbox delivery (`intent`), the message is looked up from
 * what the delivery read with its lock (when it did) and recorded with the done-mark.
 */
export async function upsertSlackMessage(
  db: Db | Tx,
  slack: WebClient,
  post: SlackPost,
  gate?: ChannelGate,
  intent?: Partial<Pick<IntentTx, "alsoRead" | "withDoneMark">> & {
    /** An earlier try at the intent recorded at this time may have posted it: look first. */
    retryOf?: Date | undefined;
  },
): Promise<{ ts: string; updated: boolean }> {
  const blocks = post.blocks ?? [];
  assertWithinBlockKitLimits({ text: post.text, blocks }, "message");
  // The message itself and its thread's parent, in one read.
  const known: KnownMessage[] =
    (intent?.alsoRead as KnownMessage[] | undefined) ??
    (await db
      .select({ key: slackMessages.key, channel: slackMessages.channel, ts: slackMessages.ts })
      .from(slackMessages)
      .where(inArray(slackMessages.key, post.threadKey ? [post.key, post.threadKey] : [post.key])));
  const existing = known.find((m) => m.key === post.key);
  if (existing) {
    await paced(gate, existing.channel, post.key, () =>
      slack.chat.update({ channel: existing.channel, ts: existing.ts, text: post.text, blocks }),
    );
    if (intent?.withDoneMark)
      intent.withDoneMark({
        text: "UPDATE slack_messages SET updated_at = now() WHERE key = $1",
        values: [post.key],
      });
    else await db.update(slackMessages).set({ updatedAt: new Date() }).where(eq(slackMessages.key, post.key));
    return { ts: existing.ts, updated: true };
  }
  let threadTs: string | undefined;
  if (post.threadKey) {
    threadTs = known.find((m) => m.key === post.threadKey)?.ts;
    // A reply must never land outside its thread: wait for the parent to be posted, unless
    // the parent has failed for good, in which case waiting would never end.
    if (threadTs === undefined) {
      const parent = (
        await db.select({ status: outbox.status }).from(outbox).where(eq(outbox.dedupeKey, post.threadKey))
      )[0];
      if (parent?.status === "failed")
        throw new UnrecoverableError(`the thread's parent message ${post.threadKey} could not be posted`);
      throw new NotYet(`thread parent ${post.threadKey} not posted yet`, 1_000);
    }
  }
  // A post whose answer was lost (a timeout, a 5xx) may be in the channel already: found by the
  // key it carries, it is recorded instead of posted twice.
  const landed = intent?.retryOf ? await findPosted(slack, post, threadTs, intent.retryOf) : undefined;
  const answer =
    landed ??
    postAnswer.parse(
      await paced(gate, post.channel, post.key, () =>
        slack.chat.postMessage({
          channel: post.channel,
          text: post.text,
          blocks,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          metadata: { event_type: MESSAGE_KEY_EVENT, event_payload: { key: post.key } },
        }),
      ),
    );
  if (intent?.withDoneMark)
    intent.withDoneMark({
      text: "INSERT INTO slack_messages (key, channel, ts, thread_ts) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
      values: [post.key, answer.channel, answer.ts, threadTs ?? null],
    });
  else
    await db
      .insert(slackMessages)
      .values({ key: post.key, channel: answer.channel, ts: answer.ts, threadTs: threadTs ?? null })
      .onConflictDoNothing();
  return { ts: answer.ts, updated: false };
}

/** The metadata event every message the bot posts carries, with its key. */
export const MESSAGE_KEY_EVENT = "patchpilot_message";
const keyedMessages = z.object({
  messages: z
    .array(
      z.object({
        ts: z.string(),
        bot_id: z.string().optional(),
        metadata: z.object({ event_type: z.string(), event_payload: z.looseObject({}) }).optional(),
      }),
    )
    .default([]),
  response_metadata: z.object({ next_cursor: z.string().optional() }).optional(),
});

/**
 * The message posted under `post.key` since `since`, if one is there: looked up in the thread
 * for a reply, else in the channel's recent history. A lookup Slack refuses for good (the app
 * lacks the history scopes) finds nothing and the message is posted, as without the lookup; a
 * transient failure is thrown, so the delivery tries again later rather than risk a double.
 */
async function findPosted(
  slack: WebClient,
  post: SlackPost,
  threadTs: string | undefined,
  since: Date,
): Promise<{ ts: string; channel: string } | undefined> {
  // A minute before the intent was recorded covers the two clocks' difference.
  const oldest = ((since.getTime() - 60_000) / 1000).toFixed(6);
  let cursor: string | undefined;
  let me: string | undefined;
  for (let page = 0; page < LOOKUP_PAGES; page++) {
    const query = {
      channel: post.channel,
      oldest,
      include_all_metadata: true,
      limit: 200,
      ...(cursor && { cursor }),
    };
    let answer: unknown;
    try {
      me ??= (await botIdsOf(slack)).botId;
      answer = threadTs
        ? await slack.conversations.replies({ ...query, ts: threadTs })
        : await slack.conversations.history(query);
    } catch (e) {
      const failure = classifySlackError(e);
      // Asked too often: come back after Retry-After, no attempt spent (as a paced post does).
      if (failure.kind === "rate_limited")
        throw new NotYet(`looking for ${post.key} in ${post.channel}: rate-limited`, failure.retryAfterMs);
      if (failure.kind === "permanent") return undefined;
      throw e;
    }
    const read = keyedMessages.parse(answer);
    // Only this bot's own message: another app (a second patchpilot sharing the channel) may
    // use the same keys.
    const found = read.messages.find(
      (m) =>
        m.bot_id === me &&
        m.metadata?.event_type === MESSAGE_KEY_EVENT &&
        m.metadata.event_payload.key === post.key,
    );
    if (found) return { ts: found.ts, channel: post.channel };
    cursor = read.response_metadata?.next_cursor || undefined;
    if (!cursor) return undefined;
  }
  return undefined;
}

// Pages of 200 messages looked through for a lost post: busier channels than 1,000 messages since
// it was recorded are not looked through to the end.
const LOOKUP_PAGES = 5;
