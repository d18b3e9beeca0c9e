import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { userError } from "../../core/errors.js";
import { lenientList, optional, optionalText } from "../../core/scan/lenient.js";
import { parseVex } from "../../core/vex/parse-vex.js";
import type { VexFormat, VexStatement } from "../../core/vex/vex-statement.js";
import { appendAuditEvent } from "../../db/audit-repository.js";
import type { Db } from "../../db/client.js";
import { riskAcceptances } from "../../db/schema/index.js";
import { refreshHomesOf } from "../home-refresh-intent.js";
import type { ImageRow } from "./find-image.js";
import { findScannerIds } from "./find-scanner-ids.js";
import { findTeam } from "./find-team.js";
import { findVexImages } from "./find-vex-images.js";
import { vexProductTarget } from "./vex-product-target.js";

export type VexImportInput = {
  doc: unknown;
  actor: { id: string; name?: string };
  origin: Record<string, unknown>;
  /** The uploading token's team: statements about another team's images are refused. */
  teamId?: string;
};

/** Why a statement, or one product of it, was not applied. Nothing is dropped silently. */
export type VexImportSkip = { vulnerabilityId: string; product?: string; reason: string };

export type VexImportSummary = {
  format: VexFormat;
  document: { id: string | null; author: string | null };
  /** Statements in the document, readable or not. */
  statements: number;
  /** Decisions (one vulnerability in one image) recorded by this import. */
  imported: number;
  /** Decisions already recorded by an earlier import of the same statement. */
  unchanged: number;
  /** Earlier VEX decisions on the same vulnerability and image that this import replaced. */
  superseded: number;
  skipped: VexImportSkip[];
  /** Statements without a vulnerability id or with an unknown status. */
  unreadable: number;
};

type Decision = { statement: VexStatement; order: number; image: ImageRow; vulnerabilityId: string };

const metaSchema = z.object({
  "@id": optionalText,
  author: optionalText,
  serialNumber: optionalText,
  metadata: optional(z.object({ authors: lenientList(z.object({ name: optionalText })) })),
});

/**
 * Applies an OpenVEX or CycloneDX VEX document: each statement is recorded for every known
 * image its products name, with its status, justification and impact statement and no expiry.
 * One transaction and one audit event for the whole document. Importing it again changes
 * nothing; a later statement with another status on the same vulnerability and image replaces
 * the earlier decision, as VEX statements override earlier ones.
 */
