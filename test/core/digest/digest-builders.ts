import type { AcceptedRisk } from "../../../src/core/digest/accepted-risk.js";
import type { AwaitingRollout } from "../../../src/core/digest/awaiting-rollout.js";
import type { HomeViewModel } from "../../../src/core/digest/home-view-model.js";
import type { ImageHistory } from "../../../src/core/digest/image-history.js";
import type { ImageRiskRow } from "../../../src/core/digest/image-risk-row.js";
import type { ImageStatus } from "../../../src/core/digest/image-status.js";
import type { NamedImage } from "../../../src/core/digest/named-image.js";
import { type SeverityCounts, severityCounts } from "../../../src/core/digest/severity-counts.js";
import type { SlaBreach } from "../../../src/core/digest/sla-breach.js";
import type { TeamDigest } from "../../../src/core/digest/team-digest.js";
import type { TeamPosture } from "../../../src/core/digest/team-posture.js";
import type { TeamStatus } from "../../../src/core/digest/team-status.js";

// View-models written by hand for the digest, status, history and Home tests, named by what they show.

export const NOW = new Date("2026-11-24T09:00:00Z");
export const DAY = 24 * 60 * 60 * 1000;
export const daysFromNow = (n: number): Date => new Date(NOW.getTime() + n * DAY);

export const counts = (c: Partial<SeverityCounts> = {}): SeverityCounts => severityCounts(c);

export function namedImage(name: string, repository = `ghcr.io/acme/${name}`): NamedImage {
  return { imageId: `id-${name}`, name, repository };
}

export function awaitingRollout(over: Partial<AwaitingRollout> = {}): AwaitingRollout {
  return {
    rolloutId: 218,
    image: namedImage("payments-api"),
    stage: "canary",
    approverGroupId: "S0PAY",
    approvalsMissing: 1,
    reason: "base image bump node:22.10 → 22.11",
    fixes: counts({ critical: 3, high: 6 }),
    requestedAt: daysFromNow(-1),
    expiresAt: null,
    ...over,
  };
}

export function slaBreach(over: Partial<SlaBreach> = {}): SlaBreach {
  return {
    vulnerabilityId: "CVE-2026-1234",
    title: "openssl: heap overflow in X.509 name checks",
    packageName: "openssl",
    severity: "critical",
    knownExploited: true,
    fixable: true,
    image: namedImage("ledger-worker"),
    dueAt: daysFromNow(-2),
    daysPastDue: 2,
    ...over,
  };
}

export function riskRow(name: string, over: Partial<ImageRiskRow> = {}): ImageRiskRow {
  return {
    imageId: `id-${name}`,
    knownExploited: 0,
    breachedCritical: 0,
    critical: 0,
    breachedHigh: 0,
    high: 0,
    fixable: 0,
    medium: 0,
    name,
    repository: `ghcr.io/acme/${name}`,
    latestDigest: `sha256:${"4f1c".repeat(16)}`,
    baseImage: "node:22.10-bookworm-slim",
    baseImageBehindDays: null,
    lastScanAt: daysFromNow(-0.1),
    rollout: null,
    ...over,
  };
}

export function acceptedRisk(over: Partial<AcceptedRisk> = {}): AcceptedRisk {
  return {
    vulnerabilityId: "CVE-2025-9999",
    image: namedImage("search-api"),
    acceptedAt: daysFromNow(-60),
    until: daysFromNow(8),
    revokedAt: null,
    reason: "not reachable, no TLS server",
    acceptedBy: "U0SAM",
    acceptedByName: "sam",
    ...over,
  };
}

export function teamPosture(over: Partial<TeamPosture> = {}): TeamPosture {
  return {
    team: { id: "payments", name: "payments" },
    open: counts({ critical: 4, high: 17, medium: 30, low: 41 }),
    fixable: 22,
    breached: 2,
    dueSoon: 5,
    dueSoonDays: 7,
    acceptedCount: 3,
    scannedImages: 14,
    lastScanAt: new Date(NOW.getTime() - 2 * 60 * 60 * 1000),
    ...over,
  };
}

/** The payments team's week 48, as in the MESSAGES.md sketch. */
export function paymentsDigest(over: Partial<TeamDigest> = {}): TeamDigest {
  return {
    ...teamPosture(),
    periodLabel: "week 48",
    generatedAt: NOW,
    previousOpen: counts({ critical: 6, high: 14, medium: 30, low: 41 }),
    newSinceLast: counts({ high: 3, medium: 2 }),
    rolloutsAwaitingApproval: [awaitingRollout()],
    slaBreaches: [slaBreach()],
    topImages: [
      riskRow("payments-api", {
        critical: 2,
        high: 8,
        fixable: 9,
        rollout: { rolloutId: 218, stage: "canary", awaitingApproval: true },
      }),
      riskRow("ledger-worker", {
        critical: 2,
        breachedCritical: 1,
        knownExploited: 1,
        high: 5,
        fixable: 6,
        baseImageBehindDays: 41,
      }),
      riskRow("refunds-api", { high: 4, medium: 3, fixable: 2 }),
      riskRow("docs-site", { medium: 1 }),
    ],
    baseImagesMoved: [],
    shipped: {
      count: 3,
      fixed: counts({ critical: 4, high: 7 }),
      meanTimeToRemediateCriticalMs: 4.2 * DAY,
    },
    expiringAcceptances: [acceptedRisk()],
    unownedImages: [],
    chartAttached: false,
    ...over,
  };
}

