/**
 * A video as the API describes it and edits it, and the listing and search
 * queries. Types come from the schemas; the pages import them as types only.
 */
import { z } from "zod";
import { decimalInt } from "./decimal-int.ts";
import { AudioTrackSchema, RenditionSchema, SourceWarningSchema } from "./job.ts";
import { MAX_TITLE_LENGTH, SORTS, VIDEO_STATUSES, VISIBILITIES } from "./vocabulary.ts";

/** 20 lower-case Crockford base32 characters, made by the server. */
export const VideoIdSchema = z
  .string()
  .regex(/^[0-9a-hjkmnp-tv-z]{20}$/, "not a video id")
  .meta({ id: "VideoId" });

// C0 control characters (and DEL) have no place in a name or a title.
const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
const NO_CONTROL_BUT_LINES = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;

/** A single line of text, trimmed, without control characters. */
export const line = (max: number) =>
  z.string().trim().max(max).regex(NO_CONTROL, "must not contain control characters");

export const TitleSchema = line(MAX_TITLE_LENGTH);
export const DescriptionSchema = z
  .string()
  .max(5000)
  .regex(NO_CONTROL_BUT_LINES, "must not contain control characters");
export const TagsSchema = z
  .array(line(40).pipe(z.string().min(1, "tags must not be empty")))
  .max(20)
  // Duplicates (ignoring case) collapse to the first spelling.
  .transform((tags) => tags.filter((t, i) => tags.findIndex((u) => u.toLowerCase() === t.toLowerCase()) === i));

/** What a viewer needs of a rendition; the codec strings and averages stay in the master playlist. */
export const PublicRenditionSchema = RenditionSchema.pick({
  name: true,
  width: true,
  height: true,
  bandwidth: true,
  bytes: true,
}).meta({ id: "Rendition" });
export type PublicRendition = z.infer<typeof PublicRenditionSchema>;

/** What a viewer needs of an audio track: enough to build the audio menu. */
export const PublicAudioTrackSchema = AudioTrackSchema.pick({
  name: true,
  language: true,
  label: true,
  default: true,
  channels: true,
}).meta({ id: "AudioTrack" });
export type PublicAudioTrack = z.infer<typeof PublicAudioTrackSchema>;

/** `GET /api/videos/:id`, and every other answer that carries a video. */
export const VideoSchema = z
  .object({
    id: VideoIdSchema,
    title: z.string(),
    description: z.string(),
    tags: z.array(z.string()),
    status: z.enum(VIDEO_STATUSES),
    visibility: z.enum(VISIBILITIES),
    /** 0..1 while processing, and while ready but the rest of the ladder is still encoding. */
    progress: z.number().min(0).max(1).optional(),
    /** Why processing failed (or, on a ready video, why the rest of the ladder did). */
    error: z.string().optional(),
    durationSec: z.number().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    frameRate: z.number().nullable(),
    renditions: z.array(PublicRenditionSchema),
    /** Every audio track of the source, in its order; empty for a silent video. */
    audioTracks: z.array(PublicAudioTrackSchema),
    /** What the owner and viewers should know about a video that plays, e.g. that its file was cut short. */
    warnings: z.array(SourceWarningSchema),
    /** ISO 8601. */
    createdAt: z.string(),
    /** The owner allows downloads; the URLs are in `playback` once they are made. */
    downloadable: z.boolean(),
    /** Seconds into the video the owner picked the poster at; null: the default poster. */
    posterTime: z.number().nullable(),
    playback: z.object({
      hls: z.string().nullable(),
      poster: z.string().nullable(),
      /** `thumbnail.jpg`; add `?time=<seconds>&width=<px>`. Null until the ladder's frames are written. */
      thumbnail: z.string().nullable(),
      /** A WebVTT storyboard of sprite tiles (`#xywh=`); null until written. */
      storyboard: z.string().nullable(),
      /** The MP4 of the top rung up to 1080p and the audio alone; null unless downloadable and made. */
      download: z.string().nullable(),
      audioDownload: z.string().nullable(),
    }),
  })
  .meta({ id: "Video" });
export type Video = z.infer<typeof VideoSchema>;

/** Server-escaped HTML in which only `<mark>` is markup. */
export const HighlightSchema = z.object({ title: z.string(), description: z.string() }).meta({ id: "Highlight" });
export type Highlight = z.infer<typeof HighlightSchema>;

/**
 * A moment of a video whose captions match a search: `t` seconds in (the
 * cue's start), `text` the cue as server-escaped HTML in which only `<mark>`
 * is markup, as in `Highlight`.
 */
