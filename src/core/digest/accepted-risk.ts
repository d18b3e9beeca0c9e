import type { NamedImage } from "./named-image.js";

/** A risk acceptance (or imported VEX statement) as a row of `risk_acceptances` joined to its image. */
export type AcceptedRisk = {
  vulnerabilityId: string;
  /** null: the acceptance covers every image of the team. */
  image: NamedImage | null;
  acceptedAt: Date;
  /** null: no expiry (VEX statements). */
  until: Date | null;
  revokedAt: Date | null;
  reason: string;
  /** A Slack user id when accepted from Slack, else the name of whoever or whatever accepted it. */
  acceptedBy: string;
  acceptedByName: string | null;
};
