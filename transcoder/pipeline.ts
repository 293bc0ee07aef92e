/**
 * One source in, adaptive HLS out, in two publish steps: first something
 * playable as soon as possible (the source copied as is, or one small
 * rendition), then the full ladder. Local only: the caller moves the files.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Metadata } from "../worker/contracts/job.ts";
import { avc1FromProfile, mp4aFromProfile } from "./codec-strings.ts";
import { DEFAULT_BUDGET, DEFAULT_LIMITS, type SourceLimits, type TimeBudget } from "./config.ts";
import { encodeRungs, makePoster, remuxToHls, type Job } from "./encode.ts";
import { abortError, unusableSource } from "./errors.ts";
import { masterPlaylist, measureRendition, type RenditionMeta } from "./hls-playlists.ts";
import { planTranscode, type Plan, type Rung } from "./plan.ts";
import { probeSource, type SourceInfo } from "./probe.ts";

export type PublishStep = "playable" | "final";

/**
 * What one publish step reports: the contract's metadata, each rendition with
 * its playlist, and the files the step adds, which the job uploads before calling back.
 */
export type PublishedMetadata = Omit<Metadata, "renditions"> & {
  renditions: RenditionMeta[];
  poster: "poster.jpg";
  master: "master.m3u8";
  /** Relative paths new since the previous step, in upload order; master.m3u8 last. */
  files: string[];
};

export type PipelineOptions = {
  sourcePath: string;
  workDir: string;
  /**
   * Overall fraction done, 0..1; called only when work moved on (a phase
   * started or ended, ffmpeg advanced), never on a clock: silence means a stuck run.
   */
  onProgress?: (fraction: number) => void;
  /** Runs while the ladder encodes; the final step waits for it. */
  onPublish?: (step: PublishStep, metadata: PublishedMetadata) => void | Promise<void>;
  signal?: AbortSignal;
  /** What a source may declare (config.ts); the defaults when absent. */
  limits?: SourceLimits;
  /** How long the pipeline may run, from the probe on, for the source's duration. */
  budget?: TimeBudget;
};

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
function budgetTimer(durationSec: number, budget: TimeBudget, signal: AbortSignal | undefined) {
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

/** Relative cost of each phase: decoding the source plus encoding each rung's pixels. */
function phaseWeights(source: SourceInfo, plan: Plan, rest: Rung[]) {
  const pixels = (r: Rung) => r.width * r.height;
  const decode = source.width * source.height * 0.3;
  const ladder = rest.length ? decode + rest.reduce((n, r) => n + pixels(r), 0) : 0;
  const first = plan.remux ? (decode + ladder) * 0.03 : decode + pixels(plan.quick);
  const poster = (first + ladder) * 0.01;
  const total = first + poster + ladder;
  return { first: first / total, poster: poster / total, ladder: ladder / total };
}

export async function runPipeline(options: PipelineOptions): Promise<PublishedMetadata> {
  const progress = progressTracker(options.onProgress);
  const source = await probeSource(options.sourcePath, options.signal, options.limits ?? DEFAULT_LIMITS);
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
  const { sourcePath, workDir } = options;
  const plan = planTranscode(source);
  const job: Job = { sourcePath, workDir, durationSec: source.durationSec };
  const rest = plan.remux ? plan.rungs : plan.rungs.filter((r) => r !== plan.quick);
  const weights = phaseWeights(source, plan, rest);
  await mkdir(workDir, { recursive: true });

  const measure = (r: Rung) =>
    measureRendition({
      workDir,
      name: r.name,
      width: r.width,
      height: r.height,
      frameRate: plan.frameRate,
      audioCodecs: plan.audio ? "mp4a.40.2" : null,
      fallbackAvc1: avc1FromProfile(r.profile === "high" ? "High" : "Main", 40),
    });

  // Step 1: playable in seconds.
  let first: Awaited<ReturnType<typeof measure>>;
  if (plan.remux) {
    await mkdir(join(workDir, "source"), { recursive: true });
    await remuxToHls(job, "source", source.audioCodec !== null, {
      signal,
      onProgress: progress.phase(weights.first),
    });
    first = await measureRendition({
      workDir,
      name: "source",
      width: source.width,
      height: source.height,
      frameRate: source.frameRate,
      audioCodecs: source.audioCodec ? mp4aFromProfile(source.audioProfile) : null,
      fallbackAvc1: avc1FromProfile(source.profile, source.level),
    });
  } else {
    await mkdir(join(workDir, plan.quick.name), { recursive: true });
    await encodeRungs(job, [plan.quick], plan, { signal, onProgress: progress.phase(weights.first) });
    first = await measure(plan.quick);
  }
  const top = plan.rungs[0];
  await makePoster(job, top.width, top.height, { signal, onProgress: progress.phase(weights.poster) });
  await writeFile(join(workDir, "master.m3u8"), masterPlaylist([first.meta]));
  const metadata = (renditions: RenditionMeta[], files: string[]): PublishedMetadata => ({
    durationSec: source.durationSec,
    width: source.width,
    height: source.height,
    frameRate: Math.round(source.frameRate * 1000) / 1000,
    videoCodec: source.videoCodec,
    audioCodec: source.audioCodec,
    renditions,
    poster: "poster.jpg",
    master: "master.m3u8",
    files,
  });
  const playable = metadata([first.meta], [...first.files, "poster.jpg", "master.m3u8"]);

  // Step 2: the ladder encodes while step 1 is published. If publishing
  // fails (superseded, storage down) there is no point finishing the ladder.
  const ladderAbort = new AbortController();
  const stopLadder = () => ladderAbort.abort(abortError(signal));
  signal.addEventListener("abort", stopLadder, { once: true });
  const published = Promise.resolve().then(() => options.onPublish?.("playable", playable));
  published.catch((error: unknown) => ladderAbort.abort(error));
  let ladderError: unknown = null;
  try {
    if (rest.length > 0) {
      await Promise.all(rest.map((r) => mkdir(join(workDir, r.name), { recursive: true })));
      const onProgress = progress.phase(weights.ladder);
      await encodeRungs(job, rest, plan, { signal: ladderAbort.signal, onProgress });
    }
  } catch (error) {
    ladderError = error;
  } finally {
    signal.removeEventListener("abort", stopLadder);
  }
  // The publish failure is the cause; the ladder's abort is only its echo.
  await published;
  if (ladderError) throw ladderError;
  if (signal.aborted) throw abortError(signal);

  const ladder = await Promise.all(plan.rungs.map((r) => (!plan.remux && r === plan.quick ? first : measure(r))));
  await writeFile(join(workDir, "master.m3u8"), masterPlaylist(ladder.map((r) => r.meta)));
  const newFiles = ladder.filter((r) => r !== first).flatMap((r) => r.files);
  const final = metadata(
    ladder.map((r) => r.meta),
    [...newFiles, "master.m3u8"],
  );
  progress.emit(1);
  await options.onPublish?.("final", final);
  return final;
}
