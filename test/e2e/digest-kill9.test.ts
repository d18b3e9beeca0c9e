import { afterAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/services/upload-tokens.js";
import {
  imageId,
  manyImagesConfig,
  type ProcCluster,
  startProcCluster,
} from "../support/rollout-proc-cluster.js";
import { waitFor } from "../support/spawn-cli.js";
import { uploadScan } from "../support/upload-scan.js";

// Issue #4: exactly one digest per request even when the worker posting it dies mid-run. Each
// round asks for a digest (a message and its thread replies, posted a second apart), delays
// Slack's answer to its first post (the message lands, the answer is still on its way), and
// kill -9s the worker: the first round within that answer's delay, the next 0–2.5 s in. Workers
// run with BullMQ's lock at 2 s and its stall check every 1 s
// (test/support/rollout-proc-fast-stall.mjs); the reconciler keeps its 15 s.
const IMAGES = 12;
const ROUNDS = 2;
// BullMQ's lock and stall check, the reconciler, a dead sender's hold on the channel (35 s), the posts.
const RECOVERY_MS = 2_000 + 1_000 + 15_000 + 35_000 + 10_000;

let c: ProcCluster | undefined;
afterAll(async () => {
  await c?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("kill -9 of the worker posting a digest", () => {
  it(`posts each of ${ROUNDS} digests' messages exactly once, in their thread`, async () => {
    c = await startProcCluster({ yaml: manyImagesConfig(IMAGES) });
    const cluster = c;
    const web = await cluster.spawnWeb();
    // Twelve images with a finding each: the digest lists five and puts the rest in its thread.
    const token = (
      await createToken(cluster.owner.db, { teamId: "payments", name: "ci", scopes: ["upload"] })
    ).token;
    for (let n = 1; n <= IMAGES; n++) {
      await uploadScan(web, token, {
        image: `ghcr.io/acme/${imageId(n)}:1.0`,
        digestNumber: 1,
        vulns: [{ id: `CVE-2026-${String(5000 + n)}`, pkg: "zlib", severity: "HIGH" }],
      });
    }

    const posted = () =>
      cluster.slack.messages("C0PAYMENTS").filter((m) => String(m.text).startsWith("Patch digest"));
    for (let round = 0; round < ROUNDS; round++) {
      const worker = await cluster.spawnWorker({ fastStall: true });
      const before = posted().length;
      cluster.slack.failNext("chat.postMessage", { delayMs: 1_500 }, 1);
      expect(await cluster.patch(web.baseUrl, "digest payments")).toBe(
        "Posting the digest for payments in this channel now.",
      );
      // The channel may still be held by the sender killed in the round before (35 s at most).
      await waitFor(() => posted().length > before, 45_000, `round ${round}'s first post`);
      // The first round dies while Slack's answer to its first post is on the way (a post that
      // landed unrecorded); the others anywhere in the digest's run.
      await sleep(Math.floor(Math.random() * (round === 0 ? 400 : 2_500)));
      await worker.kill("SIGKILL");
      if (round === 0) {
        // In Slack, not recorded by us: only the lookup after the crash can keep it from a double.
        const landed = posted()[before];
        const key = (landed?.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload
          ?.key;
        const recorded = await cluster.owner.pool.query("SELECT 1 FROM slack_messages WHERE key = $1", [key]);
        expect(recorded.rows).toEqual([]);
      }
    }

    await cluster.spawnWorker({ fastStall: true });
    const pending = async () =>
      Number(
        (
          await cluster.owner.pool.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM outbox WHERE kind = 'slack.post' AND status <> 'done'",
          )
        ).rows[0]?.n,
      );
    await waitFor(async () => (await pending()) === 0, RECOVERY_MS, "every digest message delivered");

    const intents = await cluster.owner.pool.query<{ key: string; thread_key: string | null }>(
      "SELECT payload->>'key' AS key, payload->>'threadKey' AS thread_key FROM outbox WHERE kind = 'slack.post' AND payload->>'channel' = 'C0PAYMENTS'",
    );
    const keyOf = (m: { metadata?: unknown }) =>
      String((m.metadata as { event_payload?: { key?: unknown } } | undefined)?.event_payload?.key ?? "");
    const messages = cluster.slack.messages("C0PAYMENTS");
    const keys = messages.map(keyOf);
    // Each digest has its main message and at least one thread reply.
    expect(intents.rows.filter((i) => i.thread_key === null)).toHaveLength(ROUNDS);
    expect(intents.rows.length).toBeGreaterThan(ROUNDS);
    // Exactly once: every intent's message is in Slack, and none twice.
    expect(keys.sort()).toEqual(intents.rows.map((i) => i.key).sort());
    // Replies in their digest's thread.
    const tsOf = new Map(messages.map((m) => [keyOf(m), m.ts]));
    for (const i of intents.rows.filter((r) => r.thread_key !== null)) {
      const reply = messages.find((m) => keyOf(m) === i.key);
      expect(reply?.thread_ts).toBe(tsOf.get(i.thread_key ?? ""));
    }
  }, 180_000);
});
