import { describeApprovers } from "../core/rollout/check-approver.js";
import type { StagePolicy } from "../core/rollout/stage-policy.js";
import { clipLine } from "./render-clip.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

export type ApprovalRequest = {
  rolloutId: number;
  stage: string;
  image: string;
  policy: StagePolicy;
  /** What the quorum still lacks ("1 more approval", "1 from <!subteam^S0SEC>"). */
  missing: string[];
};

/**
 * The thread reply that asks a stage's approvers: the one message that mentions the approver
 * groups (MESSAGES.md), with what is still missing; the decision itself is on the card above.
 */
export function renderApprovalRequest(r: ApprovalRequest): SlackMessage {
  const stage = escapeMrkdwn(clipLine(r.stage, 40));
  const image = escapeMrkdwn(clipLine(r.image, 80));
  const needs = r.missing.length > 0 ? r.missing.join(", ") : "an approval";
  const text = `${describeApprovers(r.policy)}: *${stage}* of ${image} (rollout #${r.rolloutId}) needs ${needs}. Review the card above and approve or reject.`;
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}
