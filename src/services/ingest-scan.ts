import { createHash, randomUUID } from "node:crypto";
import { alertWindow, DEFAULT_BURST_WINDOW_MS } from "../core/alerts/alert-window.js";
import type { AuditEventInput } from "../core/audit/audit-event.js";
import { userError } from "../core/errors.js";
import { diffScans, findingKey, type ScanDiff } from "../core/scan/diff-scans.js";
import { type JsonList, readUnreadLists } from "../core/scan/json-list.js";
import { parseImageRef } from "../core/scan/normalize-image-ref.js";
import type { NormalizedFinding, NormalizedReport } from "../core/scan/normalized-report.js";
import { parseScanReport } from "../core/scan/parse-scan-report.js";
import { auditedTransaction } from "../db/audit-repository.js";
import type { Db, Tx } from "../db/client.js";
import { intentsAtCommit, type OutboxIntent } from "../db/outbox-repository.js";
import {
  findingKeysOfScan,
  findScanByContent,
  insertFindings,
  insertScan,
  isOpenRolloutOf,
  lockedImageOf,
  lockImageStatements,
} from "../db/scan-repository.js";
import { homeRefreshIntent } from "./home-refresh-intent.js";

export type IngestResult = {
  scanId: string;
  image: string;
  digest: string;
  team: string | null;
  format: string;
  findings: number;
  diff: ScanDiff;
  /** False when the same report was uploaded before: nothing was stored again. */
  created: boolean;
};

export type IngestInput = {
  /** The parsed report (see `parseReportOrThrow`): the raw document is not kept alive meanwhile. */
  report: NormalizedReport;
  /** From ?image= or --image: needed only when the report does not name the image. */
  imageRef?: string | undefined;
  digest?: string | undefined;
  /** The uploader's team (token or --team); null for an operator's CLI without --team. */
  uploaderTeam: string | null;
  actor: { id: string; name?: string };
  origin: Record<string, unknown>;
  rolloutId?: number | undefined;
};

export type IngestDeps = {
  db: Db;
  now: () => Date;
  /** New-critical alerts of one team within this window are one message (config `alerts.burstWindow`). */
  burstWindowMs?: number;
  /** Called after commit with the outbox ids to deliver (the notification of new criticals). */
  afterCommit?: (outboxIds: number[]) => Promise<void>;
  /** New fixable-critical or known-exploited findings in an owned image (not a rollout's build); after commit. */
  onUrgentFindings?: (image: { imageId: string; repository: string }) => Promise<void>;
  /** A scan uploaded for a rollout (`rollout_id`) names its candidate; called after commit, re-uploads included. */
  onRolloutScan?: (scan: {
    rolloutId: number;
    imageId: string;
    digest: string;
    origin: Record<string, unknown>;
  }) => Promise<void>;
};

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,128}$/;

/**
 * One scan report in, one transaction: the scan, its findings, the diff against the image's
 * previous scan, first-seen/fixed-at bookkeeping, the new-critical notification intent and an
 * audit event. A report identical to one already stored is answered with the stored scan.
 */
export function parseReportOrThrow(doc: unknown, unparsed: readonly JsonList[] = []): NormalizedReport {
  const parsed = parseScanReport(doc);
  // A body that is not JSON is refused as such, even where the report's parser did not look.
  readUnreadLists(unparsed);
  if (!parsed.ok) throw userError(parsed.code, parsed.message, 422);
  return parsed.report;
}

/** What an upload's transaction decided. */
type IngestOutcome = {
  scan: { id: string; format: string; findingCount: number; diff: ScanDiff };
  imageId: string;
  owner: string | null;
  created: boolean;
  /** New fixable-critical or known-exploited findings in an owned image's posture. */
  urgent: boolean;
};

async function storedScan(
  tx: Tx,
  imageId: string,
  digest: string,
  contentHash: string,
  owner: string | null,
) {
  const same = await findScanByContent(tx, imageId, digest, contentHash);
  if (!same) throw new Error(`scan of ${digest} neither inserted nor found`);
  const value: IngestOutcome = { scan: same, imageId, owner, created: false, urgent: false };
  return { value, audits: [] };
}

