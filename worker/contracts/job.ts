/**
 * The Worker ↔ transcoder contract: the job the Worker hands off, the
 * metadata and renditions the transcoder reports back, and the signed
 * callbacks that carry them. Both sides validate with these schemas.
 */
import { z } from "zod";
import { SOURCE_WARNINGS } from "./vocabulary.ts";

const httpUrl = z.url({ protocol: /^https?$/ });

const renditionName = z.string().regex(/^[a-z0-9_]{1,32}$/);

/**
 * One span of the ladder: every rung of `rungs` encoded for the output frames
 * `[startSec, startSec + frames / frame rate)` of the source, its segments
 * numbered from `startNumber` so that the spans' segments, in order, are the
 * rung's. A span is retried on its own: `attempt` counts its tries.
 */
export const SpanTaskSchema = z.object({
  index: z.number().int().min(0).max(100_000),
  attempt: z.number().int().min(1),
  /** Where the span starts in the source, in seconds: a whole number of output frames. */
  startSec: z.number().nonnegative(),
  /** Output frames to encode; null for the last span, which runs to the end of the source. */
  frames: z.number().int().positive().nullable(),
  startNumber: z.number().int().min(1),
  rungs: z.array(renditionName).min(1).max(10),
});
export type SpanTask = z.infer<typeof SpanTaskSchema>;

/** What a package task writes beside the ladder it is made of: the MP4 download, and the audio alone. */
export const DOWNLOAD_FILE = "download.mp4";
export const AUDIO_DOWNLOAD_FILE = "audio.m4a";

/**
 * The downloads of a job's complete ladder: `rung`'s init segment and
 * segments (as its stitched `index.m3u8` lists them) with those of the audio
 * track `audio`, copied without re-encoding into one faststart MP4, and the
 * audio alone into an M4A. Retried on its own: `attempt` counts its tries.
 */
export const PackageTaskSchema = z.object({
  attempt: z.number().int().min(1),
  rung: renditionName,
  /** The default audio track's directory; null for a silent video (no M4A then). */
  audio: z
    .string()
    .regex(/^audio_[0-9]{1,2}$/)
    .nullable(),
});
export type PackageTask = z.infer<typeof PackageTaskSchema>;

/**
 * `POST /jobs` on the transcoder: where to read, where to write, whom to
 * tell. Without `span` the job's first task: probe, publish something
 * playable, and say which ladder remains; with it, one span of that ladder;
 * with `package`, the downloads of the complete ladder.
 */
export const JobSpecSchema = z.object({
  jobId: z.string().min(1).max(200),
  videoId: z.string().min(1).max(200),
  attempt: z.number().int().min(1),
  sourceUrl: httpUrl,
  uploadBaseUrl: httpUrl,
  callbackUrl: httpUrl,
  token: z.string().min(1).max(4096),
  span: SpanTaskSchema.optional(),
  package: PackageTaskSchema.optional(),
});
export type JobSpec = z.infer<typeof JobSpecSchema>;

/** One rung of the published ladder, as the master playlist announces it. */
export const RenditionSchema = z.object({
  name: renditionName,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /**
   * The variant's peak bit rate (RFC 8216 §4.3.4.2), bits per second: the
   * video's segments plus the largest audio track's, as the master announces it.
   */
  bandwidth: z.number().int().nonnegative(),
  averageBandwidth: z.number().int().nonnegative(),
  /** RFC 6381 codec strings of the variant, audio group included, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: z.string().max(100),
  frameRate: z.number().positive(),
  /** The video's init segment plus media segments (audio tracks count their own). */
  bytes: z.number().int().nonnegative(),
});
export type Rendition = z.infer<typeof RenditionSchema>;

/**
 * One of the source's audio tracks, published once as its own HLS rendition
 * (`EXT-X-MEDIA TYPE=AUDIO`) that every video rendition refers to.
 */
