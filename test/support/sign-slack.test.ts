import { createHmac } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { verifySlackRequest } from "@slack/bolt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  blockActionPayload,
  blockActions,
  eventCallback,
  postSigned,
  type SignedRequest,
  signSlackBody,
  slackFormEncode,
  slashCommand,
  viewSubmission,
} from "./sign-slack.js";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const FIXTURES = join(import.meta.dirname, "../../../shared/fixtures/slack/bolt-python");
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");

function verify(req: SignedRequest, secret = SECRET, nowMs = Date.now()): void {
  verifySlackRequest({
    signingSecret: secret,
    body: req.body,
    headers: {
      "x-slack-signature": req.headers["X-Slack-Signature"] ?? "",
      "x-slack-request-timestamp": Number(req.headers["X-Slack-Request-Timestamp"]),
    },
    nowMilliseconds: nowMs,
  });
}

function decodedPayload(formBody: string): unknown {
  return JSON.parse(new URLSearchParams(formBody).get("payload") ?? "null");
}

if (!existsSync(FIXTURES))
  console.warn(`sign-slack: ${FIXTURES} is absent, skipping the fixture comparisons`);

describe.skipIf(!existsSync(FIXTURES))("Slack encoding against bolt-python's recorded payloads", () => {
  it("re-encodes the slash command fixture byte for byte", () => {
    const raw = fixture("slash_command.form-urlencoded.txt").trimEnd();
    expect(slackFormEncode([...new URLSearchParams(raw)])).toBe(raw);
  });

  // The fixture text is bolt-python's test encoding (Python `json.dumps` with ", " and ": "
  // separators, then `quote`, which leaves "/" bare and writes spaces as %20). Slack itself sends
  // compact JSON with "\/" escapes, so the bytes differ by design; what a receiver decodes must not.
  it.each([
    ["block_actions", blockActions],
    ["view_submission", viewSubmission],
  ] as const)("%s: our body decodes to the same payload as the fixture's", (name, encode) => {
    const payload: object = JSON.parse(fixture(`${name}.json`));
    const ours = encode(payload, SECRET).body;
    const theirs = fixture(`${name}.form-urlencoded.txt`).trimEnd();
    expect(decodedPayload(ours)).toEqual(decodedPayload(theirs));
    expect(decodedPayload(ours)).toEqual(payload);
    expect([...new URLSearchParams(ours).keys()]).toEqual(["payload"]);
  });

  it("builds a block_actions payload with every field of the recorded one", () => {
    const Shape = z.looseObject({ actions: z.array(z.record(z.string(), z.unknown())).length(1) });
    const recorded = Shape.parse(JSON.parse(fixture("block_actions.json")));
    const ours = Shape.parse(blockActionPayload({ actionId: "approve", value: "42", userId: "U1" }));
    expect(Object.keys(ours)).toEqual(expect.arrayContaining(Object.keys(recorded)));
    expect(Object.keys(ours.actions[0] ?? {})).toEqual(
      expect.arrayContaining(Object.keys(recorded.actions[0] ?? {})),
    );
  });
});

describe("signSlackBody", () => {
  it("signs v0:{timestamp}:{body} with HMAC-SHA256 of the signing secret", () => {
    const body = "token=x&text=r%C3%A9sum%C3%A9+%2A";
    const req = signSlackBody(body, SECRET, { timestamp: 1_531_420_618 });
    const expected = createHmac("sha256", SECRET).update(`v0:1531420618:${body}`).digest("hex");
    expect(req.headers["X-Slack-Signature"]).toBe(`v0=${expected}`);
    expect(req.headers["X-Slack-Request-Timestamp"]).toBe("1531420618");
    expect(req.headers["Content-Type"]).toBe("application/x-www-form-urlencoded");
  });

  it("passes Bolt's verifier and fails it after any one-character change", () => {
    const req = blockActions(blockActionPayload({ actionId: "approve", value: "r-1", userId: "U1" }), SECRET);
    verify(req);
    fc.assert(
      fc.property(fc.nat({ max: req.body.length - 1 }), fc.integer({ min: 1, max: 25 }), (at, shift) => {
        const code = req.body.charCodeAt(at);
        const changed = req.body.slice(0, at) + String.fromCharCode(code + shift) + req.body.slice(at + 1);
        expect(() => verify({ ...req, body: changed })).toThrow(/signature mismatch/);
      }),
    );
    expect(() => verify(req, "another-secret")).toThrow(/signature mismatch/);
  });

  it("is rejected as stale once the timestamp is more than five minutes old", () => {
    const req = slashCommand({ text: "status" }, SECRET, { timestamp: 1_700_000_000 });
    verify(req, SECRET, 1_700_000_000_000 + 60_000);
    expect(() => verify(req, SECRET, 1_700_000_000_000 + 6 * 60_000)).toThrow(/stale/);
  });
});

