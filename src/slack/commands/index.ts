import type { WebClient } from "@slack/web-api";
import { canPostIn } from "../../adapters/slack-web.js";
import { configImage } from "../../config/config-lookup.js";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import type { SlaPolicy } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import type { RolloutDeps } from "../../services/rollouts/rollout-deps.js";
import { acceptCommand } from "./accept.js";
import { auditCommand } from "./audit.js";
import { digestCommand } from "./digest.js";
import { freezeCommand } from "./freeze.js";
import { helpCommand } from "./help.js";
import { historyCommand } from "./history.js";
import { rollbackCommand } from "./rollback.js";
import { rolloutCommand } from "./rollout.js";
import { statusCommand } from "./status.js";
import type { Subcommand } from "./subcommand.js";
import { subscribeCommand } from "./subscribe.js";
import { unsubscribeCommand } from "./unsubscribe.js";

export type SubcommandDeps = {
  db: Db;
  config: PatchpilotConfig;
  sla: SlaPolicy;
  teamsOfUser: (userId: string, channelId: string) => Promise<string[]>;
  /** Opens the confirmation modals some commands ask for. */
  slack: WebClient;
  now: () => Date;
  /** Re-registers the digest schedules after a subscription changed. */
  onSubscriptionsChanged: () => Promise<void>;
  /** What the rollout commands (rollout, rollback, freeze, audit) need. */
  rollouts: RolloutDeps;
  /** Posts the digest of these teams in this channel now (the scheduled digest's code). */
  postDigestNow: (q: {
    channel: string;
    teams: string[];
    triggerId: string;
  }) => Promise<{ posted: string[] }>;
};

/**
 * Every `/patch` subcommand, one file each in this folder. A test checks that each file here is
 * registered and each registered command has help text. To add one: write `<name>.ts` exporting
 * `<name>Command(deps)`, add it below with only the dependencies it uses.
 */
export function buildSubcommands(deps: SubcommandDeps): ReadonlyMap<string, Subcommand> {
  const all = new Map<string, Subcommand>();
  const add = (c: Subcommand) => all.set(c.name, c);
  add(helpCommand(() => [...all.values()]));
  add(
    acceptCommand({
      db: deps.db,
      config: deps.config,
      slack: deps.slack,
      teamsOfUser: deps.teamsOfUser,
      now: deps.now,
    }),
  );
  const canPost = (channel: string) => canPostIn(deps.slack, channel);
  add(
    digestCommand({
      config: deps.config,
      teamsOfUser: deps.teamsOfUser,
      postNow: deps.postDigestNow,
      canPostIn: canPost,
    }),
  );
  add(
    statusCommand({
      db: deps.db,
      sla: deps.sla,
      teamIds: deps.config.teams.map((t) => t.id),
      baseImageOf: (configId) => configImage(deps.config, configId)?.baseImage ?? null,
      teamsOfUser: deps.teamsOfUser,
      now: deps.now,
      config: deps.config,
    }),
  );
  add(
    subscribeCommand({
      db: deps.db,
      config: deps.config,
      now: deps.now,
      onChange: deps.onSubscriptionsChanged,
      canPostIn: canPost,
    }),
  );
  add(unsubscribeCommand({ db: deps.db, now: deps.now, onChange: deps.onSubscriptionsChanged }));
  add(historyCommand({ db: deps.db, teamIds: deps.config.teams.map((t) => t.id), now: deps.now }));
  add(rolloutCommand({ rollouts: deps.rollouts }));
  add(rollbackCommand({ rollouts: deps.rollouts }));
  add(freezeCommand({ db: deps.db, config: deps.config, now: deps.now }));
  add(auditCommand({ db: deps.db }));
  return all;
}