export async function ingestScan(deps: IngestDeps, input: IngestInput): Promise<IngestResult> {
  const report = input.report;
  const { repository, digest } = identify(report, input);

  const contentHash = hashContent(digest, report.findings);
  const now = deps.now();
  let recorded: ReturnType<typeof intentsAtCommit> | undefined;

  // The image is created if new and locked in the transaction's opening round trip; the audit
  // event and the intents go with the COMMIT, so the chain's lock, which every upload and decision
  // takes, is held for one round trip.
  const opening = lockImageStatements(repository, { digest, contentHash }, input.uploaderTeam);
  const outcome = await auditedTransaction<IngestOutcome>(deps.db, opening, async (tx, opened) => {
    const read = lockedImageOf(opened);
    if (!read.image) {
      refuseOtherTeam(repository, read.owner, input.uploaderTeam);
      // Not locked for another team, then read as the uploader's: its owner changed meanwhile.
      throw userError(
        "image_owner_changed",
        `the owner of ${repository} changed during the upload; nothing was stored, upload again`,
        409,
      );
    }
    const locked = read.image;
    const owner = locked.teamId;
    // The same report again: answered with the stored scan, before reading anything else.
    if (locked.sameScanId !== null) return storedScan(tx, locked.id, digest, contentHash, owner);

    // A build's scan for an open rollout describes a candidate, not what runs: it is kept (the
    // rollout card compares it with the running digest) but moves posture only when the rollout
    // reaches production (see promoteCandidateScan).
    const candidate =
      input.rolloutId !== undefined && (await isOpenRolloutOf(tx, input.rolloutId, locked.id));
    const before = locked.latestScanId ? await findingKeysOfScan(tx, locked.latestScanId) : [];
    const diff = diffScans(before, report.findings);

    const scanId = randomUUID();
    const created = await insertScan(
      tx,
      {
        id: scanId,
        imageId: locked.id,
        digest,
        tag: report.image.tag,
        format: report.format,
        scannerName: report.scanner.name,
        scannerVersion: report.scanner.version,
        contentHash,
        reportCreatedAt: validDate(report.createdAt),
        receivedAt: now,
        findingCount: report.findings.length,
        diff: diff.diff,
        rolloutId: input.rolloutId ?? null,
        uploadedBy: input.actor.id,
        // Bounded: a real image has at most 127 layers; a hostile report must not bloat the row.
        layerDiffIds: report.layers.slice(0, 256).map((l) => l.slice(0, 100)),
      },
      !candidate,
    );
    // Stored meanwhile by a concurrent upload of the same report.
    if (!created) return storedScan(tx, locked.id, digest, contentHash, owner);
    // Not a candidate's: the lifecycle follows, in the same statements.
    await insertFindings(
      tx,
      scanId,
      report.findings,
      candidate ? null : { imageId: locked.id, at: now, present: diff.presentKeys, gone: diff.goneKeys },
    );

    const intents: OutboxIntent[] = [];
    const alerting = report.findings.filter(
      (f) =>
        diff.newKeys.has(findingKey(f)) &&
        ((f.severity === "critical" && f.fixState === "fixed") || f.knownExploited),
    );
    if (alerting.length > 0 && owner !== null && !candidate) {
      // One intent per team and window: the scans of a mass disclosure share it, and its
      // delivery waits for the window to close so it reads them all at once.
      const window = alertWindow(now, deps.burstWindowMs ?? DEFAULT_BURST_WINDOW_MS);
      intents.push({
        kind: "notify.new-findings",
        dedupeKey: `new-findings:${owner}:${window.start.toISOString()}`,
        payload: {
          teamId: owner,
          windowStart: window.start.toISOString(),
          windowEnd: window.end.toISOString(),
        },
        availableAt: window.end,
      });
    }
    // The owning team's posture changed: refresh its viewers' App Homes (coalesced per window).
    if (owner !== null && !candidate) intents.push(homeRefreshIntent(owner, now));
    // The intents go with the audit event and COMMIT; their ids are read once committed.
    recorded = intentsAtCommit(intents);
    const audit: AuditEventInput = {
      at: now,
      actor: { id: input.actor.id, name: input.actor.name ?? null },
      action: "scan.ingested",
      outcome: "ok",
      origin: input.origin,
      resource: {
        image: repository,
        digest,
        scanId,
        ...(input.rolloutId ? { rolloutId: input.rolloutId } : {}),
      },
      payload: {
        format: report.format,
        scanner: `${report.scanner.name}${report.scanner.version ? ` ${report.scanner.version}` : ""}`,
        findings: report.findings.length,
        new: diff.diff.new,
        fixed: diff.diff.fixed,
        newCriticalOrKev: alerting.length,
        candidate,
      },
    };
    const scan = { id: scanId, format: report.format, findingCount: report.findings.length, diff: diff.diff };
    const value = {
      scan,
      imageId: locked.id,
      owner,
      created: true,
      urgent: alerting.length > 0 && owner !== null && !candidate,
    };
    return { value, audits: [audit], closing: recorded.closing };
  });

  const outboxIds = (await recorded?.ids(deps.db)) ?? [];
  if (outboxIds.length > 0) await deps.afterCommit?.(outboxIds);
  if (outcome.urgent && input.rolloutId === undefined)
    await deps.onUrgentFindings?.({ imageId: outcome.imageId, repository });
  if (input.rolloutId !== undefined)
    await deps.onRolloutScan?.({
      rolloutId: input.rolloutId,
      imageId: outcome.imageId,
      digest,
      origin: input.origin,
    });
  const s = outcome.scan;
  return {
    scanId: s.id,
    image: repository,
    digest,
    team: outcome.owner,
    format: s.format,
    findings: s.findingCount,
    diff: s.diff,
    created: outcome.created,
  };
}

