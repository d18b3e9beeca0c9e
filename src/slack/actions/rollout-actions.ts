import type { App, RespondFn } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import pLimit from "p-limit";
import { z } from "zod";
import type { Logger } from "../../adapters/logger.js";
import { ROLLOUT_ACTIONS } from "../../core/rollout/rollout-card-view.js";
import { loadRollout } from "../../db/rollout-repository.js";
import { renderRolloutCard } from "../../render/render-rollout-card.js";
import { renderApproveModal, renderRejectModal } from "../../render/render-rollout-modals.js";
import { approvalDialogFor } from "../../services/rollouts/approval-dialog.js";
import { approveStage } from "../../services/rollouts/approve-stage.js";
import { cancelRollout } from "../../services/rollouts/cancel-rollout.js";
import { decideStage } from "../../services/rollouts/decide-stage.js";
import { requestRollback } from "../../services/rollouts/request-rollback.js";
import { rolloutCardView } from "../../services/rollouts/rollout-card.js";
import type { Outcome, RolloutDeps } from "../../services/rollouts/rollout-deps.js";
import { startRollout } from "../../services/rollouts/start-rollout.js";
import { answerWithin, clickOrigin } from "./answer-within.js";

export type RolloutActionDeps = { rollouts: RolloutDeps; logger: Logger };

const buttonValue = z.object({ rollout: z.number().int(), stage: z.string(), digest: z.string().nullable() });
const patchNowValue = z.object({ imageId: z.string().min(1), bump: z.string().max(300).optional() });
const reviewValue = z.object({ rolloutId: z.number().int() });
const patchAllValue = z.object({ imageIds: z.array(z.string().min(1)).min(1).max(50) });

const clickBody = z.object({
  user: z.object({ id: z.string(), name: z.string().optional(), username: z.string().optional() }),
  team: z.object({ id: z.string() }).nullish(),
  channel: z.object({ id: z.string() }).nullish(),
  container: z.object({ message_ts: z.string().optional() }).passthrough().nullish(),
  trigger_id: z.string().optional(),
  response_url: z.string().url().optional(),
  actions: z
    .array(
      z.object({ action_id: z.string(), value: z.string().optional(), action_ts: z.string().optional() }),
    )
    .min(1),
});
export type Click = z.infer<typeof clickBody>;

function parseJson<T>(schema: z.ZodType<T>, text: string | undefined): T | null {
  try {
    const r = schema.safeParse(JSON.parse(text ?? ""));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

const AFTER_ACK_CONCURRENCY = 4;

// Deciding whether to open a dialog may not eat into the click's answer time (scenario 8).
const DIALOG_LOOKUP_MS = 400;

/** What a dialog needs, or null if the database does not answer at once. */
async function quick<T>(lookup: Promise<T | null>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), DIALOG_LOOKUP_MS);
  });
  const found = await Promise.race([lookup.catch(() => null), late]);
  clearTimeout(timer);
  return found;
}

const ephemeral = (respond: RespondFn, text: string) =>
  respond({ response_type: "ephemeral", replace_original: false, text });

/**
 * The rollout card's buttons and the "Patch now" / "Review rollout" buttons of digests, alerts,
 * status and App Home. Each click is acknowledged at once; the decision runs in one transaction
 * and its outcome is told only to the clicker (the card itself changes through the outbox).
 */
