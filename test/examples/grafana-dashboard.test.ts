import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Family,
  parseExposition,
  parseFamilies,
  type Sample,
} from "../support/prometheus-exposition.js";
import { waitFor } from "../support/spawn-cli.js";
import { startTestApp, type TestApp, writeTestConfig } from "../support/test-app.js";

type Target = { expr?: string; datasource?: { type?: string; uid?: string }; refId?: string };
type Panel = {
  type: string;
  title?: string;
  id?: number;
  gridPos?: unknown;
  targets?: Target[];
  panels?: Panel[];
};
type Dashboard = {
  title?: string;
  uid?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Array<{ name: string; type: string; query?: unknown; definition?: string }> };
};

/** Grafana substitutes the datasource variable; a fixed uid would only work on one Grafana. */
const DATASOURCE_UID = ["$", "{DS_PROMETHEUS}"].join("");

const dashboard = JSON.parse(
  readFileSync(new URL("../../examples/grafana/patchpilot-dashboard.json", import.meta.url), "utf8"),
) as Dashboard;
const allPanels = (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = allPanels.filter((p) => p.type !== "row");
const exprs = [
  ...queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? "")),
  ...(dashboard.templating?.list ?? []).flatMap((v) => (v.type === "query" ? [v.definition ?? ""] : [])),
];

describe("examples/grafana/patchpilot-dashboard.json", () => {
  it("is a Grafana dashboard whose panels query Prometheus through the datasource variable", () => {
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(30);
    const ds = dashboard.templating?.list?.find((v) => v.name === "DS_PROMETHEUS");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    expect(queryPanels.length).toBeGreaterThan(10);
    const ids = allPanels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of queryPanels) {
      expect(p.gridPos, p.title).toBeDefined();
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.expr?.trim(), p.title).toBeTruthy();
        expect(t.datasource, p.title).toEqual({ type: "prometheus", uid: DATASOURCE_UID });
      }
    }
  });
});

describe("the dashboard against the app's real /metrics", () => {
  let t: TestApp;
  let families: Family[];
  let samples: Sample[];

  beforeAll(async () => {
    const config = await writeTestConfig(`
version: 1
teams:
  - { id: payments, name: Payments, channel: C0PAYMENTS, approvers: { groups: [S0PAYAPPR], users: [] } }
images:
  - { id: payments-api, repository: ghcr.io/acme/payments-api, team: payments }
`);
    t = await startTestApp({ env: { PATCHPILOT_CONFIG: config } });
    // One Slack request (unsigned, so refused) puts the /slack/events route into the latency histogram.
    await fetch(`${t.baseUrl}/slack/events`, { method: "POST", body: "{}" });
    // The first scrape starts the posture computation; a later one serves it.
    let text = "";
    await waitFor(
      async () => {
        text = await (await fetch(`${t.baseUrl}/metrics`)).text();
        return text.includes("patchpilot_open_findings{");
      },
      10_000,
      "the posture metrics",
    );
    families = parseFamilies(text);
    samples = parseExposition(text);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Every series name the app can export: histograms and summaries add their suffixes. */
  const seriesNames = () =>
    new Set(
      families.flatMap((f) =>
        f.type === "histogram"
          ? [f.name, `${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`]
          : f.type === "summary"
            ? [f.name, `${f.name}_sum`, `${f.name}_count`]
            : [f.name],
      ),
    );

  /** Selectors `name{matchers}` of an expression (quoted strings cannot be mistaken for names). */
  const selectors = (expr: string) =>
    [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)].map((m) => ({
      name: m[1] as string,
      matchers: [...(m[2] as string).matchAll(/([a-zA-Z_]\w*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(
        (x) => ({
          label: x[1] as string,
          op: x[2] as string,
          value: x[3] as string,
        }),
      ),
    }));

  it("uses only metric names the app exports", () => {
    const known = seriesNames();
    const used = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\bpatchpilot_[a-zA-Z0-9_:]*/g)].map((m) => m[0])),
    );
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((n) => !known.has(n))).toEqual([]);
    // Nothing else is selected (a metric from another exporter would be silently empty).
    const selected = exprs.flatMap((e) => selectors(e).map((s) => s.name));
    expect(selected.filter((n) => !n.startsWith("patchpilot_"))).toEqual([]);
    for (const e of exprs) expect(e, e).toMatch(/patchpilot_/);
  });

  it("filters on labels the metrics have, and exact label values that occur", () => {
    for (const { name, matchers } of exprs.flatMap(selectors)) {
      const series = samples.filter((s) => s.name === name);
      if (series.length === 0) continue; // a counter nothing has incremented yet: its name was checked above
      const labels = new Set(series.flatMap((s) => Object.keys(s.labels)));
      for (const m of matchers) {
        expect(labels.has(m.label), `${name} has no label ${m.label}`).toBe(true);
        if (m.op === "=")
          expect(
            series.some((s) => s.labels[m.label] === m.value),
            `${name}{${m.label}="${m.value}"} matches nothing`,
          ).toBe(true);
      }
    }
  });
});