export const AudioTrackSchema = z.object({
  /** The rendition's directory, `audio_<n>` in source order. */
  name: z.string().regex(/^audio_[0-9]{1,2}$/),
  /** BCP 47 language from the track's tags, `null` when untagged or `und`. */
  language: z.string().max(35).nullable(),
  /** What the audio menu shows: the track's title tag, else its language, else "Track n". */
  label: z.string().min(1).max(100),
  /** The track players start with: the source's default, else its first. */
  default: z.boolean(),
  channels: z.number().int().positive(),
  /** RFC 6381, e.g. `mp4a.40.2`. */
  codecs: z.string().max(50),
  /** Peak segment bit rate, bits per second. */
  bandwidth: z.number().int().nonnegative(),
  /** Segment bytes over their duration, bits per second: what each variant's AVERAGE-BANDWIDTH adds. */
  averageBandwidth: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type AudioTrack = z.infer<typeof AudioTrackSchema>;

/**
 * Something a viewer or owner should know about a video that still plays:
 * `source_truncated` when the file ends before the duration it declares.
 */
export const SourceWarningSchema = z.object({
  code: z.enum(SOURCE_WARNINGS),
  message: z.string().max(500),
});
export type SourceWarning = z.infer<typeof SourceWarningSchema>;

/**
 * How the storyboard's sprite sheets are laid out: tiles of the smallest
 * frame width, `columns` by `rows` to a sheet, filled row by row. A sheet
 * never spans two tasks' frames, so the last of each task's may be part empty.
 */
export const SpriteLayoutSchema = z.object({
  tileWidth: z.number().int().positive(),
  tileHeight: z.number().int().positive(),
  columns: z.number().int().min(1).max(50),
  rows: z.number().int().min(1).max(50),
});
export type SpriteLayout = z.infer<typeof SpriteLayoutSchema>;

/**
 * Frames of the ladder's top rung, one every `intervalSec` (the GOP, where
 * keyframes already are) from 0: frame `i` shows the video at `i * intervalSec`.
 * Each is stored at every width of `widths` (ascending, never wider than the
 * rung) as `frames/<width>_<i>.jpg` (worker/contracts/storyboard.ts); the
 * storyboard tiles them into sprite sheets. Stored in D1 `videos.frames`.
 */
export const FramesSchema = z.object({
  intervalSec: z.number().positive(),
  count: z.number().int().min(1),
  widths: z.array(z.number().int().positive()).min(1).max(8),
  sprite: SpriteLayoutSchema,
  /** Every frame and sprite sheet together: what they cost beside the ladder. */
  bytes: z.number().int().nonnegative(),
});
export type Frames = z.infer<typeof FramesSchema>;

/** What the transcoder learned of the source, and the renditions published so far. */
export const MetadataSchema = z.object({
  /** What plays: the streams' span with any start offset removed, as the encode measured it. */
  durationSec: z.number().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frameRate: z.number().positive(),
  videoCodec: z.string().max(50),
  audioCodec: z.string().max(50).nullable(),
  renditions: z.array(RenditionSchema).min(1).max(10),
  audioTracks: z.array(AudioTrackSchema).max(16).default([]),
  warnings: z.array(SourceWarningSchema).max(10).default([]),
  /** The top rung's frames, once written: by the first task when it encoded that rung, else stitched from the spans'. */
  frames: FramesSchema.optional(),
});
export type Metadata = z.infer<typeof MetadataSchema>;

/**
 * The ladder left to encode once the first rendition is out, as the first
 * task planned it from the probe: the video's Durable Object cuts it into
 * spans (a whole number of segments each) and queues them.
 */
export const LadderSchema = z.object({
  rungs: z.array(renditionName).min(1).max(10),
  /** The rungs' exact frame rate, `num / den` frames per second (NTSC rates are not decimals). */
  frameRate: z.object({ num: z.number().int().positive(), den: z.number().int().positive() }),
  /** Frames in one segment: spans start on segment boundaries. */
  segmentFrames: z.number().int().positive(),
  /** How long the video plays, as the first rendition measured it (the audio may run longer). */
  durationSec: z.number().positive(),
});
export type Ladder = z.infer<typeof LadderSchema>;

/**
 * How many frames libx264 at the ladder's preset (`veryfast`: 3 B-frames,
 * B-pyramid) holds back: its first DTS lies this many frames before its first
 * PTS, so the muxer shifts every timestamp this much later and the source's
 * first frame sits this far into the ladder's media timeline. The transcoder
 * shifts spans by it (transcoder/encode.ts); captions' `X-TIMESTAMP-MAP`
 * puts their zero there (captions/subtitle-playlist.ts).
 */
export const ENCODER_DELAY_FRAMES = 2;

/** One media segment as a media playlist lists it. */
export const SegmentSchema = z.object({
  uri: z.string().regex(/^[a-z0-9_][a-z0-9_.-]{0,63}$/),
  duration: z.number().positive(),
  bytes: z.number().int().nonnegative(),
});
export type Segment = z.infer<typeof SegmentSchema>;

/**
 * What one task wrote of the frames: `count` of them from frame `first`
 * (`bytes` theirs and their sheets'), its sheets starting at `first`.
 */
export const SpanFramesSchema = FramesSchema.extend({ first: z.number().int().min(0) });
export type SpanFrames = z.infer<typeof SpanFramesSchema>;

/** What one span wrote for one rung: its segments, and the init segment every span of the rung must share. */
export const SpanRungSchema = z.object({
  name: renditionName,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** RFC 6381 video codec, from the init segment, e.g. `avc1.640028`. */
  codecs: z.string().max(50),
  init: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().positive() }),
  segments: z.array(SegmentSchema).min(1).max(10_000),
  /** The top rung's alone: the frames of the span's own range, numbered from the video's start. */
  frames: SpanFramesSchema.optional(),
});
export type SpanRung = z.infer<typeof SpanRungSchema>;

/**
 * The transcoder's callbacks, from a job's first task or one of its spans
 * (the job token says which). `progress` doubles as the heartbeat, of the
 * task that sends it; `playable` says the first rendition is published
 * (`growing` while it is still being written: its playlists have their first
 * segments but no `EXT-X-ENDLIST`), and when not growing names the `ladder`
 * left to encode, which ends the first task; `completed` says the whole
 * ladder is out (a source whose one rung was the first); `span_completed`
 * that a span's segments are uploaded; `package_completed` that a package
 * task's downloads are, with their sizes.
 */
export const JobEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("progress"), jobId: z.string(), progress: z.number().min(0).max(1) }),
  z.object({
    type: z.literal("playable"),
    jobId: z.string(),
    metadata: MetadataSchema,
    growing: z.boolean().default(false),
    ladder: LadderSchema.nullable().default(null),
  }),
  z.object({ type: z.literal("completed"), jobId: z.string(), metadata: MetadataSchema }),
  z.object({
    type: z.literal("span_completed"),
    jobId: z.string(),
    span: z.number().int().min(0),
    rungs: z.array(SpanRungSchema).min(1).max(10),
  }),
  z.object({
    type: z.literal("package_completed"),
    jobId: z.string(),
    download: z.object({ bytes: z.number().int().positive() }),
    /** Null when the task had no audio track to write. */
    audio: z.object({ bytes: z.number().int().positive() }).nullable(),
  }),
  z.object({ type: z.literal("failed"), jobId: z.string(), reason: z.string().max(2000), retryable: z.boolean() }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;
