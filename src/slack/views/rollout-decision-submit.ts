import type { App } from "@slack/bolt";
import { z } from "zod";
import type { Logger } from "../../adapters/logger.js";
import {
  ROLLOUT_APPROVE_CALLBACK_ID,
  ROLLOUT_REASON_BLOCK,
  ROLLOUT_REJECT_CALLBACK_ID,
} from "../../render/render-rollout-modals.js";
import { approveStage } from "../../services/rollouts/approve-stage.js";
import { decideStage } from "../../services/rollouts/decide-stage.js";
import type { Outcome, RolloutDeps } from "../../services/rollouts/rollout-deps.js";

const metadata = z.object({
  rollout: z.number().int(),
  stage: z.string(),
  digest: z.string().nullable(),
  origin: z.record(z.string(), z.unknown()),
  /** The clicked card's response_url: the outcome is told there, only to the person. */
  responseUrl: z.string().url().optional(),
});

const submission = z.object({
  user: z.object({ id: z.string(), name: z.string().optional(), username: z.string().optional() }),
  view: z.object({
    private_metadata: z.string(),
    state: z.object({
      values: z.record(
        z.string(),
        z.record(z.string(), z.object({ value: z.string().nullish() }).passthrough()),
      ),
    }),
  }),
});

/**
 * The approve (confirmation, with an override reason when needed) and reject (reason) dialogs.
 * A refusal keeps the dialog open with the reason under the field; success closes it and the
 * outcome is told only to the person, in the channel of the card they clicked.
 */
export function registerRolloutDecisionSubmit(
  bolt: App,
  deps: { rollouts: RolloutDeps; logger: Logger },
): void {
  const handle = (
    callbackId: string,
    run: (
      m: z.infer<typeof metadata>,
      user: { id: string; name: string | null },
      reason: string | null,
    ) => Promise<Outcome>,
  ) =>
    bolt.view(callbackId, async ({ ack, body }) => {
      const parsed = submission.safeParse(body);
      let meta: z.infer<typeof metadata> | null = null;
      try {
        meta = parsed.success ? metadata.parse(JSON.parse(parsed.data.view.private_metadata)) : null;
      } catch {
        meta = null;
      }
      if (!parsed.success || !meta) {
        await ack({
          response_action: "errors",
          errors: { [ROLLOUT_REASON_BLOCK]: "This dialog is out of date; close it and use the card again." },
        });
        return;
      }
      const reason =
        parsed.data.view.state.values[ROLLOUT_REASON_BLOCK]?.[ROLLOUT_REASON_BLOCK]?.value?.trim() || null;
      const user = {
        id: parsed.data.user.id,
        name: parsed.data.user.username ?? parsed.data.user.name ?? null,
      };
      let outcome: Outcome;
      try {
        outcome = await run(meta, user, reason);
      } catch (e) {
        deps.logger.error({ err: e instanceof Error ? e.message : String(e) }, "rollout dialog failed");
        await ack({
          response_action: "errors",
          errors: {
            [ROLLOUT_REASON_BLOCK]:
              "Nothing changed: patchpilot could not record this. Try again in a minute.",
          },
        });
        return;
      }
      const hasReasonField = ROLLOUT_REASON_BLOCK in parsed.data.view.state.values;
      if (!outcome.ok && hasReasonField) {
        await ack({
          response_action: "errors",
          errors: { [ROLLOUT_REASON_BLOCK]: outcome.message.slice(0, 300) },
        });
        return;
      }
      await ack();
      await tell(meta.responseUrl, outcome.message).catch((e: unknown) => {
        deps.logger.warn(
          { err: e instanceof Error ? e.message : String(e) },
          "could not tell the user the outcome",
        );
      });
    });

  handle(ROLLOUT_APPROVE_CALLBACK_ID, (m, user, reason) =>
    approveStage(deps.rollouts, {
      rolloutId: m.rollout,
      stage: m.stage,
      actor: user,
      buttonDigest: m.digest,
      origin: { ...m.origin, via: "dialog" },
      overrideReason: reason,
      confirmed: true,
    }),
  );
  handle(ROLLOUT_REJECT_CALLBACK_ID, (m, user, reason) =>
    decideStage(deps.rollouts, "reject", {
      rolloutId: m.rollout,
      stage: m.stage,
      actor: user,
      origin: { ...m.origin, via: "dialog" },
      reason,
    }),
  );
}

/** Posts an ephemeral answer to a response_url (Slack accepts a few, for 30 minutes). */
async function tell(responseUrl: string | undefined, text: string): Promise<void> {
  if (!responseUrl) return;
  const res = await fetch(responseUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ response_type: "ephemeral", replace_original: false, text }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}
