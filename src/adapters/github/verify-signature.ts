import { verify } from "@octokit/webhooks-methods";

const SHA256_HEADER = /^sha256=[0-9a-f]{64}$/;

/**
 * Checks `X-Hub-Signature-256` against the raw request body in constant time. A missing,
 * malformed or SHA-1 (`sha1=`) header, an empty body or secret is `false`; this never throws.
 */
export async function verifyGithubSignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | undefined,
): Promise<boolean> {
  if (secret === "" || header === undefined || !SHA256_HEADER.test(header)) return false;
  const body = typeof rawBody === "string" ? rawBody : rawBody.toString("utf8");
  if (body === "") return false;
  try {
    return await verify(secret, body, header);
  } catch {
    return false;
  }
}
