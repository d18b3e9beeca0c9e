import { readFile } from "node:fs/promises";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobQueues } from "../../src/jobs/job-queues.js";
import { createToken } from "../../src/services/upload-tokens.js";
import { REDIS_TEST_URL } from "../support/databases.js";
import { digestOf, trivyReport } from "../support/report-builders.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, type TestApp, writeTestConfig } from "../support/test-app.js";

const WINDOW_MS = 5_000;
// 38 more images for team payments, so a mass disclosure hits 40 of its images.
const extra = Array.from({ length: 38 }, (_, i) => `svc-${String(i + 1).padStart(2, "0")}`);
const names = ["payments-api", "ledger-worker", ...extra];

let t: TestApp;
let token: string;

beforeAll(async () => {
  const example = await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8");
  const images = extra
    .map((n) => `  - id: ${n}\n    repository: ghcr.io/acme/${n}\n    team: payments\n`)
    .join("");
  const config = await writeTestConfig(
    example.replace("images:\n", `images:\n${images}`).replace("burstWindow: 2m", "burstWindow: 5s"),
  );
  t = await startTestApp({ env: { PATCHPILOT_CONFIG: config } });
  token = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })).token;
});
afterAll(async () => {
  await t?.close();
});

async function upload(image: string, n: number): Promise<number> {
  const body = trivyReport({
    image: `ghcr.io/acme/${image}:1.0`,
    digest: digestOf(n),
    vulns: [{ id: "CVE-2026-4242", pkg: "libexpat", version: "2.5.0", fixed: "2.6.3", severity: "CRITICAL" }],
  });
  const res = await fetch(`${t.baseUrl}/api/v1/scans`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
  });
  return res.status;
}

/** Waits for the start of a fresh window, so every upload of a burst lands in the same one. */
async function atWindowStart(): Promise<void> {
  await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 20));
}

