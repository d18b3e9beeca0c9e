import type { PatchpilotConfig } from "../../config/file-schema.js";
import { closestMatch } from "../../core/closest-match.js";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { renderStatus } from "../../render/render-status.js";
import { renderStatusNotFound } from "../../render/render-status-not-found.js";
import { renderTeamStatus } from "../../render/render-team-status.js";
import { renderTeamsStatus } from "../../render/render-teams-status.js";
import { imageStatusView, resolveStatusTarget, teamStatusView } from "../../services/status-views.js";
import type { Subcommand } from "./subcommand.js";

/** `/patch status [image|team] [--share]`: posture, answered only to the caller unless shared. */
export function statusCommand(deps: {
  db: Db;
  sla: SlaPolicy;
  teamIds: readonly string[];
  baseImageOf: (configId: string | null) => string | null;
  teamsOfUser: (userId: string, channelId: string) => Promise<string[]>;
  now: () => Date;
  /** The stage policies, for the rollout in flight. */
  config: PatchpilotConfig;
}): Subcommand {
  return {
    name: "status",
    usage: "/patch status [IMAGE|TEAM] [--share]",
    summary:
      "Open findings by severity, what is fixable, SLA breaches, accepted risks and rollouts — for an image, a team, or (with no argument) your teams. Add --share to post it in the channel.",
    examples: ["/patch status payments-api", "/patch status payments --share", "/patch status"],
    async run(ctx) {
      const share = ctx.args.includes("--share");
      const words = ctx.args.filter((a) => a !== "--share");
      const now = deps.now();
      if (words.length === 0) {
        const teams = await deps.teamsOfUser(ctx.userId, ctx.channelId);
        if (teams.length === 0) {
          return renderStatusNotFound("", [...deps.teamIds]);
        }
        const views = [];
        for (const teamId of teams) {
          const v = await teamStatusView(deps.db, { teamId, now, sla: deps.sla });
          if (v) views.push(v);
        }
        return renderTeamsStatus(views, { share });
      }
      const typed = words.join(" ");
      const target = await resolveStatusTarget(deps.db, typed, deps.teamIds);
      if (target.kind === "unknown") {
        const best = closestMatch(typed, target.candidates);
        const rest = target.candidates.filter((c) => c !== best).slice(0, 5);
        return renderStatusNotFound(typed, best ? [best, ...rest] : rest);
      }
      if (target.kind === "team") {
        const v = await teamStatusView(deps.db, { teamId: target.teamId, now, sla: deps.sla });
        if (v) return renderTeamStatus(v, { share });
        return renderStatusNotFound(typed, [...deps.teamIds]);
      }
      const v = await imageStatusView(deps.db, {
        imageId: target.imageId,
        now,
        sla: deps.sla,
        baseImageOf: deps.baseImageOf,
        config: deps.config,
      });
      if (!v) return renderStatusNotFound(typed, []);
      return renderStatus(v, { share });
    },
  };
}
