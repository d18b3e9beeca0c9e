import { setTimeout as sleep } from "node:timers/promises";
import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type WebClientOptions,
} from "@slack/web-api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeSlack, startFakeSlack } from "./fake-slack.js";

const TOKEN = "xoxb-fake";
const TS = /^\d{10}\.\d{6}$/;

let slack: FakeSlack;

beforeAll(async () => {
  slack = await startFakeSlack({ token: TOKEN, teamId: "T0PATCH", botUserId: "U0PILOT" });
});
afterAll(async () => {
  await slack.close();
});
beforeEach(() => {
  slack.reset();
});

function client(options: WebClientOptions = {}): WebClient {
  return clientWithToken(TOKEN, options);
}

function clientWithToken(token: string | undefined, options: WebClientOptions = {}): WebClient {
  return new WebClient(token, {
    slackApiUrl: slack.url,
    logLevel: LogLevel.ERROR,
    retryConfig: { retries: 0 },
    ...options,
  });
}

async function slackError(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error("expected the Slack call to fail");
}

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } }) as const;

describe("fake Slack: identity and auth", () => {
  it("answers auth.test with the team and bot it was started with", async () => {
    const result = await client().auth.test();
    expect(result).toMatchObject({
      ok: true,
      team_id: "T0PATCH",
      user_id: "U0PILOT",
      bot_id: expect.any(String),
    });
    expect(slack.callsTo("auth.test")).toMatchObject([{ token: TOKEN, status: 200 }]);
  });

  it("rejects a wrong or missing token with invalid_auth, and records the attempt", async () => {
    for (const token of ["xoxb-wrong", undefined]) {
      const error = await slackError(clientWithToken(token).auth.test());
      expect(error).toBeInstanceOf(WebAPIPlatformError);
      expect(error).toMatchObject({ data: { ok: false, error: "invalid_auth" } });
    }
    expect(slack.calls.map((c) => c.token)).toEqual(["xoxb-wrong", undefined]);
  });

  it("answers an unknown method with unknown_method", async () => {
    const error = await slackError(client().apiCall("chat.teleport", { channel: "C1" }));
    expect(error).toMatchObject({ data: { error: "unknown_method" } });
  });
});

describe("fake Slack: messages", () => {
  it("posts, then updates, a message and keeps the current state", async () => {
    const web = client();
    const posted = await web.chat.postMessage({
      channel: "C1",
      text: "Digest",
      blocks: [section("3 critical")],
    });
    expect(posted).toMatchObject({
      ok: true,
      channel: "C1",
      message: { text: "Digest", bot_id: expect.any(String) },
    });
    expect(posted.ts).toMatch(TS);
    const second = await web.chat.postMessage({ channel: "C1", text: "reply", thread_ts: String(posted.ts) });
    expect(Number(second.ts)).toBeGreaterThan(Number(posted.ts));

    await web.chat.update({ channel: "C1", ts: String(posted.ts), blocks: [section("0 critical")] });

    expect(slack.messages("C1")).toEqual([
      { channel: "C1", ts: posted.ts, text: "Digest", blocks: [section("0 critical")] },
      { channel: "C1", ts: second.ts, text: "reply", thread_ts: posted.ts },
    ]);
    expect(slack.callsTo("chat.postMessage")[0]?.args.blocks).toEqual([section("3 critical")]);
  });

  it("filters messages by channel", async () => {
    const web = client();
    await web.chat.postMessage({ channel: "C1", text: "one" });
    await web.chat.postMessage({ channel: "C2", text: "two" });
    expect(slack.messages("C2").map((m) => m.text)).toEqual(["two"]);
    expect(slack.messages()).toHaveLength(2);
  });

  it("refuses to update a message that was never posted", async () => {
    const error = await slackError(client().chat.update({ channel: "C1", ts: "1.000100", text: "x" }));
    expect(error).toMatchObject({ data: { error: "message_not_found" } });
  });

  it("rejects 51 blocks with invalid_blocks, records the call and posts nothing", async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => section(`row ${i}`));
    const error = await slackError(client().chat.postMessage({ channel: "C1", text: "too many", blocks }));
    expect(error).toMatchObject({ data: { ok: false, error: "invalid_blocks" } });
    expect(slack.callsTo("chat.postMessage")).toMatchObject([{ status: 200, args: { channel: "C1" } }]);
    expect(slack.messages()).toEqual([]);
  });

  it("accepts exactly 50 blocks", async () => {
    const blocks = Array.from({ length: 50 }, (_, i) => section(`row ${i}`));
    await client().chat.postMessage({ channel: "C1", text: "full", blocks });
    expect(slack.messages("C1")[0]?.blocks).toHaveLength(50);
  });

  it("rejects fallback text over 40,000 characters with msg_too_long", async () => {
    const error = await slackError(client().chat.postMessage({ channel: "C1", text: "x".repeat(40_001) }));
    expect(error).toMatchObject({ data: { error: "msg_too_long" } });
  });

  it("rejects an update that would break the limits and keeps the old content", async () => {
    const web = client();
    const posted = await web.chat.postMessage({ channel: "C1", text: "ok", blocks: [section("fine")] });
    const error = await slackError(
      web.chat.update({ channel: "C1", ts: String(posted.ts), blocks: [section("y".repeat(3001))] }),
    );
    expect(error).toMatchObject({ data: { error: "invalid_blocks" } });
    expect(slack.messages("C1")[0]?.blocks).toEqual([section("fine")]);
  });

  it("rejects blocks that are not a JSON array of blocks with invalid_blocks_format", async () => {
    for (const blocks of ["[{not json", '{"type":"section"}', "[1,2]"]) {
      const error = await slackError(
        client().apiCall("chat.postMessage", { channel: "C1", text: "t", blocks }),
      );
      expect(error).toMatchObject({ data: { error: "invalid_blocks_format" } });
    }
  });

  it("answers channel_not_found for an empty channel", async () => {
    const error = await slackError(client().chat.postMessage({ channel: "", text: "lost" }));
    expect(error).toMatchObject({ data: { error: "channel_not_found" } });
  });

  it("answers an ephemeral message with message_ts and keeps it out of the channel", async () => {
    const result = await client().chat.postEphemeral({ channel: "C1", user: "U1", text: "only you" });
    expect(result.message_ts).toMatch(TS);
    expect(slack.messages()).toEqual([]);
  });
});

