import type { Button, KnownBlock } from "@slack/types";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TeamDigest } from "../../src/core/digest/team-digest.js";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderDigest } from "../../src/render/render-digest.js";
import { registryUrl } from "../../src/render/render-links.js";
import type { SlackMessage } from "../../src/render/slack-message.js";
import {
  acceptedRisk,
  awaitingRollout,
  counts,
  daysFromNow,
  hostileDigest,
  largestDigest,
  namedImage,
  paymentsDigest,
  quietDigest,
  riskRow,
  slaBreach,
} from "../core/digest/digest-builders.js";
import { blockLines, messageText } from "../core/digest/message-text.js";

function buttons(blocks: readonly KnownBlock[]): Button[] {
  return blocks.flatMap((b) => {
    if (b.type === "section" && b.accessory?.type === "button") return [b.accessory];
    if (b.type === "actions") return b.elements.filter((e): e is Button => e.type === "button");
    return [];
  });
}

function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (typeof value !== "object" || value === null) return [];
  const own = "type" in value && value.type === "mrkdwn" && "text" in value && typeof value.text === "string";
  return [...(own ? [String(value.text)] : []), ...Object.values(value).flatMap(mrkdwnTexts)];
}

const everyMessage = (r: { main: SlackMessage; thread: SlackMessage[] }) => [r.main, ...r.thread];

/** The full digest: every optional section present. */
const fullDigest = (over: Partial<TeamDigest> = {}) =>
  paymentsDigest({
    baseImagesMoved: [
      {
        baseImage: "node:22-bookworm-slim",
        images: ["payments-api", "ledger-worker", "refunds-api"],
        fixes: counts({ critical: 2, high: 5 }),
      },
    ],
    unownedImages: [
      { repository: "docker.io/library/redis", open: counts({ high: 3 }), lastScanAt: daysFromNow(-4) },
    ],
    chartAttached: true,
    ...over,
  });

