import type { PatchpilotConfig } from "./file-schema.js";

export type ConfigImage = PatchpilotConfig["images"][number];
export type ConfigTeam = PatchpilotConfig["teams"][number];

type Index<T> = { size: number; byId: Map<string, T> };
const indexes = new WeakMap<readonly { id: string }[], Index<unknown>>();

/**
 * The entry of a configured list with this id, from an index built once per list (a fleet's
 * config holds thousands of images, and every rollout decision looks up its image and team).
 * Rebuilt if the list changed length; config lists are not edited in place otherwise.
 */
function byId<T extends { id: string }>(list: readonly T[], id: string | null | undefined): T | null {
  if (id === null || id === undefined) return null;
  let index = indexes.get(list) as Index<T> | undefined;
  if (!index || index.size !== list.length) {
    // The first entry of an id wins, as `find` would have it (`validateConfig` refuses duplicates).
    const map = new Map<string, T>();
    for (const entry of list) if (!map.has(entry.id)) map.set(entry.id, entry);
    index = { size: list.length, byId: map };
    indexes.set(list, index);
  }
  return index.byId.get(id) ?? null;
}

/** The configured image with this id (`images[].id`), or null. */
export function configImage(config: PatchpilotConfig, id: string | null | undefined): ConfigImage | null {
  return byId(config.images, id);
}

/** The configured team with this id, or null. */
export function configTeam(config: PatchpilotConfig, id: string | null | undefined): ConfigTeam | null {
  return byId(config.teams, id);
}
