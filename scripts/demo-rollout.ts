// The rollout part of `npm run demo`: the rollout patchpilot started for a base-image bump, through
// rebuild, staging, canary and production, with signed clicks on the card, a refused approval, the
// health gate after each deploy (bake time, then the demo's Prometheus), a production window
// wait, and the demo playing CI (the build's scan upload and signed workflow_run webhooks) against
// the fake GitHub.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { ROLLOUT_ACTIONS } from "../src/core/rollout/rollout-card-view.js";
import type { Database } from "../src/db/client.js";
import type { FakeGithub, FakeRun } from "../test/support/fake-github.js";
import type { FakeMessage, FakeSlack } from "../test/support/fake-slack.js";
import { githubDelivery } from "../test/support/sign-github.js";
import {
  blockActionPayload,
  blockActions,
  postSigned,
  slashCommand,
  viewSubmission,
  viewSubmissionPayload,
} from "../test/support/sign-slack.js";
import { printSlackMessage } from "./print-slack-message.js";

export type RolloutDemo = {
  base: string;
  slack: FakeSlack;
  github: FakeGithub;
  owner: Database;
  redis: Redis;
  prefix: string;
  slackSecret: string;
  webhookSecret: string;
  uploadToken: string;
  now: () => Date;
  setClock: (iso: string) => void;
  heading: (s: string) => void;
  /** The rollout already started (by the base-image drift). */
  rolloutId: number;
  /** The base the rebuild uses: its layers, and the vulnerabilities its own scan still has. */
  rebuiltOn: { diffIds: readonly string[]; stillIn: ReadonlySet<string> };
  /** The PromQL the demo's Prometheus was asked so far. */
  prometheusQueries: () => string[];
};

type User = { id: string; name: string };
const LEE = { id: "U0LEE", name: "lee" };
const MARIA = { id: "U0MARIA", name: "maria" };
const OMAR = { id: "U0OMAR", name: "omar" };
const SEC = { id: "U0SEC", name: "sec" };
// On the search team: not one of payments' approvers.
const DANA = { id: "U0DANA", name: "dana" };
const CHANNEL = "C0PAYMENTS";
// The rebuilt image: payments-api 1.42 on the new base, under a new digest.
const CANDIDATE = "sha256:8e1f0c4a2b7d9e3f5a6c8b0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await sleep(50);
  }
  throw new Error(`demo: gave up waiting for ${what}`);
}

