import { hash } from "node:crypto";
import type { NormalizedFinding } from "./normalized-report.js";

export type FingerprintFields = Pick<
  NormalizedFinding,
  "vulnerabilityId" | "packageName" | "installedVersion" | "packagePath" | "packageType"
>;

/**
 * What makes a finding the same finding in the next scan: the vulnerability in one installed copy
 * of a package. The path is part of it, so two copies of a jar are two findings to fix.
 */
export function fingerprintFinding(f: FingerprintFields): string {
  // A JSON array, not a joined string: no separator can make two different findings collide.
  const key = JSON.stringify([
    f.vulnerabilityId,
    f.packageName,
    f.installedVersion,
    f.packagePath,
    f.packageType,
  ]);
  return hash("sha256", key, "hex");
}
