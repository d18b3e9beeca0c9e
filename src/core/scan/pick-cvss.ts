export type CvssCandidate = { version: string | null; score: number | null; vector: string | null };

export type Cvss = { score: number | null; vector: string | null };

/**
 * The CVSS to show for a finding, from candidates in the caller's order of source preference.
 * Version 3 wins over 4 and 2: it is what every scanner and feed carries, so scores of the same
 * vulnerability from two scanners stay comparable.
 */
export function pickCvss(candidates: readonly CvssCandidate[]): Cvss {
  let best: Cvss | null = null;
  let bestRank = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const score = c.score !== null && c.score >= 0 && c.score <= 10 ? c.score : null;
    if (score === null && c.vector === null) continue;
    const rank = versionRank(c.version, c.vector);
    if (rank < bestRank) {
      best = { score, vector: c.vector };
      bestRank = rank;
    }
  }
  return best ?? { score: null, vector: null };
}

function versionRank(version: string | null, vector: string | null): number {
  const major = majorVersion(version, vector);
  if (major === "3") return 0;
  if (major === "4") return 1;
  if (major === "2") return 2;
  return 3;
}

function majorVersion(version: string | null, vector: string | null): string | null {
  if (version !== null) return version.replace(/^v/i, "").charAt(0);
  if (vector === null) return null;
  const prefixed = /^CVSS:(\d)/.exec(vector);
  if (prefixed) return prefixed[1] ?? null;
  // v2 vectors never carry a "CVSS:x.y/" prefix; some tools drop it from v3 ones too.
  if (/(^|\/)Au:[MSN](\/|$)/.test(vector)) return "2";
  return /(^|\/)PR:[NLH](\/|$)/.test(vector) ? "3" : null;
}
