/**
 * The ffmpeg runs: remux into HLS, encode renditions (the top rung's run
 * also writing its frames and storyboard sheets), grab the poster. Every
 * run is killable through an AbortSignal (a superseded or over-budget job
 * must stop burning CPU at once) and reports progress only when ffmpeg's
 * position in the source or its output bytes advance: a stuck run goes
 * silent, and the job's heartbeat with it.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import ffmpeg, { type FfmpegCommand } from "fluent-ffmpeg";
import { abortError, ffmpegFailure, TranscodeError } from "./errors.ts";
import { ffmpegPaths } from "./ffmpeg-path.ts";
import type { SpriteLayout } from "../worker/contracts/job.ts";
import { FRAMES_DIR } from "../worker/contracts/storyboard.ts";
import { inputFor, type SourceInput } from "./input-formats.ts";
import {
  type AudioPlan,
  ENCODER_DELAY_FRAMES,
  LADDER_PRESET,
  type PictureFix,
  SEGMENT_SECONDS,
  type Plan,
  type Rung,
} from "./plan.ts";

export type RunOptions = {
  signal?: AbortSignal;
  /** Fraction (0..1) of the source's duration processed so far; called only when ffmpeg moved on. */
  onProgress?: (fraction: number) => void;
  /**
   * Runs niced: the ladder, which no viewer waits for, yields the CPU to
   * other jobs' probes and first renditions, which someone does wait for.
   */
  background?: boolean;
};

/** `nice` value of background runs. */
const BACKGROUND_NICENESS = 10;

/** One job's ffmpeg work: where the source is read (a local file, or the worker's URL by range), where outputs go. */
export type Job = { source: SourceInput; workDir: string; durationSec: number };

/**
 * One ffmpeg run as data: the transcoder runs it, and the benchmark runs the
 * very same command line by hand as its baseline.
 */
export type FfmpegRun = {
  input: string;
  /** The input guard (input-formats.ts `inputFor`) first, then the run's own, such as `-ss`. */
  inputOptions: string[];
  /** `-filter_complex`, for outputs that share one decode. */
  filterGraph: string | null;
  outputs: Array<{ path: string; options: string[] }>;
};

/** The command line of a run: input options and input, overwrite, filter graph, then each output. */
export function ffmpegArgs(spec: FfmpegRun): string[] {
  return [
    ...spec.inputOptions,
    "-i",
    spec.input,
    "-y",
    ...(spec.filterGraph ? ["-filter_complex", spec.filterGraph] : []),
    ...spec.outputs.flatMap((o) => [...o.options, o.path]),
  ];
}

/**
 * Reads ffmpeg's `-progress` blocks (key=value lines, each block ended by a
 * `progress=` line) and calls `onAdvance` with the source position, in
 * seconds, of each block in which the position or the bytes written grew.
 */
export function progressReader(onAdvance: (seconds: number) => void): (text: string) => void {
  let pending = "";
  let block: Record<string, string> = {};
  let lastTime = -1;
  let lastSize = -1;
  return (text) => {
    pending += text;
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const at = line.indexOf("=");
      if (at < 0) continue;
      const key = line.slice(0, at).trim();
      block[key] = line.slice(at + 1).trim();
      if (key !== "progress") continue;
      const micros = Number(block.out_time_us ?? block.out_time_ms);
      const time = Number.isFinite(micros) && micros > 0 ? micros / 1e6 : 0;
      const size = Number(block.total_size);
      const bytes = Number.isFinite(size) ? size : 0;
      if (time > lastTime || bytes > lastSize) onAdvance(Math.max(time, lastTime, 0));
      lastTime = Math.max(lastTime, time);
      lastSize = Math.max(lastSize, bytes);
      block = {};
    }
  };
}

/**
 * ffmpeg's complaints for the log and the failure reason: the first and last
 * lines, without the progress blocks that share stderr. fluent-ffmpeg keeps
 * only its last 100 lines, which progress blocks fill in seconds.
 */
