/**
 * Job tokens: the transcoder's only credential. An HMAC-SHA-256-signed,
 * short-lived statement "job J of video V may read V's source and write under
 * V's job-J prefix until T". The worker checks the signature and expiry here
 * and asks the video's Durable Object whether J is still the current job.
 */
import { base64url, fromBase64url } from "../crypto/encoding.ts";

export type JobClaims = { videoId: string; jobId: string; exp: number };

const encoder = new TextEncoder();

async function key(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

export async function signJobToken(secret: string, claims: JobClaims): Promise<string> {
  const payload = base64url(encoder.encode(JSON.stringify(claims)));
  const sig = await crypto.subtle.sign("HMAC", await key(secret), encoder.encode(payload));
  return `${payload}.${base64url(new Uint8Array(sig))}`;
}

/** The claims of a valid, unexpired token; undefined otherwise. */
export async function verifyJobToken(secret: string, token: string, now = Date.now()): Promise<JobClaims | undefined> {
  const [payload, sig, extra] = token.split(".");
  if (!payload || !sig || extra !== undefined) return undefined;
  let sigBytes: Uint8Array;
  let claims: JobClaims;
  try {
    sigBytes = fromBase64url(sig);
    // crypto.subtle.verify compares in constant time.
    if (!(await crypto.subtle.verify("HMAC", await key(secret), sigBytes, encoder.encode(payload)))) return undefined;
    claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload)));
  } catch {
    return undefined;
  }
  if (typeof claims.videoId !== "string" || typeof claims.jobId !== "string" || typeof claims.exp !== "number")
    return undefined;
  return claims.exp > now ? claims : undefined;
}
