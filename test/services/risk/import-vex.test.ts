import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../../src/db/client.js";
import { auditEvents, outbox, riskAcceptances } from "../../../src/db/schema/index.js";
import { importVex, type VexImportInput } from "../../../src/services/risk/import-vex.js";
import { createTestDatabase, type TestDatabase } from "../../support/databases.js";
import { seedImage, seedRiskFleet } from "./seed-risk-fleet.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const ours = (name: string) => new URL(`../../fixtures/vex/${name}`, import.meta.url);
const shared = new URL("../../../../shared/fixtures/vex/", import.meta.url);
const readJson = async (url: URL) => JSON.parse(await readFile(url, "utf8")) as unknown;

const uploader = { id: "token:9f0c", name: "payments CI" };
const apiOrigin = { source: "api", route: "POST /api/v1/vex", tokenId: "9f0c" };

let database: TestDatabase;
let app: Database;
let fleet: Awaited<ReturnType<typeof seedRiskFleet>>;

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  fleet = await seedRiskFleet(app.db);
});
afterAll(async () => {
  await app?.close();
  await database?.drop();
});

const run = async (doc: unknown, extra: Partial<VexImportInput> = {}) =>
  importVex({ db: app.db, now: () => NOW }, { doc, actor: uploader, origin: apiOrigin, ...extra });
const vexRowsOf = (imageId: string) =>
  app.db
    .select()
    .from(riskAcceptances)
    .where(eq(riskAcceptances.imageId, imageId))
    .orderBy(asc(riskAcceptances.vulnerabilityId), asc(riskAcceptances.createdAt));
const lastAudit = async () => (await app.db.select().from(auditEvents).orderBy(asc(auditEvents.seq))).at(-1);

