import v8 from "node:v8";
import vm from "node:vm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf, grypeReport, syntheticVulns } from "../support/report-builders.js";
import { postScan, type ScanRoutesApp, startScanRoutesApp } from "../support/scan-routes-app.js";

const MAX_BODY = 128 * 1024 * 1024;
const REPOSITORY = "ghcr.io/acme/memory";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

let t: ScanRoutesApp;

beforeAll(async () => {
  t = await startScanRoutesApp({ maxBodyBytes: MAX_BODY });
});
afterAll(async () => {
  await t?.close();
});

const report = (n: number, findings: number) =>
  Buffer.from(
    JSON.stringify(
      grypeReport({ image: `${REPOSITORY}:1`, digest: digestOf(n), vulns: syntheticVulns(findings) }),
    ),
  );

const arrayBuffers = () => {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
};

describe("POST /api/v1/scans, memory", () => {
  it("lets a large report's body go before the transaction, which may wait on a lock for long", async () => {
    const first = postScan(t, { body: report(1, 5) });
    await first.finish();
    expect(await first.answered).toBe(201);
    // Another session holds the image's row: the upload parses, then waits in its transaction.
    const holder = new pg.Client({ connectionString: t.database.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM images WHERE repository = $1 FOR UPDATE", [REPOSITORY]);
      const before = arrayBuffers();
      const upload = { body: report(2, 12_000) as Buffer | null };
      const size = upload.body?.length ?? 0;
      const big = postScan(t, upload);
      await big.finish();
      for (let waiting = false; !waiting; await new Promise((r) => setTimeout(r, 50))) {
        const r = await holder.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        );
        waiting = r.rows[0]?.n > 0;
      }
      const during = arrayBuffers() - before;
      // The client's copy is sent and gone; the service's would be a whole body more.
      expect(size).toBeGreaterThan(30 * 1024 * 1024);
      expect(during, `${(during / 2 ** 20).toFixed(1)} MiB still held`).toBeLessThan(size / 4);
      await holder.query("ROLLBACK");
      expect(await big.answered).toBe(201);
    } finally {
      await holder.end();
    }
  });
});
