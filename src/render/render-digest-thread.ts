import type { KnownBlock } from "@slack/types";
import type { TeamDigest } from "../core/digest/team-digest.js";
import { renderAcceptedRiskLine } from "./render-accepted-risk-line.js";
import { renderBreachLine, renderRolloutDecision } from "./render-decision-items.js";
import { renderBaseImageMoveLine, renderUnownedImageLine } from "./render-digest-lines.js";
import type { DigestLists } from "./render-digest-lists.js";
import { renderImageRiskLine } from "./render-image-risk-line.js";
import { linesToSections, renderThreadMessages } from "./render-thread-messages.js";
import type { SlackMessage } from "./slack-message.js";

type Part = { what: string; total: number; blocks: () => KnownBlock[] };

/** The full lists that the main message cut after `shown` items, as thread replies. */
export function renderDigestThread(d: TeamDigest, l: DigestLists, shown: number): SlackMessage[] {
  const parts: Part[] = [
    {
      what: "rollouts awaiting approval",
      total: l.rollouts.length,
      // The main message already notified the approver groups; the full list does not again.
      blocks: () =>
        l.rollouts.map((r) =>
          renderRolloutDecision(r, {
            actionId: "digest_review_rollout",
            primary: false,
            mentionGroup: false,
          }),
        ),
    },
    {
      what: "SLA breaches",
      total: l.breaches.length,
      // Lines, not buttons: two hundred buttons are a wall; the main message has the first ones.
      blocks: () => linesToSections(l.breaches.map(renderBreachLine)),
    },
    {
      what: "images by risk",
      total: l.risky.length,
      blocks: () => linesToSections(l.risky.map((row, i) => renderImageRiskLine(row, i + 1))),
    },
    {
      what: "base images that moved",
      total: d.baseImagesMoved.length,
      blocks: () => linesToSections(d.baseImagesMoved.map(renderBaseImageMoveLine)),
    },
    {
      what: "accepted risks expiring soon",
      total: d.expiringAcceptances.length,
      blocks: () =>
        linesToSections(d.expiringAcceptances.map((a) => `• ${renderAcceptedRiskLine(a, d.generatedAt)}`)),
    },
    {
      what: "images nobody owns",
      total: d.unownedImages.length,
      blocks: () => linesToSections(d.unownedImages.map(renderUnownedImageLine)),
    },
  ];
  return parts
    .filter((p) => p.total > shown)
    .flatMap((p) => renderThreadMessages(`${l.title} — all ${p.total} ${p.what}`, p.blocks()));
}
