import { userError } from "../../core/errors.js";
import { renderCommandOutcome } from "../../render/render-command-outcome.js";
import { requestRollback } from "../../services/rollouts/request-rollback.js";
import type { RolloutDeps } from "../../services/rollouts/rollout-deps.js";
import { RolloutNotFound } from "../../services/rollouts/rollout-tx.js";
import { slackOrigin, splitReason } from "./rollout.js";
import type { Subcommand } from "./subcommand.js";

/** A rollout number as typed: `218` or `#218`; null when it is not one. */
export function parseRolloutId(typed: string): number | null {
  const m = /^#?(\d{1,9})$/.exec(typed.trim());
  const id = m ? Number(m[1]) : 0;
  return id > 0 ? id : null;
}

export const noSuchRollout = (id: number) =>
  `No rollout #${id}. Its number is on the rollout card and in the message that started it ("Rollout #218 of payments-api started").`;

/** `/patch rollback ROLLOUT [--reason "…"]`: rolls back the furthest stage the rollout deployed. */
export function rollbackCommand(deps: { rollouts: RolloutDeps }): Subcommand {
  return {
    name: "rollback",
    usage: '/patch rollback ROLLOUT [--reason "…"]',
    summary:
      "Roll a rollout back: its rollback workflow redeploys the digest that ran before it. Approvers of the team only; forward stages still waiting are cancelled.",
    examples: ['/patch rollback 218 --reason "error rate up after canary"', "/patch rollback #218"],
    async run(ctx) {
      const p = splitReason(ctx.args);
      const [typed, ...extra] = p.words;
      const rolloutId = typed === undefined ? null : parseRolloutId(typed);
      if (rolloutId === null || extra.length > 0 || p.flags.length > 0) {
        throw userError(
          "bad_argument",
          'Say which rollout by its number (on its card). Try `/patch rollback 218 --reason "error rate up"`.',
        );
      }
      try {
        const outcome = await requestRollback(deps.rollouts, {
          rolloutId,
          actor: { id: ctx.userId, name: ctx.userName },
          origin: slackOrigin(ctx, "rollback"),
          reason: p.reason,
        });
        return renderCommandOutcome(outcome);
      } catch (e) {
        if (e instanceof RolloutNotFound)
          return renderCommandOutcome({ ok: false, message: noSuchRollout(rolloutId) });
        throw e;
      }
    },
  };
}
