/**
 * What the source is, and whether it is a video at all. Everything later
 * (ladder, remux, frame rate, poster time) is decided from this, so a file
 * ffmpeg cannot really decode is rejected here with a reason the uploader can
 * read, before any encoding starts.
 */
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { z } from "zod";
import { DEFAULT_LIMITS, type SourceLimits } from "./config.ts";
import { abortError, unusableSource } from "./errors.ts";
import { ffmpegPaths } from "./ffmpeg-path.ts";
import { INPUT_GUARD, isAcceptedFormat, NOT_ACCEPTED_REASON, NOT_ON_WHITELIST } from "./input-formats.ts";

export type SourceInfo = {
  durationSec: number;
  /** Display size: after rotation and non-square pixels. */
  width: number;
  height: number;
  rotation: number;
  squarePixels: boolean;
  frameRate: number;
  videoCodec: string;
  pixelFormat: string;
  profile: string | null;
  /** ffprobe's level, e.g. 40 for 4.0. */
  level: number | null;
  audioCodec: string | null;
  audioProfile: string | null;
  audioChannels: number | null;
  audioSampleRate: number | null;
  /** Longest gap between keyframes in the first seconds; only measured for remux candidates. */
  maxKeyframeIntervalSec: number | null;
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
  duration: z.string().optional(),
  sample_rate: z.string().optional(),
  channels: z.number().optional(),
  disposition: z.object({ attached_pic: z.number().optional() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  side_data_list: z.array(z.object({ rotation: z.number().optional() })).optional(),
});

const ProbeSchema = z.object({
  streams: z.array(StreamSchema).default([]),
  format: z.object({ format_name: z.string().optional(), duration: z.string().optional() }).optional(),
});

// Decoders that turn text (or any bytes) into "video" of rendered characters. Their demuxers are not
// accepted (input-formats.ts); this guards against such a stream inside an accepted container.
const TEXT_CODECS = new Set(["ansi", "bintext", "xbin", "idf", "tty"]);

type RunResult = { code: number; stdout: string; stderr: string };

export function run(file: string, args: string[], signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { signal, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (signal?.aborted) return reject(abortError(signal));
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** ffmpeg's first complaint, without the `[demuxer @ 0x…]` prefix or our temp path. */
export function ffmpegComplaint(stderr: string, path: string): string {
  const lines = stderr
    .split("\n")
    .map((l) =>
      l
        .replace(/^\[[^\]]+ @ 0x[0-9a-f]+\]\s*/, "")
        .split(path)
        .join("the file")
        .replace(/^the file:\s*/, "")
        .trim(),
    )
    .filter(Boolean);
  return lines[0] ?? "unknown error";
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

export async function probeSource(
  path: string,
  signal?: AbortSignal,
  limits: SourceLimits = DEFAULT_LIMITS,
): Promise<SourceInfo> {
  const { ffprobe } = ffmpegPaths();
  const args = ["-v", "error", ...INPUT_GUARD, "-of", "json", "-show_format", "-show_streams", path];
  const probed = await run(ffprobe, args, signal);
  if (probed.code !== 0) {
    if (NOT_ON_WHITELIST.test(probed.stderr)) throw unusableSource(NOT_ACCEPTED_REASON);
    throw unusableSource(`The file is not a video ffmpeg can read: ${ffmpegComplaint(probed.stderr, path)}`);
  }
  const parsed = ProbeSchema.safeParse(JSON.parse(probed.stdout || "{}"));
  if (!parsed.success) throw unusableSource("The file is not a video ffmpeg can read: unexpected stream information.");
  const { streams, format } = parsed.data;
  // The whitelist already refused it at open; this holds even if an ffmpeg build ignored the option.
  if (!isAcceptedFormat(format?.format_name ?? "")) throw unusableSource(NOT_ACCEPTED_REASON);

  // Cover art in audio files shows up as a one-picture video stream.
  const video = streams.find((s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1);
  const audio = streams.find((s) => s.codec_type === "audio");
  if (!video) {
    throw unusableSource(audio ? "The file has no video stream (audio only)." : "The file has no video stream.");
  }
  if (TEXT_CODECS.has(video.codec_name ?? ""))
    throw unusableSource("The file is not a video: ffmpeg can only read it as text or random data.");
  if (!video.width || !video.height)
    throw unusableSource("The file is not a video ffmpeg can read: its video stream has no picture size.");

  const durationSec = Number(format?.duration ?? video.duration);
  if (!(durationSec > 0)) throw unusableSource("The file's duration is unknown; it may be truncated or a still image.");
  const frameRate = rate(video.avg_frame_rate) || rate(video.r_frame_rate) || 30;
  refuseBeyondLimits(
    { durationSec, width: video.width, height: video.height, frameRate },
    (await stat(path)).size,
    limits,
  );

  await decodeFirstFrame(path, signal);

  const rotation = rotationOf(video);
  const [sarNum, sarDen] = (video.sample_aspect_ratio ?? "1:1").split(":").map(Number);
  const sar = sarNum > 0 && sarDen > 0 ? sarNum / sarDen : 1;
  const storedWidth = Math.round(video.width * sar);
  const sideways = rotation === 90 || rotation === 270;
  const videoCodec = video.codec_name ?? "unknown";

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
    audioCodec: audio?.codec_name ?? null,
    audioProfile: audio?.profile ?? null,
    audioChannels: audio?.channels ?? null,
    audioSampleRate: audio?.sample_rate ? Number(audio.sample_rate) : null,
    maxKeyframeIntervalSec: videoCodec === "h264" ? await maxKeyframeInterval(path, durationSec, signal) : null,
  };
}

/**
 * What a source costs is decided by what its headers declare: a few KB can
 * declare ten hours of 1080p60, which the ladder would then render frame by
 * frame. Refuse, before decoding anything, what no camera makes or what so
 * few bytes cannot honestly hold.
 */
export function refuseBeyondLimits(
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
async function decodeFirstFrame(path: string, signal?: AbortSignal): Promise<void> {
  const { ffmpeg } = ffmpegPaths();
  const args = [
    "-v",
    "error",
    "-nostdin",
    ...INPUT_GUARD,
    "-i",
    path,
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
    const why = decoded.stderr.trim() ? `: ${ffmpegComplaint(decoded.stderr, path)}` : ".";
    throw unusableSource(`The first video frame cannot be decoded${why}`);
  }
}

/**
 * Remuxed HLS can only cut segments at the source's keyframes, so a source
 * with sparse keyframes would give huge segments. Reading packet flags (no
 * decoding) over the first 20 s is enough to tell.
 */
async function maxKeyframeInterval(path: string, durationSec: number, signal?: AbortSignal): Promise<number> {
  const { ffprobe } = ffmpegPaths();
  const window = Math.min(20, durationSec);
  const args = ["-v", "error", ...INPUT_GUARD, "-select_streams", "v:0", "-read_intervals", `%+${window}`];
  args.push("-show_entries", "packet=pts_time,dts_time,flags", "-of", "csv=p=0", path);
  const { stdout } = await run(ffprobe, args, signal);
  const keyframes = stdout
    .split("\n")
    .map((line) => line.split(","))
    .filter((cols) => cols[2]?.startsWith("K"))
    .map((cols) => Number(cols[0] !== "N/A" ? cols[0] : cols[1]))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (keyframes.length === 0) return Number.POSITIVE_INFINITY;
  let longest = 0;
  for (let i = 1; i < keyframes.length; i++) longest = Math.max(longest, keyframes[i] - keyframes[i - 1]);
  return Math.max(longest, window - (keyframes[keyframes.length - 1] - keyframes[0]));
}
