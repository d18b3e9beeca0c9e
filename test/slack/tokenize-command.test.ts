import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { closestMatch } from "../../src/core/closest-match.js";
import { tokenizeCommand } from "../../src/slack/tokenize-command.js";

describe("tokenizeCommand", () => {
  it.each([
    ["status payments-api", ["status", "payments-api"]],
    [
      'accept CVE-2026-1 api --reason "not reachable, no TLS"',
      ["accept", "CVE-2026-1", "api", "--reason", "not reachable, no TLS"],
    ],
    ["rollout api --reason “base image bump”", ["rollout", "api", "--reason", "base image bump"]],
    ["  help   ", ["help"]],
    ["freeze all on --reason ''", ["freeze", "all", "on", "--reason", ""]],
    ["", []],
  ])("splits %j", (text, words) => {
    expect(tokenizeCommand(text)).toEqual(words);
  });

  it("never loses a non-space character outside quotes", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9-]{1,8}$/), { maxLength: 6 }), (words) => {
        expect(tokenizeCommand(words.join(" "))).toEqual(words);
      }),
    );
  });
});

describe("closestMatch", () => {
  const names = ["help", "status", "digest", "rollout", "history", "audit", "freeze", "accept", "subscribe"];
  it.each([
    ["stauts", "status"],
    ["hlep", "help"],
    ["rolout", "rollout"],
    ["stat", "status"],
    ["subscrbe", "subscribe"],
    ["deploy", null],
    ["x", null],
  ])("%s → %s", (typed, expected) => {
    expect(closestMatch(typed, names)).toBe(expected);
  });
});
