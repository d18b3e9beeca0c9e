import { LogLevel, WebClient } from "@slack/web-api";
import { Agent, type Dispatcher, request } from "undici";
import type { Logger } from "./logger.js";

// Statuses whose response has no body: a Response cannot be made with one.
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * A `fetch` for the Web API client. Its calls are small url-encoded POSTs, about one per message
 * sent, and through undici's `request` on a keep-alive pool each costs much less CPU than
 * through `fetch`, which wraps the same client in web streams. Anything else (a multipart
 * upload's FormData body) still goes through `fetch`. Like the client's own `redirect: "error"`,
 * a redirect is not followed: it comes back as a non-200 answer.
 */
export function pooledFetch(dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 30_000 })): typeof fetch {
  return async (input, init) => {
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== "string") return fetch(input, init);
    const answer = await request(input instanceof Request ? input.url : String(input), {
      method: (init?.method ?? "GET") as Dispatcher.HttpMethod,
      headers: new Headers(init?.headers),
      ...(typeof body === "string" && { body }),
      ...(init?.signal && { signal: init.signal }),
      dispatcher,
    });
    const bytes = await answer.body.arrayBuffer();
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
        headers.append(name, v);
    }
    return new Response(NO_BODY.has(answer.statusCode) ? null : bytes, {
      status: answer.statusCode,
      headers,
    });
  };
}

export type BotIds = { botId?: string; botUserId?: string };
const botIdsByClient = new WeakMap<WebClient, Promise<BotIds>>();

/**
 * The bot's own ids (`auth.test`), asked of Slack once per client and kept; a failed ask is not
 * kept, so the next caller asks again.
 */
export function botIdsOf(client: WebClient): Promise<BotIds> {
  let ids = botIdsByClient.get(client);
  if (!ids) {
    ids = client.auth.test().then(
      (r) => ({
        ...(r.bot_id ? { botId: r.bot_id } : {}),
        ...(r.user_id ? { botUserId: r.user_id } : {}),
      }),
      (e: unknown) => {
        botIdsByClient.delete(client);
        throw e;
      },
    );
    botIdsByClient.set(client, ids);
  }
  return ids;
}

/**
 * The Slack Web API client everything the bot sends goes through. A 429 is not waited out here:
 * it is thrown, so the delivery job can close the channel's gate until Retry-After and release
 * its worker. Network errors and 5xx get two quick retries, except for outbox deliveries: a post
 * whose answer was lost may have landed, and only the delivery can look for it before it posts
 * again (`upsertSlackMessage`); longer backoff is the job queue's.
 */
export function createSlackWebClient(opts: {
  token: string;
  apiUrl: string;
  logger: Logger;
  /** Quick retries of a 5xx or network error (default 2); 0 for deliveries, which retry themselves. */
  retries?: number;
}): WebClient {
  const log = opts.logger.child({ component: "slack-web" });
  return new WebClient(opts.token, {
    slackApiUrl: opts.apiUrl,
    fetch: pooledFetch(),
    retryConfig: {
      retries: opts.retries ?? 2,
      factor: 2,
      minTimeout: 250,
      maxTimeout: 2_000,
      randomize: true,
    },
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

/** How long a slash command waits to learn whether the bot is in the channel (Slack wants an ack in 3 s). */
const MEMBERSHIP_CHECK_MS = 1_500;

/**
 * Whether the bot can post in a channel, asked with the scopes it already has: reading one message
 * of the channel's history, which Slack refuses with `not_in_channel` (or `channel_not_found` for
 * a private channel) when the bot is not a member. "unknown" when Slack did not say in time or
 * answered anything else (a DM: the app has no im:history scope): the caller goes ahead.
 */
export async function canPostIn(slack: WebClient, channel: string): Promise<"yes" | "no" | "unknown"> {
  const ask = slack.conversations.history({ channel, limit: 1 }).then(
    () => "yes" as const,
    (e: unknown) => {
      const error = (e as { data?: { error?: unknown } }).data?.error;
      return error === "not_in_channel" || error === "channel_not_found"
        ? ("no" as const)
        : ("unknown" as const);
    },
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"unknown">((resolve) => {
    timer = setTimeout(() => resolve("unknown"), MEMBERSHIP_CHECK_MS);
  });
  try {
    return await Promise.race([ask, late]);
  } finally {
    clearTimeout(timer);
  }
}
