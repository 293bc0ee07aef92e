/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): a secret
 * is `whsec_` + base64 of random bytes; each delivery is signed with
 * HMAC-SHA256, keyed by those bytes, over `<webhook-id>.<webhook-timestamp>.<body>`,
 * and sent as `webhook-signature: v1,<base64>`. Consumers verify with the
 * `standardwebhooks` package or any other implementation of the spec.
 */
import { base64 } from "../crypto/encoding.ts";

const SECRET_PREFIX = "whsec_";
const encoder = new TextEncoder();

export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${base64(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The headers of a delivery of `body` (the event's JSON) with id `id`, signed now. */
export async function signedHeaders(
  secret: string,
  id: string,
  body: string,
  now = Date.now(),
): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(now / 1000));
  const keyBytes = Uint8Array.from(atob(secret.slice(SECRET_PREFIX.length)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`));
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${base64(new Uint8Array(mac))}`,
  };
}
