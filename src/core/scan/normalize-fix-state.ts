import type { FixState } from "./normalized-report.js";

const trivyStatuses: ReadonlyMap<string, FixState> = new Map<string, FixState>([
  ["fixed", "fixed"],
  ["affected", "not_fixed"],
  ["fix_deferred", "not_fixed"],
  ["under_investigation", "not_fixed"],
  ["will_not_fix", "wont_fix"],
  ["end_of_life", "wont_fix"],
  // The vendor says the package is not affected: there is nothing to fix, and nothing we can say about a fix.
  ["not_affected", "unknown"],
  ["unknown", "unknown"],
]);

const grypeStates: ReadonlyMap<string, FixState> = new Map<string, FixState>([
  ["fixed", "fixed"],
  ["not-fixed", "not_fixed"],
  ["wont-fix", "wont_fix"],
  ["unknown", "unknown"],
]);

/**
 * When a report states no fix state, a fixed version means fixed; without one, what that means
 * depends on the scanner, so the caller says (`whenNone`).
 */
export function deriveFixState(fixedVersions: readonly string[], whenNone: FixState): FixState {
  return fixedVersions.length > 0 ? "fixed" : whenNone;
}

/**
 * Trivy's `Status`. Reports from before Trivy had it list every advisory its database knows, so
 * no fixed version there means there is none yet.
 */
export function fixStateFromTrivyStatus(status: string | null, fixedVersions: readonly string[]): FixState {
  const known = status === null ? undefined : trivyStatuses.get(status.toLowerCase());
  return known ?? deriveFixState(fixedVersions, "not_fixed");
}

/**
 * Grype's `fix.state`. An empty state comes with matches (e.g. NVD CPE matches) whose source says
 * nothing about fixes, so no version there means unknown, not unfixed.
 */
export function fixStateFromGrypeState(state: string | null, fixedVersions: readonly string[]): FixState {
  const known = state === null ? undefined : grypeStates.get(state.toLowerCase());
  return known ?? deriveFixState(fixedVersions, "unknown");
}
