import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigProblem } from "./env.js";
import { checkReferences, configFileSchema, type PatchpilotConfig } from "./file-schema.js";

/** `images[2].team`: the path a person would type to find the mistake in the YAML. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out === "" ? "(top level)" : out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  }
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return `missing (expected ${issue.expected})`;
    return `expected ${issue.expected}, got ${JSON.stringify(issue.input)?.slice(0, 60) ?? typeof issue.input}`;
  }
  return issue.message;
}

export function validateConfig(
  raw: unknown,
): { ok: true; config: PatchpilotConfig } | { ok: false; problems: ConfigProblem[] } {
  const parsed = configFileSchema.safeParse(raw, { reportInput: true });
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: describeIssue(i) }))),
    ...checkReferences(raw).map((i) => ({ path: formatPath(i.path), message: i.message })),
  ];
  if (parsed.success && problems.length === 0) return { ok: true, config: parsed.data };
  return { ok: false, problems };
}

/** Parses YAML text; syntax errors come back as problems with line numbers, never as a throw. */
export function parseConfigText(
  text: string,
): { ok: true; config: PatchpilotConfig } | { ok: false; problems: ConfigProblem[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: e.linePos?.[0] ? `line ${e.linePos[0].line}` : "(yaml)",
        message: e.message.split("\n")[0] ?? e.message,
      })),
    };
  }
  return validateConfig(doc.toJS());
}

export async function loadConfigFile(file: string): Promise<PatchpilotConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "file not found" : `cannot read it (${code ?? "error"})`;
    throw new ConfigError(file, [
      {
        path: "(file)",
        message: `${why}; set PATCHPILOT_CONFIG or copy patchpilot.example.yaml to patchpilot.yaml`,
      },
    ]);
  }
  const r = parseConfigText(text);
  if (!r.ok) throw new ConfigError(file, r.problems);
  return r.config;
}
