import type { Redis } from "ioredis";

/**
 * Paces posts per Slack channel across every worker process: Slack allows about one message per
 * second per channel. `acquire(channel, ticket)` either grants the channel's next send (returns
 * 0) or reserves the first free future slot for that ticket and says how long to wait; coming
 * back with the same ticket at that time takes it. Waiting messages thus wake one per slot
 * instead of all racing for the next one. A granted send must be followed by `sent(channel)` once
 * its request has come back: the next grant comes a full interval after that, so two requests
 * can never arrive at Slack closer than the interval, however long one took on the way. `block`
 * honours a 429's Retry-After: no slot before it; the refused message keeps the first slot after
 * it, and every other reservation is dropped so the waiting messages queue up again behind it. Times are Redis's clock, shared by every process.
 */
export type ChannelGate = {
  acquire(channel: string, ticket: string): Promise<number>;
  /**
   * Like acquire, for a send about to be made deeper down: a grant is kept in this process, and
   * that send's own `acquire` with the same ticket takes it without asking Redis again. A grant
   * its send never took must be handed back with `release`.
   */
  takeAhead(channel: string, ticket: string): Promise<number>;
  release(channel: string, ticket: string): Promise<void>;
  sent(channel: string): Promise<void>;
  /**
   * How long until a full interval has passed since this process last reported a send on the
   * channel (0 when it has not lately): a message that follows it sleeps this long first instead
   * of asking Redis for a reservation it already knows the time of.
   */
  readyIn(channel: string): number;
  /** Closes the channel for Retry-After; `ticket`, refused, goes first after. Returns its wait. */
  block(channel: string, retryAfterMs: number, ticket: string): Promise<number>;
};

/**
 * Slack's one message a second per channel. Spaced from when the previous request came back,
 * two arrivals are at least this far apart whatever the network did; the 5 ms cover the clock's
 * millisecond rounding.
 */
export const SLACK_CHANNEL_INTERVAL_MS = 1_005;
// A send granted but never reported sent (its process died) holds the channel this long: a grant
// taken ahead may wait up to AHEAD_VALID_MS for its send (a database slot, a lookup of a lost
// post), and the send itself up to the client's timeout. A second sender must not start while a
// dead one's request may still reach Slack.
const IN_FLIGHT_TTL_MS = 35_000;
// A grant taken ahead is used by its send only this long; well within IN_FLIGHT_TTL_MS.
const AHEAD_VALID_MS = 20_000;
// While a send is in flight, a message whose slot has come asks again this much later: longer
// than a send waits in place, so a delivery waiting on another's send is put back instead of
// holding its transaction and worker slot (a sender that died keeps the channel until the
// in-flight mark expires, and must not take every effect slot with it).
const IN_FLIGHT_POLL_MS = 250;

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS: [next free slot, reservations zset, last send, in flight]; ARGV: interval ms, ticket,
// in-flight ttl, in-flight poll.
const ACQUIRE = `${NOW}
local interval = tonumber(ARGV[1])
local ticket = ARGV[2]
local ttl = 120000
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local busy = redis.call('EXISTS', KEYS[4]) == 1
local earliest = tonumber(redis.call('GET', KEYS[3]) or '-1e15') + interval
local function grant()
  redis.call('SET', KEYS[4], '1', 'PX', tonumber(ARGV[3]))
  redis.call('SET', KEYS[3], now, 'PX', interval + ttl)
  return 0
end
local function later(at)
  if busy then at = math.max(at, now + tonumber(ARGV[4])) end
  return at
end
local slot = redis.call('ZSCORE', KEYS[2], ticket)
if slot then
  local at = later(math.max(tonumber(slot), earliest))
  if now >= at then
    redis.call('ZREM', KEYS[2], ticket)
    return grant()
  end
  redis.call('ZADD', KEYS[2], at, ticket)
  return at - now
end
local nxt = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), earliest)
local at = later(nxt)
if now >= at then
  redis.call('SET', KEYS[1], now + interval, 'PX', interval + ttl)
  return grant()
end
redis.call('ZADD', KEYS[2], at, ticket)
redis.call('PEXPIRE', KEYS[2], at - now + ttl)
redis.call('SET', KEYS[1], at + interval, 'PX', at - now + interval + ttl)
return at - now`;

// KEYS: [last send, in flight]; ARGV: interval ms. The next send is spaced from now.
const SENT = `${NOW}
redis.call('SET', KEYS[1], now, 'PX', tonumber(ARGV[1]) + 120000)
redis.call('DEL', KEYS[2])
return 0`;