function complaintLog(keep = 100) {
  const head: string[] = [];
  const tail: string[] = [];
  return {
    add(line: string) {
      if (/^[a-z_]+=/.test(line.trim()) || !line.trim()) return;
      if (head.length < keep) head.push(line);
      else {
        tail.push(line);
        if (tail.length > keep) tail.shift();
      }
    },
    text: () => [...head, ...tail].join("\n"),
  };
}

/** How the source is named in ffmpeg's complaints, to be replaced by "the file". */
const sourceName = (source: SourceInput) => ("path" in source ? source.path : source.url);

/** fluent-ffmpeg's command for a run: the same arguments as `ffmpegArgs`, progress blocks on stderr. */
function fluentCommand(spec: FfmpegRun): FfmpegCommand {
  const command = ffmpeg(spec.input).inputOptions([
    ...["-hide_banner", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:2"],
    ...spec.inputOptions,
  ]);
  if (spec.filterGraph) command.complexFilter(spec.filterGraph);
  for (const o of spec.outputs) command.output(o.path).outputOptions(o.options);
  return command;
}

/**
 * Runs through fluent-ffmpeg, with no `progress` listener: that would make
 * fluent-ffmpeg probe the input itself, without the input guard. Progress
 * comes from ffmpeg's own `-progress` blocks instead, read as they arrive.
 */
function runFfmpeg(spec: FfmpegRun, what: string, job: Job, options: RunOptions): Promise<void> {
  ffmpegPaths();
  const { signal, onProgress } = options;
  const command = fluentCommand(spec);
  if (options.background) command.renice(BACKGROUND_NICENESS);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const kill = () => command.kill("SIGKILL");
    signal?.addEventListener("abort", kill, { once: true });
    const read = progressReader((seconds) => {
      if (job.durationSec > 0) onProgress?.(Math.min(1, seconds / job.durationSec));
    });
    const log = complaintLog();
    const settle = (error?: Error) => {
      signal?.removeEventListener("abort", kill);
      if (error) reject(error);
      else resolve();
    };
    command
      .on("stderr", (line: string) => {
        read(`${line}\n`);
        log.add(line);
      })
      .on("end", () => settle())
      .on("error", (error: Error) => {
        if (signal?.aborted) return settle(abortError(signal));
        const failure = ffmpegFailure(what, error.message, log.text(), [job.workDir, sourceName(job.source)]);
        settle(Object.assign(failure, { cause: error }));
      })
      .run();
  });
}

/**
 * `event` for what is published as it is written (step 1): ffmpeg rewrites
 * the playlist after each segment, atomically (a temp file renamed), and
 * ends it with `EXT-X-ENDLIST`. `vod` for what is published once finished.
 */
export type PlaylistType = "event" | "vod";

/*
 * fMP4 (CMAF) segments rather than MPEG-TS: hls.js and Safari both play them,
 * they carry less overhead than TS packets, the same files could later serve
 * DASH, and HEVC in HLS requires fMP4 anyway.
 */
function hlsOutput(dir: string, playlist: PlaylistType, span?: SpanOutput): string[] {
  return [
    "-f",
    "hls",
    "-hls_time",
    String(SEGMENT_SECONDS),
    "-hls_playlist_type",
    playlist,
    "-hls_segment_type",
    "fmp4",
    "-hls_flags",
    "independent_segments",
    "-hls_fmp4_init_filename",
    "init.mp4",
    "-start_number",
    String(span?.startNumber ?? 1),
    "-hls_segment_filename",
    join(dir.replaceAll("%", "%%"), span ? `seg_%05d.a${span.attempt}.m4s` : "seg_%05d.m4s"),
    // A span's fragments keep their timestamps (tfdt) rather than starting
    // from 0; the edit list then no longer depends on where the span starts,
    // so every span of a rung writes the same init segment.
    ...(span ? ["-hls_segment_options", "movflags=+frag_discont"] : []),
  ];
}

/**
 * Where a span's segments go: numbered from `startNumber` (global across
 * spans), named by the span's attempt so a late write of a superseded
 * attempt can never replace a segment of the one that counts.
 */
type SpanOutput = { startNumber: number; attempt: number };

/**
 * The top rung's frames, written by the run that encodes that rung: at each
 * of `sizes` (ascending), numbered from `first`, `frames` frames of the
 * run's output (null: to the end), the smallest tiled as `sprite` lays out.
 */
