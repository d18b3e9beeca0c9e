import { Writable } from "node:stream";
import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/adapters/logger.js";
import { parseConfigText } from "../../src/config/load-config-file.js";
import { slaPolicyFromConfig } from "../../src/config/sla-policy-from-config.js";
import { normalizeImageRef } from "../../src/core/scan/normalize-image-ref.js";
import { createDatabase, type Database } from "../../src/db/client.js";
import { recordHomeViewer } from "../../src/db/home-viewer-repository.js";
import { createGroupMembership } from "../../src/services/group-membership.js";
import { createHomeViewModel } from "../../src/services/home-view.js";
import { ingestScan, parseReportOrThrow } from "../../src/services/ingest-scan.js";
import { type RefreshHomesDeps, refreshHomes } from "../../src/services/refresh-homes.js";
import { syncConfig } from "../../src/services/sync-config.js";
import { createTeamsOfUser } from "../../src/services/teams-of-user.js";
import { createTestDatabase, type TestDatabase } from "../support/databases.js";
import { type FakeSlack, startFakeSlack } from "../support/fake-slack.js";
import { digestOf, trivyReport } from "../support/report-builders.js";

const TOKEN = "xoxb-fake";
const CONFIG = `
version: 1
teams:
  - id: payments
    name: Payments
    channel: C0PAYMENTS
    approvers: { groups: [S0PAYAPPR], users: [U0LEAD] }
  - id: search
    name: Search
    channel: C0SEARCH
    approvers: { groups: [], users: [U0SEARCH] }
images:
  - id: payments-api
    repository: ghcr.io/acme/payments-api
    team: payments
`;
const DAY = 24 * 60 * 60_000;
const now = new Date("2026-11-20T12:00:00Z");
const ago = (days: number) => new Date(now.getTime() - days * DAY);

let database: TestDatabase;
let app: Database;
let slack: FakeSlack;
let deps: RefreshHomesDeps;
const logLines: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  app = createDatabase(database.url, { max: 4 });
  slack = await startFakeSlack({ token: TOKEN });
  const parsed = parseConfigText(CONFIG);
  if (!parsed.ok) throw new Error("test config invalid");
  const config = parsed.config;
  await syncConfig(app.db, config, (r) => normalizeImageRef(r).repository);
  // No retries: a failed publish fails at once, like a Slack error that outlasts them.
  const web = new WebClient(TOKEN, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  const teamsOfUser = createTeamsOfUser({
    config,
    membership: createGroupMembership({ slack: web, now: () => now.getTime() }),
  });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  deps = {
    db: app.db,
    slack: web,
    teamsOfUser,
    buildHome: createHomeViewModel({
      db: app.db,
      sla: slaPolicyFromConfig(config.sla),
      teamsOfUser,
      now: () => now,
      config,
    }),
    now: () => now,
    logger: createLogger("info", sink),
  };
  await recordHomeViewer(app.db, "U0MARIA", ago(2)); // payments, via the approver group
  await recordHomeViewer(app.db, "U0LEAD", ago(29)); // payments, listed as an approver
  await recordHomeViewer(app.db, "U0STALE", ago(31)); // payments, but last opened 31 days ago
  await recordHomeViewer(app.db, "U0SEARCH", ago(1)); // another team
});
beforeEach(() => {
  slack.reset();
  slack.setUsergroupMembers("S0PAYAPPR", ["U0MARIA", "U0STALE", "U0NEVER"]);
});
afterAll(async () => {
  await app?.close();
  await slack?.close();
  await database?.drop();
});

const publishedTo = () =>
  slack
    .callsTo("views.publish")
    .filter((c) => c.status === 200)
    .map((c) => c.args.user_id);

describe("refreshHomes", () => {
  it("publishes to the team's viewers of the last 30 days only, never to someone who never opened it", async () => {
    expect(await refreshHomes(deps, { teamId: "payments" })).toEqual({ published: 2, failed: 0 });
    expect(publishedTo()).toEqual(["U0MARIA", "U0LEAD"]);
    const maria = slack.views().find((v) => v.user_id === "U0MARIA");
    expect(JSON.stringify(maria?.view)).toContain("*Payments*");
  });

  it("goes on with the other viewers when Slack fails for one, and logs it without the token", async () => {
    slack.failNext("views.publish", { status: 500 });
    expect(await refreshHomes(deps, { teamId: "payments" })).toEqual({ published: 1, failed: 1 });
    expect(slack.callsTo("views.publish").map((c) => [c.args.user_id, c.status])).toEqual([
      ["U0MARIA", 500],
      ["U0LEAD", 200],
    ]);
    const warning = logLines.find((l) => l.includes("refreshing an App Home failed"));
    expect(warning).toContain("U0MARIA");
    expect(logLines.join("\n")).not.toContain(TOKEN);
  });

  it("publishes at most the bound per run, most recent viewers first", async () => {
    expect(await refreshHomes({ ...deps, maxViewers: 1 }, { teamId: "payments" })).toEqual({
      published: 1,
      failed: 0,
    });
    expect(publishedTo()).toEqual(["U0MARIA"]);
  });
});

describe("a scan's Home refresh intent", () => {
  const intents = async () =>
    (
      await app.pool.query<{ dedupe_key: string; payload: unknown; available_at: Date }>(
        "SELECT dedupe_key, payload, available_at FROM outbox WHERE kind = 'home.refresh' ORDER BY id",
      )
    ).rows;

  it("is one per team and 10-second window for owned images, due just after the window closes", async () => {
    const upload = async (repository: string, n: number, at: Date) =>
      ingestScan(
        { db: app.db, now: () => at },
        {
          report: parseReportOrThrow(
            trivyReport({
              image: `${repository}:1.0`,
              digest: digestOf(n),
              vulns: [{ id: "CVE-2026-3333", pkg: "curl", severity: "MEDIUM" }],
            }),
          ),
          uploaderTeam: null,
          actor: { id: "token:test", name: "ci" },
          origin: { source: "test" },
        },
      );
    await upload("ghcr.io/acme/payments-api", 1, new Date("2026-11-20T12:00:01Z"));
    await upload("ghcr.io/acme/payments-api", 2, new Date("2026-11-20T12:00:09Z"));
    await upload("ghcr.io/acme/unowned", 3, new Date("2026-11-20T12:00:05Z"));
    expect(await intents()).toEqual([
      {
        dedupe_key: "home-refresh:payments:2026-11-20T12:00:00.000Z",
        payload: { teamId: "payments" },
        // The window's end, plus a moment for a change committing at its very end.
        available_at: new Date("2026-11-20T12:00:12Z"),
      },
    ]);
    await upload("ghcr.io/acme/payments-api", 4, new Date("2026-11-20T12:00:10Z"));
    expect((await intents()).map((r) => r.dedupe_key)).toEqual([
      "home-refresh:payments:2026-11-20T12:00:00.000Z",
      "home-refresh:payments:2026-11-20T12:00:10.000Z",
    ]);
  });
});
