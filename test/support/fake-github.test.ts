import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { verify } from "@octokit/webhooks-methods";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type FakeGithub, startFakeGithub } from "./fake-github.js";
import { githubDelivery } from "./sign-github.js";

const TOKEN = "ghs_fakeinstallationtoken";
const repo = { owner: "acme", repo: "deploy" } as const;
// Octokit logs every failed request; these tests fail requests on purpose.
const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const DISPATCH = "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches";

describe("githubDelivery", () => {
  it("reproduces GitHub's documented signature test vector", async () => {
    const req = await githubDelivery("ping", {}, "It's a Secret to Everybody", { rawBody: "Hello, World!" });
    expect(req.body).toBe("Hello, World!");
    expect(req.headers["X-Hub-Signature-256"]).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
  });

  it("sends the payload as JSON with GitHub's headers and a verifiable signature", async () => {
    const payload = { action: "completed", workflow_run: { id: 10_000_000_001, conclusion: "success" } };
    const req = await githubDelivery("workflow_run", payload, "s3cret");
    expect(JSON.parse(req.body)).toEqual(payload);
    expect(req.headers).toMatchObject({
      "Content-Type": "application/json",
      "User-Agent": "GitHub-Hookshot/abc123",
      "X-GitHub-Event": "workflow_run",
      "X-GitHub-Delivery": expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    });
    const signature = req.headers["X-Hub-Signature-256"] ?? "";
    expect(await verify("s3cret", req.body, signature)).toBe(true);
    expect(await verify("s3cret", `${req.body} `, signature)).toBe(false);
  });
});

