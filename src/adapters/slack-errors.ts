import { ErrorCode } from "@slack/web-api";

export type SlackFailure =
  | { kind: "rate_limited"; retryAfterMs: number }
  | { kind: "permanent"; reason: string }
  /**
   * `outage`: Slack itself did not answer (5xx, 408, a timeout, no connection, or its own "try
   * again" error): a message waits this out however long it lasts. Anything else (our own bug, a
   * database error) is retried a bounded number of times.
   */
  | { kind: "transient"; reason: string; outage: boolean };

// Slack's own "try again" answers; every other `ok: false` means the request itself is wrong.
const TRANSIENT = new Set([
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "ratelimited",
]);

/** Sorts a Web API failure into wait (429), retry with backoff (5xx, network), or give up. */
export function classifySlackError(e: unknown): SlackFailure {
  const code = typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
  if (code === ErrorCode.RateLimitedError) {
    const seconds = Number((e as { retryAfter?: unknown }).retryAfter);
    return {
      kind: "rate_limited",
      retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1_000,
    };
  }
  if (code === ErrorCode.PlatformError) {
    const data = (e as { data?: { error?: unknown } }).data;
    const error = typeof data?.error === "string" ? data.error : "unknown_error";
    return TRANSIENT.has(error)
      ? { kind: "transient", reason: error, outage: true }
      : { kind: "permanent", reason: error };
  }
  const reason = e instanceof Error ? e.message : String(e);
  if (code === ErrorCode.HTTPError) {
    const status = Number((e as { statusCode?: unknown }).statusCode);
    return { kind: "transient", reason, outage: status >= 500 || status === 408 };
  }
  return { kind: "transient", reason, outage: code === ErrorCode.RequestError };
}

/** Thrown when a message cannot go yet (its thread's parent is not posted): try again soon. */
export class NotYet extends Error {
  constructor(
    message: string,
    readonly retryInMs: number,
  ) {
    super(message);
    this.name = "NotYet";
  }
}
