import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import type { PatchpilotConfig } from "../config/file-schema.js";

const usersAnswer = z.object({ users: z.array(z.string()).default([]) });
const CACHE_MS = 5 * 60_000;

/**
 * The teams a Slack user belongs to, as the config and Slack say: listed as an approver, member of
 * one of the team's approver user groups, or asking from the team's channel. Group members are
 * cached for five minutes; a Slack failure only drops the group part of the answer.
 */
export function createTeamsOfUser(deps: { config: PatchpilotConfig; slack: WebClient; now: () => number }) {
  const cache = new Map<string, { at: number; users: Set<string> }>();
  const members = async (group: string): Promise<Set<string>> => {
    const hit = cache.get(group);
    if (hit && deps.now() - hit.at < CACHE_MS) return hit.users;
    try {
      const users = new Set(
        usersAnswer.parse(await deps.slack.usergroups.users.list({ usergroup: group })).users,
      );
      cache.set(group, { at: deps.now(), users });
      return users;
    } catch {
      return hit?.users ?? new Set();
    }
  };
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
