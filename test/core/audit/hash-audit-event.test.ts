import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AuditEventInput } from "../../../src/core/audit/audit-event.js";
import { GENESIS_HASH, hashAuditEvent } from "../../../src/core/audit/hash-audit-event.js";

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

const event: AuditEventInput = {
  // 11:30 in UTC+02:00 is 09:30 UTC; the hash must use UTC.
  at: new Date("2025-03-04T11:30:00.250+02:00"),
  actor: { id: "U123", name: "Ada" },
  action: "rollout.approve",
  outcome: "ok",
  origin: { team: "T1", channel: "C9", actionTs: "1700000000.000100" },
  resource: { stage: "canary", image: "ghcr.io/acme/api" },
  payload: { reason: "fix CVE-2025-1", approvals: [1, 2] },
};

describe("hashAuditEvent", () => {
  it("hashes the previous hash, a newline and the canonical JSON of the event, as documented", () => {
    // Written out by hand: this is the format every existing trail was hashed with.
    const canonical =
      '{"action":"rollout.approve","actorId":"U123","actorName":"Ada","at":"2025-03-04T09:30:00.250Z",' +
      '"origin":{"actionTs":"1700000000.000100","channel":"C9","team":"T1"},"outcome":"ok",' +
      '"payload":{"approvals":[1,2],"reason":"fix CVE-2025-1"},' +
      '"resource":{"image":"ghcr.io/acme/api","stage":"canary"},"seq":7}';
    expect(hashAuditEvent(GENESIS_HASH, 7, event)).toBe(sha256(`${GENESIS_HASH}\n${canonical}`));
  });

  it("records a missing actor name as null", () => {
    const { name: _name, ...actor } = event.actor;
    const unnamed = { ...event, actor };
    expect(hashAuditEvent(GENESIS_HASH, 1, unnamed)).toBe(
      hashAuditEvent(GENESIS_HASH, 1, { ...event, actor: { id: "U123", name: null } }),
    );
    expect(hashAuditEvent(GENESIS_HASH, 1, unnamed)).not.toBe(hashAuditEvent(GENESIS_HASH, 1, event));
  });

  it("depends on the previous hash and the seq", () => {
    const base = hashAuditEvent(GENESIS_HASH, 1, event);
    expect(hashAuditEvent("1".repeat(64), 1, event)).not.toBe(base);
    expect(hashAuditEvent(GENESIS_HASH, 2, event)).not.toBe(base);
  });

  it("refuses an invalid date and values JSON cannot carry", () => {
    expect(() => hashAuditEvent(GENESIS_HASH, 1, { ...event, at: new Date(Number.NaN) })).toThrow(
      /invalid date/,
    );
    expect(() => hashAuditEvent(GENESIS_HASH, 1, { ...event, payload: { reason: undefined } })).toThrow(
      /undefined at \$\.payload\.reason/,
    );
  });
});
