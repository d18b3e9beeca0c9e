import { z } from "zod";

/**
 * What patchpilot keeps of a GitHub workflow run. `id` is a JS number: run ids passed 2^31 long
 * ago but stay below 2^53, so a number is exact here; the database must store it as bigint or text.
 */
export type WorkflowRunSummary = {
  id: number;
  /** queued | in_progress | completed | waiting | requested | pending, or "unknown" when absent. */
  status: string;
  conclusion: string | null;
  htmlUrl: string;
  /** The run's `run-name` (`display_title`), falling back to the workflow name. */
  displayTitle: string;
  runAttempt: number;
  updatedAt: string;
  /** e.g. `.github/workflows/deploy.yml` (GitHub may append `@refs/heads/main`). */
  workflowPath: string;
};

const RawRun = z.object({
  id: z
    .number()
    .int()
    .positive()
    .refine(Number.isSafeInteger, { error: "run id beyond 2^53 cannot be kept exactly" }),
  status: z.string().nullish(),
  conclusion: z.string().nullish(),
  html_url: z.string().nullish(),
  display_title: z.string().nullish(),
  name: z.string().nullish(),
  run_attempt: z.number().int().positive().nullish(),
  updated_at: z.string().nullish(),
  path: z.string().nullish(),
});

/**
 * A workflow run from the REST API or from a `workflow_run` webhook payload's `workflow_run`
 * object. Missing fields get defaults; a missing or malformed `id` or a wrongly typed field throws.
 */
export function toRunSummary(raw: unknown): WorkflowRunSummary {
  const parsed = RawRun.safeParse(raw);
  if (!parsed.success) throw new Error(`not a GitHub workflow run: ${z.prettifyError(parsed.error)}`);
  const r = parsed.data;
  return {
    id: r.id,
    status: r.status ?? "unknown",
    conclusion: r.conclusion ?? null,
    htmlUrl: r.html_url ?? "",
    displayTitle: r.display_title ?? r.name ?? "",
    runAttempt: r.run_attempt ?? 1,
    updatedAt: r.updated_at ?? "",
    workflowPath: r.path ?? "",
  };
}
