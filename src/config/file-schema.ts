import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { parseDuration } from "../core/duration.js";
import { healthQueryProblems } from "../core/health/render-health-query.js";

/**
 * The schema of `patchpilot.yaml`. Every section exists from the start so later features extend
 * it rather than rework it. Cross-references (an image's team, a stage's window, …) are checked by
 * `checkReferences`, which reports a typo with its path and the names that would have worked.
 */

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { error: "expected a lower-case id (letters, digits, . _ -)" });

const duration = z.string().superRefine((v, ctx) => {
  const r = parseDuration(v);
  if (!r.ok) ctx.addIssue({ code: "custom", message: r.message });
});

const timezone = z.string().superRefine((tz, ctx) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    ctx.addIssue({
      code: "custom",
      message: `unknown time zone "${tz}" (expected an IANA name such as Europe/Berlin)`,
    });
  }
});

const cron = z.string().superRefine((expr, ctx) => {
  try {
    CronExpressionParser.parse(expr, { strict: false });
  } catch (e) {
    ctx.addIssue({
      code: "custom",
      message: `invalid cron expression "${expr}": ${e instanceof Error ? e.message : "unparseable"}`,
    });
  }
});

const slackChannel = z
  .string()
  .regex(/^[CGD][A-Z0-9]{2,}$/, { error: "expected a Slack channel id such as C0123ABCD (not a #name)" });
const slackUser = z
  .string()
  .regex(/^[UW][A-Z0-9]{2,}$/, { error: "expected a Slack user id such as U0123ABCD" });
const slackGroup = z
  .string()
  .regex(/^S[A-Z0-9]{2,}$/, { error: "expected a Slack user group id such as S0123ABCD" });

const approvers = z
  .object({
    groups: z.array(slackGroup).default([]),
    users: z.array(slackUser).default([]),
  })
  .strict();

const team = z
  .object({
    id,
    name: z.string().min(1).optional(),
    channel: slackChannel,
    approvers: approvers.default({ groups: [], users: [] }),
  })
  .strict();

const imageRef = z
  .string()
  .min(1)
  .regex(/^[a-z0-9][a-z0-9._\-/:@]*$/i, { error: "expected an image reference such as ghcr.io/acme/api" });

const githubTarget = z
  .object({
    repo: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: "expected owner/name" }),
    ref: z.string().min(1).default("main"),
    workflows: z
      .object({
        build: z.string().min(1).optional(),
        deploy: z.string().min(1).optional(),
        rollback: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

const image = z
  .object({
    id,
    repository: imageRef,
    team: id,
    baseImage: imageRef.optional(),
    platform: z
      .string()
      .regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, { error: "expected os/arch such as linux/amd64" })
      .default("linux/amd64"),
    github: githubTarget.optional(),
    stages: z.array(id).min(1).optional(),
    autoRollout: z.enum(["off", "fixable-critical"]).default("off"),
    onBaseImageDrift: z.enum(["notify", "rollout", "ignore"]).default("notify"),
  })
  .strict();

const stagePolicy = z
  .object({
    environment: z.string().min(1).optional(),
    approvals: z.number().int().min(0).max(20).default(1),
    approvers: approvers.optional(),
    requiredGroups: z.array(slackGroup).default([]),
    fourEyes: z.boolean().default(true),
    expiry: duration.default("72h"),
    bakeTime: duration.optional(),
    healthCheck: id.optional(),
    window: id.optional(),
    confirm: z.boolean().default(false),
    blockNewCritical: z.boolean().default(true),
    overrideGroup: slackGroup.optional(),
    emergency: z
      .object({ approvals: z.number().int().min(1).max(20), requiredGroups: z.array(slackGroup).default([]) })
      .strict()
      .optional(),
    autoRollback: z.boolean().default(false),
  })
  .strict();

const window = z.object({ cron, duration, timezone }).strict();

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/, {
  error: "expected a date such as 2026-12-20",
});

const freeze = z
  .object({
    id,
    from: isoDate,
    to: isoDate,
    environments: z.union([z.literal("all"), z.array(z.string().min(1)).min(1)]).default("all"),
    reason: z.string().min(1),
  })
  .strict();

