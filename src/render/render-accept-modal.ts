import type { KnownBlock, ModalView } from "@slack/types";
import { clipLine } from "./render-clip.js";
import { renderVulnerabilityLink } from "./render-links.js";
import { escapeMrkdwn } from "./slack-message.js";

export const ACCEPT_RISK_CALLBACK_ID = "accept_risk";
/** Input block ids; the submit handler reads them and points errors at them. */
export const ACCEPT_UNTIL_BLOCK = "until";
export const ACCEPT_REASON_BLOCK = "reason";

export type AcceptModalInput = {
  vulnerabilityId: string;
  /** "payments-api" or "every image of team payments". */
  targetLabel: string;
  targetKind: "image" | "team";
  /** The image's owning team, named after it (a team target names itself). */
  teamId: string | null;
  /** YYYY-MM-DD */
  until: string;
  reason: string;
  maxDays: { critical: number; high: number; medium: number; low: number };
  /** Opaque to the renderer: what the submit handler needs back (under 3000 characters). */
  privateMetadata: string;
};

const MAX_REASON = 2000;

/** The confirmation dialog of `/patch accept`: what will happen, the date and reason editable, the policy. */
export function renderAcceptModal(input: AcceptModalInput): ModalView {
  const m = input.maxDays;
  const target = escapeMrkdwn(clipLine(input.targetLabel, 200));
  const team =
    input.targetKind === "image" && input.teamId !== null ? ` (team ${escapeMrkdwn(input.teamId)})` : "";
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*Accept ${renderVulnerabilityLink(input.vulnerabilityId)} in ${target}${team}?*\nIt stops counting as open — in status, digests and SLA — until the date below, then comes back by itself. Your name and reason go into the audit trail.`,
      },
    },
    {
      type: "input",
      block_id: ACCEPT_UNTIL_BLOCK,
      label: { type: "plain_text", text: "Accepted until" },
      element: { type: "datepicker", action_id: ACCEPT_UNTIL_BLOCK, initial_date: input.until },
      hint: {
        type: "plain_text",
        text: `Critical findings may be accepted for at most ${m.critical} days, high ${m.high}, medium ${m.medium}, low ${m.low}.`,
      },
    },
    {
      type: "input",
      block_id: ACCEPT_REASON_BLOCK,
      label: { type: "plain_text", text: "Why is this risk acceptable?" },
      element: {
        type: "plain_text_input",
        action_id: ACCEPT_REASON_BLOCK,
        multiline: true,
        min_length: 10,
        max_length: MAX_REASON,
        ...(input.reason.trim() === "" ? {} : { initial_value: input.reason.slice(0, MAX_REASON) }),
      },
    },
    {
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          text: "Only approvers of the owning team may accept. Revoke an acceptance to change its date or reason.",
        },
      ],
    },
  ];
  return {
    type: "modal",
    callback_id: ACCEPT_RISK_CALLBACK_ID,
    private_metadata: input.privateMetadata,
    title: { type: "plain_text", text: "Accept risk" },
    submit: { type: "plain_text", text: "Accept risk" },
    close: { type: "plain_text", text: "Cancel" },
    blocks,
  };
}
