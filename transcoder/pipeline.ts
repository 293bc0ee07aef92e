/**
 * A job's first task: something playable as soon as possible (the source
 * copied as is, or one small rendition, with every audio track as its own
 * rendition, encoded once for the whole video), published segment by segment
 * as ffmpeg writes it, and the poster; then it names the ladder left to
 * encode, which the video's Durable Object cuts into spans for other tasks
 * (span.ts). The source is read where it is (the worker's URL, by range): no
 * local copy of it is needed.
 */
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Frames, Ladder, Metadata } from "../worker/contracts/job.ts";
import { STORYBOARD_FILE, storyboardVtt } from "../worker/contracts/storyboard.ts";
import { avc1FromProfile, avc1OfRung } from "./codec-strings.ts";
import { DEFAULT_BUDGET, DEFAULT_LIMITS, type SourceLimits, type TimeBudget } from "./config.ts";
import { encodeRungs, type FramesOutput, makePoster, type Job, type RunOptions, remuxToHls } from "./encode.ts";
import { TranscodeError, unusableSource } from "./errors.ts";
import { collectFrames, framesDir, framesOutput } from "./frames.ts";
import { GrowingPublisher, type Snapshots, type Upload } from "./growing-publisher.ts";
import {
  type AudioMeta,
  type MediaPlaylist,
  masterPlaylist,
  type RenditionMeta,
} from "../worker/contracts/hls-playlists.ts";
import { audioRendition, type MeasuredMedia, measureMedia, videoRendition } from "./hls-playlists.ts";
import type { SourceInput } from "./input-formats.ts";
import { frameRateFraction, planTranscode, type Plan, type Rung, segmentFrames } from "./plan.ts";
import { probeSource, type SourceInfo } from "./probe.ts";
import { playsInFull, truncationWarning } from "./truncation.ts";

/**
 * `growing`: step 1's first segments are up and its playlists grow as ffmpeg
 * writes; `playable`: step 1 is complete, and the ladder is left to spans;
 * `final`: step 1 was the whole ladder (a source no larger than its quick rung).
 */
export type PublishStep = "growing" | "playable" | "final";

/**
 * What one publish step reports: the contract's metadata, each rendition with
 * its playlist, and the files the step adds, which the job uploads before calling back.
 */
export type PublishedMetadata = Omit<Metadata, "renditions" | "audioTracks"> & {
  renditions: RenditionMeta[];
  audioTracks: AudioMeta[];
  poster: "poster.jpg";
  master: "master.m3u8";
  /** Relative paths to upload before the step is announced, in upload order; master.m3u8 last. */
  files: string[];
  /** The `playable` step's: the rungs left to encode, in spans. */
  ladder: Ladder | null;
};

export type PipelineOptions = {
  source: SourceInput;
  workDir: string;
  /**
   * Overall fraction done, 0..1; called only when work moved on (a phase
   * started or ended, ffmpeg advanced), never on a clock: silence means a stuck run.
   */
  onProgress?: (fraction: number) => void;
  /**
   * Uploads `metadata.files`, then announces the step. `growing` and
   * `playable` run while encoding goes on; the final step waits for them.
   */
  onPublish?: (step: PublishStep, metadata: PublishedMetadata) => void | Promise<void>;
  /** Uploads step 1's files as ffmpeg writes them (growing-publisher.ts); none are uploaded without it. */
  upload?: Upload;
  /**
   * Deletes step 1's segments from `workDir` once uploaded, so the copy of a
   * large source never fills the disk; left for tests to inspect otherwise.
   */
  discardUploaded?: boolean;
  signal?: AbortSignal;
  /** What a source may declare (config.ts); the defaults when absent. */
  limits?: SourceLimits;
  /** How long the pipeline may run, from the probe on, for the source's duration. */
  budget?: TimeBudget;
  /** The source as already probed (from its URL, before the download): not probed again. */
  probed?: SourceInfo;
  /** Where what the uploader does not see goes: ffmpeg's full complaints when a copy falls back to encoding. */
  log?: PipelineLog;
};

export type PipelineLog = (event: string, fields?: Record<string, unknown>) => void;

/** Monotonic progress over weighted phases. */
function progressTracker(onProgress: ((fraction: number) => void) | undefined) {
  let value = 0;
  const emit = (next: number) => {
    value = Math.min(1, Math.max(value, next));
    onProgress?.(value);
  };
  let done = 0;
  return {
    /** Progress callback for a phase worth `weight` of the whole. */
    phase(weight: number) {
      const start = done;
      done += weight;
      emit(start);
      return (fraction: number) => emit(start + weight * fraction);
    },
    emit,
  };
}

/**
 * Aborts the run once the budget for the source's duration is spent: a
 * source whose ladder would take far longer than its length is hostile or
 * broken, and another attempt would spend as long. Not retryable.
 */
