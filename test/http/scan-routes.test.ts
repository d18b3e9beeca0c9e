import { request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/adapters/logger.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { apiErrorHandler } from "../../src/http/api-errors.js";
import { createScanRoutes } from "../../src/http/scan-routes.js";
import { createToken } from "../../src/services/upload-tokens.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { digestOf, grypeReport, syntheticVulns } from "../support/report-builders.js";

const MAX_BODY = 1024 * 1024;

let database: TestDatabase;
let app: Database;
let server: Server;
let port: number;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  token = (await createToken(app.db, { teamId: null, name: "ci", scopes: ["upload"] })).token;
  const http = express();
  // Any two reports exceed this: uploads are read and stored one at a time.
  http.use(
    createScanRoutes({
      db: app.db,
      now: () => new Date(),
      maxBodyBytes: MAX_BODY,
      burstWindowMs: 60_000,
      afterCommit: async () => {},
      bodyBytesInFlight: 1,
    }),
  );
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  http.use(apiErrorHandler(createLogger("info", sink), () => MAX_BODY));
  server = http.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await app?.close();
  await database?.drop();
});

const body = (n: number) =>
  Buffer.from(
    JSON.stringify(
      grypeReport({ image: `ghcr.io/acme/queued-${n}:1`, digest: digestOf(n), vulns: syntheticVulns(20) }),
    ),
  );

/** Sends the headers and `sent` bytes of the body, then waits to be told to send the rest. */
function post(payload: Buffer, sent = payload.length) {
  let status: (code: number) => void = () => {};
  const answered = new Promise<number>((resolve) => {
    status = resolve;
  });
  const req = request({
    host: "127.0.0.1",
    port,
    method: "POST",
    path: "/api/v1/scans",
    headers: {
      "content-type": "application/json",
      "content-length": payload.length,
      authorization: `Bearer ${token}`,
    },
  });
  req.on("response", (res) => {
    res.resume();
    res.on("end", () => status(res.statusCode ?? 0));
  });
  req.on("error", () => status(0));
  req.write(payload.subarray(0, sent));
  return {
    answered,
    finish: () => req.end(payload.subarray(sent)),
    abort: () => req.destroy(),
  };
}

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
    const stored = await app.pool.query("SELECT count(*)::int AS n FROM scans WHERE digest = $1", [
      digestOf(13),
    ]);
    expect(stored.rows[0]?.n).toBe(0);
  });
});