describe("fake Slack: injected failures", () => {
  it("answers 429 with Retry-After, which the client reports", async () => {
    slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 7 });
    const web = client({ rejectRateLimitedCalls: true });
    const error = await slackError(web.chat.postMessage({ channel: "C1", text: "hi" }));
    expect(error).toBeInstanceOf(WebAPIRateLimitedError);
    expect(error).toMatchObject({ retryAfter: 7 });
    expect(slack.messages()).toEqual([]);

    await web.chat.postMessage({ channel: "C1", text: "hi" });
    expect(slack.callsTo("chat.postMessage").map((c) => c.status)).toEqual([429, 200]);
  });

  it("lets a retrying client wait out Retry-After and deliver once", async () => {
    slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 1 });
    const web = client({ retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 0 } });
    await web.chat.postMessage({ channel: "C1", text: "eventually" });
    const [limited, delivered] = slack.callsTo("chat.postMessage");
    expect(delivered!.at - limited!.at).toBeGreaterThanOrEqual(1000);
    expect(slack.messages("C1")).toHaveLength(1);
  });

  it("answers injected 5xx for as many calls as asked, then recovers", async () => {
    slack.failNext("users.info", { status: 503 }, 2);
    slack.setUser({ id: "U1", name: "ana" });
    const web = client();
    for (let i = 0; i < 2; i += 1) {
      const error = await slackError(web.users.info({ user: "U1" }));
      expect(error).toBeInstanceOf(WebAPIHTTPError);
      expect(error).toMatchObject({ statusCode: 503 });
    }
    await expect(web.users.info({ user: "U1" })).resolves.toMatchObject({ ok: true });
  });

  it("answers slowly when asked, so client timeouts fire", async () => {
    slack.failNext("auth.test", { delayMs: 300 });
    const error = await slackError(client({ timeout: 50 }).auth.test());
    expect(error).toBeInstanceOf(WebAPIRequestError);

    slack.failNext("auth.test", { delayMs: 300 });
    const started = Date.now();
    await expect(client().auth.test()).resolves.toMatchObject({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe("fake Slack: channel rate limit", () => {
  it("answers 429 past the per-channel rate, per channel, and accepts again a second later", async () => {
    slack.enforceChannelRateLimit(1);
    const web = client({ rejectRateLimitedCalls: true });
    await web.chat.postMessage({ channel: "C1", text: "first" });
    const error = await slackError(web.chat.postMessage({ channel: "C1", text: "second" }));
    expect(error).toMatchObject({ retryAfter: 1 });
    await web.chat.postMessage({ channel: "C2", text: "other channel" });

    await sleep(1000);
    await web.chat.postMessage({ channel: "C1", text: "third" });
    expect(slack.messages("C1").map((m) => m.text)).toEqual(["first", "third"]);
  });
});

describe("fake Slack: directory lookups", () => {
  it("lists usergroup members and unknown groups as no_such_subteam", async () => {
    slack.setUsergroupMembers("S1", ["U1", "U2"]);
    const web = client();
    await expect(web.usergroups.users.list({ usergroup: "S1" })).resolves.toMatchObject({
      users: ["U1", "U2"],
    });
    const error = await slackError(web.usergroups.users.list({ usergroup: "S404" }));
    expect(error).toMatchObject({ data: { error: "no_such_subteam" } });
  });

  it("describes users with their time zone, and unknown users as user_not_found", async () => {
    slack.setUser({ id: "U1", name: "ana", tz: "Asia/Kolkata" });
    const web = client();
    const { user } = await web.users.info({ user: "U1" });
    expect(user).toMatchObject({
      id: "U1",
      name: "ana",
      real_name: "ana",
      tz: "Asia/Kolkata",
      tz_offset: 19_800,
    });
    const error = await slackError(web.users.info({ user: "U404" }));
    expect(error).toMatchObject({ data: { error: "user_not_found" } });
  });

  it("describes channels by id", async () => {
    slack.setChannel({ id: "C1", name: "prod-alerts" });
    const { channel } = await client().conversations.info({ channel: "C1" });
    expect(channel).toMatchObject({ id: "C1", name: "prod-alerts" });
  });
});

describe("fake Slack: views", () => {
  const modal = (title: string) => ({
    type: "modal" as const,
    title: { type: "plain_text" as const, text: title },
    blocks: [section("Approve rollout?")],
  });

  it("opens and updates a modal, refusing a stale hash", async () => {
    const web = client();
    const opened = await web.views.open({ trigger_id: "1.2.abc", view: modal("Approve") });
    const id = String(opened.view?.id);
    const hash = String(opened.view?.hash);
    const updated = await web.views.update({ view_id: id, hash, view: modal("Approved") });
    expect(updated.view).toMatchObject({ id, title: { text: "Approved" } });

    const error = await slackError(web.views.update({ view_id: id, hash, view: modal("Again") }));
    expect(error).toMatchObject({ data: { error: "hash_conflict" } });
    expect(slack.views()).toMatchObject([{ id, type: "modal", view: { title: { text: "Approved" } } }]);
  });

  it("rejects a modal title over 24 characters", async () => {
    const error = await slackError(
      client().views.open({ trigger_id: "1.2.abc", view: modal("x".repeat(25)) }),
    );
    expect(error).toMatchObject({ data: { error: "invalid_arguments" } });
  });

  it("publishes one Home tab per user", async () => {
    const web = client();
    const home = { type: "home" as const, blocks: [section("Fleet posture")] };
    const first = await web.views.publish({ user_id: "U1", view: home });
    const again = await web.views.publish({ user_id: "U1", view: home });
    expect(again.view?.id).toBe(first.view?.id);
    expect(slack.views()).toMatchObject([{ type: "home", user_id: "U1" }]);
  });
});

describe("fake Slack: files.uploadV2", () => {
  it("takes the bytes through the upload URL and shares them in the channel", async () => {
    const result = await client().filesUploadV2({
      channel_id: "C1",
      filename: "audit.csv",
      content: "seq,actor\n1,ana\n",
      initial_comment: "Audit export",
    });
    expect(result.ok).toBe(true);
    expect(slack.calls.map((c) => c.method)).toEqual([
      "files.getUploadURLExternal",
      "upload",
      "files.completeUploadExternal",
    ]);
    const [file] = slack.files();
    expect(file?.content?.toString("utf8")).toBe("seq,actor\n1,ana\n");
    expect(file).toMatchObject({ filename: "audit.csv", channel: "C1", completed: true });
    expect(slack.messages("C1")).toMatchObject([{ text: "Audit export", files: [file?.id] }]);
  });

  it("refuses to complete an upload whose bytes never arrived", async () => {
    const web = client();
    const { file_id } = await web.files.getUploadURLExternal({ filename: "a.txt", length: 3 });
    const error = await slackError(web.files.completeUploadExternal({ files: [{ id: String(file_id) }] }));
    expect(error).toMatchObject({ data: { error: "file_not_found" } });
  });
});