describe("importVex", () => {
  it("imports Copa's unversioned OpenVEX, matching pkg:oci purls and plain references", async () => {
    const summary = await run(await readJson(ours("copa-unversioned-context.openvex.json")));
    expect(summary).toEqual({
      format: "openvex",
      document: {
        id: "https://openvex.dev/docs/public/vex-patchpilot-test-copa-node",
        author: "Project Copacetic",
      },
      statements: 3,
      imported: 2,
      unchanged: 0,
      superseded: 0,
      skipped: [
        {
          vulnerabilityId: "CVE-2024-0008",
          product: "pkg:oci/python?repository_url=docker.io/library/python",
          reason:
            "no known image is in docker.io/library/python: upload a scan of it or add it to patchpilot.yaml first",
        },
      ],
      unreadable: 0,
    });
    const rows = await vexRowsOf(fleet.node);
    expect(rows).toEqual([
      expect.objectContaining({
        vulnerabilityId: "CVE-2024-0006",
        source: "vex",
        status: "fixed",
        expiresAt: null,
        acceptedBy: "token:9f0c",
        reason: expect.stringContaining("fixed according to the VEX document by Project Copacetic"),
      }),
      expect.objectContaining({ vulnerabilityId: "CVE-2024-0007", status: "fixed", expiresAt: null }),
    ]);
    expect(await lastAudit()).toMatchObject({
      at: NOW,
      actorId: "token:9f0c",
      actorName: "payments CI",
      action: "vex.imported",
      outcome: "ok",
      origin: apiOrigin,
      resource: {
        document: "https://openvex.dev/docs/public/vex-patchpilot-test-copa-node",
        images: ["docker.io/library/node"],
      },
      payload: {
        format: "openvex",
        author: "Project Copacetic",
        statements: 3,
        imported: 2,
        unchanged: 0,
        skipped: 1,
      },
    });
  });

  it("changes nothing when the same document is imported again, but audits the import", async () => {
    const summary = await run(await readJson(ours("copa-unversioned-context.openvex.json")));
    expect(summary).toMatchObject({ imported: 0, unchanged: 2, superseded: 0 });
    expect(await vexRowsOf(fleet.node)).toHaveLength(2);
    expect(await lastAudit()).toMatchObject({
      action: "vex.imported",
      payload: { imported: 0, unchanged: 2 },
    });
  });

  it("refuses statements about another team's images for a team's upload, and says why for each", async () => {
    const summary = await run(await readJson(ours("team-scoped-api-and-search.openvex.json")), {
      teamId: "payments",
    });
    expect(summary).toMatchObject({ statements: 5, imported: 2, unchanged: 0, unreadable: 1 });
    expect(summary.skipped).toEqual([
      {
        vulnerabilityId: "CVE-2024-0001",
        product: "ghcr.io/acme/search:2.0",
        reason: "ghcr.io/acme/search is owned by team search; this upload is for team payments",
      },
      {
        vulnerabilityId: "CVE-2024-0004",
        product: "pkg:apk/alpine/busybox@1.36.1-r2",
        reason: expect.stringContaining("names a package (pkg:apk), not an image"),
      },
    ]);
    expect(await vexRowsOf(fleet.search)).toEqual([]);
    const api = await vexRowsOf(fleet.api);
    expect(api).toEqual([
      // Stated as GHSA-aaaa-bbbb-cccc; recorded under the CVE id the scanner reports for api.
      expect.objectContaining({
        vulnerabilityId: "CVE-2024-0001",
        status: "not_affected",
        justification: "vulnerable_code_not_in_execute_path",
        reason: "the XML parser is never given untrusted input",
      }),
      // Named by digest only: the image whose latest scan has that digest.
      expect.objectContaining({ vulnerabilityId: "CVE-2024-0003", status: "under_investigation" }),
    ]);
    expect((await lastAudit())?.payload).toMatchObject({
      team: "payments",
      imported: 2,
      skipped: 2,
      unreadable: 1,
    });
  });

  it("lets a later statement replace an earlier decision on the same vulnerability and image", async () => {
    const doc = await readJson(ours("supersede-api-cve-0003.openvex.json"));
    await app.db.delete(outbox);
    expect(await run(doc, { teamId: "payments" })).toMatchObject({ imported: 1, superseded: 1, skipped: [] });
    // payments' Home tabs are refreshed: a finding of theirs is no longer open.
    expect((await app.db.select().from(outbox)).map((i) => [i.kind, i.payload])).toEqual([
      ["home.refresh", { teamId: "payments" }],
    ]);
    const rows = (await vexRowsOf(fleet.api)).filter((r) => r.vulnerabilityId === "CVE-2024-0003");
    expect(rows.map((r) => [r.status, r.revokedAt]).sort()).toEqual([
      ["not_affected", null],
      ["under_investigation", NOW],
    ]);
    await app.db.delete(outbox);
    expect(await run(doc, { teamId: "payments" })).toMatchObject({
      imported: 0,
      unchanged: 1,
      superseded: 0,
    });
    // Nothing changed: nothing to refresh.
    expect(await app.db.select().from(outbox)).toEqual([]);
  });

  it("imports CycloneDX VEX: analysis state and justification, BOM refs and urn:cdx references", async () => {
    const summary = await run(await readJson(ours("cyclonedx-vex-api-worker.cdx.json")), {
      teamId: "payments",
    });
    expect(summary).toMatchObject({
      format: "cyclonedx",
      document: { id: "urn:uuid:6c1a8f0e-3b7e-4c55-9a55-0f3c1d2e4b7a", author: "Acme platform security" },
      statements: 3,
      imported: 2,
      skipped: [
        {
          vulnerabilityId: "CVE-2024-0009",
          product: "pkg:maven/org.example/parser@1.2.0",
          reason: expect.stringContaining("names a package (pkg:maven)"),
        },
      ],
    });
    expect((await vexRowsOf(fleet.api)).find((r) => r.vulnerabilityId === "CVE-2024-0002")).toMatchObject({
      status: "not_affected",
      justification: "code_not_reachable",
      reason: "the affected TLS renegotiation path is disabled in our build",
    });
    expect(await vexRowsOf(fleet.worker)).toEqual([
      expect.objectContaining({
        vulnerabilityId: "CVE-2024-0005",
        status: "fixed",
        reason: "patched in the worker base image",
      }),
    ]);
  });

  it("refuses a document that is not VEX, and an unknown team, without recording anything", async () => {
    const before = await app.db.select().from(riskAcceptances);
    const audits = (await app.db.select().from(auditEvents)).length;
    await expect(run({ bomFormat: "CycloneDX", components: [] })).rejects.toMatchObject({
      code: "unsupported_format",
      status: 422,
      message: expect.stringContaining('no "vulnerabilities" list'),
    });
    await expect(run([1, 2, 3])).rejects.toMatchObject({ code: "unsupported_format", status: 422 });
    await expect(
      run(await readJson(ours("copa-unversioned-context.openvex.json")), { teamId: "paymnts" }),
    ).rejects.toMatchObject({
      code: "unknown_team",
      status: 404,
      message: expect.stringContaining("payments, search"),
    });
    expect(await app.db.select().from(riskAcceptances)).toEqual(before);
    expect((await app.db.select().from(auditEvents)).length).toBe(audits);
  });
});

