import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { z } from "zod";
import {
  type BlockKitSurface,
  type BlockKitViolation,
  blockKitErrorCode,
  checkBlockKitLimits,
} from "../../src/render/block-kit-limits.js";

/** `method` is the Web API method, or "upload" for a POST of file bytes to an `upload_url`. */
export type RecordedCall = {
  method: string;
  args: Record<string, unknown>;
  at: number;
  token: string | undefined;
  status: number;
};

export type FakeMessage = {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  files?: string[];
  /** The message's metadata (event_type, event_payload), as posted. */
  metadata?: unknown;
};

export type FakeView = {
  id: string;
  type: "modal" | "home";
  hash: string;
  user_id?: string;
  view: Record<string, unknown>;
};

export type FakeFile = {
  id: string;
  filename: string;
  content: Buffer | undefined;
  channel?: string;
  completed: boolean;
};

export type FakeFailure =
  | { status: 429; retryAfterSeconds: number }
  /** With `landed`, the call takes effect and then Slack answers the error (a reply lost on the way). */
  | { status: 500 | 502 | 503; landed?: boolean }
  /** An HTTP error that is not Slack being down: retried a few times, not waited out. */
  | { status: 400 }
  /** Slack's own refusal: 200 with `ok: false` and this error (e.g. "missing_scope"). */
  | { error: string }
  | { delayMs: number };

export type FakeSlack = {
  /** What `SLACK_API_URL` is set to, e.g. http://127.0.0.1:PORT/api/ */
  url: string;
  /** A response_url on this fake (put it in click payloads); answers are recorded as `response_url` calls. */
  responseUrl(): string;
  /** Every call, in the order received, including rejected ones. */
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /** Posted messages as they stand now, updates applied. */
  messages(channel?: string): FakeMessage[];
  /** How many messages have been posted, without copying them (for polling). */
  messageCount(): number;
  views(): FakeView[];
  files(): FakeFile[];
  failNext(method: string, how: FakeFailure, times?: number): void;
  /** chat.postMessage beyond `perSecond` in any one-second window of a channel answers 429 + Retry-After. */
  enforceChannelRateLimit(perSecond: number): void;
  /** The bot is not a member of this channel: posting to or reading it answers not_in_channel. */
  removeBotFrom(channel: string): void;
  setUsergroupMembers(groupId: string, userIds: string[]): void;
  setUser(user: { id: string; name: string; tz?: string }): void;
  setChannel(channel: { id: string; name: string }): void;
  reset(): void;
  close(): Promise<void>;
};

type Reply = { status: number; body: string; headers: Record<string, string> };
type Args = Record<string, unknown>;

// Form bodies carry these as JSON strings; decoded for the record so tests can assert on structure.
const JSON_ARGS = ["blocks", "attachments", "view", "files", "metadata"];

const jsonReply = (status: number, body: object, headers: Record<string, string> = {}): Reply => ({
  status,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json; charset=utf-8", ...headers },
});
const ok = (body: object): Reply => jsonReply(200, { ok: true, ...body });
const fail = (error: string, extra: object = {}): Reply => jsonReply(200, { ok: false, error, ...extra });

const optionalString = z.string().optional();
const blocksSchema = z.array(z.looseObject({ type: z.string() }));
const viewSchema = z.looseObject({ type: z.enum(["modal", "home"]), blocks: blocksSchema });
const messageArgs = z.object({
  channel: z.string().default(""),
  text: optionalString,
  blocks: z.unknown().optional(),
  thread_ts: optionalString,
  metadata: z.unknown().optional(),
});

function parseJsonArg(raw: unknown): unknown {
  if (typeof raw !== "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function limitErrors(violations: readonly BlockKitViolation[], prefix: string): string[] {
  return violations.map(
    (v) =>
      `[ERROR] ${v.rule}: ${v.actual} is over ${v.limit} [json-pointer:/${prefix}${v.path.replace(/[.[\]]+/g, "/")}]`,
  );
}

/** Checks a message the way Slack does: the decoded blocks when acceptable, else Slack's rejection. */
function checkMessage(
  text: string | undefined,
  rawBlocks: unknown,
): Reply | { blocks: unknown[] | undefined } {
  const decoded = rawBlocks === undefined ? undefined : blocksSchema.safeParse(parseJsonArg(rawBlocks));
  if (decoded && !decoded.success) return fail("invalid_blocks_format");
  const blocks = decoded?.data;
  const violations = checkBlockKitLimits({ text, blocks }, "message");
  if (violations.length === 0) return { blocks };
  return fail(blockKitErrorCode(violations), {
    response_metadata: { messages: limitErrors(violations, "") },
  });
}

function parseView(raw: unknown, surface: BlockKitSurface): Reply | Record<string, unknown> {
  const view = viewSchema.safeParse(parseJsonArg(raw));
  if (!view.success || view.data.type !== surface) return fail("invalid_arguments");
  const violations = checkBlockKitLimits(view.data, surface);
  if (violations.length > 0) {
    return fail("invalid_arguments", { response_metadata: { messages: limitErrors(violations, "view/") } });
  }
  return view.data;
}

function isReply(value: object): value is Reply {
  return "status" in value && "body" in value && "headers" in value;
}

function utcOffsetSeconds(timeZone: string): number {
  const name = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
    .formatToParts(new Date())
    .find((part) => part.type === "timeZoneName")?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? "");
  if (!match) return 0;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60;
  return match[1] === "-" ? -seconds : seconds;
}