export async function importVex(
  deps: { db: Db; now: () => Date },
  input: VexImportInput,
): Promise<VexImportSummary> {
  const now = deps.now();
  const parsed = parseVex(input.doc);
  if (!parsed.ok) throw userError(parsed.code, parsed.message, 422);
  if (input.teamId !== undefined) await findTeam(deps.db, input.teamId);
  const meta = metaSchema.parse(input.doc);
  const document = {
    id: meta["@id"] ?? meta.serialNumber,
    author: meta.author ?? meta.metadata?.authors.find((a) => a.name !== null)?.name ?? null,
  };

  const named = parsed.statements.map((statement) =>
    statement.products.map((product) => ({ product, target: vexProductTarget(product) })),
  );
  const imagesOf = await findVexImages(
    deps.db,
    named.flat().map((n) => n.target),
  );

  const skipped: VexImportSkip[] = [];
  const matched: Array<{ statement: VexStatement; order: number; image: ImageRow }> = [];
  parsed.statements.forEach((statement, order) => {
    const vulnerabilityId = statement.vulnerabilityId;
    if (statement.products.length === 0) {
      skipped.push({ vulnerabilityId, reason: "the statement names no product" });
    }
    for (const { product, target } of named[order] ?? []) {
      if (target.kind === "unusable") {
        skipped.push({ vulnerabilityId, product, reason: target.reason });
        continue;
      }
      const found = imagesOf(target);
      if (found.length === 0) {
        const where =
          target.kind === "digest" ? `at digest ${target.digest}` : `in ${target.repositories.join(" or ")}`;
        skipped.push({
          vulnerabilityId,
          product,
          reason: `no known image is ${where}: upload a scan of it or add it to patchpilot.yaml first`,
        });
        continue;
      }
      for (const image of found) {
        if (input.teamId !== undefined && image.teamId !== null && image.teamId !== input.teamId) {
          skipped.push({
            vulnerabilityId,
            product,
            reason: `${image.repository} is owned by team ${image.teamId}; this upload is for team ${input.teamId}`,
          });
        } else {
          matched.push({ statement, order, image });
        }
      }
    }
  });

  const scannerIds = await findScannerIds(
    deps.db,
    matched.map((m) => m.image.id),
    parsed.statements.flatMap((s) => [s.vulnerabilityId, ...s.aliases]),
  );
  const decisions = latestPerImageAndVulnerability(
    matched.map((m) => {
      const ids = scannerIds.get(m.image.id);
      const known = [m.statement.vulnerabilityId, ...m.statement.aliases].find((id) => ids?.has(id));
      return { ...m, vulnerabilityId: (known && ids?.get(known)) ?? m.statement.vulnerabilityId };
    }),
  );

  const counts = await deps.db.transaction(async (tx) => {
    // Two imports at once would both see "not recorded yet" and record twice.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('vex-import'), 0)`);
    const imageIds = [...new Set(decisions.map((d) => d.image.id))];
    const active =
      imageIds.length === 0
        ? []
        : await tx
            .select()
            .from(riskAcceptances)
            .where(
              and(
                eq(riskAcceptances.source, "vex"),
                isNull(riskAcceptances.revokedAt),
                inArray(riskAcceptances.imageId, imageIds),
                inArray(riskAcceptances.vulnerabilityId, [
                  ...new Set(decisions.map((d) => d.vulnerabilityId)),
                ]),
              ),
            );
    const rows: Array<typeof riskAcceptances.$inferInsert> = [];
    const replaced = new Set<string>();
    let unchanged = 0;
    for (const d of decisions) {
      const same = active.filter((r) => r.imageId === d.image.id && r.vulnerabilityId === d.vulnerabilityId);
      if (same.some((r) => r.status === d.statement.status)) {
        unchanged++;
        continue;
      }
      for (const r of same) replaced.add(r.id);
      rows.push({
        vulnerabilityId: d.vulnerabilityId,
        imageId: d.image.id,
        source: "vex",
        status: d.statement.status,
        justification: d.statement.justification?.slice(0, 200) ?? null,
        reason: (d.statement.impactStatement ?? defaultReason(d.statement, document)).slice(0, 2000),
        acceptedBy: input.actor.id,
        acceptedByName: input.actor.name ?? null,
        createdAt: now,
      });
    }
    if (rows.length > 0) await tx.insert(riskAcceptances).values(rows);
    if (replaced.size > 0) {
      await tx
        .update(riskAcceptances)
        .set({ revokedAt: now })
        .where(inArray(riskAcceptances.id, [...replaced]));
    }
    if (rows.length > 0 || replaced.size > 0)
      await refreshHomesOf(
        tx,
        decisions.map((d) => d.image.teamId),
        now,
      );
    const result = { imported: rows.length, unchanged, superseded: replaced.size };
    await appendAuditEvent(tx, {
      at: now,
      actor: { id: input.actor.id, name: input.actor.name ?? null },
      action: "vex.imported",
      outcome: "ok",
      origin: input.origin,
      resource: {
        document: document.id,
        images: [...new Set(decisions.map((d) => d.image.repository))].sort(),
      },
      payload: {
        format: parsed.format,
        author: document.author,
        statements: parsed.statements.length + parsed.skippedStatements,
        ...result,
        skipped: skipped.length,
        unreadable: parsed.skippedStatements,
        ...(input.teamId === undefined ? {} : { team: input.teamId }),
      },
    });
    return result;
  });

  return {
    format: parsed.format,
    document,
    statements: parsed.statements.length + parsed.skippedStatements,
    ...counts,
    skipped,
    unreadable: parsed.skippedStatements,
  };
}

/** The statement that holds for each image and vulnerability: the latest, or the last written. */
function latestPerImageAndVulnerability(decisions: Decision[]): Decision[] {
  const time = (d: Decision) => {
    const t = d.statement.timestamp === null ? Number.NaN : Date.parse(d.statement.timestamp);
    return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
  };
  const ordered = [...decisions].sort((a, b) => time(a) - time(b) || a.order - b.order);
  const latest = new Map<string, Decision>();
  for (const d of ordered) latest.set(`${d.image.id}\u0000${d.vulnerabilityId}`, d);
  return [...latest.values()];
}

function defaultReason(
  statement: VexStatement,
  document: { id: string | null; author: string | null },
): string {
  const by = document.author === null ? "" : ` by ${document.author}`;
  const doc = document.id === null ? "" : ` (${document.id})`;
  const status = statement.status.replace("_", " ");
  return statement.status === "affected"
    ? `affected according to the VEX document${by}${doc}, which gives no action statement`
    : `${status} according to the VEX document${by}${doc}`;
}
