import type { WebClient } from "@slack/web-api";
import type { PatchpilotConfig } from "../../config/file-schema.js";
import { userError } from "../../core/errors.js";
import { DAY_MS } from "../../core/sla/sla-policy.js";
import type { Db } from "../../db/client.js";
import { renderAcceptModal } from "../../render/render-accept-modal.js";
import { checkVulnerabilityId } from "../../services/risk/check-vulnerability-id.js";
import { resolveAcceptTarget } from "../../services/risk/resolve-accept-target.js";
import { type AcceptRequest, parseUntilDate } from "../accept-request.js";
import { checkAcceptPermission } from "../check-accept-permission.js";
import type { Subcommand } from "./subcommand.js";

type Parsed = { words: string[]; until: string | null; reason: string | null };

/**
 * `/patch accept <CVE> <image|team> --until YYYY-MM-DD --reason "…"`: checks the caller approves
 * for the owning team, then asks for confirmation in a modal; the submit handler does the write.
 */
export function acceptCommand(deps: {
  db: Db;
  config: PatchpilotConfig;
  slack: WebClient;
  teamsOfUser: (userId: string, channelId: string) => Promise<string[]>;
  now: () => Date;
}): Subcommand {
  const teamIds = deps.config.teams.map((t) => t.id);
  return {
    name: "accept",
    usage: '/patch accept CVE IMAGE|TEAM --until YYYY-MM-DD --reason "…"',
    summary:
      "Accept a vulnerability in an image or in all of a team's images until a date, with a reason: it stops counting as open until then. Approvers of the owning team only; asks for confirmation first.",
    examples: ['/patch accept CVE-2026-1234 payments-api --until 2026-12-31 --reason "not reachable"'],
    async run(ctx) {
      const p = parseArgs(ctx.args);
      const [cve, typed, ...extra] = p.words;
      const aMonthAhead = isoDay(new Date(deps.now().getTime() + 30 * DAY_MS));
      const example = (until = p.until ?? aMonthAhead): string => {
        const reason = (p.reason ?? "not reachable: we never parse untrusted input").slice(0, 200);
        const line = `/patch accept ${cve ?? "CVE-2026-1234"} ${typed ?? "payments-api"} --until ${until} --reason "${reason}"`;
        return `\`${line.replaceAll("`", "'").slice(0, 500)}\``;
      };
      if (
        cve === undefined ||
        typed === undefined ||
        extra.length > 0 ||
        p.until === null ||
        p.reason === null
      ) {
        throw userError(
          "accept_usage",
          `Say which vulnerability, in which image or team, until when and why — quote the reason. Type: ${example()}`,
        );
      }
      if (parseUntilDate(p.until) === null) {
        throw userError(
          "accept_bad_date",
          `\`${p.until.slice(0, 40).replaceAll("`", "")}\` is not a date: write the last day as YYYY-MM-DD, e.g. ${example(aMonthAhead)}`,
        );
      }
      const vulnerabilityId = checkVulnerabilityId(cve);
      const target = await resolveAcceptTarget(deps.db, typed, teamIds);
      await checkAcceptPermission(deps, ctx.userId, target);

      const request: AcceptRequest = {
        vulnerabilityId,
        target: { kind: target.kind, ref: target.ref },
        channelId: ctx.channelId,
      };
      await deps.slack.views.open({
        trigger_id: ctx.triggerId,
        view: renderAcceptModal({
          vulnerabilityId,
          targetLabel: target.label,
          targetKind: target.kind,
          teamId: target.teamId,
          until: p.until,
          reason: p.reason,
          maxDays: deps.config.sla.acceptanceMaxDays,
          privateMetadata: JSON.stringify(request),
        }),
      });
      const text = `Confirm in the dialog to accept ${vulnerabilityId} in ${target.label}.`;
      return {
        text,
        blocks: [{ type: "section", text: { type: "mrkdwn", text } }],
        response_type: "ephemeral",
      };
    },
  };
}

function parseArgs(args: readonly string[]): Parsed {
  const out: Parsed = { words: [], until: null, reason: null };
  let inReason = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    if (flag === "--until") {
      out.until = inline ?? args[++i] ?? null;
      inReason = false;
    } else if (flag === "--reason") {
      out.reason = inline ?? args[++i] ?? null;
      inReason = out.reason !== null;
    } else if (inReason && !a.startsWith("--")) {
      // An unquoted reason is still meant as one: words after it belong to it.
      out.reason = `${out.reason ?? ""} ${a}`;
    } else {
      out.words.push(a);
    }
  }
  return out;
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
