/**
 * Playback tokens: what a private video's media URLs carry (`?token=`). A
 * token says "video V may be played (and downloaded) until T" and is signed,
 * so the Worker checks it with no lookup but the video's row it reads anyway.
 *
 * The format is stable and documented (README, "Private videos") so that a
 * backend holding `PLAYBACK_SIGNING_KEY` mints its own, as Stream and Mux allow:
 *
 *     token      = exp "." rights "." generation "." signature
 *     exp        = expiry, Unix seconds, decimal
 *     rights     = "p" (play) | "pd" (play and download)
 *     generation = the video's key generation, decimal, from 1
 *     signature  = base64url, unpadded, of HMAC-SHA-256(videoKey, videoId "." exp "." rights "." generation)
 *     videoKey   = HMAC-SHA-256(PLAYBACK_SIGNING_KEY, "reelay-playback:" videoId ":" generation)
 *
 * Each video signs with a key of its own generation: rotating it (the next
 * generation) revokes every token of that video at once, and of no other.
 * About 60 characters: short enough for every URL of a playlist.
 */
import { base64url, fromBase64url } from "../crypto/encoding.ts";

export const PLAYBACK_RIGHTS = ["p", "pd"] as const;
export type PlaybackRights = (typeof PLAYBACK_RIGHTS)[number];

export type PlaybackGrant = { videoId: string; exp: number; rights: PlaybackRights; generation: number };

/** Why a token does not open a video: `revoked` when signed by a rotated key, `expired` past its time. */
export type TokenRefusal = "malformed" | "invalid" | "revoked" | "expired";

const encoder = new TextEncoder();

async function hmacKey(raw: Uint8Array | string): Promise<CryptoKey> {
  const bytes = typeof raw === "string" ? encoder.encode(raw) : raw;
  return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

/** The key one generation of one video signs with, derived from the deployment's signing key. */
async function videoKey(signingKey: string, videoId: string, generation: number): Promise<CryptoKey> {
  const derived = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(signingKey),
    encoder.encode(`reelay-playback:${videoId}:${generation}`),
  );
  return hmacKey(new Uint8Array(derived));
}

const signed = (g: PlaybackGrant) => encoder.encode(`${g.videoId}.${g.exp}.${g.rights}.${g.generation}`);

export async function signPlaybackToken(signingKey: string, grant: PlaybackGrant): Promise<string> {
  const key = await videoKey(signingKey, grant.videoId, grant.generation);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, signed(grant)));
  return `${grant.exp}.${grant.rights}.${grant.generation}.${base64url(signature)}`;
}

const DECIMAL = /^[1-9][0-9]{0,14}$/;

/**
 * The rights a token grants to `videoId` at `generation` (the video's current
 * one), or why not. The signature is checked first and in constant time
 * (`crypto.subtle.verify`), so nothing is said about a forged token's fields.
 */
export async function verifyPlaybackToken(
  signingKey: string,
  token: string,
  videoId: string,
  generation: number,
  nowMs = Date.now(),
): Promise<{ ok: true; grant: PlaybackGrant } | { ok: false; refusal: TokenRefusal }> {
  const parts = token.split(".");
  if (parts.length !== 4) return { ok: false, refusal: "malformed" };
  const [exp, rights, gen, signature] = parts as [string, string, string, string];
  if (!DECIMAL.test(exp) || !DECIMAL.test(gen) || !(PLAYBACK_RIGHTS as readonly string[]).includes(rights))
    return { ok: false, refusal: "malformed" };
  let signatureBytes: Uint8Array<ArrayBuffer>;
  try {
    signatureBytes = new Uint8Array(fromBase64url(signature));
  } catch {
    return { ok: false, refusal: "malformed" };
  }
  const grant: PlaybackGrant = { videoId, exp: Number(exp), rights: rights as PlaybackRights, generation: Number(gen) };
  const key = await videoKey(signingKey, videoId, grant.generation);
  if (!(await crypto.subtle.verify("HMAC", key, signatureBytes, signed(grant))))
    return { ok: false, refusal: "invalid" };
  if (grant.generation < generation) return { ok: false, refusal: "revoked" };
  // A generation ahead of the video's was never handed out by this deployment.
  if (grant.generation > generation) return { ok: false, refusal: "invalid" };
  if (grant.exp * 1000 <= nowMs) return { ok: false, refusal: "expired" };
  return { ok: true, grant };
}
