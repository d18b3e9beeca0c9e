import type { KnownBlock, SectionBlock } from "@slack/types";
import { checkBlockKitLimits } from "./block-kit-limits.js";
import { renderAlertFindingFallback, renderAlertFindingLine } from "./render-alert-finding-line.js";
import { clipLine } from "./render-clip.js";
import { renderFitted } from "./render-fitted.js";
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
const MAX_TEAM = 60;
/** Image names in the channel message, five to a vulnerability; the thread shows them longer. */
const MAX_LISTED_NAME = 40;
const MAX_NAME = 80;

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
  const detailInThread = b.images.length > LISTED || groups.length > LISTED;
  // Lines are clipped so five fit in practice; fitting is the guarantee for text that escapes long.
  const { rendered } = renderFitted((shown) => burstMessage(b, groups, shown), "message", LISTED);
  return { message: rendered, thread: detailInThread ? renderThread(b) : [] };
}

function burstMessage(b: NewFindingsBurst, groups: Group[], shown: number): SlackMessage {
  const first = groups[0];
  const n = b.images.length;
  const team = escapeMrkdwn(clipLine(b.team, MAX_TEAM));
  const headline =
    groups.length === 1 && first
      ? `${SEVERITY_MARK.critical} New ${first.finding.knownExploited ? "known-exploited" : "fixable"} ${first.finding.severity} in ${n} images owned by ${team}`
      : `${SEVERITY_MARK.critical} ${groups.length} new known-exploited or fixable critical vulnerabilities in ${n} images owned by ${team}`;
  const lines = groups.slice(0, shown).map((g) => {
    const names = g.images.map((i) => escapeMrkdwn(clipLine(i.name, MAX_LISTED_NAME)));
    const listed = names.slice(0, LISTED).join(", ");
    const more = names.length > LISTED ? ` and ${names.length - LISTED} more` : "";
    return `${renderAlertFindingLine(g.finding)}\n      ${listed}${more}`;
  });
  if (groups.length > shown) lines.push(`…and ${groups.length - shown} more vulnerabilities`);
  if (n > LISTED || groups.length > LISTED) lines.push("_Every image, with its findings, is in the thread._");

  const blocks: KnownBlock[] = [
    { type: "section", text: { type: "mrkdwn", text: `*${headline}*` } },
    { type: "section", text: { type: "mrkdwn", text: lines.join("\n") } },
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
    ? `: ${renderAlertFindingFallback(first.finding)}${groups.length > 1 ? ` and ${groups.length - 1} more` : ""}`
    : "";
  return { text: `${headline}${lead}`, blocks };
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
    text: `New findings by image (${i + 1} of ${replies.length}), team ${escapeMrkdwn(clipLine(b.team, MAX_TEAM))}`,
    blocks,
  }));
}

/** One image's findings, as many as fit one section, the rest counted with where to see them. */
function imageSection(image: BurstImage): SectionBlock {
  const { rendered } = renderFitted(
    (shown) => ({ blocks: [imageSectionShowing(image, shown)] }),
    "message",
    FINDINGS_PER_IMAGE,
  );
  return rendered.blocks[0]!;
}

function imageSectionShowing(image: BurstImage, shown: number): SectionBlock {
  const name = escapeMrkdwn(clipLine(image.name, MAX_NAME));
  const lines = image.findings.slice(0, shown).map(renderAlertFindingLine);
  if (image.findings.length > shown) {
    lines.push(`…and ${image.findings.length - shown} more: \`/patch status ${name}\``);
  }
  const head = `*${name}* · \`${escapeMrkdwn(clipLine(shortDigest(image.digest), MAX_NAME))}\``;
  const top = image.findings[0];
  return {
    type: "section",
    text: { type: "mrkdwn", text: `${head}\n${lines.join("\n")}` },
    ...(top ? { accessory: patchNow(image.imageId, top.vulnerabilityId, false) } : {}),
  };
}

/** A button value holds at most 2,000 characters: about 45 image ids. */
export const PATCH_ALL_MAX_IMAGES = 40;

/**
 * "Patch all 3": starts a rollout of every image of the burst (the thread has one button each).
 * Past what a button value holds it says "Patch first 40 of 300", never that 40 is all.
 */
function patchAll(images: BurstImage[]) {
  const ids = images.slice(0, PATCH_ALL_MAX_IMAGES).map((i) => i.imageId);
  const label =
    images.length === 1
      ? "Patch now"
      : ids.length < images.length
        ? `Patch first ${ids.length} of ${images.length}`
        : `Patch all ${ids.length}`;
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
