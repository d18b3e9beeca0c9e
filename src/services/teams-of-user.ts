import type { PatchpilotConfig } from "../config/file-schema.js";
import type { GroupMembership } from "./group-membership.js";

/**
 * The teams a Slack user belongs to, as the config and Slack say: listed as an approver, member of
 * one of the team's approver user groups, or asking from the team's channel. A Slack failure only
 * drops the group part of the answer.
 */
export function createTeamsOfUser(deps: { config: PatchpilotConfig; membership: GroupMembership }) {
  const members = deps.membership.members;
  return async (userId: string, channelId: string): Promise<string[]> => {
    const out: string[] = [];
    for (const t of deps.config.teams) {
      if (t.channel === channelId || t.approvers.users.includes(userId)) {
        out.push(t.id);
        continue;
      }
      for (const g of t.approvers.groups) {
        if ((await members(g)).has(userId)) {
          out.push(t.id);
          break;
        }
      }
    }
    return out;
  };
}
