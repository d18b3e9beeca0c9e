import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { configFileSchema } from "../../../src/config/file-schema.js";
import { parseVex } from "../../../src/core/vex/parse-vex.js";
import { createDatabase, type Database } from "../../../src/db/client.js";
import { type AcceptRiskInput, acceptRisk } from "../../../src/services/risk/accept-risk.js";
import { exportVexForImage } from "../../../src/services/risk/export-vex.js";
import { importVex } from "../../../src/services/risk/import-vex.js";
import { revokeAcceptance } from "../../../src/services/risk/revoke-acceptance.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import { API_DIGEST, seedRiskFleet } from "./seed-risk-fleet.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const DAY = 24 * 3600 * 1000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);
const config = configFileSchema.parse({ version: 1, teams: [{ id: "payments", channel: "C0PAYMENTS" }] });
const API_PURL = `pkg:oci/api@sha256%3A${"a".repeat(64)}?repository_url=ghcr.io/acme/api`;

// OpenVEX v0.2.0's rules as its JSON schema states them, written out so the export is checked
// against the specification and not against the exporter.
const openVexStatement = z
  .strictObject({
    vulnerability: z.strictObject({ name: z.string().min(1) }),
    timestamp: z.iso.datetime({ offset: true }).optional(),
    products: z.array(z.strictObject({ "@id": z.string().min(1) })).min(1),
    status: z.enum(["not_affected", "affected", "fixed", "under_investigation"]),
    justification: z
      .enum([
        "component_not_present",
        "vulnerable_code_not_present",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "inline_mitigations_already_exist",
      ])
      .optional(),
    impact_statement: z.string().min(1).optional(),
    action_statement: z.string().min(1).optional(),
    status_notes: z.string().optional(),
  })
  .refine(
    (s) => s.status !== "not_affected" || s.justification !== undefined || s.impact_statement !== undefined,
    {
      message: "not_affected needs a justification or an impact_statement",
    },
  )
  .refine((s) => s.status !== "affected" || s.action_statement !== undefined, {
    message: "affected needs an action_statement",
  });
const openVexDocument = z.strictObject({
  "@context": z.literal("https://openvex.dev/ns/v0.2.0"),
  "@id": z.string().regex(/^[a-z][a-z0-9+.-]*:\S+$/, { error: "an IRI" }),
  author: z.string().min(1),
  timestamp: z.iso.datetime({ offset: true }),
  version: z.number().int().min(1),
  statements: z.array(openVexStatement).min(1),
});

let database: TestDatabase;
let app: Database;

const accept = (overrides: Partial<AcceptRiskInput>, now = NOW) =>
  acceptRisk(
    { db: app.db, config, now: () => now },
    {
      vulnerabilityId: "CVE-2024-0004",
      target: { imageRef: "api" },
      until: at(60),
      reason: "only reachable from the admin VPN",
      actor: { id: "U0MARIA", name: "Maria" },
      source: "slack",
      origin: { source: "slack" },
      ...overrides,
    },
  );
