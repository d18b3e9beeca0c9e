import type { RolloutInFlight, RolloutStageProgress } from "../core/digest/image-status.js";
import { clipLine } from "./render-clip.js";
import { renderDateTime } from "./render-date-time.js";
import { escapeMrkdwn } from "./slack-message.js";

// Bounded so one rollout's line fits a section whatever the stage names are.
const MAX_STAGES = 6;

// Windows say the zone they are defined in (MESSAGES.md); the time itself is the reader's own.
function window(s: RolloutStageProgress): string {
  if (s.window === null) return "";
  return ` window ${renderDateTime(s.window.opensAt)} (${escapeMrkdwn(clipLine(s.window.timeZone, 40))})`;
}

function stage(s: RolloutStageProgress): string {
  const name = escapeMrkdwn(clipLine(s.name, 24));
  const approvals = `${s.approvalsMissing} approval${s.approvalsMissing === 1 ? "" : "s"}`;
  switch (s.state) {
    case "done":
      return `${name} ✅`;
    case "running":
      return `${name} 🔄 running`;
    case "verifying":
      return `${name} 🔬 health check`;
    case "health_inconclusive":
      return `${name} ⚠️ health inconclusive: promote or roll back`;
    case "awaiting_approval":
      return `${name} ⏳ awaiting ${approvals}`;
    case "waiting_for_window":
    case "pending":
      return `${name} ⏸${window(s)}`;
    case "failed":
      return `${name} ❌ failed`;
    case "rolled_back":
      return `${name} ↩️ rolled back`;
  }
}

/** "Rollout #218 in progress: staging ✅ · canary ⏳ awaiting 1 approval · production ⏸ window …". */
export function renderRolloutProgress(r: RolloutInFlight): string {
  const stages = r.stages.slice(0, MAX_STAGES).map(stage);
  if (r.stages.length > MAX_STAGES) stages.push(`${r.stages.length - MAX_STAGES} more stages`);
  return `Rollout #${r.rolloutId} in progress: ${stages.join(" · ")}`;
}