describe("renderDigest: the channel message", () => {
  it("says the same as its blocks in a one-line fallback", () => {
    expect(renderDigest(paymentsDigest()).main.text).toBe(
      "Patch digest · payments · week 48: 4 critical (▼2), 17 high (▲3), 2 past SLA, 5 due within 7 days. " +
        "Needs a decision: 1 rollout awaiting approval, 1 SLA breach.",
    );
  });

  it("leads with the team's numbers and their change since the last digest", () => {
    const lines = blockLines(renderDigest(paymentsDigest()).main.blocks);
    expect(lines.slice(0, 3)).toEqual([
      "Patch digest · payments · week 48",
      "🔴 *4 critical* (▼2)  🟠 *17 high* (▲3)  ·  *2 past SLA*  ·  5 due within 7 days\n" +
        "new since last digest 🟠 3 🟡 2 · 22 fixable · 3 accepted",
      "─────",
    ]);
  });

  it.each<[string, Partial<TeamDigest>, string]>([
    ["no previous digest: no change shown", { previousOpen: null }, "🔴 *4 critical*  🟠 *17 high*  ·"],
    [
      "no change: no arrow",
      { previousOpen: counts({ critical: 4, high: 17 }) },
      "🔴 *4 critical*  🟠 *17 high*  ·",
    ],
    [
      "more critical, fewer high",
      { previousOpen: counts({ critical: 1, high: 20 }) },
      "🔴 *4 critical* (▲3)  🟠 *17 high* (▼3)  ·",
    ],
    [
      "nothing past SLA or due soon",
      { breached: 0, dueSoon: 0, slaBreaches: [] },
      "🔴 *4 critical* (▼2)  🟠 *17 high* (▲3)  ·  none past SLA\n",
    ],
  ])("headline with %s", (_label, over, start) => {
    expect(blockLines(renderDigest(paymentsDigest(over)).main.blocks)[1]).toMatch(
      new RegExp(`^${start.replace(/[*()▲▼·]/g, "\\$&")}`),
    );
  });

  it("puts the sections in the order of MESSAGES.md, metadata last", () => {
    const { blocks } = renderDigest(fullDigest()).main;
    const lines = blockLines(blocks);
    const order = [
      "Patch digest · payments",
      "🔴 *4 critical*",
      "*Needs a decision*",
      "• <https://ghcr.io/acme/payments-api|payments-api> · rollout #218",
      "• 🔴 <https://nvd.nist.gov/vuln/detail/CVE-2026-1234|CVE-2026-1234>",
      "*Top risk*",
      "*Base images that moved*",
      "*Shipped in week 48:*",
      "*Accepted risks expiring within 14 days*",
      "*Images nobody owns*",
      "📈 Trend chart in the thread",
      "Scanned 14 images",
    ].map((start) => lines.findIndex((l) => l.startsWith(start)));
    expect(order).not.toContain(-1);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(blocks.at(-1)?.type).toBe("context");
  });

  it("shows what a reader needs in each section", () => {
    const text = messageText(renderDigest(fullDigest()).main.blocks);
    for (const line of [
      "• <https://ghcr.io/acme/payments-api|payments-api> · rollout #218 · *canary* awaiting 1 approval from <!subteam^S0PAY> · fixes 🔴 3 🟠 6\n_base image bump node:22.10 → 22.11_   [Review rollout]",
      "• 🔴 <https://nvd.nist.gov/vuln/detail/CVE-2026-1234|CVE-2026-1234> in <https://ghcr.io/acme/ledger-worker|ledger-worker> · openssl · *known exploited* · past SLA by 2 days (due <!date^1795338000^{date_short_pretty}|2026-11-22>)\n_openssl: heap overflow in X.509 name checks_   [Patch now]",
      "1. <https://ghcr.io/acme/ledger-worker|ledger-worker> — 🔴 2 🟠 5 · *1 known exploited* · 1 past SLA · 6 fixable · base image 41 days behind",
      "2. <https://ghcr.io/acme/payments-api|payments-api> — 🔴 2 🟠 8 · 9 fixable · rollout #218 waiting for canary approval",
      "3. <https://ghcr.io/acme/refunds-api|refunds-api> — 🟠 4 🟡 3 · 2 fixable",
      "• `node:22-bookworm-slim` — 3 images (payments-api, ledger-worker, refunds-api) · a rebuild fixes 🔴 2 🟠 5",
      "*Shipped in week 48:* 3 patches · fixed 🔴 4 🟠 7 · mean time to remediate critical 4 d",
      "• <https://nvd.nist.gov/vuln/detail/CVE-2025-9999|CVE-2025-9999> in <https://ghcr.io/acme/search-api|search-api> until <!date^1796202000^{date_short_pretty}|2026-12-02> (by <@U0SAM>: “not reachable, no TLS server”)",
      "• <https://hub.docker.com/_/redis|docker.io/library/redis> — 🟠 3 · last scan <!date^1795165200^{date_short_pretty}|2026-11-20>",
      "Scanned 14 images · last scan <!date^1795503600^{ago}|2026-11-24> · `/patch status payments` for more",
    ]) {
      expect(text).toContain(line);
    }
    // An image with nothing critical or high is not "top risk".
    expect(text).not.toContain("docs-site");
  });

  it("says so when nothing needs a decision", () => {
    const r = renderDigest(paymentsDigest({ rolloutsAwaitingApproval: [], slaBreaches: [] }));
    expect(blockLines(r.main.blocks)[3]).toBe("*Nothing needs a decision.*");
    expect(r.main.text).toMatch(/\. Nothing needs a decision\.$/);
    expect(buttons(r.main.blocks)).toEqual([]);
  });

  it.each<[string, Partial<TeamDigest>, boolean]>([
    ["shown when the chart is uploaded", { chartAttached: true }, true],
    ["left out when it is not", { chartAttached: false }, false],
  ])("trend chart line %s", (_label, over, shown) => {
    expect(
      messageText(renderDigest(paymentsDigest(over)).main.blocks).includes("📈 Trend chart in the thread"),
    ).toBe(shown);
  });

  it("leaves out empty optional sections", () => {
    const text = messageText(renderDigest(paymentsDigest({ expiringAcceptances: [] })).main.blocks);
    expect(text).not.toContain("Base images that moved");
    expect(text).not.toContain("Images nobody owns");
    expect(text).not.toContain("expiring");
  });

  it("names a shipped week with no patches, rather than hiding it", () => {
    const shipped = { count: 0, fixed: counts(), meanTimeToRemediateCriticalMs: null };
    expect(messageText(renderDigest(paymentsDigest({ shipped })).main.blocks)).toContain(
      "*Shipped in week 48:* no patches",
    );
  });
});

