import { acceptanceState } from "../core/digest/acceptance-state.js";
import type { AcceptedRisk } from "../core/digest/accepted-risk.js";
import { clipLine } from "./render-clip.js";
import { renderImageLink, renderVulnerabilityLink } from "./render-links.js";
import { renderPerson } from "./render-mentions.js";
import { slackDate } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

function when(a: AcceptedRisk, now: Date): string {
  const state = acceptanceState(a, now);
  if (state === "revoked" && a.revokedAt !== null) return `revoked ${slackDate(a.revokedAt)}`;
  if (a.until === null) return "no expiry";
  return state === "expired" ? `expired ${slackDate(a.until)}` : `until ${slackDate(a.until)}`;
}

/**
 * `CVE-2025-9999 in search-api until Dec 2 (by @sam: “not reachable”)`; without the image when the
 * message is about one image already.
 */
export function renderAcceptedRiskLine(a: AcceptedRisk, now: Date, withImage = true): string {
  const where = !withImage
    ? ""
    : a.image === null
      ? " in every image of the team"
      : ` in ${renderImageLink(a.image)}`;
  const reason = escapeMrkdwn(clipLine(a.reason, 150));
  return `${renderVulnerabilityLink(a.vulnerabilityId)}${where} ${when(a, now)} (by ${renderPerson(a.acceptedBy, a.acceptedByName)}: “${reason}”)`;
}
