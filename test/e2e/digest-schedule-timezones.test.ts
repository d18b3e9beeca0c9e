import { readFile } from "node:fs/promises";
import { defaultRepeatStrategy, type JobSchedulerJson, Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Patchpilot, startPatchpilot } from "../../src/main.js";
import { REDIS_TEST_URL } from "../support/databases.js";
import { postSigned, slashCommand } from "../support/sign-slack.js";
import { startTestApp, TEST_SIGNING_SECRET, type TestApp, writeTestConfig } from "../support/test-app.js";

// Digest subscriptions on weekly and daily crons in zones whose offsets differ from UTC (one by
// half an hour, some with daylight saving time on either hemisphere), registered the way the
// product registers them: from patchpilot.yaml at start-up and from `/patch subscribe`. What
// BullMQ scheduled is read back and converted to wall-clock time with Intl, independently of the
// cron library, so a schedule computed in UTC (or the server's zone) fails here.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Want = { channel: string; cron: string; timezone: string; weekday: string | null; time: string };
const WANTED: Want[] = [
  { channel: "C0PAYMENTS", cron: "0 9 * * 1", timezone: "Europe/Berlin", weekday: "Mon", time: "09:00" },
  { channel: "C0SEARCH", cron: "0 9 * * 1", timezone: "America/New_York", weekday: "Mon", time: "09:00" },
  // Through Slack: a half-hour offset, daily; and a southern-hemisphere zone (DST in their summer).
  { channel: "C0INDIA", cron: "30 8 * * *", timezone: "Asia/Kolkata", weekday: null, time: "08:30" },
  { channel: "C0SYDNEY", cron: "0 9 * * 1", timezone: "Australia/Sydney", weekday: "Mon", time: "09:00" },
];

/** Weekday and HH:MM of an instant on the zone's wall clock, by Intl (no cron library). */
function wallClock(ms: number, timeZone: string): { weekday: string; time: string } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(ms));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "?";
  return { weekday: get("weekday"), time: `${get("hour")}:${get("minute")}` };
}

/** The zone's UTC offset in minutes at an instant ("GMT-05:00" → -300). */
function offsetMinutes(ms: number, timeZone: string): number {
  const name =
    new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
      .formatToParts(new Date(ms))
      .find((p) => p.type === "timeZoneName")?.value ?? "";
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!m) throw new Error(`unexpected offset name ${name}`);
  return m[1] ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

const matches = (ms: number, w: Want) => {
  const local = wallClock(ms, w.timezone);
  return local.time === w.time && (w.weekday === null || local.weekday === w.weekday);
};

/**
 * The first instant after `after` that reads the wanted weekday and time in the zone, found by
 * walking quarter hours (every zone's offset is a multiple of 15 minutes, as are these crons).
 */
function firstMatchAfter(after: number, w: Want): number {
  const quarter = 15 * MINUTE;
  for (let ms = Math.floor(after / quarter) * quarter + quarter; ms < after + 8 * DAY; ms += quarter) {
    if (matches(ms, w)) return ms;
  }
  throw new Error(`no ${w.weekday ?? "daily"} ${w.time} in ${w.timezone} within 8 days`);
}

let t: TestApp;
let connection: Redis;
let queue: Queue;
let registeredAfter: number;
const ids = new Map<string, string>();

async function patch(text: string, channelId: string): Promise<{ text?: string }> {
  const res = await postSigned(
    t.baseUrl,
    "/slack/events",
    slashCommand({ text, channelId, userId: "U0LEE", userName: "lee" }, TEST_SIGNING_SECRET),
  );
  expect(res.status).toBe(200);
  return res.json as { text?: string };
}

async function scheduler(channel: string): Promise<JobSchedulerJson> {
  const id = ids.get(channel);
  const s = id ? await queue.getJobScheduler(`digest:${id}`) : undefined;
  if (!s) throw new Error(`no job scheduler for the subscription of ${channel}`);
  return s;
}

beforeAll(async () => {
  const example = await readFile(new URL("../../patchpilot.example.yaml", import.meta.url), "utf8");
  const searchDigest =
    '  - { channel: C0SEARCH, cron: "30 8 * * 1", timezone: America/New_York, teams: [search] }';
  if (!example.includes(searchDigest)) throw new Error("patchpilot.example.yaml's digests changed");
  const config = await writeTestConfig(
    example.replace(
      searchDigest,
      '  - { channel: C0SEARCH, cron: "0 9 * * 1", timezone: America/New_York, teams: [search] }',
    ),
  );
  registeredAfter = Date.now();
  t = await startTestApp({ env: { PATCHPILOT_CONFIG: config } });
  expect((await patch('subscribe "30 8 * * *" Asia/Kolkata payments', "C0INDIA")).text).toBe(
    "Subscribed: the digest for payments will be posted here (30 8 * * *, Asia/Kolkata).",
  );
  expect((await patch('subscribe "0 9 * * 1" Australia/Sydney search', "C0SYDNEY")).text).toBe(
    "Subscribed: the digest for search will be posted here (0 9 * * 1, Australia/Sydney).",
  );
  const rows = await t.owner.pool.query("SELECT id, channel, cron, timezone FROM digest_subscriptions");
  for (const w of WANTED) {
    const row = rows.rows.find((r) => r.channel === w.channel);
    expect(row, w.channel).toMatchObject({ cron: w.cron, timezone: w.timezone });
    ids.set(w.channel, String(row.id));
  }
  connection = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null });
  queue = new Queue("digests", { connection, prefix: t.env.REDIS_PREFIX ?? "" });
});
afterAll(async () => {
  await queue?.close();
  connection?.disconnect();
  await t?.close();
});

