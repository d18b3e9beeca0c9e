import { expect } from "vitest";
import { digestOf, type SyntheticVuln, trivyReport } from "./report-builders.js";
import type { TestApp } from "./test-app.js";

/** Uploads a Trivy report through POST /api/v1/scans, as CI would, and expects it stored (201). */
export async function uploadScan(
  t: Pick<TestApp, "baseUrl">,
  token: string,
  scan: { image: string; digestNumber: number; vulns: SyntheticVuln[] },
): Promise<void> {
  const r = await fetch(`${t.baseUrl}/api/v1/scans`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(
      trivyReport({ image: scan.image, digest: digestOf(scan.digestNumber), vulns: scan.vulns }),
    ),
  });
  expect(r.status).toBe(201);
}
