import { describe, expect, it } from "vitest";
import { GENESIS_HASH } from "../../../src/core/audit/hash-audit-event.js";
import { parseChainHead } from "../../../src/core/audit/parse-chain-head.js";

const hash = "ab".repeat(32);

describe("parseChainHead", () => {
  it.each([
    [`12:${hash}`, { seq: 12, hash }],
    [`  12:${hash.toUpperCase()}\n`, { seq: 12, hash }],
    [`0:${GENESIS_HASH}`, { seq: 0, hash: GENESIS_HASH }],
  ])("reads %j", (text, head) => {
    expect(parseChainHead(text)).toEqual(head);
  });

  it.each([
    ["no hash", "12"],
    ["a short hash", `12:${hash.slice(2)}`],
    ["a non-hex hash", `12:${"zz".repeat(32)}`],
    ["a negative seq", `-1:${hash}`],
    ["a fractional seq", `1.5:${hash}`],
    ["seq 0 with another hash than genesis", `0:${hash}`],
    ["hash and seq swapped", `${hash}:12`],
  ])("refuses %s", (_name, text) => {
    expect(parseChainHead(text)).toBeNull();
  });
});
