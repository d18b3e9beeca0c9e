import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import type { AlertFinding } from "../../src/render/render-new-findings-alert.js";
import { renderNewFindingsAlert } from "../../src/render/render-new-findings-alert.js";
import { type BurstImage, renderNewFindingsBurst } from "../../src/render/render-new-findings-burst.js";
import type { SlackMessage } from "../../src/render/slack-message.js";
import { ampersands } from "../core/digest/digest-builders.js";
import { blockLines, messageText } from "../core/digest/message-text.js";

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
  it.each(Object.entries(sizes))(
    "fits 500 findings with 5,000-character image, package and version text (%s), and counts what it leaves out",
    (_label, text) => {
      const m = renderNewFindingsAlert({
        image: {
          name: text(5000, "api"),
          repository: `ghcr.io/acme/${text(5000, "r")}`,
          digest: `sha256:${text(5000, "d")}`,
          imageId: "img-1",
        },
        team: text(5000, "team"),
        scannedAt: new Date("2026-11-24T10:00:00Z"),
        scanner: text(5000, "trivy"),
        findings: Array.from({ length: 500 }, (_, j) => hugeFinding(`CVE-2026-${10000 + j}`, text)),
      });
      expectWithinLimits(m);
      expect(m.text).toMatch(/^🔴 500 new known-exploited or critical findings in /);
      expect(m.text).toContain("CVE-2026-10000");
      expect(m.text).toContain("and 499 more");
      const body = messageText(m.blocks);
      expect(body).toContain("|CVE-2026-10000>");
      const listed = bulletLines(body).length;
      expect(listed).toBeGreaterThanOrEqual(1);
      expect(listed + moreCount(body, /…and (\d+) more: `\/patch status /)).toBe(500);
      expect(body).toContain("[Patch now]");
    },
  );

  it("keeps a vulnerability id too long to be real from becoming a 5,000-character link", () => {
    const id = `CVE-2026-${"1".repeat(4991)}`;
    const m = renderNewFindingsAlert({
      image: { name: "api", repository: "ghcr.io/acme/api", digest: "sha256:abc", imageId: "img-1" },
      team: "payments",
      scannedAt: new Date("2026-11-24T10:00:00Z"),
      scanner: "trivy 0.58",
      findings: Array.from({ length: 500 }, () => finding({ vulnerabilityId: id })),
    });
    expectWithinLimits(m);
    expect(messageText(m.blocks)).toContain("CVE-2026-111");
    expect(messageText(m.blocks)).toContain("and 490 more");
  });

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

/** The sizing target's largest input: 5,000-character text, as plain words or as text that escapes fivefold. */
const sizes = {
  "long text": (n: number, tag: string) => `${tag}-${"x".repeat(n)}`.slice(0, n),
  "hostile text": (n: number, tag: string) => `${tag}${ampersands(n)}`.slice(0, n),
} as const;

/** A finding whose every free-text field is 5,000 characters; the id is a real one, so it must stay readable. */
const hugeFinding = (id: string, text: (n: number, tag: string) => string): AlertFinding =>
  finding({
    vulnerabilityId: id,
    packageName: text(5000, `pkg-${id}`),
    installedVersion: text(5000, "1.0"),
    fixedVersions: [text(5000, "1.1"), text(5000, "2.0")],
  });

/** "…and 15 more" → 15; 0 when the line is absent. */
const moreCount = (text: string, pattern: RegExp): number => Number(text.match(pattern)?.[1] ?? 0);
const bulletLines = (text: string): string[] => text.split("\n").filter((l) => l.startsWith("• "));

function expectWithinLimits(...messages: SlackMessage[]): void {
  for (const m of messages) expect(checkBlockKitLimits(m, "message")).toEqual([]);
}

describe("renderNewFindingsBurst: Block Kit limits at the sizing target (a team of 300 images)", () => {
  const VULNS = 25;
  const ids = Array.from({ length: VULNS }, (_, j) => `CVE-2026-${10000 + j}`);

  it.each(Object.entries(sizes))(
    "fits 300 images × 25 findings with 5,000-character names, packages and versions (%s), and loses nothing",
    (_label, text) => {
      const images = Array.from({ length: 300 }, (_, i) => ({
        ...image(
          `${text(5000, `img-${i}`)}`,
          ids.map((id) => hugeFinding(id, text)),
        ),
        imageId: `id-${i}`,
        digest: `sha256:${text(5000, "f")}`,
      }));
      const { message, thread } = renderNewFindingsBurst({
        team: text(5000, "payments"),
        images,
        windowStart: new Date("2026-11-24T10:00:00Z"),
        windowEnd: new Date("2026-11-24T10:02:00Z"),
      });
      expectWithinLimits(message, ...thread);

      // The channel message still says how big the burst is, names the first CVE, and counts the rest.
      expect(message.text).toMatch(
        /^🔴 25 new known-exploited or fixable critical vulnerabilities in 300 images/,
      );
      expect(message.text).toContain("CVE-2026-10000");
      expect(message.text).toContain("and 24 more");
      const main = messageText(message.blocks);
      expect(main).toContain("|CVE-2026-10000>");
      const listed = bulletLines(main).length;
      expect(listed).toBeGreaterThanOrEqual(1);
      expect(listed + moreCount(main, /…and (\d+) more vulnerabilities/)).toBe(VULNS);
      expect(main).toContain("and 295 more");
      expect(main).toContain("Every image, with its findings, is in the thread.");
      expect(main).toContain("· 300 images");
      expect(main).toContain("[Patch first 40 of 300]");

      // Every image is in the thread once, and each one's findings are listed or counted.
      const sections = thread.flatMap((m) => blockLines(m.blocks));
      expect(sections).toHaveLength(300);
      for (const s of sections) {
        expect(s).toContain("|CVE-2026-10000>");
        expect(s).toContain("/patch status ");
        expect(bulletLines(s).length + moreCount(s, /…and (\d+) more: /)).toBe(VULNS);
      }
      expect(
        new Set(thread.flatMap((m) => m.blocks.map((b) => JSON.stringify(b).match(/id-\d+/)?.[0]))).size,
      ).toBe(300);
    },
  );
});
