import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../src/core/duration.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe("parseDuration", () => {
  it.each([
    ["30s", 30 * S],
    ["15m", 15 * M],
    ["72h", 72 * H],
    ["7d", 7 * D],
    ["2w", 14 * D],
    ["1h30m", 90 * M],
    ["1d12h", 36 * H],
    ["1w2d3h4m5s", 9 * D + 3 * H + 4 * M + 5 * S],
    ["90m", 90 * M],
    [" 15m ", 15 * M],
  ])("reads %j as %d ms", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(["7 days", "", "15", "m", "1.5h", "-5m", "15M", "30m1h", "1h1h", "1h 30m", "1y", "P1D"])(
    "refuses %j, saying what it expected",
    (text) => {
      expect(parseDuration(text)).toEqual({
        ok: false,
        message: `expected a duration like 15m, 72h or 7d, got ${JSON.stringify(text)}`,
      });
    },
  );

  it("quotes the input in the message", () => {
    expect(parseDuration("7 days")).toEqual({
      ok: false,
      message: 'expected a duration like 15m, 72h or 7d, got "7 days"',
    });
  });

  it.each(["0m", "0s", "0h0m"])("refuses the zero duration %j", (text) => {
    expect(parseDuration(text)).toEqual({
      ok: false,
      message: `a duration must be longer than zero, got "${text}"`,
    });
  });

  it("refuses a duration too long to count in milliseconds", () => {
    expect(parseDuration("99999999999999w")).toEqual({
      ok: false,
      message: 'the duration "99999999999999w" is too long',
    });
  });

  it("reads back every combination of units it could have been written as", () => {
    const part = fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined });
    fc.assert(
      fc.property(part, part, part, part, part, (w, d, h, m, s) => {
        const text = [
          [w, "w"],
          [d, "d"],
          [h, "h"],
          [m, "m"],
          [s, "s"],
        ]
          .filter(([n]) => n !== undefined)
          .map(([n, u]) => `${n}${u}`)
          .join("");
        const ms = (w ?? 0) * 7 * D + (d ?? 0) * D + (h ?? 0) * H + (m ?? 0) * M + (s ?? 0) * S;
        const result = parseDuration(text);
        if (ms === 0) expect(result.ok).toBe(false);
        else expect(result).toEqual({ ok: true, ms });
      }),
    );
  });
});

describe("formatDuration", () => {
  it.each([
    [3 * D, "3 d"],
    [3 * D + 23 * H, "3 d"],
    [D, "1 d"],
    [D - 1, "23 h"],
    [5 * H, "5 h"],
    [H, "1 h"],
    [H - 1, "59 min"],
    [12 * M, "12 min"],
    [M, "1 min"],
    [59 * S, "59 s"],
    [S, "1 s"],
    [999, "0 s"],
    [0, "0 s"],
    [-2 * D, "-2 d"],
  ])("shows %d ms as %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("never shows more time than there is", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 * D }), (ms) => {
        const parsed = parseDuration(formatDuration(ms).replace(" min", "m").replace(" ", ""));
        const shown = parsed.ok ? parsed.ms : 0;
        expect(shown).toBeLessThanOrEqual(ms);
      }),
    );
  });
});
