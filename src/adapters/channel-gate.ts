import type { Redis } from "ioredis";

/**
 * Paces posts per Slack channel across every worker process: Slack allows about one message per
 * second per channel. `acquire(channel, ticket)` either takes the channel's next slot (returns 0)
 * or reserves the first free future slot for that ticket and says how long to wait; coming back
 * with the same ticket at that time takes it. Waiting messages thus wake one per slot instead of
 * all racing for the next one. `block` honours a 429's Retry-After: no slot before it, and every
 * reservation is dropped so the waiting messages queue up again behind it.
 */
export type ChannelGate = {
  acquire(channel: string, ticket: string): Promise<number>;
  block(channel: string, untilMs: number): Promise<void>;
};

// KEYS: [next free slot, reservations zset, last send]; ARGV: now ms, interval ms, ticket. Atomic.
// A send is granted only at or after its slot AND a full interval after the last send, so a
// message that wakes late for its slot cannot land too close to the next one.
const ACQUIRE = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local ticket = ARGV[3]
local ttl = 120000
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local last = tonumber(redis.call('GET', KEYS[3]) or '-1e15')
local earliest = last + interval
local slot = redis.call('ZSCORE', KEYS[2], ticket)
if slot then
  slot = tonumber(slot)
  local at = math.max(slot, earliest)
  if now >= at then
    redis.call('ZREM', KEYS[2], ticket)
    redis.call('SET', KEYS[3], now, 'PX', interval + ttl)
    return 0
  end
  redis.call('ZADD', KEYS[2], at, ticket)
  return at - now
end
local nxt = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), earliest)
if now >= nxt then
  redis.call('SET', KEYS[1], now + interval, 'PX', interval + ttl)
  redis.call('SET', KEYS[3], now, 'PX', interval + ttl)
  return 0
end
redis.call('ZADD', KEYS[2], nxt, ticket)
redis.call('PEXPIRE', KEYS[2], nxt - now + ttl)
redis.call('SET', KEYS[1], nxt + interval, 'PX', nxt - now + interval + ttl)
return nxt - now`;

// Only ever moves the next slot later: an older, shorter Retry-After cannot shorten a longer one.
const BLOCK = `
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local untilMs = tonumber(ARGV[1])
if untilMs > nxt then
  redis.call('SET', KEYS[1], untilMs, 'PX', untilMs - tonumber(ARGV[2]) + 120000)
end
redis.call('DEL', KEYS[2])
return 0`;

export function createChannelGate(opts: {
  redis: Redis;
  prefix: string;
  intervalMs?: number;
  now?: () => number;
}): ChannelGate {
  // A little over a second: a send leaves a few ms after its slot is taken, and Slack counts
  // arrivals, so exact 1,000 ms slots would sometimes land two messages inside one second.
  const interval = opts.intervalMs ?? 1_100;
  const now = opts.now ?? Date.now;
  const keys = (channel: string) => {
    const base = `${opts.prefix}:slack-gate:${channel}`;
    return { next: base, reserved: `${base}:reserved`, last: `${base}:last` };
  };
  return {
    async acquire(channel, ticket) {
      const k = keys(channel);
      return Number(
        await opts.redis.eval(
          ACQUIRE,
          3,
          k.next,
          k.reserved,
          k.last,
          String(now()),
          String(interval),
          ticket,
        ),
      );
    },
    async block(channel, untilMs) {
      const k = keys(channel);
      await opts.redis.eval(BLOCK, 2, k.next, k.reserved, String(untilMs), String(now()));
    },
  };
}
