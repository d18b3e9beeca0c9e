import { request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import express from "express";
import { createLogger } from "../../src/adapters/logger.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { apiErrorHandler } from "../../src/http/api-errors.js";
import { createScanRoutes } from "../../src/http/scan-routes.js";
import { createToken } from "../../src/services/upload-tokens.js";
import { createTestDatabase, type TestDatabase } from "./databases.js";

export type ScanRoutesApp = {
  port: number;
  /** An upload token of no team. */
  token: string;
  database: TestDatabase;
  app: Database;
  close(): Promise<void>;
};

/** `POST /api/v1/scans` alone, on a fresh database, with the limits under test. */
export async function startScanRoutesApp(opts: {
  maxBodyBytes: number;
  bodyBytesInFlight?: number;
}): Promise<ScanRoutesApp> {
  const database = await createTestDatabase();
  const app = createDatabase(database.url, { max: 4 });
  const { token } = await createToken(app.db, { teamId: null, name: "ci", scopes: ["upload"] });
  const http = express();
  http.use(
    createScanRoutes({
      db: app.db,
      now: () => new Date(),
      maxBodyBytes: opts.maxBodyBytes,
      burstWindowMs: 60_000,
      afterCommit: async () => {},
      ...(opts.bodyBytesInFlight === undefined ? {} : { bodyBytesInFlight: opts.bodyBytesInFlight }),
    }),
  );
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  http.use(apiErrorHandler(createLogger("info", sink), () => opts.maxBodyBytes));
  const server: Server = http.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    token,
    database,
    app,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
      await database.drop();
    },
  };
}

/**
 * Sends the headers and the first `sent` bytes of `upload.body`, then the rest on `finish()`.
 * The body is taken out of `upload` at once and released once written: nothing here keeps it.
 */
export function postScan(t: ScanRoutesApp, upload: { body: Buffer | null }, sent?: number) {
  let status: (code: number) => void = () => {};
  const answered = new Promise<number>((resolve) => {
    status = resolve;
  });
  const holder = { body: upload.body ?? Buffer.alloc(0) };
  upload.body = null;
  const first = sent ?? holder.body.length;
  const req = request({
    host: "127.0.0.1",
    port: t.port,
    method: "POST",
    path: "/api/v1/scans",
    headers: {
      "content-type": "application/json",
      "content-length": holder.body.length,
      authorization: `Bearer ${t.token}`,
    },
  });
  req.on("response", (res) => {
    res.resume();
    res.on("end", () => status(res.statusCode ?? 0));
  });
  req.on("error", () => status(0));
  req.write(holder.body.subarray(0, first));
  return {
    /** The status code, or 0 when the connection failed. */
    answered,
    /** Sends the rest; resolves once it is written. */
    finish: () =>
      new Promise<void>((resolve) => {
        const rest = holder.body.subarray(first);
        holder.body = Buffer.alloc(0);
        req.end(rest, resolve);
      }),
    abort: () => req.destroy(),
  };
}
