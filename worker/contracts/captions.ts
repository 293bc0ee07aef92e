/**
 * Caption tracks as the API takes and describes them: a video has at most
 * one track per language, named by a BCP 47 tag in its canonical case.
 */
import { z } from "zod";
import { line } from "./video.ts";

/** The largest caption file taken, in bytes as sent. */
export const MAX_CAPTION_BYTES = 5 * 1024 * 1024;

/**
 * A BCP 47 language tag's shape (RFC 5646): a 2–3 letter language, then
 * subtags of 1–8 letters or digits (script, region, variants, extensions,
 * private use). Only letters, digits and hyphens, so a tag is safe in a URL,
 * a playlist attribute and, lower-cased, an R2 key.
 */
const LANG_TAG =
  /^[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?$/;

/**
 * The tag in BCP 47's canonical case (RFC 5646 §2.1.1): language lower case,
 * script title case, region upper case, everything after a singleton
 * (extensions, private use) lower case. `PT-br` and `pt-BR` are one track.
 */
export function canonicalLang(tag: string): string {
  const [language, ...rest] = tag.toLowerCase().split("-");
  let afterSingleton = false;
  const subtags = rest.map((s) => {
    if (s.length === 1) afterSingleton = true;
    if (afterSingleton) return s;
    if (s.length === 4 && /^[a-z]/.test(s)) return s[0]!.toUpperCase() + s.slice(1);
    if (s.length === 2) return s.toUpperCase();
    return s;
  });
  return [language, ...subtags].join("-");
}

export const CaptionLangSchema = z
  .string()
  .max(35, "a language tag has at most 35 characters")
  .regex(LANG_TAG, "not a BCP 47 language tag (such as en, pt-BR, zh-Hant)")
  .transform(canonicalLang);

/** What a captions menu shows; it goes into a playlist's quoted `NAME`, which cannot hold a `"`. */
export const CaptionLabelSchema = line(80)
  .pipe(z.string().min(1, "label must not be empty"))
  .pipe(z.string().regex(/^[^"]*$/, 'label must not contain "'));

/** The query of `PUT /api/videos/:id/captions/:lang`. */
export const CaptionPutQuerySchema = z.object({
  label: CaptionLabelSchema.optional().describe(
    "What the captions menu shows; by default the language's own name (`Deutsch`, `Português (Brasil)`).",
  ),
});

/** A caption track of a video. */
export const CaptionTrackSchema = z
  .object({
    /** Its BCP 47 tag, in canonical case. */
    lang: z.string(),
    label: z.string(),
    /** How many cues it has. */
    cues: z.number().int().min(0),
    /** The stored WebVTT's size. */
    bytes: z.number().int().min(0),
    /** ISO 8601: when the track was last stored. */
    updatedAt: z.string(),
    /** The WebVTT file, root-relative. */
    vtt: z.string(),
    /** Its HLS media playlist, root-relative, as the master playlist names it. */
    playlist: z.string(),
  })
  .meta({ id: "CaptionTrack" });
export type CaptionTrack = z.infer<typeof CaptionTrackSchema>;

/** `GET /api/videos/:id/captions`. */
export const CaptionTracksSchema = z.object({ tracks: z.array(CaptionTrackSchema) }).meta({ id: "CaptionTracks" });
export type CaptionTracks = z.infer<typeof CaptionTracksSchema>;
