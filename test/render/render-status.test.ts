import type { Button, KnownBlock } from "@slack/types";
import { describe, expect, it } from "vitest";
import type { ImageStatus } from "../../src/core/digest/image-status.js";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderStatus } from "../../src/render/render-status.js";
import { renderStatusNotFound } from "../../src/render/render-status-not-found.js";
import { renderTeamStatus } from "../../src/render/render-team-status.js";
import { renderTeamsStatus } from "../../src/render/render-teams-status.js";
import {
  acceptedRisk,
  ampersands,
  counts,
  daysFromNow,
  namedImage,
  paymentsApiStatus,
  riskRow,
  teamStatus,
} from "../core/digest/digest-builders.js";
import { blockLines, messageText } from "../core/digest/message-text.js";

function buttons(blocks: readonly KnownBlock[]): Button[] {
  return blocks.flatMap((b) =>
    b.type === "actions" ? b.elements.filter((e): e is Button => e.type === "button") : [],
  );
}

describe("renderStatus: one image", () => {
  it("reads like the MESSAGES.md sketch", () => {
    const m = renderStatus(paymentsApiStatus(), { share: false });
    expect(blockLines(m.blocks)).toEqual([
      "*<https://ghcr.io/acme/payments-api|payments-api>* · `ghcr.io/acme/payments-api@sha256:4f1caaaaaaaa…` (team payments)\n" +
        "🔴 2 🟠 8 🟡 14 ⚪ 31 · 9 fixable · *1 past SLA* (<https://nvd.nist.gov/vuln/detail/CVE-2026-1234|CVE-2026-1234>, due <!date^1795165200^{date_short_pretty}|2026-11-20>)",
      "Base image `node:22.10-bookworm-slim` — newer release `sha256:9ab0c0ffee12…` available since <!date^1794992400^{date_short_pretty}|2026-11-18> (6 days behind); bumping fixes 🔴 2 🟠 5",
      "Rollout #218 in progress: staging ✅ · canary ⏳ awaiting 1 approval · production ⏸ window <!date^1796115600^{date_short_pretty} {time}|2026-12-01 09:00 UTC> (Europe/Berlin)",
      "Accepted: <https://nvd.nist.gov/vuln/detail/CVE-2025-9999|CVE-2025-9999> until <!date^1796202000^{date_short_pretty}|2026-12-02> (by <@U0SAM>: “not reachable, no TLS server”)",
      "[Patch now]   [History]",
      "scanned <!date^1795503600^{ago}|2026-11-24> by trivy 0.58.1 · 55 findings",
    ]);
    expect(m.blocks.at(-1)?.type).toBe("context");
  });

  it("says the same in a one-line fallback", () => {
    expect(renderStatus(paymentsApiStatus(), { share: false }).text).toBe(
      "payments-api (team payments): 2 critical, 8 high, 14 medium, 31 low · 9 fixable · 1 past SLA (CVE-2026-1234) · rollout #218 in progress",
    );
  });

  it.each([
    [false, "ephemeral"],
    [true, "in_channel"],
  ] as const)("share %s answers %s", (share, responseType) => {
    expect(renderStatus(paymentsApiStatus(), { share }).response_type).toBe(responseType);
  });

  it("offers Patch now as the one primary button, and History, both naming the image", () => {
    const found = buttons(renderStatus(paymentsApiStatus(), { share: false }).blocks);
    expect(found.map((b) => [b.action_id, b.style, JSON.parse(b.value ?? "null")])).toEqual([
      ["status_patch_now", "primary", { imageId: "id-payments-api" }],
      ["status_history", undefined, { imageId: "id-payments-api" }],
    ]);
  });

  it("offers no Patch now when a rebuild would fix nothing", () => {
    const s = paymentsApiStatus({
      fixable: 0,
      baseImage: {
        current: "node:22.11-bookworm-slim",
        checked: true,
        available: null,
        availableSince: null,
        fixes: null,
        fromBase: null,
        builtOnAt: null,
        error: null,
      },
    });
    const m = renderStatus(s, { share: false });
    expect(buttons(m.blocks).map((b) => b.action_id)).toEqual(["status_history"]);
    expect(blockLines(m.blocks)[1]).toBe("Base image `node:22.11-bookworm-slim` — up to date");
  });

  it("says why a checked base cannot be judged, and a failed registry check, instead of 'not checked'", () => {
    const base = {
      current: "node:22-bookworm-slim",
      checked: false,
      available: null,
      availableSince: null,
      fixes: null,
      fromBase: null,
      builtOnAt: null,
    };
    const noLayers = renderStatus(
      paymentsApiStatus({ baseImage: { ...base, error: null, noLayers: true } }),
      {
        share: false,
      },
    );
    expect(blockLines(noLayers.blocks)[1]).toBe(
      "Base image `node:22-bookworm-slim` · its latest scan lists no layers, so patchpilot cannot tell which release it is built on (Trivy and Grype image scans list them)",
    );
    const failed = renderStatus(
      paymentsApiStatus({
        baseImage: {
          ...base,
          error: "docker.io answered 429 for library/node: rate limited; retry after 60 s",
        },
      }),
      { share: false },
    );
    expect(blockLines(failed.blocks)[1]).toBe(
      "Base image `node:22-bookworm-slim` · not checked against its registry yet\n⚠️ Last registry check failed: docker.io answered 429 for library/node: rate limited; retry after 60 s",
    );
  });

  it.each<[string, Partial<ImageStatus>, string]>([
    [
      "a clean image",
      { open: counts(), fixable: 0, breached: 0, firstBreach: null, rollouts: [] },
      "payments-api (team payments): no open findings · 0 fixable",
    ],
    [
      "an unowned image never scanned",
      { team: null, lastScan: null, rollouts: [], breached: 0, firstBreach: null },
      "payments-api (no owning team): 2 critical, 8 high, 14 medium, 31 low · 9 fixable",
    ],
  ])("handles %s", (_label, over, text) => {
    const m = renderStatus(paymentsApiStatus(over), { share: false });
    expect(m.text).toBe(text);
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
  });

  it("lists a stage that failed, rolled back or waits for its window", () => {
    const s = paymentsApiStatus({
      rollouts: [
        {
          rolloutId: 219,
          reason: null,
          stages: [
            { name: "staging", state: "failed", approvalsMissing: 0, window: null },
            { name: "canary", state: "rolled_back", approvalsMissing: 0, window: null },
            { name: "production", state: "running", approvalsMissing: 0, window: null },
          ],
        },
      ],
    });
    expect(messageText(renderStatus(s, { share: false }).blocks)).toContain(
      "Rollout #219 in progress: staging ❌ failed · canary ↩️ rolled back · production 🔄 running",
    );
  });

  it("fits with many accepted risks, rollouts and 5,000-character text", () => {
    const long = `${ampersands(2500)}${"x".repeat(2500)}`;
    const s = paymentsApiStatus({
      // The id is ours (a uuid); everything people or scanners wrote is long.
      image: {
        ...namedImage(long, `ghcr.io/acme/${"r".repeat(5000)}`),
        imageId: "0b7e3c1a-5f0e-4c43-9d55-1f6f1c2b9a10",
        digest: `sha256:${"f".repeat(64)}`,
      },
      team: { id: long, name: long },
      firstBreach: { vulnerabilityId: long, dueAt: daysFromNow(-1) },
      baseImage: {
        current: long,
        checked: true,
        available: long,
        availableSince: null,
        fixes: counts({ high: 1 }),
        fromBase: null,
        builtOnAt: null,
        error: null,
      },
      rollouts: Array.from({ length: 30 }, (_, i) => ({
        rolloutId: i,
        reason: long,
        stages: Array.from({ length: 20 }, () => ({
          name: long,
          state: "pending" as const,
          approvalsMissing: 1,
          window: { opensAt: daysFromNow(1), timeZone: long },
        })),
      })),
      accepted: Array.from({ length: 200 }, () => acceptedRisk({ vulnerabilityId: long, reason: long })),
      lastScan: { at: daysFromNow(0), scanner: long, findings: 1_250_000 },
    });
    const m = renderStatus(s, { share: false });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(messageText(m.blocks)).toMatch(/…and \d+ more accepted risks/);
    expect(m.text).not.toContain("<");
  });
});

