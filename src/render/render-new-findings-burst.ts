import type { KnownBlock, SectionBlock } from "@slack/types";
import { checkBlockKitLimits } from "./block-kit-limits.js";
import { renderAlertFindingLine } from "./render-alert-finding-line.js";
import type { AlertFinding } from "./render-new-findings-alert.js";
import { SEVERITY_MARK, shortDigest, slackDate } from "./severity.js";
import { escapeMrkdwn, type SlackMessage } from "./slack-message.js";

export type BurstImage = {
  imageId: string;
  name: string;
  repository: string;
  digest: string;
  /** Most urgent first. */
  findings: AlertFinding[];
};

export type NewFindingsBurst = {
  team: string;
  /** Most urgent first. */
  images: BurstImage[];
  windowStart: Date;
  windowEnd: Date;
};

/** More images or vulnerabilities than this and the per-image detail goes to the thread. */
const LISTED = 5;
const FINDINGS_PER_IMAGE = 10;

type Group = { finding: AlertFinding; images: BurstImage[] };

/**
 * One alert for every new fixable-critical / known-exploited finding of a team's images in one
 * window (MESSAGES.md "New critical alert"): grouped by vulnerability, so a mass disclosure is one
 * message naming the CVE and the images, with per-image detail in thread replies when long.
 */
export function renderNewFindingsBurst(b: NewFindingsBurst): {
  message: SlackMessage;
  thread: SlackMessage[];
} {
  const groups = groupByVulnerability(b.images);
  const first = groups[0];
  const n = b.images.length;
  const team = escapeMrkdwn(b.team);
  const headline =
    groups.length === 1 && first
      ? `${SEVERITY_MARK.critical} New ${first.finding.knownExploited ? "known-exploited" : "fixable"} ${first.finding.severity} in ${n} images owned by ${team}`
      : `${SEVERITY_MARK.critical} ${groups.length} new known-exploited or fixable critical vulnerabilities in ${n} images owned by ${team}`;
  const detailInThread = n > LISTED || groups.length > LISTED;
  const lines = groups.slice(0, LISTED).map((g) => {
    const names = g.images.map((i) => escapeMrkdwn(i.name));
    const shown = names.slice(0, LISTED).join(", ");
    const more = names.length > LISTED ? ` and ${names.length - LISTED} more` : "";
    return `${renderAlertFindingLine(g.finding)}\n      ${shown}${more}`;
  });
  if (groups.length > LISTED) lines.push(`…and ${groups.length - LISTED} more vulnerabilities`);
  if (detailInThread) lines.push("_Every image, with its findings, is in the thread._");

  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${headline}*` } },
    { type: "section", text: { type: "mrkdwn", text: lines.join("\n").slice(0, 2900) } },
  ];
  if (first && b.images.length > 0) blocks.push({ type: "actions", elements: [patchAll(b.images)] });
  blocks.push({
    type: "context",
    elements: [
      {
        type: "mrkdwn",
        text: `Scans received ${slackDate(b.windowStart, "{date_short_pretty} {time}")}–${slackDate(b.windowEnd, "{time}")} · ${n} images`,
      },
    ],
  });
  const lead = first
    ? `: ${escapeMrkdwn(first.finding.vulnerabilityId)} in ${escapeMrkdwn(first.finding.packageName)}${groups.length > 1 ? ` and ${groups.length - 1} more` : ""}`
    : "";
  return {
    message: { text: `${headline}${lead}`, blocks },
    thread: detailInThread ? renderThread(b) : [],
  };
}

function groupByVulnerability(images: BurstImage[]): Group[] {
  const groups = new Map<string, Group>();
  for (const image of images) {
    for (const f of image.findings) {
      const g = groups.get(f.vulnerabilityId);
      if (!g) groups.set(f.vulnerabilityId, { finding: f, images: [image] });
      else if (!g.images.includes(image)) g.images.push(image);
    }
  }
  return [...groups.values()].sort(
    (a, b) =>
      Number(b.finding.knownExploited) - Number(a.finding.knownExploited) ||
      Number(b.finding.severity === "critical") - Number(a.finding.severity === "critical") ||
      b.images.length - a.images.length ||
      (b.finding.cvssScore ?? 0) - (a.finding.cvssScore ?? 0) ||
      a.finding.vulnerabilityId.localeCompare(b.finding.vulnerabilityId),
  );
}

/** Per-image replies, packed greedily so each stays within Block Kit limits. */
function renderThread(b: NewFindingsBurst): SlackMessage[] {
  const replies: KnownBlock[][] = [];
  let current: KnownBlock[] = [];
  for (const image of b.images) {
    const section = imageSection(image);
    const candidate = [...current, section];
    if (current.length > 0 && checkBlockKitLimits({ text: "x", blocks: candidate }, "message").length > 0) {
      replies.push(current);
      current = [section];
    } else {
      current = candidate;
    }
  }
  if (current.length > 0) replies.push(current);
  return replies.map((blocks, i) => ({
    text: `New findings by image (${i + 1} of ${replies.length}), team ${escapeMrkdwn(b.team)}`,
    blocks,
  }));
}

function imageSection(image: BurstImage): SectionBlock {
  const lines = image.findings.slice(0, FINDINGS_PER_IMAGE).map(renderAlertFindingLine);
  if (image.findings.length > FINDINGS_PER_IMAGE) {
    lines.push(
      `…and ${image.findings.length - FINDINGS_PER_IMAGE} more: \`/patch status ${escapeMrkdwn(image.name)}\``,
    );
  }
  const head = `*${escapeMrkdwn(image.name)}* · \`${escapeMrkdwn(shortDigest(image.digest))}\``;
  const top = image.findings[0];
  return {
    type: "section",
    text: { type: "mrkdwn", text: `${head}\n${lines.join("\n")}`.slice(0, 2900) },
    ...(top ? { accessory: patchNow(image.imageId, top.vulnerabilityId, false) } : {}),
  };
}

/** A button value holds at most 2,000 characters: about 45 image ids. */
export const PATCH_ALL_MAX_IMAGES = 40;

/** "Patch all 3": starts a rollout of every image of the burst (the thread has one button each). */
function patchAll(images: BurstImage[]) {
  const ids = images.slice(0, PATCH_ALL_MAX_IMAGES).map((i) => i.imageId);
  const label = images.length === 1 ? "Patch now" : `Patch all ${ids.length}`;
  return {
    type: "button" as const,
    text: { type: "plain_text" as const, text: label },
    action_id: "alert_patch_all",
    value: JSON.stringify({ imageIds: ids }),
    style: "primary" as const,
  };
}

function patchNow(imageId: string, vulnerabilityId: string, primary: boolean) {
  return {
    type: "button" as const,
    text: { type: "plain_text" as const, text: "Patch now" },
    action_id: "digest_patch_now",
    value: JSON.stringify({ imageId, vulnerabilityId: vulnerabilityId.slice(0, 200) }),
    ...(primary ? { style: "primary" as const } : {}),
  };
}
