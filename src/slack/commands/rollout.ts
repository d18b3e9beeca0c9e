import { userError } from "../../core/errors.js";
import { renderCommandOutcome } from "../../render/render-command-outcome.js";
import type { RolloutDeps } from "../../services/rollouts/rollout-deps.js";
import { startRollout } from "../../services/rollouts/start-rollout.js";
import type { CommandContext, Subcommand } from "./subcommand.js";

/** The words of a rollout command and its `--reason` (quoted, or every word after the flag). */
export function splitReason(args: readonly string[]): {
  words: string[];
  reason: string | null;
  flags: string[];
} {
  const out: { words: string[]; reason: string | null; flags: string[] } = {
    words: [],
    reason: null,
    flags: [],
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (a === "--reason" || a.startsWith("--reason=")) {
      const rest = a === "--reason" ? args.slice(i + 1) : [a.slice("--reason=".length), ...args.slice(i + 1)];
      const reason = rest.join(" ").trim();
      out.reason = reason === "" ? null : reason;
      break;
    }
    if (a.startsWith("--")) out.flags.push(a);
    else out.words.push(a);
  }
  return out;
}

/** Where a rollout command was typed, recorded with its audit event. */
export function slackOrigin(ctx: CommandContext, command: string): Record<string, unknown> {
  return { source: "slack", team: ctx.teamId, channel: ctx.channelId, user: ctx.userId, command };
}

/** `/patch rollout IMAGE [--reason "…"]`: starts a rollout of the image through its stages. */
export function rolloutCommand(deps: { rollouts: RolloutDeps }): Subcommand {
  return {
    name: "rollout",
    usage: '/patch rollout IMAGE [--reason "…"]',
    summary:
      "Start a rollout of an image: it is rebuilt, scanned and taken through its stages, each approved on the rollout card.",
    examples: [
      "/patch rollout payments-api",
      '/patch rollout payments-api --reason "CVE-2026-1234 in openssl"',
    ],
    async run(ctx) {
      const p = splitReason(ctx.args);
      const [image, ...extra] = p.words;
      if (image === undefined || extra.length > 0 || p.flags.length > 0) {
        throw userError(
          "bad_argument",
          'Say which one image to roll out; quote the reason. Try `/patch rollout payments-api --reason "CVE-2026-1234"`.',
        );
      }
      const outcome = await startRollout(deps.rollouts, {
        image,
        actor: { id: ctx.userId, name: ctx.userName },
        origin: slackOrigin(ctx, "rollout"),
        reason: p.reason,
        trigger: "manual",
      });
      return renderCommandOutcome(outcome);
    },
  };
}