export function budgetTimer(durationSec: number, budget: TimeBudget, signal: AbortSignal | undefined) {
  const controller = new AbortController();
  const limitSec = budget.perSourceSecond * durationSec + budget.extraSec;
  const overBudget = unusableSource(
    `Processing took longer than the ${Math.ceil(limitSec)} s allowed for a ${Math.round(durationSec)} s video and was stopped.`,
  );
  let spent = false;
  const timer = setTimeout(
    () => {
      spent = true;
      controller.abort(overBudget);
    },
    Math.min(limitSec * 1000, 2 ** 31 - 1),
  );
  const signals = signal ? [signal, controller.signal] : [controller.signal];
  return {
    signal: AbortSignal.any(signals),
    /** The budget's failure if it ran out, else the error as thrown. */
    explain: (error: unknown) => (spent ? overBudget : error),
    stop: () => clearTimeout(timer),
  };
}

/** Relative cost of the first task's phases: step 1, then the poster (made meanwhile, seldom waited for). */
const WEIGHTS = { first: 0.97, poster: 0.03 };

export async function runPipeline(options: PipelineOptions): Promise<PublishedMetadata> {
  const progress = progressTracker(options.onProgress);
  const limits = options.limits ?? DEFAULT_LIMITS;
  const source = options.probed ?? (await probeSource(options.source, options.signal, limits));
  const budget = budgetTimer(source.durationSec, options.budget ?? DEFAULT_BUDGET, options.signal);
  try {
    return await transcode(options, source, progress, budget.signal);
  } catch (error) {
    throw budget.explain(error);
  } finally {
    budget.stop();
  }
}

async function transcode(
  options: PipelineOptions,
  source: SourceInfo,
  progress: ReturnType<typeof progressTracker>,
  signal: AbortSignal,
): Promise<PublishedMetadata> {
  const { workDir } = options;
  const plan = planTranscode(source);
  const job: Job = { source: options.source, workDir, durationSec: source.durationSec };
  await mkdir(workDir, { recursive: true });
  const dirs = (names: string[]) => Promise.all(names.map((n) => mkdir(join(workDir, n), { recursive: true })));
  await dirs(plan.audio.map((a) => a.name));
  const publish = async (step: PublishStep, metadata: PublishedMetadata) => options.onPublish?.(step, metadata);
  const metadata = (
    renditions: RenditionMeta[],
    audio: AudioMeta[],
    durationSec: number,
    warnings: Metadata["warnings"],
    files: string[],
    ladder: Ladder | null = null,
  ): PublishedMetadata => ({
    durationSec,
    width: source.width,
    height: source.height,
    frameRate: Math.round(plan.frameRate * 1000) / 1000,
    videoCodec: source.videoCodec,
    audioCodec: source.audioCodec,
    renditions,
    audioTracks: audio,
    warnings,
    poster: "poster.jpg",
    master: "master.m3u8",
    files,
    ladder,
  });
  const describeAudio = (media: MeasuredMedia[]) =>
    media.map((m, i) => {
      const a = plan.audio[i];
      return audioRendition(m, { language: a.language, label: a.label, default: a.isDefault, channels: a.channels });
    });
  /** Writes the master for step 1's rendition as measured so far, and says what it describes. */
  const firstMaster = async (video: FirstVideo, videoMedia: MeasuredMedia, audioMedia: MeasuredMedia[]) => {
    const audio = describeAudio(audioMedia);
    const rendition = videoRendition(videoMedia, video.describe, audio);
    await writeFile(join(workDir, "master.m3u8"), masterPlaylist([rendition], audio));
    return { rendition, audio };
  };

  // Step 1: playable in seconds, with every audio track, published as it is written.
  let poster: Promise<unknown> | null = null;
  /** The poster, made while step 1 goes on; its failure is seen where it is awaited, after step 1. */
  const startPoster = (atSec: number) => {
    const made = makePoster(job, plan, atSec, { signal });
    made.catch(() => {});
    return made;
  };
  // The quick rung is the top one (a small source's): its encode writes the frames, for the whole video.
  const framesOut = plan.quick === plan.rungs[0] ? framesOutput(plan, 0, null) : undefined;
  const first = await playableFirst(source, plan, job, {
    frames: framesOut,
    signal,
    onProgress: progress.phase(WEIGHTS.first),
    log: options.log,
    upload: options.upload ?? (async () => {}),
    discard: options.discardUploaded ?? false,
    onFirstSegments: async (video, published, sizes) => {
      const measure = (name: string) => measureMedia(workDir, name, { text: published.get(name), sizes });
      const audioMedia = await Promise.all(plan.audio.map((a) => measure(a.name)));
      const { rendition, audio } = await firstMaster(video, await measure(video.name), audioMedia);
      // The declared duration until the whole copy is in; the poster meanwhile, from what is declared.
      await publish("growing", metadata([rendition], audio, source.durationSec, [], ["master.m3u8"]));
      poster ??= startPoster(source.durationSec * 0.1);
    },
  });
  const audioMedia = await Promise.all(plan.audio.map((a) => measureMedia(workDir, a.name, { sizes: first.sizes })));
  const plays = Math.max(first.media.durationSec, ...audioMedia.map((a) => a.durationSec));
  const truncated = truncationWarning(source.durationSec, plays);
  const { rendition: firstRendition, audio } = await firstMaster(first.video, first.media, audioMedia);
  // Step 1 ended before any segment of every rendition was up (a clip shorter than a segment).
  poster ??= startPoster(plays * 0.1);
  progress.phase(WEIGHTS.poster);
  await poster;
  const warnings = truncated ? [truncated] : [];
  const frames = framesOut && first.video.name !== "source" ? await storyboard(workDir, plan, framesOut, plays) : null;
  const withFrames = (m: PublishedMetadata): PublishedMetadata =>
    frames ? { ...m, frames: frames.frames, files: [...frames.files, ...m.files] } : m;
  progress.emit(1);
  // The ladder is encoded in spans, each its own task (span.ts), once the
  // video's Durable Object has cut it: this task ends with what remains.
  const rest = first.video.name === "source" ? plan.rungs : plan.rungs.filter((r) => r !== plan.quick);
  if (rest.length > 0) {
    const ladder: Ladder = {
      rungs: rest.map((r) => r.name),
      frameRate: frameRateFraction(plan.frameRateExpr),
      segmentFrames: segmentFrames(plan),
      durationSec: first.media.durationSec,
    };
    const playable = withFrames(
      metadata([firstRendition], audio, plays, warnings, ["poster.jpg", "master.m3u8"], ladder),
    );
    await publish("playable", playable);
    return playable;
  }
  // The first rendition was the only rung: the ladder is complete.
  const final = withFrames(metadata([firstRendition], audio, plays, warnings, ["poster.jpg", "master.m3u8"]));
  await publish("final", final);
  return final;
}

