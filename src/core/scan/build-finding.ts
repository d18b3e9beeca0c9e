import { fingerprintFinding } from "./fingerprint-finding.js";
import type { NormalizedFinding } from "./normalized-report.js";

export type FindingDraft = Omit<NormalizedFinding, "fingerprint">;

/** A finding with its fingerprint, aliases without the primary id, and no repeated versions. */
export function buildFinding(draft: FindingDraft): NormalizedFinding {
  const aliases = [...new Set(draft.aliases)].filter((a) => a !== draft.vulnerabilityId);
  const fixedVersions = [...new Set(draft.fixedVersions)];
  return { ...draft, aliases, fixedVersions, fingerprint: fingerprintFinding(draft) };
}
