import { describe, expect, it } from "vitest";
import { csvField, formatAuditRow, formatChainHead } from "../../../src/core/audit/format-audit-row.js";
import { hashAuditRecord } from "../../../src/core/audit/hash-audit-event.js";
import { buildChain, sampleEvent } from "./build-chain.js";

describe("csvField", () => {
  it.each<[string | null, string]>([
    ["plain", "plain"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\r", '"cr\r"'],
    ["", '""'],
    [null, ""],
  ])("writes %j as %j", (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});

describe("formatAuditRow", () => {
  const event = sampleEvent(1);
  const row = buildChain([
    { ...event, actor: { id: "U1", name: 'Ada, "the" admin' }, payload: { note: 'a,b\n"c"' } },
  ])[0]!;

  it("writes a jsonl line from which the row's hash can be recomputed", () => {
    const line = formatAuditRow(row, "jsonl");
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    const { prevHash, hash, ...hashed } = JSON.parse(line);
    expect(hash).toBe(row.hash);
    expect(hashAuditRecord(prevHash, { ...hashed, at: new Date(hashed.at) })).toBe(row.hash);
  });

  it("writes a CSV line with eleven fields, JSON columns quoted", () => {
    const line = formatAuditRow(row, "csv");
    expect(line).toBe(
      [
        "1",
        "2025-01-01T09:00:01.000Z",
        "U1",
        '"Ada, ""the"" admin"',
        "rollout.approve",
        "ok",
        `"${JSON.stringify(row.origin).replaceAll('"', '""')}"`,
        `"${JSON.stringify(row.resource).replaceAll('"', '""')}"`,
        '"{""note"":""a,b\\n\\""c\\""""}"',
        row.prevHash,
        `${row.hash}\n`,
      ].join(","),
    );
  });
});

describe("formatChainHead", () => {
  const head = { seq: 42, hash: "ab".repeat(32) };
  it("ends a jsonl export with a chainHead object and a CSV export with a comment line", () => {
    expect(JSON.parse(formatChainHead(head, "jsonl"))).toEqual({ chainHead: head });
    expect(formatChainHead(head, "csv")).toBe(`# chain-head,42,${head.hash}\n`);
  });
});
