/**
 * Every R2 key Reelay writes is built here, from server-generated ids only:
 * no filename, title or other user text ever becomes part of a key.
 */
import { z } from "zod";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

/** 20 random base32 characters: 100 bits, URL- and key-safe. */
export function newVideoId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => ALPHABET[b & 31]).join("");
}

export const VideoIdSchema = z
  .string()
  .regex(/^[0-9a-hjkmnp-tv-z]{20}$/, "not a video id");

export const videoPrefix = (videoId: string) => `videos/${videoId}/`;

/** The original upload, byte for byte. */
export const sourceKey = (videoId: string) => `${videoPrefix(videoId)}source`;
