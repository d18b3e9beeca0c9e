import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/adapters/logger.js";
import { classifySlackError } from "../../src/adapters/slack-errors.js";
import { createSlackWebClient } from "../../src/adapters/slack-web.js";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.js";

// The Web API client's HTTP goes through undici's request pool (`pooledFetch`): what Slack
// answers must reach the client exactly as it did through `fetch`.
let slack: FakeSlack;
const token = "xoxb-pool";
beforeAll(async () => {
  slack = await startFakeSlack({ token });
});
afterAll(async () => {
  await slack?.close();
});
const client = () => createSlackWebClient({ token, apiUrl: slack.url, logger: createLogger("silent") });

describe("the Slack Web API client's transport", () => {
  it("posts url-encoded calls with the bot token and reads Slack's JSON answer", async () => {
    slack.reset();
    const answer = await client().chat.postMessage({
      channel: "C0WEB1",
      text: "hello & goodbye = 100%",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*bold*" } }],
    });
    expect(answer.ok).toBe(true);
    expect(typeof answer.ts).toBe("string");
    const [message] = slack.messages("C0WEB1");
    expect(message?.text).toBe("hello & goodbye = 100%");
    expect(message?.ts).toBe(answer.ts);
  });

  it("reports a 429 with its Retry-After, without retrying it", async () => {
    slack.reset();
    slack.failNext("chat.postMessage", { status: 429, retryAfterSeconds: 7 });
    const failure = await client()
      .chat.postMessage({ channel: "C0WEB2", text: "x" })
      .then(
        () => null,
        (e: unknown) => classifySlackError(e),
      );
    expect(failure).toEqual({ kind: "rate_limited", retryAfterMs: 7_000 });
    expect(slack.callsTo("chat.postMessage").length).toBe(1);
  });

  it("retries a 5xx and then succeeds; a Slack error in a 200 answer is the client's platform error", async () => {
    slack.reset();
    slack.failNext("chat.postMessage", { status: 503 });
    const answer = await client().chat.postMessage({ channel: "C0WEB3", text: "after a 503" });
    expect(answer.ok).toBe(true);
    expect(slack.callsTo("chat.postMessage").map((c) => c.status)).toEqual([503, 200]);
    const failure = await client()
      .chat.update({ channel: "C0WEB3", ts: "1.000000", text: "no such message" })
      .then(
        () => null,
        (e: unknown) => classifySlackError(e),
      );
    expect(failure?.kind).toBe("permanent");
  });

  it("still uploads files (a multipart body) through fetch", async () => {
    slack.reset();
    await client().filesUploadV2({
      channel_id: "C0WEB4",
      file: Buffer.from("png bytes"),
      filename: "trend.png",
      title: "trend",
    });
    expect(slack.files().map((f) => [f.filename, f.content?.toString(), f.completed])).toEqual([
      ["trend.png", "png bytes", true],
    ]);
  });
});
