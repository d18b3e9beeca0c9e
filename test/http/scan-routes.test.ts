import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf, grypeReport, syntheticVulns } from "../support/report-builders.js";
import { postScan, type ScanRoutesApp, startScanRoutesApp } from "../support/scan-routes-app.js";

let t: ScanRoutesApp;

// Any two reports exceed the bytes in flight: uploads are read and stored one at a time.
beforeAll(async () => {
  t = await startScanRoutesApp({ maxBodyBytes: 1024 * 1024, bodyBytesInFlight: 1 });
});
afterAll(async () => {
  await t?.close();
});

const body = (n: number) =>
  Buffer.from(
    JSON.stringify(
      grypeReport({ image: `ghcr.io/acme/queued-${n}:1`, digest: digestOf(n), vulns: syntheticVulns(20) }),
    ),
  );

const post = (payload: Buffer, sent?: number) => postScan(t, { body: payload }, sent);

describe("POST /api/v1/scans beyond the bytes allowed in flight", () => {
  it("stores every upload, each waiting its turn", async () => {
    const uploads = [1, 2, 3, 4].map((n) => post(body(n)));
    for (const u of uploads) u.finish();
    expect(await Promise.all(uploads.map((u) => u.answered))).toEqual([201, 201, 201, 201]);
  });

  it("is not held up by a client that gave up while waiting", async () => {
    const slow = post(body(10), 100);
    await new Promise((r) => setTimeout(r, 100));
    const quitter = post(body(11));
    quitter.finish();
    await new Promise((r) => setTimeout(r, 100));
    quitter.abort();
    slow.finish();
    expect(await slow.answered).toBe(201);
    const next = post(body(12));
    next.finish();
    expect(await next.answered).toBe(201);
  });

  it("lets the next upload in when one being read is cut short of its Content-Length", async () => {
    const cut = post(body(13), 200);
    await new Promise((r) => setTimeout(r, 100));
    const waiting = post(body(14));
    waiting.finish();
    cut.abort();
    expect(await cut.answered).toBe(0);
    expect(await waiting.answered).toBe(201);
    const stored = await t.app.pool.query("SELECT count(*)::int AS n FROM scans WHERE digest = $1", [
      digestOf(13),
    ]);
    expect(stored.rows[0]?.n).toBe(0);
  });
});
