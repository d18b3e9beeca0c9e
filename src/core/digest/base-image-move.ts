import type { Severity } from "../scan/normalized-report.js";

/**
 * A base image that published a new release this period, and the team's images built on it.
 * Base-image drift detection fills these; until it does, services pass an empty list and the
 * digest leaves the section out.
 */
export type BaseImageMove = {
  baseImage: string;
  images: string[];
  /** Findings a rebuild on the new release would fix, when known. */
  fixes?: Record<Severity, number>;
};
