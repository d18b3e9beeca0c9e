import { App, type Authorize, type Logger as BoltLogger, ExpressReceiver, LogLevel } from "@slack/bolt";
import { WebClient } from "@slack/web-api";
import type { Express, NextFunction, Request, Response } from "express";
import type { Logger } from "../adapters/logger.js";
import { botIdsOf, pooledFetch } from "../adapters/slack-web.js";
import type { HomeViewModel } from "../core/digest/home-view-model.js";
import { PatchpilotError } from "../core/errors.js";
import type { Db } from "../db/client.js";
import type { SlackMessage } from "../render/slack-message.js";
import { type RolloutActionDeps, registerRolloutActions } from "./actions/rollout-actions.js";
import { registerStatusHistoryAction } from "./actions/status-history-action.js";
import type { Subcommand } from "./commands/subcommand.js";
import { registerAppHomeOpened } from "./events/app-home-opened.js";
import { routeCommand } from "./route-command.js";
import { type AcceptRiskViewDeps, registerAcceptRiskSubmit } from "./views/accept-risk-submit.js";
import { registerRolloutDecisionSubmit } from "./views/rollout-decision-submit.js";

export type SlackAppOptions = {
  botToken: string;
  signingSecret: string;
  apiUrl: string;
  /** Socket Mode when set: events arrive over a websocket instead of POST /slack/events. */
  appToken?: string | undefined;
  logger: Logger;
  subcommands: ReadonlyMap<string, Subcommand>;
  /** The HTTP app to mount POST /slack/events on (HTTP mode only). */
  http: Express;
  /** Builds a user's App Home; the Home tab is published on app_home_opened when given. */
  homeView?: (userId: string) => Promise<HomeViewModel>;
  /** What the `/patch accept` dialog's submit needs; the dialog is answered only when given. */
  acceptRisk?: AcceptRiskViewDeps;
  /** The History button of `/patch status IMAGE`. */
  history?: { db: Db; now: () => Date };
  /** The rollout card's buttons and dialogs, and the Patch now / Review rollout buttons. */
  rollouts?: RolloutActionDeps;
  /** False for an event id already handled (a retried delivery), which is then ignored. */
  firstDelivery?: (eventId: string) => Promise<boolean>;
};

export type SlackApp = {
  bolt: App;
  /** Listener work still running after its ack; shutdown waits for it. */
  inFlight(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
};

const MAX_SKEW_SECONDS = 300;

/**
 * Bolt rejects stale timestamps but not ones from the future; a request stamped ahead of our
 * clock could be replayed later, so it is refused here before Bolt reads the body.
 */
export function rejectFutureTimestamps(now: () => number) {
  return (req: Request, res: Response, next: NextFunction) => {
    const ts = Number(req.header("x-slack-request-timestamp"));
    if (Number.isFinite(ts) && ts > Math.floor(now() / 1000) + MAX_SKEW_SECONDS) {
      res.status(401).send();
      return;
    }
    next();
  };
}

function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: "bolt" });
  const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(" ");
  let level = LogLevel.WARN;
  return {
    debug: (...m: unknown[]) => log.debug(text(m)),
    info: (...m: unknown[]) => log.info(text(m)),
    warn: (...m: unknown[]) => log.warn(text(m)),
    error: (...m: unknown[]) => log.error(text(m)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/**
 * The bot's token with its ids, asked of Slack (`auth.test`) once and kept. Given only a token,
 * Bolt asks `auth.test` again before every request it handles, so each click's ack would wait on
 * a Slack round trip. A failed ask is not kept: the next request asks again.
 */
function botAuthorization(token: string, apiUrl: string): Authorize<boolean> {
  // Not retried for minutes, as web-api would: the next request asks again.
  const client = new WebClient(token, {
    slackApiUrl: apiUrl,
    retryConfig: { retries: 0 },
    timeout: 2_000,
    logLevel: LogLevel.ERROR,
  });
  return async () => ({ botToken: token, ...(await botIdsOf(client)) });
}

function somethingWentWrong(reference: string): SlackMessage {
  const text = `Something went wrong on our side and nothing was changed. Try again in a minute; if it keeps failing, give your admin this reference: ${reference}`;
  return {
    text,
    blocks: [{ type: "section", text: { type: "mrkdwn", text: `:warning: ${text}` } }],
    response_type: "ephemeral",
  };
}

function userMistake(message: string): SlackMessage {
  return {
    text: message,
    blocks: [{ type: "section", text: { type: "mrkdwn", text: message } }],
    response_type: "ephemeral",
  };
}

export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const logger = boltLogger(opts.logger);
  // Bolt's own client and every respond() to a response_url go through undici's request pool:
  // under a burst of clicks, `fetch` cost more CPU per answer than the rest of the answer.
  const clientOptions = { slackApiUrl: opts.apiUrl, fetch: pooledFetch() };
  const authorize = botAuthorization(opts.botToken, opts.apiUrl);
  let bolt: App;
  if (opts.appToken) {
    bolt = new App({ authorize, appToken: opts.appToken, socketMode: true, logger, clientOptions });
  } else {
    // Signatures are checked against the wall clock, as Bolt does, never a domain clock.
    opts.http.post("/slack/events", rejectFutureTimestamps(Date.now));
    const receiver = new ExpressReceiver({
      signingSecret: opts.signingSecret,
      endpoints: "/slack/events",
      logger,
      app: opts.http,
      processBeforeResponse: false,
    });
    bolt = new App({ authorize, receiver, logger, clientOptions });
  }

  let inFlight = 0;
  bolt.use(async ({ next }) => {
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });
  // Bolt has acked an event before any middleware runs: a retried one is dropped here, after its
  // ack, so Slack stops retrying and the effect happens once (QUALITY.md scenario 9).
  const firstDelivery = opts.firstDelivery;
  if (firstDelivery)
    bolt.use(async ({ body, next }) => {
      const eventId = (body as { event_id?: unknown }).event_id;
      if (typeof eventId === "string" && !(await firstDelivery(eventId))) return;
      await next();
    });

  bolt.command("/patch", async ({ command, ack }) => {
    let reply: SlackMessage;
    try {
      reply = await routeCommand(
        command.text ?? "",
        {
          userId: command.user_id,
          userName: command.user_name,
          channelId: command.channel_id,
          teamId: command.team_id,
          triggerId: command.trigger_id,
        },
        opts.subcommands,
      );
    } catch (e) {
      if (e instanceof PatchpilotError && e.kind === "user") {
        reply = userMistake(e.message);
      } else {
        const reference = `ERR-${Date.now().toString(36).toUpperCase()}`;
        opts.logger.error({ err: e, reference, command: command.text?.split(" ")[0] }, "command failed");
        reply = somethingWentWrong(reference);
      }
    }
    await ack(reply);
  });

  if (opts.history) registerStatusHistoryAction(bolt, opts.history);
  if (opts.homeView) registerAppHomeOpened(bolt, { build: opts.homeView, logger: opts.logger });
  if (opts.acceptRisk) registerAcceptRiskSubmit(bolt, opts.acceptRisk);
  if (opts.rollouts) {
    registerRolloutActions(bolt, opts.rollouts);
    registerRolloutDecisionSubmit(bolt, opts.rollouts);
  }

  bolt.error(async (error) => {
    opts.logger.error({ err: error }, "unhandled Slack listener error");
  });

  return {
    bolt,
    inFlight: () => inFlight,
    start: async () => {
      // In HTTP mode our own server listens; Bolt only needs starting for the websocket.
      if (opts.appToken) await bolt.start();
    },
    stop: async () => {
      if (opts.appToken) await bolt.stop();
    },
  };
}
