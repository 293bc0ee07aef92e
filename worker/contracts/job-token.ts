/**
 * Job tokens: the transcoder's only credential, and the worker's proof to the
 * transcoder that a job is its. An HMAC-SHA-256-signed, short-lived statement
 * "job J of video V may read V's source and write under V's job-J prefix
 * until T". The worker signs one per hand-off; the transcoder accepts a job
 * only with a token whose claims name that job, and the worker checks the
 * same token on every request of the job, then asks the video's Durable
 * Object whether J is still the current job. Web crypto only, so the Worker
 * and the transcoder (Node) run this same code with the same secret.
 */
import { base64url, fromBase64url } from "../crypto/encoding.ts";

/**
 * `span`: the token is one span task's, which may only write that span's
 * segments and report on it. `package`: one package task's try, which may
 * read the job's files and write only the downloads.
 */
export type JobClaims = {
  videoId: string;
  jobId: string;
  exp: number;
  span?: { index: number; attempt: number };
  package?: { attempt: number };
};

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
  let claims: JobClaims;
  try {
    // A copy typed as backed by a plain ArrayBuffer, which web crypto's types want.
    const sigBytes = new Uint8Array(fromBase64url(sig));
    // crypto.subtle.verify compares in constant time.
    if (!(await crypto.subtle.verify("HMAC", await key(secret), sigBytes, encoder.encode(payload)))) return undefined;
    claims = JSON.parse(new TextDecoder().decode(fromBase64url(payload)));
  } catch {
    return undefined;
  }
  if (typeof claims.videoId !== "string" || typeof claims.jobId !== "string" || typeof claims.exp !== "number")
    return undefined;
  const span = claims.span;
  if (span !== undefined && !(Number.isInteger(span?.index) && Number.isInteger(span?.attempt))) return undefined;
  const pkg = claims.package;
  // A task is one kind: a token naming both would let a package's try pass a span's write rule.
  if (pkg !== undefined && (span !== undefined || !Number.isInteger(pkg?.attempt))) return undefined;
  return claims.exp > now ? claims : undefined;
}
