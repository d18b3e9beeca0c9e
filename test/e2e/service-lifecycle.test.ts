import { Agent, request } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { StartupError } from "../../src/adapters/redis-eviction-check.js";
import { startPatchpilot } from "../../src/main.js";
import { createTestDatabase, REDIS_TEST_URL, uniqueRedisPrefix } from "../support/databases.js";
import { startFakeSlack } from "../support/fake-slack.js";
import { freePort, startPrivateRedis } from "../support/private-redis.js";
import { slashCommand } from "../support/sign-slack.js";
import { spawnCli, waitFor } from "../support/spawn-cli.js";
import { startTestApp, TEST_BOT_TOKEN, TEST_SIGNING_SECRET, writeTestConfig } from "../support/test-app.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function baseEnv(): Promise<Record<string, string>> {
  const db = await createTestDatabase();
  const slack = await startFakeSlack({ token: TEST_BOT_TOKEN });
  cleanups.push(
    () => db.drop(),
    () => slack.close(),
  );
  return {
    DATABASE_URL: db.url,
    REDIS_URL: REDIS_TEST_URL,
    REDIS_PREFIX: uniqueRedisPrefix(),
    PATCHPILOT_CONFIG: await writeTestConfig(),
    SLACK_BOT_TOKEN: TEST_BOT_TOKEN,
    SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
    SLACK_API_URL: slack.url,
    LOG_LEVEL: "warn",
  };
}

describe("health, readiness and metrics", () => {
  it("is ready with Postgres, Redis and migrations, and names Redis when it goes away", async () => {
    const redis = await startPrivateRedis();
    const t = await startTestApp({ env: { REDIS_URL: redis.url } });
    cleanups.push(
      () => t.close(),
      () => redis.stop(),
    );

    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { postgres: "ok", redis: "ok", shutdown: "ok" },
    });

    await redis.stop();
    const down = await fetch(`${t.baseUrl}/readyz`);
    expect(down.status).toBe(503);
    const body = (await down.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe("not ready: redis");
    expect(body.checks.postgres).toBe("ok");
  });

  it("exports request durations by route, queue depths and process metrics", async () => {
    const t = await startTestApp();
    cleanups.push(() => t.close());
    await fetch(`${t.baseUrl}/healthz`);
    const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(text).toContain(
      'patchpilot_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}',
    );
    expect(text).toMatch(/patchpilot_queue_depth\{queue="effects",state="waiting"\} \d+/);
    expect(text).toContain("patchpilot_process_resident_memory_bytes");
  });

  it("refuses to start on a Redis that may evict queued jobs, saying how to fix it", async () => {
    const redis = await startPrivateRedis(["--maxmemory-policy", "allkeys-lru"]);
    cleanups.push(() => redis.stop());
    const env = { ...(await baseEnv()), REDIS_URL: redis.url, PORT: "0" };
    const started = startPatchpilot({ role: "all", env });
    await expect(started).rejects.toThrow(StartupError);
    await expect(started).rejects.toThrow(
      /maxmemory-policy is "allkeys-lru".*CONFIG SET maxmemory-policy noeviction/s,
    );
  });
});

describe("the patchpilot process", () => {
  it("exits non-zero naming a missing SLACK_SIGNING_SECRET, without a stack trace", async () => {
    const { SLACK_SIGNING_SECRET: _, ...env } = await baseEnv();
    const cli = spawnCli(["start"], env);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain("SLACK_SIGNING_SECRET: missing");
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
    expect(cli.stderr()).not.toContain(TEST_BOT_TOKEN);
  });

  it("starts with the example config, becomes ready, and on SIGTERM during a burst answers every request and exits 0", async () => {
    const port = await freePort();
    const env = { ...(await baseEnv()), PORT: String(port), LOG_LEVEL: "info", SHUTDOWN_DRAIN_MS: "500" };
    const cli = spawnCli(["start"], env);
    cleanups.push(async () => {
      if (cli.proc.exitCode === null) cli.proc.kill("SIGKILL");
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200,
      30_000,
      `readyz 200 (stderr: ${cli.stderr()})`,
    );

    // Open every connection first, so the burst is in flight when SIGTERM lands.
    const agent = new Agent({ keepAlive: true, maxSockets: 40 });
    let sent = 0;
    const burst = Array.from({ length: 40 }, () => {
      const signed = slashCommand({ text: "help" }, TEST_SIGNING_SECRET);
      return new Promise<number>((resolve, reject) => {
        const req = request(
          `${base}/slack/events`,
          { method: "POST", headers: signed.headers, agent },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("error", reject);
        req.on("finish", () => {
          // SIGTERM lands while the whole burst is in flight.
          if (++sent === 40) cli.proc.kill("SIGTERM");
        });
        req.end(signed.body);
      });
    });
    const statuses = await Promise.all(burst);
    agent.destroy();
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('"msg":"patchpilot stopped"');
    expect(cli.stdout() + cli.stderr()).not.toContain(TEST_SIGNING_SECRET);
  });
});
