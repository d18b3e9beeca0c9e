import { describe, expect, it } from "vitest";
import { parseConfigText } from "../../src/config/load-config-file.js";

const config = (check: string) => `
version: 1
teams: [{ id: payments, channel: C0PAY, approvers: { groups: [S0PAY] } }]
prometheus: { url: "http://prometheus:9090" }
healthChecks:
  error-rate:
${check}
stages:
  staging: { bakeTime: 10m, healthCheck: error-rate }
`;

describe("health check configuration", () => {
  it("refuses a minimum request count it could not check, which would pass an idle service", () => {
    const r = parseConfigText(
      config(`    query: sum(rate(errors{app="{{image}}"}[5m]))\n    max: 0.01\n    minRequests: 100`),
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems).toContainEqual({
        path: "healthChecks.error-rate.requestsQuery",
        message: "minRequests needs requestsQuery (the PromQL that counts requests in the window)",
      });
  });

  it("names an unknown placeholder and one outside a label value", () => {
    const r = parseConfigText(
      config(`    query: sum(rate(errors{app="{{imag}}"}[{{stage}}]))\n    max: 0.01`),
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const messages = r.problems
        .filter((p) => p.path === "healthChecks.error-rate.query")
        .map((p) => p.message);
      expect(messages.join("\n")).toMatch(/\{\{imag\}\}.*did you mean \{\{image\}\}/);
      expect(messages.join("\n")).toMatch(/\{\{stage\}\}/);
    }
  });

  it("accepts a check with its requests query", () => {
    const r = parseConfigText(
      config(
        `    query: sum(rate(errors{app="{{image}}"}[5m]))\n    max: 0.01\n    requestsQuery: sum(increase(requests{app="{{image}}"}[10m]))\n    minRequests: 100`,
      ),
    );
    expect(r.ok, JSON.stringify(r)).toBe(true);
  });
});
