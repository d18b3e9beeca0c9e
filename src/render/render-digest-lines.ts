import type { BaseImageMove } from "../core/digest/base-image-move.js";
import { severityCounts } from "../core/digest/severity-counts.js";
import type { ShippedPatches } from "../core/digest/shipped-patches.js";
import type { UnownedImage } from "../core/digest/unowned-image.js";
import { formatDuration } from "../core/duration.js";
import { clipLine } from "./render-clip.js";
import { registryUrl } from "./render-links.js";
import { renderSeverityCounts } from "./render-severity-counts.js";
import { slackDate } from "./severity.js";
import { escapeMrkdwn } from "./slack-message.js";

const NAMED_IMAGES = 3;

/** "• `node:22-bookworm-slim` — 3 images (a, b, c) · a rebuild fixes 🔴 2 🟠 5". */
export function renderBaseImageMoveLine(m: BaseImageMove): string {
  const names = m.images.slice(0, NAMED_IMAGES).map((n) => escapeMrkdwn(clipLine(n, 40)));
  const more = m.images.length > NAMED_IMAGES ? ` and ${m.images.length - NAMED_IMAGES} more` : "";
  const count = `${m.images.length} image${m.images.length === 1 ? "" : "s"}`;
  const fixes =
    m.fixes === undefined ? "" : ` · a rebuild fixes ${renderSeverityCounts(severityCounts(m.fixes))}`;
  return `• \`${escapeMrkdwn(clipLine(m.baseImage, 80))}\` — ${count} (${names.join(", ")}${more})${fixes}`;
}

/** "3 patches · fixed 🔴 4 🟠 7 · mean time to remediate critical 4 d". */
export function renderShipped(s: ShippedPatches): string {
  if (s.count === 0) return "no patches";
  const parts = [`${s.count} patch${s.count === 1 ? "" : "es"}`, `fixed ${renderSeverityCounts(s.fixed)}`];
  if (s.meanTimeToRemediateCriticalMs !== null)
    parts.push(`mean time to remediate critical ${formatDuration(s.meanTimeToRemediateCriticalMs)}`);
  return parts.join(" · ");
}

/** "• <https://hub.docker.com/_/redis|docker.io/library/redis> — 🔴 1 🟠 3 · last scan Nov 20". */
export function renderUnownedImageLine(u: UnownedImage): string {
  const name = escapeMrkdwn(clipLine(u.repository, 100));
  const url = registryUrl(u.repository);
  const scan = u.lastScanAt === null ? "" : ` · last scan ${slackDate(u.lastScanAt)}`;
  return `• ${url === null ? name : `<${url}|${name}>`} — ${renderSeverityCounts(u.open)}${scan}`;
}
