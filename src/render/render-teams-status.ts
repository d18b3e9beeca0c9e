import type { KnownBlock } from "@slack/types";
import type { TeamStatus } from "../core/digest/team-status.js";
import { rankImagesByRisk } from "../core/risk/rank-images-by-risk.js";
import { clipLine } from "./render-clip.js";
import { renderFallback } from "./render-fallback.js";
import { renderFitted } from "./render-fitted.js";
import { renderImageLink } from "./render-links.js";
import { renderPostureHeadline } from "./render-posture-headline.js";
import type { StatusOptions } from "./render-status.js";
import { linesToSections } from "./render-thread-messages.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

const SHOWN_TEAMS = 20;

// Most to do first: past SLA, then critical, then high; then by name so the order is stable.
function byUrgency(a: TeamStatus, b: TeamStatus): number {
  return (
    b.breached - a.breached ||
    b.open.critical - a.open.critical ||
    b.open.high - a.open.high ||
    (a.team.name < b.team.name ? -1 : a.team.name > b.team.name ? 1 : 0)
  );
}

function line(t: TeamStatus): string {
  const riskiest = rankImagesByRisk(t.images)[0];
  const images = `${t.images.length} image${t.images.length === 1 ? "" : "s"}`;
  const tail = riskiest === undefined ? "" : ` · riskiest ${renderImageLink(riskiest)}`;
  return `• *${escapeMrkdwn(clipLine(t.team.name, 60))}* — ${renderPostureHeadline(t)} · ${images}${tail}`;
}

function build(teams: TeamStatus[], shown: number, o: StatusOptions): SlackMessage {
  const left = teams.length - shown;
  const lines = [
    `*Your teams* (${teams.length})`,
    ...teams.slice(0, shown).map(line),
    ...(left > 0 ? [`…and ${left} more team${left === 1 ? "" : "s"}`] : []),
  ];
  const blocks: KnownBlock[] = [
    ...(teams.length === 0
      ? [
          {
            type: "section" as const,
            text: {
              type: "mrkdwn" as const,
              text: "You are not in any team yet. `/patch status <team>` works for any team.",
            },
          },
        ]
      : linesToSections(lines)),
    {
      type: "context",
      elements: [
        { type: "mrkdwn", text: "`/patch status <team>` or `/patch status <image>` for the detail" },
      ],
    },
  ];
  const sum = (f: (t: TeamStatus) => number) => teams.reduce((n, t) => n + f(t), 0);
  const first = teams[0];
  const text =
    first === undefined
      ? "You are not in any team yet"
      : `Your ${teams.length} team${teams.length === 1 ? "" : "s"}: ${sum((t) => t.open.critical)} critical, ${sum((t) => t.open.high)} high, ${sum((t) => t.breached)} past SLA in total; most to do: ${first.team.name}`;
  return { text: renderFallback(text), blocks, response_type: o.share ? "in_channel" : "ephemeral" };
}

/** `/patch status` with no argument: a line per team the caller belongs to, most to do first. */
export function renderTeamsStatus(teams: readonly TeamStatus[], o: StatusOptions): SlackMessage {
  const ordered = [...teams].sort(byUrgency);
  return renderFitted((shown) => build(ordered, shown, o), "message", SHOWN_TEAMS).rendered;
}