const days = z
  .number({ error: "expected a whole number of days" })
  .int({ error: "expected a whole number of days" })
  .min(1, { error: "expected at least 1 day" })
  .max(3650, { error: "expected at most 3650 days" });

const sla = z
  .object({
    critical: days.default(7),
    high: days.default(30),
    medium: days.default(90),
    low: days.default(180),
    knownExploited: days.optional(),
    dueSoonDays: days.default(7),
    acceptanceMaxDays: z
      .object({
        critical: days.default(30),
        high: days.default(90),
        medium: days.default(180),
        low: days.default(365),
      })
      .strict()
      .default({ critical: 30, high: 90, medium: 180, low: 365 }),
  })
  .strict();

const digest = z
  .object({
    channel: slackChannel,
    cron: cron.default("0 9 * * 1"),
    timezone: timezone.default("UTC"),
    teams: z.array(id).min(1),
  })
  .strict();

const healthCheck = z
  .object({
    query: z.string().min(1),
    max: z.number().optional(),
    min: z.number().optional(),
    requestsQuery: z.string().min(1).optional(),
    minRequests: z.number().int().min(0).default(0),
  })
  .strict()
  .refine((h) => h.max !== undefined || h.min !== undefined, {
    error: "a health check needs a threshold: set max, min or both",
  })
  // Without a requests query the minimum cannot be checked, and an idle service would pass.
  .refine((h) => h.minRequests === 0 || h.requestsQuery !== undefined, {
    error: "minRequests needs requestsQuery (the PromQL that counts requests in the window)",
    path: ["requestsQuery"],
  });

const registry = z
  .object({
    host: z.string().min(1),
    usernameEnv: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .optional(),
    passwordEnv: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .optional(),
    insecure: z.boolean().default(false),
  })
  .strict();

export const configFileSchema = z
  .object({
    version: z.literal(1, { error: "expected version: 1" }),
    teams: z.array(team).min(1, { error: "define at least one team" }),
    images: z.array(image).default([]),
    defaultStages: z.array(id).min(1).default(["rebuild", "staging", "canary", "production"]),
    stages: z.record(id, stagePolicy).default({}),
    windows: z.record(id, window).default({}),
    freezes: z.array(freeze).default([]),
    sla: sla.default({
      critical: 7,
      high: 30,
      medium: 90,
      low: 180,
      dueSoonDays: 7,
      acceptanceMaxDays: { critical: 30, high: 90, medium: 180, low: 365 },
    }),
    digests: z.array(digest).default([]),
    /** Upload the trend chart PNG into each digest's thread (needs the files:write scope). */
    digestCharts: z.boolean().default(true),
    healthChecks: z.record(id, healthCheck).default({}),
    prometheus: z.object({ url: z.url() }).strict().optional(),
    registries: z.array(registry).default([]),
    freshness: z
      .object({
        /** false: never ask registries (air-gapped, or no base images worth watching). */
        enabled: z.boolean().default(true),
        interval: duration.default("1h"),
      })
      .strict()
      .default({ enabled: true, interval: "1h" }),
    scans: z
      .object({
        maxUploadBytes: z
          .number()
          .int()
          .min(1024)
          .default(50 * 1024 * 1024),
      })
      .strict()
      .default({ maxUploadBytes: 50 * 1024 * 1024 }),
    rollback: z
      .object({
        /** Approvals a rollback needs; the person who asks for it counts as the first. */
        approvals: z.number().int().min(1).max(20).default(1),
      })
      .strict()
      .default({ approvals: 1 }),
    alerts: z
      .object({
        /** New-critical alerts of one team within this window become one message (a burst). */
        burstWindow: duration.default("2m"),
      })
      .strict()
      .default({ burstWindow: "2m" }),
  })
  .strict();

export type PatchpilotConfig = z.infer<typeof configFileSchema>;

/**
 * Cross-references between sections, checked on the raw document so they are reported even when
 * another part of the file has a type error: a person fixing the file sees every problem at once.
 */