describe("renderDigest: buttons", () => {
  it("reviews a rollout and patches a breach, with the ids in the value", () => {
    const found = buttons(renderDigest(paymentsDigest()).main.blocks).map((b) => ({
      text: b.text.text,
      actionId: b.action_id,
      value: JSON.parse(b.value ?? "null"),
      style: b.style,
    }));
    expect(found).toEqual([
      {
        text: "Review rollout",
        actionId: "digest_review_rollout",
        value: { rolloutId: 218, stage: "canary" },
        style: "primary",
      },
      {
        text: "Patch now",
        actionId: "digest_patch_now",
        value: { imageId: "id-ledger-worker", vulnerabilityId: "CVE-2026-1234" },
        style: undefined,
      },
    ]);
  });

  it("makes the first Patch now primary when no rollout waits", () => {
    const r = renderDigest(
      paymentsDigest({ rolloutsAwaitingApproval: [], slaBreaches: [slaBreach(), slaBreach()] }),
    );
    expect(buttons(r.main.blocks).map((b) => b.style)).toEqual(["primary", undefined]);
  });

  it("offers no Patch now for a breach with no fix, and says how to accept it", () => {
    const r = renderDigest(paymentsDigest({ slaBreaches: [slaBreach({ fixable: false })] }));
    expect(buttons(r.main.blocks).map((b) => b.action_id)).toEqual(["digest_review_rollout"]);
    expect(messageText(r.main.blocks)).toContain(
      'Mitigate it, or `/patch accept CVE-2026-1234 ledger-worker --until YYYY-MM-DD --reason "…"`',
    );
  });

  it("has at most one primary button in any message", () => {
    const digest = fc.record({
      rollouts: fc.integer({ min: 0, max: 12 }),
      breaches: fc.integer({ min: 0, max: 12 }),
      fixable: fc.boolean(),
    });
    fc.assert(
      fc.property(digest, ({ rollouts, breaches, fixable }) => {
        const r = renderDigest(
          paymentsDigest({
            rolloutsAwaitingApproval: Array.from({ length: rollouts }, (_, i) =>
              awaitingRollout({ rolloutId: i }),
            ),
            slaBreaches: Array.from({ length: breaches }, () => slaBreach({ fixable })),
          }),
        );
        for (const m of everyMessage(r)) {
          expect(buttons(m.blocks).filter((b) => b.style === "primary").length).toBeLessThanOrEqual(1);
        }
        const anyButton = rollouts > 0 || (breaches > 0 && fixable);
        expect(buttons(r.main.blocks).filter((b) => b.style === "primary").length).toBe(anyButton ? 1 : 0);
      }),
      { numRuns: 40 },
    );
  });
});

describe("renderDigest: a quiet week", () => {
  it("is the one-line heartbeat, still posted", () => {
    const r = renderDigest(quietDigest());
    expect(r.main.text).toBe(
      "Patch digest · payments · week 49 — nothing new. 0 critical, 3 high within SLA; 1 accepted risk expires on 2026-12-02.",
    );
    expect(blockLines(r.main.blocks)).toEqual([
      "*Patch digest · payments · week 49* — nothing new. 0 critical, 3 high within SLA; 1 accepted risk expires <!date^1796202000^{date_short_pretty}|2026-12-02>.",
      "Scanned 14 images · last scan <!date^1795503600^{ago}|2026-11-24> · `/patch status payments` for more",
    ]);
    expect(r.thread).toEqual([]);
  });

  it.each<[string, Partial<TeamDigest>, string]>([
    ["nothing else to say", { expiringAcceptances: [] }, "0 critical, 3 high within SLA."],
    [
      "several acceptances running out",
      { expiringAcceptances: [acceptedRisk({ until: daysFromNow(3) }), acceptedRisk()] },
      "0 critical, 3 high within SLA; 2 accepted risks expire within 14 days, the first on 2026-11-27.",
    ],
    [
      "findings due soon, patches shipped and an unowned image",
      {
        expiringAcceptances: [],
        dueSoon: 2,
        shipped: { count: 1, fixed: counts({ high: 1 }), meanTimeToRemediateCriticalMs: null },
        unownedImages: [{ repository: "docker.io/library/redis", open: counts(), lastScanAt: null }],
      },
      "0 critical, 3 high within SLA (2 due within 7 days); 1 patch shipped; 1 image has no owning team.",
    ],
  ])("names %s", (_label, over, tail) => {
    expect(renderDigest(quietDigest(over)).main.text).toBe(
      `Patch digest · payments · week 49 — nothing new. ${tail}`,
    );
  });

  it("is the full digest as soon as one new finding appears", () => {
    const r = renderDigest(quietDigest({ newSinceLast: counts({ medium: 1 }) }));
    expect(r.main.text).not.toContain("nothing new");
    expect(blockLines(r.main.blocks)[0]).toBe("Patch digest · payments · week 49");
  });

  it("says when no scan ever came, so silence is not mistaken for health", () => {
    const r = renderDigest(quietDigest({ lastScanAt: null, scannedImages: 0 }));
    expect(blockLines(r.main.blocks)[1]).toBe(
      "Scanned 0 images · no scans yet · `/patch status payments` for more",
    );
  });
});