export async function runRolloutDemo(d: RolloutDemo): Promise<{ rolloutId: number }> {
  const rolloutId = d.rolloutId;
  const { slack, github } = d;
  slack.setUser(LEE);
  slack.setUser(OMAR);
  slack.setUser(SEC);
  slack.setUser(DANA);
  slack.setUsergroupMembers("S0PAYAPPR", [MARIA.id, OMAR.id, LEE.id]);
  slack.setUsergroupMembers("S0SECURITY", [SEC.id]);
  const day = () => d.now().toISOString().slice(0, 16).replace("T", " ");

  const card = () =>
    slack.messages(CHANNEL).find((m) => !m.thread_ts && /Rollout #/.test(m.text ?? "")) as FakeMessage;
  let lastCard = "";
  const printCard = async (title: string, settled: (text: string) => boolean = () => true) => {
    // The card is updated in place through the outbox; wait for the version this step produces.
    const m = await until(`the card (${title})`, () => {
      const c = card();
      const text = c ? JSON.stringify(c.blocks) : "";
      return c && text !== lastCard && settled(text) ? c : undefined;
    });
    lastCard = JSON.stringify(m.blocks);
    console.log(printSlackMessage(`${day()}  the rollout card in #payments, ${title}`, m));
    console.log();
  };
  const printThread = (seen: Set<string>) => {
    const parent = card();
    for (const m of slack.messages(CHANNEL)) {
      if (!parent || m.thread_ts !== parent.ts || seen.has(m.ts)) continue;
      seen.add(m.ts);
      console.log(show("posted in the card's thread", m));
      console.log();
    }
  };
  const threadSeen = new Set<string>();
  /** The card's line for `stage` ("staging ✅ healthy (…) run …"), once `settled` holds for it. */
  const printStage = async (stage: string, settled: (line: string) => boolean) => {
    const line = await until(`${stage} on the card`, () => {
      const text = printSlackMessage("", card() ?? {});
      const found = text.split("\n").flatMap((l) => {
        const i = l.indexOf(`${stage} `);
        return i < 0 ? [] : (l.slice(i).split(" · ")[0] ?? []);
      });
      return found.find(settled);
    });
    console.log(`${day()}  the rollout card says: ${line}`);
  };

  const patch = async (text: string, user: User) => {
    const res = await postSigned(
      d.base,
      "/slack/events",
      slashCommand({ text, channelId: CHANNEL, userId: user.id, userName: user.name }, d.slackSecret),
    );
    return res.json as { text?: string; blocks?: unknown[] };
  };

  /** Clicks the card's Approve button for `stage` as `user`, signed like Slack, and prints the answer. */
  const clickApprove = async (stage: string, user: User, opts: { dialog?: boolean } = {}) => {
    // The card's Approve button carries this value; the demo clicks without waiting for the card
    // update that shows it (Slack paces message updates, and the demo would wait a second each).
    const c = card();
    const value = JSON.stringify({ rollout: rolloutId, stage, digest: CANDIDATE });
    const label = stage === "production" ? "Approve production…" : `Approve ${stage}`;
    const responseUrl = slack.responseUrl();
    const viewsBefore = slack.views().length;
    const dmsBefore = slack.messages(user.id).length;
    const res = await postSigned(
      d.base,
      "/slack/events",
      blockActions(
        blockActionPayload({
          actionId: ROLLOUT_ACTIONS.approve,
          value,
          userId: user.id,
          userName: user.name,
          channelId: CHANNEL,
          messageTs: c.ts,
          buttonText: label,
          responseUrl,
        }),
        d.slackSecret,
      ),
    );
    if (res.status !== 200) throw new Error(`demo: the click answered ${res.status}`);
    if (opts.dialog) {
      const view = await until("the confirmation dialog", () => slack.views()[viewsBefore]);
      console.log(`${day()}  @${user.name} clicks “${label}” → a dialog opens: ${dialogText(view.view)}`);
      const submitted = await postSigned(
        d.base,
        "/slack/events",
        viewSubmission(viewSubmissionPayload({ view, user }), d.slackSecret),
      );
      if (submitted.status !== 200)
        throw new Error(`demo: the dialog submission answered ${submitted.status}`);
      console.log(`${day()}  @${user.name} submits the dialog`);
    }
    // The app answers on the click's response_url (after a dialog, possibly in a direct message).
    const answer = await until(`an answer to @${user.name}'s click`, () => {
      const reply = slack.callsTo("response_url").find((x) => x.args.path === new URL(responseUrl).pathname);
      if (reply) return reply.args as { text?: string; blocks?: unknown[] };
      return opts.dialog ? slack.messages(user.id)[dmsBefore] : undefined;
    });
    console.log(
      show(`${day()}  @${user.name} clicks Approve ${stage} → answer visible only to @${user.name}`, answer),
    );
    console.log();
  };

  const webhook = async (run: FakeRun, action: string) => {
    const req = await githubDelivery(
      "workflow_run",
      { action, workflow_run: run, repository: run.repository },
      d.webhookSecret,
    );
    const res = await postSigned(d.base, "/github/webhooks", req);
    if (res.status !== 200) throw new Error(`demo: the ${action} webhook answered ${res.status}`);
  };
  const nextDispatch = async (n: number) => {
    const dispatch = await until(`dispatch #${n}`, () => github.dispatches()[n - 1]);
    console.log(
      `${day()}  GitHub: ${dispatch.workflow} dispatched on ${dispatch.owner}/${dispatch.repo} with stage=${dispatch.inputs.stage} digest=${dispatch.inputs.digest?.slice(0, 19)}… (run ${dispatch.runId})`,
    );
    return dispatch;
  };
  /** CI for a deploy: the run starts, then succeeds; GitHub tells us with signed webhooks. */
  const deploy = async (runId: number) => {
    github.setRunStatus(runId, "in_progress");
    const running = github.runs().find((r) => r.id === runId);
    if (running) await webhook(running, "in_progress");
    await webhook(github.completeRun(runId, "success"), "completed");
    console.log(
      `${day()}  CI: run ${runId} in_progress, then completed success (signed workflow_run webhooks)`,
    );
  };

  d.heading(`The drift's rollout #${rolloutId} (onBaseImageDrift: rollout): its card is the team's notice`);
  await printCard("as posted");
  // Lee was about to patch openssl by hand: patchpilot already is.
  const started = await patch(
    'rollout payments-api --reason "openssl CVE-2026-1234 and libxml2 CVE-2026-4242"',
    LEE,
  );
  console.log(show("/patch rollout payments-api (signed slash command) → visible only to @lee", started));
  console.log();

  d.heading("The rebuild: CI builds, uploads the candidate's scan, reports the run");
  const build = await nextDispatch(1);
  // CI's scan of the new image: 1.42 rebuilt on the new base. Its base layers are the new
  // release's, with only the findings that release still has; its own layers are rebuilt.
  const sample = JSON.parse(
    await readFile(new URL("../examples/scans/payments-api-1.42.trivy.json", import.meta.url), "utf8"),
  ) as {
    Metadata: { ImageID?: string; RepoDigests?: string[]; RepoTags?: string[]; DiffIDs: string[] };
    Results: Array<{
      Target: string;
      Vulnerabilities?: Array<{ VulnerabilityID: string; Layer?: { DiffID?: string } }> | null;
    }>;
  };
  const oldLayers = sample.Metadata.DiffIDs;
  const newBase = d.rebuiltOn.diffIds;
  const rebuilt = new Map(
    oldLayers.map((l, i) => [
      l,
      newBase[i] ?? `sha256:${createHash("sha256").update(`rebuilt ${l}`).digest("hex")}`,
    ]),
  );
  sample.Metadata.DiffIDs = oldLayers.map((l) => rebuilt.get(l) ?? l);
  sample.Metadata.RepoDigests = [`ghcr.io/acme/payments-api@${CANDIDATE}`];
  sample.Metadata.RepoTags = ["ghcr.io/acme/payments-api:1.42-rebuilt"];
  sample.Metadata.ImageID = `sha256:${"2".repeat(64)}`;
  const baseLayers = new Set(oldLayers.slice(0, newBase.length));
  for (const r of sample.Results) {
    r.Vulnerabilities = (r.Vulnerabilities ?? []).filter(
      (v) => !baseLayers.has(v.Layer?.DiffID ?? "") || d.rebuiltOn.stillIn.has(v.VulnerabilityID),
    );
    for (const v of r.Vulnerabilities)
      if (v.Layer?.DiffID) v.Layer.DiffID = rebuilt.get(v.Layer.DiffID) ?? v.Layer.DiffID;
  }
  const up = await fetch(`${d.base}/api/v1/scans?rollout_id=${rolloutId}`, {
    method: "POST",
    body: JSON.stringify(sample),
    headers: { authorization: `Bearer ${d.uploadToken}`, "content-type": "application/json" },
  });
  const upRaw = await up.text();
  if (up.status >= 300) console.log(upRaw);
  const upAnswer = JSON.parse(upRaw) as { findings?: number; diff?: { new: number; fixed: number } };
  console.log(
    `${day()}  CI: POST /api/v1/scans?rollout_id=${rolloutId} (candidate ${CANDIDATE.slice(0, 19)}…) → ${up.status}  ${upAnswer.findings} findings, ${upAnswer.diff?.fixed} fixed`,
  );
  await deploy(build.runId);
  await until("the approval request", () =>
    slack.messages(CHANNEL).some((m) => m.thread_ts && m.thread_ts === card()?.ts),
  );
  await printCard("awaiting staging approval", (t) => t.includes(ROLLOUT_ACTIONS.approve));
  printThread(threadSeen);

  d.heading("Staging: Dana (search team) is not a payments approver; Maria is");
  await clickApprove("staging", DANA);
  await clickApprove("staging", MARIA);
  await deploy((await nextDispatch(2)).runId);
  await printCard("staging deployed, baking", (t) => t.includes("baking until"));

  d.heading("Staging's health gate: after the bake time, Prometheus judges it");
  await printCard("staging healthy, canary awaits approval", (t) => t.includes("healthy ("));
  const asked = d.prometheusQueries();
  console.log(`The gate asked Prometheus (POST /api/v1/query) ${asked.length} queries:`);
  for (const q of asked) console.log(`  ${q}`);
  console.log();

  d.heading("Canary (business-hours window, open now): Omar approves; it bakes and passes its gate");
  await clickApprove("canary", OMAR);
  await deploy((await nextDispatch(3)).runId);
  await printStage("canary", (l) => l.includes("baking until"));
  await printStage("canary", (l) => l.includes("healthy ("));

  d.heading("Production: two approvals, one from security, each confirmed in a dialog");
  await clickApprove("production", MARIA, { dialog: true });
  await clickApprove("production", SEC, { dialog: true });
  await printCard("approved, waiting for the patch-tuesday window", (t) => t.includes("waits"));
  printThread(threadSeen);
  if (github.dispatches().length !== 3) throw new Error("demo: production was dispatched outside its window");

  d.heading("Two weeks later: patch Tuesday, 10:00 in Berlin");
  d.setClock("2026-12-08T09:00:30Z");
  // The waiting dispatch became due when the window opened. The demo moved only its own clock:
  // make the intent due by the database's clock too, and since the app's deferred deliveries are
  // now timed by a clock two weeks ahead of Redis's, promote them while the demo goes on.
  await d.owner.pool.query(
    "UPDATE outbox SET available_at = now() WHERE kind = 'github.dispatch' AND status = 'pending'",
  );
  const effects = new Queue("effects", { connection: d.redis, prefix: d.prefix });
  // The production health gate is timed by the demo's clock too: make it due by the database's
  // clock once it exists (it still waits for its bake time by the demo's clock).
  let promoting = true;
  const promoter = (async () => {
    while (promoting) {
      await d.owner.pool.query(
        "UPDATE outbox SET available_at = now() WHERE kind = 'rollout.health-gate' AND status = 'pending' AND available_at > now()",
      );
      for (const job of await effects.getDelayed()) await job.promote().catch(() => undefined);
      await sleep(50);
    }
  })();
  await deploy((await nextDispatch(4)).runId);
  await printStage("production", (l) => l.includes("baking until"));
  await printCard("done", (t) => t.includes("✅ done"));
  printThread(threadSeen);
  promoting = false;
  await promoter;
  await effects.close();

  const audit = await patch(`audit ${rolloutId}`, LEE);
  console.log(show(`/patch audit ${rolloutId} → visible only to @lee`, audit));
  return { rolloutId };
}

/** A message without blocks is shown by Slack as its text, in mrkdwn: print it that way too. */
function show(title: string, m: { text?: string; blocks?: unknown[] }): string {
  const blocks = m.blocks?.length
    ? m.blocks
    : [{ type: "section", text: { type: "mrkdwn", text: m.text ?? "" } }];
  return printSlackMessage(title, { ...m, blocks });
}

function dialogText(view: Record<string, unknown>): string {
  const title = (view.title as { text?: string } | undefined)?.text ?? "";
  const body = ((view.blocks as Array<{ text?: { text?: string } }> | undefined) ?? [])
    .map((b) => b.text?.text ?? "")
    .filter(Boolean)
    .join(" / ");
  return `“${title}” — ${body.replaceAll("\n", " ")}`;
}