describe.skipIf(!existsSync(shared))(
  "importVex with VEX documents published by Trivy, Grype and CycloneDX",
  () => {
    if (!existsSync(shared)) console.warn(`skipping recorded VEX fixtures: ${shared.pathname} is absent`);

    it("applies Trivy's own OpenVEX to the two registries we know, and reports the third", async () => {
      const hub = await seedImage(app.db, { repository: "docker.io/aquasec/trivy" });
      const ghcr = await seedImage(app.db, { repository: "ghcr.io/aquasecurity/trivy", teamId: "search" });
      const summary = await run(await readJson(new URL("openvex/trivy_oci.openvex.json", shared)));
      expect(summary).toMatchObject({ format: "openvex", statements: 7, imported: 14, unreadable: 0 });
      expect(summary.skipped).toHaveLength(7);
      for (const s of summary.skipped) {
        expect(s).toMatchObject({
          product: "pkg:oci/trivy?repository_url=public.ecr.aws%2Faquasecurity%2Ftrivy",
          reason: expect.stringContaining("no known image is in public.ecr.aws/aquasecurity/trivy"),
        });
      }
      for (const imageId of [hub, ghcr]) {
        const rows = await vexRowsOf(imageId);
        expect(rows).toHaveLength(7);
        expect(rows[0]).toMatchObject({
          vulnerabilityId: "CVE-2023-42363",
          status: "not_affected",
          justification: "vulnerable_code_cannot_be_controlled_by_adversary",
          reason: "awk is not used",
        });
      }
    });

    it("matches Grype's digest-only pkg:oci products to the image scanned at that digest", async () => {
      const alpine = await seedImage(app.db, {
        repository: "docker.io/library/alpine",
        digest: "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126",
      });
      const summary = await run(await readJson(new URL("openvex/grype_openvex-demo2.openvex.json", shared)));
      expect(summary).toMatchObject({ statements: 5, imported: 5, skipped: [] });
      const statuses = (await vexRowsOf(alpine)).map((r) => [r.vulnerabilityId, r.status]);
      expect(statuses).toEqual([
        ["CVE-2023-1255", "fixed"],
        ["CVE-2023-2650", "fixed"],
        ["CVE-2023-2975", "fixed"],
        ["CVE-2023-3446", "not_affected"],
        ["CVE-2023-3817", "not_affected"],
      ]);
    });

    it.each([
      ["cyclonedx/trivy_pkg-vex-testdata.cdx-vex.json", 2, "names a package (pkg:"],
      ["openvex/defectdojo_openvex_many_vuln.openvex.json", 6, "names a package (pkg:apk)"],
      ["cyclonedx/bom-examples_Use-Case-4_vex.cdx-vex.json", 1, "is not an image reference"],
    ])(
      "imports nothing from %s, whose products are packages, and says so for each of its %i statements",
      async (file, count, reason) => {
        const summary = await run(await readJson(new URL(file, shared)));
        expect(summary).toMatchObject({ statements: count, imported: 0, unchanged: 0 });
        expect(summary.skipped).toHaveLength(count);
        for (const s of summary.skipped) expect(s.reason).toContain(reason);
      },
    );
  },
);
