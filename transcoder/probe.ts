/**
 * What the source is, and whether it is a video at all. Everything later
 * (ladder, remux, frame rate, poster time) is decided from this, so a file
 * ffmpeg cannot really decode is rejected here with a reason the uploader can
 * read, before any encoding starts.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { z } from "zod";
import { DEFAULT_LIMITS, type SourceLimits } from "./config.ts";
import { SOURCE_REASONS } from "../worker/contracts/vocabulary.ts";
import { abortError, complaints, plainReason, TranscodeError, unusableSource } from "./errors.ts";
import { ffmpegPaths } from "./ffmpeg-path.ts";
import {
  inputFor,
  isAcceptedFormat,
  NOT_ACCEPTED_REASON,
  NOT_ON_WHITELIST,
  type SourceInput,
} from "./input-formats.ts";

type ReadArgs = ReturnType<typeof inputFor>;

/** One audio stream of the source, kept as its own audio rendition. */
export type AudioSource = {
  /** Position among the source's audio streams: ffmpeg's `0:a:<index>`. */
  index: number;
  codec: string;
  profile: string | null;
  channels: number;
  sampleRate: number;
  /** The stream's `language` tag as written (ISO 639-2 such as `eng`), or null. */
  language: string | null;
  /** The stream's `title` tag (e.g. "Director's commentary"), or null. */
  title: string | null;
  /** The container marks it as the default track. */
  isDefault: boolean;
};

export type SourceInfo = {
  /**
   * What plays: from the earliest stream start to the latest stream end, so
   * a file whose timestamps begin at 3600 s lasts what it shows, not 3604 s.
   * Still what the file declares: the encode measures what really plays.
   */
  durationSec: number;
  /** Display size: after rotation and non-square pixels. */
  width: number;
  height: number;
  rotation: number;
  squarePixels: boolean;
  /** Frames per second as stored; an interlaced source has twice as many fields. */
  frameRate: number;
  videoCodec: string;
  pixelFormat: string;
  profile: string | null;
  /** ffprobe's level, e.g. 40 for 4.0. */
  level: number | null;
  /** Which field comes first, for an interlaced source; null when progressive. */
  interlaced: "tff" | "bff" | null;
  /** The transfer of an HDR source (PQ or HLG), which SDR players would show washed out; null for SDR. */
  hdr: "pq" | "hlg" | null;
  /** Every audio stream, in the source's order; empty when silent. */
  audio: AudioSource[];
  /** The first audio stream's codec, as the metadata reports it. */
  audioCodec: string | null;
};

