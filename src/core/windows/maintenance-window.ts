/**
 * A recurring period in which deployments may run: opens at each time `cron` names on the wall
 * clock of `timezone` (an IANA name) and stays open for `duration` (such as `6h`). Monthly patterns
 * use cron's `#`: the second Tuesday at 10:00 is `0 10 * * 2#2`.
 */
export type MaintenanceWindow = { cron: string; duration: string; timezone: string };
