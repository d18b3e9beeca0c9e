import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/env.js";

const valid = {
  DATABASE_URL: "postgres://u@127.0.0.1:5432/db",
  REDIS_URL: "redis://127.0.0.1:6379",
  SLACK_BOT_TOKEN: "xoxb-fake",
  SLACK_SIGNING_SECRET: "test-signing-secret-value",
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe("loadConfig", () => {
  it("applies documented defaults", () => {
    const c = loadConfig(valid);
    expect(c.PORT).toBe(3000);
    expect(c.SLACK_API_URL).toBe("https://slack.com/api/");
    expect(c.GITHUB_API_URL).toBe("https://api.github.com");
    expect(c.PATCHPILOT_CONFIG).toBe("patchpilot.yaml");
  });

  it("names each missing or bad variable and never echoes a secret", () => {
    const secret = "xoxp-secret";
    const lines = problems({ ...valid, SLACK_BOT_TOKEN: secret, SLACK_SIGNING_SECRET: "", PORT: "http" });
    expect(lines).toEqual([
      "PORT: expected a TCP port number",
      "SLACK_BOT_TOKEN: expected a bot token starting with xoxb-",
      "SLACK_SIGNING_SECRET: missing — expected the signing secret from your Slack app's Basic Information page",
    ]);
    expect(lines.join("\n")).not.toContain(secret);
  });

  it("requires the private key when a GitHub App id is set", () => {
    expect(problems({ ...valid, GITHUB_APP_ID: "123" })).toEqual([
      "GITHUB_APP_PRIVATE_KEY: missing — required when GITHUB_APP_ID is set (the App's PEM private key)",
    ]);
  });

  it("lets workers start without the signing secret, which only the web receiver needs", () => {
    const { SLACK_SIGNING_SECRET: _, ...worker } = valid;
    expect(() => loadConfig(worker, "worker")).not.toThrow();
    expect(() => loadConfig(worker, "web")).toThrow(/SLACK_SIGNING_SECRET/);
  });
});