describe("digest schedules in the subscription's time zone", () => {
  it.each(WANTED)("schedules $cron $timezone for the next $time local, within a week", async (w) => {
    const s = await scheduler(w.channel);
    expect(s).toMatchObject({ pattern: w.cron, tz: w.timezone });
    const next = s.next ?? Number.NaN;
    const now = Date.now();
    expect(next).toBeGreaterThan(now);
    expect(next - now).toBeLessThanOrEqual((w.weekday ? 7 : 1) * DAY);
    const local = wallClock(next, w.timezone);
    expect(local.time).toBe(w.time);
    if (w.weekday) expect(local.weekday).toBe(w.weekday);
    // And it is the first such instant, not one a week later.
    let expected = firstMatchAfter(registeredAfter, w);
    if (expected <= now) expected = firstMatchAfter(expected, w); // it came and went during the test
    expect(new Date(next).toISOString()).toBe(new Date(expected).toISOString());

    // The job BullMQ will run is delayed to exactly that instant, for this subscription.
    const delayed = (await queue.getDelayed()).filter((j) => j.repeatJobKey === s.key);
    expect(delayed).toHaveLength(1);
    const job = delayed[0];
    expect(job?.name).toBe("post-digest");
    expect(job?.data).toEqual({ subscriptionId: ids.get(w.channel) });
    expect((job?.timestamp ?? 0) + (job?.delay ?? 0)).toBe(next);
  });

  it("uses zones that differ from UTC now, so a schedule made in UTC could not pass", async () => {
    // Guards the test itself: were the zone ignored, the run would be at the cron's time in UTC,
    // which reads as another time of day in each of these zones.
    for (const w of WANTED) {
      const s = await scheduler(w.channel);
      expect(offsetMinutes(s.next ?? 0, w.timezone), w.timezone).not.toBe(0);
    }
  });

  it.each(WANTED.filter((w) => w.timezone !== "Asia/Kolkata"))(
    "keeps $time local in $timezone across its next two daylight-saving changes",
    async (w) => {
      // The product sets no repeatStrategy, so BullMQ computes every next run (at upsert and
      // after each run, from the previous one) with its defaultRepeatStrategy and the stored
      // pattern and zone. It produced the schedule read above:
      const s = await scheduler(w.channel);
      const opts = { pattern: s.pattern ?? "", tz: s.tz ?? "" };
      expect(defaultRepeatStrategy(Date.now(), opts)).toBe(s.next);

      // The zone's next two offset changes, found with Intl, day by day over a year.
      const changes: number[] = [];
      for (let day = Date.now(); day < Date.now() + 400 * DAY && changes.length < 2; day += DAY) {
        if (offsetMinutes(day + DAY, w.timezone) !== offsetMinutes(day, w.timezone)) changes.push(day);
      }
      expect(changes, `${w.timezone} changes its clocks twice a year`).toHaveLength(2);

      for (const change of changes) {
        // Run after run, as the worker chains them, from two weeks before the change.
        let at = change - 14 * DAY;
        const runs: number[] = [];
        while (runs.length < 5) {
          const next = defaultRepeatStrategy(at, opts);
          if (next === undefined) throw new Error("no next run");
          runs.push(next);
          at = next;
        }
        for (const run of runs) {
          expect(wallClock(run, w.timezone), new Date(run).toISOString()).toEqual({
            weekday: "Mon",
            time: "09:00",
          });
        }
        const shifts = runs.slice(1).map((run, i) => {
          const prev = runs[i] ?? 0;
          return { gap: run - prev, shift: offsetMinutes(run, w.timezone) - offsetMinutes(prev, w.timezone) };
        });
        // Exactly one of the weeks spans the change: it is an hour shorter or longer.
        expect(shifts.filter((x) => x.shift !== 0)).toHaveLength(1);
        for (const { gap, shift } of shifts) expect(gap).toBe(7 * DAY - shift * MINUTE);
      }
    },
  );

  it("runs 08:30 in Kolkata every day, 24 hours apart", async () => {
    const s = await scheduler("C0INDIA");
    const opts = { pattern: s.pattern ?? "", tz: s.tz ?? "" };
    let at = s.next ?? 0;
    for (let i = 0; i < 10; i++) {
      const next = defaultRepeatStrategy(at, opts) ?? 0;
      expect(next - at).toBe(DAY);
      expect(wallClock(next, "Asia/Kolkata").time).toBe("08:30");
      at = next;
    }
  });

  it("keeps the same schedule when another process starts and registers them again", async () => {
    const before = new Map<string, number | undefined>();
    for (const w of WANTED) before.set(w.channel, (await scheduler(w.channel)).next);
    let second: Patchpilot | undefined;
    try {
      second = await startPatchpilot({ role: "worker", env: { ...t.env, PORT: "0", LOG_LEVEL: "warn" } });
      const digestSchedulers = (await queue.getJobSchedulers(0, -1)).filter((x) =>
        x.key.startsWith("digest:"),
      );
      expect(digestSchedulers).toHaveLength(WANTED.length);
      const delayed = await queue.getDelayed();
      for (const w of WANTED) {
        const s = await scheduler(w.channel);
        expect(s.next, w.channel).toBe(before.get(w.channel));
        expect(delayed.filter((j) => j.repeatJobKey === s.key)).toHaveLength(1);
      }
    } finally {
      await second?.close();
    }
  });
});
