import type { Redis } from "ioredis";

/**
 * Paces posts per Slack channel across every worker process: Slack allows about one message per
 * second per channel. `acquire` either takes the channel's next slot (returns 0) or says how long
 * to wait; `block` honours a 429's Retry-After so no request goes out before it expires.
 */
export type ChannelGate = {
  acquire(channel: string): Promise<number>;
  block(channel: string, untilMs: number): Promise<void>;
};

// KEYS[1] gate key; ARGV: now ms, interval ms. Atomic: two workers never take the same slot.
const ACQUIRE = `
local next = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if now >= next then
  redis.call('SET', KEYS[1], now + tonumber(ARGV[2]), 'PX', tonumber(ARGV[2]) + 60000)
  return 0
end
return next - now`;

// Only ever moves the gate later: an older, shorter Retry-After cannot shorten a longer one.
const BLOCK = `
local next = tonumber(redis.call('GET', KEYS[1]) or '0')
local untilMs = tonumber(ARGV[1])
if untilMs > next then
  redis.call('SET', KEYS[1], untilMs, 'PX', untilMs - tonumber(ARGV[2]) + 60000)
end
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
  const key = (channel: string) => `${opts.prefix}:slack-gate:${channel}`;
  return {
    async acquire(channel) {
      const r = await opts.redis.eval(ACQUIRE, 1, key(channel), String(now()), String(interval));
      return Number(r);
    },
    async block(channel, untilMs) {
      await opts.redis.eval(BLOCK, 1, key(channel), String(untilMs), String(now()));
    },
  };
}
