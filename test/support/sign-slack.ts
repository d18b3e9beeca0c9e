import { createHash, createHmac, randomBytes, randomInt } from "node:crypto";

export type SignedRequest = { body: string; headers: Record<string, string> };

/** The workspace the builders pretend to come from when a test does not choose its own IDs. */
export const slackTestIds = {
  teamId: "T0PPTEAM01",
  teamDomain: "patchpilot-test",
  appId: "A0PPAPP001",
  botUserId: "U0PPBOT001",
  userId: "U0PPUSER01",
  userName: "alice",
  channelId: "C0PPOPS001",
  channelName: "patch-ops",
  // The legacy verification token Slack still sends in every body; nothing should trust it.
  verificationToken: "pPvErIfIcAtIoNtOkEn00001",
} as const;

const FORM = "application/x-www-form-urlencoded";

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function digits(n: number): string {
  return Array.from({ length: n }, () => randomInt(10)).join("");
}

/**
 * Form encoding as Slack's servers do it (PHP `urlencode`): only letters, digits and `-_.` stay
 * literal and a space becomes `+`. `URLSearchParams` would leave `*` bare, which Slack never does.
 */
export function slackFormEncode(fields: ReadonlyArray<readonly [string, string]>): string {
  const encode = (s: string): string =>
    encodeURIComponent(s)
      .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replaceAll("%20", "+");
  return fields.map(([k, v]) => `${encode(k)}=${encode(v)}`).join("&");
}

/**
 * JSON as Slack serialises it: compact, with `/` written `\/` and non-ASCII as `\uXXXX`. A bot that
 * re-serialises a body before checking its signature therefore fails here as it would in production.
 */