export function checkReferences(raw: unknown): Array<{ path: (string | number)[]; message: string }> {
  const out: Array<{ path: (string | number)[]; message: string }> = [];
  const issue = (path: (string | number)[], message: string) => out.push({ path, message });
  const doc = asRecord(raw);
  const teams = asArray(doc.teams).map((t) => asRecord(t));
  const teamIds = teams.map((t) => t.id).filter(isString);
  const images = asArray(doc.images).map((i) => asRecord(i));
  const stages = asRecord(doc.stages);
  const stageNames = Object.keys(stages);
  const windowNames = Object.keys(asRecord(doc.windows));
  const checkNames = Object.keys(asRecord(doc.healthChecks));

  for (const i of dupes(teams.map((t) => t.id)))
    issue(["teams", i, "id"], `duplicate team id "${String(teams[i]?.id)}"`);
  for (const i of dupes(images.map((m) => m.id)))
    issue(["images", i, "id"], `duplicate image id "${String(images[i]?.id)}"`);
  images.forEach((img, i) => {
    if (isString(img.team) && !teamIds.includes(img.team))
      issue(["images", i, "team"], `unknown team "${img.team}" (${known(teamIds)})`);
    asArray(img.stages).forEach((st, j) => {
      if (isString(st) && stageNames.length > 0 && !stageNames.includes(st))
        issue(["images", i, "stages", j], `unknown stage "${st}" (${known(stageNames)})`);
    });
  });
  if (stageNames.length > 0) {
    asArray(doc.defaultStages).forEach((st, j) => {
      if (isString(st) && !stageNames.includes(st))
        issue(["defaultStages", j], `unknown stage "${st}" (${known(stageNames)})`);
    });
  }
  for (const [name, value] of Object.entries(stages)) {
    const st = asRecord(value);
    if (isString(st.window) && !windowNames.includes(st.window))
      issue(["stages", name, "window"], `unknown window "${st.window}" (${known(windowNames)})`);
    // The emergency lane skips the maintenance window, so it must ask for more than the normal lane.
    const emergency = asRecord(st.emergency);
    if (typeof emergency.approvals === "number") {
      const normal = typeof st.approvals === "number" ? st.approvals : 1;
      const required = asArray(st.requiredGroups).filter(isString);
      const extraGroups = asArray(emergency.requiredGroups).filter(
        (g) => isString(g) && !required.includes(g),
      );
      if (emergency.approvals <= normal && extraGroups.length === 0)
        issue(
          ["stages", name, "emergency"],
          `the emergency lane must be stricter than the stage's own approval (${normal} approval${normal === 1 ? "" : "s"}): ask for more approvals or an extra required group`,
        );
    }
    if (isString(st.healthCheck) && !checkNames.includes(st.healthCheck))
      issue(
        ["stages", name, "healthCheck"],
        `unknown health check "${st.healthCheck}" (${known(checkNames)})`,
      );
  }
  for (const [name, value] of Object.entries(asRecord(doc.healthChecks))) {
    const check = asRecord(value);
    for (const field of ["query", "requestsQuery"] as const) {
      const template = check[field];
      if (isString(template))
        for (const problem of healthQueryProblems(template)) issue(["healthChecks", name, field], problem);
    }
  }
  if (checkNames.length > 0 && doc.prometheus === undefined)
    issue(["prometheus"], "health checks are defined, so set prometheus.url (e.g. http://prometheus:9090)");
  asArray(doc.freezes).forEach((f, i) => {
    const fr = asRecord(f);
    const from = Date.parse(String(fr.from));
    const to = Date.parse(String(fr.to));
    if (Number.isFinite(from) && Number.isFinite(to) && to <= from)
      issue(["freezes", i, "to"], `ends (${String(fr.to)}) before it starts (${String(fr.from)})`);
  });
  asArray(doc.digests).forEach((d, i) => {
    asArray(asRecord(d).teams).forEach((t, j) => {
      if (isString(t) && !teamIds.includes(t))
        issue(["digests", i, "teams", j], `unknown team "${t}" (${known(teamIds)})`);
    });
  });
  return out;
}

function known(names: Iterable<string>): string {
  const list = [...names];
  return list.length === 0 ? "none defined" : `known: ${list.join(", ")}`;
}

const isString = (v: unknown): v is string => typeof v === "string";
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asRecord = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function dupes(values: unknown[]): number[] {
  const seen = new Set<unknown>();
  const out: number[] = [];
  values.forEach((v, i) => {
    if (isString(v) && seen.has(v)) out.push(i);
    seen.add(v);
  });
  return out;
}
