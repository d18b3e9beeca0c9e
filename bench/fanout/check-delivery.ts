import type { FakeSlack } from "../../test/support/fake-slack.js";
import type { ExpectedPost } from "./record-digests.js";

/** 429s queued with `failNext` once `calls.length` was `mark`; they answer the next posts in order. */
export type Injection = { mark: number; count: number; retryAfterSeconds: number };

export type Delivery = {
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outsideThread: number;
  injected429: number;
  /** 429s the fake's 1 msg/s/channel rule answered: any means our pacing sent too early. */
  enforced429: number;
  /** From the first record to the last successful post, ms. */
  elapsedMs: number;
  /** The largest channel's minimum: per message 1 s, plus every Retry-After it was given. */
  minimumMs: number;
  /** The same without the last message's second: (n − 1) × 1 s + Retry-Afters. */
  strictMinimumMs: number;
  /** The channel furthest over its own minimum: completion ÷ minimum. */
  worstChannelRatio: number;
  /** The shortest gap between two successful posts to one channel, ms. */
  minGapMs: number;
  /** Mean time from the first record to each channel's 1st, 2nd, … post, ms. */
  meanNthPostMs: number[];
  /** The latest any channel got its 1st, 2nd, … post, from the first record, ms. */
  latestNthPostMs: number[];
  /** Mean gap between a channel's successive posts, ms. */
  meanGapMs: number;
  /** Each channel's first post, ms since the epoch. */
  firstPostAt: Map<string, number>;
};

/** Compares what the fake Slack holds and answered with what the bench recorded. */
export function checkDelivery(
  fake: FakeSlack,
  posts: readonly ExpectedPost[],
  startedAt: number,
  injections: readonly Injection[],
): Delivery {
  const channels = new Set(posts.map((p) => p.channel));
  const messages = fake.messages().filter((m) => channels.has(m.channel));
  const byText = new Map<string, typeof messages>();
  for (const m of messages) byText.set(m.text ?? "", [...(byText.get(m.text ?? "") ?? []), m]);
  const keyOf = new Map(posts.map((p) => [p.key, p]));

  let lost = 0;
  let duplicated = 0;
  let outsideThread = 0;
  for (const p of posts) {
    const found = byText.get(p.text) ?? [];
    if (found.length === 0) lost += 1;
    duplicated += Math.max(0, found.length - 1);
    const parent = p.threadKey === undefined ? undefined : keyOf.get(p.threadKey);
    if (parent === undefined) continue;
    const parentTs = byText.get(parent.text)?.[0]?.ts;
    for (const m of found) if (parentTs === undefined || m.thread_ts !== parentTs) outsideThread += 1;
  }

  const retryAfterMs = new Map<string, number>();
  const pending = injections.map((i) => ({ ...i }));
  const postTimes = new Map<string, number[]>();
  let injected429 = 0;
  let enforced429 = 0;
  fake.calls.forEach((call, index) => {
    if (call.method !== "chat.postMessage") return;
    const injection = pending.find((i) => i.mark <= index && i.count > 0);
    if (injection) injection.count -= 1;
    const channel = typeof call.args.channel === "string" ? call.args.channel : "";
    if (!channels.has(channel)) return;
    if (injection) {
      injected429 += 1;
      retryAfterMs.set(channel, (retryAfterMs.get(channel) ?? 0) + injection.retryAfterSeconds * 1000);
    } else if (call.status === 429) enforced429 += 1;
    else if (call.status === 200 && byText.has(String(call.args.text)))
      postTimes.set(channel, [...(postTimes.get(channel) ?? []), call.at]);
  });

  const perChannel = new Map<string, number>();
  for (const p of posts) perChannel.set(p.channel, (perChannel.get(p.channel) ?? 0) + 1);
  let minimumMs = 0;
  let strictMinimumMs = 0;
  let worstChannelRatio = 0;
  let lastAt = startedAt;
  let minGapMs = Number.POSITIVE_INFINITY;
  const nth: number[][] = [];
  const gaps: number[] = [];
  const firstPostAt = new Map<string, number>();
  for (const [channel, n] of perChannel) {
    const extra = retryAfterMs.get(channel) ?? 0;
    minimumMs = Math.max(minimumMs, n * 1000 + extra);
    strictMinimumMs = Math.max(strictMinimumMs, (n - 1) * 1000 + extra);
    const times = [...(postTimes.get(channel) ?? [])].sort((a, b) => a - b);
    if (times[0] !== undefined) firstPostAt.set(channel, times[0]);
    const last = Math.max(startedAt, ...times);
    lastAt = Math.max(lastAt, last);
    worstChannelRatio = Math.max(worstChannelRatio, (last - startedAt) / (n * 1000 + extra));
    times.forEach((t, i) => {
      nth[i] = [...(nth[i] ?? []), t - startedAt];
      if (i > 0) gaps.push(t - (times[i - 1] ?? t));
    });
  }
  for (const g of gaps) minGapMs = Math.min(minGapMs, g);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

  return {
    expected: posts.length,
    delivered: posts.length - lost,
    lost,
    duplicated,
    outsideThread,
    injected429,
    enforced429,
    elapsedMs: lastAt - startedAt,
    minimumMs,
    strictMinimumMs,
    worstChannelRatio,
    minGapMs,
    meanNthPostMs: nth.map(mean),
    latestNthPostMs: nth.map((xs) => Math.max(...xs)),
    meanGapMs: mean(gaps),
    firstPostAt,
  };
}