export const MomentSchema = z.object({ t: z.number().min(0), text: z.string() }).meta({ id: "Moment" });
export type Moment = z.infer<typeof MomentSchema>;

/** `GET /api/videos`: one page of a listing or search. */
export const VideoPageSchema = z
  .object({
    items: z.array(
      VideoSchema.extend({
        highlight: HighlightSchema.optional(),
        /** With `q`, when a cue of the video's captions holds every word: its best such cues (at most 3), in time order. */
        moments: z.array(MomentSchema).max(3).optional(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: "VideoPage" });
export type VideoPage = z.infer<typeof VideoPageSchema>;
export type ListedVideo = VideoPage["items"][number];

/** The query of `GET /api/videos`. */
export const ListQuerySchema = z.object({
  q: z
    .string()
    .max(1000, "q must be at most 1000 characters")
    .optional()
    .describe("Words matched against title, tags, description and captions, each as a prefix."),
  tag: z.string().trim().min(1).max(40).optional().describe("Only videos with exactly this tag (any case)."),
  sort: z
    .enum(SORTS)
    .optional()
    .describe("`relevance` by default with `q`, `newest` without; `duration` is shortest first."),
  limit: decimalInt(1, 100).default(24).describe("Videos per page, 1..100; 24 by default."),
  cursor: z.string().max(512).optional().describe("The previous page's `nextCursor`."),
});
export type ListQuery = z.input<typeof ListQuerySchema>;

/** `PATCH /api/videos/:id`: the owner's edits; at least one field. */
export const VideoPatchSchema = z
  .object({
    title: TitleSchema.pipe(z.string().min(1, "title must not be empty")).optional(),
    description: DescriptionSchema.optional(),
    tags: TagsSchema.optional(),
    visibility: z.enum(VISIBILITIES).optional(),
    /** Seconds into the video to take the poster at; null goes back to the default poster. */
    posterTime: z.number().nonnegative().max(1_000_000).nullable().optional(),
    downloadable: z.boolean().optional(),
  })
  .refine((o) => Object.values(o).some((v) => v !== undefined), "nothing to change")
  .meta({ id: "VideoPatch" });
export type VideoPatch = z.input<typeof VideoPatchSchema>;

/**
 * The downloads of a video (`download.mp4`, `audio.m4a`), made from the
 * playback job's ladder once the owner allows them: `preparing` while a
 * transcoder makes them, `ready` once stored, `failed` with why.
 */
export const DownloadsSchema = z.object({
  state: z.enum(["preparing", "ready", "failed"]),
  /** The playback job they were made from: a new job's ladder needs new ones. */
  jobId: z.string(),
  error: z.string().optional(),
});
export type Downloads = z.infer<typeof DownloadsSchema>;

/** The query of `GET /api/tags`. */
export const TagQuerySchema = z.object({
  prefix: z.string().trim().max(40).default("").describe("The start of the tags suggested (any case)."),
  limit: decimalInt(1, 50).default(10).describe("Suggestions, 1..50; 10 by default."),
});

/** `GET /api/tags`: suggestions, most used first. */
export const TagSuggestionsSchema = z
  .object({
    tags: z.array(z.object({ tag: z.string(), count: z.number().int() })),
  })
  .meta({ id: "TagSuggestions" });
export type TagSuggestions = z.infer<typeof TagSuggestionsSchema>;

/** One stored R2 object: its key and size. */
export const StoredObjectSchema = z.object({ key: z.string(), bytes: z.number().int().min(0) });
export type StoredObject = z.infer<typeof StoredObjectSchema>;

/**
 * `GET /api/videos/:id/storage`, for the operator (`ADMIN_TOKEN`): every R2
 * object under the video's prefix, to check what a video costs to keep and
 * that nothing is stored twice (after the first-playable grace period: the
 * source, and the playback job's ladder and poster).
 */
export const VideoStorageSchema = z
  .object({
    videoId: VideoIdSchema,
    /** Every object under `videos/<id>/`, in key order. */
    objects: z.array(StoredObjectSchema),
    /** The sum of every object's bytes. */
    bytes: z.number().int().min(0),
    /** The original upload's bytes; null when it is not stored (before completion, or once deleted). */
    source: z.number().int().min(0).nullable(),
    /** The job whose outputs are served (`jobs/<playbackJob>/…`); null before the video is playable. */
    playbackJob: z.string().nullable(),
    /** Each job that stores anything, with its object count and bytes, in key order. */
    jobs: z.array(z.object({ jobId: z.string(), objects: z.number().int().min(0), bytes: z.number().int().min(0) })),
  })
  .meta({ id: "VideoStorage" });
export type VideoStorage = z.infer<typeof VideoStorageSchema>;
