import type { Button, KnownBlock } from "@slack/types";
import { ROLLOUT_ACTIONS, type RolloutButtonValue } from "../core/rollout/rollout-card-view.js";
import { healthSummary, type StageHealth } from "../core/rollout/stage-health.js";
import { clipLine } from "./render-clip.js";
import { renderPerson, renderUserGroup } from "./render-mentions.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

const text = (s: string, max = 160) => escapeMrkdwn(clipLine(s, max));

// One line per check: "error-rate 0.042 (max 0.01) over 1,200 requests: 0.042 > 0.01".
function checkLines(h: StageHealth): string {
  return h.checks
    .slice(0, 5)
    .map((c) => {
      const mark = c.outcome === "pass" ? "✅" : c.outcome === "fail" ? "❌" : "⚠️";
      return `${mark} *${text(c.name, 40)}*: ${text(c.reason)}`;
    })
    .join("\n");
}

function context(rolloutId: number, h: StageHealth): KnownBlock {
  const query = h.checks[0]?.query;
  const shown = query ? ` · query \`${text(query, 300).replaceAll("`", "'")}\`` : "";
  return {
    type: "context",
    elements: [{ type: "mrkdwn", text: `\`/patch audit ${rolloutId}\`${shown}` }],
  };
}

function button(
  value: RolloutButtonValue,
  label: string,
  actionId: string,
  style: "primary" | "danger",
): Button {
  return {
    type: "button",
    text: { type: "plain_text", text: clipLine(label, 75) },
    action_id: actionId,
    style,
    value: JSON.stringify(value),
    ...(style === "danger"
      ? {
          confirm: {
            title: { type: "plain_text", text: `Roll back rollout #${value.rollout}?` },
            text: {
              type: "plain_text",
              text: "This dispatches the image's rollback workflow to restore the digest that ran before.",
            },
            confirm: { type: "plain_text", text: "Roll back" },
            deny: { type: "plain_text", text: "Keep it" },
            style: "danger",
          },
        }
      : {}),
  };
}

/**
 * A failed health gate, posted in the team's channel: what failed with the numbers seen, and what
 * happens now (rolling back on its own, or the Roll back / Retry buttons).
 */
export function renderHealthAlert(a: {
  rolloutId: number;
  image: string;
  stage: string;
  health: StageHealth;
  rollingBack: boolean;
  /** The rollback was requested on its own but waits for approvals (what is still needed). */
  rollbackWaiting: string | null;
  rollbackRefusal: string | null;
  candidateDigest: string | null;
  rollbackStage: string;
}): SlackMessage {
  const what = `${text(a.image, 60)} ${text(a.stage, 30)}`;
  const next = a.rollingBack
    ? "↩️ Rolling back on its own (the stage's policy says autoRollback)."
    : a.rollbackWaiting !== null
      ? `↩️ Rollback requested on its own; it waits for approval: ${text(a.rollbackWaiting.replace(/^:rewind:\s*/, ""), 200)}`
      : a.rollbackRefusal !== null
        ? `Could not roll back on its own: ${text(a.rollbackRefusal, 200)}`
        : "Rollout halted: roll back, or retry the stage once it is fixed.";
  const value = { rollout: a.rolloutId, stage: a.stage, digest: a.candidateDigest };
  const blocks: KnownBlock[] = [
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: `*❌ ${what} failed its health check* · rollout #${a.rolloutId}\n${checkLines(a.health)}\n${next}`,
      },
    },
  ];
  // While a rollback is under way or waits for its approvals, the card is where to act.
  if (!a.rollingBack && a.rollbackWaiting === null)
    blocks.push({
      type: "actions",
      elements: [
        button(value, "Roll back", ROLLOUT_ACTIONS.rollback, "danger"),
        button(value, `Retry ${a.stage}`, ROLLOUT_ACTIONS.retry, "primary"),
      ],
    });
  blocks.push(context(a.rolloutId, a.health));
  return {
    text: `❌ ${clipLine(a.image, 60)} ${clipLine(a.stage, 30)} failed its health check (${clipLine(healthSummary(a.health), 120)}) · rollout #${a.rolloutId} ${a.rollingBack ? "rolling back" : "halted"}`,
    blocks,
  };
}

/**
 * An inconclusive health gate, in the rollout card's thread: the gate could not judge the stage
 * (too little traffic, no data), so the stage's approvers are asked to promote or roll back.
 */
export function renderHealthQuestion(q: {
  rolloutId: number;
  image: string;
  stage: string;
  health: StageHealth;
  approverGroups: string[];
  approverUsers: string[];
}): SlackMessage {
  const who = [...q.approverGroups.map(renderUserGroup), ...q.approverUsers.map((u) => renderPerson(u))]
    .slice(0, 5)
    .join(" ");
  const lead = `⚠️ ${who ? `${who} ` : ""}${text(q.image, 60)} ${text(q.stage, 30)} is deployed, but its health check could not judge it:`;
  return {
    text: `⚠️ ${clipLine(q.image, 60)} ${clipLine(q.stage, 30)}: health check inconclusive (${clipLine(healthSummary(q.health), 120)}); promote or roll back on the card`,
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `${lead}\n${checkLines(q.health)}\nLook at it, then *Promote* or *Roll back* on the card above.`,
        },
      },
      context(q.rolloutId, q.health),
    ],
  };
}
