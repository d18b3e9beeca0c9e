import { z } from "zod";
import { optional, optionalNumber, optionalText } from "./lenient.js";
import { normalizeSeverity } from "./normalize-severity.js";
import type { Severity } from "./normalized-report.js";
import { type CvssCandidate, pickCvss } from "./pick-cvss.js";

export const ratingSchema = z.object({
  source: optional(z.object({ name: optionalText, url: optionalText })),
  score: optionalNumber,
  severity: optionalText,
  method: optionalText,
  vector: optionalText,
});

type Rating = z.output<typeof ratingSchema>;

export type RatingsSummary = {
  severity: Severity;
  cvssScore: number | null;
  cvssVector: string | null;
  epss: number | null;
  knownExploited: boolean;
};

/**
 * What a CycloneDX vulnerability's `ratings[]` say. Producers put everything there: one rating per
 * vendor (Trivy), and EPSS and CISA KEV as extra ratings with method "other" (Grype).
 */
export function readRatings(ratings: readonly Rating[], vulnerabilitySource: string | null): RatingsSummary {
  const own = vulnerabilitySource?.toLowerCase() ?? null;
  const cvss = pickCvss(byPreference(ratings, own).map(toCandidate));
  return {
    severity: severityOf(ratings, own),
    cvssScore: cvss.score,
    cvssVector: cvss.vector,
    epss: epssOf(ratings),
    knownExploited: ratings.some(isKevRating),
  };
}

/**
 * The rating from the vulnerability's own source (the one the scanner trusts for it, as Trivy
 * picks its vendor's), else the first rating that has a severity.
 */
function severityOf(ratings: readonly Rating[], own: string | null): Severity {
  const rated = ratings
    .map((r) => ({ source: sourceName(r), severity: normalizeSeverity(r.severity) }))
    .filter((r) => r.severity !== "unknown");
  return (rated.find((r) => own !== null && r.source === own) ?? rated[0])?.severity ?? "unknown";
}

/** The vulnerability's own source first, then NVD, as Trivy's JSON picks its CVSS. */
function byPreference(ratings: readonly Rating[], own: string | null): Rating[] {
  const rank = (r: Rating) => {
    const source = sourceName(r);
    if (source !== null && source === own) return 0;
    return source === "nvd" ? 1 : 2;
  };
  return [...ratings].sort((a, b) => rank(a) - rank(b));
}

const methodVersions: ReadonlyMap<string, string> = new Map([
  ["cvssv2", "2"],
  ["cvssv3", "3"],
  ["cvssv31", "3"],
  ["cvssv4", "4"],
]);

function toCandidate(r: Rating): CvssCandidate {
  const version = r.method === null ? null : (methodVersions.get(r.method.toLowerCase()) ?? null);
  // Ratings without a CVSS method (EPSS, KEV, vendor words) carry scores that are not CVSS.
  if (version === null) return { version: null, score: null, vector: null };
  return { version, score: r.score, vector: r.vector };
}

function epssOf(ratings: readonly Rating[]): number | null {
  const rating = ratings.find(
    (r) =>
      r.method?.toLowerCase() === "other" &&
      (r.source?.name === "FIRST" || (r.source?.url ?? "").includes("epss")),
  );
  const score = rating?.score ?? null;
  return score !== null && score >= 0 && score <= 1 ? score : null;
}

function isKevRating(r: Rating): boolean {
  return (
    /\bKEV\b/i.test(r.source?.name ?? "") || (r.source?.url ?? "").includes("known-exploited-vulnerabilities")
  );
}

function sourceName(r: Rating): string | null {
  return r.source?.name?.toLowerCase() ?? null;
}