describe("renderDigest: long lists go to the thread", () => {
  const seven = paymentsDigest({
    rolloutsAwaitingApproval: Array.from({ length: 7 }, (_, i) => awaitingRollout({ rolloutId: 300 + i })),
    slaBreaches: Array.from({ length: 7 }, (_, i) => slaBreach({ vulnerabilityId: `CVE-2026-${2000 + i}` })),
    topImages: Array.from({ length: 8 }, (_, i) => riskRow(`api-${i}`, { high: i + 1 })),
  });

  it("keeps five of each in the channel and says how many more are in the thread", () => {
    const { main } = renderDigest(seven);
    const text = messageText(main.blocks);
    expect(buttons(main.blocks).map((b) => b.action_id)).toEqual([
      ...Array(5).fill("digest_review_rollout"),
      ...Array(5).fill("digest_patch_now"),
    ]);
    expect(text).toContain("…and 2 more rollouts awaiting approval in the thread");
    expect(text).toContain("…and 2 more SLA breaches in the thread");
    expect(text).toContain("5. <https://ghcr.io/acme/api-3|api-3>");
    expect(text).toContain("…and 3 more images in the thread");
    expect(text).not.toContain("6. ");
  });

  it("puts the full lists in the thread, titled, without notifying approvers again", () => {
    const { thread } = renderDigest(seven);
    expect(thread.map((m) => m.text)).toEqual([
      "Patch digest · payments · week 48 — all 7 rollouts awaiting approval",
      "Patch digest · payments · week 48 — all 7 SLA breaches",
      "Patch digest · payments · week 48 — all 8 images by risk",
    ]);
    const [rollouts, breaches, images] = thread.map((m) => messageText(m.blocks));
    expect(rollouts?.match(/\[Review rollout\]/g)).toHaveLength(7);
    expect(rollouts).not.toContain("<!subteam^");
    expect(breaches?.match(/^• 🔴 /gm)).toHaveLength(7);
    expect(images).toContain("8. <https://ghcr.io/acme/api-0|api-0> — 🟠 1");
    for (const m of thread) expect(buttons(m.blocks).some((b) => b.style === "primary")).toBe(false);
  });
});

