export type RegistryErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "rate_limited"
  | "timeout"
  | "unreachable"
  | "malformed"
  | "server_error"
  | "no_platform"
  | "bad_reference";

/**
 * A failed registry call, with a message fit for an operator (and Slack): which registry and
 * repository, what went wrong, what to do. Never carries credentials, tokens or response bodies.
 */
export class RegistryError extends Error {
  override readonly name = "RegistryError";
  readonly code: RegistryErrorCode;
  /** Trying again later may help (rate limits, 5xx, timeouts, connection errors). */
  readonly retryable: boolean;
  /** Registry as written in the image reference (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
  readonly host: string;
  /** Repository path inside that registry (`library/node`). */
  readonly repository: string;
  /** HTTP status the registry answered; 0 when there was no answer. */
  readonly status: number;
  /** Seconds the registry asked us to wait (429 Retry-After), when known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: RegistryErrorCode,
    message: string,
    opts: {
      host: string;
      repository: string;
      retryable?: boolean;
      status?: number;
      retryAfterSeconds?: number;
    },
  ) {
    super(message);
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.host = opts.host;
    this.repository = opts.repository;
    this.status = opts.status ?? 0;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}
