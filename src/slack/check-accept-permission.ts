import { configTeam } from "../config/config-lookup.js";
import type { PatchpilotConfig } from "../config/file-schema.js";
import { userError } from "../core/errors.js";
import { renderPerson, renderUserGroup } from "../render/render-mentions.js";
import type { AcceptTarget } from "../services/risk/resolve-accept-target.js";

/**
 * Throws, saying who may, unless the user approves for the target's team. Only approver
 * membership counts (channel `""`): sitting in a team's channel is not a mandate to accept risk.
 */
export async function checkAcceptPermission(
  deps: { config: PatchpilotConfig; teamsOfUser: (userId: string, channelId: string) => Promise<string[]> },
  userId: string,
  target: AcceptTarget,
): Promise<void> {
  const subject = target.kind === "team" ? `team ${target.teamId}` : target.label;
  if (target.teamId === null) {
    throw userError(
      "not_approver",
      `${subject} belongs to no team in patchpilot.yaml, so nobody can accept its risks in Slack. Give it a team with approvers first.`,
      403,
    );
  }
  if ((await deps.teamsOfUser(userId, "")).includes(target.teamId)) return;
  const team = configTeam(deps.config, target.teamId);
  const who = [
    ...(team?.approvers.groups ?? []).map((g) => renderUserGroup(g)),
    ...(team?.approvers.users ?? []).map((u) => renderPerson(u)),
  ];
  throw userError(
    "not_approver",
    who.length === 0
      ? `Team ${target.teamId} has no approvers in patchpilot.yaml, so nobody can accept risks for ${subject}. Add approvers.groups or approvers.users to the team.`
      : `Only approvers of team ${target.teamId} (${who.join(", ")}) may accept risks for ${subject}.`,
    403,
  );
}