export type FramesOutput = {
  sizes: Array<{ width: number; height: number }>;
  sprite: SpriteLayout;
  first: number;
  frames: number | null;
};

/**
 * Filters that make the source's picture right for every rung, before it is
 * brought to the output frame rate and scaled: deinterlacing (bwdif, which
 * keeps detail where the picture is still) and tone-mapping HDR to SDR BT.709
 * (zscale to linear light, Hable's curve, back to BT.709), both in Debian's ffmpeg.
 */
export function pictureFilters(fix: PictureFix): string[] {
  const filters: string[] = [];
  if (fix.deinterlace) {
    const mode = fix.deinterlace.rate === "field" ? "send_field" : "send_frame";
    filters.push(`bwdif=mode=${mode}:parity=${fix.deinterlace.parity}:deint=all`);
  }
  if (fix.toneMap) {
    filters.push(
      "zscale=t=linear:npl=100",
      "format=gbrpf32le",
      "zscale=p=bt709",
      "tonemap=tonemap=hable:desat=0",
      "zscale=t=bt709:m=bt709:r=tv",
      "format=yuv420p",
    );
  }
  return filters;
}

/** Colour tags for rungs made from a tone-mapped source: players must not read them as BT.2020. */
function colourTags(fix: PictureFix): string[] {
  return fix.toneMap ? ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"] : [];
}

/**
 * Each audio track as its own HLS rendition. AAC-LC is copied when `copy`
 * allows (with ADTS headers, as in MPEG-TS, rewrapped for MP4); anything
 * else (AC-3, MP2, PCM, Opus, 5.1) is encoded to stereo AAC-LC.
 */
export function audioOutputs(
  job: Job,
  tracks: AudioPlan[],
  copy: boolean,
  playlist: PlaylistType,
): FfmpegRun["outputs"] {
  return tracks.map((t) => {
    const dir = join(job.workDir, t.name);
    const codec =
      copy && t.copyable
        ? ["-c:a", "copy", "-bsf:a", "aac_adtstoasc"]
        : ["-c:a", "aac", "-b:a", `${t.kbps}k`, "-ac", String(t.channels), "-ar", String(t.sampleRate)];
    return {
      path: join(dir, "index.m3u8"),
      options: ["-map", `0:a:${t.source}`, ...codec, ...hlsOutput(dir, playlist)],
    };
  });
}

/** The source's H.264 copied into HLS under `source`, without re-encoding, and its audio tracks beside it. */
export function remuxRun(job: Job, plan: Plan): FfmpegRun {
  const dir = join(job.workDir, "source");
  const { input, options } = inputFor(job.source);
  return {
    input,
    inputOptions: options,
    filterGraph: null,
    outputs: [
      { path: join(dir, "index.m3u8"), options: ["-map", "0:v:0", "-c:v", "copy", ...hlsOutput(dir, "event")] },
      ...audioOutputs(job, plan.audio, true, "event"),
    ],
  };
}

/** Copies the source's H.264 into HLS without re-encoding: seconds even for long videos. */
export async function remuxToHls(job: Job, plan: Plan, options: RunOptions): Promise<void> {
  await runFfmpeg(remuxRun(job, plan), "copying the source into HLS", job, options);
}

/**
 * Rungs in one ffmpeg run: the source is decoded once, fixed (deinterlaced,
 * tone-mapped) and brought to the output frame rate once, then split and
 * scaled per rung. Identical GOP settings and forced keyframes every 2 s keep
 * all renditions switchable at every segment boundary. With `audio`, the
 * audio tracks are encoded in the same run: that is step 1's quick rung,
 * published as it is written (`event` playlists); the ladder is published whole.
 */
export function encodeRun(job: Job, rungs: Rung[], plan: Plan, audio = false, frames?: FramesOutput): FfmpegRun {
  const playlist: PlaylistType = audio ? "event" : "vod";
  const outputs = rungs.map((r, i) => {
    const dir = join(job.workDir, r.name);
    return { path: join(dir, "index.m3u8"), options: [...rungVideo(r, i, plan), ...hlsOutput(dir, playlist)] };
  });
  const { input, options } = inputFor(job.source);
  return {
    input,
    inputOptions: options,
    filterGraph: ladderGraph(rungs, plan, frames),
    outputs: [
      ...outputs,
      ...(audio ? audioOutputs(job, plan.audio, false, playlist) : []),
      ...(frames ? framesOutputs(job, frames) : []),
    ],
  };
}

