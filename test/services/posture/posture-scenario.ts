import type { Db } from "../../../src/db/client.js";
import {
  addAcceptance,
  addImage,
  addLifecycle,
  addRollout,
  addScan,
  addTeam,
  DAY,
  HOUR,
  type SeedFinding,
} from "./seed-posture.js";

export const NOW = new Date("2026-11-24T12:00:00.000Z");
export const ago = (ms: number) => new Date(NOW.getTime() - ms);
export const later = (ms: number) => new Date(NOW.getTime() + ms);

type Latest = SeedFinding & { firstSeen: Date };

/**
 * payments-api's latest scan (2 h ago), with what each finding is at NOW under the default SLA
 * (critical 7 d, high 30, medium 90, low 180, due soon 7 d before, no known-exploited SLA).
 */
const PAYMENTS_API: Latest[] = [
  // openssl twice (two install paths): one lifecycle row, two findings; due 3 days ago.
  {
    vuln: "CVE-2026-1001",
    pkg: "openssl",
    path: "/usr/lib/a",
    severity: "critical",
    fixedVersions: ["3.0.15"],
    firstSeen: ago(10 * DAY),
  },
  {
    vuln: "CVE-2026-1001",
    pkg: "openssl",
    path: "/usr/lib/b",
    severity: "critical",
    fixedVersions: ["3.0.15"],
    firstSeen: ago(10 * DAY),
  },
  { vuln: "CVE-2026-1002", pkg: "libexpat", severity: "critical", firstSeen: ago(2 * DAY) }, // due in 5 d: due soon
  {
    vuln: "CVE-2026-1003",
    pkg: "zlib",
    severity: "high",
    fixedVersions: ["1.3.1"],
    kev: true,
    firstSeen: ago(40 * DAY),
  }, // breached
  {
    vuln: "CVE-2026-1004",
    pkg: "curl",
    severity: "high",
    fixedVersions: ["8.11.1"],
    firstSeen: ago(5 * DAY),
  }, // within
  {
    vuln: "CVE-2026-1005",
    pkg: "libxml2",
    severity: "medium",
    fixedVersions: ["2.13.5"],
    firstSeen: ago(85 * DAY - HOUR),
  }, // due soon
  { vuln: "CVE-2026-1006", pkg: "glibc", severity: "medium", firstSeen: ago(10 * DAY) }, // within
  { vuln: "CVE-2026-1007", pkg: "bash", severity: "low", fixState: "wont_fix", firstSeen: ago(200 * DAY) }, // breached
  { vuln: "CVE-2026-1008", pkg: "coreutils", severity: "negligible", firstSeen: ago(500 * DAY) }, // no clock
  { vuln: "CVE-2026-1009", pkg: "tar", severity: "unknown", fixState: "unknown", firstSeen: ago(DAY) },
  // Accepted through its alias (the acceptance names the CVE, the scanner reports the GHSA).
  {
    vuln: "GHSA-aaaa-bbbb-cccc",
    aliases: ["CVE-2025-9999"],
    pkg: "lodash",
    severity: "high",
    fixedVersions: ["4.17.21"],
    firstSeen: ago(60 * DAY),
  },
  { vuln: "CVE-2025-7777", pkg: "busybox", severity: "critical", firstSeen: ago(30 * DAY) }, // VEX not_affected
  { vuln: "CVE-2025-5555", pkg: "pcre", severity: "high", firstSeen: ago(50 * DAY) }, // team-wide acceptance
  { vuln: "CVE-2025-4444", pkg: "sqlite", severity: "high", firstSeen: ago(45 * DAY) }, // acceptance expired: breached
  { vuln: "CVE-2025-3333", pkg: "xz", severity: "medium", firstSeen: ago(20 * DAY) }, // acceptance revoked: within
  { vuln: "CVE-2025-2222", pkg: "nghttp2", severity: "critical", firstSeen: ago(20 * DAY) }, // VEX "affected": breached
];

export type Scenario = {
  paymentsApi: string;
  ledgerWorker: string;
  refundsApi: string;
  searchApi: string;
  strayTool: string;
  acceptances: { alias: string; team: string; vex: string };
};

async function latestScan(db: Db, imageId: string, at: Date, findings: Latest[]): Promise<void> {
  await addScan(db, imageId, { at, findings, latest: true });
  const keys = new Map(findings.map((f) => [`${f.vuln}|${f.pkg}`, f]));
  for (const f of keys.values()) {
    await addLifecycle(db, imageId, { vuln: f.vuln, pkg: f.pkg, firstSeen: f.firstSeen.toISOString() });
  }
}

/**
 * Teams payments (payments-api, ledger-worker, refunds-api never scanned), search (search-api) and
 * quiet (no images); one unowned image. Each scanned image has an older scan whose findings must
 * not count.
 */