function refuseOtherTeam(repository: string, owner: string | null, uploader: string | null): void {
  if (owner === null || uploader === null || owner === uploader) return;
  throw userError(
    "forbidden_image",
    `${repository} is owned by team ${owner}; this token belongs to team ${uploader}. Upload with a token of team ${owner}.`,
    403,
  );
}

function identify(report: NormalizedReport, input: IngestInput): { repository: string; digest: string } {
  let repository: string | null = null;
  let refDigest: string | null = null;
  if (input.imageRef !== undefined) {
    const ref = parseImageRef(input.imageRef);
    if (!ref)
      throw userError(
        "bad_image",
        `"${input.imageRef.slice(0, 200)}" is not an image reference (e.g. ghcr.io/acme/api:1.2)`,
        400,
      );
    repository = ref.repository;
    refDigest = ref.digest;
  }
  repository ??= report.image.repository;
  if (!repository) {
    throw userError(
      "image_required",
      "the report does not name the image it scanned; pass ?image=REPOSITORY (or --image) with the upload",
      422,
    );
  }
  const requested = input.digest ?? refDigest;
  if (requested !== null && !DIGEST.test(requested)) {
    throw userError(
      "bad_digest",
      `"${requested.slice(0, 100)}" is not an image digest (expected sha256:<64 hex>)`,
      400,
    );
  }
  const fromReport = report.image.digest;
  if (fromReport && requested && fromReport !== requested) {
    throw userError(
      "digest_mismatch",
      `the report is for ${fromReport} but the upload says ${requested}; upload the report of the image you name`,
      422,
    );
  }
  const digest = fromReport ?? requested;
  if (!digest) {
    throw userError(
      "digest_required",
      "the report does not name the image digest; pass ?digest=sha256:… (or --digest) with the upload",
      422,
    );
  }
  return { repository, digest };
}

function hashContent(digest: string, list: readonly NormalizedFinding[]): string {
  const h = createHash("sha256").update(digest);
  const rows = list.map(
    (f) => `${f.fingerprint}|${f.severity}|${f.fixState}|${f.fixedVersions.join(",")}|${f.knownExploited}`,
  );
  // One update of the joined rows: the same bytes as "\n" + row for each row, without a call per row.
  if (rows.length > 0) h.update(`\n${rows.sort().join("\n")}`);
  return h.digest("hex");
}

function validDate(s: string | null): Date | null {
  if (s === null) return null;
  const d = new Date(s);
  return Number.isFinite(d.getTime()) ? d : null;
}