// KEYS: [next free slot, reservations, blocked until]; ARGV: Retry-After ms, interval ms, the
// refused ticket. Only ever moves the block later: an older, shorter Retry-After cannot shorten a
// longer one. The refused message keeps its place: it gets the first slot once Retry-After has
// passed, and the messages that were waiting queue up again behind it.
const BLOCK = `${NOW}
local untilMs = math.max(now + tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[3]) or '0'))
local keep = untilMs - now + 120000
redis.call('SET', KEYS[3], untilMs, 'PX', keep)
redis.call('DEL', KEYS[2])
redis.call('ZADD', KEYS[2], untilMs, ARGV[3])
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('SET', KEYS[1], untilMs + tonumber(ARGV[2]), 'PX', keep)
return untilMs - now`;

type GateCommands = {
  ppGateAcquire(...args: string[]): Promise<number>;
  ppGateSent(...args: string[]): Promise<number>;
  ppGateBlock(...args: string[]): Promise<number>;
};

export function createChannelGate(opts: { redis: Redis; prefix: string; intervalMs?: number }): ChannelGate {
  const interval = opts.intervalMs ?? SLACK_CHANNEL_INTERVAL_MS;
  // Defined commands go by the script's SHA (EVALSHA), not its text, on every call.
  if (!("ppGateAcquire" in opts.redis)) {
    opts.redis.defineCommand("ppGateAcquire", { numberOfKeys: 4, lua: ACQUIRE });
    opts.redis.defineCommand("ppGateSent", { numberOfKeys: 2, lua: SENT });
    opts.redis.defineCommand("ppGateBlock", { numberOfKeys: 3, lua: BLOCK });
  }
  const redis = opts.redis as Redis & GateCommands;
  const keys = (channel: string) => {
    const base = `${opts.prefix}:slack-gate:${channel}`;
    return {
      next: base,
      reserved: `${base}:reserved`,
      last: `${base}:last`,
      busy: `${base}:busy`,
      blocked: `${base}:blocked`,
    };
  };
  const acquire = async (channel: string, ticket: string) => {
    const k = keys(channel);
    return Number(
      await redis.ppGateAcquire(
        k.next,
        k.reserved,
        k.last,
        k.busy,
        String(interval),
        ticket,
        String(IN_FLIGHT_TTL_MS),
        String(IN_FLIGHT_POLL_MS),
      ),
    );
  };
  // When this process last reported a send per channel (its own clock, taken after Redis
  // answered, so never earlier than the time Redis recorded).
  const sentHere = new Map<string, number>();
  const sent = async (channel: string) => {
    const k = keys(channel);
    await redis.ppGateSent(k.last, k.busy, String(interval));
    if (sentHere.size >= 10_000) sentHere.clear();
    sentHere.set(channel, Date.now());
  };
  // Grants taken ahead, by when: one older than AHEAD_VALID_MS is not used (the in-flight mark
  // that kept the channel for it may have expired meanwhile); the send asks Redis again.
  const ahead = new Map<string, number>();
  const aheadKey = (channel: string, ticket: string) => `${channel}\u0000${ticket}`;
  const takeGranted = (key: string) => {
    const at = ahead.get(key);
    ahead.delete(key);
    return at !== undefined && Date.now() - at < AHEAD_VALID_MS;
  };
  return {
    acquire: async (channel, ticket) =>
      takeGranted(aheadKey(channel, ticket)) ? 0 : acquire(channel, ticket),
    async takeAhead(channel, ticket) {
      const wait = await acquire(channel, ticket);
      if (wait === 0) ahead.set(aheadKey(channel, ticket), Date.now());
      return wait;
    },
    async release(channel, ticket) {
      if (ahead.delete(aheadKey(channel, ticket))) await sent(channel);
    },
    sent,
    readyIn(channel) {
      const at = sentHere.get(channel);
      if (at === undefined) return 0;
      const wait = at + interval - Date.now();
      if (wait <= 0) sentHere.delete(channel);
      return Math.max(0, wait);
    },
    async block(channel, retryAfterMs, ticket) {
      const k = keys(channel);
      return Number(
        await redis.ppGateBlock(
          k.next,
          k.reserved,
          k.blocked,
          String(retryAfterMs),
          String(interval),
          ticket,
        ),
      );
    },
  };
}
