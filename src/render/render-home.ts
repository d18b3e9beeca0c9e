import type { HomeView, KnownBlock } from "@slack/types";
import type { HomeViewModel } from "../core/digest/home-view-model.js";
import { orderAwaitingRollouts } from "../core/digest/order-awaiting-rollouts.js";
import { orderSlaBreaches } from "../core/digest/order-sla-breaches.js";
import type { TeamPosture } from "../core/digest/team-posture.js";
import { clipLine } from "./render-clip.js";
import { renderDateTime } from "./render-date-time.js";
import { renderBreachDecision, renderRolloutDecision } from "./render-decision-items.js";
import { renderFitted } from "./render-fitted.js";
import { renderPostureHeadline } from "./render-posture-headline.js";
import { linesToSections } from "./render-thread-messages.js";
import { slackDate } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

/** A Home tab for `views.publish`, its blocks known to be the ones we render. */
export type HomeTab = HomeView & { blocks: KnownBlock[] };

/** Approvals and breaches listed with buttons; more are counted and left to `/patch status`. */
export const HOME_SHOWN = 10;

const header = (text: string): KnownBlock => ({ type: "header", text: { type: "plain_text", text } });
const section = (text: string): KnownBlock => ({ type: "section", text: { type: "mrkdwn", text } });

function teamLine(t: TeamPosture): string {
  const last = t.lastScanAt === null ? "no scans yet" : `last scan ${slackDate(t.lastScanAt, "{ago}")}`;
  const images = `${t.scannedImages} image${t.scannedImages === 1 ? "" : "s"}`;
  return `• *${escapeMrkdwn(clipLine(t.team.name, 60))}* — ${renderPostureHeadline(t)} · ${images} · ${last}`;
}

function more(total: number, shown: number, what: string): KnownBlock[] {
  return total > shown ? [section(`…and ${total - shown} more ${what}: \`/patch status <team>\``)] : [];
}

function build(vm: HomeViewModel, shown: number): HomeTab {
  const approvals = orderAwaitingRollouts(vm.approvalsWaiting);
  const breaches = orderSlaBreaches(vm.slaBreaches);
  const teamsShown = Math.max(1, 2 * shown);
  const blocks: KnownBlock[] = [header("Waiting for your approval")];
  if (approvals.length === 0) blocks.push(section("Nothing is waiting for your approval."));
  approvals.slice(0, shown).forEach((r, i) => {
    blocks.push(renderRolloutDecision(r, { actionId: "home_review_rollout", primary: i === 0 }));
  });
  blocks.push(...more(approvals.length, shown, "approvals"), header("Past SLA in your teams"));
  if (breaches.length === 0) blocks.push(section("No finding in your teams is past its SLA."));
  const primaryTaken = approvals.length > 0 && shown > 0;
  breaches.slice(0, shown).forEach((b, i) => {
    blocks.push(renderBreachDecision(b, { actionId: "home_patch_now", primary: !primaryTaken && i === 0 }));
  });
  blocks.push(...more(breaches.length, shown, "SLA breaches"), header("Your teams"));
  const teams = vm.teams.map(teamLine);
  const rest = teams.length - teamsShown;
  blocks.push(
    ...(teams.length === 0
      ? [section("You are not in any team yet.")]
      : linesToSections([...teams.slice(0, teamsShown), ...(rest > 0 ? [`…and ${rest} more teams`] : [])])),
    {
      type: "context",
      elements: [{ type: "mrkdwn", text: `Updated ${renderDateTime(vm.generatedAt)}` }],
    },
  );
  return { type: "home", blocks };
}

/**
 * The viewer's App Home: approvals they can give and breaches to decide on first (with buttons),
 * then their teams' headline numbers.
 */
export function renderHome(vm: HomeViewModel): HomeTab {
  return renderFitted((shown) => build(vm, shown), "home", HOME_SHOWN).rendered;
}
