/** What a use case records: who did what to which resource, from where, and with what result. */
export type AuditEventInput = {
  at: Date;
  actor: { id: string; name?: string | null };
  action: string;
  outcome: "ok" | "denied" | "refused" | "failed" | (string & {});
  /** Slack team/channel/message/action ts, a GitHub delivery id, or `{ source: "cli" | "system" }`. */
  origin: Record<string, unknown>;
  /** Image, digest, stage, run, rollout… */
  resource: Record<string, unknown>;
  payload: Record<string, unknown>;
};

/** The hashed part of a stored row. JSON columns are `unknown` because they come back from the database. */
export type AuditRecord = {
  seq: number;
  at: Date;
  actorId: string;
  actorName: string | null;
  action: string;
  outcome: string;
  origin: unknown;
  resource: unknown;
  payload: unknown;
};

export type StoredAuditEvent = AuditRecord & { prevHash: string; hash: string };

export type ChainHead = { seq: number; hash: string };

export function toAuditRecord(seq: number, event: AuditEventInput): AuditRecord {
  return {
    seq,
    at: event.at,
    actorId: event.actor.id,
    actorName: event.actor.name ?? null,
    action: event.action,
    outcome: event.outcome,
    origin: event.origin,
    resource: event.resource,
    payload: event.payload,
  };
}
