import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/services/upload-tokens.js";
import { digestOf, trivyReport } from "../support/report-builders.js";
import { startTestApp, type TestApp } from "../support/test-app.js";

let t: TestApp;
let auditor: string;
let uploader: string;
beforeAll(async () => {
  t = await startTestApp();
  auditor = (await createToken(t.owner.db, { teamId: null, name: "auditor", scopes: ["audit"] })).token;
  uploader = (await createToken(t.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })).token;
  for (const n of [1, 2, 3]) {
    const body = JSON.stringify(
      trivyReport({
        image: "ghcr.io/acme/payments-api:1",
        digest: digestOf(n),
        vulns: [{ id: `CVE-2026-${n}0000`, pkg: "zlib", severity: "LOW" }],
      }),
    );
    const r = await fetch(`${t.baseUrl}/api/v1/scans`, {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${uploader}`, "content-type": "application/json" },
    });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
});

const get = (query: string, token = auditor) =>
  fetch(`${t.baseUrl}/api/v1/audit${query}`, { headers: { authorization: `Bearer ${token}` } });

describe("GET /api/v1/audit", () => {
  it("exports every event as JSON Lines ending with the chain head", async () => {
    const res = await get("");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const events = lines.slice(0, -1);
    expect(events.map((e) => e.action)).toEqual(["scan.ingested", "scan.ingested", "scan.ingested"]);
    expect(events[0]).toMatchObject({
      seq: 1,
      outcome: "ok",
      resource: { image: "ghcr.io/acme/payments-api", digest: digestOf(1) },
    });
    expect(lines.at(-1)).toEqual({ chainHead: { seq: 3, hash: events[2].hash } });
  });

  it("exports CSV for a period", async () => {
    const res = await get("?format=csv&from=2020-01-01&to=2020-01-02");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.split("\n")[0]).toContain("seq,at,actor_id");
    expect(text).toMatch(/# chain-head,3,[0-9a-f]{64}/);
  });

  it("needs an audit token and a well-formed period", async () => {
    expect((await get("", uploader)).status).toBe(403);
    const bad = await get("?from=last-week");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain(
      "from: expected an ISO date",
    );
  });
});