export async function seedScenario(db: Db): Promise<Scenario> {
  await addTeam(db, "payments", "Payments");
  await addTeam(db, "search", "Search");
  await addTeam(db, "quiet", "Quiet");
  const paymentsApi = await addImage(db, {
    repository: "ghcr.io/acme/payments-api",
    configId: "payments-api",
    teamId: "payments",
  });
  const ledgerWorker = await addImage(db, {
    repository: "ghcr.io/acme/ledger-worker",
    configId: "ledger-worker",
    teamId: "payments",
  });
  const refundsApi = await addImage(db, {
    repository: "ghcr.io/acme/refunds-api",
    configId: "refunds-api",
    teamId: "payments",
  });
  const searchApi = await addImage(db, {
    repository: "ghcr.io/acme/search-api",
    configId: "search-api",
    teamId: "search",
  });
  const strayTool = await addImage(db, { repository: "docker.io/stray/tool" });

  // The older scan: two findings fixed since, plus ones still present.
  await addScan(db, paymentsApi, {
    at: ago(8 * DAY),
    latest: false,
    findings: [
      { vuln: "CVE-2024-0001", pkg: "openssl", severity: "critical", fixedVersions: ["3.0.14"] },
      { vuln: "CVE-2024-0002", pkg: "krb5", severity: "high", kev: true },
      ...PAYMENTS_API.slice(0, 6),
    ],
  });
  await addLifecycle(db, paymentsApi, {
    vuln: "CVE-2024-0001",
    pkg: "openssl",
    firstSeen: ago(30 * DAY).toISOString(),
    fixedAt: ago(2 * HOUR).toISOString(),
  });
  await addLifecycle(db, paymentsApi, {
    vuln: "CVE-2024-0002",
    pkg: "krb5",
    firstSeen: ago(30 * DAY).toISOString(),
    fixedAt: ago(2 * HOUR).toISOString(),
  });
  await latestScan(db, paymentsApi, ago(2 * HOUR), PAYMENTS_API);

  await addScan(db, ledgerWorker, {
    at: ago(9 * DAY),
    latest: false,
    findings: [{ vuln: "CVE-2024-0003", pkg: "openssl", severity: "critical", kev: true }],
  });
  await latestScan(db, ledgerWorker, ago(30 * 60 * 1000), [
    {
      vuln: "CVE-2026-2001",
      pkg: "openssl",
      severity: "critical",
      kev: true,
      fixedVersions: ["3.0.15"],
      firstSeen: ago(DAY),
    },
    { vuln: "CVE-2026-2002", pkg: "libssh", severity: "high", kev: true, firstSeen: ago(DAY) },
  ]);

  await latestScan(db, searchApi, ago(DAY), [
    {
      vuln: "CVE-2026-1004",
      pkg: "curl",
      severity: "high",
      fixedVersions: ["8.11.1"],
      firstSeen: ago(5 * DAY),
    },
    { vuln: "CVE-2026-1006", pkg: "glibc", severity: "medium", firstSeen: ago(10 * DAY) },
    { vuln: "CVE-2026-3001", pkg: "python3", severity: "medium", firstSeen: ago(100 * DAY) },
  ]);
  await latestScan(db, strayTool, ago(3 * DAY), [
    {
      vuln: "CVE-2026-1001",
      pkg: "openssl",
      severity: "critical",
      fixedVersions: ["3.0.15"],
      firstSeen: ago(DAY),
    },
  ]);

  const alias = await addAcceptance(db, {
    vuln: "CVE-2025-9999",
    imageId: paymentsApi,
    until: new Date("2026-12-02T00:00:00Z"),
    reason: "not reachable, no TLS server",
    by: "U0SAM",
    byName: "sam",
    createdAt: ago(10 * DAY),
  });
  const team = await addAcceptance(db, {
    vuln: "CVE-2025-5555",
    teamId: "payments",
    source: "cli",
    until: new Date("2026-12-20T00:00:00Z"),
    reason: "compensating control: WAF rule",
    by: "U0LEE",
    byName: "lee",
  });
  const vex = await addAcceptance(db, {
    vuln: "CVE-2025-7777",
    imageId: paymentsApi,
    source: "vex",
    status: "not_affected",
    until: null,
    reason: "vulnerable_code_not_in_execute_path",
    by: "vex-import",
  });
  // In the record but not in force, or not suppressing, or for other images and teams.
  await addAcceptance(db, { vuln: "CVE-2025-4444", imageId: paymentsApi, until: ago(HOUR) });
  await addAcceptance(db, {
    vuln: "CVE-2025-3333",
    imageId: paymentsApi,
    until: later(30 * DAY),
    revokedAt: ago(DAY),
  });
  await addAcceptance(db, {
    vuln: "CVE-2025-2222",
    imageId: paymentsApi,
    source: "vex",
    status: "affected",
    until: null,
  });
  await addAcceptance(db, {
    vuln: "CVE-2026-1006",
    imageId: paymentsApi,
    source: "vex",
    status: "under_investigation",
    until: null,
  });
  await addAcceptance(db, { vuln: "CVE-2024-0001", imageId: paymentsApi, until: later(10 * DAY) }); // fixed already
  await addAcceptance(db, { vuln: "CVE-2026-1004", imageId: searchApi, until: later(10 * DAY) });
  await addAcceptance(db, { vuln: "CVE-2026-1006", teamId: "search", until: later(10 * DAY) });

  await addRollout(db, paymentsApi, "awaiting_approval");
  await addRollout(db, paymentsApi, "done");
  await addRollout(db, paymentsApi, "rolled_back");
  await addRollout(db, ledgerWorker, "in_progress");

  return { paymentsApi, ledgerWorker, refundsApi, searchApi, strayTool, acceptances: { alias, team, vex } };
}
