import { closestMatch } from "../../core/closest-match.js";
import { userError } from "../../core/errors.js";
import type { Db } from "../../db/client.js";
import { renderHistory } from "../../render/render-history.js";
import { renderStatusNotFound } from "../../render/render-status-not-found.js";
import { historyView } from "../../services/history-view.js";
import { resolveStatusTarget } from "../../services/status-views.js";
import type { Subcommand } from "./subcommand.js";

/** `/patch history IMAGE [--share]`: what happened to one image, answered only to the caller unless shared. */
export function historyCommand(deps: { db: Db; teamIds: readonly string[]; now: () => Date }): Subcommand {
  return {
    name: "history",
    usage: "/patch history IMAGE [--share]",
    summary:
      "Recent scans of an image with what each one found new or fixed, the patches shipped and the risks accepted. Add --share to post it in the channel.",
    examples: ["/patch history payments-api", "/patch history ghcr.io/acme/payments-api --share"],
    async run(ctx) {
      const share = ctx.args.includes("--share");
      const words = ctx.args.filter((a) => a !== "--share");
      if (words.length === 0) {
        throw userError("bad_argument", "Which image? Try `/patch history payments-api`.");
      }
      const typed = words.join(" ");
      const target = await resolveStatusTarget(deps.db, typed, deps.teamIds);
      if (target.kind === "team") {
        throw userError(
          "bad_argument",
          `\`${target.teamId}\` is a team; history is kept per image. Try \`/patch status ${target.teamId}\` to see the team's images, then \`/patch history IMAGE\`.`,
        );
      }
      if (target.kind === "unknown") {
        // Only images have a history, so team names are not suggested.
        const images = target.candidates.filter((c) => !deps.teamIds.includes(c));
        const best = closestMatch(typed, images);
        const rest = images.filter((c) => c !== best).slice(0, 5);
        return renderStatusNotFound(typed, best ? [best, ...rest] : rest);
      }
      const v = await historyView(deps.db, { imageId: target.imageId, now: deps.now() });
      if (!v) return renderStatusNotFound(typed, []);
      return renderHistory(v, { share });
    },
  };
}
