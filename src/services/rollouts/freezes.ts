import { and, eq, isNull } from "drizzle-orm";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import type { Freeze } from "../../core/windows/freeze.js";
import { appendAuditEvent } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import type { Tx } from "../../db/rollout-repository.js";
import { runtimeFreezes } from "../../db/schema/index.js";
import { escapeMrkdwn } from "../../render/slack-message.js";
import type { Actor, Origin, Outcome } from "./rollout-deps.js";

const DAY_MS = 86_400_000;
// A freeze set from Slack lasts until someone lifts it.
const UNTIL_LIFTED = new Date("9999-12-31T00:00:00Z");

/** A config date: a bare `to` date includes that whole day (UTC), so "to: 2027-01-04" means through the 4th. */
function configInstant(value: string, end: boolean): Date {
  const t = Date.parse(/T/.test(value) ? value : `${value}T00:00:00Z`);
  return new Date(end && !/T/.test(value) ? t + DAY_MS : t);
}

/**
 * The config file's freezes and the ones set with `/patch freeze`, in one list; `read` is the
 * latter when the caller has read them already (a rollout transaction reads them as it opens).
 */
export async function listFreezes(
  db: Db | Tx,
  config: PatchpilotConfig,
  read?: ReadonlyArray<typeof runtimeFreezes.$inferSelect>,
): Promise<Freeze[]> {
  const fromConfig: Freeze[] = config.freezes.map((f) => ({
    id: f.id,
    from: configInstant(f.from, false),
    to: configInstant(f.to, true),
    environments: f.environments,
    reason: f.reason,
  }));
  const runtime = read ?? (await db.select().from(runtimeFreezes).where(isNull(runtimeFreezes.endedAt)));
  return [
    ...fromConfig,
    ...runtime.map((r) => ({
      id: `slack-${r.id}`,
      from: r.startedAt,
      to: UNTIL_LIFTED,
      environments: r.environment === "all" ? ("all" as const) : [r.environment],
      reason: `${escapeMrkdwn(r.reason)} (set by <@${r.startedBy}>)`,
    })),
  ];
}

/**
 * `/patch freeze <env|all> on|off --reason …`: starts or lifts a freeze. Approved stages that are
 * waiting are re-checked at dispatch time, so turning a freeze on stops them and off releases them.
 */
export async function setFreeze(
  deps: { db: Db; now: () => Date },
  input: { environment: string; on: boolean; reason: string; actor: Actor; origin: Origin },
): Promise<Outcome> {
  const now = deps.now();
  return deps.db.transaction(async (tx) => {
    const active = (
      await tx
        .select()
        .from(runtimeFreezes)
        .where(and(eq(runtimeFreezes.environment, input.environment), isNull(runtimeFreezes.endedAt)))
        .for("update")
    )[0];
    const what = input.environment === "all" ? "all environments" : input.environment;
    if (input.on) {
      if (active)
        return {
          ok: false,
          message: `${what} is already frozen since ${active.startedAt.toISOString().slice(0, 16)}Z (by <@${active.startedBy}>: ${escapeMrkdwn(active.reason)}).`,
        };
      const inserted = await tx
        .insert(runtimeFreezes)
        .values({
          environment: input.environment,
          reason: input.reason,
          startedBy: input.actor.id,
          startedAt: now,
        })
        .onConflictDoNothing()
        .returning({ id: runtimeFreezes.id });
      if (!inserted[0]) return { ok: false, message: `${what} was frozen by someone else a moment ago.` };
    } else {
      if (!active) return { ok: false, message: `${what} is not frozen from Slack; nothing to lift.` };
      await tx
        .update(runtimeFreezes)
        .set({ endedAt: now, endedBy: input.actor.id })
        .where(eq(runtimeFreezes.id, active.id));
    }
    await appendAuditEvent(tx, {
      at: now,
      actor: input.actor,
      action: input.on ? "freeze.started" : "freeze.lifted",
      outcome: "ok",
      origin: input.origin,
      resource: { environment: input.environment },
      payload: { reason: input.reason },
    });
    return {
      ok: true,
      message: input.on
        ? `:ice_cube: ${what} frozen: no deployment will be dispatched until \`/patch freeze ${input.environment} off\`. Reason: ${escapeMrkdwn(input.reason)}`
        : `:sunny: Freeze on ${what} lifted; approved stages waiting for it will be dispatched.`,
    };
  });
}