export function slackJson(value: unknown): string {
  return JSON.stringify(value).replace(/[/\u0080-\uffff]/g, (c) =>
    c === "/" ? "\\/" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function signSlackBody(
  body: string,
  secret: string,
  opts: { timestamp?: number; contentType?: string } = {},
): SignedRequest {
  const timestamp = opts.timestamp ?? nowSeconds();
  const mac = createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex");
  return {
    body,
    headers: {
      "Content-Type": opts.contentType ?? FORM,
      "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      "X-Slack-Request-Timestamp": String(timestamp),
      "X-Slack-Signature": `v0=${mac}`,
    },
  };
}

export function slashCommand(
  fields: {
    text: string;
    userId?: string;
    userName?: string;
    channelId?: string;
    teamId?: string;
    command?: string;
    triggerId?: string;
    responseUrl?: string;
  },
  secret: string,
  opts: { timestamp?: number } = {},
): SignedRequest {
  const teamId = fields.teamId ?? slackTestIds.teamId;
  const body = slackFormEncode([
    ["token", slackTestIds.verificationToken],
    ["team_id", teamId],
    ["team_domain", slackTestIds.teamDomain],
    ["channel_id", fields.channelId ?? slackTestIds.channelId],
    ["channel_name", slackTestIds.channelName],
    ["user_id", fields.userId ?? slackTestIds.userId],
    ["user_name", fields.userName ?? slackTestIds.userName],
    ["command", fields.command ?? "/patch"],
    ["text", fields.text],
    ["api_app_id", slackTestIds.appId],
    ["is_enterprise_install", "false"],
    [
      "response_url",
      fields.responseUrl ??
        `https://hooks.slack.com/commands/${teamId}/${digits(13)}/${randomBytes(12).toString("base64url")}`,
    ],
    ["trigger_id", fields.triggerId ?? triggerId()],
  ]);
  return signSlackBody(body, secret, opts);
}

function triggerId(): string {
  return `${digits(13)}.${digits(11)}.${randomBytes(16).toString("hex")}`;
}

export function blockActions(
  payload: object,
  secret: string,
  opts: { timestamp?: number } = {},
): SignedRequest {
  return signSlackBody(slackFormEncode([["payload", slackJson(payload)]]), secret, opts);
}

export function viewSubmission(
  payload: object,
  secret: string,
  opts: { timestamp?: number } = {},
): SignedRequest {
  return signSlackBody(slackFormEncode([["payload", slackJson(payload)]]), secret, opts);
}

/**
 * An Events API delivery. A retry of the same event must reuse `eventId` and `eventTime`: Slack
 * resends the identical body with a fresh timestamp and signature.
 */
export function eventCallback(
  event: object,
  secret: string,
  opts: {
    timestamp?: number;
    retryNum?: number;
    retryReason?: string;
    eventId?: string;
    eventTime?: number;
    teamId?: string;
  } = {},
): SignedRequest {
  const timestamp = opts.timestamp ?? nowSeconds();
  const teamId = opts.teamId ?? slackTestIds.teamId;
  const eventId = opts.eventId ?? `Ev${randomBytes(5).toString("hex").toUpperCase()}`;
  const body = slackJson({
    token: slackTestIds.verificationToken,
    team_id: teamId,
    context_team_id: teamId,
    context_enterprise_id: null,
    api_app_id: slackTestIds.appId,
    event,
    type: "event_callback",
    event_id: eventId,
    event_time: opts.eventTime ?? timestamp,
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: slackTestIds.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${createHash("sha256").update(eventId).digest("base64url").slice(0, 40)}`,
  });
  const signed = signSlackBody(body, secret, { timestamp, contentType: "application/json" });
  if (opts.retryNum !== undefined) {
    signed.headers["X-Slack-Retry-Num"] = String(opts.retryNum);
    signed.headers["X-Slack-Retry-Reason"] = opts.retryReason ?? "http_timeout";
  }
  return signed;
}

/**
 * The submission of a dialog the app opened (as the fake Slack recorded it), by `user`, with the
 * inputs' state as Slack sends it (`{ block: { action: { type, value } } }`).
 */
export function viewSubmissionPayload(opts: {
  view: { id: string; hash: string; view: Record<string, unknown> } | undefined;
  user: { id: string; name: string };
  values?: Record<string, Record<string, { type: string; value?: string; selected_date?: string }>>;
}): object {
  return {
    type: "view_submission",
    team: { id: slackTestIds.teamId, domain: slackTestIds.teamDomain },
    user: { id: opts.user.id, username: opts.user.name, name: opts.user.name, team_id: slackTestIds.teamId },
    api_app_id: slackTestIds.appId,
    token: slackTestIds.verificationToken,
    trigger_id: triggerId(),
    view: {
      ...opts.view?.view,
      id: opts.view?.id,
      team_id: slackTestIds.teamId,
      hash: opts.view?.hash,
      state: { values: opts.values ?? {} },
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** The state of a dialog's one reason field (block and action id `reason`). */
export const reasonValue = (value: string) => ({ reason: { reason: { type: "plain_text_input", value } } });

/** A button click on a bot message, shaped like the payloads Slack sends today. */
export function blockActionPayload(opts: {
  actionId: string;
  value: string;
  userId: string;
  userName?: string;
  channelId?: string;
  messageTs?: string;
  teamId?: string;
  blockId?: string;
  buttonText?: string;
  /** Where the app's answer goes; the fake Slack's `responseUrl()` so tests can read it. */
  responseUrl?: string;
}): object {
  const teamId = opts.teamId ?? slackTestIds.teamId;
  const channelId = opts.channelId ?? slackTestIds.channelId;
  const userName = opts.userName ?? slackTestIds.userName;
  const messageTs = opts.messageTs ?? `${nowSeconds() - 60}.${digits(6)}`;
  const blockId = opts.blockId ?? randomBytes(3).toString("base64url");
  const text = { type: "plain_text", text: opts.buttonText ?? "Approve", emoji: true };
  return {
    type: "block_actions",
    user: { id: opts.userId, username: userName, name: userName, team_id: teamId },
    api_app_id: slackTestIds.appId,
    token: slackTestIds.verificationToken,
    container: { type: "message", message_ts: messageTs, channel_id: channelId, is_ephemeral: false },
    trigger_id: triggerId(),
    team: { id: teamId, domain: slackTestIds.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: slackTestIds.channelName },
    message: {
      user: slackTestIds.botUserId,
      type: "message",
      ts: messageTs,
      bot_id: "B0PPBOT001",
      app_id: slackTestIds.appId,
      text: "This content can't be displayed.",
      team: teamId,
      blocks: [
        {
          type: "actions",
          block_id: blockId,
          elements: [{ type: "button", action_id: opts.actionId, text, value: opts.value }],
        },
      ],
    },
    state: { values: {} },
    response_url:
      opts.responseUrl ??
      `https://hooks.slack.com/actions/${teamId}/${digits(13)}/${randomBytes(12).toString("base64url")}`,
    actions: [
      {
        action_id: opts.actionId,
        block_id: blockId,
        text,
        value: opts.value,
        type: "button",
        action_ts: `${nowSeconds()}.${digits(6)}`,
      },
    ],
  };
}

export async function postSigned(
  baseUrl: string,
  path: string,
  req: SignedRequest,
): Promise<{ status: number; text: string; json: unknown }> {
  const res = await fetch(`${baseUrl.replace(/\/$/, "")}${path}`, {
    method: "POST",
    headers: req.headers,
    body: req.body,
  });
  const text = await res.text();
  return { status: res.status, text, json: parseJsonOrUndefined(text) };
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Slack's ack bodies are often empty or plain text; callers check `text` then.
    return undefined;
  }
}
