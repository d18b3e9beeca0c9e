import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/services/upload-tokens.js";
import { digestOf, type SyntheticVuln, trivyReport } from "../support/report-builders.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, type TestApp, writeTestConfig } from "../support/test-app.js";

const LIMIT = 5 * 1024 * 1024;
let t: TestApp;
let payments: string;
let search: string;
let auditOnly: string;

beforeAll(async () => {
  const example = await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8");
  const config = await writeTestConfig(
    example
      .replace("maxUploadBytes: 52428800", `maxUploadBytes: ${LIMIT}`)
      // A short aggregation window, so the alert is delivered within the test's patience.
      .replace("burstWindow: 2m", "burstWindow: 1s"),
  );
  t = await startTestApp({ env: { PATCHPILOT_CONFIG: config } });
  payments = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })).token;
  search = (await createToken(t.owner.db, { teamId: "search", name: "ci", scopes: ["upload"] })).token;
  auditOnly = (await createToken(t.owner.db, { teamId: null, name: "auditor", scopes: ["audit"] })).token;
});
afterAll(async () => {
  await t?.close();
});

async function upload(
  body: string | Buffer,
  opts: { token?: string; query?: string; type?: string; encoding?: string } = {},
) {
  const res = await fetch(`${t.baseUrl}/api/v1/scans${opts.query ?? ""}`, {
    method: "POST",
    body,
    headers: {
      "content-type": opts.type ?? "application/json",
      ...(opts.encoding ? { "content-encoding": opts.encoding } : {}),
      ...(opts.token === "" ? {} : { authorization: `Bearer ${opts.token ?? payments}` }),
    },
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return {
    status: res.status,
    json: json as Record<string, unknown> & { error?: { code: string; message: string } },
  };
}

async function scanCount(): Promise<number> {
  const r = await t.owner.db.execute(sql`SELECT count(*)::int AS n FROM scans`);
  return Number(r.rows[0]?.n);
}

const report = (
  n: number,
  vulns: SyntheticVuln[] = [{ id: "CVE-2026-1000", pkg: "openssl", severity: "HIGH" }],
) => JSON.stringify(trivyReport({ image: "ghcr.io/acme/payments-api:1.0", digest: digestOf(n), vulns }));

describe("POST /api/v1/scans", () => {
  it("answers 201 with the documented JSON, then 200 for the same report", async () => {
    const first = await upload(report(1));
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({
      image: "ghcr.io/acme/payments-api",
      digest: digestOf(1),
      format: "trivy",
      findings: 1,
      diff: { new: 1, fixed: 0, unchanged: 0 },
    });
    expect(typeof first.json.scanId).toBe("string");
    const again = await upload(report(1));
    expect(again.status).toBe(200);
    expect(again.json.scanId).toBe(first.json.scanId);
  });

  it("posts the new-critical alert to the owning team's channel", async () => {
    const r = await upload(
      report(2, [{ id: "CVE-2026-4242", pkg: "libexpat", severity: "CRITICAL" as const, fixed: "2.6.3" }]),
    );
    expect(r.status).toBe(201);
    await waitFor(() => t.slack.callsTo("chat.postMessage").length > 0, 20_000, "the alert to be posted");
    const [post] = t.slack.callsTo("chat.postMessage");
    expect(post?.args.channel).toBe("C0PAYMENTS");
    expect(String(post?.args.text)).toContain("CVE-2026-4242 in libexpat");
    expect(JSON.stringify(post?.args.blocks)).toContain("fixed in 2.6.3");
    expect(String(post?.args.text)).toContain("1 new fixable critical finding in payments-api");
    const button = JSON.stringify(post?.args.blocks).match(
      /"action_id":"digest_patch_now","style":"primary","value":"(.*?[^\\])"/,
    );
    expect(JSON.parse(JSON.parse(`"${button?.[1]}"`))).toMatchObject({ vulnerabilityId: "CVE-2026-4242" });
    // A single scan is one message, with no thread.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(t.slack.callsTo("chat.postMessage")).toHaveLength(1);
  });

  type UploadOpts = { token?: string; type?: string; query?: string };
  it.each<[string, UploadOpts, number, string]>([
    ["no token", { token: "" }, 401, "missing_token"],
    ["an unknown token", { token: "ppt_not-a-real-token" }, 401, "invalid_token"],
    ["an audit-only token", { token: "AUDIT" }, 403, "wrong_scope"],
    ["another team's token", { token: "SEARCH" }, 403, "forbidden_image"],
    ["a form content type", { type: "application/x-www-form-urlencoded" }, 415, "unsupported_media_type"],
    ["a bad query parameter", { query: "?rollout_id=abc" }, 400, "bad_query"],
  ])("refuses %s with a clear 4xx and stores nothing", async (_what, opts, status, code) => {
    const before = await scanCount();
    const token = opts.token === "AUDIT" ? auditOnly : opts.token === "SEARCH" ? search : opts.token;
    const r = await upload(report(3), { ...opts, ...(token === undefined ? {} : { token }) });
    expect(r.status).toBe(status);
    expect(r.json.error?.code).toBe(code);
    expect(r.json.error?.message.length).toBeGreaterThan(20);
    expect(await scanCount()).toBe(before);
  });

  it("refuses another team's upload without waiting for that team's upload in progress", async () => {
    // An upload of team payments holds its image's lock (here, a transaction that took it).
    const holder = await t.owner.pool.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(
        "SELECT 1 FROM images WHERE repository = 'ghcr.io/acme/payments-api' FOR NO KEY UPDATE",
      );
      // Answered while the lock is still held: waiting for it would never end before ROLLBACK.
      const r = await upload(report(40), { token: search });
      expect(r.status).toBe(403);
      expect(r.json.error?.message).toMatch(/owned by team payments/);
    } finally {
      await holder.query("ROLLBACK");
      holder.release();
    }
  });

  it("refuses an upload whose image changed owner while it waited for the image, and stores nothing", async () => {
    const repo = "ghcr.io/acme/payments-api";
    const before = await scanCount();
    const holder = await t.owner.pool.connect();
    try {
      // A change of owner in progress holds the image's row.
      await holder.query("BEGIN");
      await holder.query("UPDATE images SET team_id = 'search' WHERE repository = $1", [repo]);
      const waiting = upload(report(41));
      await new Promise((r) => setTimeout(r, 300));
      await holder.query("COMMIT");
      const r = await waiting;
      expect(r.status).toBe(403);
      expect(r.json.error?.message).toMatch(/owned by team search/);
      expect(await scanCount()).toBe(before);
    } finally {
      await holder.query("ROLLBACK").catch(() => {});
      await holder.query("UPDATE images SET team_id = 'payments' WHERE repository = $1", [repo]);
      holder.release();
    }
  });

  it.each([
    ["truncated JSON", report(4).slice(0, 200), 400, "is the file complete?"],
    ["not JSON", "hello", 400, "not valid JSON"],
    [
      "a broken finding deep in a long list (read entry by entry)",
      report(
        6,
        Array.from({ length: 600 }, (_, i) => ({
          id: `CVE-2026-${2000 + i}`,
          pkg: "zlib",
          severity: "LOW" as const,
        })),
      ).replace('"VulnerabilityID":"CVE-2026-2550"', '"VulnerabilityID":CVE-2026-2550'),
      400,
      /not valid JSON \(in entries \d+–\d+ of a findings list/,
    ],
    ["an empty body", "", 400, "body is empty"],
    ["deeply nested JSON", `${"[".repeat(5000)}${"]".repeat(5000)}`, 400, "nested more than"],
    [
      "a SARIF report",
      JSON.stringify({
        version: "2.1.0",
        $schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [],
      }),
      422,
      "trivy image -f json",
    ],
    [
      "a string where the results list belongs",
      JSON.stringify({ SchemaVersion: 2, ArtifactName: "ghcr.io/acme/payments-api", Results: "oops" }),
      422,
      '"Results" should be a list, but it is a string',
    ],
  ])("answers %s with a 4xx that says what was wrong", async (_what, body, status, message) => {
    const before = await scanCount();
    const r = await upload(body, { query: `?digest=${digestOf(5)}` });
    expect(r.status).toBe(status);
    expect(r.json.error?.message).toMatch(message);
    expect(await scanCount()).toBe(before);
  });

  it("reads null where a list belongs as empty, as Go-written scanners emit for a clean image", async () => {
    const body = JSON.stringify({
      matches: null,
      source: { type: "image", target: { userInput: "ghcr.io/acme/search-api:3" } },
      descriptor: { name: "grype", version: "0.86.1" },
    });
    const r = await upload(body, { token: search, query: `?digest=${digestOf(7)}` });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ image: "ghcr.io/acme/search-api", format: "grype", findings: 0 });
  });

  it("refuses a declared body over the limit with 413 before reading it", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${t.baseUrl}/api/v1/scans`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${payments}`,
          "content-type": "application/json",
          "content-length": String(LIMIT + 1),
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", reject);
      req.write("{"); // the rest never comes: the answer must not wait for it
    });
    expect(status).toBe(413);
  });

  it("refuses a chunked body that grows over the limit with 413", async () => {
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${t.baseUrl}/api/v1/scans`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${payments}`,
          "content-type": "application/json",
          "transfer-encoding": "chunked",
        },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d) => {
          body += String(d);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", () => {});
      let sent = 0;
      const pump = () => {
        while (sent <= LIMIT + chunk.length) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
      setTimeout(() => reject(new Error("no answer")), 15_000).unref();
    });
    expect(r.status).toBe(413);
    expect(r.body).toContain("5 MB limit");
  });

  it("reads a gzip body, and refuses one that inflates past the limit, bad gzip and other encodings", async () => {
    const gz = await upload(gzipSync(report(8)), { encoding: "gzip" });
    expect(gz.status).toBe(201);
    expect(gz.json).toMatchObject({ digest: digestOf(8), findings: 1 });
    const before = await scanCount();
    // 6 MB of spaces around a report: a small upload that is over the 5 MB limit once inflated.
    const bomb = await upload(gzipSync(Buffer.from(`${" ".repeat(LIMIT + 1024 * 1024)}${report(9)}`)), {
      encoding: "gzip",
    });
    expect(bomb.status).toBe(413);
    expect(bomb.json.error?.message).toContain("5 MB limit");
    const broken = await upload(Buffer.from("not gzip at all"), { encoding: "gzip" });
    expect(broken.status).toBe(400);
    expect(broken.json.error?.code).toBe("bad_compression");
    const br = await upload(brotliCompressSync(report(10)), { encoding: "br" });
    expect(br.status).toBe(415);
    expect(br.json.error?.message).toContain('Content-Encoding "br" is not read');
    expect(await scanCount()).toBe(before);
  });

  it("stores nothing from a body cut short of its Content-Length, and goes on serving", async () => {
    const before = await scanCount();
    const whole = Buffer.from(report(11));
    await new Promise<void>((resolve) => {
      const req = request(`${t.baseUrl}/api/v1/scans`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${payments}`,
          "content-type": "application/json",
          "content-length": String(whole.length),
        },
      });
      req.on("error", () => resolve());
      req.on("response", (res) => {
        res.resume();
        resolve();
      });
      req.write(whole.subarray(0, whole.length - 10), () => setTimeout(() => req.destroy(), 100));
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await scanCount()).toBe(before);
    expect((await upload(whole)).status).toBe(201);
  });

  it("never answers 5xx to random bodies (QUALITY.md scenario 17)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json({ maxDepth: 5 }),
          fc.string({ maxLength: 300 }),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ SchemaVersion: 2, Results: v })),
          fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ matches: [v], source: v })),
        ),
        async (body) => {
          const r = await upload(body, { query: `?image=ghcr.io/acme/payments-api&digest=${digestOf(6)}` });
          expect(r.status, JSON.stringify(r.json)).toBeLessThan(500);
          if (r.status >= 400) expect(r.json.error?.code).toBeTruthy();
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe("secrets in logs (QUALITY.md scenario 21)", () => {
  it("never writes an upload token, the bot token or the signing secret to a log line", () => {
    expect(t.logLines.length).toBeGreaterThan(0);
    const all = t.logLines.join("\n");
    for (const secret of [payments, search, auditOnly, t.env.SLACK_BOT_TOKEN, t.env.SLACK_SIGNING_SECRET]) {
      expect(all).not.toContain(secret);
    }
  });
});
