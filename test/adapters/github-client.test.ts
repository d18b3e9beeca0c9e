import { generateKeyPairSync, randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createGithubClient,
  type GithubClientOptions,
  GithubError,
  toRunSummary,
  verifyGithubSignature,
} from "../../src/adapters/github/github-client.js";
import type { GithubActions } from "../../src/services/rollouts/github-actions-port.js";
import { type FakeGithub, startFakeGithub } from "../support/fake-github.js";

const TOKEN = "github-test-token-not-real";
const INPUTS = {
  rollout_id: "42",
  stage: "staging",
  image: "ghcr.io/acme/api",
  digest: `sha256:${"a".repeat(64)}`,
  dispatch_id: "pp-42-staging-1",
};

let gh: FakeGithub;
let warnings: Array<{ obj: object; msg: string }>;

function client(
  extra: Partial<GithubClientOptions> = {},
): GithubActions & ReturnType<typeof createGithubClient> {
  return createGithubClient({
    apiUrl: gh.url,
    auth: { kind: "token", token: TOKEN },
    logger: { warn: (obj, msg) => warnings.push({ obj, msg }) },
    retryBaseMs: 10,
    // Each test paces its own writes, so one test's dispatches do not slow the next one down.
    limiterId: randomUUID(),
    ...extra,
  });
}

/** Dispatches straight at the fake, bypassing the client, to set up runs. */
async function seedDispatch(workflow: string, dispatchId: string): Promise<void> {
  const res = await fetch(`${gh.url}/repos/acme/api/actions/workflows/${workflow}/dispatches`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ ref: "main", inputs: { ...INPUTS, dispatch_id: dispatchId } }),
  });
  expect(res.status).toBe(204);
}

beforeEach(async () => {
  gh = await startFakeGithub({ token: TOKEN });
  warnings = [];
});
afterEach(async () => {
  await gh.close();
});

describe("dispatchWorkflow", () => {
  it("returns the run GitHub started and sends the inputs", async () => {
    const result = await client().dispatchWorkflow({
      owner: "acme",
      repo: "api",
      workflow: "deploy.yml",
      ref: "main",
      inputs: INPUTS,
    });
    const [dispatch] = gh.dispatches();
    expect(dispatch).toMatchObject({ owner: "acme", repo: "api", workflow: "deploy.yml", ref: "main" });
    expect(dispatch?.inputs).toEqual(INPUTS);
    expect(result.runId).toBe(dispatch?.runId);
    expect(result.runId).toBeGreaterThan(2 ** 31);
    expect(result.htmlUrl).toBe(`https://github.com/acme/api/actions/runs/${dispatch?.runId}`);
    expect(result.runUrl).toContain(`/actions/runs/${dispatch?.runId}`);
  });

  it("does not re-send a dispatch answered 502 (GitHub may have started it): a retryable error instead", async () => {
    gh.failNext({ method: "POST", pathIncludes: "/dispatches" }, { status: 502 });
    const err = await client()
      .dispatchWorkflow({ owner: "acme", repo: "api", workflow: "build.yml", ref: "main", inputs: INPUTS })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, permanent: false });
    expect(gh.calls.filter((c) => c.method === "POST").map((c) => c.status)).toEqual([502]);
  });

  it("waits out a secondary rate limit's retry-after before trying again", async () => {
    gh.failNext(
      { method: "POST", pathIncludes: "/dispatches" },
      { status: 403, secondaryRateLimit: true, retryAfterSeconds: 1 },
    );
    await client().dispatchWorkflow({
      owner: "acme",
      repo: "api",
      workflow: "build.yml",
      ref: "main",
      inputs: INPUTS,
    });
    const [limited, retried] = gh.calls;
    expect(limited?.status).toBe(403);
    expect(retried?.status).toBe(200);
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(gh.dispatches()).toHaveLength(1);
    expect(warnings.map((w) => w.msg).join("\n")).toMatch(/secondary rate limit; retrying in 1 s/);
    expect(JSON.stringify(warnings)).not.toContain(TOKEN);
  });

  it("does not re-send a dispatch whose answer was lost, and says the run may exist", async () => {
    gh.failNext({ method: "POST", pathIncludes: "/dispatches" }, { dropAfterProcessing: true });
    const github = client();
    const err = await github
      .dispatchWorkflow({ owner: "acme", repo: "api", workflow: "deploy.yml", ref: "main", inputs: INPUTS })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GithubError);
    expect(err).toMatchObject({ status: 0, permanent: false, outcomeUnknown: true });
    expect((err as Error).message).toMatch(/dispatch_id/);
    expect(gh.dispatches()).toHaveLength(1);
    const found = await github.findRunByDispatchId({
      owner: "acme",
      repo: "api",
      workflow: "deploy.yml",
      dispatchId: INPUTS.dispatch_id,
      createdAfter: new Date(),
    });
    expect(found?.id).toBe(gh.dispatches()[0]?.runId);
  });

  it("a 404 is a permanent error naming the repo and workflow, without the token", async () => {
    const err = await client()
      .dispatchWorkflow({ owner: "acme", repo: "api", workflow: "missing", ref: "main", inputs: INPUTS })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GithubError);
    const e = err as GithubError;
    expect(e.status).toBe(404);
    expect(e.permanent).toBe(true);
    expect(e.message).toContain("GitHub answered 404 for acme/api workflow missing");
    expect(e.message).toContain("patchpilot.yaml");
    expect(e.message).not.toContain(TOKEN);
    expect(gh.calls).toHaveLength(1);
  });

  it("a wrong token is a permanent 401 error that does not echo the token", async () => {
    const wrong = "github-wrong-not-a-real-token";
    const err = await client({ auth: { kind: "token", token: wrong } })
      .dispatchWorkflow({ owner: "acme", repo: "api", workflow: "build.yml", ref: "main", inputs: INPUTS })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GithubError);
    expect(err).toMatchObject({ status: 401, permanent: true });
    expect((err as Error).message).toMatch(/GITHUB_TOKEN/);
    expect((err as Error).message).not.toContain(wrong);
    expect(gh.dispatches()).toHaveLength(0);
  });
});

