import type { WebClient } from "@slack/web-api";
import type { ChannelGate } from "../adapters/channel-gate.js";
import type { Logger } from "../adapters/logger.js";
import type { RegistryClient } from "../adapters/registry/registry-client.js";
import type { PatchpilotConfig } from "../config/file-schema.js";
import type { SlaPolicy } from "../core/sla/sla-policy.js";
import type { Db } from "../db/client.js";
import type { IntentTx, OutboxRow } from "../db/outbox-repository.js";
import { renderAcceptanceNotices } from "../render/render-acceptance-notices.js";
import type { SlackMessage } from "../render/slack-message.js";
import { actOnDrift, driftPayload } from "../services/freshness/act-on-drift.js";
import { checkBaseImages } from "../services/freshness/check-base-images.js";
import type { GroupMembership } from "../services/group-membership.js";
import type { PrometheusQueries } from "../services/health/run-health-gate.js";
import { createHomeViewModel } from "../services/home-view.js";
import { newFindingsPayload, notifyNewFindings } from "../services/notify-new-findings.js";
import { postDigest } from "../services/post-digest.js";
import { digestChartPayload, postDigestChart } from "../services/post-digest-chart.js";
import { queueIntents } from "../services/record-effect.js";
import { homeRefreshPayload, refreshHomes } from "../services/refresh-homes.js";
import { acceptanceNoticePayload, acceptanceNotices } from "../services/risk/expired-acceptance-notice.js";
import { dispatchPayload, dispatchStage } from "../services/rollouts/dispatch-stage.js";
import { expireStages } from "../services/rollouts/expire-stages.js";
import type { GithubActions } from "../services/rollouts/github-actions-port.js";
import {
  healthGatePayload,
  reviveFailedGates,
  runStageHealthGate,
} from "../services/rollouts/health-gate.js";
import { pollWorkflowRuns } from "../services/rollouts/poll-workflow-runs.js";
import {
  approvalRequestPayload,
  postApprovalRequest,
  postRolloutCard,
  rolloutCardPayload,
} from "../services/rollouts/rollout-card.js";
import type { RolloutDeps } from "../services/rollouts/rollout-deps.js";
import { createTeamsOfUser } from "../services/teams-of-user.js";
import { knownMessagesRead, slackPostPayload, upsertSlackMessage } from "../services/upsert-slack-message.js";
import {
  deliverChannel,
  deliverOutbox,
  type OutboxEffects,
  type OutboxPacing,
} from "./handlers/deliver-outbox.js";
import { expireAcceptances } from "./handlers/expire-acceptances.js";
import { reconcileOutbox } from "./handlers/reconcile-outbox.js";
import { warnExpiringAcceptances } from "./handlers/warn-expiring-acceptances.js";
import { CHANNEL_DB_SLOTS, type JobHandlers } from "./job-catalogue.js";
import type { JobQueues } from "./job-queues.js";

