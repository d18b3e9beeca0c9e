import { z } from "zod";

/**
 * What `/patch accept` hands its confirmation modal in `private_metadata`, and the submit handler
 * reads back: the vulnerability, the target as `acceptRisk` takes it, and where to confirm.
 */
export const acceptRequest = z.object({
  vulnerabilityId: z.string().min(1).max(100),
  target: z.object({ kind: z.enum(["image", "team"]), ref: z.string().min(1).max(512) }),
  channelId: z.string().min(1).max(40),
});

export type AcceptRequest = z.infer<typeof acceptRequest>;

/** A YYYY-MM-DD that names a real day, as the start of that day in UTC; null otherwise (2026-02-30). */
export function parseUntilDate(text: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text ? d : null;
}
