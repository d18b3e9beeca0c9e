import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createChannelGate } from "./adapters/channel-gate.js";
import { createGithubClient, verifyGithubSignature } from "./adapters/github/github-client.js";
import { createLogger, type Logger } from "./adapters/logger.js";
import { createPrometheusClient } from "./adapters/prometheus/prometheus-client.js";
import { assertRedisKeepsKeys } from "./adapters/redis-eviction-check.js";
import { createRegistryClient } from "./adapters/registry/registry-client.js";
import { createEventOnce } from "./adapters/slack-event-once.js";
import { createSlackWebClient } from "./adapters/slack-web.js";
import { type EnvConfig, loadConfig, type Role } from "./config/env.js";
import type { PatchpilotConfig } from "./config/file-schema.js";
import { loadConfigFile } from "./config/load-config-file.js";
import { registryCredentials } from "./config/registry-credentials.js";
import { slaPolicyFromConfig } from "./config/sla-policy-from-config.js";
import { durationMs } from "./core/duration-ms.js";
import { normalizeImageRef } from "./core/scan/normalize-image-ref.js";
import { createDatabase } from "./db/client.js";
import { migrationStatus, runMigrations } from "./db/migrate.js";
import { apiErrorHandler } from "./http/api-errors.js";
import { createAuditRoutes } from "./http/audit-routes.js";
import { createHttpApp } from "./http/create-http-app.js";
import { createGithubWebhookRoutes } from "./http/github-webhook-routes.js";
import { createMetrics } from "./http/metrics.js";
import { createScanRoutes } from "./http/scan-routes.js";
import { createVexRoutes } from "./http/vex-routes.js";
import { buildJobHandlers } from "./jobs/build-job-handlers.js";
import { createJobQueues, createRedis } from "./jobs/job-queues.js";
import { startWorkers, type Workers } from "./jobs/start-workers.js";
import { listSubscriptions, syncConfigSubscriptions } from "./services/digest-subscriptions.js";
import { createGroupMembership } from "./services/group-membership.js";
import { createHomeView } from "./services/home-view.js";
import { createPostureMetrics } from "./services/metrics/posture-metrics.js";
import { postureSnapshot } from "./services/metrics/posture-snapshot.js";
import { postDigestNow } from "./services/post-digest.js";
import { queueIntents } from "./services/record-effect.js";
import { applyWorkflowRun } from "./services/rollouts/apply-workflow-run.js";
import { recordCandidate } from "./services/rollouts/record-candidate.js";
import type { RolloutDeps } from "./services/rollouts/rollout-deps.js";
import { startAutomaticRollout } from "./services/rollouts/start-automatic-rollout.js";
import { syncConfig } from "./services/sync-config.js";
import { createTeamsOfUser } from "./services/teams-of-user.js";
import { buildSubcommands } from "./slack/commands/index.js";
import { createSlackApp, type SlackApp } from "./slack/create-slack-app.js";

export type Patchpilot = {
  env: EnvConfig;
  config: PatchpilotConfig;
  logger: Logger;
  /** The port the HTTP server listens on. */
  port: number;
  /** Stops accepting work, lets in-flight requests and jobs finish (bounded), closes pools. */
  close(): Promise<void>;
};

export type StartOptions = {
  role: Exclude<Role, "tool">;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  now?: () => Date;
};

/**
 * The composition root: configuration, adapters, services, then the HTTP receiver and/or the
 * workers. Nothing is created at import time, so tests start as many instances as they like.
 */
