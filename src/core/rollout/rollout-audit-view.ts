/** One audit event about a rollout, as `/patch audit` shows it. */
export type RolloutAuditEntry = {
  seq: number;
  at: Date;
  actor: { id: string; name: string | null };
  action: string;
  outcome: string;
  stage: string | null;
  digest: string | null;
  payload: Record<string, unknown>;
};

/** One patch's history from its request to production: the rollout and its audit events in seq order. */
export type RolloutAuditView = {
  rolloutId: number;
  image: { id: string; repository: string };
  team: { id: string; name: string; channel: string } | null;
  state: string;
  trigger: string;
  reason: string | null;
  requestedBy: { id: string; name: string | null };
  createdAt: Date;
  /** The earliest events; all of them when the rollout has no more than the cap. */
  head: RolloutAuditEntry[];
  /** The latest events, after `skipped` events between them and `head` that were not read. */
  tail: RolloutAuditEntry[];
  skipped: number;
  /** The seq of the trail's last row, so a reader knows what `patchpilot audit verify` covers. */
  chainHeadSeq: number;
};
