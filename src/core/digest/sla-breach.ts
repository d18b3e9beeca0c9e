import type { Severity } from "../scan/normalized-report.js";
import type { NamedImage } from "./named-image.js";

/** An open finding past its remediation deadline, with no acceptance covering it. */
export type SlaBreach = {
  vulnerabilityId: string;
  /** The scanner's one-line description; can be long, and is written by whoever published it. */
  title: string | null;
  packageName: string;
  severity: Severity;
  knownExploited: boolean;
  /** Whether a fixed version exists, i.e. whether "Patch now" can remove it. */
  fixable: boolean;
  image: NamedImage;
  dueAt: Date;
  /** Whole days since `dueAt` (0 on the day it fell due). */
  daysPastDue: number;
};
