import type { WebClient } from "@slack/web-api";
import type { Db } from "../db/client.js";
import { slackPostPayload, upsertSlackMessage } from "../services/upsert-slack-message.js";
import { deliverOutbox } from "./handlers/deliver-outbox.js";
import { reconcileOutbox } from "./handlers/reconcile-outbox.js";
import type { JobHandlers } from "./job-catalogue.js";
import type { JobQueues } from "./job-queues.js";

/** Wires each job handler to exactly the dependencies it uses. */
export function buildJobHandlers(deps: {
  db: Db;
  queues: JobQueues;
  slack: WebClient;
  now: () => Date;
}): JobHandlers {
  return {
    "reconcile-outbox": reconcileOutbox(deps),
    "deliver-outbox": deliverOutbox({
      db: deps.db,
      effects: {
        "slack.post": async (row) => {
          const r = await upsertSlackMessage(deps.db, deps.slack, slackPostPayload.parse(row.payload));
          return { ts: r.ts, updated: r.updated };
        },
      },
    }),
  };
}
