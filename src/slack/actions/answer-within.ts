import type { RespondFn } from "@slack/bolt";
import type { Logger } from "../../adapters/logger.js";
import type { Outcome } from "../../services/rollouts/rollout-deps.js";

/** Slack's own patience is 3 s; the answer must be in well before (QUALITY.md scenario 8). */
export const ANSWER_WITHIN_MS = 2_000;

/** Where a click came from, for the audit trail: Slack team, channel, message and action ts. */
export function clickOrigin(click: {
  user: { id: string };
  team?: { id: string } | null | undefined;
  channel?: { id: string } | null | undefined;
  container?: { message_ts?: string | undefined } | null | undefined;
  actions?: ReadonlyArray<{ action_id: string; action_ts?: string | undefined }>;
}): Record<string, unknown> {
  return {
    source: "slack",
    team: click.team?.id ?? null,
    channel: click.channel?.id ?? null,
    message: click.container?.message_ts ?? null,
    action: click.actions?.[0]?.action_id ?? null,
    actionTs: click.actions?.[0]?.action_ts ?? null,
    user: click.user.id,
  };
}

/**
 * Runs a decision and tells the clicker its outcome. If the database does not answer in time or
 * fails, the clicker hears within ~2 s that nothing was recorded; the decision's transaction has
 * its own lock and connection timeouts, so it cannot commit half of anything.
 */
export async function answerWithin(
  respond: RespondFn,
  logger: Logger,
  run: () => Promise<Outcome>,
): Promise<void> {
  const say = (text: string) => respond({ response_type: "ephemeral", replace_original: false, text });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ANSWER_WITHIN_MS);
  });
  const work = run().then(
    (o) => ({ kind: "done" as const, o }),
    (e: unknown) => ({ kind: "error" as const, e }),
  );
  const first = await Promise.race([work, late]);
  clearTimeout(timer);
  const report = async (r: Awaited<typeof work>) => {
    if (r.kind === "done") return say(r.o.message);
    const reference = `ERR-${Date.now().toString(36).toUpperCase()}`;
    logger.error(
      { err: r.e instanceof Error ? r.e.message : String(r.e), reference },
      "rollout decision failed",
    );
    return say(
      `:warning: Nothing changed: patchpilot could not record your click (its database did not answer). Try again in a minute. Reference: ${reference}`,
    );
  };
  if (first !== "late") return void (await report(first));
  await say(
    ":hourglass_flowing_sand: patchpilot's database is slow to answer; your click is not recorded yet. If it goes through the card will show it and you will hear from me; otherwise nothing changed — try again in a minute.",
  );
  await report(await work);
}