export async function startPatchpilot(opts: StartOptions): Promise<Patchpilot> {
  const env = loadConfig(opts.env ?? process.env, opts.role);
  const config = await loadConfigFile(env.PATCHPILOT_CONFIG);
  const logger = opts.logger ?? createLogger(env.LOG_LEVEL);
  const now = opts.now ?? (() => new Date());

  const redis = createRedis(env.REDIS_URL);
  redis.on("error", (e) => logger.warn({ err: e.message }, "redis connection error"));
  try {
    await redis.connect();
    await assertRedisKeepsKeys(redis);
    await runMigrations(env.DATABASE_URL);
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  const database = createDatabase(env.DATABASE_URL);
  await syncConfig(database.db, config, (ref) => normalizeImageRef(ref).repository);
  await syncConfigSubscriptions(database.db, config);

  const metrics = createMetrics();
  // The fleet's posture on /metrics of the roles that answer Slack (computed when scraped, cached).
  const postureMetrics =
    opts.role === "web" || opts.role === "all"
      ? createPostureMetrics({
          registry: metrics.registry,
          logger,
          load: () => postureSnapshot(database.db, { now: now(), sla: slaPolicyFromConfig(config.sla) }),
        })
      : null;
  const queues = createJobQueues({ connection: redis, prefix: env.REDIS_PREFIX });
  const syncSchedules = async () => queues.syncDigestSchedules(await listSubscriptions(database.db));
  const queueErrorLogger = (e: unknown) =>
    logger.warn(
      { err: e instanceof Error ? e.message : String(e) },
      "queueing failed; the reconciler will pick it up",
    );
  const slackWeb = createSlackWebClient({ token: env.SLACK_BOT_TOKEN, apiUrl: env.SLACK_API_URL, logger });

  let workers: Workers | null = null;
  let scheduleRefresh: NodeJS.Timeout | undefined;
  // One instance, so commands, approvals and the Home tab share its cache of group members.
  const membership = createGroupMembership({ slack: slackWeb, now: () => now().getTime() });
  const rolloutDeps: RolloutDeps = {
    db: database.db,
    config,
    now,
    membership,
    // Not awaited: the decision is committed, and a stalled Redis must not hold the clicker's
    // answer (the reconciler queues whatever this misses).
    afterCommit: async (ids) => void queueIntents({ queues, onQueueError: queueErrorLogger }, ids),
  };
  const github = githubClientFromEnv(env, logger);

  // Every role serves /healthz, /readyz and /metrics (a worker's job metrics live in its process);
  // only web and all receive Slack.
  let draining = false;
  const http = createHttpApp({
    logger,
    metrics,
    readiness: [
      {
        name: "postgres",
        check: async () => {
          const s = await migrationStatus(database.pool);
          if (s.applied < s.expected) throw new Error(`${s.expected - s.applied} migration(s) not applied`);
        },
      },
      { name: "redis", check: async () => void (await redis.ping()) },
      {
        name: "shutdown",
        check: async () => {
          if (draining) throw new Error("shutting down");
        },
      },
    ],
    collectMetrics: async () => {
      for (const d of await queues.depths())
        metrics.queueDepth.set({ queue: d.queue, state: d.state }, d.count);
    },
  });
  let slackApp: SlackApp | null = null;
  if (opts.role === "web" || opts.role === "all") {
    http.use(
      createScanRoutes({
        db: database.db,
        now,
        maxBodyBytes: config.scans.maxUploadBytes,
        burstWindowMs: durationMs(config.alerts.burstWindow),
        afterCommit: (ids) => queueIntents({ queues, onQueueError: queueErrorLogger }, ids),
        onRolloutScan: (scan) => recordCandidate(rolloutDeps, scan),
        // The scan is stored whatever happens here; a failed automatic start is logged, not the upload's error.
        onUrgentFindings: (image) =>
          startAutomaticRollout(rolloutDeps, image.repository).catch((e: unknown) =>
            logger.warn(
              { err: e instanceof Error ? e.message : String(e) },
              "automatic rollout did not start",
            ),
          ),
      }),
    );
    http.use(
      createGithubWebhookRoutes({
        db: database.db,
        verify: env.GITHUB_WEBHOOK_SECRET
          ? (
              (secret) => (body, signature) =>
                verifyGithubSignature(secret, body, signature)
            )(env.GITHUB_WEBHOOK_SECRET)
          : null,
        apply: (run, origin) => applyWorkflowRun(rolloutDeps, run, origin),
        logger,
      }),
    );
    http.use(createAuditRoutes({ db: database.db, now }));
    http.use(createVexRoutes({ db: database.db, config, now, maxBodyBytes: config.scans.maxUploadBytes }));
    http.use(apiErrorHandler(logger, () => config.scans.maxUploadBytes));
    const teamsOfUser = createTeamsOfUser({ config, membership });
    const sla = slaPolicyFromConfig(config.sla);
    slackApp = createSlackApp({
      botToken: env.SLACK_BOT_TOKEN,
      signingSecret: env.SLACK_SIGNING_SECRET,
      apiUrl: env.SLACK_API_URL,
      appToken: env.SLACK_APP_TOKEN,
      logger,
      subcommands: buildSubcommands({
        db: database.db,
        config,
        sla,
        teamsOfUser,
        slack: slackWeb,
        now,
        onSubscriptionsChanged: syncSchedules,
        rollouts: rolloutDeps,
        postDigestNow: (q) =>
          postDigestNow(
            {
              db: database.db,
              sla,
              charts: false,
              now,
              config,
              afterCommit: (ids) =>
                queueIntents({ queues, onQueueError: queueErrorLogger }, ids, { oneChannel: true }),
            },
            q,
          ),
      }),
      http,
      homeView: createHomeView({ db: database.db, sla, teamsOfUser, now, config, membership }),
      acceptRisk: { db: database.db, config, teamsOfUser, now, logger },
      rollouts: { rollouts: rolloutDeps, logger },
      history: { db: database.db, now },
      firstDelivery: createEventOnce({
        redis,
        prefix: env.REDIS_PREFIX,
        onError: (e) =>
          logger.warn(
            { err: e instanceof Error ? e.message : String(e) },
            "could not check a Slack event for a retry; handling it",
          ),
      }),
    });
    await slackApp.start();
  }
  const server = createServer(http);
  // Longer than a typical load balancer's idle timeout, so it never closes a reused socket first.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(env.PORT, () => resolve());
  });

  if (opts.role === "worker" || opts.role === "all") {
    const watchesBaseImages =
      config.freshness.enabled && config.images.some((i) => i.baseImage !== undefined);
    const registries = registryCredentials(config, opts.env ?? process.env);
    if (watchesBaseImages && registries.missing.length > 0)
      logger.warn(
        { missing: registries.missing },
        "registry credentials not set; those registries are asked anonymously",
      );
    const gate = createChannelGate({ redis, prefix: env.REDIS_PREFIX });
    const handlers = buildJobHandlers({
      db: database.db,
      queues,
      // No quick retries of its own: a delivery looks for a post whose answer was lost first.
      slack: createSlackWebClient({
        token: env.SLACK_BOT_TOKEN,
        apiUrl: env.SLACK_API_URL,
        logger,
        retries: 0,
      }),
      gate,
      sla: slaPolicyFromConfig(config.sla),
      charts: config.digestCharts,
      now,
      config,
      membership,
      github,
      prometheus: config.prometheus ? createPrometheusClient({ url: config.prometheus.url, logger }) : null,
      registry: watchesBaseImages ? createRegistryClient({ registries: registries.registries }) : null,
      logger,
    });
    workers = startWorkers({ redisUrl: env.REDIS_URL, prefix: env.REDIS_PREFIX, handlers, logger, metrics });
    const registerSchedules = async () => {
      await queues.registerRecurring(
        watchesBaseImages
          ? [
              {
                id: "check-base-images",
                name: "check-base-images",
                everyMs: durationMs(config.freshness.interval),
              },
            ]
          : [],
      );
      await syncSchedules();
    };
    await registerSchedules();
    // Work Postgres holds but Redis lost while we were down (a bake time, a held dispatch) is
    // picked up now rather than at the reconciler's first period.
    await queues.enqueue("reconcile-outbox", {});
    // Redis may lose everything (a restart without persistence, a FLUSHALL): the schedulers are
    // upserted again every minute, so the reconciler and the digests come back without a restart.
    scheduleRefresh = setInterval(() => {
      registerSchedules().catch((e: unknown) =>
        logger.warn({ err: e instanceof Error ? e.message : String(e) }, "re-registering schedules failed"),
      );
    }, SCHEDULE_REFRESH_MS);
    scheduleRefresh.unref();
  }

  const port = (server.address() as AddressInfo).port;
  logger.info(
    { role: opts.role, port, teams: config.teams.length, images: config.images.length },
    "patchpilot started",
  );

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      const deadline = Date.now() + env.SHUTDOWN_TIMEOUT_MS;
      // Say "not ready" and keep serving a moment, so a load balancer stops sending us new
      // requests before we stop accepting: a request already on its way is still answered.
      draining = true;
      await sleep(Math.min(env.SHUTDOWN_DRAIN_MS, env.SHUTDOWN_TIMEOUT_MS / 2));
      // Stop accepting; requests already received finish and get their answers.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.race([closed, sleep(Math.max(0, deadline - Date.now()))]);
      server.closeAllConnections();
      while (slackApp && slackApp.inFlight() > 0 && Date.now() < deadline) await sleep(20);
      await slackApp?.stop();
      clearInterval(scheduleRefresh);
      await workers?.close(deadline);
      // A posture refresh in flight finishes before the pool closes, within the deadline.
      await Promise.race([postureMetrics?.stop(), sleep(Math.max(0, deadline - Date.now()))]);
      // With Redis down these would wait for a reconnect that may never come.
      await Promise.race([queues.close(), sleep(Math.max(500, deadline - Date.now()))]);
      redis.disconnect();
      await database.close();
      logger.info("patchpilot stopped");
    })();
    return closing;
  };
  return { env, config, logger, port, close };
}

/** The GitHub client from GITHUB_TOKEN or the GitHub App variables; null when neither is set. */
function githubClientFromEnv(env: EnvConfig, logger: Logger) {
  const base = { apiUrl: env.GITHUB_API_URL, logger };
  if (env.GITHUB_APP_ID && env.GITHUB_APP_PRIVATE_KEY)
    return createGithubClient({
      ...base,
      auth: {
        kind: "app",
        appId: env.GITHUB_APP_ID,
        privateKey: env.GITHUB_APP_PRIVATE_KEY,
        ...(env.GITHUB_APP_INSTALLATION_ID ? { installationId: env.GITHUB_APP_INSTALLATION_ID } : {}),
      },
    });
  if (env.GITHUB_TOKEN)
    return createGithubClient({ ...base, auth: { kind: "token", token: env.GITHUB_TOKEN } });
  return null;
}

const SCHEDULE_REFRESH_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
