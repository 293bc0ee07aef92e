/**
 * The words every part of Reelay shares: a video's statuses and visibilities,
 * the listing sort orders, the default title of an upload. Plain values, no
 * zod, so the pages can import them without shipping a validator.
 */

/** `uploading → processing → ready | failed`, or `aborted` / `expired` before completion. */
export const VIDEO_STATUSES = ["uploading", "processing", "ready", "failed", "aborted", "expired"] as const;
export type VideoStatus = (typeof VIDEO_STATUSES)[number];

/** `unlisted` videos play by link but are never listed or found. */
export const VISIBILITIES = ["public", "unlisted"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** Listing orders; `relevance` needs a query and falls back to `newest` without one. */
export const SORTS = ["relevance", "newest", "oldest", "duration"] as const;
export type Sort = (typeof SORTS)[number];

export const isSort = (value: string): value is Sort => (SORTS as readonly string[]).includes(value);

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