export function registerRolloutActions(bolt: App, deps: RolloutActionDeps): void {
  // The work after an ack runs a few clicks at a time, so a storm of clicks never keeps the
  // event loop from acknowledging the next one within Slack's 3 s; the rest wait their turn.
  const afterAck = pLimit(AFTER_ACK_CONCURRENCY);
  const act = (
    actionId: string,
    run: (click: Click, respond: RespondFn, client: WebClient) => Promise<void>,
  ) =>
    bolt.action(actionId, async ({ ack, body, respond, client }) => {
      await ack();
      const click = clickBody.safeParse(body);
      if (!click.success) {
        await ephemeral(respond, "This button is out of date; run the command again.");
        return;
      }
      await afterAck(() => run(click.data, respond, client));
    });
  const decide =
    (run: (click: Click, v: z.infer<typeof buttonValue>) => Promise<Outcome>) =>
    async (click: Click, respond: RespondFn) => {
      const v = parseJson(buttonValue, click.actions[0]?.value);
      if (!v)
        return void (await ephemeral(
          respond,
          "This button is out of date; look at the rollout's current card.",
        ));
      await answerWithin(respond, deps.logger, () => run(click, v));
    };
  const actor = (c: Click) => ({ id: c.user.id, name: c.user.username ?? c.user.name ?? null });

  const openApproveDialog = (
    click: Click,
    client: WebClient,
    v: z.infer<typeof buttonValue>,
    shown: { image: string; blocking: string[] },
  ) =>
    client.views.open({
      trigger_id: click.trigger_id ?? "",
      view: renderApproveModal({
        rolloutId: v.rollout,
        stage: v.stage,
        image: shown.image,
        digest: v.digest,
        blocking: shown.blocking,
        privateMetadata: JSON.stringify({
          ...v,
          origin: clickOrigin(click),
          responseUrl: click.response_url,
        }),
      }),
    });

  act(ROLLOUT_ACTIONS.approve, async (click, respond, client) => {
    const v = parseJson(buttonValue, click.actions[0]?.value);
    if (!v)
      return void (await ephemeral(
        respond,
        "This button is out of date; look at the rollout's current card.",
      ));
    // One read of the rollout decides the dialog and serves the approval. Production-like stages
    // are approved in a confirmation dialog; the lookup may not eat into the click's answer time
    // when Postgres stalls (then the approval below reads again and says what is wrong).
    const looked = await quick(
      loadRollout(deps.rollouts.db, v.rollout).then(async (peek) => ({
        peek,
        dialog: peek && click.trigger_id ? await approvalDialogFor(deps.rollouts, peek, v.stage) : null,
      })),
    );
    if (looked?.dialog) return void (await openApproveDialog(click, client, v, looked.dialog));
    const peek = looked?.peek ?? null;
    await answerWithin(respond, deps.logger, async () => {
      const outcome = await approveStage(
        deps.rollouts,
        {
          rolloutId: v.rollout,
          stage: v.stage,
          actor: actor(click),
          buttonDigest: v.digest,
          origin: clickOrigin(click),
        },
        peek,
      );
      // An override is given in the dialog, with a reason.
      if (outcome.needsOverrideReason && click.trigger_id) {
        await openApproveDialog(click, client, v, {
          image: `rollout #${v.rollout}`,
          blocking: outcome.needsOverrideReason,
        });
        return { ok: false, message: "Give the reason for the override in the dialog." };
      }
      return outcome;
    });
  });
  act(ROLLOUT_ACTIONS.reject, async (click, respond, client) => {
    const v = parseJson(buttonValue, click.actions[0]?.value);
    if (!v || !click.trigger_id)
      return void (await ephemeral(
        respond,
        "This button is out of date; look at the rollout's current card.",
      ));
    const view = await quick(rolloutCardView(deps.rollouts, v.rollout));
    await client.views.open({
      trigger_id: click.trigger_id,
      view: renderRejectModal({
        rolloutId: v.rollout,
        stage: v.stage,
        image: view?.image.id ?? `rollout #${v.rollout}`,
        digest: v.digest,
        blocking: [],
        privateMetadata: JSON.stringify({
          ...v,
          origin: clickOrigin(click),
          responseUrl: click.response_url,
        }),
      }),
    });
  });
  // Retry, ask again and promote: a stage decision by the clicker, refused with a reason if not theirs.
  for (const [actionId, kind] of [
    [ROLLOUT_ACTIONS.retry, "retry"],
    [ROLLOUT_ACTIONS.requestAgain, "request_again"],
    [ROLLOUT_ACTIONS.promote, "promote"],
  ] as const) {
    act(
      actionId,
      decide((c, v) =>
        decideStage(deps.rollouts, kind, {
          rolloutId: v.rollout,
          stage: v.stage,
          actor: actor(c),
          origin: clickOrigin(c),
        }),
      ),
    );
  }
  act(
    ROLLOUT_ACTIONS.rollback,
    decide((c, v) =>
      requestRollback(deps.rollouts, {
        rolloutId: v.rollout,
        actor: actor(c),
        origin: clickOrigin(c),
        reason: null,
      }),
    ),
  );
  act(
    ROLLOUT_ACTIONS.cancel,
    decide((c, v) =>
      cancelRollout(deps.rollouts, { rolloutId: v.rollout, actor: actor(c), origin: clickOrigin(c) }),
    ),
  );

  // A base-image drift notice's button carries the bump, so the rollout says why it was started.
  for (const id of ["digest_patch_now", "status_patch_now", "home_patch_now", "drift_patch_now"]) {
    act(id, async (click, respond) => {
      const v = parseJson(patchNowValue, click.actions[0]?.value);
      if (!v)
        return void (await ephemeral(respond, "This button is out of date; run `/patch status` again."));
      await answerWithin(respond, deps.logger, () =>
        startRollout(deps.rollouts, {
          image: v.imageId,
          actor: actor(click),
          origin: clickOrigin(click),
          reason: v.bump ?? "Patch now",
          trigger: v.bump ? "base-image" : "patch-now",
        }),
      );
    });
  }
  // An alert's "Patch all N": one rollout per image, each started (or refused) on its own.
  act("alert_patch_all", async (click, respond) => {
    const v = parseJson(patchAllValue, click.actions[0]?.value);
    if (!v)
      return void (await ephemeral(
        respond,
        "This button is out of date; use the per-image buttons in the thread.",
      ));
    await answerWithin(respond, deps.logger, async () => {
      const outcomes: Outcome[] = [];
      for (const imageId of v.imageIds)
        outcomes.push(
          await startRollout(deps.rollouts, {
            image: imageId,
            actor: actor(click),
            origin: clickOrigin(click),
            reason: "Patch all (new critical alert)",
            trigger: "patch-now",
          }),
        );
      const started = outcomes.filter((o) => o.ok).length;
      return {
        ok: started > 0,
        message: [
          `Started ${started} of ${outcomes.length} rollouts.`,
          ...outcomes.map((o) => `• ${o.message}`),
        ].join("\n"),
      };
    });
  });
  for (const id of ["digest_review_rollout", "home_review_rollout"]) {
    act(id, async (click, respond) => {
      const v = parseJson(reviewValue, click.actions[0]?.value);
      const view = v ? await rolloutCardView(deps.rollouts, v.rolloutId) : null;
      if (!view) return void (await ephemeral(respond, "That rollout no longer exists."));
      const card = renderRolloutCard(view);
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: card.text,
        blocks: card.blocks,
      });
    });
  }
}
