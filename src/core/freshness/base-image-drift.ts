import { type SeverityCounts, severityCounts } from "../digest/severity-counts.js";
import type { Severity } from "../scan/normalized-report.js";

/** One version of a base image tag as the freshness job saw it. */
export type BaseVersion = {
  digest: string;
  diffIds: readonly string[];
  firstSeenAt: Date;
  builtAt: Date | null;
};

/** An open finding of the image, with the layer (diff id) the report says it comes from. */
export type LayeredFinding = {
  vulnerabilityId: string;
  packageName: string;
  severity: Severity;
  layerDiffId: string | null;
};

/** Whether `image`'s layers start with all of `base`'s: the image was built on that base. */
export function builtOn(imageLayers: readonly string[], baseLayers: readonly string[]): boolean {
  if (baseLayers.length === 0 || baseLayers.length > imageLayers.length) return false;
  return baseLayers.every((l, i) => imageLayers[i] === l);
}

/**
 * The base version the image was built on, among the versions seen: the one whose layers the
 * image starts with (the most layers wins, then the newest), or null when none matches.
 */
export function findBuiltOn<V extends BaseVersion>(
  imageLayers: readonly string[],
  versions: readonly V[],
): V | null {
  let best: V | null = null;
  for (const v of versions) {
    if (!builtOn(imageLayers, v.diffIds)) continue;
    if (
      best === null ||
      v.diffIds.length > best.diffIds.length ||
      (v.diffIds.length === best.diffIds.length && v.firstSeenAt > best.firstSeenAt)
    )
      best = v;
  }
  return best;
}

export type Attribution = {
  base: SeverityCounts;
  /** The base's findings themselves, to compare with the new base's own scan. */
  baseFindings: LayeredFinding[];
  app: number;
  /** No layer in the report, or no base layers known to compare with. */
  unattributed: number;
};

/**
 * Splits the image's open findings between its base image and its own (application) layers by
 * the layer each finding comes from. With no base layers known, nothing can be attributed.
 */
export function attributeFindings(
  findings: readonly LayeredFinding[],
  baseLayers: readonly string[],
): Attribution {
  const inBase = new Set(baseLayers);
  const base = severityCounts();
  const baseFindings: LayeredFinding[] = [];
  let app = 0;
  let unattributed = 0;
  for (const f of findings) {
    if (f.layerDiffId === null || inBase.size === 0) unattributed++;
    else if (inBase.has(f.layerDiffId)) {
      base[f.severity]++;
      baseFindings.push(f);
    } else app++;
  }
  return { base, baseFindings, app, unattributed };
}

/**
 * What rebuilding on the new base would fix: the image's base findings that the new base's own
 * scan no longer reports (same vulnerability in the same package), by severity.
 */
export function fixedByBump(
  baseFindings: readonly LayeredFinding[],
  newBase: readonly { vulnerabilityId: string; packageName: string }[],
): SeverityCounts {
  const still = new Set(newBase.map((f) => `${f.vulnerabilityId}\u0000${f.packageName}`));
  const fixed = severityCounts();
  const seen = new Set<string>();
  for (const f of baseFindings) {
    const key = `${f.vulnerabilityId}\u0000${f.packageName}`;
    if (still.has(key) || seen.has(key)) continue;
    seen.add(key);
    fixed[f.severity]++;
  }
  return fixed;
}

export type DriftState = "current" | "behind" | "unknown";

/**
 * Where the image stands against what its base tag points to now: built on it (current), built on
 * something else (behind), or not knowable (unknown: its scan lists no layers).
 */
export function driftState(imageLayers: readonly string[], current: BaseVersion): DriftState {
  if (imageLayers.length === 0) return "unknown";
  return builtOn(imageLayers, current.diffIds) ? "current" : "behind";
}
