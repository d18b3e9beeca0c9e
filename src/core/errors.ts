/**
 * The error catalogue. Three kinds: the user's mistake (shown to them, with what to do), an
 * upstream failure (retried, then reported), and our bug (logged, shown as a reference only).
 */
export type ErrorKind = "user" | "upstream" | "bug";

export class PatchpilotError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly status: number = kind === "user" ? 400 : kind === "upstream" ? 503 : 500,
  ) {
    super(message);
    this.name = "PatchpilotError";
  }
}

export const userError = (code: string, message: string, status = 400) =>
  new PatchpilotError("user", code, message, status);
export const upstreamError = (code: string, message: string) =>
  new PatchpilotError("upstream", code, message);