describe("new-critical alerts", () => {
  it("aggregate a burst over 40 images into one message with the detail in its thread", async () => {
    await atWindowStart();
    const started = Date.now();
    const statuses = await Promise.all(names.map((name, i) => upload(name, 100 + i)));
    expect(statuses.every((s) => s === 201)).toBe(true);
    // Otherwise the burst straddled two windows and this run proves nothing.
    expect(Date.now() - started).toBeLessThan(WINDOW_MS - 500);

    const top = () => t.slack.messages("C0PAYMENTS").filter((m) => m.thread_ts === undefined);
    const replies = () => t.slack.messages("C0PAYMENTS").filter((m) => m.thread_ts !== undefined);
    await waitFor(() => top().length > 0 && replies().length > 0, 30_000, "the burst alert and its thread");
    await new Promise((r) => setTimeout(r, 2_000));

    expect(top()).toHaveLength(1);
    const [parent] = top();
    expect(parent?.text).toBe(
      "🔴 New fixable critical in 40 images owned by Payments: CVE-2026-4242 in libexpat",
    );
    const shown = JSON.stringify(parent?.blocks);
    expect(shown).toContain("libexpat 2.5.0 → fixed in 2.6.3");
    expect(shown).toContain("and 35 more");
    expect(shown).toContain('"action_id":"alert_patch_all"');
    expect(shown).toContain("Patch all 40");
    // Every image is in the thread, each once, with its own button.
    const thread = replies();
    expect(thread.every((m) => m.thread_ts === parent?.ts)).toBe(true);
    const detail = thread.map((m) => JSON.stringify(m.blocks)).join("\n");
    for (const name of names) expect(detail.match(new RegExp(`\\*${name}\\*`, "g"))).toHaveLength(1);
    expect(detail.match(/digest_patch_now/g)).toHaveLength(40);
    expect(t.slack.messages("C0SEARCH")).toHaveLength(0);
  }, 60_000);

  it("for a single scan is one message naming the image, without a thread", async () => {
    const before = t.slack.messages("C0PAYMENTS").length;
    await atWindowStart();
    const body = trivyReport({
      image: "ghcr.io/acme/payments-api:1.1",
      digest: digestOf(500),
      vulns: [
        { id: "CVE-2026-4242", pkg: "libexpat", version: "2.5.0", fixed: "2.6.3", severity: "CRITICAL" },
        { id: "CVE-2026-5151", pkg: "openssl", version: "3.0.1", fixed: "3.0.9", severity: "CRITICAL" },
      ],
    });
    const res = await fetch(`${t.baseUrl}/api/v1/scans`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(201);
    await waitFor(() => t.slack.messages("C0PAYMENTS").length > before, 30_000, "the alert");
    await new Promise((r) => setTimeout(r, 1_500));
    const added = t.slack.messages("C0PAYMENTS").slice(before);
    expect(added).toHaveLength(1);
    // CVE-2026-4242 is not new to payments-api; only openssl's is.
    expect(added[0]?.text).toBe(
      "🔴 1 new fixable critical finding in payments-api (team Payments): CVE-2026-5151 in openssl",
    );
  }, 60_000);
});

describe("an alert whose answer was lost", () => {
  it("is found in the channel on the retry, not posted twice", async () => {
    // Nothing else is still being posted (the earlier tests' threads), so the failure below hits
    // the alert.
    for (let calls = -1; calls !== t.slack.calls.length; ) {
      calls = t.slack.calls.length;
      await new Promise((r) => setTimeout(r, 1_500));
    }
    const before = t.slack.messages("C0PAYMENTS").length;
    const callsBefore = t.slack.calls.length;
    await atWindowStart();
    // Slack takes the alert and answers 503, as when its reply is lost on the way.
    t.slack.failNext("chat.postMessage", { status: 503, landed: true });
    const body = trivyReport({
      image: "ghcr.io/acme/ledger-worker:2.0",
      digest: digestOf(700),
      vulns: [{ id: "CVE-2026-7777", pkg: "zlib", version: "1.2.13", fixed: "1.3.1", severity: "CRITICAL" }],
    });
    const res = await fetch(`${t.baseUrl}/api/v1/scans`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(201);
    const since = () => t.slack.calls.slice(callsBefore);
    await waitFor(
      () => since().some((c) => c.method === "conversations.history"),
      30_000,
      "the lookup on the retry",
    );
    await new Promise((r) => setTimeout(r, 2_000)); // a second post would have come by now
    // The alert's post was answered 503; the retry looked, found it, and posted nothing.
    expect(
      since()
        .filter((c) => c.method === "chat.postMessage")
        .map((c) => c.status),
    ).toEqual([503]);
    const added = t.slack.messages("C0PAYMENTS").slice(before);
    expect(added.map((m) => m.text)).toEqual([
      "🔴 1 new fixable critical finding in ledger-worker (team Payments): CVE-2026-7777 in zlib",
    ]);
  }, 60_000);
});

describe("an acceptance about to expire", () => {
  it("is announced once, days ahead, in the owning team's channel", async () => {
    await t.owner.db.execute(sql`
      INSERT INTO risk_acceptances (vulnerability_id, image_id, source, status, reason, accepted_by, accepted_by_name, expires_at)
      SELECT v.id, i.id, 'slack', 'accepted', 'not reachable: <!channel> no TLS server', 'U0SAM', 'sam', now() + v.remaining
      FROM images i, (VALUES ('CVE-2026-7777', interval '2 days'), ('CVE-2026-8888', interval '10 days')) AS v(id, remaining)
      WHERE i.config_id = 'search-api'`);
    const connection = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
    const queues = createJobQueues({ connection, prefix: t.env.REDIS_PREFIX ?? "" });
    try {
      await queues.enqueue("warn-expiring-acceptances", {});
      await queues.enqueue("warn-expiring-acceptances", {});
      await waitFor(() => t.slack.messages("C0SEARCH").length > 0, 30_000, "the expiry warning");
      await queues.enqueue("warn-expiring-acceptances", {});
      await new Promise((r) => setTimeout(r, 2_000));
    } finally {
      await queues.close();
      connection.disconnect();
    }
    const posts = t.slack.messages("C0SEARCH");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.text).toMatch(
      /^⏳ Risk acceptance expires \d{4}-\d{2}-\d{2}: CVE-2026-7777 in ghcr\.io\/acme\/search-api will count as open again$/,
    );
    const blocks = JSON.stringify(posts[0]?.blocks);
    expect(blocks).toContain("/patch accept CVE-2026-7777");
    expect(blocks).toContain("&lt;!channel&gt;");
    expect(blocks).not.toContain("<!channel>");
  }, 60_000);
});
