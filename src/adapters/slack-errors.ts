import { ErrorCode } from "@slack/web-api";

export type SlackFailure =
  | { kind: "rate_limited"; retryAfterMs: number }
  | { kind: "permanent"; reason: string }
  | { kind: "transient"; reason: string };

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
    return TRANSIENT.has(error) ? { kind: "transient", reason: error } : { kind: "permanent", reason: error };
  }
  return { kind: "transient", reason: e instanceof Error ? e.message : String(e) };
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