describe("renderTeamStatus", () => {
  const images = [
    riskRow("refunds-api", { high: 4 }),
    riskRow("ledger-worker", { critical: 2, knownExploited: 1, high: 5 }),
    riskRow("docs-site"),
  ];

  it("ranks the team's images by risk", () => {
    const m = renderTeamStatus(teamStatus(images), { share: false });
    expect(blockLines(m.blocks)).toEqual([
      "*Team payments* · 3 images\n🔴 *4 critical*  🟠 *17 high*  ·  *2 past SLA*  ·  5 due within 7 days\n22 fixable · 3 accepted",
      "*Riskiest images*\n" +
        "1. <https://ghcr.io/acme/ledger-worker|ledger-worker> — 🔴 2 🟠 5 · *1 known exploited*\n" +
        "2. <https://ghcr.io/acme/refunds-api|refunds-api> — 🟠 4\n" +
        "3. <https://ghcr.io/acme/docs-site|docs-site> — no critical, high or medium",
      "last scan <!date^1795503600^{ago}|2026-11-24> · `/patch status <image>` for one image",
    ]);
    expect(m.text).toBe(
      "Team payments, 3 images: 4 critical, 17 high, 2 past SLA, 5 due within 7 days; riskiest ledger-worker",
    );
    expect(m.response_type).toBe("ephemeral");
  });

  it("lists ten images and sums up the rest", () => {
    const many = Array.from({ length: 300 }, (_, i) =>
      riskRow(`api-${String(i).padStart(3, "0")}`, {
        critical: i < 10 ? 1 : 0,
        high: i === 10 || i === 11 ? 1 : 0,
        breachedHigh: i === 11 ? 1 : 0,
      }),
    );
    const text = messageText(renderTeamStatus(teamStatus(many), { share: true }).blocks);
    expect(text).toContain("\n10. <https://ghcr.io/acme/api-009|api-009> — 🔴 1");
    expect(text).not.toContain("11. ");
    expect(text).toContain("…and 290 more images, with 🟠 2 between them, 1 past SLA");
  });

  it("says what to do for a team with no images yet", () => {
    const m = renderTeamStatus(teamStatus([]), { share: false });
    expect(blockLines(m.blocks)[1]).toBe(
      "No images yet: add one to the team in the config, or upload a scan for one.",
    );
  });

  it("fits a team of 300 images with long names", () => {
    const many = Array.from({ length: 300 }, (_, i) =>
      riskRow(`${ampersands(2500)}${"n".repeat(2500)}${i}`, {
        repository: `ghcr.io/acme/${"r".repeat(200)}-${i}`,
        critical: i % 4,
        knownExploited: i % 3,
        baseImageBehindDays: i,
        rollout: { rolloutId: i, stage: ampersands(5000), awaitingApproval: true },
      }),
    );
    const m = renderTeamStatus(teamStatus(many, { team: { id: "t", name: ampersands(5000) } }), {
      share: false,
    });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
  });
});

