import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * Structured JSON logs. Anything that looks like a credential is redacted by key, wherever it
 * sits, so a secret cannot reach a log line through an error object or a request header.
 */
const REDACT = [
  "token",
  "*.token",
  "*.*.token",
  "authorization",
  "*.authorization",
  "*.*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  'req.headers["x-slack-signature"]',
  'req.headers["x-hub-signature-256"]',
  "*.SLACK_BOT_TOKEN",
  "*.SLACK_SIGNING_SECRET",
  "*.SLACK_APP_TOKEN",
  "*.GITHUB_TOKEN",
  "*.GITHUB_APP_PRIVATE_KEY",
  "*.GITHUB_WEBHOOK_SECRET",
  "*.password",
  "*.secret",
  "signingSecret",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "patchpilot" },
      redact: { paths: REDACT, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
