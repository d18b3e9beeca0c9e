import type { KnownBlock } from "@slack/types";
import type { ImageRiskRow } from "../core/digest/image-risk-row.js";
import type { TeamStatus } from "../core/digest/team-status.js";
import { rankImagesByRisk } from "../core/risk/rank-images-by-risk.js";
import { clipLine } from "./render-clip.js";
import { renderFallback } from "./render-fallback.js";
import { renderFitted } from "./render-fitted.js";
import { renderImageRiskLine } from "./render-image-risk-line.js";
import { renderPostureHeadline, renderPostureWords } from "./render-posture-headline.js";
import type { StatusOptions } from "./render-status.js";
import { linesToSections } from "./render-thread-messages.js";
import { SEVERITY_MARK, slackDate } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

/** Images listed one by one; the rest are summed up in one line. */
export const TEAM_STATUS_SHOWN = 10;

const section = (text: string): KnownBlock => ({ type: "section", text: { type: "mrkdwn", text } });

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? "" : "s"}`;
}

function rest(images: readonly ImageRiskRow[]): string | null {
  if (images.length === 0) return null;
  const sum = (f: (r: ImageRiskRow) => number) => images.reduce((n, r) => n + f(r), 0);
  const critical = sum((r) => r.critical);
  const high = sum((r) => r.high);
  const breached = sum((r) => r.breachedCritical + r.breachedHigh);
  const head = `…and ${plural(images.length, "more image")}`;
  if (critical + high === 0) return `${head}, none with critical or high findings`;
  const marks = [
    ...(critical > 0 ? [`${SEVERITY_MARK.critical} ${critical}`] : []),
    ...(high > 0 ? [`${SEVERITY_MARK.high} ${high}`] : []),
  ];
  const past = breached > 0 ? `, ${breached} past SLA` : "";
  return `${head}, with ${marks.join(" ")} between them${past}`;
}

function build(t: TeamStatus, ranked: ImageRiskRow[], shown: number, o: StatusOptions): SlackMessage {
  const name = escapeMrkdwn(clipLine(t.team.name, 60));
  const summary = [`${t.fixable} fixable`, ...(t.acceptedCount > 0 ? [`${t.acceptedCount} accepted`] : [])];
  const head = `*Team ${name}* · ${plural(ranked.length, "image")}\n${renderPostureHeadline(t)}\n${summary.join(" · ")}`;
  const lines = ranked.slice(0, shown).map((row, i) => renderImageRiskLine(row, i + 1));
  const more = rest(ranked.slice(shown));
  const last = t.lastScanAt === null ? "no scans yet" : `last scan ${slackDate(t.lastScanAt, "{ago}")}`;
  const blocks: KnownBlock[] = [
    section(head),
    ...(ranked.length === 0
      ? [section("No images yet: add one to the team in the config, or upload a scan for one.")]
      : linesToSections(["*Riskiest images*", ...lines, ...(more === null ? [] : [more])])),
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: `${last} · \`/patch status <image>\` for one image` }],
    },
  ];
  const riskiest = ranked[0];
  const text = `Team ${t.team.name}, ${plural(ranked.length, "image")}: ${renderPostureWords(t)}${riskiest ? `; riskiest ${riskiest.name}` : ""}`;
  return { text: renderFallback(text), blocks, response_type: o.share ? "in_channel" : "ephemeral" };
}

/** The answer to `/patch status <team>`: the team's numbers and its images, riskiest first. */
export function renderTeamStatus(t: TeamStatus, o: StatusOptions): SlackMessage {
  const ranked = rankImagesByRisk(t.images);
  return renderFitted((shown) => build(t, ranked, shown, o), "message", TEAM_STATUS_SHOWN).rendered;
}
