import { z } from "zod";

/**
 * The one place that reads environment variables (ARCHITECTURE.md). Every variable is validated
 * here and a bad or missing one is reported by name with what is expected — never its value,
 * since most of them are secrets.
 */
const SLACK_DEFAULT_API_URL = "https://slack.com/api/";
const GITHUB_DEFAULT_API_URL = "https://api.github.com";

const url = (what: string) =>
  z.string({ error: `expected ${what}` }).refine((v) => URL.canParse(v), { error: `expected ${what}` });

const envSchema = z
  .object({
    DATABASE_URL: url("a PostgreSQL URL such as postgres://patchpilot@localhost:5432/patchpilot"),
    REDIS_URL: url("a Redis URL such as redis://localhost:6379"),
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:{}_-]{1,64}$/, {
        error: "expected 1-64 characters of letters, digits, ':', '{', '}', '_' or '-'",
      })
      .default("patchpilot"),
    PORT: z.coerce
      .number({ error: "expected a TCP port number" })
      .int()
      .min(0, { error: "expected a TCP port number (0-65535)" })
      .max(65535, { error: "expected a TCP port number (0-65535)" })
      .default(3000),
    PATCHPILOT_CONFIG: z.string().min(1).default("patchpilot.yaml"),
    SLACK_BOT_TOKEN: z
      .string({ error: "expected the bot token (xoxb-…) from your Slack app's OAuth & Permissions page" })
      .startsWith("xoxb-", { error: "expected a bot token starting with xoxb-" }),
    SLACK_SIGNING_SECRET: z
      .string({ error: "expected the signing secret from your Slack app's Basic Information page" })
      .min(8, { error: "expected the signing secret from your Slack app's Basic Information page" }),
    SLACK_APP_TOKEN: z
      .string()
      .startsWith("xapp-", { error: "expected an app-level token starting with xapp-" })
      .optional(),
    SLACK_API_URL: url("the base URL of the Slack Web API").default(SLACK_DEFAULT_API_URL),
    GITHUB_TOKEN: z.string().min(1).optional(),
    GITHUB_APP_ID: z.string().regex(/^\d+$/, { error: "expected the numeric GitHub App id" }).optional(),
    GITHUB_APP_PRIVATE_KEY: z
      .string()
      .includes("PRIVATE KEY", { error: "expected a PEM private key" })
      .optional(),
    GITHUB_APP_INSTALLATION_ID: z
      .string()
      .regex(/^\d+$/, { error: "expected the numeric installation id" })
      .optional(),
    GITHUB_API_URL: url("the base URL of the GitHub REST API").default(GITHUB_DEFAULT_API_URL),
    GITHUB_WEBHOOK_SECRET: z.string().min(8, { error: "expected at least 8 characters" }).optional(),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
        error: "expected one of fatal, error, warn, info, debug, trace, silent",
      })
      .default("info"),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(25_000),
    SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  })
  .superRefine((env, ctx) => {
    if (env.GITHUB_APP_ID !== undefined && env.GITHUB_APP_PRIVATE_KEY === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["GITHUB_APP_PRIVATE_KEY"],
        message: "required when GITHUB_APP_ID is set (the App's PEM private key)",
      });
    }
  });

export type EnvConfig = z.infer<typeof envSchema>;

export type ConfigProblem = { path: string; message: string };

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `${source}: ${problems.length} problem(s)\n${problems.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** Which process roles need which variables: a worker has no Slack receiver to verify. */
export type Role = "web" | "worker" | "all" | "tool";

export function loadConfig(env: NodeJS.ProcessEnv = process.env, role: Role = "all"): EnvConfig {
  const input: Record<string, string | undefined> = { ...env };
  // Empty strings are how compose files say "unset"; treat them as absent.
  for (const [k, v] of Object.entries(input)) if (v === "") delete input[k];
  if (role === "tool") {
    // CLI tools (migrate, token, audit) talk to Postgres only.
    input.REDIS_URL ??= "redis://unused-by-cli";
    input.SLACK_BOT_TOKEN ??= "xoxb-unused";
    input.SLACK_SIGNING_SECRET ??= "unused-by-cli";
  }
  if (role === "worker") input.SLACK_SIGNING_SECRET ??= "unused-by-worker";
  const parsed = envSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join(".");
    const missing = input[name] === undefined;
    return { path: name, message: missing ? `missing — ${issue.message}` : issue.message };
  });
  throw new ConfigError("environment", problems);
}
