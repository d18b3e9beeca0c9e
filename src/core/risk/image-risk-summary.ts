/** Open-finding counts of one image, as the risk ranking reads them. */
export type ImageRiskSummary = {
  imageId: string;
  /** Findings on CISA's Known Exploited Vulnerabilities list. */
  knownExploited: number;
  breachedCritical: number;
  critical: number;
  breachedHigh: number;
  high: number;
  /** Findings with a fixed version available, of any severity. */
  fixable: number;
  medium: number;
};