// Only the fields we rely on; ffprobe prints many more, which zod strips.
const StreamSchema = z.object({
  index: z.number(),
  codec_type: z.string(),
  codec_name: z.string().optional(),
  profile: z.string().optional(),
  level: z.number().optional(),
  width: z.number().optional(),
  height: z.number().optional(),
  pix_fmt: z.string().optional(),
  sample_aspect_ratio: z.string().optional(),
  avg_frame_rate: z.string().optional(),
  r_frame_rate: z.string().optional(),
  start_time: z.string().optional(),
  duration: z.string().optional(),
  field_order: z.string().optional(),
  color_transfer: z.string().optional(),
  sample_rate: z.string().optional(),
  channels: z.number().optional(),
  disposition: z.object({ attached_pic: z.number().optional(), default: z.number().optional() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  side_data_list: z.array(z.object({ rotation: z.number().optional() })).optional(),
});

const ProbeSchema = z.object({
  streams: z.array(StreamSchema).default([]),
  format: z
    .object({ format_name: z.string().optional(), duration: z.string().optional(), size: z.string().optional() })
    .optional(),
});

// Decoders that turn text (or any bytes) into "video" of rendered characters. Their demuxers are not
// accepted (input-formats.ts); this guards against such a stream inside an accepted container.
const TEXT_CODECS = new Set(["ansi", "bintext", "xbin", "idf", "tty"]);

type RunResult = { code: number; stdout: string; stderr: string };

/** ffprobe and the probe's ffmpeg runs die with the transcoder, as the encodes do (transcoder/bin/ffmpeg-bound). */
const SETPRIV = "/usr/bin/setpriv";

export function run(file: string, args: string[], signal?: AbortSignal): Promise<RunResult> {
  // A probe reads the source over HTTP and may outlast a crashed transcoder: the kernel kills it then.
  const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ["--pdeathsig", "KILL", "--", file, ...args]] : [file, args];
  return new Promise((resolve, reject) => {
    execFile(command, argv, { signal, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (signal?.aborted) return reject(abortError(signal));
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

function rate(value: string | undefined): number {
  const [num, den] = (value ?? "").split("/").map(Number);
  const r = den ? num / den : num;
  return Number.isFinite(r) && r > 0 ? r : 0;
}

function rotationOf(stream: z.infer<typeof StreamSchema>): number {
  const fromSideData = stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation;
  const degrees = fromSideData ?? Number(stream.tags?.rotate ?? 0);
  return ((Math.round(degrees) % 360) + 360) % 360;
}

/** ffmpeg's words when it could not read a URL at all: the worker's trouble, or the job's, not the file's. */
const NOT_READ =
  /Server returned|HTTP error|Connection refused|Connection timed out|Connection reset|Failed to resolve|Input\/output error/i;

/**
 * What the source is, read from a local file or from the worker's URL by
 * range (a few reads of the header and index, whatever the file's size). A
 * URL that cannot be read at all is a retryable failure, never a verdict on the file.
 */
export async function probeSource(
  source: string | SourceInput,
  signal?: AbortSignal,
  limits: SourceLimits = DEFAULT_LIMITS,
): Promise<SourceInfo> {
  const from = typeof source === "string" ? { path: source } : source;
  const read = inputFor(from);
  const path = read.input;
  const { ffprobe } = ffmpegPaths();
  const args = ["-v", "error", ...read.options, "-of", "json", "-show_format", "-show_streams", path];
  const probed = await run(ffprobe, args, signal);
  if (probed.code !== 0) {
    if ("url" in from && NOT_READ.test(probed.stderr))
      throw new TranscodeError("The source could not be read for probing.", true, { detail: probed.stderr });
    if (NOT_ON_WHITELIST.test(probed.stderr)) throw unusableSource(NOT_ACCEPTED_REASON);
    throw unusableSource(plainReason(probed.stderr, [path], "The file is not a video ffmpeg can read"), probed.stderr);
  }
  const parsed = ProbeSchema.safeParse(JSON.parse(probed.stdout || "{}"));
  if (!parsed.success) throw unusableSource("The file is not a video ffmpeg can read: unexpected stream information.");
  const { streams, format } = parsed.data;
  // The whitelist already refused it at open; this holds even if an ffmpeg build ignored the option.
  if (!isAcceptedFormat(format?.format_name ?? "")) throw unusableSource(NOT_ACCEPTED_REASON);

  // Cover art in audio files shows up as a one-picture video stream.
  const video = streams.find((s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1);
  // A transport stream can list audio programs it never carries: no channels, nothing to keep.
  const audio = streams.filter((s) => s.codec_type === "audio" && (s.channels ?? 0) > 0 && Number(s.sample_rate) > 0);
  if (!video) {
    throw unusableSource(audio.length > 0 ? SOURCE_REASONS.audioOnly : "The file has no video stream.");
  }
  if (TEXT_CODECS.has(video.codec_name ?? ""))
    throw unusableSource("The file is not a video: ffmpeg can only read it as text or random data.");
  if (!video.width || !video.height)
    throw unusableSource("The file is not a video ffmpeg can read: its video stream has no picture size.");

  const durationSec = playSpan([video, ...audio], format?.duration);
  if (!(durationSec > 0)) throw unusableSource("The file's duration is unknown; it may be truncated or a still image.");
  const frameRate = rate(video.avg_frame_rate) || rate(video.r_frame_rate) || 30;
  refuseBeyondLimits(
    { durationSec, width: video.width, height: video.height, frameRate },
    // Over HTTP, the length the worker's answer declares (it always sends one).
    "path" in from ? (await stat(from.path)).size : Number(format?.size ?? Number.POSITIVE_INFINITY),
    limits,
  );

  const rotation = rotationOf(video);
  const [sarNum, sarDen] = (video.sample_aspect_ratio ?? "1:1").split(":").map(Number);
  const sar = sarNum > 0 && sarDen > 0 ? sarNum / sarDen : 1;
  const storedWidth = Math.round(video.width * sar);
  const sideways = rotation === 90 || rotation === 270;
  const videoCodec = video.codec_name ?? "unknown";
  const order = fieldOrder(video.field_order);
  // Each check reads the source in its own process: side by side, since the
  // video is playable only after them; the first to fail stops the others.
  const checks = new AbortController();
  const checked = AbortSignal.any(signal ? [signal, checks.signal] : [checks.signal]);
  const stopOthers = <T>(work: Promise<T>) =>
    work.catch((error: unknown) => {
      checks.abort(error);
      throw error;
    });
  const [, interlaced] = await Promise.all([
    stopOthers(decodeFirstFrame(read, checked)),
    stopOthers(
      order === "progressive"
        ? Promise.resolve(null)
        : order
          ? Promise.resolve(order)
          : detectInterlacing(video, read, checked),
    ),
  ]);

  return {
    durationSec,
    width: sideways ? video.height : storedWidth,
    height: sideways ? storedWidth : video.height,
    rotation,
    squarePixels: sar === 1,
    frameRate,
    videoCodec,
    pixelFormat: video.pix_fmt ?? "unknown",
    profile: video.profile ?? null,
    level: video.level !== undefined && video.level > 0 ? video.level : null,
    interlaced,
    hdr: HDR_TRANSFERS[video.color_transfer ?? ""] ?? null,
    audio: audio.map((a, index) => ({
      index,
      codec: a.codec_name ?? "unknown",
      profile: a.profile ?? null,
      channels: a.channels ?? 2,
      sampleRate: Number(a.sample_rate),
      language: a.tags?.language ?? null,
      title: a.tags?.title ?? trackName(a.tags?.handler_name),
      isDefault: a.disposition?.default === 1,
    })),
    audioCodec: audio[0]?.codec_name ?? null,
  };
}

/**
 * From the earliest stream start to the latest stream end. A container's own
 * duration can count from zero although the streams start at 3600 s (an MP4
 * cut from a long recording); the streams' span is what plays. Containers
 * that record no stream durations (Matroska) give their own.
 */
export function playSpan(
  streams: Array<{ start_time?: string; duration?: string }>,
  formatDuration: string | undefined,
): number {
  const timed = streams
    .map((s) => ({ start: Number(s.start_time), duration: Number(s.duration) }))
    .filter((t) => Number.isFinite(t.start) && t.duration > 0);
  if (timed.length === 0) return Number(formatDuration);
  const start = Math.min(...timed.map((t) => t.start));
  const end = Math.max(...timed.map((t) => t.start + t.duration));
  return Math.round((end - start) * 1000) / 1000;
}

/**
 * MP4 keeps no `title` for a track; tools that name tracks (ffmpeg's
 * `handler_name`, editors) put the name in the handler instead. Muxers fill
 * it with their own boilerplate, which names nothing.
 */
function trackName(handler: string | undefined): string | null {
  if (!handler?.trim()) return null;
  const boilerplate = /handler|^core media|^gpac|^iso media|^mainconcept|^apple|^google|^l-smash|^(stereo|mono)$/i;
  return boilerplate.test(handler.trim()) ? null : handler.trim();
}

const HDR_TRANSFERS: Record<string, "pq" | "hlg"> = { smpte2084: "pq", "arib-std-b67": "hlg" };

/** ffprobe's `field_order`: `tt`/`bt` show the top field first, `bb`/`tb` the bottom; null when it does not say. */
function fieldOrder(order: string | undefined): "tff" | "bff" | "progressive" | null {
  if (order === "progressive") return "progressive";
  if (order === "tt" || order === "bt") return "tff";
  if (order === "bb" || order === "tb") return "bff";
  return null;
}

/** Codecs that have no interlaced coding: nothing to detect. */
const PROGRESSIVE_ONLY = new Set(["vp8", "vp9", "av1", "theora", "gif", "png", "apng", "webp"]);
const IDET_FRAMES = 240;

/**
 * For a stream that does not say whether it is interlaced (motion JPEG, MPEG-4
 * Part 2, many AVI captures), ffmpeg's `idet` reads the first frames and counts
 * which look combed. Interlaced when combed frames clearly outnumber clean ones.
 */
async function detectInterlacing(
  video: { codec_name?: string },
  read: ReadArgs,
  signal?: AbortSignal,
): Promise<"tff" | "bff" | null> {
  if (PROGRESSIVE_ONLY.has(video.codec_name ?? "")) return null;
  const { ffmpeg } = ffmpegPaths();
  const args = ["-hide_banner", "-nostdin", "-v", "info", ...read.options, "-i", read.input, "-map", "0:v:0"];
  args.push("-frames:v", String(IDET_FRAMES), "-vf", "idet", "-f", "null", "-");
  const { stderr } = await run(ffmpeg, args, signal);
  return interlacingFromIdet(stderr);
}

/** Reads idet's "Multi frame detection" totals. */
export function interlacingFromIdet(stderr: string): "tff" | "bff" | null {
  const m = /Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)/.exec(stderr);
  if (!m) return null;
  const [tff, bff, progressive] = m.slice(1).map(Number);
  if (tff + bff < 10 || tff + bff < 2 * progressive) return null;
  return tff >= bff ? "tff" : "bff";
}

/**
 * What a source costs is decided by what its headers declare: a few KB can
 * declare ten hours of 1080p60, which the ladder would then render frame by
 * frame. Refuse, before decoding anything, what no camera makes or what so
 * few bytes cannot honestly hold.
 */
function refuseBeyondLimits(
  declared: { durationSec: number; width: number; height: number; frameRate: number },
  bytes: number,
  limits: SourceLimits,
): void {
  const { durationSec, width, height, frameRate } = declared;
  const span = (sec: number) =>
    sec >= 3600
      ? `${Math.round(sec / 360) / 10} h`
      : sec >= 60
        ? `${Math.round(sec / 60)} min`
        : `${Math.round(sec)} s`;
  if (durationSec > limits.maxDurationSec)
    throw unusableSource(`The video is too long: ${span(durationSec)}, at most ${span(limits.maxDurationSec)}.`);
  if (width * height > limits.maxPixels)
    throw unusableSource(
      `The picture is too large: ${width}×${height}, at most ${limits.maxPixels.toLocaleString("en")} pixels.`,
    );
  if (frameRate > limits.maxFrameRate)
    throw unusableSource(
      `The frame rate is too high: ${Math.round(frameRate)} fps, at most ${limits.maxFrameRate} fps.`,
    );
  if (bytes / durationSec < limits.minBytesPerSec)
    throw unusableSource(
      `The file is too small for the duration it declares: ${bytes.toLocaleString("en")} bytes for ${Math.round(durationSec)} s.`,
    );
}

/** Headers can be intact while the data is not (a cut-off upload): insist on one real frame. */
async function decodeFirstFrame(read: ReadArgs, signal?: AbortSignal): Promise<void> {
  const { ffmpeg } = ffmpegPaths();
  const args = [
    "-v",
    "error",
    "-nostdin",
    ...read.options,
    "-i",
    read.input,
    "-map",
    "0:v:0",
    "-frames:v",
    "1",
    "-f",
    "framecrc",
    "-",
  ];
  const decoded = await run(ffmpeg, args, signal);
  const frames = decoded.stdout.split("\n").filter((l) => l && !l.startsWith("#"));
  if (decoded.code !== 0 || frames.length === 0) {
    const why = decoded.stderr.trim() ? `: ${complaints(decoded.stderr, [read.input])[0]}` : ".";
    throw unusableSource(`The first video frame cannot be decoded${why}`, decoded.stderr);
  }
}
