import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { acceptanceState } from "../../../src/core/digest/acceptance-state.js";
import {
  ACCEPTANCE_EXPIRY_HORIZON_DAYS,
  expiringAcceptances,
} from "../../../src/core/digest/expiring-acceptances.js";
import { acceptedRisk, DAY, daysFromNow, NOW } from "./digest-builders.js";

describe("acceptanceState", () => {
  it.each([
    ["active until a future date", { until: daysFromNow(1), revokedAt: null }, "active"],
    ["active with no expiry", { until: null, revokedAt: null }, "active"],
    ["expired at its end date exactly", { until: NOW, revokedAt: null }, "expired"],
    ["expired after it", { until: daysFromNow(-1), revokedAt: null }, "expired"],
    ["revoked before its end", { until: daysFromNow(5), revokedAt: daysFromNow(-1) }, "revoked"],
    [
      "revoked even once also past its end",
      { until: daysFromNow(-1), revokedAt: daysFromNow(-3) },
      "revoked",
    ],
    [
      "active while a revocation is still in the future",
      { until: null, revokedAt: daysFromNow(1) },
      "active",
    ],
  ] as const)("%s", (_label, a, state) => {
    expect(acceptanceState(a, NOW)).toBe(state);
  });
});

describe("expiringAcceptances", () => {
  it("keeps active acceptances ending within 14 days, soonest first", () => {
    const list = [
      acceptedRisk({ vulnerabilityId: "CVE-2025-0003", until: daysFromNow(13) }),
      acceptedRisk({ vulnerabilityId: "CVE-2025-0001", until: daysFromNow(2) }),
      acceptedRisk({ vulnerabilityId: "CVE-2025-0002", until: daysFromNow(15) }),
      acceptedRisk({ vulnerabilityId: "CVE-2025-0004", until: null }),
      acceptedRisk({ vulnerabilityId: "CVE-2025-0005", until: daysFromNow(-1) }),
      acceptedRisk({ vulnerabilityId: "CVE-2025-0006", until: daysFromNow(3), revokedAt: daysFromNow(-1) }),
    ];
    expect(expiringAcceptances(list, NOW).map((a) => a.vulnerabilityId)).toEqual([
      "CVE-2025-0001",
      "CVE-2025-0003",
    ]);
  });

  it("only ever returns active acceptances within the horizon, in order of their end", () => {
    const until = fc.option(fc.integer({ min: -30, max: 30 }).map(daysFromNow), { nil: null });
    const row = fc.record({ id: fc.integer({ min: 0, max: 99 }), until });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 20 }), (rows) => {
        const list = rows.map((r) =>
          acceptedRisk({ vulnerabilityId: `CVE-2025-${1000 + r.id}`, until: r.until }),
        );
        const out = expiringAcceptances(list, NOW);
        const horizon = NOW.getTime() + ACCEPTANCE_EXPIRY_HORIZON_DAYS * DAY;
        const ends = out.map((a) => a.until?.getTime() ?? Number.NaN);
        expect(ends.every((t) => t > NOW.getTime() && t <= horizon)).toBe(true);
        expect(ends).toEqual([...ends].sort((a, b) => a - b));
        expect(out.length).toBe(
          list.filter((a) => a.until && a.until > NOW && a.until.getTime() <= horizon).length,
        );
      }),
    );
  });
});