describe("findRunByDispatchId", () => {
  it("finds the run whose run-name carries the dispatch id among several, and null for an unknown id", async () => {
    for (const id of ["pp-1-a", "pp-2-b", "pp-3-c"]) await seedDispatch("deploy.yml", id);
    await seedDispatch("build.yml", "pp-4-d");
    const github = client();
    const args = { owner: "acme", repo: "api", workflow: "deploy.yml", createdAfter: new Date() };

    const run = await github.findRunByDispatchId({ ...args, dispatchId: "pp-2-b" });
    const expected = gh.dispatches().find((d) => d.inputs.dispatch_id === "pp-2-b");
    expect(run).toMatchObject({
      id: expected?.runId,
      status: "queued",
      conclusion: null,
      runAttempt: 1,
      workflowPath: ".github/workflows/deploy.yml",
    });
    expect(run?.displayTitle).toContain("pp-2-b");

    expect(await github.findRunByDispatchId({ ...args, dispatchId: "pp-9-z" })).toBeNull();
    // A run of another workflow is not mistaken for this one's.
    expect(await github.findRunByDispatchId({ ...args, dispatchId: "pp-4-d" })).toBeNull();
    const listing = gh.calls.find((c) => c.path.includes("/workflows/deploy.yml/runs"));
    expect(new URL(listing?.path ?? "", gh.url).searchParams.get("event")).toBe("workflow_dispatch");
  });

  it("pages past the first 100 runs", async () => {
    for (let i = 0; i < 101; i++) await seedDispatch("deploy.yml", `pp-page-${i}`);
    const run = await client().findRunByDispatchId({
      owner: "acme",
      repo: "api",
      workflow: "deploy.yml",
      dispatchId: "pp-page-0",
      createdAfter: new Date(),
    });
    expect(run?.displayTitle).toContain("pp-page-0");
    expect(gh.calls.filter((c) => c.method === "GET")).toHaveLength(2);
  });

  it("finds a run GitHub stamped a little before createdAfter (clock skew)", async () => {
    await seedDispatch("deploy.yml", "pp-early");
    const run = await client().findRunByDispatchId({
      owner: "acme",
      repo: "api",
      workflow: "deploy.yml",
      dispatchId: "pp-early",
      // Our clock is up to a few minutes ahead of GitHub's.
      createdAfter: new Date(Date.now() + 2 * 60_000),
    });
    expect(run).not.toBeNull();
  });
});

