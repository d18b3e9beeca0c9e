import { describe, expect, it } from "vitest";
import { checkBlockKitLimits } from "../../src/render/block-kit-limits.js";
import { renderSubscriptions, type SubscriptionLine } from "../../src/render/render-subscriptions.js";
import { blockLines, messageText } from "../core/digest/message-text.js";

const sub = (over: Partial<SubscriptionLine> = {}): SubscriptionLine => ({
  id: "s1",
  cron: "0 9 * * 1",
  timezone: "Europe/Berlin",
  teams: ["payments"],
  source: "slack",
  ...over,
});

/** The longest team id the config allows (63 characters), 200 of them. */
const teamIds = Array.from({ length: 200 }, (_, i) => `team-${String(i).padStart(3, "0")}-${"t".repeat(54)}`);

describe("renderSubscriptions", () => {
  it("leads with what happened, then lists what this channel gets", () => {
    const m = renderSubscriptions({
      lead: "Subscribed: the digest for payments, search will be posted here (0 16 * * 5, Europe/Berlin).",
      subscriptions: [
        sub({ id: "cfg", cron: "30 8 * * 1", timezone: "UTC", teams: ["search"], source: "config" }),
        sub({ id: "new", cron: "0 16 * * 5", teams: ["payments", "search"] }),
      ],
      highlight: "new",
    });
    expect(m.text).toBe(
      "Subscribed: the digest for payments, search will be posted here (0 16 * * 5, Europe/Berlin).",
    );
    expect(blockLines(m.blocks)[1]).toBe(
      "*Digests posted in this channel*\n" +
        "👉 `0 16 * * 5` Europe/Berlin · payments, search\n" +
        "• `30 8 * * 1` UTC · search _(from patchpilot.yaml: change it there)_",
    );
    expect(m.response_type).toBe("ephemeral");
  });

  it("says so when the channel gets no digest", () => {
    const m = renderSubscriptions({ lead: "This channel has no digest subscriptions.", subscriptions: [] });
    expect(blockLines(m.blocks)[1]).toBe("_No digests are posted in this channel._");
  });

  it("fits a subscription to all 200 teams, led by a lead naming them all, and counts the teams", () => {
    const m = renderSubscriptions({
      lead: `Subscribed: the digest for ${teamIds.join(", ")} will be posted here (0 9 * * 1, UTC).`,
      subscriptions: [sub({ id: "all", teams: teamIds, timezone: "UTC" })],
      highlight: "all",
    });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(m.text).toMatch(/^Subscribed: the digest for team-000-t+, /);
    const body = messageText(m.blocks);
    expect(body).toContain(
      `👉 \`0 9 * * 1\` UTC · 200 teams: ${teamIds.slice(0, 10).join(", ")} and 190 more`,
    );
  });

  it("fits 200 subscriptions of 200 teams each, keeps the one just made in view, and counts the rest", () => {
    const subscriptions = Array.from({ length: 200 }, (_, i) =>
      sub({
        id: `s${i}`,
        cron: `${i % 60} ${i % 24} * * ${i % 7}`,
        timezone: "America/Argentina/ComodRivadavia",
        teams: teamIds,
        source: i % 2 === 0 ? "config" : "slack",
      }),
    );
    const m = renderSubscriptions({ lead: "Subscribed.", subscriptions, highlight: "s199" });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    const list = blockLines(m.blocks).slice(1).join("\n");
    expect(list.split("\n")[1]).toMatch(
      /^👉 `19 7 \* \* 3` America\/Argentina\/ComodRivadavia · 200 teams: /,
    );
    const listed = list.split("\n").filter((l) => /^(👉|•) /.test(l)).length;
    expect(listed).toBeGreaterThanOrEqual(5);
    const more = Number(list.match(/…and (\d+) more subscriptions/)?.[1]);
    expect(listed + more).toBe(200);
    expect(list).toContain(`${more} more subscriptions (`);
    expect(list).toMatch(/\(\d+ from patchpilot\.yaml, listed there\)$/);
  });

  it("fits text that escapes to five times its length", () => {
    const amp = "&".repeat(5000);
    const m = renderSubscriptions({
      lead: `<!channel> ${amp}`,
      subscriptions: Array.from({ length: 50 }, (_, i) =>
        sub({ id: `s${i}`, cron: amp, timezone: amp, teams: Array.from({ length: 200 }, () => amp) }),
      ),
    });
    expect(checkBlockKitLimits(m, "message")).toEqual([]);
    expect(m.text).not.toContain("<!channel>");
    expect(messageText(m.blocks)).toMatch(/…and \d+ more subscriptions/);
  });
});
