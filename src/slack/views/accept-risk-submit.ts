import type { App } from "@slack/bolt";
import { z } from "zod";
import type { Logger } from "../../adapters/logger.js";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import { PatchpilotError } from "../../core/errors.js";
import type { Db } from "../../db/client.js";
import {
  ACCEPT_REASON_BLOCK,
  ACCEPT_RISK_CALLBACK_ID,
  ACCEPT_UNTIL_BLOCK,
} from "../../render/render-accept-modal.js";
import { renderRiskAccepted } from "../../render/render-risk-accepted.js";
import { acceptRisk } from "../../services/risk/accept-risk.js";
import { resolveAcceptTarget } from "../../services/risk/resolve-accept-target.js";
import { acceptRequest, parseUntilDate } from "../accept-request.js";
import { checkAcceptPermission } from "../check-accept-permission.js";

export type AcceptRiskViewDeps = {
  db: Db;
  config: PatchpilotConfig;
  teamsOfUser: (userId: string, channelId: string) => Promise<string[]>;
  now: () => Date;
  logger: Logger;
};

const submission = z.object({
  user: z.object({ id: z.string().min(1), name: z.string().optional(), username: z.string().optional() }),
  team: z.object({ id: z.string() }).nullish(),
  view: z.object({
    private_metadata: z.string(),
    state: z.object({
      values: z.object({
        [ACCEPT_UNTIL_BLOCK]: z.object({
          [ACCEPT_UNTIL_BLOCK]: z.object({ selected_date: z.string().nullish() }),
        }),
        [ACCEPT_REASON_BLOCK]: z.object({ [ACCEPT_REASON_BLOCK]: z.object({ value: z.string().nullish() }) }),
      }),
    }),
  }),
});

// Errors about the date show under the date picker; everything else under the reason.
const UNTIL_ERRORS = new Set(["expiry_too_long", "bad_expiry"]);

/**
 * The "Accept risk" button of the `/patch accept` dialog. Authorization is checked again: the
 * dialog may have stayed open while the user left the approver group. A refusal keeps the dialog
 * open with the reason under the field to fix; success closes it and confirms only to the user.
 */
export function registerAcceptRiskSubmit(bolt: App, deps: AcceptRiskViewDeps): void {
  bolt.view(ACCEPT_RISK_CALLBACK_ID, async ({ ack, body, client }) => {
    const refuse = (block: string, message: string) =>
      ack({ response_action: "errors", errors: { [block]: message } });
    const parsed = submission.safeParse(body);
    const request = parsed.success
      ? acceptRequest.safeParse(parseJson(parsed.data.view.private_metadata))
      : null;
    if (!parsed.success || !request?.success) {
      deps.logger.warn({ parsed: parsed.success }, "accept_risk submission without the expected fields");
      await refuse(ACCEPT_REASON_BLOCK, "This dialog is out of date. Close it and run /patch accept again.");
      return;
    }
    const { user, view } = parsed.data;
    const { vulnerabilityId, channelId } = request.data;
    const values = view.state.values;
    const until = parseUntilDate(values[ACCEPT_UNTIL_BLOCK][ACCEPT_UNTIL_BLOCK].selected_date ?? "");
    if (until === null) {
      await refuse(ACCEPT_UNTIL_BLOCK, "Pick the last day of the acceptance.");
      return;
    }
    const name = user.username ?? user.name;
    let label: string;
    try {
      const target = await resolveAcceptTarget(
        deps.db,
        request.data.target.ref,
        deps.config.teams.map((t) => t.id),
      );
      await checkAcceptPermission(deps, user.id, target);
      await acceptRisk(
        { db: deps.db, config: deps.config, now: deps.now },
        {
          vulnerabilityId,
          target: target.kind === "image" ? { imageRef: target.ref } : { teamId: target.ref },
          until,
          reason: values[ACCEPT_REASON_BLOCK][ACCEPT_REASON_BLOCK].value ?? "",
          actor: name === undefined ? { id: user.id } : { id: user.id, name },
          source: "slack",
          origin: {
            slackTeam: parsed.data.team?.id ?? null,
            channel: channelId,
            action: ACCEPT_RISK_CALLBACK_ID,
          },
        },
      );
      label = target.label;
    } catch (e) {
      if (e instanceof PatchpilotError && e.kind === "user") {
        await refuse(UNTIL_ERRORS.has(e.code) ? ACCEPT_UNTIL_BLOCK : ACCEPT_REASON_BLOCK, e.message);
        return;
      }
      const reference = `ERR-${Date.now().toString(36).toUpperCase()}`;
      deps.logger.error({ err: e, reference }, "accepting a risk failed");
      await refuse(
        ACCEPT_REASON_BLOCK,
        `Something went wrong on our side and nothing was accepted. Try again in a minute; if it keeps failing, give your admin this reference: ${reference}`,
      );
      return;
    }
    await ack();
    try {
      await client.chat.postEphemeral({
        channel: channelId,
        user: user.id,
        ...renderRiskAccepted({ vulnerabilityId, targetLabel: label, until, actorId: user.id }),
      });
    } catch (e) {
      // The acceptance is stored and audited; only the confirmation was lost.
      deps.logger.warn({ err: e, channelId }, "confirming an accepted risk failed");
    }
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