describe("renderDigest: links and escaping", () => {
  it.each([
    ["ghcr.io/acme/payments-api", "https://ghcr.io/acme/payments-api"],
    ["docker.io/library/node", "https://hub.docker.com/_/node"],
    ["docker.io/bitnami/redis", "https://hub.docker.com/r/bitnami/redis"],
    ["quay.io/prometheus/node-exporter", "https://quay.io/prometheus/node-exporter"],
    ["localhost:5000/team/app", "https://localhost:5000/team/app"],
    ["node", null],
    ["ghcr.io/acme/App", null],
    ["ghcr.io/acme/a|b>", null],
    ["javascript:alert(1)", null],
  ])("links %s to %s", (repository, url) => {
    expect(registryUrl(repository)).toBe(url);
  });

  it("clips long names on a character, never inside an emoji", () => {
    const packageName = `${"a".repeat(58)}😀${"b".repeat(10)}`;
    const r = renderDigest(paymentsDigest({ slaBreaches: [slaBreach({ packageName })] }));
    expect(messageText(r.main.blocks)).toContain(` · ${"a".repeat(58)}… · *known exploited*`);
  });

  it("links ids that have no advisory page nowhere, and shows them escaped", () => {
    const r = renderDigest(
      paymentsDigest({ slaBreaches: [slaBreach({ vulnerabilityId: "DLA-1234-1 <x>" })] }),
    );
    expect(messageText(r.main.blocks)).toContain(
      "• 🔴 DLA-1234-1 &lt;x&gt; in <https://ghcr.io/acme/ledger-worker|",
    );
  });

  it("never lets a name, reason or title become a mention or a link", () => {
    const evil = "<!channel> <http://evil.example|click> & *bold*";
    const r = renderDigest(
      fullDigest({
        team: { id: "payments", name: evil },
        rolloutsAwaitingApproval: [awaitingRollout({ reason: evil, stage: evil, approverGroupId: evil })],
        slaBreaches: [slaBreach({ title: evil, packageName: evil, image: namedImage(evil, evil) })],
        expiringAcceptances: [acceptedRisk({ reason: evil, acceptedBy: evil, acceptedByName: null })],
        unownedImages: [{ repository: evil, open: counts({ high: 1 }), lastScanAt: null }],
      }),
    );
    // Plain-text objects (the header) show text as typed; only mrkdwn and the fallback are parsed.
    for (const m of everyMessage(r)) {
      for (const text of [m.text, ...mrkdwnTexts(m.blocks)]) {
        expect(text).not.toContain("<!channel>");
        expect(text).not.toContain("<http://evil");
      }
    }
    expect(r.main.text).toContain(
      "Patch digest · &lt;!channel&gt; &lt;http://evil.example|click&gt; &amp; *bold* · week 48",
    );
  });
});

describe("renderDigest: Block Kit limits at the sizing target", () => {
  it.each([
    ["the largest team (300 images, 200 SLA breaches, 50 rollouts, 5,000-character titles)", largestDigest],
    ["the largest team with hostile text in every field", hostileDigest],
  ])("fits %s in the channel message and every thread reply", (_label, build) => {
    const r = renderDigest(build());
    for (const m of everyMessage(r)) expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(r.main.text).not.toContain("<!channel>");
  });

  it("still leads with several decisions for the largest team, and loses nothing", () => {
    const d = largestDigest();
    const r = renderDigest(d);
    expect(
      buttons(r.main.blocks).filter((b) => b.action_id === "digest_review_rollout").length,
    ).toBeGreaterThanOrEqual(3);
    const thread = r.thread.map((m) => messageText(m.blocks)).join("\n");
    expect(thread.match(/\[Review rollout\]/g)).toHaveLength(50);
    for (const b of d.slaBreaches) expect(thread).toContain(`|${b.vulnerabilityId}>`);
    const risky = d.topImages.filter((row) => row.critical + row.high + row.knownExploited > 0);
    expect(risky.length).toBeGreaterThan(200);
    for (const row of risky) expect(thread).toContain(`|${row.name}> — `);
    expect(r.thread.length).toBeGreaterThan(3);
  });

  it("fits any mix of list sizes and text", () => {
    const text = fc.string({ maxLength: 400, unit: "grapheme" });
    const digest = fc.record({
      rollouts: fc.integer({ min: 0, max: 60 }),
      breaches: fc.integer({ min: 0, max: 220 }),
      images: fc.integer({ min: 0, max: 320 }),
      name: text,
      reason: text,
    });
    fc.assert(
      fc.property(digest, ({ rollouts, breaches, images, name, reason }) => {
        const image = namedImage(`${name}x`, "ghcr.io/acme/app");
        const r = renderDigest(
          paymentsDigest({
            team: { id: name, name },
            rolloutsAwaitingApproval: Array.from({ length: rollouts }, (_, i) =>
              awaitingRollout({ rolloutId: i, reason, image }),
            ),
            slaBreaches: Array.from({ length: breaches }, () => slaBreach({ title: reason, image })),
            topImages: Array.from({ length: images }, (_, i) => riskRow(`${name}${i}`, { high: 1 })),
          }),
        );
        for (const m of everyMessage(r)) expect(checkBlockKitLimits(m, "message")).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });
});
