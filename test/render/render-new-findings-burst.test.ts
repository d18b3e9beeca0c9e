import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import type { AlertFinding } from "../../src/render/render-new-findings-alert.js";
import { renderNewFindingsAlert } from "../../src/render/render-new-findings-alert.js";
import { type BurstImage, renderNewFindingsBurst } from "../../src/render/render-new-findings-burst.js";

const finding = (over: Partial<AlertFinding> = {}): AlertFinding => ({
  vulnerabilityId: "CVE-2026-4242",
  packageName: "libexpat",
  installedVersion: "2.5.0",
  fixedVersions: ["2.6.3"],
  severity: "critical",
  knownExploited: true,
  cvssScore: 9.8,
  dueAt: new Date("2026-12-01T00:00:00Z"),
  ...over,
});
const image = (name: string, findings: AlertFinding[] = [finding()]): BurstImage => ({
  imageId: `id-${encodeURIComponent(name)}`,
  name,
  repository: `ghcr.io/acme/${name}`,
  digest: `sha256:${"a".repeat(64)}`,
  findings,
});
const burst = (images: BurstImage[]) =>
  renderNewFindingsBurst({
    team: "payments",
    images,
    windowStart: new Date("2026-11-24T10:00:00Z"),
    windowEnd: new Date("2026-11-24T10:02:00Z"),
  });

describe("renderNewFindingsBurst", () => {
  it("reads like MESSAGES.md for one CVE in three images, without a thread", () => {
    const { message, thread } = burst(["payments-api", "ledger-worker", "refunds-api"].map((n) => image(n)));
    expect(message.text).toBe(
      "🔴 New known-exploited critical in 3 images owned by payments: CVE-2026-4242 in libexpat",
    );
    const body = JSON.stringify(message.blocks);
    expect(body).toContain("libexpat 2.5.0 → fixed in 2.6.3 · CVSS 9.8");
    expect(body).toContain("payments-api, ledger-worker, refunds-api");
    // One button starts a rollout of each of the three images.
    expect(body).toContain('"text":"Patch all 3"');
    expect(body).toContain(
      JSON.stringify(JSON.stringify({ imageIds: ["id-payments-api", "id-ledger-worker", "id-refunds-api"] })),
    );
    expect(thread).toEqual([]);
  });

  it("leads with the known-exploited vulnerability and counts the rest", () => {
    const { message } = burst([
      image("a", [finding({ vulnerabilityId: "CVE-2026-0001", knownExploited: false })]),
      image("b", [finding({ vulnerabilityId: "CVE-2026-0002" })]),
    ]);
    expect(message.text).toBe(
      "🔴 2 new known-exploited or fixable critical vulnerabilities in 2 images owned by payments: CVE-2026-0002 in libexpat and 1 more",
    );
  });

  it("escapes names from scans and config, in blocks and in the fallback", () => {
    const { message, thread } = burst(
      Array.from({ length: 7 }, (_, i) => image(`<!channel>${i}`, [finding({ packageName: "<@U1>" })])),
    );
    for (const m of [message, ...thread]) {
      // Only our own date tokens may open with "<!".
      expect(m.text).not.toMatch(/<[!@](?!date\^)/);
      expect(JSON.stringify(m.blocks)).not.toMatch(/<[!@](?!date\^)/);
    }
  });

  it("puts every image once in thread replies that stay within Block Kit limits", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 15 }),
        fc.string({ maxLength: 120 }),
        (n, perImage, pkg) => {
          const images = Array.from({ length: n }, (_, i) =>
            image(
              `image-${i}`,
              Array.from({ length: perImage }, (_, j) =>
                finding({ vulnerabilityId: `CVE-2026-${1000 + j}`, packageName: `${pkg}${j}` }),
              ),
            ),
          );
          const { message, thread } = burst(images);
          expect(checkBlockKitLimits(message, "message")).toEqual([]);
          for (const reply of thread) expect(checkBlockKitLimits(reply, "message")).toEqual([]);
          const detail = thread.map((m) => JSON.stringify(m.blocks)).join("\n");
          if (n > 5 || perImage > 5) {
            for (let i = 0; i < n; i++) expect(detail.split(`*image-${i}*`)).toHaveLength(2);
          } else {
            expect(thread).toEqual([]);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("renderNewFindingsAlert", () => {
  it("carries a Patch now button for the most urgent finding and an escaped fallback", () => {
    const m = renderNewFindingsAlert({
      image: { name: "<!here>api", repository: "ghcr.io/acme/api", digest: "sha256:abc", imageId: "img-1" },
      team: "payments",
      scannedAt: new Date("2026-11-24T10:00:00Z"),
      scanner: "trivy 0.58",
      findings: [finding()],
    });
    expect(m.text).toBe(
      "🔴 1 new known-exploited or critical finding in &lt;!here&gt;api (team payments): CVE-2026-4242 in libexpat",
    );
    expect(JSON.stringify(m.blocks)).toContain('"action_id":"digest_patch_now"');
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
  });
});