describe("renderTeamsStatus: the caller's teams", () => {
  it("puts the team with the most to do first", () => {
    const quiet = teamStatus([riskRow("search-api", { high: 1 })], {
      team: { id: "search", name: "search" },
      open: counts({ high: 1 }),
      breached: 0,
      dueSoon: 0,
    });
    const busy = teamStatus([riskRow("ledger-worker", { critical: 2 })]);
    const m = renderTeamsStatus([quiet, busy], { share: false });
    expect(blockLines(m.blocks)).toEqual([
      "*Your teams* (2)\n" +
        "• *payments* — 🔴 *4 critical*  🟠 *17 high*  ·  *2 past SLA*  ·  5 due within 7 days · 1 image · riskiest <https://ghcr.io/acme/ledger-worker|ledger-worker>\n" +
        "• *search* — 🔴 *0 critical*  🟠 *1 high*  ·  none past SLA · 1 image · riskiest <https://ghcr.io/acme/search-api|search-api>",
      "`/patch status <team>` or `/patch status <image>` for the detail",
    ]);
    expect(m.text).toBe("Your 2 teams: 4 critical, 18 high, 2 past SLA in total; most to do: payments");
  });

  it("says so when the caller is in no team", () => {
    expect(renderTeamsStatus([], { share: false }).text).toBe("You are not in any team yet");
  });

  it("fits 200 teams (a security engineer's view of the fleet)", () => {
    const teams = Array.from({ length: 200 }, (_, i) =>
      teamStatus(
        Array.from({ length: 25 }, (_, j) => riskRow(`${"n".repeat(100)}-${i}-${j}`, { critical: j })),
        { team: { id: `team-${i}`, name: `${ampersands(100)}-${i}` } },
      ),
    );
    const m = renderTeamsStatus(teams, { share: false });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(messageText(m.blocks)).toMatch(/…and 18\d more teams/);
  });
});

describe("renderStatusNotFound", () => {
  it("offers the closest names", () => {
    const m = renderStatusNotFound("paymnts-api", ["payments-api", "payments"]);
    expect(m.text).toBe(
      'I don\'t know an image or team called "paymnts-api". Did you mean /patch status payments-api or /patch status payments?',
    );
    expect(blockLines(m.blocks)).toEqual([
      ":grey_question: I don't know an image or team called `paymnts-api`. Did you mean `/patch status payments-api` or `/patch status payments`?",
    ]);
    expect(m.response_type).toBe("ephemeral");
  });

  it("says what to type when nothing is close", () => {
    expect(blockLines(renderStatusNotFound("zzz", []).blocks)).toEqual([
      ":grey_question: I don't know an image or team called `zzz`. `/patch status` with no name lists your teams.",
    ]);
  });

  it("escapes what was typed and keeps it short", () => {
    const m = renderStatusNotFound(`<!here> ${"x".repeat(5000)}`, ["a"]);
    expect(messageText(m.blocks)).toContain("`&lt;!here&gt; xxx");
    expect(m.text).not.toContain("<!here>");
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(m.text.length).toBeLessThan(200);
  });
});

describe("status posture numbers", () => {
  it("counts low, negligible and unknown under one ⚪, as the marks are the same", () => {
    const m = renderStatus(paymentsApiStatus({ open: counts({ low: 1, negligible: 2, unknown: 3 }) }), {
      share: false,
    });
    expect(blockLines(m.blocks)[0]).toContain("\n⚪ 6 · 9 fixable");
  });
});
