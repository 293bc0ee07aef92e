/**
 * The words every part of Reelay shares: a video's statuses and visibilities,
 * the listing sort orders, the default title of an upload. Plain values, no
 * zod, so the pages can import them without shipping a validator.
 */

/**
 * `uploading → processing → ready | failed`, or `aborted` / `expired` before
 * completion; an import from a URL is `importing` (or `failed`) instead of `uploading`.
 */
export const VIDEO_STATUSES = [
  "uploading",
  "importing",
  "processing",
  "ready",
  "failed",
  "aborted",
  "expired",
] as const;
export type VideoStatus = (typeof VIDEO_STATUSES)[number];

/**
 * `unlisted` videos play by link but are never listed or found; `private`
 * ones are never listed or found either, and play only with a playback token.
 */
export const VISIBILITIES = ["public", "unlisted", "private"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Listing orders; `relevance` needs a query and falls back to `newest` without one. */
export const SORTS = ["relevance", "newest", "oldest", "duration"] as const;
export type Sort = (typeof SORTS)[number];

export const isSort = (value: string): value is Sort => (SORTS as readonly string[]).includes(value);

/** Warnings a ready video may carry (contracts/job.ts SourceWarningSchema). */
export const SOURCE_WARNINGS = ["source_truncated"] as const;
export type SourceWarningCode = (typeof SOURCE_WARNINGS)[number];

/**
 * Why a file is not a video Reelay can process, in words a person reads. The
 * transcoder fails a source with these after probing it; the upload page and
 * the API say the same before a byte is sent when the file's type already
 * tells (an audio or image file picked by mistake).
 */
export const SOURCE_REASONS = {
  audioOnly: "The file has no video stream (audio only).",
  notAccepted: "The file is not a video we accept: upload a video file such as MP4, MOV, MKV, WebM, AVI or MPEG-TS.",
} as const;

/** The longest a playback token lasts: a week (contracts/playback-token.ts). */
export const MAX_PLAYBACK_TOKEN_SECONDS = 7 * 24 * 3600;

/** Longest title (and so longest default title), in characters. */
export const MAX_TITLE_LENGTH = 200;

/** The title an upload gets when none is given: its file name without directory or extension. */
export function titleFromFilename(filename: string): string {
  // Browsers send a bare name, but programs may send a path: title the last segment.
  const name = filename.split(/[/\\]/).pop() || filename;
  const base = name
    .replace(/\.[^.]{1,10}$/, "")
    .replace(/_+/g, " ")
    .trim();
  return (base || filename).slice(0, MAX_TITLE_LENGTH);
}
