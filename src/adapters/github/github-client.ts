import { createAppAuth } from "@octokit/auth-app";
import type { Octokit as CoreOctokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { z } from "zod";
import { type CallTarget, GithubError, toGithubError } from "./github-error.js";
import { toRunSummary, type WorkflowRunSummary } from "./run-summary.js";

export { GithubError } from "./github-error.js";
export { toRunSummary, type WorkflowRunSummary } from "./run-summary.js";
export { verifyGithubSignature } from "./verify-signature.js";

export type GithubAuth =
  | { kind: "token"; token: string }
  | { kind: "app"; appId: string; privateKey: string; installationId?: string };

/** The pino subset this adapter logs through. */
export type GithubLogger = { warn(obj: object, msg: string): void };

export type GithubClientOptions = {
  /** https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  apiUrl: string;
  auth: GithubAuth;
  logger?: GithubLogger;
  /** How many times a rate-limited or 5xx call is retried (default 3). */
  retries?: number;
  userAgent?: string;
  /** Milliseconds before one attempt is abandoned (default 30 000). */
  timeoutMs?: number;
  /** Base of the 5xx backoff: attempt n waits n² × this (default 1000 ms). Rate-limit waits always honour GitHub's retry-after. */
  retryBaseMs?: number;
  /** A rate-limit wait longer than this is not waited out: the call fails with `retryAfterSeconds` for the job queue (default 60). */
  maxRetryAfterSeconds?: number;
  /**
   * Clients with the same id share one pacing of writes (GitHub asks for at most about one
   * content-creating request per second per token). Default "patchpilot".
   */
  limiterId?: string;
  /** Least time between two writes (dispatches) of one limiter, one at a time (default 100 ms). */
  writeIntervalMs?: number;
};

export type DispatchResult = { runId: number | null; runUrl: string | null; htmlUrl: string | null };

export type GithubClient = {
  dispatchWorkflow(args: {
    owner: string;
    repo: string;
    workflow: string;
    ref: string;
    inputs: Record<string, string>;
  }): Promise<DispatchResult>;
  findRunByDispatchId(args: {
    owner: string;
    repo: string;
    workflow: string;
    dispatchId: string;
    createdAfter: Date;
  }): Promise<WorkflowRunSummary | null>;
  getRun(args: { owner: string; repo: string; runId: number }): Promise<WorkflowRunSummary | null>;
};

/** A run can be listed a little before the clock we stamped `createdAfter` with says. */
const CREATED_SLACK_MS = 5 * 60_000;
const MAX_PAGES = 10;
const PER_PAGE = 100;

const DispatchDetails = z.object({
  workflow_run_id: z.number().int().positive(),
  run_url: z.string().optional(),
  html_url: z.string().optional(),
});

/**
 * A write that got no HTTP answer (connection dropped, timeout) may have been carried out by
 * GitHub. Re-sending it could dispatch a workflow twice, so it is not retried here: the error is
 * re-thrown without the details plugin-retry needs to schedule a retry, and the caller looks the
 * run up by its dispatch id first.
 */
function noBlindWriteRetry(octokit: CoreOctokit): void {
  octokit.hook.error("request", (error, options) => {
    const e = error as { response?: unknown; request?: unknown };
    const write = options.method !== "GET" && options.method !== "HEAD";
    if (write && e.response === undefined) {
      throw Object.assign(error, { request: { method: options.method, url: options.url } });
    }
    throw error;
  });
}

// Order matters: the guard sits inside plugin-retry, so plugin-retry sees the stripped error.
const PatchpilotOctokit = Octokit.plugin(throttling, noBlindWriteRetry, retry);

function githubTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function authOptions(auth: GithubAuth): Record<string, unknown> {
  if (auth.kind === "token") {
    if (auth.token === "") throw new Error("GitHub token auth needs a non-empty token (GITHUB_TOKEN)");
    return { auth: auth.token };
  }
  if (auth.installationId === undefined || auth.installationId === "") {
    throw new Error(
      "GitHub App auth needs the installation id (GITHUB_APP_INSTALLATION_ID): find it in the URL of the App's installation settings",
    );
  }
  return {
    authStrategy: createAppAuth,
    auth: {
      appId: auth.appId,
      // Keys passed through env files often have their newlines escaped.
      privateKey: auth.privateKey.replace(/\\n/g, "\n"),
      installationId: auth.installationId,
    },
  };
}

/**
 * The GitHub Actions client: dispatches workflows, finds the run a dispatch started and reads
 * runs. Rate limits are waited out (up to `retries` times, honouring retry-after), 5xx answers
 * retried with backoff; everything else fails with a `GithubError`.
 */
const DEFAULT_WRITE_INTERVAL_MS = 100;
const writeLimiters = new Map<number, Bottleneck.Group>();

/** One group of write limiters per interval, shared by every client (keyed by limiter id). */
function writeLimiter(intervalMs: number): Bottleneck.Group {
  let group = writeLimiters.get(intervalMs);
  if (!group) {
    group = new Bottleneck.Group({ maxConcurrent: 1, minTime: intervalMs });
    writeLimiters.set(intervalMs, group);
  }
  return group;
}

export function createGithubClient(opts: GithubClientOptions): GithubClient {
  const retries = opts.retries ?? 3;
  const maxRetryAfter = opts.maxRetryAfterSeconds ?? 60;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const logger = opts.logger;
  const secrets =
    opts.auth.kind === "token" ? [opts.auth.token] : [opts.auth.privateKey, opts.auth.privateKey.trim()];

  const onLimit =
    (kind: "primary" | "secondary") =>
    (retryAfter: number, options: { method: string; url: string }, _o: unknown, retryCount: number) => {
      const retrying = retryCount < retries && retryAfter <= maxRetryAfter;
      logger?.warn(
        {
          component: "github",
          kind,
          method: options.method,
          url: options.url,
          retryAfter,
          retryCount,
          retrying,
        },
        retrying
          ? `GitHub ${kind} rate limit; retrying in ${retryAfter} s`
          : `GitHub ${kind} rate limit; giving up`,
      );
      return retrying;
    };

  const timedFetch: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return fetch(input, { ...init, signal });
  };

  const octokit = new PatchpilotOctokit({
    ...authOptions(opts.auth),
    baseUrl: opts.apiUrl.replace(/\/+$/, ""),
    userAgent: opts.userAgent ?? "patchpilot",
    request: { fetch: timedFetch },
    log: {
      debug: () => {},
      info: () => {},
      warn: (msg: string) => logger?.warn({ component: "github" }, String(msg)),
      error: (msg: string) => logger?.warn({ component: "github" }, String(msg)),
    },
    throttle: {
      id: opts.limiterId ?? "patchpilot",
      // Writes one at a time, at most ten a second (Octokit's default is one a second); GitHub's
      // secondary rate limits are still honoured when it sends them (onSecondaryRateLimit).
      write: writeLimiter(opts.writeIntervalMs ?? DEFAULT_WRITE_INTERVAL_MS),
      onRateLimit: onLimit("primary"),
      onSecondaryRateLimit: onLimit("secondary"),
    },
    retry: {
      retries,
      retryAfterBaseValue: opts.retryBaseMs ?? 1000,
      // 403 and 429 are plugin-throttling's (rate limits); the rest cannot succeed on a retry.
      doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451],
    },
  });

  const fail = (err: unknown, target: CallTarget, write = false): GithubError =>
    toGithubError(err, target, { secrets, write });

  const summary = (raw: unknown, target: CallTarget): WorkflowRunSummary => {
    try {
      return toRunSummary(raw);
    } catch (err) {
      throw new GithubError(
        `GitHub sent an unexpected answer for ${target.owner}/${target.repo} ${target.what}: ${(err as Error).message}`,
        { status: 200, permanent: true },
      );
    }
  };

  return {
    async dispatchWorkflow({ owner, repo, workflow, ref, inputs }) {
      const target = { owner, repo, what: `workflow ${workflow}` };
      let res: { status: number; data: unknown };
      try {
        res = await octokit.request("POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches", {
          owner,
          repo,
          workflow_id: workflow,
          ref,
          inputs,
          return_run_details: true,
          // A 5xx may come after GitHub started the run: never re-send here. The caller retries
          // through the outbox, which first looks the run up by its dispatch id.
          request: { retries: 0 },
        });
      } catch (err) {
        throw fail(err, target, true);
      }
      // Older GitHub Enterprise Server answers 204 without the run.
      const details = res.status === 200 ? DispatchDetails.safeParse(res.data) : undefined;
      if (!details?.success) return { runId: null, runUrl: null, htmlUrl: null };
      return {
        runId: details.data.workflow_run_id,
        runUrl: details.data.run_url ?? null,
        htmlUrl: details.data.html_url ?? null,
      };
    },

    async findRunByDispatchId({ owner, repo, workflow, dispatchId, createdAfter }) {
      if (dispatchId.trim() === "") throw new Error("findRunByDispatchId needs a non-empty dispatch id");
      const target = { owner, repo, what: `runs of workflow ${workflow}` };
      const created = `>=${githubTime(createdAfter.getTime() - CREATED_SLACK_MS)}`;
      let hit: unknown;
      try {
        // Paged by number rather than by Link header, which some proxies and fakes drop.
        for (let page = 1; page <= MAX_PAGES && hit === undefined; page++) {
          const { data } = await octokit.rest.actions.listWorkflowRuns({
            owner,
            repo,
            workflow_id: workflow,
            event: "workflow_dispatch",
            created,
            per_page: PER_PAGE,
            page,
          });
          hit = data.workflow_runs.find(
            (run) => (run.display_title ?? "").includes(dispatchId) || (run.name ?? "").includes(dispatchId),
          );
          if (data.workflow_runs.length < PER_PAGE) break;
        }
      } catch (err) {
        throw fail(err, target);
      }
      return hit === undefined ? null : summary(hit, target);
    },

    async getRun({ owner, repo, runId }) {
      const target = { owner, repo, what: `run ${runId}` };
      let data: unknown;
      try {
        ({ data } = await octokit.rest.actions.getWorkflowRun({ owner, repo, run_id: runId }));
      } catch (err) {
        // Only the run's own 404 means "no such run"; a 404 while minting an App token does not.
        const e = err as { status?: unknown; response?: { url?: unknown } };
        const url = typeof e.response?.url === "string" ? e.response.url : "";
        if (e.status === 404 && url.includes(`/actions/runs/${runId}`)) return null;
        throw fail(err, target);
      }
      return summary(data, target);
    },
  };
}
