import type { ContextBlock } from "@slack/types";
import type { TeamDigest } from "../core/digest/team-digest.js";
import { clipLine } from "./render-clip.js";
import { slackDate } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

/**
 * "Scanned 14 images · last scan 2 hours ago · /patch status payments for more". The last scan time
 * is there so a quiet week is not mistaken for one where scanning stopped.
 */
export function renderDigestFooter(
  d: Pick<TeamDigest, "scannedImages" | "lastScanAt" | "team">,
): ContextBlock {
  const last = d.lastScanAt === null ? "no scans yet" : `last scan ${slackDate(d.lastScanAt, "{ago}")}`;
  const images = `${d.scannedImages} image${d.scannedImages === 1 ? "" : "s"}`;
  const command = escapeMrkdwn(`/patch status ${clipLine(d.team.id, 60)}`);
  return {
    type: "context",
    elements: [{ type: "mrkdwn", text: `Scanned ${images} · ${last} · \`${command}\` for more` }],
  };
}