const fixture = async (name: string) =>
  JSON.parse(await readFile(new URL(`../../fixtures/vex/${name}`, import.meta.url), "utf8")) as unknown;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  await seedRiskFleet(app.db);
  // In force for api: a person's acceptance, a team-wide one, and imported decisions.
  await accept({});
  await accept({ vulnerabilityId: "CVE-2024-0005", target: { teamId: "payments" }, until: at(20) });
  const vexDeps = { db: app.db, now: () => at(-3) };
  const vexInput = { actor: { id: "token:1" }, origin: { source: "api" }, teamId: "payments" };
  await importVex(vexDeps, { ...vexInput, doc: await fixture("team-scoped-api-and-search.openvex.json") });
  await importVex(vexDeps, { ...vexInput, doc: await fixture("cyclonedx-vex-api-worker.cdx.json") });
  // Not in force: expired, revoked, or about another image.
  await accept({ vulnerabilityId: "CVE-2024-0003", until: at(-10) }, at(-40));
  const revoked = await accept({ vulnerabilityId: "CVE-2024-0001", until: at(10) }, at(-5));
  await revokeAcceptance(
    { db: app.db, now: () => at(-1) },
    { id: revoked.id, actor: { id: "U0LEAD" }, origin: {}, reason: "patched instead" },
  );
  await accept({ vulnerabilityId: "CVE-2024-0001", target: { imageRef: "ghcr.io/acme/search" } });
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("exportVexForImage", () => {
  it("exports the decisions in force for the image as valid OpenVEX, ordered by vulnerability", async () => {
    const doc = await exportVexForImage({ db: app.db }, { imageRef: "ghcr.io/acme/api:1.4", now: NOW });
    expect(openVexDocument.safeParse(doc).error?.issues ?? []).toEqual([]);
    expect(doc).toMatchObject({ author: "patchpilot", timestamp: NOW.toISOString(), version: 1 });
    for (const s of doc.statements) expect(s.products).toEqual([{ "@id": API_PURL }]);
    expect(doc.statements.map((s) => [s.vulnerability.name, s.status, s.justification ?? null])).toEqual([
      ["CVE-2024-0001", "not_affected", "vulnerable_code_not_in_execute_path"],
      ["CVE-2024-0002", "not_affected", "vulnerable_code_not_in_execute_path"],
      ["CVE-2024-0003", "under_investigation", null],
      ["CVE-2024-0004", "not_affected", null],
      ["CVE-2024-0005", "not_affected", null],
    ]);
  });

  it("includes a team-wide acceptance in the export of each of the team's images", async () => {
    const doc = await exportVexForImage({ db: app.db }, { imageRef: "worker", now: NOW });
    expect(doc.statements.map((s) => [s.vulnerability.name, s.status, s.products[0]?.["@id"]])).toEqual([
      // Imported three days earlier, then accepted for the whole team: the newer statement comes last.
      [
        "CVE-2024-0005",
        "fixed",
        `pkg:oci/worker@sha256%3A${"c".repeat(64)}?repository_url=ghcr.io/acme/worker`,
      ],
      [
        "CVE-2024-0005",
        "not_affected",
        `pkg:oci/worker@sha256%3A${"c".repeat(64)}?repository_url=ghcr.io/acme/worker`,
      ],
    ]);
  });

  it("says who accepted a risk, why and until when, without claiming a justification", async () => {
    const doc = await exportVexForImage({ db: app.db }, { imageRef: "api", now: NOW });
    const accepted = doc.statements.filter(
      (s) => s.status === "not_affected" && s.justification === undefined,
    );
    expect(accepted.map((s) => [s.vulnerability.name, s.impact_statement])).toEqual([
      [
        "CVE-2024-0004",
        `only reachable from the admin VPN (risk accepted by Maria until ${at(60).toISOString()})`,
      ],
      [
        "CVE-2024-0005",
        `only reachable from the admin VPN (risk accepted for every image of team payments by Maria until ${at(20).toISOString()})`,
      ],
    ]);
    const cyclonedx = doc.statements.find((s) => s.vulnerability.name === "CVE-2024-0002");
    expect(cyclonedx?.status_notes).toBe("the affected TLS renegotiation path is disabled in our build");
  });

  it("round-trips through the VEX reader with the same statements", async () => {
    const doc = await exportVexForImage({ db: app.db }, { imageRef: "api", now: NOW });
    const read = parseVex(JSON.parse(JSON.stringify(doc)));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.format).toBe("openvex");
    expect(read.skippedStatements).toBe(0);
    expect(read.statements.map((s) => [s.vulnerabilityId, s.status, s.products])).toEqual(
      doc.statements.map((s) => [s.vulnerability.name, s.status, [API_PURL]]),
    );
  });

  it("gives the same document for the same decisions, and drops an acceptance once it expires", async () => {
    const first = await exportVexForImage({ db: app.db }, { imageRef: "api", now: NOW });
    const again = await exportVexForImage({ db: app.db }, { imageRef: "ghcr.io/acme/api", now: NOW });
    expect(again).toEqual(first);
    const later = await exportVexForImage({ db: app.db }, { imageRef: "api", now: at(30) });
    expect(later["@id"]).not.toBe(first["@id"]);
    // The team-wide acceptance of CVE-2024-0005 ended at day 20; imported decisions have no end.
    expect(later.statements.map((s) => s.vulnerability.name)).toEqual([
      "CVE-2024-0001",
      "CVE-2024-0002",
      "CVE-2024-0003",
      "CVE-2024-0004",
    ]);
  });

  it("refuses an unknown image, an image with nothing to export, and another team's token", async () => {
    await expect(
      exportVexForImage({ db: app.db }, { imageRef: "ghcr.io/acme/nope", now: NOW }),
    ).rejects.toMatchObject({
      code: "unknown_image",
      status: 404,
    });
    await expect(exportVexForImage({ db: app.db }, { imageRef: "node", now: NOW })).rejects.toMatchObject({
      code: "nothing_to_export",
      status: 404,
      message: expect.stringContaining(
        "docker.io/library/node has no risk acceptance or VEX decision in force",
      ),
    });
    await expect(
      exportVexForImage({ db: app.db }, { imageRef: "api", now: NOW, viewerTeam: "search" }),
    ).rejects.toMatchObject({ code: "forbidden_image", status: 403 });
    const own = await exportVexForImage(
      { db: app.db },
      { imageRef: "api", now: NOW, viewerTeam: "payments" },
    );
    expect(own.statements.length).toBeGreaterThan(0);
  });

  it("names the image by its latest digest", () => {
    expect(API_PURL).toContain(encodeURIComponent(API_DIGEST));
  });
});
