import type { KnownBlock, ModalView } from "@slack/types";
import { clipLine } from "./render-clip.js";
import { escapeMrkdwn } from "./slack-message.js";

export const ROLLOUT_APPROVE_CALLBACK_ID = "rollout_approve_confirm";
export const ROLLOUT_REJECT_CALLBACK_ID = "rollout_reject_reason";
export const ROLLOUT_REASON_BLOCK = "reason";

export type RolloutModalInput = {
  rolloutId: number;
  stage: string;
  image: string;
  /** The candidate the button was rendered for (12 hex characters are shown). */
  digest: string | null;
  /** Introduced critical / known-exploited findings: approving them is an override, with a reason. */
  blocking: string[];
  /** Opaque to the renderer: what the submit handler needs back. */
  privateMetadata: string;
};

const short = (d: string | null) => (d ? `${d.slice(0, 19)}…` : "no candidate yet");

function reasonInput(label: string, optional: boolean): KnownBlock {
  return {
    type: "input",
    block_id: ROLLOUT_REASON_BLOCK,
    optional,
    label: { type: "plain_text", text: label },
    element: {
      type: "plain_text_input",
      action_id: ROLLOUT_REASON_BLOCK,
      multiline: true,
      ...(optional ? {} : { min_length: 5 }),
      max_length: 1000,
    },
  };
}

/** Approving a production-like stage: one more look at what is deployed, and the override reason if needed. */
export function renderApproveModal(input: RolloutModalInput): ModalView {
  const image = escapeMrkdwn(clipLine(input.image, 80));
  const stage = escapeMrkdwn(clipLine(input.stage, 40));
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Approve ${stage} of ${image}?*\nRollout #${input.rolloutId} deploys \`${short(input.digest)}\`. Your approval and name go into the audit trail; if the candidate image changes, approvals start over.`,
      },
    },
  ];
  if (input.blocking.length > 0) {
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: `:warning: The candidate *introduces* ${input.blocking
          .slice(0, 5)
          .map((b) => escapeMrkdwn(clipLine(b, 80)))
          .join(", ")}. Approving is an override: say why it is acceptable.`,
      },
    });
    blocks.push(reasonInput("Why deploy it anyway?", false));
  }
  return {
    type: "modal",
    callback_id: ROLLOUT_APPROVE_CALLBACK_ID,
    title: { type: "plain_text", text: "Approve deployment" },
    submit: { type: "plain_text", text: `Approve ${clipLine(input.stage, 14)}` },
    close: { type: "plain_text", text: "Cancel" },
    private_metadata: input.privateMetadata,
    blocks,
  };
}

/** Rejecting a stage needs a reason: it goes on the card and into the audit trail. */
export function renderRejectModal(input: RolloutModalInput): ModalView {
  const image = escapeMrkdwn(clipLine(input.image, 80));
  const stage = escapeMrkdwn(clipLine(input.stage, 40));
  return {
    type: "modal",
    callback_id: ROLLOUT_REJECT_CALLBACK_ID,
    title: { type: "plain_text", text: "Reject deployment" },
    submit: { type: "plain_text", text: "Reject" },
    close: { type: "plain_text", text: "Cancel" },
    private_metadata: input.privateMetadata,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `*Reject ${stage} of ${image}?*\nRollout #${input.rolloutId} stops here until someone asks again or cancels it.`,
        },
      },
      reasonInput("Why? (shown on the card and kept in the audit trail)", false),
    ],
  };
}
