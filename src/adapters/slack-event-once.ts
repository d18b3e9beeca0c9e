import type { Redis } from "ioredis";

/**
 * Slack delivers an event again when it thinks the first delivery was not acknowledged in time,
 * with the same `event_id`. `firstDelivery(eventId)` is true only the first time an id is seen
 * by any process (Redis `SET NX`), so a retried event has its effect once. Ids are kept a day,
 * far longer than Slack's retries (three, within about five minutes). If Redis cannot answer,
 * the event counts as new: handling it twice is better than dropping it.
 */
export function createEventOnce(opts: {
  redis: Redis;
  prefix: string;
  onError?: (e: unknown) => void;
}): (eventId: string) => Promise<boolean> {
  return async (eventId) => {
    try {
      const set = await opts.redis.set(`${opts.prefix}:slack-event:${eventId}`, "1", "EX", 86_400, "NX");
      return set === "OK";
    } catch (e) {
      opts.onError?.(e);
      return true;
    }
  };
}
