import { eq } from "drizzle-orm";
import type { Severity } from "../../../src/core/scan/normalized-report.js";
import type { Db } from "../../../src/db/client.js";
import { findings, images, scans, teams } from "../../../src/db/schema/index.js";

export const API_DIGEST = `sha256:${"a".repeat(64)}`;
export const WORKER_DIGEST = `sha256:${"c".repeat(64)}`;
export const NODE_DIGEST = `sha256:${"b".repeat(64)}`;

type SeedFinding = { id: string; severity: Severity; aliases?: string[] };

/** One image with one scan (its latest) holding the given findings; returns the image id. */
export async function seedImage(
  db: Db,
  image: {
    repository: string;
    configId?: string;
    teamId?: string;
    digest?: string;
    findings?: SeedFinding[];
  },
): Promise<string> {
  const [row] = await db
    .insert(images)
    .values({ repository: image.repository, configId: image.configId ?? null, teamId: image.teamId ?? null })
    .returning({ id: images.id });
  if (!row) throw new Error("image insert returned nothing");
  if (image.digest === undefined) return row.id;
  const list = image.findings ?? [];
  const [scan] = await db
    .insert(scans)
    .values({
      imageId: row.id,
      digest: image.digest,
      format: "trivy",
      scannerName: "trivy",
      contentHash: `${image.repository}:${image.digest}`,
      findingCount: list.length,
      diff: {
        new: list.length,
        fixed: 0,
        unchanged: 0,
        newBySeverity: counts(list),
        fixedBySeverity: counts([]),
      },
    })
    .returning({ id: scans.id });
  if (!scan) throw new Error("scan insert returned nothing");
  if (list.length > 0) {
    await db.insert(findings).values(
      list.map((f) => ({
        scanId: scan.id,
        fingerprint: `${f.id}:openssl`,
        vulnerabilityId: f.id,
        aliases: f.aliases ?? [],
        packageName: "openssl",
        fixState: "fixed",
        severity: f.severity,
      })),
    );
  }
  await db
    .update(images)
    .set({ latestScanId: scan.id, latestDigest: image.digest })
    .where(eq(images.id, row.id));
  return row.id;
}

function counts(list: SeedFinding[]): Record<Severity, number> {
  const c: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0, negligible: 0, unknown: 0 };
  for (const f of list) c[f.severity]++;
  return c;
}

/**
 * Two teams and four images:
 * - api (payments): CVE-2024-0001 critical (alias GHSA-aaaa-bbbb-cccc), -0002 high, -0003 medium, -0004 low
 * - worker (payments): CVE-2024-0002 critical, CVE-2024-0005 high
 * - search (search): CVE-2024-0001 high
 * - docker.io/library/node (unowned): CVE-2024-0006 high
 */
export async function seedRiskFleet(db: Db) {
  await db.insert(teams).values([
    { id: "payments", name: "Payments", channel: "C0PAYMENTS" },
    { id: "search", name: "Search", channel: "C0SEARCH" },
  ]);
  const api = await seedImage(db, {
    repository: "ghcr.io/acme/api",
    configId: "api",
    teamId: "payments",
    digest: API_DIGEST,
    findings: [
      { id: "CVE-2024-0001", severity: "critical", aliases: ["GHSA-aaaa-bbbb-cccc"] },
      { id: "CVE-2024-0002", severity: "high" },
      { id: "CVE-2024-0003", severity: "medium" },
      { id: "CVE-2024-0004", severity: "low" },
    ],
  });
  const worker = await seedImage(db, {
    repository: "ghcr.io/acme/worker",
    configId: "worker",
    teamId: "payments",
    digest: WORKER_DIGEST,
    findings: [
      { id: "CVE-2024-0002", severity: "critical" },
      { id: "CVE-2024-0005", severity: "high" },
    ],
  });
  const search = await seedImage(db, {
    repository: "ghcr.io/acme/search",
    configId: "search",
    teamId: "search",
    digest: `sha256:${"d".repeat(64)}`,
    findings: [{ id: "CVE-2024-0001", severity: "high" }],
  });
  const node = await seedImage(db, {
    repository: "docker.io/library/node",
    digest: NODE_DIGEST,
    findings: [{ id: "CVE-2024-0006", severity: "high" }],
  });
  return { api, worker, search, node };
}