/**
 * The frames step 1's encode wrote (the top rung's, of the whole video), and
 * their storyboard, written here: no span will report any.
 */
async function storyboard(
  workDir: string,
  plan: Plan,
  output: FramesOutput,
  durationSec: number,
): Promise<{ frames: Frames; files: string[] }> {
  const { frames: run, files } = await collectFrames(workDir, plan, output);
  const { first: _, ...frames } = run;
  await writeFile(join(workDir, STORYBOARD_FILE), storyboardVtt(frames, [run], durationSec));
  return { frames, files: [...files, STORYBOARD_FILE] };
}

/** Step 1's video rendition: its name, and how the master describes it. */
type FirstVideo = { name: string; describe: ReturnType<typeof rungVideo> };

/**
 * Step 1 once written: its video rendition, what ffmpeg wrote for it,
 * measured once, and the sizes of every segment of step 1 (discarded ones too).
 */
type FirstRendition = { video: FirstVideo; media: MeasuredMedia; sizes: Map<string, number> };

type FirstOptions = RunOptions & {
  signal: AbortSignal;
  /** The top rung's frames, when step 1 encodes that rung. */
  frames?: FramesOutput;
  log?: PipelineLog;
  upload: Upload;
  discard: boolean;
  /** Every rendition of step 1 has its first segment up: `published` holds each playlist as uploaded. */
  onFirstSegments: (video: FirstVideo, published: Snapshots, sizes: Map<string, number>) => Promise<void>;
};

/** How a rung's video is described in the master. */
function rungVideo(r: Rung, plan: Plan) {
  return { width: r.width, height: r.height, frameRate: plan.frameRate, fallbackAvc1: avc1OfRung(r.profile) };
}

/**
 * Runs step 1's ffmpeg `work`, writing `video` and the audio tracks, while
 * publishing what it has written (growing-publisher.ts); the sizes of the segments published.
 */
async function publishing(
  video: FirstVideo,
  plan: Plan,
  job: Job,
  options: FirstOptions & { accept?: (name: string, playlist: MediaPlaylist) => void },
  work: (signal: AbortSignal) => Promise<void>,
): Promise<Map<string, number>> {
  const publisher = new GrowingPublisher({
    workDir: job.workDir,
    names: [video.name, ...plan.audio.map((a) => a.name)],
    upload: options.upload,
    discard: options.discard,
    accept: options.accept,
    onFirstSegments: (published, sizes) => options.onFirstSegments(video, published, sizes),
  });
  await publisher.during(work, options.signal);
  return publisher.sizes;
}

/**
 * Step 1: the source copied into HLS as is when it can be, else the quick
 * rung encoded, with the audio tracks either way.
 */
