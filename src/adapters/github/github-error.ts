/**
 * A failed GitHub call, with a message fit for an operator (and Slack): which repo and workflow,
 * what to check. Never carries the token, the request, or GitHub's response object.
 */
export class GithubError extends Error {
  override readonly name = "GithubError";
  /** HTTP status GitHub answered; 0 when there was no answer (network error, timeout). */
  readonly status: number;
  /** Retrying the same call cannot help (bad config, missing permission, unknown workflow). */
  readonly permanent: boolean;
  /** Seconds GitHub asked us to wait (rate limits), when known. */
  readonly retryAfterSeconds: number | undefined;
  /**
   * A write (dispatch) got no answer: GitHub may have acted on it. Look the run up by its
   * dispatch id before dispatching again.
   */
  readonly outcomeUnknown: boolean;

  constructor(
    message: string,
    opts: { status: number; permanent: boolean; retryAfterSeconds?: number; outcomeUnknown?: boolean },
  ) {
    super(message);
    this.status = opts.status;
    this.permanent = opts.permanent;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.outcomeUnknown = opts.outcomeUnknown ?? false;
  }
}

/** What the failed call was about, for the message: `acme/api workflow build.yml`. */
export type CallTarget = { owner: string; repo: string; what: string };

type ErrorShape = {
  name?: unknown;
  status?: unknown;
  message?: unknown;
  response?: { url?: unknown; headers?: Record<string, string | undefined>; data?: unknown };
};

const SECONDARY = /\bsecondary rate\b/i;

function githubMessage(err: ErrorShape): string {
  const data = err.response?.data;
  if (typeof data === "object" && data !== null && "message" in data && typeof data.message === "string") {
    return data.message.split("\n")[0]?.trim() ?? "";
  }
  return typeof err.message === "string" ? (err.message.split(" - https://")[0] ?? "") : "";
}

function retryAfterOf(err: ErrorShape, nowMs: number): number | undefined {
  const headers = err.response?.headers ?? {};
  const after = Number(headers["retry-after"]);
  if (Number.isFinite(after) && after >= 0) return after;
  if (headers["x-ratelimit-remaining"] === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    if (Number.isFinite(reset)) return Math.max(0, Math.ceil(reset - nowMs / 1000));
  }
  return undefined;
}

/**
 * Turns whatever Octokit threw into a `GithubError`. `secrets` (the token) are cut out of the
 * message in case some proxy echoes them back.
 */
export function toGithubError(
  err: unknown,
  target: CallTarget,
  opts: { secrets: string[]; write: boolean; nowMs?: number },
): GithubError {
  if (err instanceof GithubError) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as ErrorShape;
  const hasAnswer = e.response !== undefined && typeof e.status === "number";
  const status = hasAnswer ? (e.status as number) : 0;
  const where = `${target.owner}/${target.repo} ${target.what}`;
  const reason = githubMessage(e);
  const retryAfterSeconds = hasAnswer ? retryAfterOf(e, opts.nowMs ?? Date.now()) : undefined;
  const rateLimited =
    status === 429 ||
    (status === 403 && (SECONDARY.test(reason) || e.response?.headers?.["x-ratelimit-remaining"] === "0"));

  let hint: string;
  let permanent: boolean;
  let outcomeUnknown = false;
  if (status === 0) {
    permanent = false;
    outcomeUnknown = opts.write;
    const why = typeof e.message === "string" && e.message !== "" ? ` (${e.message})` : "";
    hint = opts.write
      ? `no answer${why}; the dispatch may have happened, look the run up by dispatch_id before retrying`
      : `no answer${why}; will retry`;
  } else if (rateLimited) {
    permanent = false;
    const wait = retryAfterSeconds === undefined ? "" : `; retry after ${retryAfterSeconds} s`;
    hint = `${SECONDARY.test(reason) ? "secondary rate limit" : "rate limit"} exceeded${wait}`;
  } else if (
    typeof e.response?.url === "string" &&
    /\/app\/installations\//.test(e.response.url) &&
    status >= 400 &&
    status < 500
  ) {
    permanent = true;
    hint =
      "GitHub would not give the App an installation token: check GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID (is the App installed on the repo?)";
  } else if (status === 401) {
    permanent = true;
    hint =
      "GitHub rejected the credentials: check GITHUB_TOKEN (or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID)";
  } else if (status === 403) {
    permanent = true;
    hint = `${reason !== "" ? `"${reason}": ` : ""}the token needs actions: write on ${target.owner}/${target.repo} (a GitHub App needs Actions read and write, installed on the repo)`;
  } else if (status === 404) {
    permanent = true;
    hint =
      "check images[].github.repo and workflows in patchpilot.yaml (GitHub also answers 404 when the token cannot see the repo)";
  } else if (status === 422) {
    permanent = true;
    hint = `"${reason}": check the workflow has on: workflow_dispatch with the inputs rollout_id, stage, image, digest, dispatch_id and that images[].github.ref exists`;
  } else if (status >= 500 || status === 408) {
    permanent = false;
    hint = "GitHub is having trouble; will retry";
  } else {
    permanent = status >= 400 && status < 500;
    hint = reason !== "" ? `"${reason}"` : "unexpected answer";
  }

  let message = `GitHub answered ${status === 0 ? "nothing" : status} for ${where}: ${hint}`;
  for (const secret of opts.secrets) {
    if (secret !== "") message = message.split(secret).join("[redacted]");
  }
  return new GithubError(message, {
    status,
    permanent,
    ...(retryAfterSeconds === undefined || !rateLimited ? {} : { retryAfterSeconds }),
    outcomeUnknown,
  });
}
