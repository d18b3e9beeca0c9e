import { createHmac, randomInt, randomUUID } from "node:crypto";
import { sign } from "@octokit/webhooks-methods";
import type { SignedRequest } from "./sign-slack.js";

/**
 * A webhook delivery as GitHub sends it. `rawBody` overrides the serialised payload, for tests
 * about bodies GitHub formats differently from `JSON.stringify` or about tampering.
 */
export async function githubDelivery(
  event: string,
  payload: object,
  secret: string,
  opts: { deliveryId?: string; rawBody?: string } = {},
): Promise<SignedRequest> {
  const body = opts.rawBody ?? JSON.stringify(payload);
  return {
    body,
    headers: {
      "Content-Type": "application/json",
      "User-Agent": "GitHub-Hookshot/abc123",
      "X-GitHub-Event": event,
      "X-GitHub-Delivery": opts.deliveryId ?? randomUUID(),
      "X-GitHub-Hook-ID": String(randomInt(100_000_000, 999_999_999)),
      "X-Hub-Signature-256": await sign(secret, body),
      // GitHub still sends the SHA-1 header; a receiver must ignore it in favour of SHA-256.
      "X-Hub-Signature": `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`,
    },
  };
}
