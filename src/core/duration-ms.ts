import { parseDuration } from "./duration.js";

/** The milliseconds of a duration the config schema already validated; throws on anything else. */
export function durationMs(text: string): number {
  const r = parseDuration(text);
  if (!r.ok) throw new Error(`invalid duration reached past config validation: ${r.message}`);
  return r.ms;
}
