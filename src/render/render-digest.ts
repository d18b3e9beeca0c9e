import { isQuietDigest } from "../core/digest/is-quiet-digest.js";
import type { TeamDigest } from "../core/digest/team-digest.js";
import { renderDigestHeartbeat } from "./render-digest-heartbeat.js";
import { renderDigestLists } from "./render-digest-lists.js";
import { renderDigestMain } from "./render-digest-main.js";
import { renderDigestThread } from "./render-digest-thread.js";
import { renderFitted } from "./render-fitted.js";
import type { SlackMessage } from "./slack-message.js";

/** Items per list in the channel message; the full lists go to the thread. */
export const DIGEST_SHOWN = 5;

export type RenderedDigest = {
  /** The one top-level message in the team's channel. */
  main: SlackMessage;
  /** Replies to post in its thread, in order; empty when nothing was cut. */
  thread: SlackMessage[];
};

/**
 * A team's weekly digest: what needs a decision first, then the numbers and detail. A quiet week
 * is a one-line heartbeat. Every message is within Slack's limits (lists are cut to fit).
 */
export function renderDigest(d: TeamDigest): RenderedDigest {
  const lists = renderDigestLists(d);
  if (isQuietDigest(d)) return { main: renderDigestHeartbeat(d, lists.title), thread: [] };
  const { rendered, shown } = renderFitted((n) => renderDigestMain(d, lists, n), "message", DIGEST_SHOWN);
  return { main: rendered, thread: renderDigestThread(d, lists, shown) };
}
