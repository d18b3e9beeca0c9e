import type { Redis } from "ioredis";

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/**
 * Queued jobs are data: a Redis that evicts keys under memory pressure silently drops them.
 * Reads INFO (CONFIG GET is often disabled on managed Redis).
 */
export async function assertRedisKeepsKeys(redis: Redis): Promise<void> {
  const info = await redis.info("memory");
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy !== undefined && policy !== "noeviction") {
    throw new StartupError(
      `Redis maxmemory-policy is "${policy}", so Redis may evict queued jobs under memory pressure and patchpilot would lose work. ` +
        `Set it to noeviction (redis.conf: "maxmemory-policy noeviction", or run: redis-cli CONFIG SET maxmemory-policy noeviction) and start again.`,
    );
  }
}