/** Nothing new, nothing breached, nothing to decide: the heartbeat week. */
export function quietDigest(over: Partial<TeamDigest> = {}): TeamDigest {
  return paymentsDigest({
    periodLabel: "week 49",
    open: counts({ high: 3, medium: 8 }),
    previousOpen: counts({ high: 3, medium: 8 }),
    newSinceLast: counts(),
    breached: 0,
    dueSoon: 0,
    rolloutsAwaitingApproval: [],
    slaBreaches: [],
    shipped: { count: 0, fixed: counts(), meanTimeToRemediateCriticalMs: null },
    ...over,
  });
}

export const DIGEST_A = `sha256:4f1c${"a".repeat(60)}`;
export const DIGEST_B = `sha256:9ab0${"b".repeat(60)}`;

/** `/patch status payments-api`, as in the MESSAGES.md sketch. */
export function paymentsApiStatus(over: Partial<ImageStatus> = {}): ImageStatus {
  return {
    generatedAt: NOW,
    image: { ...namedImage("payments-api"), digest: DIGEST_A },
    team: { id: "payments", name: "payments" },
    open: counts({ critical: 2, high: 8, medium: 14, low: 31 }),
    fixable: 9,
    breached: 1,
    firstBreach: { vulnerabilityId: "CVE-2026-1234", dueAt: daysFromNow(-4) },
    baseImage: {
      current: "node:22.10-bookworm-slim",
      checked: true,
      available: "sha256:9ab0c0ffee1234567890abcdef1234567890abcdef1234567890abcdef1234",
      availableSince: daysFromNow(-6),
      fixes: counts({ critical: 2, high: 5 }),
      fromBase: null,
      builtOnAt: null,
      error: null,
    },
    rollouts: [
      {
        rolloutId: 218,
        reason: null,
        stages: [
          { name: "staging", state: "done", approvalsMissing: 0, window: null },
          { name: "canary", state: "awaiting_approval", approvalsMissing: 1, window: null },
          {
            name: "production",
            state: "pending",
            approvalsMissing: 2,
            window: { opensAt: new Date("2026-12-01T09:00:00Z"), timeZone: "Europe/Berlin" },
          },
        ],
      },
    ],
    accepted: [acceptedRisk({ image: namedImage("payments-api") })],
    lastScan: { at: new Date(NOW.getTime() - 2 * 60 * 60 * 1000), scanner: "trivy 0.58.1", findings: 55 },
    ...over,
  };
}

export function teamStatus(images: ImageRiskRow[], over: Partial<TeamPosture> = {}): TeamStatus {
  return { ...teamPosture({ scannedImages: images.length, ...over }), images };
}

/** `/patch history payments-api`: a week with one patch shipped. */
export function paymentsApiHistory(over: Partial<ImageHistory> = {}): ImageHistory {
  return {
    image: namedImage("payments-api"),
    generatedAt: NOW,
    scans: [
      {
        at: daysFromNow(-3),
        digest: DIGEST_A,
        scanner: "trivy 0.58.1",
        newFindings: counts(),
        fixedFindings: counts(),
      },
      {
        at: daysFromNow(-1),
        digest: DIGEST_B,
        scanner: "trivy 0.58.1",
        newFindings: counts({ high: 1 }),
        fixedFindings: counts({ critical: 2, high: 5 }),
      },
    ],
    rollouts: [
      {
        rolloutId: 218,
        finishedAt: daysFromNow(-1),
        fromDigest: DIGEST_A,
        toDigest: DIGEST_B,
        fixed: counts({ critical: 2, high: 5 }),
        outcome: "shipped",
      },
    ],
    acceptances: [
      acceptedRisk({
        vulnerabilityId: "CVE-2024-1111",
        until: daysFromNow(-10),
        acceptedAt: daysFromNow(-100),
        reason: "vendor fix pending",
        acceptedBy: "security-bot",
        acceptedByName: null,
      }),
      acceptedRisk({ image: namedImage("payments-api") }),
    ],
    ...over,
  };
}

/** Maria's App Home: one team, one approval she may give, one breach. */
export function mariaHome(over: Partial<HomeViewModel> = {}): HomeViewModel {
  return {
    viewerId: "U0MARIA",
    generatedAt: NOW,
    teams: [teamPosture()],
    approvalsWaiting: [awaitingRollout()],
    slaBreaches: [slaBreach()],
    ...over,
  };
}