function multipartFirstPart(body: Buffer, contentType: string): Buffer | undefined {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const start = body.indexOf(`--${boundary}`);
  const headersEnd = body.indexOf("\r\n\r\n", start);
  const end = body.indexOf(`\r\n--${boundary}`, headersEnd);
  if (start < 0 || headersEnd < 0 || end < 0) return undefined;
  return body.subarray(headersEnd + 4, end);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function parseArgs(body: Buffer, contentType: string, query: URLSearchParams): Args | undefined {
  const args: Args = Object.fromEntries(query);
  if (body.length === 0) return args;
  if (contentType.startsWith("application/json")) {
    const parsed = z.record(z.string(), z.unknown()).safeParse(parseJsonArg(body.toString("utf8")));
    return parsed.success ? { ...args, ...parsed.data } : undefined;
  }
  return { ...args, ...Object.fromEntries(new URLSearchParams(body.toString("utf8"))) };
}

function bearerToken(req: IncomingMessage, args: Args): string | undefined {
  const header = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
  return header ?? (typeof args.token === "string" ? args.token : undefined);
}

function recordedArgs(args: Args): Args {
  const { token: _token, ...rest } = args;
  for (const key of JSON_ARGS) if (key in rest) rest[key] = parseJsonArg(rest[key]) ?? rest[key];
  return rest;
}

export async function startFakeSlack(
  opts: { token?: string; teamId?: string; botUserId?: string } = {},
): Promise<FakeSlack> {
  const teamId = opts.teamId ?? "T0FAKE0001";
  const botUserId = opts.botUserId ?? "U0FAKEBOT1";
  const botId = "B0FAKEBOT1";
  const appId = "A0FAKEAPP1";

  const calls: RecordedCall[] = [];
  let messages: FakeMessage[] = [];
  let views = new Map<string, FakeView>();
  let files = new Map<string, FakeFile>();
  let users = new Map<string, { id: string; name: string; tz?: string }>();
  let channels = new Map<string, string>();
  let usergroups = new Map<string, string[]>();
  let failures = new Map<string, Array<{ how: FakeFailure; remaining: number }>>();
  let postTimes = new Map<string, number[]>();
  let channelRate = 0;
  const notMemberOf = new Set<string>();
  let sequence = 0;
  const timers = new Set<NodeJS.Timeout>();
  let origin = "";

  // Like Slack's: the time of posting in seconds, with microseconds that keep them unique.
  let lastTsMicros = 0;
  const nextTs = (): string => {
    const micros = Math.max(Date.now() * 1000, lastTsMicros + 100);
    lastTsMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
  };
  const nextId = (prefix: string): string => {
    sequence += 1;
    return `${prefix}0FAKE${String(sequence).padStart(5, "0")}`;
  };

  function takeFailure(method: string): FakeFailure | undefined {
    const queue = failures.get(method);
    const next = queue?.[0];
    if (!queue || !next) return undefined;
    next.remaining -= 1;
    if (next.remaining <= 0) queue.shift();
    return next.how;
  }

  function retryAfterFor(channel: string, now: number): number | undefined {
    if (channelRate <= 0) return undefined;
    const recent = (postTimes.get(channel) ?? []).filter((t) => now - t < 1000);
    postTimes.set(channel, recent);
    const oldest = recent[0];
    if (oldest === undefined || recent.length < channelRate) return undefined;
    return Math.max(1, Math.ceil((oldest + 1000 - now) / 1000));
  }

  const rateLimited = (seconds: number): Reply =>
    jsonReply(429, { ok: false, error: "ratelimited" }, { "retry-after": String(seconds) });

  const messageView = (m: FakeMessage) => ({
    type: "message",
    user: botUserId,
    bot_id: botId,
    app_id: appId,
    team: teamId,
    text: m.text ?? "",
    ts: m.ts,
    ...(m.blocks !== undefined && { blocks: m.blocks }),
    ...(m.thread_ts !== undefined && { thread_ts: m.thread_ts }),
  });
  // Like Slack, metadata is read back only when asked for (`include_all_metadata`).
  const historyView = (m: FakeMessage, withMetadata: boolean) => ({
    ...messageView(m),
    ...(withMetadata && m.metadata !== undefined && { metadata: m.metadata }),
  });

  const viewResponse = (v: FakeView) => ({
    view: {
      callback_id: "",
      private_metadata: "",
      external_id: "",
      ...v.view,
      id: v.id,
      team_id: teamId,
      app_id: appId,
      bot_id: botId,
      state: { values: {} },
      hash: v.hash,
      root_view_id: v.id,
      previous_view_id: null,
    },
  });

  function storeView(v: Omit<FakeView, "hash">): Reply {
    const stored = { ...v, hash: nextId("H") };
    views.set(v.id, stored);
    return ok(viewResponse(stored));
  }

  const handlers = new Map<string, (args: Args, now: number) => Reply>([
    [
      "auth.test",
      () =>
        ok({
          url: "https://fake-workspace.slack.com/",
          team: "Fake Workspace",
          user: "patchpilot",
          team_id: teamId,
          user_id: botUserId,
          bot_id: botId,
          is_enterprise_install: false,
        }),
    ],
    [
      "chat.postMessage",
      (args, now) => {
        const parsed = messageArgs.safeParse(args);
        if (!parsed.success) return fail("invalid_arguments");
        const { channel, text, thread_ts } = parsed.data;
        if (channel === "") return fail("channel_not_found");
        if (notMemberOf.has(channel)) return fail("not_in_channel");
        const retryAfter = retryAfterFor(channel, now);
        if (retryAfter !== undefined) return rateLimited(retryAfter);
        if (text === undefined && parsed.data.blocks === undefined && args.attachments === undefined) {
          return fail("no_text");
        }
        const checked = checkMessage(text, parsed.data.blocks);
        if (isReply(checked)) return checked;
        const message: FakeMessage = {
          channel,
          ts: nextTs(),
          ...(text !== undefined && { text }),
          ...(checked.blocks !== undefined && { blocks: checked.blocks }),
          ...(thread_ts !== undefined && { thread_ts }),
          ...(parsed.data.metadata !== undefined && { metadata: parseJsonArg(parsed.data.metadata) }),
        };
        messages.push(message);
        postTimes.set(channel, [...(postTimes.get(channel) ?? []), now]);
        return ok({ channel, ts: message.ts, message: messageView(message) });
      },
    ],
    [
      "chat.update",
      (args) => {
        const parsed = messageArgs.extend({ ts: z.string().default("") }).safeParse(args);
        if (!parsed.success) return fail("invalid_arguments");
        const { channel, ts, text } = parsed.data;
        if (channel === "") return fail("channel_not_found");
        const message = messages.find((m) => m.channel === channel && m.ts === ts);
        if (!message) return fail("message_not_found");
        const checked = checkMessage(text ?? message.text, parsed.data.blocks);
        if (isReply(checked)) return checked;
        // Like Slack, fields left out of the update keep their previous value.
        if (text !== undefined) message.text = text;
        if (checked.blocks !== undefined) message.blocks = checked.blocks;
        return ok({ channel, ts, text: message.text ?? "", message: messageView(message) });
      },
    ],
    [
      "chat.postEphemeral",
      (args) => {
        const parsed = messageArgs.extend({ user: z.string().default("") }).safeParse(args);
        if (!parsed.success) return fail("invalid_arguments");
        if (parsed.data.channel === "") return fail("channel_not_found");
        if (parsed.data.user === "") return fail("user_not_in_channel");
        const checked = checkMessage(parsed.data.text, parsed.data.blocks);
        return isReply(checked) ? checked : ok({ message_ts: nextTs() });
      },
    ],
    [
      "views.open",
      (args) => {
        if (typeof args.trigger_id !== "string" || args.trigger_id === "") return fail("invalid_arguments");
        const view = parseView(args.view, "modal");
        return isReply(view) ? view : storeView({ id: nextId("V"), type: "modal", view });
      },
    ],
    [
      "views.update",
      (args) => {
        const existing =
          typeof args.view_id === "string"
            ? views.get(args.view_id)
            : [...views.values()].find((v) => v.view.external_id === args.external_id);
        if (!existing) return fail("not_found");
        if (typeof args.hash === "string" && args.hash !== existing.hash) return fail("hash_conflict");
        const view = parseView(args.view, existing.type);
        return isReply(view) ? view : storeView({ ...existing, view });
      },
    ],
    [
      "views.publish",
      (args) => {
        if (typeof args.user_id !== "string" || args.user_id === "") return fail("invalid_arguments");
        const view = parseView(args.view, "home");
        if (isReply(view)) return view;
        const userId = args.user_id;
        const existing = [...views.values()].find((v) => v.type === "home" && v.user_id === userId);
        return storeView({ id: existing?.id ?? nextId("V"), type: "home", user_id: userId, view });
      },
    ],
    [
      "usergroups.users.list",
      (args) => {
        const members = typeof args.usergroup === "string" ? usergroups.get(args.usergroup) : undefined;
        return members ? ok({ users: [...members] }) : fail("no_such_subteam");
      },
    ],
    [
      "users.info",
      (args) => {
        const user = typeof args.user === "string" ? users.get(args.user) : undefined;
        if (!user) return fail("user_not_found");
        const tz = user.tz ?? "UTC";
        return ok({
          user: {
            id: user.id,
            team_id: teamId,
            name: user.name,
            real_name: user.name,
            deleted: false,
            is_bot: false,
            tz,
            tz_label: tz,
            tz_offset: utcOffsetSeconds(tz),
            profile: { real_name: user.name, display_name: user.name },
          },
        });
      },
    ],
    [
      "conversations.history",
      (args) => {
        const channel = typeof args.channel === "string" ? args.channel : "";
        if (channel === "") return fail("channel_not_found");
        if (notMemberOf.has(channel)) return fail("not_in_channel");
        const oldest = Number(args.oldest ?? 0);
        const limit = Math.min(999, Number(args.limit ?? 100) || 100);
        const withMetadata = String(args.include_all_metadata) === "true";
        const found = messages
          .filter((m) => m.channel === channel && m.thread_ts === undefined && Number(m.ts) > oldest)
          .reverse()
          .slice(0, limit);
        return ok({ messages: found.map((m) => historyView(m, withMetadata)), has_more: false });
      },
    ],
    [
      "conversations.replies",
      (args) => {
        const channel = typeof args.channel === "string" ? args.channel : "";
        const ts = typeof args.ts === "string" ? args.ts : "";
        const parent = messages.find((m) => m.channel === channel && m.ts === ts);
        if (!parent) return fail("thread_not_found");
        const withMetadata = String(args.include_all_metadata) === "true";
        const thread = [parent, ...messages.filter((m) => m.channel === channel && m.thread_ts === ts)];
        return ok({ messages: thread.map((m) => historyView(m, withMetadata)), has_more: false });
      },
    ],
    [
      "conversations.info",
      (args) => {
        const id = typeof args.channel === "string" ? args.channel : "";
        if (id === "") return fail("channel_not_found");
        const name = channels.get(id) ?? id.toLowerCase();
        return ok({
          channel: { id, name, is_channel: true, is_private: false, is_archived: false, is_member: true },
        });
      },
    ],
    [
      "files.getUploadURLExternal",
      (args) => {
        const parsed = z
          .object({ filename: z.string().min(1), length: z.coerce.number().int().min(0) })
          .safeParse(args);
        if (!parsed.success) return fail("invalid_arguments");
        const id = nextId("F");
        files.set(id, { id, filename: parsed.data.filename, content: undefined, completed: false });
        return ok({ upload_url: `${origin}/upload/${id}`, file_id: id });
      },
    ],
    [
      "files.completeUploadExternal",
      (args) => {
        const list = z
          .array(z.object({ id: z.string(), title: optionalString }))
          .safeParse(parseJsonArg(args.files));
        if (!list.success) return fail("invalid_arguments");
        const done = list.data.map((f) => files.get(f.id));
        const uploaded = done.filter((f): f is FakeFile => f?.content !== undefined);
        if (uploaded.length !== done.length) return fail("file_not_found");
        const channel = typeof args.channel_id === "string" ? args.channel_id : undefined;
        for (const file of uploaded) {
          file.completed = true;
          if (channel !== undefined) file.channel = channel;
        }
        if (channel !== undefined) {
          const comment = typeof args.initial_comment === "string" ? args.initial_comment : undefined;
          const threadTs = typeof args.thread_ts === "string" ? args.thread_ts : undefined;
          messages.push({
            channel,
            ts: nextTs(),
            ...(comment !== undefined && { text: comment }),
            ...(threadTs !== undefined && { thread_ts: threadTs }),
            files: uploaded.map((f) => f.id),
          });
        }
        return ok({
          files: uploaded.map((f) => ({
            id: f.id,
            name: f.filename,
            title: f.filename,
            size: f.content?.length ?? 0,
          })),
        });
      },
    ],
  ]);

  function answerUpload(fileId: string, body: Buffer, contentType: string): Reply {
    const file = files.get(fileId);
    if (!file) return { status: 404, body: "not found", headers: { "content-type": "text/plain" } };
    file.content = contentType.startsWith("multipart/form-data")
      ? multipartFirstPart(body, contentType)
      : body;
    return {
      status: 200,
      body: `OK - ${file.content?.length ?? 0}`,
      headers: { "content-type": "text/plain" },
    };
  }

  function answerApi(method: string, args: Args | undefined, token: string | undefined, now: number): Reply {
    const handler = handlers.get(method);
    if (!handler) return fail("unknown_method");
    if (opts.token !== undefined && token !== opts.token) return fail("invalid_auth");
    if (!args) return fail("invalid_json");
    return handler(args, now);
  }

  function injectedReply(how: FakeFailure): Reply | undefined {
    if ("delayMs" in how) return undefined;
    if ("error" in how)
      return {
        status: 200,
        body: JSON.stringify({ ok: false, error: how.error }),
        headers: { "content-type": "application/json" },
      };
    if (how.status === 429) return rateLimited(how.retryAfterSeconds);
    return {
      status: how.status,
      body: `fake slack: injected ${how.status}`,
      headers: { "content-type": "text/plain" },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", origin);
    const contentType = req.headers["content-type"] ?? "";
    if (url.pathname.startsWith("/hooks/")) {
      // A response_url: what an app says back to the person who clicked (ephemeral by default).
      let args: Args = {};
      try {
        args = JSON.parse(body.toString("utf8")) as Args;
      } catch {
        args = { unparseable: body.toString("utf8").slice(0, 200) };
      }
      calls.push({
        method: "response_url",
        args: { ...args, path: url.pathname },
        at,
        token: undefined,
        status: 200,
      });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    const upload = /^\/upload\/([^/]+)$/.exec(url.pathname)?.[1];
    const method = upload !== undefined ? "upload" : url.pathname.replace(/^\/api\//, "");
    if (upload === undefined && !url.pathname.startsWith("/api/")) {
      res.writeHead(404).end();
      return;
    }
    const args =
      upload !== undefined
        ? { file_id: upload, bytes: body.length }
        : parseArgs(body, contentType, url.searchParams);
    const token = bearerToken(req, args ?? {});
    const injected = takeFailure(method);
    const landed = injected !== undefined && "landed" in injected && injected.landed === true;
    const answer = () =>
      upload !== undefined ? answerUpload(upload, body, contentType) : answerApi(method, args, token, at);
    if (landed) answer();
    const reply = (injected && injectedReply(injected)) ?? answer();
    calls.push({ method, args: recordedArgs(args ?? {}), at, token, status: reply.status });
    if (injected && "delayMs" in injected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, injected.delayMs);
        timers.add(timer);
      });
    }
    res.writeHead(reply.status, reply.headers).end(reply.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" }).end(`fake slack crashed: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake slack: no TCP address");
  origin = `http://127.0.0.1:${address.port}`;

  let responseUrls = 0;
  return {
    url: `${origin}/api/`,
    responseUrl: () => `${origin}/hooks/actions/T0TEST/${++responseUrls}/${randomBytes(6).toString("hex")}`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    messages: (channel) =>
      messages.filter((m) => channel === undefined || m.channel === channel).map((m) => structuredClone(m)),
    messageCount: () => messages.length,
    views: () => [...views.values()].map((v) => structuredClone(v)),
    files: () => [...files.values()].map((f) => ({ ...f })),
    failNext: (method, how, times = 1) => {
      const queue = failures.get(method) ?? [];
      queue.push({ how, remaining: times });
      failures.set(method, queue);
    },
    enforceChannelRateLimit: (perSecond) => {
      channelRate = perSecond;
    },
    removeBotFrom: (channel) => {
      notMemberOf.add(channel);
    },
    setUsergroupMembers: (groupId, userIds) => {
      usergroups.set(groupId, [...userIds]);
    },
    setUser: (user) => {
      users.set(user.id, { ...user });
    },
    setChannel: (channel) => {
      channels.set(channel.id, channel.name);
    },
    reset: () => {
      notMemberOf.clear();
      calls.length = 0;
      messages = [];
      views = new Map();
      files = new Map();
      users = new Map();
      channels = new Map();
      usergroups = new Map();
      failures = new Map();
      postTimes = new Map();
      channelRate = 0;
      sequence = 0;
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
