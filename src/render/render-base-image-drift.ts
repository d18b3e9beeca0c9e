import type { KnownBlock } from "@slack/types";
import { type SeverityCounts, totalOf } from "../core/digest/severity-counts.js";
import { clipLine } from "./render-clip.js";
import { renderDateTime } from "./render-date-time.js";
import { renderImageLink } from "./render-links.js";
import { renderSeverityCounts } from "./render-severity-counts.js";
import { shortDigest } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

export type BaseImageDriftNotice = {
  image: { id: string; repository: string; imageId: string };
  baseRef: string;
  /** The base release the image is built on, when one we saw matches its layers. */
  from: string | null;
  to: string;
  movedAt: Date | null;
  /** The image's open findings that come from the base's layers, by severity. */
  base: SeverityCounts;
  app: number;
  unattributed: number;
  /** What a rebuild on the new base fixes, from the new base's own scan; null when not scanned. */
  fixes: SeverityCounts | null;
  /** Why the configured automatic rollout did not start, if it did not. */
  rolloutNote: string | null;
};

/** "bumping fixes 🔴 1 🟠 3" / "3 findings (1 critical) come from the base". What a bump is worth. */
export function bumpWorth(n: Pick<BaseImageDriftNotice, "base" | "fixes">): string {
  const baseTotal = totalOf(n.base);
  if (n.fixes !== null)
    return totalOf(n.fixes) === 0
      ? "the new base's own scan fixes none of them"
      : `bumping fixes ${renderSeverityCounts(n.fixes)}`;
  const crit = n.base.critical > 0 ? ` (${n.base.critical} critical)` : "";
  return `${baseTotal} finding${baseTotal === 1 ? "" : "s"}${crit} come${baseTotal === 1 ? "s" : ""} from the base; the new base has no scan yet`;
}

function plainWorth(n: Pick<BaseImageDriftNotice, "base" | "fixes">): string {
  const counts = n.fixes ?? n.base;
  const total = totalOf(counts);
  const crit = counts.critical > 0 ? ` (${counts.critical} critical)` : "";
  return n.fixes !== null
    ? `bumping fixes ${total} finding${total === 1 ? "" : "s"}${crit}`
    : `${total} finding${total === 1 ? "" : "s"}${crit} from the base`;
}

/**
 * A base image moved past one of the team's images: the move, what comes from the base, what a
 * bump would fix, and a Patch now button that starts a rollout with the bump as its reason.
 */
export function renderBaseImageDrift(n: BaseImageDriftNotice): SlackMessage {
  const base = `\`${escapeMrkdwn(clipLine(n.baseRef, 80))}\``;
  const image = renderImageLink({ name: n.image.id, repository: n.image.repository });
  const from = n.from === null ? "an older release" : `\`${shortDigest(n.from)}\``;
  const since = n.movedAt === null ? "" : ` (seen ${renderDateTime(n.movedAt)})`;
  const worth = bumpWorth(n);
  const origin =
    n.unattributed > 0
      ? ` · ${n.unattributed} finding${n.unattributed === 1 ? "" : "s"} without layer information`
      : "";
  const lines = [
    `*🧱 Base image ${base} moved · ${image} is built on an older release*`,
    `${from} → \`${shortDigest(n.to)}\`${since} · ${worth}`,
    `Open findings from the base: ${totalOf(n.base)} · from the image's own layers: ${n.app}${origin}`,
  ];
  if (n.rolloutNote !== null)
    lines.push(`Automatic rollout not started: ${escapeMrkdwn(clipLine(n.rolloutNote, 300))}`);
  const bump = clipLine(
    `${n.baseRef} ${n.from === null ? "older" : shortDigest(n.from)} → ${shortDigest(n.to)}`,
    300,
  );
  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: lines.join("\n") } },
    {
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: "Patch now" },
          action_id: "drift_patch_now",
          style: "primary",
          value: JSON.stringify({ imageId: n.image.imageId, bump }),
        },
      ],
    },
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: `\`/patch status ${escapeMrkdwn(clipLine(n.image.id, 60))}\`` }],
    },
  ];
  return {
    text: `Base image ${clipLine(n.baseRef, 80)} moved; ${clipLine(n.image.id, 60)} is built on an older release (${plainWorth(n)})`,
    blocks,
  };
}