async function playableFirst(source: SourceInfo, plan: Plan, job: Job, options: FirstOptions): Promise<FirstRendition> {
  if (plan.remux) {
    const copied = await copyFirst(source, plan, job, options);
    if (copied) return copied;
    // Start clean: the copy may have left segments the encode would not overwrite.
    for (const dir of ["source", ...plan.audio.map((a) => a.name)]) {
      await rm(join(job.workDir, dir), { recursive: true, force: true });
      if (dir !== "source") await mkdir(join(job.workDir, dir));
    }
  }
  const video: FirstVideo = { name: plan.quick.name, describe: rungVideo(plan.quick, plan) };
  await mkdir(join(job.workDir, video.name), { recursive: true });
  if (options.frames) await framesDir(job.workDir);
  const sizes = await publishing(video, plan, job, options, (signal) =>
    encodeRungs(job, [plan.quick], plan, { ...options, signal, audio: true }),
  );
  return { video, media: await measureMedia(job.workDir, video.name, { sizes }), sizes };
}

/**
 * The copy's segments can only start at the source's keyframes: a segment
 * longer than this means keyframes too sparse to copy (screen recordings,
 * some editors' exports), and the first rendition is encoded instead.
 */
const MAX_COPIED_SEGMENT_SEC = 10;

/** The copy stopped early: what it writes cannot be published. */
class UnfitCopy extends Error {
  constructor(why: string) {
    super(why);
    this.name = "UnfitCopy";
  }
}

const tooLong = (seconds: number) =>
  new UnfitCopy(`a copied segment would last ${Math.round(seconds)} s, over ${MAX_COPIED_SEGMENT_SEC} s`);

/**
 * The source copied into HLS, or null when the copy cannot stand: its
 * keyframes are too sparse (a segment over MAX_COPIED_SEGMENT_SEC, or none
 * after that much of the source), ffmpeg refused it (a stream the remux rules
 * let through but the muxer cannot take), or it plays less than the source
 * (H.264 with B-frames in AVI has no presentation times, and copies as a
 * zero-length segment). Encoding then decides; a failure of the machine is
 * thrown instead, since encoding would hit it too. A copy that fails after
 * its first segments were announced is replaced by the encode's own
 * announcement: players that started on it reload the master.
 */
async function copyFirst(
  source: SourceInfo,
  plan: Plan,
  job: Job,
  options: FirstOptions,
): Promise<FirstRendition | null> {
  const fallbackAvc1 = avc1FromProfile(source.profile, source.level);
  const video: FirstVideo = {
    name: "source",
    describe: { width: source.width, height: source.height, frameRate: source.frameRate, fallbackAvc1 },
  };
  const sparse = new AbortController();
  const accept = (name: string, playlist: MediaPlaylist) => {
    const longest = Math.max(...playlist.segments.map((s) => s.duration));
    if (name !== video.name) return;
    // EXTINF carries the muxer's rounding: a 10 s GOP is not sparse.
    if (longest > MAX_COPIED_SEGMENT_SEC + 0.1) throw tooLong(longest);
    // A stream without presentation times (H.264 with B-frames in AVI) copies into empty segments.
    if (playlist.segments.some((s) => !(s.duration > 0))) throw new UnfitCopy("a copied segment plays for 0 s");
  };
  const playlist = join(job.workDir, video.name, "index.m3u8");
  const remux = (signal: AbortSignal) =>
    remuxToHls(job, plan, {
      ...options,
      signal: AbortSignal.any([signal, sparse.signal]),
      onProgress: (fraction) => {
        options.onProgress?.(fraction);
        // ffmpeg writes the playlist once it has cut the first segment: none yet, that far
        // into the source, means no keyframe to cut at.
        const seconds = fraction * job.durationSec;
        if (seconds > MAX_COPIED_SEGMENT_SEC + 1 && !existsSync(playlist)) sparse.abort(tooLong(seconds));
      },
    });
  let sizes: Map<string, number>;
  try {
    await mkdir(join(job.workDir, "source"), { recursive: true });
    sizes = await publishing(video, plan, job, { ...options, accept }, remux);
  } catch (error) {
    if (options.signal.aborted) throw error;
    const refused = sparse.signal.aborted ? sparse.signal.reason : error;
    if (refused instanceof UnfitCopy) {
      options.log?.("pipeline.copy_unfit", { reason: refused.message });
      return null;
    }
    if (!(error instanceof TranscodeError) || error.retryable) throw error;
    options.log?.("pipeline.copy_failed", { reason: error.message, detail: error.detail });
    return null;
  }
  const media = await measureMedia(job.workDir, "source", { sizes }).catch(() => null);
  if (!media || !playsInFull(source.durationSec, media.durationSec)) {
    options.log?.("pipeline.copy_short", { declaredSec: source.durationSec, playsSec: media?.durationSec ?? 0 });
    return null;
  }
  return { video, media, sizes };
}