/**
 * One decode, fixed and brought to the output rate once, split and scaled
 * into `[v<i>]` per rung; with `frames`, a further branch for them (`framesGraph`).
 */
function ladderGraph(rungs: Rung[], plan: Plan, frames?: FramesOutput): string {
  const labels = rungs.map((_, i) => `s${i}`);
  if (frames) labels.push("sf");
  const shared = [...pictureFilters(plan.picture), `fps=${plan.frameRateExpr}`, `split=${labels.length}`];
  return [
    `[0:v:0]${shared.join(",")}${labels.map((l) => `[${l}]`).join("")}`,
    ...rungs.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setsar=1,format=yuv420p[v${i}]`),
    ...(frames ? [framesGraph(frames, plan)] : []),
  ].join(";");
}

/**
 * The top rung's frames, where its keyframes are: every `gopFrames`-th frame
 * of the run from its first (a run starts on a keyframe), each scaled to
 * every width into `[fw<i>]`, and the smallest also tiled into sprite sheets
 * `[sheet]`. A span's branch ends with its frames (`trim`), so the last
 * sheet is flushed as the span ends instead of waiting for frames past it.
 */
function framesGraph(frames: FramesOutput, plan: Plan): string {
  const { sizes, sprite } = frames;
  const trim = frames.frames === null ? [] : [`trim=end_frame=${frames.frames}`];
  const head = [...trim, `framestep=${plan.gopFrames}`, `split=${sizes.length}`];
  return [
    `[sf]${head.join(",")}${sizes.map((_, i) => `[fs${i}]`).join("")}`,
    ...sizes.map((size, i) => {
      const scaled = `[fs${i}]scale=${size.width}:${size.height},setsar=1`;
      return i === 0 ? `${scaled},split=2[fw0][tiles]` : `${scaled}[fw${i}]`;
    }),
    `[tiles]tile=${sprite.columns}x${sprite.rows}[sheet]`,
  ].join(";");
}

/**
 * Where the frames go: `frames/<width>_<i>.jpg` numbered from `first` (the
 * video's frame index where the run starts), the sheets as
 * `frames/sheet_<k>.jpg` from 0, renamed after the run by the frame each
 * starts with (frames.ts). JPEG at `-q:v 5`: indistinguishable from the
 * rung at a glance, and a few KiB a tile.
 */
function framesOutputs(job: Job, frames: FramesOutput): FfmpegRun["outputs"] {
  const dir = join(job.workDir, FRAMES_DIR).replaceAll("%", "%%");
  // One image per frame the branch sends, whatever the rungs' rate: no duplicates to fill a constant rate.
  const image = ["-fps_mode", "passthrough", "-c:v", "mjpeg", "-q:v", String(FRAME_QUALITY), "-f", "image2"];
  return [
    ...frames.sizes.map((size, i) => ({
      path: join(dir, `${size.width}_%05d.jpg`),
      options: ["-map", `[fw${i}]`, ...image, "-start_number", String(frames.first)],
    })),
    { path: join(dir, "sheet_%03d.jpg"), options: ["-map", "[sheet]", ...image, "-start_number", "0"] },
  ];
}

/** mjpeg's quantiser for frames and sheets (2 best, 31 worst). */
const FRAME_QUALITY = 5;

/**
 * Rung `r`'s video encoder options, reading `[v<i>]`. Keyframes every
 * `gopFrames` frames, counted from each run's first frame: a span starts on
 * a segment boundary, so its keyframes fall where the continuous encode's do.
 */
function rungVideo(r: Rung, i: number, plan: Plan): string[] {
  const gop = String(plan.gopFrames);
  return [
    "-map",
    `[v${i}]`,
    "-c:v",
    "libx264",
    "-preset",
    LADDER_PRESET,
    "-profile:v",
    r.profile,
    "-b:v",
    `${r.videoKbps}k`,
    "-maxrate",
    `${r.maxrateKbps}k`,
    "-bufsize",
    `${r.bufsizeKbps}k`,
    "-g",
    gop,
    "-keyint_min",
    gop,
    "-sc_threshold",
    "0",
    "-force_key_frames",
    `expr:eq(mod(n,${gop}),0)`,
    ...colourTags(plan.picture),
  ];
}

/** What one span encodes: SpanTask's fields the run needs. */
export type SpanRange = { startSec: number; frames: number | null; startNumber: number; attempt: number };

/**
 * One span of the ladder: the source read from `startSec` (ffmpeg seeks to
 * the keyframe before and decodes up to it, which reads only that part of the
 * source), `frames` output frames of each rung, their timestamps offset to
 * where the span lies in the continuous encode.
 */
export function spanRun(job: Job, rungs: Rung[], plan: Plan, span: SpanRange, frames?: FramesOutput): FfmpegRun {
  const offset = span.startSec + ENCODER_DELAY_FRAMES / plan.frameRate;
  const outputs = rungs.map((r, i) => {
    const dir = join(job.workDir, r.name);
    return {
      path: join(dir, "index.m3u8"),
      options: [
        ...rungVideo(r, i, plan),
        ...(span.frames === null ? [] : ["-frames:v", String(span.frames)]),
        "-output_ts_offset",
        offset.toFixed(6),
        ...hlsOutput(dir, "vod", span),
      ],
    };
  });
  const { input, options } = inputFor(job.source);
  const seek = span.startSec > 0 ? ["-ss", span.startSec.toFixed(6)] : [];
  return {
    input,
    inputOptions: [...options, ...seek],
    filterGraph: ladderGraph(rungs, plan, frames),
    outputs: [...outputs, ...(frames ? framesOutputs(job, frames) : [])],
  };
}

/** Encodes one span of `rungs` (and, with `frames`, the top rung's frames); `job.durationSec` is the span's, for progress. */
export async function encodeSpan(
  job: Job,
  rungs: Rung[],
  plan: Plan,
  span: SpanRange,
  options: RunOptions & { frames?: FramesOutput },
) {
  const what = `encoding ${rungs.map((r) => r.name).join(", ")} from ${Math.round(span.startSec)} s`;
  await runFfmpeg(spanRun(job, rungs, plan, span, options.frames), what, job, options);
}

/** Encodes `rungs` (with `audio`, every audio track; with `frames`, the top rung's frames) in one run. */
export async function encodeRungs(
  job: Job,
  rungs: Rung[],
  plan: Plan,
  options: RunOptions & { audio?: boolean; frames?: FramesOutput },
) {
  const what = `encoding ${rungs.map((r) => r.name).join(", ")}`;
  await runFfmpeg(encodeRun(job, rungs, plan, options.audio, options.frames), what, job, options);
}

/** A JPEG from `atSec` (10% in, where the opening black or title card is usually over), fixed like the rungs. */
export async function makePoster(job: Job, plan: Plan, atSec: number, options: RunOptions): Promise<string> {
  const file = join(job.workDir, "poster.jpg");
  const top = plan.rungs[0];
  const filters = [...pictureFilters(plan.picture), `scale=${top.width}:${top.height}`, "setsar=1"];
  const { input, options: guard } = inputFor(job.source);
  for (const at of [atSec, 0]) {
    const spec: FfmpegRun = {
      input,
      inputOptions: [...guard, "-ss", at.toFixed(3)],
      filterGraph: null,
      outputs: [
        {
          path: file,
          options: ["-map", "0:v:0", "-frames:v", "1", "-vf", filters.join(","), "-q:v", "3", "-update", "1"],
        },
      ],
    };
    await runFfmpeg(spec, "making the poster", job, { signal: options.signal });
    // Seeking past the last frame (durations can be off) writes nothing: retry from the start.
    if ((await stat(file).catch(() => null))?.size) return file;
    if (options.signal?.aborted) throw abortError(options.signal);
  }
  throw new TranscodeError("ffmpeg produced no poster frame", true);
}