/** Text where every character escapes to five (`&` → `&amp;`): the worst case for a size budget. */
export const ampersands = (n: number): string => "&".repeat(n);

type Sizes = {
  /** Builds the name of image i. */
  imageName: (i: number) => string;
  repository: (i: number) => string;
  text: (i: number) => string;
  title: string;
};

function bigDigest(z: Sizes): TeamDigest {
  // Ids are ours (uuids), never user text, so only names and repositories grow.
  const image = (i: number) => ({ ...namedImage(z.imageName(i), z.repository(i)), imageId: `id-${i}` });
  return paymentsDigest({
    rolloutsAwaitingApproval: Array.from({ length: 50 }, (_, i) =>
      awaitingRollout({
        rolloutId: 1000 + i,
        image: image(i),
        stage: i % 2 === 0 ? "canary" : "production",
        approverGroupId: "S0PAYMENTS",
        reason: z.text(i),
        expiresAt: daysFromNow(i),
      }),
    ),
    slaBreaches: Array.from({ length: 200 }, (_, i) =>
      slaBreach({
        vulnerabilityId: `CVE-2026-${10000 + i}`,
        title: z.title,
        packageName: `libexample-${i}-${z.text(i).slice(0, 30)}`,
        image: image(i),
        knownExploited: i % 3 === 0,
        fixable: i % 4 !== 0,
        daysPastDue: i,
      }),
    ),
    topImages: Array.from({ length: 300 }, (_, i) =>
      riskRow(z.imageName(i), {
        imageId: `id-${i}`,
        repository: z.repository(i),
        knownExploited: i % 5,
        critical: i % 7,
        breachedCritical: i % 3,
        high: i % 11,
        breachedHigh: i % 2,
        fixable: i,
        baseImage: `node:22.${i}-bookworm-slim`,
        baseImageBehindDays: i,
        rollout: { rolloutId: i, stage: "canary", awaitingApproval: i % 2 === 0 },
      }),
    ),
    baseImagesMoved: Array.from({ length: 12 }, (_, i) => ({
      baseImage: `node:22.${i}-bookworm-slim`,
      images: Array.from({ length: 30 }, (_, j) => z.imageName(j)),
      fixes: counts({ critical: i, high: i }),
    })),
    expiringAcceptances: Array.from({ length: 40 }, (_, i) =>
      acceptedRisk({ vulnerabilityId: `CVE-2025-${10000 + i}`, image: image(i), reason: z.text(i) }),
    ),
    unownedImages: Array.from({ length: 30 }, (_, i) => ({
      repository: z.repository(1000 + i),
      open: counts({ critical: i, high: i }),
      lastScanAt: daysFromNow(-i),
    })),
    chartAttached: true,
  });
}

/**
 * The sizing target's largest team (QUALITY.md): 300 images, 200 SLA breaches, 50 rollouts waiting,
 * every finding with a 5,000-character title, and names and reasons as long as real ones get.
 */
export function largestDigest(): TeamDigest {
  return bigDigest({
    imageName: (i) => `payments-settlement-reconciler-${i}`,
    repository: (i) => `ghcr.io/acme-corporation/payments/settlement-reconciler-${i}`,
    text: (i) =>
      `base image bump node:22.10 → 22.11 for the December release train, ticket SEC-${i} `.repeat(3),
    title: `openssl: ${"very long advisory text ".repeat(220)}`.slice(0, 5000),
  });
}

/**
 * The same volumes with hostile text everywhere: 5,000-character names, reasons and titles, each
 * character one that escapes to five, and a team name trying to notify the channel.
 */
export function hostileDigest(): TeamDigest {
  const long = (n: number) => `${ampersands(n / 2)}${"x".repeat(n / 2)}`;
  const d = bigDigest({
    imageName: (i) => `${long(5000)}${i}`,
    repository: (i) => `ghcr.io/acme/${"r".repeat(5000)}-${i}`,
    text: () => long(5000),
    title: long(5000),
  });
  return {
    ...d,
    team: { id: long(5000), name: `<!channel> ${long(5000)}` },
    periodLabel: long(5000),
    rolloutsAwaitingApproval: d.rolloutsAwaitingApproval.map((r) => ({ ...r, stage: long(5000) })),
    slaBreaches: d.slaBreaches.map((b) => ({ ...b, vulnerabilityId: long(5000), packageName: long(5000) })),
    topImages: d.topImages.map((r) => ({ ...r, baseImage: long(5000) })),
    baseImagesMoved: d.baseImagesMoved.map((m) => ({ ...m, baseImage: long(5000) })),
    expiringAcceptances: d.expiringAcceptances.map((a) => ({
      ...a,
      acceptedBy: long(5000),
      acceptedByName: null,
    })),
  };
}
