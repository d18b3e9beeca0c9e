import { CronExpressionParser } from "cron-parser";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import { closestMatch } from "../../core/closest-match.js";
import { userError } from "../../core/errors.js";
import { appendAuditEvent } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { renderSubscriptions } from "../../render/render-subscriptions.js";
import { addSlackSubscription, listSubscriptions } from "../../services/digest-subscriptions.js";
import { commandAgain, requireBotIn } from "../require-bot-in-channel.js";
import type { Subcommand } from "./subcommand.js";

const USAGE = '/patch subscribe ["CRON"] [TIME_ZONE] [TEAM…]';
const EXAMPLE = '/patch subscribe "0 9 * * 1" Europe/Berlin payments';

/**
 * `/patch subscribe`: this channel gets the weekly digest of the named teams (default: the teams
 * whose channel this is), on a cron and time zone (default Monday 09:00 UTC).
 */
export function subscribeCommand(deps: {
  db: Db;
  config: PatchpilotConfig;
  onChange: () => Promise<void>;
  now: () => Date;
  canPostIn: (channel: string) => Promise<"yes" | "no" | "unknown">;
}): Subcommand {
  return {
    name: "subscribe",
    usage: USAGE,
    summary:
      "Post the weekly patch digest in this channel, on your schedule. Without arguments: Monday 09:00 UTC, for the teams whose channel this is.",
    examples: [EXAMPLE, "/patch subscribe"],
    async run(ctx) {
      const access = deps.canPostIn(ctx.channelId);
      const teamIds = deps.config.teams.map((t) => t.id);
      let cron = "0 9 * * 1";
      let timezone = "UTC";
      const teams: string[] = [];
      for (const arg of ctx.args) {
        if (/^\S+(\s+\S+){4}$/.test(arg)) cron = arg;
        else if (arg.includes("/") || arg === "UTC") timezone = arg;
        else if (teamIds.includes(arg)) teams.push(arg);
        else {
          const guess = closestMatch(arg, teamIds);
          throw userError(
            "bad_argument",
            `I don't know \`${arg}\`${guess ? ` — did you mean the team \`${guess}\`?` : "."} Teams: ${teamIds.join(", ")}. A cron goes in quotes, e.g. \`${EXAMPLE}\``,
          );
        }
      }
      try {
        CronExpressionParser.parse(cron, { tz: timezone });
        new Intl.DateTimeFormat("en-US", { timeZone: timezone });
      } catch (e) {
        const what =
          e instanceof RangeError
            ? `unknown time zone \`${timezone}\` (use an IANA name such as Europe/Berlin)`
            : `\`${cron}\` is not a cron expression`;
        throw userError("bad_argument", `${what}. Try: \`${EXAMPLE}\``);
      }
      if (teams.length === 0) {
        teams.push(...deps.config.teams.filter((t) => t.channel === ctx.channelId).map((t) => t.id));
        if (teams.length === 0) {
          throw userError(
            "bad_argument",
            `Which teams? This channel belongs to none. Name them, e.g. \`/patch subscribe ${teamIds[0] ?? "payments"}\`.`,
          );
        }
      }
      await requireBotIn(access, "digests", commandAgain("subscribe", ctx.args));
      const { subscription, created } = await deps.db.transaction(async (tx) => {
        const r = await addSlackSubscription(tx, {
          channel: ctx.channelId,
          cron,
          timezone,
          teams,
          createdBy: ctx.userId,
        });
        if (r.created) {
          await appendAuditEvent(tx, {
            at: deps.now(),
            actor: { id: ctx.userId, name: ctx.userName },
            action: "digest.subscribed",
            outcome: "ok",
            origin: { source: "slack", team: ctx.teamId, channel: ctx.channelId },
            resource: { subscriptionId: r.subscription.id, channel: ctx.channelId },
            payload: { cron, timezone, teams },
          });
        }
        return r;
      });
      if (created) await deps.onChange();
      return renderSubscriptions({
        lead: created
          ? `Subscribed: the digest for ${subscription.teams.join(", ")} will be posted here (${cron}, ${timezone}).`
          : "This channel already has that subscription; nothing changed.",
        subscriptions: await listSubscriptions(deps.db, ctx.channelId),
        highlight: subscription.id,
      });
    },
  };
}
