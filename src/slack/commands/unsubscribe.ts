import { appendAuditEvent } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { renderSubscriptions } from "../../render/render-subscriptions.js";
import { listSubscriptions, removeSlackSubscriptions } from "../../services/digest-subscriptions.js";
import type { Subcommand } from "./subcommand.js";

/** `/patch unsubscribe`: stops the digests this channel subscribed to from Slack. */
export function unsubscribeCommand(deps: {
  db: Db;
  onChange: () => Promise<void>;
  now: () => Date;
}): Subcommand {
  return {
    name: "unsubscribe",
    usage: "/patch unsubscribe",
    summary:
      "Stop the digests this channel subscribed to with /patch subscribe (those from patchpilot.yaml are changed there).",
    examples: ["/patch unsubscribe"],
    async run(ctx) {
      const removed = await deps.db.transaction(async (tx) => {
        const rows = await removeSlackSubscriptions(tx, ctx.channelId);
        for (const row of rows) {
          await appendAuditEvent(tx, {
            at: deps.now(),
            actor: { id: ctx.userId, name: ctx.userName },
            action: "digest.unsubscribed",
            outcome: "ok",
            origin: { source: "slack", team: ctx.teamId, channel: ctx.channelId },
            resource: { subscriptionId: row.id, channel: ctx.channelId },
            payload: { cron: row.cron, timezone: row.timezone, teams: row.teams },
          });
        }
        return rows;
      });
      if (removed.length > 0) await deps.onChange();
      const left = await listSubscriptions(deps.db, ctx.channelId);
      return renderSubscriptions({
        lead:
          removed.length > 0
            ? `Unsubscribed: ${removed.length} digest subscription${removed.length === 1 ? "" : "s"} removed from this channel.`
            : left.length > 0
              ? "Nothing to remove: this channel's digests come from patchpilot.yaml. Remove them from its `digests` section."
              : "This channel has no digest subscriptions.",
        subscriptions: left,
      });
    },
  };
}
