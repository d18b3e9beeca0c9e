import type { PatchpilotConfig } from "../../config/file-schema.js";
import { closestMatch } from "../../core/closest-match.js";
import { userError } from "../../core/errors.js";
import type { SlackMessage } from "../../render/slack-message.js";
import { commandAgain, requireBotIn } from "../require-bot-in-channel.js";
import type { Subcommand } from "./subcommand.js";

/** `/patch digest [team]`: the weekly digest, now, in this channel — the scheduled one's code. */
export function digestCommand(deps: {
  config: PatchpilotConfig;
  teamsOfUser: (userId: string, channelId: string) => Promise<string[]>;
  postNow: (q: { channel: string; teams: string[]; triggerId: string }) => Promise<{ posted: string[] }>;
  canPostIn: (channel: string) => Promise<"yes" | "no" | "unknown">;
}): Subcommand {
  return {
    name: "digest",
    usage: "/patch digest [TEAM]",
    summary: "Post the patch digest in this channel now. Without a team: this channel's teams, or yours.",
    examples: ["/patch digest payments", "/patch digest"],
    async run(ctx): Promise<SlackMessage> {
      const access = deps.canPostIn(ctx.channelId);
      const teamIds = deps.config.teams.map((t) => t.id);
      let teams: string[];
      if (ctx.args.length > 0) {
        const unknown = ctx.args.filter((a) => !teamIds.includes(a));
        if (unknown[0] !== undefined) {
          const guess = closestMatch(unknown[0], teamIds);
          throw userError(
            "bad_argument",
            `I don't know the team \`${unknown[0]}\`${guess ? ` — did you mean \`${guess}\`?` : "."} Teams: ${teamIds.join(", ")}. Try \`/patch digest ${guess ?? teamIds[0] ?? "payments"}\`.`,
          );
        }
        teams = [...new Set(ctx.args)];
      } else {
        teams = await deps.teamsOfUser(ctx.userId, ctx.channelId);
        if (teams.length === 0) {
          throw userError(
            "bad_argument",
            `Which team? Name one: \`/patch digest ${teamIds[0] ?? "payments"}\` (teams: ${teamIds.join(", ")}).`,
          );
        }
      }
      await requireBotIn(access, "the digest", commandAgain("digest", teams));
      const { posted } = await deps.postNow({ channel: ctx.channelId, teams, triggerId: ctx.triggerId });
      const text =
        posted.length > 0
          ? `Posting the digest for ${posted.join(", ")} in this channel now.`
          : "That digest was already posted for this request.";
      return {
        text,
        blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
        response_type: "ephemeral",
      };
    },
  };
}
