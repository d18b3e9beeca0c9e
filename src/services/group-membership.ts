import type { WebClient } from "@slack/web-api";
import { z } from "zod";

const usersAnswer = z.object({ users: z.array(z.string()).default([]) });
const DEFAULT_CACHE_MS = 60_000;

export type GroupMembership = {
  /** Members of one Slack user group; a Slack failure answers from the last known list, or none. */
  members(group: string): Promise<Set<string>>;
  /** Which of `groups` the user belongs to. */
  groupsOf(userId: string, groups: readonly string[]): Promise<string[]>;
};

/**
 * Slack user groups resolved through `usergroups.users.list`, cached briefly so a burst of clicks
 * asks Slack once, while someone removed from a group loses approval rights within a minute.
 */
export function createGroupMembership(deps: {
  slack: WebClient;
  now: () => number;
  cacheMs?: number;
}): GroupMembership {
  const cacheMs = deps.cacheMs ?? DEFAULT_CACHE_MS;
  const cache = new Map<string, { at: number; users: Set<string> }>();
  const members = async (group: string): Promise<Set<string>> => {
    const hit = cache.get(group);
    if (hit && deps.now() - hit.at < cacheMs) return hit.users;
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
  return {
    members,
    async groupsOf(userId, groups) {
      const out: string[] = [];
      for (const g of groups) if ((await members(g)).has(userId)) out.push(g);
      return out;
    },
  };
}
