import type { AwaitingRollout } from "../core/digest/awaiting-rollout.js";
import type { ImageRiskRow } from "../core/digest/image-risk-row.js";
import { orderAwaitingRollouts } from "../core/digest/order-awaiting-rollouts.js";
import { orderSlaBreaches } from "../core/digest/order-sla-breaches.js";
import type { SlaBreach } from "../core/digest/sla-breach.js";
import type { TeamDigest } from "../core/digest/team-digest.js";
import { rankImagesByRisk } from "../core/risk/rank-images-by-risk.js";
import { clipLine } from "./render-clip.js";
import { hasRisk } from "./render-image-risk-line.js";

/** The digest's lists in the order a reader should meet them, and the title every part carries. */
export type DigestLists = {
  title: string;
  rollouts: AwaitingRollout[];
  breaches: SlaBreach[];
  risky: ImageRiskRow[];
};

export function renderDigestLists(d: TeamDigest): DigestLists {
  return {
    title: `Patch digest · ${clipLine(d.team.name, 60)} · ${clipLine(d.periodLabel, 40)}`,
    rollouts: orderAwaitingRollouts(d.rolloutsAwaitingApproval),
    breaches: orderSlaBreaches(d.slaBreaches),
    risky: rankImagesByRisk(d.topImages).filter(hasRisk),
  };
}