describe("getRun", () => {
  it("reads a run's progress and null for a run that does not exist", async () => {
    await seedDispatch("deploy.yml", "pp-get");
    const runId = gh.dispatches()[0]?.runId ?? 0;
    gh.completeRun(runId, "failure");
    const github = client();
    expect(await github.getRun({ owner: "acme", repo: "api", runId })).toMatchObject({
      id: runId,
      status: "completed",
      conclusion: "failure",
    });
    expect(await github.getRun({ owner: "acme", repo: "api", runId: 99_999_999_999 })).toBeNull();
  });

  it("retries a read that timed out", async () => {
    await seedDispatch("deploy.yml", "pp-slow");
    const runId = gh.dispatches()[0]?.runId ?? 0;
    gh.failNext({ method: "GET" }, { delayMs: 500 });
    const run = await client({ timeoutMs: 150 }).getRun({ owner: "acme", repo: "api", runId });
    expect(run?.id).toBe(runId);
    expect(gh.calls.filter((c) => c.method === "GET")).toHaveLength(2);
  });

  it("a 5xx that outlasts the retries is a transient error", async () => {
    gh.failNext({ method: "GET" }, { status: 503 }, 5);
    const err = await client({ retries: 2 })
      .getRun({ owner: "acme", repo: "api", runId: 1 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, permanent: false });
    expect(gh.calls).toHaveLength(3);
  });
});

describe("createGithubClient", () => {
  it("refuses GitHub App auth without an installation id, naming the variable", () => {
    expect(() =>
      createGithubClient({
        apiUrl: "https://api.github.com",
        auth: {
          kind: "app",
          appId: "1",
          privateKey: "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----",
        },
      }),
    ).toThrow(/GITHUB_APP_INSTALLATION_ID/);
  });
});

describe("GitHub App auth", () => {
  it("mints installation tokens from apiUrl, and a wrong installation is a permanent error, not a missing run", async () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const err = await client({ auth: { kind: "app", appId: "1", privateKey: pem, installationId: "7" } })
      .getRun({ owner: "acme", repo: "api", runId: 1 })
      .catch((e: unknown) => e);
    expect(gh.calls.map((c) => `${c.method} ${c.path}`)).toEqual(["POST /app/installations/7/access_tokens"]);
    expect(err).toBeInstanceOf(GithubError);
    // This fake wants a user token, so it refuses the App's JWT (401); real GitHub says 404.
    expect(err).toMatchObject({ status: 401, permanent: true });
    expect((err as Error).message).toMatch(/GITHUB_APP_INSTALLATION_ID/);
    expect((err as Error).message).not.toContain("PRIVATE KEY");
  });
});

describe("toRunSummary", () => {
  it("fills in what a workflow_run payload leaves out and keeps ids above 2^31 exact", () => {
    expect(
      toRunSummary({ id: 10_000_000_123, name: "deploy", status: "completed", conclusion: "success" }),
    ).toEqual({
      id: 10_000_000_123,
      status: "completed",
      conclusion: "success",
      htmlUrl: "",
      displayTitle: "deploy",
      runAttempt: 1,
      updatedAt: "",
      workflowPath: "",
    });
    expect(() => toRunSummary({ name: "no id" })).toThrow(/workflow run/);
  });
});

describe("verifyGithubSignature", () => {
  const secret = "It's a Secret to Everybody";
  const payload = "Hello, World!";
  const signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  it("accepts GitHub's documented test vector, as a string or a Buffer", async () => {
    expect(await verifyGithubSignature(secret, payload, signature)).toBe(true);
    expect(await verifyGithubSignature(secret, Buffer.from(payload), signature)).toBe(true);
  });

  it("rejects a tampered body, a wrong secret, SHA-1-only and malformed or missing headers", async () => {
    expect(await verifyGithubSignature(secret, "Hello, World?", signature)).toBe(false);
    expect(await verifyGithubSignature("another secret", payload, signature)).toBe(false);
    expect(
      await verifyGithubSignature(secret, payload, "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59"),
    ).toBe(false);
    expect(await verifyGithubSignature(secret, payload, signature.slice(0, -2))).toBe(false);
    expect(await verifyGithubSignature(secret, payload, "garbage")).toBe(false);
    expect(await verifyGithubSignature(secret, payload, undefined)).toBe(false);
    expect(await verifyGithubSignature(secret, "", signature)).toBe(false);
  });
});