describe("slashCommand", () => {
  it("sends every field Slack sends, in Slack's order", () => {
    const req = slashCommand({ text: "approve r-1", userId: "U9", command: "/pp" }, SECRET);
    const form = new URLSearchParams(req.body);
    expect([...form.keys()]).toEqual([
      "token",
      "team_id",
      "team_domain",
      "channel_id",
      "channel_name",
      "user_id",
      "user_name",
      "command",
      "text",
      "api_app_id",
      "is_enterprise_install",
      "response_url",
      "trigger_id",
    ]);
    expect(form.get("user_id")).toBe("U9");
    expect(form.get("command")).toBe("/pp");
    expect(req.body).toContain("&command=%2Fpp&text=approve+r-1&");
    expect(form.get("response_url")).toMatch(/^https:\/\/hooks\.slack\.com\/commands\//);
  });

  it("round-trips any command text, percent-encoding all but letters, digits and -_.", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const body = slashCommand({ text }, SECRET).body;
        expect(new URLSearchParams(body).get("text")).toBe(text);
        expect(body).toMatch(/^[A-Za-z0-9\-_.%+=&]*$/);
      }),
    );
  });
});

describe("JSON bodies: eventCallback and interactive payloads", () => {
  it("wraps the event in an event_callback envelope with Slack's JSON escaping", () => {
    const event = { type: "app_mention", text: "<@U0PPBOT001> digest ✓", channel: "C1", ts: "1.2" };
    const req = eventCallback(event, SECRET, { eventId: "Ev123", timestamp: 1_700_000_000 });
    expect(req.headers["Content-Type"]).toBe("application/json");
    expect(req.headers["X-Slack-Retry-Num"]).toBeUndefined();
    expect(req.body).toContain("digest \\u2713");
    expect(JSON.parse(req.body)).toMatchObject({
      type: "event_callback",
      event,
      event_id: "Ev123",
      event_time: 1_700_000_000,
      team_id: expect.stringMatching(/^T/),
      api_app_id: expect.stringMatching(/^A/),
      token: expect.any(String),
    });
    verify(req, SECRET, 1_700_000_000_000);
  });

  it("marks retries with the headers Slack adds and keeps the body identical", () => {
    const event = {
      type: "reaction_added",
      reaction: "+1",
      item: { type: "message", channel: "C1", ts: "1.2" },
    };
    const first = eventCallback(event, SECRET, { eventId: "Ev9", eventTime: 1_700_000_000 });
    const retry = eventCallback(event, SECRET, {
      eventId: "Ev9",
      eventTime: 1_700_000_000,
      retryNum: 1,
      timestamp: 1_700_000_061,
    });
    expect(retry.body).toBe(first.body);
    expect(retry.headers["X-Slack-Retry-Num"]).toBe("1");
    expect(retry.headers["X-Slack-Retry-Reason"]).toBe("http_timeout");
    expect(retry.headers["X-Slack-Signature"]).not.toBe(first.headers["X-Slack-Signature"]);
  });

  it("escapes slashes as Slack does", () => {
    const req = blockActions({ response_url: "https://hooks.slack.com/actions/T1/2/x" }, SECRET);
    expect(new URLSearchParams(req.body).get("payload")).toBe(
      '{"response_url":"https:\\/\\/hooks.slack.com\\/actions\\/T1\\/2\\/x"}',
    );
  });
});

describe("postSigned", () => {
  it("delivers the exact signed bytes and headers, and returns the parsed reply", async () => {
    const seen: Array<{ body: string; headers: Record<string, string | string[] | undefined> }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        seen.push({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
        res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const req = slashCommand({ text: "snooze CVE-2024-3094 7d “rollout” ✓" }, SECRET);
      const reply = await postSigned(`http://127.0.0.1:${port}/`, "/slack/commands", req);
      expect(reply).toEqual({ status: 200, text: '{"ok":true}', json: { ok: true } });
      const [got] = seen;
      expect(got?.body).toBe(req.body);
      expect(got?.headers["x-slack-signature"]).toBe(req.headers["X-Slack-Signature"]);
      verify({ body: got?.body ?? "", headers: req.headers });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
