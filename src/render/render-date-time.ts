/**
 * A moment as a Slack date token with the time ("Tue 10:00" in each reader's zone). Unlike
 * `slackDate`, the fallback shown where tokens are not rendered keeps the time and names its zone:
 * "2026-12-01 09:00 UTC".
 */
export function renderDateTime(d: Date): string {
  const fallback = `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}
