import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { eq } from "drizzle-orm";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createLogger } from "../../src/adapters/logger.js";
import { configFileSchema } from "../../src/config/file-schema.js";
import { parseVex } from "../../src/core/vex/parse-vex.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { auditEvents, riskAcceptances } from "../../src/db/schema/index.js";
import { apiErrorHandler } from "../../src/http/api-errors.js";
import { createVexRoutes } from "../../src/http/vex-routes.js";
import { createToken, revokeToken } from "../../src/services/upload-tokens.js";
import { seedRiskFleet } from "../services/risk/seed-risk-fleet.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const MAX_BODY = 64 * 1024;
const config = configFileSchema.parse({ version: 1, teams: [{ id: "payments", channel: "C0PAYMENTS" }] });

let database: TestDatabase;
let app: Database;
let server: Server;
let base: string;
const tokens: Record<"payments" | "search" | "audit" | "revoked", string> = {
  payments: "",
  search: "",
  audit: "",
  revoked: "",
};
const logLines: string[] = [];

const fixture = (name: string) => readFile(new URL(`../fixtures/vex/${name}`, import.meta.url), "utf8");

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  await seedRiskFleet(app.db);
  tokens.payments = (
    await createToken(app.db, { teamId: "payments", name: "payments CI", scopes: ["upload"] })
  ).token;
  tokens.search = (
    await createToken(app.db, { teamId: "search", name: "search CI", scopes: ["upload"] })
  ).token;
  tokens.audit = (await createToken(app.db, { teamId: null, name: "auditor", scopes: ["audit"] })).token;
  const revoked = await createToken(app.db, { teamId: "payments", name: "old CI", scopes: ["upload"] });
  await revokeToken(app.db, revoked.id, NOW);
  tokens.revoked = revoked.token;

  const http = express();
  http.use(createVexRoutes({ db: app.db, config, now: () => NOW, maxBodyBytes: MAX_BODY }));
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  http.use(apiErrorHandler(createLogger("info", sink), () => MAX_BODY));
  server = http.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await app?.close();
  await database?.drop();
});

const post = (body: string, opts: { token?: string; type?: string } = {}) =>
  fetch(`${base}/api/v1/vex`, {
    method: "POST",
    headers: {
      ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }),
      "content-type": opts.type ?? "application/json",
    },
    body,
  });
const get = (image: string | null, token?: string) =>
  fetch(`${base}/api/v1/vex/openvex${image === null ? "" : `?image=${encodeURIComponent(image)}`}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
const errorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const errorOf = async (res: Response) => errorBody.parse(await res.json()).error;

describe("POST /api/v1/vex", () => {
  it("imports a document for the token's team and answers with the summary", async () => {
    const res = await post(await fixture("team-scoped-api-and-search.openvex.json"), {
      token: tokens.payments,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      format: "openvex",
      statements: 5,
      imported: 2,
      unchanged: 0,
      unreadable: 1,
      skipped: [
        { reason: "ghcr.io/acme/search is owned by team search; this upload is for team payments" },
        { reason: expect.stringContaining("names a package (pkg:apk)") },
      ],
    });
    const [audit] = await app.db.select().from(auditEvents).where(eq(auditEvents.action, "vex.imported"));
    expect(audit).toMatchObject({
      actorName: "payments CI",
      actorId: expect.stringMatching(/^token:[0-9a-f-]{36}$/),
      outcome: "ok",
      origin: { source: "api", route: "POST /api/v1/vex" },
      resource: { images: ["ghcr.io/acme/api"] },
    });
  });

  it("answers a re-upload of the same document with nothing new", async () => {
    const res = await post(await fixture("team-scoped-api-and-search.openvex.json"), {
      token: tokens.payments,
    });
    expect(await res.json()).toMatchObject({ imported: 0, unchanged: 2 });
  });

  it.each([
    ["no token", (): string | undefined => undefined, 401, "missing_token"],
    ["an unknown token", (): string | undefined => "ppt_not-a-real-token", 401, "invalid_token"],
    ["a revoked token", (): string | undefined => tokens.revoked, 401, "invalid_token"],
    ["an audit token", (): string | undefined => tokens.audit, 403, "wrong_scope"],
  ] as const)("refuses %s", async (_label, token, status, code) => {
    const value = token();
    const res = await post(
      await fixture("copa-unversioned-context.openvex.json"),
      value ? { token: value } : {},
    );
    expect(res.status).toBe(status);
    expect((await errorOf(res)).code).toBe(code);
  });

  it("refuses a body that is not JSON by its content type, before reading it", async () => {
    const res = await post("CVE-2024-0001 not_affected", { token: tokens.payments, type: "text/plain" });
    expect(res.status).toBe(415);
    expect(await errorOf(res)).toEqual({
      code: "unsupported_media_type",
      message: "send the VEX document as JSON with Content-Type: application/json (got text/plain)",
    });
  });

  it("accepts a +json media type", async () => {
    const res = await post(await fixture("copa-unversioned-context.openvex.json"), {
      token: tokens.payments,
      type: "application/vnd.openvex+json",
    });
    expect(res.status).toBe(200);
  });

  it("says where malformed JSON breaks", async () => {
    const res = await post('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [', {
      token: tokens.payments,
    });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("invalid_json");
    expect(error.message).toMatch(/^the body is not valid JSON \(.+\)/);
  });

  it("refuses JSON that is not VEX with what it reads instead", async () => {
    const res = await post(JSON.stringify({ SchemaVersion: 2, Results: [] }), { token: tokens.payments });
    expect(res.status).toBe(422);
    expect(await errorOf(res)).toMatchObject({
      code: "unsupported_format",
      message: expect.stringContaining("patchpilot reads OpenVEX"),
    });
  });

  it("refuses a body over the limit with 413 and stores nothing", async () => {
    const before = await app.db.select().from(riskAcceptances);
    const huge = JSON.stringify({ "@context": "https://openvex.dev/ns/v0.2.0", pad: "x".repeat(MAX_BODY) });
    const res = await post(huge, { token: tokens.payments });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe("too_large");
    expect(await app.db.select().from(riskAcceptances)).toEqual(before);
  });
});

describe("GET /api/v1/vex/openvex", () => {
  it("exports the image's decisions as OpenVEX JSON for the owning team's token and an audit token", async () => {
    for (const token of [tokens.payments, tokens.audit]) {
      const res = await get("ghcr.io/acme/api:1.4", token);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const doc: unknown = await res.json();
      expect(doc).toMatchObject({ "@context": "https://openvex.dev/ns/v0.2.0", author: "patchpilot" });
      const read = parseVex(doc);
      expect(read.ok && read.statements.map((s) => [s.vulnerabilityId, s.status])).toEqual([
        ["CVE-2024-0001", "not_affected"],
        ["CVE-2024-0003", "under_investigation"],
      ]);
    }
  });

  it.each([
    ["no token", null, "api", 401, "missing_token"],
    ["another team's token", "search", "api", 403, "forbidden_image"],
    ["an unknown image", "payments", "ghcr.io/acme/nope", 404, "unknown_image"],
    ["an image without decisions", "audit", "worker", 404, "nothing_to_export"],
    ["a missing ?image", "payments", null, 400, "image_required"],
  ] as const)("answers %s with an error", async (_label, token, image, status, code) => {
    const res = await get(image, token === null ? undefined : tokens[token]);
    expect(res.status).toBe(status);
    expect((await errorOf(res)).code).toBe(code);
  });

  it("logged no token and no internal error", () => {
    const text = logLines.join("");
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
    expect(text).not.toContain("API request failed");
  });
});
