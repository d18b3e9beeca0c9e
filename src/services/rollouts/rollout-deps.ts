import type { PatchpilotConfig } from "../../config/file-schema.js";
import type { Db } from "../../db/client.js";
import type { GroupMembership } from "../group-membership.js";

/** What every rollout use case needs. The GitHub client is added only where a workflow is called. */
export type RolloutDeps = {
  db: Db;
  config: PatchpilotConfig;
  now: () => Date;
  membership: GroupMembership;
  /** Queues outbox intents committed by a decision (the reconciler covers a failure). */
  afterCommit: (outboxIds: number[]) => Promise<void>;
  /** Random hex for dispatch ids; injectable so tests can predict them. */
  randomHex?: (bytes: number) => string;
};

/** A Slack user, or patchpilot itself (`system`) for timers, webhooks and automatic starts. */
export type Actor = { id: string; name: string | null };
export const SYSTEM_ACTOR: Actor = { id: "system", name: "patchpilot" };

/** Where a decision came from: Slack team/channel/message/action ts, a GitHub delivery, the CLI. */
export type Origin = Record<string, unknown>;

/** What the person who clicked or typed is told; `ok: false` means nothing changed. */
export type Outcome = {
  ok: boolean;
  message: string;
  /** Set when the approval needs a reason first: the findings it would override. */
  needsOverrideReason?: string[];
};
