import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";

export type FakeRunConclusion = "success" | "failure" | "cancelled";

/** The subset of GitHub's workflow-run object the fake serves. */
export type FakeRun = {
  id: number;
  name: string;
  display_title: string;
  node_id: string;
  head_branch: string;
  head_sha: string;
  path: string;
  run_number: number;
  run_attempt: number;
  event: "workflow_dispatch";
  status: "queued" | "in_progress" | "completed";
  conclusion: FakeRunConclusion | null;
  workflow_id: number;
  url: string;
  html_url: string;
  jobs_url: string;
  logs_url: string;
  created_at: string;
  updated_at: string;
  run_started_at: string;
  repository: { id: number; name: string; full_name: string; owner: { login: string } };
};

export type FakeCall = { method: string; path: string; body: unknown; at: number; status: number };

export type FailHow =
  | { status: 500 | 502 | 503 }
  | { status: 403; secondaryRateLimit: true; retryAfterSeconds: number }
  | { status: 429; retryAfterSeconds: number }
  | { delayMs: number }
  | { dropAfterProcessing: true };

export type FakeGithub = {
  url: string;
  /** Every request received, in order; `status` is 0 for a dropped connection. */
  calls: FakeCall[];
  dispatches(): Array<{
    owner: string;
    repo: string;
    workflow: string;
    ref: string;
    inputs: Record<string, string>;
    runId: number;
  }>;
  runs(): FakeRun[];
  completeRun(runId: number, conclusion: FakeRunConclusion): FakeRun;
  setRunStatus(runId: number, status: "queued" | "in_progress"): void;
  failNext(match: { method?: string; pathIncludes?: string }, how: FailHow, times?: number): void;
  reset(): void;
  close(): Promise<void>;
};

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type StoredRun = { owner: string; repo: string; workflow: string; createdMs: number; run: FakeRun };
type FailRule = { method?: string; pathIncludes?: string; how: FailHow; left: number };

const DOCS = "https://docs.github.com/rest";
// Real run ids passed 2^31 long ago; storing one in a 32-bit column must fail in tests too.
const FIRST_RUN_ID = 10_000_000_001;
const DISPATCH = /^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/dispatches$/;
const WORKFLOW_RUNS = /^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/runs$/;
const REPO_RUNS = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs$/;
const ONE_RUN = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)$/;

const DispatchBody = z.object({
  ref: z.string().min(1),
  // GitHub takes booleans and numbers for typed inputs; workflows see them as strings.
  inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  return_run_details: z.boolean().optional(),
});

function githubTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function error(status: number, message: string): Reply {
  return { status, body: { message, documentation_url: DOCS, status: String(status) } };
}

const notFound = (): Reply => error(404, "Not Found");

/**
 * GitHub's `created` filter syntax (`>=2024-05-01`, `<T`, `A..B`, `A..*`, or one date). A bare date
 * covers its whole UTC day, so `<=2024-05-01` includes the evening of May 1st.
 */
function parseCreated(filter: string): ((createdMs: number) => boolean) | undefined {
  const span = (v: string): { from: number; to: number } | undefined => {
    if (v === "*") return { from: -Infinity, to: Infinity };
    const t = Date.parse(v);
    if (Number.isNaN(t)) return undefined;
    return { from: t, to: /^\d{4}-\d{2}-\d{2}$/.test(v) ? t + 86_400_000 - 1 : t };
  };
  const range = /^(.+)\.\.(.+)$/.exec(filter);
  if (range) {
    const lo = span(range[1] ?? "");
    const hi = span(range[2] ?? "");
    return lo && hi ? (ms) => ms >= lo.from && ms <= hi.to : undefined;
  }
  const [, op, value] = /^(>=|<=|>|<)?(.+)$/.exec(filter) ?? [];
  const s = value === undefined || value === "*" ? undefined : span(value);
  if (!s) return undefined;
  if (op === ">=") return (ms) => ms >= s.from;
  if (op === ">") return (ms) => ms > s.to;
  if (op === "<=") return (ms) => ms <= s.to;
  if (op === "<") return (ms) => ms < s.from;
  return (ms) => ms >= s.from && ms <= s.to;
}

