import type { Button, KnownBlock } from "@slack/types";
import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { HOME_SHOWN, renderHome } from "../../src/render/render-home.js";
import {
  ampersands,
  awaitingRollout,
  mariaHome,
  namedImage,
  slaBreach,
  teamPosture,
} from "../core/digest/digest-builders.js";
import { blockLines, messageText } from "../core/digest/message-text.js";

function buttons(blocks: readonly KnownBlock[]): Button[] {
  return blocks.flatMap((b) => (b.type === "section" && b.accessory?.type === "button" ? [b.accessory] : []));
}

describe("renderHome", () => {
  it("leads with approvals waiting for the viewer, then breaches, then their teams", () => {
    const view = renderHome(mariaHome());
    expect(view.type).toBe("home");
    expect(blockLines(view.blocks)).toEqual([
      "Waiting for your approval",
      "• <https://ghcr.io/acme/payments-api|payments-api> · rollout #218 · *canary* awaiting 1 approval from <!subteam^S0PAY> · fixes 🔴 3 🟠 6\n_base image bump node:22.10 → 22.11_   [Review rollout]",
      "Past SLA in your teams",
      "• 🔴 <https://nvd.nist.gov/vuln/detail/CVE-2026-1234|CVE-2026-1234> in <https://ghcr.io/acme/ledger-worker|ledger-worker> · openssl · *known exploited* · past SLA by 2 days (due <!date^1795338000^{date_short_pretty}|2026-11-22>)\n_openssl: heap overflow in X.509 name checks_   [Patch now]",
      "Your teams",
      "• *payments* — 🔴 *4 critical*  🟠 *17 high*  ·  *2 past SLA*  ·  5 due within 7 days · 14 images · last scan <!date^1795503600^{ago}|2026-11-24>",
      "Updated <!date^1795510800^{date_short_pretty} {time}|2026-11-24 09:00 UTC>",
    ]);
    expect(view.blocks.at(-1)?.type).toBe("context");
  });

  it("gives each button its action and ids, with one primary", () => {
    const found = buttons(renderHome(mariaHome()).blocks).map((b) => [
      b.action_id,
      b.style,
      JSON.parse(b.value ?? ""),
    ]);
    expect(found).toEqual([
      ["home_review_rollout", "primary", { rolloutId: 218, stage: "canary" }],
      ["home_patch_now", undefined, { imageId: "id-ledger-worker", vulnerabilityId: "CVE-2026-1234" }],
    ]);
  });

  it("says when nothing waits, and then makes Patch now the primary button", () => {
    const view = renderHome(mariaHome({ approvalsWaiting: [] }));
    expect(blockLines(view.blocks)[1]).toBe("Nothing is waiting for your approval.");
    expect(buttons(view.blocks).map((b) => b.style)).toEqual(["primary"]);
    const calm = renderHome(mariaHome({ approvalsWaiting: [], slaBreaches: [], teams: [] }));
    expect(messageText(calm.blocks)).toContain(
      "No finding in your teams is past its SLA.\nYour teams\nYou are not in any team yet.",
    );
  });

  it(`lists ${HOME_SHOWN} of each with buttons and counts the rest, most urgent first`, () => {
    const view = renderHome(
      mariaHome({
        approvalsWaiting: Array.from({ length: 12 }, (_, i) => awaitingRollout({ rolloutId: 100 + i })),
        slaBreaches: Array.from({ length: 15 }, (_, i) =>
          slaBreach({ daysPastDue: i, knownExploited: false }),
        ),
      }),
    );
    const found = buttons(view.blocks);
    expect(found.filter((b) => b.action_id === "home_review_rollout")).toHaveLength(HOME_SHOWN);
    expect(found.filter((b) => b.action_id === "home_patch_now")).toHaveLength(HOME_SHOWN);
    const text = messageText(view.blocks);
    expect(text).toContain("…and 2 more approvals: `/patch status <team>`");
    expect(text).toContain("…and 5 more SLA breaches: `/patch status <team>`");
    expect(text.indexOf("past SLA by 14 days")).toBeLessThan(text.indexOf("past SLA by 13 days"));
  });

  it("fits the Home tab for a security engineer: 200 teams, 50 approvals, 200 breaches, long text", () => {
    const long = `${ampersands(2500)}${"x".repeat(2500)}`;
    const image = { ...namedImage(long, `ghcr.io/acme/${"r".repeat(5000)}`), imageId: "id-1" };
    const view = renderHome(
      mariaHome({
        teams: Array.from({ length: 200 }, (_, i) => teamPosture({ team: { id: `t${i}`, name: long } })),
        approvalsWaiting: Array.from({ length: 50 }, (_, i) =>
          awaitingRollout({ rolloutId: i, image, reason: long, stage: long }),
        ),
        slaBreaches: Array.from({ length: 200 }, () =>
          slaBreach({ image, title: long, packageName: long, vulnerabilityId: long }),
        ),
      }),
    );
    expect(checkBlockKitLimits(view, "home")).toEqual([]);
    expect(buttons(view.blocks).length).toBeGreaterThan(0);
  });
});
