import { LogLevel, WebClient } from "@slack/web-api";
import type { Logger } from "./logger.js";

/**
 * The Slack Web API client. WebClient retries 5xx with backoff and waits out 429 Retry-After
 * itself; everything the bot posts goes through this one client.
 */
export function createSlackWebClient(opts: { token: string; apiUrl: string; logger: Logger }): WebClient {
  const log = opts.logger.child({ component: "slack-web" });
  return new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    retryConfig: { retries: 5, factor: 2, minTimeout: 500, maxTimeout: 30_000, randomize: true },
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
