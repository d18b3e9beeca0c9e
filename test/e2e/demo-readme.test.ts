import { type ChildProcess, spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PG_ADMIN_URL, REDIS_TEST_URL } from "../support/databases.js";
import { REPO_ROOT } from "../support/spawn-cli.js";

// The README's first command, run as a person would on a fresh checkout: `npm run demo`, with
// nothing in the environment but PATH and HOME (and where Postgres and Redis are, which default
// to the addresses the README names). Issue #4: it runs in under a minute and exits 0, printing
// a digest, a status answer and an alert with Block Kit Builder links; issue #5 added a rollout
// and `audit verify`.

const BUDGET_MS = 60_000;
const BUILDER = "https://app.slack.com/block-kit-builder/#";

type Block = { type?: string; text?: { text?: string }; elements?: Array<{ text?: { text?: string } }> };
type Printed = { title: string; notification: string; body: string; url: string; blocks: Block[] };

let demo: ChildProcess | undefined;
afterAll(() => {
  // Only if the test gave up on it: the whole process group (npm, tsx, node).
  if (demo?.pid && demo.exitCode === null && demo.signalCode === null) process.kill(-demo.pid, "SIGKILL");
});

/** The messages the demo printed: `┌─ title`, `│ …` lines, `└─ Block Kit Builder: <url>`. */
function printedMessages(out: string): Printed[] {
  const found: Printed[] = [];
  for (const m of out.matchAll(/^┌─ (.*)\n((?:│.*\n)*)└─ Block Kit Builder: (\S+)$/gm)) {
    const [, title = "", body = "", url = ""] = m;
    const notification = /^│ \(notification text\) (.*)$/m.exec(body)?.[1] ?? "";
    let blocks: Block[] = [];
    if (url.startsWith(BUILDER)) {
      const payload = JSON.parse(decodeURIComponent(url.slice(BUILDER.length))) as { blocks?: unknown };
      if (Array.isArray(payload.blocks)) blocks = payload.blocks as Block[];
    }
    found.push({ title, notification, body, url, blocks });
  }
  return found;
}

const buttons = (m: Printed) =>
  m.blocks
    .filter((b) => b.type === "actions")
    .flatMap((b) => b.elements ?? [])
    .map((e) => e.text?.text);

describe("npm run demo, as the README says", () => {
  it("exits 0 within a minute, printing a digest, a status answer, an alert, a rollout and a verified audit trail", async () => {
    const readme = await readFile(join(REPO_ROOT, "README.md"), "utf8");
    const firstCommand = /```sh\n(.*)\n/.exec(readme)?.[1] ?? "";
    expect(firstCommand).toMatch(/^npm ci && npm run demo\b/);

    const startedAt = Date.now();
    demo = spawn("npm", ["run", "demo"], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        DEMO_PG_URL: PG_ADMIN_URL,
        DEMO_REDIS_URL: REDIS_TEST_URL,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let out = "";
    let err = "";
    demo.stdout?.on("data", (d) => {
      out += String(d);
    });
    demo.stderr?.on("data", (d) => {
      err += String(d);
    });
    const code = await new Promise<number | null>((resolve) => demo?.once("exit", (c) => resolve(c)));
    const elapsed = Date.now() - startedAt;
    const context = `exit ${code} after ${elapsed} ms\n--- stderr\n${err}\n--- stdout (tail)\n${out.slice(-3000)}`;

    expect(code, context).toBe(0);
    expect(elapsed, context).toBeLessThan(BUDGET_MS);
    expect(err, "nothing went wrong on stderr").not.toMatch(/error|unhandled|\bat .+:\d+:\d+\)?$/im);
    const reported = Number(/^Demo finished in ([\d.]+) s\.$/m.exec(out)?.[1]);
    expect(reported * 1000).toBeLessThan(BUDGET_MS);

    // Every message is printed with a Block Kit Builder link whose fragment is the message's blocks.
    const messages = printedMessages(out);
    expect(messages.length).toBeGreaterThanOrEqual(10);
    expect(out.match(/└─ Block Kit Builder: /g)).toHaveLength(messages.length);
    for (const m of messages) {
      expect(m.url.startsWith(BUILDER), m.title).toBe(true);
      expect(m.blocks.length, m.title).toBeGreaterThan(0);
      for (const b of m.blocks) expect(typeof b.type, m.title).toBe("string");
      expect(m.notification, m.title).not.toBe("");
    }

    // The alert: a new fixable critical finding, with what to patch and a "Patch now" button.
    const alert = messages.find((m) => /new fixable critical finding/.test(m.notification));
    expect(alert, "an alert").toBeDefined();
    expect(alert?.title).toMatch(/^posted in C0\w+$/);
    expect(alert?.body).toMatch(/CVE-\d{4}-\d+.*→ fixed in \S+/);
    expect(alert && buttons(alert)).toContain("Patch now");

    // The digest: a headline with counts, the SLA breach to decide on, the accepted risk.
    const digest = messages.find((m) => m.notification.startsWith("Patch digest · "));
    expect(digest, "a digest").toBeDefined();
    expect(digest?.title).toMatch(/^posted in C0\w+$/);
    expect(digest?.notification).toMatch(
      /^Patch digest · \w+ · week \d+: \d+ critical, \d+ high, \d+ past SLA/,
    );
    expect(digest?.blocks[0]).toMatchObject({
      type: "header",
      text: { text: expect.stringMatching(/^Patch digest/) },
    });
    expect(digest?.body).toMatch(/Needs a decision[\s\S]*CVE-\d{4}-\d+ .*past SLA by \d+ days/);
    expect(digest?.body).toMatch(/Accepted risks expiring[\s\S]*CVE-\d{4}-\d+ .*until \d{4}-\d{2}-\d{2}/);
    // Its trend chart was rendered and saved during this run.
    const chart = /uploaded into the digest's thread: \S+\.png → saved as (\S+\.png)$/m.exec(out)?.[1];
    expect(chart, "the trend chart").toBeDefined();
    const png = await readFile(chart ?? "");
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect((await stat(chart ?? "")).mtimeMs).toBeGreaterThanOrEqual(startedAt - 1000);

    // The status answer, to the person who asked.
    const status = messages.find((m) => /^\/patch status \S+ → visible only to @\w+$/.test(m.title));
    expect(status, "a /patch status answer").toBeDefined();
    expect(status?.notification).toMatch(/^\S+ \(team \w+\): \d+ critical.* · \d+ fixable · \d+ past SLA/);

    // The rollout: started by the base image's drift, through every stage, to done.
    const rollout = /starts rollout #(\d+)/.exec(out)?.[1];
    expect(rollout, "a rollout").toBeDefined();
    const dispatched = [...out.matchAll(/GitHub: \S+ dispatched on \S+ with stage=(\w+)/g)].map((m) => m[1]);
    expect(dispatched).toEqual(["rebuild", "staging", "canary", "production"]);
    const card = messages.filter((m) => m.notification.startsWith(`Rollout #${rollout} of `)).at(-1);
    expect(card?.notification).toMatch(/: done, production deployed$/);
    expect(messages.some((m) => /visible only to @\w+/.test(m.title) && /not an approver/.test(m.body))).toBe(
      true,
    );

    // And the audit trail verifies.
    expect(out).toMatch(/^audit trail OK: (\d+) events, head seq \1$/m);
    expect(out).not.toMatch(/audit trail BROKEN/);
  }, 90_000);
});
