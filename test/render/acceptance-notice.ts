/** An acceptance notice (expiring or expired) of one image, for the renderers' tests. */
export const notice = {
  channel: "C0SEARCH",
  teamId: "search",
  vulnerabilityId: "CVE-2025-9999",
  image: "ghcr.io/acme/search-api",
  acceptedBy: "U0SAM",
  acceptedByName: "sam",
  reason: "not reachable <!channel>",
  expiredAt: new Date("2026-12-02T00:00:00Z"),
};