export async function startFakeGithub(
  opts: { token?: string; now?: () => number; runVisibleAfterMs?: number } = {},
): Promise<FakeGithub> {
  const now = opts.now ?? Date.now;
  const calls: FakeCall[] = [];
  let stored: StoredRun[] = [];
  let dispatchLog: ReturnType<FakeGithub["dispatches"]> = [];
  let rules: FailRule[] = [];
  let nextRunId = FIRST_RUN_ID;
  const workflowIds = new Map<string, number>();
  const runNumbers = new Map<string, number>();
  let baseUrl = "";

  // A real dispatch only shows up in run listings a few seconds later.
  const visible = (s: StoredRun): boolean => now() >= s.createdMs + (opts.runVisibleAfterMs ?? 0);
  const sameRepo = (s: StoredRun, owner: string, repo: string): boolean =>
    s.owner.toLowerCase() === owner.toLowerCase() && s.repo.toLowerCase() === repo.toLowerCase();

  function workflowFile(owner: string, repo: string, idOrFile: string): string | undefined {
    const key = (file: string): string => `${owner}/${repo}/${file}`.toLowerCase();
    if (/^\d+$/.test(idOrFile)) {
      const hit = [...workflowIds].find(([k, id]) => id === Number(idOrFile) && k.startsWith(key("")));
      return hit ? hit[0].slice(key("").length) : undefined;
    }
    if (!/\.ya?ml$/.test(idOrFile)) return undefined;
    if (!workflowIds.has(key(idOrFile))) workflowIds.set(key(idOrFile), 1000 + workflowIds.size);
    return idOrFile.toLowerCase();
  }

  function dispatch(owner: string, repo: string, idOrFile: string, body: unknown): Reply {
    const file = workflowFile(owner, repo, idOrFile);
    if (file === undefined) return notFound();
    const parsed = DispatchBody.safeParse(body);
    if (!parsed.success) return error(422, `Invalid request.\n\n${z.prettifyError(parsed.error)}`);
    const inputs = Object.fromEntries(
      Object.entries(parsed.data.inputs ?? {}).map(([k, v]) => [k, String(v)]),
    );
    if (Object.keys(inputs).length > 25) return error(422, "Invalid request.\n\nToo many inputs (limit 25).");
    const id = nextRunId++;
    const numberKey = `${owner}/${repo}/${file}`.toLowerCase();
    const runNumber = (runNumbers.get(numberKey) ?? 0) + 1;
    runNumbers.set(numberKey, runNumber);
    const createdMs = now();
    const name = file.replace(/\.ya?ml$/, "");
    const apiRun = `${baseUrl}/repos/${owner}/${repo}/actions/runs/${id}`;
    const run: FakeRun = {
      id,
      name,
      // GitHub puts a workflow's `run-name` here, not in `name`.
      display_title: inputs.dispatch_id === undefined ? name : `${name} ${inputs.dispatch_id}`,
      node_id: `WFR_${Buffer.from(String(id)).toString("base64url")}`,
      head_branch: parsed.data.ref.replace(/^refs\/heads\//, ""),
      head_sha: createHash("sha1").update(`${owner}/${repo}@${parsed.data.ref}`).digest("hex"),
      path: `.github/workflows/${file}`,
      run_number: runNumber,
      run_attempt: 1,
      event: "workflow_dispatch",
      status: "queued",
      conclusion: null,
      workflow_id: workflowIds.get(numberKey) ?? 0,
      url: apiRun,
      html_url: `https://github.com/${owner}/${repo}/actions/runs/${id}`,
      jobs_url: `${apiRun}/jobs`,
      logs_url: `${apiRun}/logs`,
      created_at: githubTime(createdMs),
      updated_at: githubTime(createdMs),
      run_started_at: githubTime(createdMs),
      repository: { id: 1, name: repo, full_name: `${owner}/${repo}`, owner: { login: owner } },
    };
    stored.push({ owner, repo, workflow: file, createdMs, run });
    dispatchLog.push({ owner, repo, workflow: file, ref: parsed.data.ref, inputs, runId: id });
    if (parsed.data.return_run_details !== true) return { status: 204 };
    return { status: 200, body: { workflow_run_id: id, run_url: apiRun, html_url: run.html_url } };
  }

  function list(owner: string, repo: string, workflow: string | undefined, query: URLSearchParams): Reply {
    const created = query.get("created");
    const inCreated = created === null ? () => true : parseCreated(created);
    if (!inCreated) return error(422, `Invalid created filter: ${created}`);
    const status = query.get("status");
    const filtered = stored.filter(
      (s) =>
        visible(s) &&
        sameRepo(s, owner, repo) &&
        (workflow === undefined || s.workflow === workflow) &&
        (query.get("event") ?? s.run.event) === s.run.event &&
        (query.get("branch") ?? s.run.head_branch) === s.run.head_branch &&
        (query.get("head_sha") ?? s.run.head_sha) === s.run.head_sha &&
        (status === null || s.run.status === status || s.run.conclusion === status) &&
        inCreated(s.createdMs),
    );
    const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30));
    const page = Math.max(1, Number(query.get("page") ?? 1) || 1);
    const newestFirst = filtered.sort((a, b) => b.createdMs - a.createdMs || b.run.id - a.run.id);
    return {
      status: 200,
      body: {
        total_count: newestFirst.length,
        workflow_runs: newestFirst.slice((page - 1) * perPage, page * perPage).map((s) => s.run),
      },
    };
  }

  function route(method: string, url: URL, body: unknown): Reply {
    const p = url.pathname;
    const m = (re: RegExp): string[] | undefined =>
      re
        .exec(p)
        ?.slice(1)
        .map((part) => decodeURIComponent(part));
    const d = m(DISPATCH);
    if (method === "POST" && d) return dispatch(d[0] ?? "", d[1] ?? "", d[2] ?? "", body);
    if (method !== "GET") return notFound();
    const w = m(WORKFLOW_RUNS);
    if (w) {
      const file = workflowFile(w[0] ?? "", w[1] ?? "", w[2] ?? "");
      return file === undefined ? notFound() : list(w[0] ?? "", w[1] ?? "", file, url.searchParams);
    }
    const r = m(REPO_RUNS);
    if (r) return list(r[0] ?? "", r[1] ?? "", undefined, url.searchParams);
    const one = m(ONE_RUN);
    const hit =
      one && stored.find((s) => s.run.id === Number(one[2]) && sameRepo(s, one[0] ?? "", one[1] ?? ""));
    return hit && visible(hit) ? { status: 200, body: hit.run } : notFound();
  }

  function authorized(req: IncomingMessage): boolean {
    if (opts.token === undefined) return true;
    const m = /^(?:bearer|token) (.+)$/i.exec(req.headers.authorization ?? "");
    return m?.[1] === opts.token;
  }

  function takeRule(method: string, path: string): FailHow | undefined {
    const rule = rules.find(
      (r) =>
        (r.method === undefined || r.method.toUpperCase() === method) &&
        (r.pathIncludes === undefined || path.includes(r.pathIncludes)),
    );
    if (!rule) return undefined;
    rule.left -= 1;
    if (rule.left <= 0) rules = rules.filter((r) => r !== rule);
    return rule.how;
  }

  function injected(how: FailHow): Reply | undefined {
    if (!("status" in how)) return undefined;
    const resetAt = String(
      Math.ceil(now() / 1000) + ("retryAfterSeconds" in how ? how.retryAfterSeconds : 0),
    );
    if (how.status === 403) {
      return {
        status: 403,
        headers: { "retry-after": String(how.retryAfterSeconds), "x-ratelimit-remaining": "4990" },
        body: {
          message:
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
            "If you reach out to GitHub Support for help, please include the request ID 0000:FAKE.",
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
          status: "403",
        },
      };
    }
    if (how.status === 429) {
      return {
        status: 429,
        headers: { "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "x-ratelimit-reset": resetAt },
        body: {
          message: "API rate limit exceeded for installation ID 1.",
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-primary-rate-limits`,
          status: "429",
        },
      };
    }
    const messages = { 500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable" } as const;
    return error(how.status, messages[how.status]);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(Buffer.from(chunk));
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const method = req.method ?? "GET";
    let body: unknown;
    let badJson = false;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      badJson = true;
    }
    const call: FakeCall = { method, path: url.pathname + url.search, body, at: now(), status: 0 };
    calls.push(call);
    const how = takeRule(method, call.path);
    if (how && "delayMs" in how) await sleep(how.delayMs);
    const reply =
      (how && injected(how)) ??
      (!authorized(req)
        ? error(401, "Bad credentials")
        : badJson
          ? error(400, "Problems parsing JSON")
          : route(method, url, body));
    if (how && "dropAfterProcessing" in how) {
      res.socket?.destroy();
      return;
    }
    call.status = reply.status;
    send(res, reply, now());
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the fake must surface as a loud 500, not a hung test.
      send(res, error(500, `fake-github: ${String(err)}`), now());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const find = (runId: number): FakeRun => {
    const hit = stored.find((s) => s.run.id === runId);
    if (!hit) throw new Error(`fake-github: no run ${runId}`);
    return hit.run;
  };

  return {
    url: baseUrl,
    calls,
    dispatches: () => dispatchLog.map((d) => ({ ...d, inputs: { ...d.inputs } })),
    runs: () => stored.map((s) => structuredClone(s.run)),
    completeRun(runId, conclusion) {
      const run = find(runId);
      run.status = "completed";
      run.conclusion = conclusion;
      run.updated_at = githubTime(now());
      return structuredClone(run);
    },
    setRunStatus(runId, status) {
      const run = find(runId);
      run.status = status;
      run.conclusion = null;
      run.updated_at = githubTime(now());
      if (status === "in_progress") run.run_started_at = run.updated_at;
    },
    failNext(match, how, times = 1) {
      rules.push({ ...match, how, left: times });
    },
    reset() {
      calls.length = 0;
      stored = [];
      dispatchLog = [];
      rules = [];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function send(res: ServerResponse, reply: Reply, nowMs: number): void {
  if (res.headersSent) return;
  res.writeHead(reply.status, {
    "x-github-request-id": randomBytes(8).toString("hex").toUpperCase(),
    "x-github-api-version-selected": "2022-11-28",
    "x-ratelimit-limit": "5000",
    "x-ratelimit-remaining": "4999",
    "x-ratelimit-used": "1",
    "x-ratelimit-reset": String(Math.ceil(nowMs / 1000) + 3600),
    "x-ratelimit-resource": "core",
    ...(reply.body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
    ...reply.headers,
  });
  res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
}
