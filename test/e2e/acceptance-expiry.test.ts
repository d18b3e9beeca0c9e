import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobQueues } from "../../src/jobs/job-queues.js";
import { REDIS_TEST_URL } from "../support/databases.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, type TestApp } from "../support/test-app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe("an expired risk acceptance", () => {
  it("is announced once in the owning team's channel and audited", async () => {
    await t.owner.db.execute(sql`
      INSERT INTO risk_acceptances (vulnerability_id, image_id, source, status, reason, accepted_by, accepted_by_name, expires_at)
      SELECT 'CVE-2026-9999', id, 'slack', 'accepted', 'not reachable: no TLS server in this image', 'U0SAM', 'sam', now() - interval '1 minute'
      FROM images WHERE config_id = 'payments-api'`);
    const connection = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
    const queues = createJobQueues({ connection, prefix: t.env.REDIS_PREFIX ?? "" });
    try {
      await queues.enqueue("expire-acceptances", {});
      await queues.enqueue("expire-acceptances", {});
      await waitFor(() => t.slack.callsTo("chat.postMessage").length > 0, 20_000, "the expiry notice");
    } finally {
      await queues.close();
      connection.disconnect();
    }
    const posts = t.slack.callsTo("chat.postMessage");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.args.channel).toBe("C0PAYMENTS");
    expect(String(posts[0]?.args.text)).toBe(
      "⏰ Risk acceptance expired: CVE-2026-9999 in ghcr.io/acme/payments-api counts as open again",
    );
    expect(JSON.stringify(posts[0]?.args.blocks)).toContain("not reachable: no TLS server in this image");
    const audit = await t.owner.db.execute(
      sql`SELECT action, actor_id FROM audit_events WHERE action = 'risk.acceptance_expired'`,
    );
    expect(audit.rows).toHaveLength(1);
  });
});