/** Wires each job handler to exactly the dependencies it uses. */
export function buildJobHandlers(deps: {
  db: Db;
  queues: JobQueues;
  slack: WebClient;
  gate: ChannelGate;
  sla: SlaPolicy;
  charts: boolean;
  now: () => Date;
  config: PatchpilotConfig;
  membership: GroupMembership;
  /** Null when no GitHub credentials are configured: dispatches fail with a message saying so. */
  github: GithubActions | null;
  /** Null when no image has a base image to watch. */
  registry?: RegistryClient | null;
  /** Null when prometheus.url is not set: health gates with a check are then inconclusive, saying why. */
  prometheus?: PrometheusQueries | null;
  /** For warnings of effects that go on despite a failure (one Home tab of many not refreshed). */
  logger?: Logger;
}): JobHandlers {
  const rollouts: RolloutDeps = {
    db: deps.db,
    config: deps.config,
    now: deps.now,
    membership: deps.membership,
    afterCommit: (ids) => queueIntents({ queues: deps.queues }, ids),
  };
  const github = deps.github ?? NO_GITHUB;
  const teamsOfUser = createTeamsOfUser({ config: deps.config, membership: deps.membership });
  const home = {
    db: deps.db,
    slack: deps.slack,
    teamsOfUser,
    now: deps.now,
    buildHome: createHomeViewModel({
      db: deps.db,
      sla: deps.sla,
      teamsOfUser,
      now: deps.now,
      config: deps.config,
      membership: deps.membership,
    }),
    ...(deps.logger ? { logger: deps.logger } : {}),
  };
  // When an earlier try of the intent may have posted (its answer lost, its worker killed), a
  // post is looked for before it is made again (upsertSlackMessage).
  const retryOf = (row: OutboxRow, intent: IntentTx) => (intent.mayHaveActed ? row.createdAt : undefined);
  // What the rollout card and its approval asks post with.
  const cardDeps = (row: OutboxRow, intent: IntentTx) => ({
    db: deps.db,
    config: deps.config,
    now: deps.now,
    slack: deps.slack,
    gate: deps.gate,
    retryOf: retryOf(row, intent),
  });
  const postNotice = async (key: string, channel: string, message: SlackMessage, since: Date | undefined) => {
    const r = await upsertSlackMessage(
      deps.db,
      deps.slack,
      { key, channel, text: message.text, blocks: message.blocks },
      deps.gate,
      { retryOf: since },
    );
    return { ts: r.ts };
  };
  /** One message for a run's acceptances of one team; none left to tell about is a skip. */
  const postAcceptanceNotices = async (
    kind: "expiring" | "expired",
    row: OutboxRow,
    since: Date | undefined,
  ) => {
    const { acceptanceIds } = acceptanceNoticePayload.parse(row.payload);
    // A warning for an acceptance that has expired meanwhile would only confuse: its expiry notice says it.
    const notices = (await acceptanceNotices(deps.db, acceptanceIds)).filter(
      (n) => kind === "expired" || n.expiredAt > deps.now(),
    );
    const [first] = notices;
    if (!first) return { skipped: "no team channel, revoked or expired meanwhile" };
    return postNotice(row.dedupeKey, first.channel, renderAcceptanceNotices(kind, notices), since);
  };
  const effects: OutboxEffects = {
    "slack.post": async (row, intent) => {
      const r = await upsertSlackMessage(
        intent.tx,
        deps.slack,
        slackPostPayload.parse(row.payload),
        deps.gate,
        { ...intent, retryOf: retryOf(row, intent) },
      );
      return { ts: r.ts, updated: r.updated };
    },
    "slack.digest-chart": async (row) =>
      postDigestChart(
        { db: deps.db, slack: deps.slack, gate: deps.gate },
        digestChartPayload.parse(row.payload),
      ),
    "notify.new-findings": async (row, intent) =>
      notifyNewFindings(
        { db: deps.db, slack: deps.slack, gate: deps.gate, sla: deps.sla, retryOf: retryOf(row, intent) },
        newFindingsPayload.parse(row.payload),
      ),
    "github.dispatch": async (row) =>
      dispatchStage({ ...rollouts, github }, dispatchPayload.parse(row.payload)),
    "rollout.ask": async (row, intent) =>
      postApprovalRequest(cardDeps(row, intent), approvalRequestPayload.parse(row.payload)),
    "base-image.drift": async (row, intent) =>
      actOnDrift(
        {
          ...rollouts,
          post: (message) =>
            upsertSlackMessage(deps.db, deps.slack, message, deps.gate, { retryOf: retryOf(row, intent) }),
        },
        driftPayload.parse(row.payload),
      ),
    "rollout.health-gate": async (row) =>
      runStageHealthGate(
        { ...rollouts, prometheus: deps.prometheus ?? null },
        healthGatePayload.parse(row.payload),
      ),
    "rollout.card": async (row, intent) => {
      const { rolloutId, version } = rolloutCardPayload.parse(row.payload);
      return postRolloutCard(cardDeps(row, intent), rolloutId, version);
    },
    "home.refresh": async (row) => refreshHomes(home, homeRefreshPayload.parse(row.payload)),
    "notify.acceptance-expiring": async (row, intent) =>
      postAcceptanceNotices("expiring", row, retryOf(row, intent)),
    "notify.acceptance-expired": async (row, intent) =>
      postAcceptanceNotices("expired", row, retryOf(row, intent)),
  };
  // Posted to a Slack channel one a second: the channel and ticket each asks the gate for.
  const pacing: OutboxPacing = {
    "slack.post": (row) => {
      const post = slackPostPayload.parse(row.payload);
      return { channel: post.channel, ticket: post.key, alsoRead: knownMessagesRead(row.id) };
    },
    "slack.digest-chart": (row) => {
      const chart = digestChartPayload.parse(row.payload);
      return { channel: chart.channel, ticket: chart.key };
    },
  };
  const delivery = {
    db: deps.db,
    // BullMQ schedules deferrals on the wall clock; the delays themselves are relative.
    now: () => Date.now(),
    effects,
  };
  return {
    "reconcile-outbox": reconcileOutbox({ ...deps, channelKinds: Object.keys(pacing) }),
    "expire-approvals": async () => {
      await expireStages(rollouts);
      await reviveFailedGates(rollouts);
    },
    "poll-workflow-runs": async () => {
      if (deps.github) await pollWorkflowRuns({ ...rollouts, github: deps.github });
    },
    "check-base-images": async () => {
      if (!deps.registry) return;
      await checkBaseImages({
        db: deps.db,
        config: deps.config,
        registry: deps.registry,
        now: deps.now,
        afterCommit: rollouts.afterCommit,
        ...(deps.logger ? { logger: deps.logger } : {}),
      });
    },
    "expire-acceptances": expireAcceptances({ db: deps.db, now: deps.now }),
    "warn-expiring-acceptances": warnExpiringAcceptances({ db: deps.db, now: deps.now }),
    "post-digest": async ({ subscriptionId }) => {
      await postDigest(
        {
          db: deps.db,
          sla: deps.sla,
          charts: deps.charts,
          now: deps.now,
          config: deps.config,
          afterCommit: (ids) => queueIntents({ queues: deps.queues }, ids, { oneChannel: true }),
        },
        subscriptionId,
      );
    },
    "deliver-outbox": deliverOutbox(delivery),
    "deliver-channel": deliverChannel({
      ...delivery,
      gate: deps.gate,
      dbSlots: CHANNEL_DB_SLOTS,
      pacing,
    }),
  };
}

/** Stands in for GitHub when no credentials are set: every call is refused, for good, saying why. */
const notConfigured = (): never => {
  const e = new Error(
    "GitHub is not configured: set GITHUB_TOKEN (or GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID) so patchpilot can dispatch workflows",
  );
  Object.assign(e, { permanent: true });
  throw e;
};
const NO_GITHUB: GithubActions = {
  dispatchWorkflow: async () => notConfigured(),
  findRunByDispatchId: async () => notConfigured(),
  getRun: async () => notConfigured(),
};
