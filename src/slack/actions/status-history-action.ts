import type { App } from "@slack/bolt";
import { z } from "zod";
import type { Db } from "../../db/client.js";
import { renderHistory } from "../../render/render-history.js";
import { historyView } from "../../services/history-view.js";

const value = z.object({ imageId: z.string().min(1) });

/** The History button of `/patch status IMAGE`: the image's history, only to the clicker. */
export function registerStatusHistoryAction(bolt: App, deps: { db: Db; now: () => Date }): void {
  bolt.action("status_history", async ({ ack, body, respond }) => {
    await ack();
    const raw = "actions" in body ? (body.actions[0] as { value?: string } | undefined)?.value : undefined;
    let parsed: z.infer<typeof value> | null = null;
    try {
      parsed = value.parse(JSON.parse(raw ?? ""));
    } catch {
      parsed = null;
    }
    const view = parsed ? await historyView(deps.db, { imageId: parsed.imageId, now: deps.now() }) : null;
    if (!view) {
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: "That image is no longer known; `/patch status` lists your team's images.",
      });
      return;
    }
    const m = renderHistory(view);
    await respond({ response_type: "ephemeral", replace_original: false, text: m.text, blocks: m.blocks });
  });
}
