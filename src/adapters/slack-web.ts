import { LogLevel, WebClient } from "@slack/web-api";
import type { Logger } from "./logger.js";

/**
 * The Slack Web API client everything the bot sends goes through. A 429 is not waited out here:
 * it is thrown, so the delivery job can close the channel's gate until Retry-After and release
 * its worker. Network errors and 5xx get two quick retries; longer backoff is the job queue's.
 */
export function createSlackWebClient(opts: { token: string; apiUrl: string; logger: Logger }): WebClient {
  const log = opts.logger.child({ component: "slack-web" });
  return new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2_000, randomize: true },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logger: {
      debug: () => {},
      info: () => {},
      warn: (...m: unknown[]) => log.warn(m.map(String).join(" ")),
      error: (...m: unknown[]) => log.error(m.map(String).join(" ")),
      setLevel: () => {},
      getLevel: () => LogLevel.WARN,
      setName: () => {},
    },
  });
}