describe("fake GitHub, driven by @octokit/rest", () => {
  let fake: FakeGithub;
  let octokit: Octokit;
  let clock = Date.parse("2025-03-01T10:00:00Z");

  beforeEach(async () => {
    clock = Date.parse("2025-03-01T10:00:00Z");
    fake = await startFakeGithub({ token: TOKEN, now: () => clock });
    octokit = new Octokit({ auth: TOKEN, baseUrl: fake.url, log });
  });
  afterEach(() => fake.close());

  const dispatch = (dispatchId: string, workflow = "patch-rollout.yml") =>
    octokit.request(DISPATCH, {
      ...repo,
      workflow_id: workflow,
      ref: "main",
      inputs: { dispatch_id: dispatchId },
    });

  it("records a dispatch and serves its run, findable by dispatch_id, until it completes", async () => {
    const res = await octokit.request(DISPATCH, {
      ...repo,
      workflow_id: "patch-rollout.yml",
      ref: "main",
      inputs: { dispatch_id: "d-7f3a", image: "registry.acme.io/api:1.4.2" },
    });
    expect(res.status).toBe(204);
    const [recorded] = fake.dispatches();
    expect(fake.dispatches()).toEqual([
      {
        ...repo,
        workflow: "patch-rollout.yml",
        ref: "main",
        inputs: { dispatch_id: "d-7f3a", image: "registry.acme.io/api:1.4.2" },
        runId: expect.any(Number),
      },
    ]);

    const { data } = await octokit.rest.actions.listWorkflowRuns({
      ...repo,
      workflow_id: "patch-rollout.yml",
      event: "workflow_dispatch",
    });
    expect(data.total_count).toBe(1);
    const run = data.workflow_runs.find((r) => r.display_title.includes("d-7f3a"));
    expect(run).toMatchObject({
      id: recorded?.runId,
      name: "patch-rollout",
      status: "queued",
      conclusion: null,
      event: "workflow_dispatch",
      run_number: 1,
      path: ".github/workflows/patch-rollout.yml",
      head_sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      created_at: "2025-03-01T10:00:00Z",
      html_url: `https://github.com/acme/deploy/actions/runs/${recorded?.runId}`,
    });

    const runId = recorded?.runId ?? 0;
    fake.setRunStatus(runId, "in_progress");
    expect((await octokit.rest.actions.getWorkflowRun({ ...repo, run_id: runId })).data.status).toBe(
      "in_progress",
    );
    clock += 90_000;
    expect(fake.completeRun(runId, "failure")).toMatchObject({ status: "completed", conclusion: "failure" });
    const { data: done } = await octokit.rest.actions.getWorkflowRun({ ...repo, run_id: runId });
    expect(done).toMatchObject({
      status: "completed",
      conclusion: "failure",
      updated_at: "2025-03-01T10:01:30Z",
    });
  });

  it("answers 200 with the run's details when asked to return them", async () => {
    const res = await octokit.request(DISPATCH, {
      ...repo,
      workflow_id: "patch-rollout.yml",
      ref: "main",
      inputs: { dispatch_id: "d-1" },
      return_run_details: true,
    });
    expect(res.status).toBe(200);
    const details = z
      .object({ workflow_run_id: z.number(), run_url: z.string(), html_url: z.string() })
      .parse(res.data);
    expect(details.workflow_run_id).toBe(fake.dispatches()[0]?.runId);
    const { data: run } = await octokit.request({ method: "GET", url: details.run_url });
    expect(run).toMatchObject({ id: details.workflow_run_id, html_url: details.html_url });
  });

  it("lists a repository's runs newest first with GitHub's filters and paging", async () => {
    for (const id of ["d-1", "d-2", "d-3", "d-4"]) {
      await dispatch(id);
      clock += 1_000;
    }
    await dispatch("other-1", "sbom.yaml");
    const runs = fake.runs();
    fake.completeRun(runs[1]?.id ?? 0, "success");
    const titles = async (
      q: Omit<Parameters<typeof octokit.rest.actions.listWorkflowRunsForRepo>[0], "owner">,
    ) => {
      const { data } = await octokit.rest.actions.listWorkflowRunsForRepo({ ...repo, ...q });
      return { total: data.total_count, titles: data.workflow_runs.map((r) => r.display_title) };
    };
    expect(await titles({ repo: "deploy", per_page: 2 })).toEqual({
      total: 5,
      titles: ["sbom other-1", "patch-rollout d-4"],
    });
    expect(await titles({ repo: "deploy", per_page: 2, page: 3 })).toEqual({
      total: 5,
      titles: ["patch-rollout d-1"],
    });
    expect(await titles({ repo: "deploy", status: "success" })).toEqual({
      total: 1,
      titles: ["patch-rollout d-2"],
    });
    expect((await titles({ repo: "deploy", status: "queued" })).total).toBe(4);
    expect((await titles({ repo: "deploy", event: "push" })).total).toBe(0);
    expect(await titles({ repo: "deploy", created: "<2025-03-01T10:00:02Z" })).toEqual({
      total: 2,
      titles: ["patch-rollout d-2", "patch-rollout d-1"],
    });
    expect((await titles({ repo: "deploy", created: "2025-03-01" })).total).toBe(5);
    expect((await titles({ repo: "deploy", created: ">=2025-03-02" })).total).toBe(0);
    expect((await titles({ repo: "elsewhere" })).total).toBe(0);

    const sbom = runs.find((r) => r.name === "sbom");
    const byId = await octokit.rest.actions.listWorkflowRuns({
      ...repo,
      workflow_id: sbom?.workflow_id ?? 0,
    });
    expect(byId.data.workflow_runs.map((r) => r.display_title)).toEqual(["sbom other-1"]);
  });

  it("pages through any number of runs without losing or repeating one", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 4 }), async (n, perPage) => {
        fake.reset();
        for (let i = 0; i < n; i++) await dispatch(`p-${i}`);
        const seen: number[] = [];
        for (let page = 1; page <= Math.ceil(n / perPage) + 1; page++) {
          const { data } = await octokit.rest.actions.listWorkflowRunsForRepo({
            ...repo,
            per_page: perPage,
            page,
          });
          seen.push(...data.workflow_runs.map((r) => r.id));
        }
        expect(seen).toEqual(
          fake
            .runs()
            .map((r) => r.id)
            .reverse(),
        );
      }),
      { numRuns: 15 },
    );
  });

  it("hides a new run from listings until GitHub would have created it", async () => {
    const slow = await startFakeGithub({ now: () => clock, runVisibleAfterMs: 3_000 });
    try {
      const client = new Octokit({ baseUrl: slow.url, log });
      await client.request(DISPATCH, { ...repo, workflow_id: "patch-rollout.yml", ref: "main" });
      const runId = slow.dispatches()[0]?.runId ?? 0;
      expect((await client.rest.actions.listWorkflowRunsForRepo(repo)).data.total_count).toBe(0);
      await expect(client.rest.actions.getWorkflowRun({ ...repo, run_id: runId })).rejects.toMatchObject({
        status: 404,
      });
      clock += 3_000;
      expect((await client.rest.actions.getWorkflowRun({ ...repo, run_id: runId })).data.display_title).toBe(
        "patch-rollout",
      );
    } finally {
      await slow.close();
    }
  });

  it("answers 404 Not Found for an unknown run or workflow", async () => {
    await expect(octokit.rest.actions.getWorkflowRun({ ...repo, run_id: 123 })).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining("Not Found"),
    });
    await expect(octokit.rest.actions.listWorkflowRuns({ ...repo, workflow_id: 999 })).rejects.toMatchObject({
      status: 404,
    });
  });

  it("refuses a wrong or missing token with 401 Bad credentials and records nothing", async () => {
    for (const client of [
      new Octokit({ auth: "ghs_wrong", baseUrl: fake.url, log }),
      new Octokit({ baseUrl: fake.url, log }),
    ]) {
      await expect(
        client.request(DISPATCH, { ...repo, workflow_id: "patch-rollout.yml", ref: "main" }),
      ).rejects.toMatchObject({ status: 401, message: expect.stringContaining("Bad credentials") });
    }
    expect(fake.dispatches()).toEqual([]);
    expect(fake.calls.map((c) => c.status)).toEqual([401, 401]);
  });

  it("rejects a dispatch without a ref with 422, like GitHub", async () => {
    const res = await fetch(`${fake.url}/repos/acme/deploy/actions/workflows/patch-rollout.yml/dispatches`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ inputs: { dispatch_id: "d-1" } }),
    });
    expect(res.status).toBe(422);
    expect(fake.dispatches()).toEqual([]);
  });

  it("fails the matching requests with a 5xx, then recovers", async () => {
    fake.failNext({ method: "POST", pathIncludes: "/dispatches" }, { status: 503 }, 2);
    await expect(dispatch("d-1")).rejects.toMatchObject({ status: 503 });
    expect((await octokit.rest.actions.listWorkflowRunsForRepo(repo)).status).toBe(200);
    await expect(dispatch("d-1")).rejects.toMatchObject({ status: 503 });
    expect(fake.dispatches()).toEqual([]);
    await dispatch("d-1");
    expect(fake.dispatches()).toHaveLength(1);
    expect(fake.calls.map((c) => `${c.method} ${c.status}`)).toEqual([
      "POST 503",
      "GET 200",
      "POST 503",
      "POST 204",
    ]);
    expect(fake.calls[0]?.body).toEqual({ ref: "main", inputs: { dispatch_id: "d-1" } });
  });

  it("answers a secondary rate limit as GitHub does", async () => {
    fake.failNext(
      { pathIncludes: "/dispatches" },
      { status: 403, secondaryRateLimit: true, retryAfterSeconds: 30 },
    );
    await expect(dispatch("d-1")).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining("You have exceeded a secondary rate limit"),
      response: { headers: { "retry-after": "30" } },
    });
    expect(fake.dispatches()).toEqual([]);
  });

  it("is recognised as a secondary rate limit by Octokit's throttling plugin, which then retries", async () => {
    const waits: number[] = [];
    const Throttled = Octokit.plugin(throttling);
    const client = new Throttled({
      auth: TOKEN,
      baseUrl: fake.url,
      log,
      throttle: {
        onRateLimit: () => false,
        onSecondaryRateLimit: (retryAfter) => {
          waits.push(retryAfter);
          return true;
        },
      },
    });
    fake.failNext(
      { pathIncludes: "/dispatches" },
      { status: 403, secondaryRateLimit: true, retryAfterSeconds: 1 },
    );
    await client.request(DISPATCH, { ...repo, workflow_id: "patch-rollout.yml", ref: "main" });
    expect(waits).toEqual([1]);
    expect(fake.dispatches()).toHaveLength(1);
  });

  it("answers a primary rate limit with 429 and the reset time", async () => {
    fake.failNext({ method: "GET" }, { status: 429, retryAfterSeconds: 60 });
    await expect(octokit.rest.actions.listWorkflowRunsForRepo(repo)).rejects.toMatchObject({
      status: 429,
      response: {
        headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(clock / 1000 + 60) },
      },
    });
  });

  it("can record a dispatch and then drop the connection without answering", async () => {
    fake.failNext({ pathIncludes: "/dispatches" }, { dropAfterProcessing: true });
    await expect(dispatch("d-crash")).rejects.toThrow();
    expect(fake.dispatches().map((d) => d.inputs.dispatch_id)).toEqual(["d-crash"]);
    expect(fake.calls[0]?.status).toBe(0);
    const { data } = await octokit.rest.actions.listWorkflowRunsForRepo(repo);
    expect(data.workflow_runs[0]?.display_title).toBe("patch-rollout d-crash");
  });

  it("can delay an answer", async () => {
    fake.failNext({ method: "GET" }, { delayMs: 250 });
    const started = performance.now();
    await octokit.rest.actions.listWorkflowRunsForRepo(repo);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it("forgets runs, dispatches, calls and pending failures on reset", async () => {
    await dispatch("d-1");
    fake.failNext({}, { status: 500 });
    fake.reset();
    expect([fake.runs(), fake.dispatches(), fake.calls]).toEqual([[], [], []]);
    await dispatch("d-2");
    expect(fake.dispatches()).toHaveLength(1);
  });
});
