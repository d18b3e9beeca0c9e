import { clipLine } from "./render-clip.js";
import { escapeMrkdwn } from "./slack-message.js";

const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
const GROUP_ID = /^S[A-Z0-9]{2,20}$/;

/** A person: a Slack mention when we have their user id, else their name as plain text. */
export function renderPerson(idOrName: string, name: string | null = null): string {
  if (USER_ID.test(idOrName)) return `<@${idOrName}>`;
  return escapeMrkdwn(clipLine(name ?? idOrName, 40));
}

/** A user group mention (`<!subteam^S0PAY>`), which notifies its members; anything else is shown as text. */
export function renderUserGroup(groupId: string): string {
  return GROUP_ID.test(groupId) ? `<!subteam^${groupId}>` : escapeMrkdwn(clipLine(groupId, 40));
}
