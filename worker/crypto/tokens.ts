/**
 * Capability tokens. An upload token is 32 random bytes (base64url); only its
 * SHA-256 is stored, so a leaked database or Durable Object snapshot does not
 * leak working tokens. Comparisons run in constant time.
 */
import { base64url, toHex } from "./encoding.ts";

const encoder = new TextEncoder();

export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return base64url(bytes);
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return toHex(new Uint8Array(digest));
}

/** Constant-time string equality; hashing first makes the inputs equal-length. */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}
