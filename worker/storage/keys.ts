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

export const videoPrefix = (videoId: string) => `videos/${videoId}/`;

/** The original upload, byte for byte. */
export const sourceKey = (videoId: string) => `${videoPrefix(videoId)}source`;

/** Every transcode job writes under its own prefix; the video switches to one only when it is playable. */
export const jobsPrefix = (videoId: string) => `${videoPrefix(videoId)}jobs/`;
export const jobPrefix = (videoId: string, jobId: string) => `${jobsPrefix(videoId)}${jobId}/`;

export const JobIdSchema = z.string().regex(/^j[0-9a-z]{6,40}$/, "not a job id");

/** A file a job writes: `master.m3u8`, `poster.jpg`, or `<rendition>/<file>`. */
export const JobFileSchema = z
  .string()
  .regex(/^(?:[a-z0-9_]{1,32}\/)?[a-z0-9_][a-z0-9_.-]{0,63}$/, "not a job output path")
  .refine((p) => !p.includes(".."), "not a job output path");

export const jobFileKey = (videoId: string, jobId: string, file: string) => `${jobPrefix(videoId, jobId)}${file}`;

export function newJobId(attempt: number): string {
  return `j${attempt}${newVideoId().slice(0, 10)}`;
}

/**
 * A caption track's WebVTT: `videos/<id>/captions/<lang>.vtt`. The language
 * is user text, so it reaches a key only once validated as a BCP 47 tag
 * (contracts/captions.ts), lower-cased: one key per language whatever case it
 * came in; anything else is a bug, refused here.
 */
export function captionKey(videoId: string, lang: string): string {
  const tag = lang.toLowerCase();
  if (!/^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/.test(tag)) throw new Error("captionKey: not a validated language tag");
  return `${videoPrefix(videoId)}captions/${tag}.vtt`;
}
