/** Helpers for worker tests: talk to the real Worker entry as a client would. */
import { exports } from "cloudflare:workers";
import { formatContentDigest } from "../uploads/content-digest.ts";
import { toHex } from "../crypto/encoding.ts";

export const BASE = "http://reelay.test";
export const MiB = 1024 * 1024;

export function api(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

// biome-ignore lint/suspicious/noExplicitAny: tests read bodies whose shape they assert
export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Deterministic pseudo-random bytes, so every byte of a reassembled file is checked. */
export function bytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function sha256(data: Uint8Array | ArrayBuffer): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

export type Created = {
  videoId: string;
  uploadToken: string;
  chunkSize: number;
  totalChunks: number;
  expiresAt: string;
};

/**
 * An address no other test uses: every upload a test creates comes from a
 * client of its own unless it says otherwise, so the per-client rate limit
 * and reserved-bytes cap count only what the test means them to.
 */
export function testClientIp(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}

export async function createUpload(
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Created> {
  const res = await api("/api/uploads", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": testClientIp(), ...headers },
    body: JSON.stringify({ filename: "clip.mp4", contentType: "video/mp4", ...body }),
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return json<Created>(res);
}

export function chunkOf(file: Uint8Array, up: Pick<Created, "chunkSize">, n: number): Uint8Array {
  return file.subarray((n - 1) * up.chunkSize, Math.min(file.length, n * up.chunkSize));
}

export async function putChunk(
  up: Pick<Created, "videoId" | "uploadToken">,
  n: number,
  body: Uint8Array,
  opts: { digestOf?: Uint8Array; headers?: Record<string, string> } = {},
): Promise<Response> {
  const digest = formatContentDigest(await sha256(opts.digestOf ?? body));
  return api(`/api/uploads/${up.videoId}/chunks/${n}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${up.uploadToken}`, "content-digest": digest, ...opts.headers },
    body,
  });
}

export const auth = (up: Pick<Created, "uploadToken">) => ({ authorization: `Bearer ${up.uploadToken}` });
