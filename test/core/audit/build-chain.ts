import type { AuditEventInput, StoredAuditEvent } from "../../../src/core/audit/audit-event.js";
import { toAuditRecord } from "../../../src/core/audit/audit-event.js";
import { GENESIS_HASH, hashAuditRecord } from "../../../src/core/audit/hash-audit-event.js";

/** Test data: a well-formed chain of the given events, as the database would return it. */
export function buildChain(events: AuditEventInput[]): StoredAuditEvent[] {
  const rows: StoredAuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (const [i, event] of events.entries()) {
    const record = toAuditRecord(i + 1, event);
    const hash = hashAuditRecord(prevHash, record);
    rows.push({ ...record, prevHash, hash });
    prevHash = hash;
  }
  return rows;
}

export function sampleEvent(n: number): AuditEventInput {
  return {
    at: new Date(Date.UTC(2025, 0, 1, 9, 0, n)),
    actor: { id: `U${n}`, name: `user ${n}` },
    action: "rollout.approve",
    outcome: "ok",
    origin: { slack: { team: "T1", channel: "C1", actionTs: `${n}.0001` } },
    resource: { image: "ghcr.io/acme/api", digest: `sha256:${String(n).padStart(64, "0")}`, stage: "canary" },
    payload: { n },
  };
}

export const sampleChain = (length: number) =>
  buildChain(Array.from({ length }, (_, i) => sampleEvent(i + 1)));
