import { readFile } from "node:fs/promises";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Patchpilot, startPatchpilot } from "../../src/main.js";
import { createToken } from "../../src/services/upload-tokens.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, type TestApp, writeTestConfig } from "../support/test-app.js";
import { uploadScan } from "../support/upload-scan.js";

let t: TestApp;
let second: Patchpilot;
let token: string;
beforeAll(async () => {
  const example = await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8");
  // A cron with seconds: every 4 s is a new period, so several periods pass during the test.
  const config = await writeTestConfig(
    example.replace(
      '  - { channel: C0PAYMENTS, cron: "0 9 * * 1", timezone: Europe/Berlin, teams: [payments] }',
      '  - { channel: C0PAYMENTS, cron: "*/4 * * * * *", timezone: Europe/Berlin, teams: [payments] }',
    ),
  );
  t = await startTestApp({ env: { PATCHPILOT_CONFIG: config } });
  token = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })).token;
  await uploadScan(t, token, {
    image: "ghcr.io/acme/payments-api:1.4",
    digestNumber: 1,
    vulns: [
      { id: "CVE-2026-1111", pkg: "openssl", severity: "CRITICAL", fixed: "3.0.15" },
      { id: "CVE-2026-2222", pkg: "zlib", severity: "HIGH" },
    ],
  });
  // A second worker process on the same Postgres and Redis (QUALITY.md scenario 22).
  second = await startPatchpilot({ role: "worker", env: { ...t.env, PORT: "0", LOG_LEVEL: "warn" } });
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

describe("scheduled digests", () => {
  it("posts each period's digest once, in the subscribed channel, with two workers running", async () => {
    await waitFor(
      async () => {
        const r = await t.owner.db.execute(sql`SELECT count(*)::int AS n FROM digest_runs`);
        return Number(r.rows[0]?.n) >= 2;
      },
      30_000,
      "two digest periods",
    );
    await waitFor(
      async () => {
        const pending = await t.owner.db.execute(
          sql`SELECT count(*)::int AS n FROM outbox WHERE status = 'pending' AND dedupe_key LIKE 'digest:%'`,
        );
        return Number(pending.rows[0]?.n) === 0;
      },
      30_000,
      "the digest messages to be delivered",
    );
    const runs = await t.owner.db.execute(sql`SELECT period_key FROM digest_runs ORDER BY period_key`);
    const keys = runs.rows.map((r) => String(r.period_key));
    expect(new Set(keys).size).toBe(keys.length);
    const digests = t.slack
      .messages("C0PAYMENTS")
      .filter((m) => String(m.text).startsWith("Patch digest · Payments"));
    // One top-level digest per period, never two.
    expect(digests.filter((m) => !m.thread_ts)).toHaveLength(keys.length);
    // A period may fire before the scan is uploaded (a quiet digest); the ones after count it.
    expect(digests.map((m) => String(m.text)).some((text) => text.includes("1 critical"))).toBe(true);
    // The trend chart went into the first digest's thread.
    const uploads = t.slack.files();
    expect(uploads.length).toBeGreaterThanOrEqual(1);
    expect(uploads[0]?.filename).toBe("patchpilot-trend.png");
  });

  it("puts a note in the digest's thread, and holds nothing up, when Slack refuses the chart upload", async () => {
    const uploadsBefore = t.slack.files().length;
    t.slack.failNext("files.getUploadURLExternal", { error: "missing_scope" }, 1);
    // Something new since the last digest: the next one is not a quiet heartbeat, so it has a chart.
    await uploadScan(t, token, {
      image: "ghcr.io/acme/payments-api:1.5",
      digestNumber: 2,
      vulns: [{ id: "CVE-2026-3333", pkg: "glibc", severity: "CRITICAL", fixed: "2.36-9" }],
    });
    const note = () =>
      t.slack
        .messages("C0PAYMENTS")
        .find((m) => String(m.text).includes("trend chart could not be uploaded"));
    await waitFor(() => note() !== undefined, 30_000, "the note in place of the chart");
    const digest = t.slack.messages("C0PAYMENTS").find((m) => m.ts === note()?.thread_ts);
    expect(String(digest?.text)).toMatch(/^Patch digest · Payments/);
    expect(String(note()?.text)).toContain("`files:write`");
    // The refused chart is settled, not retried or failed; later digests still get theirs.
    const charts = await t.owner.db.execute(
      sql`SELECT status FROM outbox WHERE kind = 'slack.digest-chart' AND status <> 'done'`,
    );
    expect(charts.rows).toEqual([]);
    expect(t.slack.files().length).toBe(uploadsBefore);
  });
});
