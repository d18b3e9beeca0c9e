import type { PatchpilotConfig } from "../../config/file-schema.js";
import { stagesOfImage } from "../../config/stage-policy-from-config.js";
import { userError } from "../../core/errors.js";
import { stageKindOf } from "../../core/rollout/stage-state.js";
import type { Db } from "../../db/client.js";
import { renderCommandOutcome } from "../../render/render-command-outcome.js";
import { escapeMrkdwn } from "../../render/slack-message.js";
import { setFreeze } from "../../services/rollouts/freezes.js";
import { slackOrigin, splitReason } from "./rollout.js";
import type { Subcommand } from "./subcommand.js";

const LIFTED_FROM_SLACK = "lifted from Slack";

/** The environments the config's deploy stages name (a stage's `environment`, else its name). */
export function configuredEnvironments(config: PatchpilotConfig): string[] {
  const stages = new Set<string>([
    ...config.defaultStages,
    ...config.images.flatMap((i) => stagesOfImage(config, i)),
    ...Object.keys(config.stages),
  ]);
  const envs = [...stages]
    .filter((s) => stageKindOf(s) === "deploy")
    .map((s) => config.stages[s]?.environment ?? s);
  return [...new Set(envs)].sort();
}

/** `/patch freeze ENV|all on|off --reason "…"`: stops (or lets again) every deployment to an environment. */
export function freezeCommand(deps: { db: Db; config: PatchpilotConfig; now: () => Date }): Subcommand {
  return {
    name: "freeze",
    usage: '/patch freeze ENV|all on|off --reason "…"',
    summary:
      "Freeze an environment (or all): nothing is deployed there until the freeze is lifted; approved stages wait. Posted in the channel so everyone knows.",
    examples: ['/patch freeze production on --reason "incident INC-42"', "/patch freeze production off"],
    async run(ctx) {
      const p = splitReason(ctx.args);
      const [env, switchTo, ...extra] = p.words;
      const known = configuredEnvironments(deps.config);
      const example = `\`/patch freeze ${known.at(-1) ?? "production"} on --reason "incident INC-42"\``;
      if (env === undefined || switchTo === undefined || extra.length > 0 || p.flags.length > 0) {
        throw userError(
          "bad_argument",
          `Say which environment (or all), on or off, and why. Try ${example}.`,
        );
      }
      const environment = env.toLowerCase() === "all" ? "all" : env;
      if (environment !== "all" && !known.includes(environment)) {
        throw userError(
          "bad_argument",
          `\`${escapeMrkdwn(env.slice(0, 60)).replaceAll("`", "'")}\` is not an environment of any stage. Known: ${[...known, "all"].map((k) => `\`${k}\``).join(", ")}.`,
        );
      }
      const state = switchTo.toLowerCase();
      if (state !== "on" && state !== "off") {
        throw userError("bad_argument", `Say \`on\` or \`off\` after the environment. Try ${example}.`);
      }
      if (state === "on" && p.reason === null) {
        throw userError(
          "bad_argument",
          `A freeze needs a reason everyone will read; quote it. Try \`/patch freeze ${environment} on --reason "incident INC-42"\`.`,
        );
      }
      const reason = p.reason ?? LIFTED_FROM_SLACK;
      const outcome = await setFreeze(
        { db: deps.db, now: deps.now },
        {
          environment,
          on: state === "on",
          reason,
          actor: { id: ctx.userId, name: ctx.userName },
          origin: slackOrigin(ctx, "freeze"),
        },
      );
      // setFreeze escapes the reason: posted for the whole channel, it must not mention anyone.
      return renderCommandOutcome(outcome, { inChannel: outcome.ok });
    },
  };
}
