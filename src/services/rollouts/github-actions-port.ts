/** A workflow run as patchpilot reads it. */
export type RunSummary = {
  id: number;
  status: string;
  conclusion: string | null;
  htmlUrl: string;
  displayTitle: string;
};

/**
 * What the rollout services need from GitHub Actions; `adapters/github` implements it. Errors
 * carry `permanent: true` when retrying cannot help (a 404 workflow, a 401 token).
 */
export type GithubActions = {
  dispatchWorkflow(p: {
    owner: string;
    repo: string;
    workflow: string;
    ref: string;
    inputs: Record<string, string>;
  }): Promise<{ runId: number | null; runUrl: string | null; htmlUrl: string | null }>;
  findRunByDispatchId(p: {
    owner: string;
    repo: string;
    workflow: string;
    dispatchId: string;
    createdAfter: Date;
  }): Promise<RunSummary | null>;
  getRun(p: { owner: string; repo: string; runId: number }): Promise<RunSummary | null>;
};

export function isPermanentGithubError(e: unknown): e is Error {
  return e instanceof Error && (e as { permanent?: unknown }).permanent === true;
}
