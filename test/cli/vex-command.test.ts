import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { desc } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vexCommand } from "../../src/cli/vex-command.js";
import { configFileSchema } from "../../src/config/file-schema.js";
import { parseVex } from "../../src/core/vex/parse-vex.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { auditEvents } from "../../src/db/schema/index.js";
import { seedRiskFleet } from "../services/risk/seed-risk-fleet.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const config = configFileSchema.parse({ version: 1, teams: [{ id: "payments", channel: "C0PAYMENTS" }] });
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/vex/${name}`, import.meta.url));

let database: TestDatabase;
let app: Database;
let scratch: string;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 1 });
  await seedRiskFleet(app.db);
  scratch = await mkdtemp(join(tmpdir(), "pp-vex-"));
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

async function run(args: string[], databaseUrl = database.url) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await vexCommand(
    args,
    { out: (s) => out.push(s), err: (s) => err.push(s) },
    { databaseUrl, config, now: () => NOW },
  );
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("patchpilot vex", () => {
  it.each([
    [[], "vex needs a subcommand"],
    [["import"], "vex import needs the FILE"],
    [["import", "a.json", "b.json"], "reads one file"],
    [["export"], "vex export needs --image REF"],
    [["export", "--image"], "--image"],
    [["import", "a.json", "--bogus"], "--bogus"],
    [["frobnicate"], 'unknown vex subcommand "frobnicate"'],
  ])("exits 2 with the usage for %j", async (args, said) => {
    const r = await run(args);
    expect(r).toMatchObject({ code: 2, out: "" });
    expect(r.err).toContain(said);
    expect(r.err).toContain("Usage:");
  });

  it("prints the usage for help", async () => {
    expect(await run(["help"])).toMatchObject({ code: 0, out: expect.stringContaining("vex import FILE") });
  });

  it("imports a file, prints the API's summary as JSON, and audits it as the CLI", async () => {
    const r = await run(["import", fixture("copa-unversioned-context.openvex.json")]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      format: "openvex",
      statements: 3,
      imported: 2,
      skipped: [{ vulnerabilityId: "CVE-2024-0008" }],
    });
    const [audit] = await app.db.select().from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1);
    expect(audit).toMatchObject({
      action: "vex.imported",
      actorId: expect.stringMatching(/^cli:/),
      origin: {
        source: "cli",
        command: "vex import",
        file: fixture("copa-unversioned-context.openvex.json"),
      },
    });
  });

  it("applies --team as an upload token's team would", async () => {
    const r = await run(["import", fixture("team-scoped-api-and-search.openvex.json"), "--team", "search"]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ imported: 1 });
    expect(summary.skipped).toContainEqual({
      vulnerabilityId: "CVE-2024-0003",
      product: `pkg:oci/api@sha256%3A${"a".repeat(64)}`,
      reason: "ghcr.io/acme/api is owned by team payments; this upload is for team search",
    });
  });

  it("exports an image's decisions as OpenVEX", async () => {
    const r = await run(["export", "--image", "docker.io/library/node"]);
    expect(r.code).toBe(0);
    const read = parseVex(JSON.parse(r.out));
    expect(read.ok && read.statements.map((s) => [s.vulnerabilityId, s.status])).toEqual([
      ["CVE-2024-0006", "fixed"],
      ["CVE-2024-0007", "fixed"],
    ]);
  });

  it.each([
    [["import", "/nonexistent/vex.json"], "cannot read /nonexistent/vex.json: no such file"],
    [["import", fixture("copa-unversioned-context.openvex.json"), "--team", "nope"], 'unknown team "nope"'],
    [["export", "--image", "ghcr.io/acme/nope"], 'unknown image "ghcr.io/acme/nope"'],
  ])("exits 1 with the message and no stack trace for %j", async (args, said) => {
    const r = await run(args);
    expect(r).toMatchObject({ code: 1, out: "" });
    expect(r.err).toContain(said);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("exits 1 for a file that is not JSON, or not VEX", async () => {
    const broken = join(scratch, "broken.json");
    await writeFile(broken, '{"statements": [');
    const notJson = await run(["import", broken]);
    expect(notJson).toMatchObject({ code: 1, err: expect.stringContaining(`${broken} is not valid JSON`) });
    const report = join(scratch, "report.json");
    await writeFile(report, JSON.stringify({ SchemaVersion: 2, ArtifactName: "node", Results: [] }));
    const notVex = await run(["import", report]);
    expect(notVex).toMatchObject({ code: 1, err: expect.stringContaining("not a VEX document") });
  });

  it("exits 1 when the database cannot be reached", async () => {
    const r = await run(["export", "--image", "api"], "postgres://postgres@127.0.0.1:1/none");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^vex export failed: /);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
