import { and, eq, inArray, sql } from "drizzle-orm";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import { userError } from "../../core/errors.js";
import type { Severity } from "../../core/scan/normalized-report.js";
import { acceptanceExpiryCheck } from "../../core/sla/acceptance-expiry-check.js";
import { DAY_MS } from "../../core/sla/sla-policy.js";
import { appendAuditEvent } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { riskAcceptances } from "../../db/schema/index.js";
import { refreshHomesOf } from "../home-refresh-intent.js";
import { checkVulnerabilityId } from "./check-vulnerability-id.js";
import { findFindingSeverity } from "./find-finding-severity.js";
import { findImage, type ImageRow } from "./find-image.js";
import { findTeam } from "./find-team.js";
import { PERSON_SOURCES, type RiskAcceptance, validAcceptanceAt } from "./valid-acceptance.js";

export type AcceptRiskDeps = { db: Db; config: PatchpilotConfig; now: () => Date };

export type AcceptRiskInput = {
  vulnerabilityId: string;
  target: { imageRef: string } | { teamId: string };
  until: Date;
  reason: string;
  actor: { id: string; name?: string };
  source: "slack" | "cli";
  /** Slack team/channel/action, or `{ source: "cli" }`: recorded in the audit trail. */
  origin: Record<string, unknown>;
};

/** The stored acceptance, and the severity its expiry was checked against (null: not currently found). */
export type AcceptedRisk = RiskAcceptance & { severity: Severity | null };

const MIN_REASON = 10;
const MAX_REASON = 2000;

/**
 * Records that a person accepts a vulnerability in one image or in all images of a team until a
 * date no later than the policy allows for its severity. The insert and its audit event commit
 * together; a second acceptance of the same vulnerability and target is refused while one holds.
 */
export async function acceptRisk(deps: AcceptRiskDeps, input: AcceptRiskInput): Promise<AcceptedRisk> {
  const now = deps.now();
  const askedId = checkVulnerabilityId(input.vulnerabilityId);
  const reason = checkReason(input.reason);
  const target = await resolveTarget(deps.db, input.target);

  const finding = await findFindingSeverity(
    deps.db,
    askedId,
    target.kind === "image" ? { imageId: target.image.id } : { teamId: target.teamId },
  );
  checkExpiry(deps.config, finding?.severity ?? null, input.until, now, `${askedId} in ${target.label}`);
  const vulnerabilityId = finding?.vulnerabilityId ?? askedId;

  const row = await deps.db.transaction(async (tx) => {
    // Serializes acceptances of the same vulnerability and target, so two clicks cannot both pass the check below.
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtext('risk-acceptance'), hashtext(${`${vulnerabilityId}|${target.key}`}))`,
    );
    const [current] = await tx
      .select()
      .from(riskAcceptances)
      .where(
        and(
          eq(riskAcceptances.vulnerabilityId, vulnerabilityId),
          target.kind === "image"
            ? eq(riskAcceptances.imageId, target.image.id)
            : eq(riskAcceptances.teamId, target.teamId),
          inArray(riskAcceptances.source, [...PERSON_SOURCES]),
          validAcceptanceAt(now),
        ),
      )
      .limit(1);
    if (current) {
      throw userError(
        "already_accepted",
        `${vulnerabilityId} in ${target.label} is already accepted until ${isoDay(current.expiresAt)} by ${
          current.acceptedByName ?? current.acceptedBy
        }. Revoke that acceptance first to change its date or reason.`,
        409,
      );
    }
    const [inserted] = await tx
      .insert(riskAcceptances)
      .values({
        vulnerabilityId,
        imageId: target.kind === "image" ? target.image.id : null,
        teamId: target.kind === "team" ? target.teamId : null,
        source: input.source,
        status: "accepted",
        reason,
        acceptedBy: input.actor.id,
        acceptedByName: input.actor.name ?? null,
        createdAt: now,
        expiresAt: input.until,
      })
      .returning();
    if (!inserted) throw new Error("risk acceptance insert returned nothing");
    await refreshHomesOf(tx, [target.kind === "image" ? target.image.teamId : target.teamId], now);
    await appendAuditEvent(tx, {
      at: now,
      actor: { id: input.actor.id, name: input.actor.name ?? null },
      action: "risk.accepted",
      outcome: "ok",
      origin: input.origin,
      resource: { acceptanceId: inserted.id, vulnerabilityId, ...target.resource },
      payload: {
        until: input.until.toISOString(),
        reason,
        severity: finding?.severity ?? null,
        source: input.source,
      },
    });
    return inserted;
  });
  return { ...row, severity: finding?.severity ?? null };
}

type Target =
  | { kind: "image"; image: ImageRow; key: string; label: string; resource: Record<string, string> }
  | { kind: "team"; teamId: string; key: string; label: string; resource: Record<string, string> };

async function resolveTarget(db: Db, target: AcceptRiskInput["target"]): Promise<Target> {
  if ("imageRef" in target) {
    const image = await findImage(db, target.imageRef);
    return {
      kind: "image",
      image,
      key: `image:${image.id}`,
      label: image.repository,
      resource: { image: image.repository, imageId: image.id },
    };
  }
  const team = await findTeam(db, target.teamId);
  return {
    kind: "team",
    teamId: team.id,
    key: `team:${team.id}`,
    label: `every image of team ${team.id}`,
    resource: { team: team.id },
  };
}

function checkReason(text: string): string {
  const reason = text.trim();
  if (reason.length < MIN_REASON) {
    throw userError(
      "reason_required",
      `say why the risk is acceptable (at least ${MIN_REASON} characters), e.g. "not reachable: the service never parses untrusted XML"`,
      400,
    );
  }
  if (reason.length > MAX_REASON) {
    throw userError(
      "reason_too_long",
      `keep the reason under ${MAX_REASON} characters; link to a ticket for more`,
      400,
    );
  }
  return reason;
}

/**
 * The policy's maxima cover critical to low. A negligible finding gets low's; an unknown severity,
 * or a vulnerability not currently found, gets the strictest, since nobody knows how bad it is.
 */
function checkExpiry(
  config: PatchpilotConfig,
  severity: Severity | null,
  until: Date,
  now: Date,
  what: string,
): void {
  const m = config.sla.acceptanceMaxDays;
  const strictest = Math.min(m.critical, m.high, m.medium, m.low);
  const maxDays: Partial<Record<Severity, number>> = { ...m, negligible: m.low, unknown: strictest };
  const check = acceptanceExpiryCheck(severity ?? "unknown", until, now, maxDays);
  if (check.ok) return;
  const tooLong = !Number.isNaN(until.getTime()) && until.getTime() > now.getTime();
  if (severity === null && tooLong) {
    const latest = new Date(now.getTime() + strictest * DAY_MS);
    throw userError(
      "expiry_too_long",
      `${what} is not currently present in the latest scan, so the strictest maximum applies: at most ${strictest} days (until ${isoDay(latest)} at the latest)`,
      400,
    );
  }
  throw userError(tooLong ? "expiry_too_long" : "bad_expiry", `${what}: ${check.message}`, 400);
}

const isoDay = (d: Date | null) => (d === null ? "further notice" : d.toISOString().slice(0, 10));
