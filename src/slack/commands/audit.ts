import { userError } from "../../core/errors.js";
import type { Db } from "../../db/client.js";
import { renderCommandOutcome } from "../../render/render-command-outcome.js";
import { renderRolloutAudit } from "../../render/render-rollout-audit.js";
import { rolloutHistory } from "../../services/rollouts/rollout-history.js";
import { noSuchRollout, parseRolloutId } from "./rollback.js";
import type { Subcommand } from "./subcommand.js";

/** `/patch audit ROLLOUT [--share]`: one patch's history from its request to production, from the audit trail. */
export function auditCommand(deps: { db: Db }): Subcommand {
  return {
    name: "audit",
    usage: "/patch audit ROLLOUT [--share]",
    summary:
      "One rollout's history from the audit trail: who asked, approved, denied, dispatched and what each run did, in order. Add --share to post it in the channel.",
    examples: ["/patch audit 218", "/patch audit #218 --share"],
    async run(ctx) {
      const share = ctx.args.includes("--share");
      const words = ctx.args.filter((a) => a !== "--share");
      const [typed, ...extra] = words;
      const rolloutId = typed === undefined ? null : parseRolloutId(typed);
      if (rolloutId === null || extra.length > 0) {
        throw userError(
          "bad_argument",
          "Say which rollout by its number (on its card). Try `/patch audit 218`.",
        );
      }
      const view = await rolloutHistory(deps.db, rolloutId);
      if (!view) return renderCommandOutcome({ ok: false, message: noSuchRollout(rolloutId) });
      return renderRolloutAudit(view, { share });
    },
  };
}
