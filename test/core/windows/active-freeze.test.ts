import { describe, expect, it } from "vitest";
import { activeFreeze } from "../../../src/core/windows/active-freeze.js";
import type { Freeze } from "../../../src/core/windows/freeze.js";

const freeze = (id: string, from: string, to: string, environments: Freeze["environments"]): Freeze => ({
  id,
  from: new Date(from),
  to: new Date(to),
  environments,
  reason: `${id} freeze`,
});

const yearEnd = freeze("year-end", "2026-12-20T00:00:00Z", "2027-01-04T00:00:00Z", "all");
const launch = freeze("launch", "2026-11-10T00:00:00Z", "2026-11-12T00:00:00Z", ["production", "canary"]);

describe("activeFreeze", () => {
  it.each<[string, string, string, string | null]>([
    ["production", "2026-12-19T23:59:59.999Z", "1 ms before a freeze starts", null],
    ["production", "2026-12-20T00:00:00Z", "the moment it starts", "year-end"],
    ["staging", "2026-12-28T12:00:00Z", "a freeze on all environments", "year-end"],
    ["production", "2027-01-03T23:59:59.999Z", "1 ms before it ends", "year-end"],
    ["production", "2027-01-04T00:00:00Z", "the moment it ends", null],
    ["canary", "2026-11-11T00:00:00Z", "a freeze naming this environment", "launch"],
    ["staging", "2026-11-11T00:00:00Z", "a freeze naming other environments", null],
    ["Production", "2026-11-11T00:00:00Z", "environment names are exact", null],
  ])("%s at %s (%s) → %s", (environment, now, _label, expected) => {
    expect(activeFreeze([launch, yearEnd], environment, new Date(now))?.id ?? null).toBe(expected);
  });

  it("names the overlapping freeze that ends last, so 'frozen until' is the real end", () => {
    const incident = freeze("incident", "2026-12-27T00:00:00Z", "2026-12-29T00:00:00Z", ["production"]);
    const extended = freeze("extended", "2026-12-22T00:00:00Z", "2027-01-10T00:00:00Z", ["production"]);
    const now = new Date("2026-12-28T00:00:00Z");
    expect(activeFreeze([incident, yearEnd, extended], "production", now)?.id).toBe("extended");
    expect(activeFreeze([extended, yearEnd, incident], "production", now)?.id).toBe("extended");
  });

  it("breaks a tie on the end by id, whatever the order given", () => {
    const b = freeze("b", "2026-12-21T00:00:00Z", "2027-01-04T00:00:00Z", "all");
    const now = new Date("2026-12-22T00:00:00Z");
    expect(activeFreeze([b, yearEnd], "production", now)?.id).toBe("b");
    expect(activeFreeze([yearEnd, b], "production", now)?.id).toBe("b");
  });

  it("is null with no freezes", () => {
    expect(activeFreeze([], "production", new Date("2026-12-28T00:00:00Z"))).toBeNull();
  });
});
