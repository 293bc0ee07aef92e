/**
 * One span of a video's ladder: every rung the first task left, encoded for
 * the span's frames only (encode.ts `spanRun`), reading only that part of the
 * source by range, its segments uploaded and reported for the video's Durable
 * Object to stitch (worker/video-object/ladder.ts). Spans run in parallel on
 * as many transcoders as there are, and each is retried on its own.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseMediaPlaylist } from "../worker/contracts/hls-playlists.ts";
import type { SpanRung, SpanTask } from "../worker/contracts/job.ts";
import { LADDER_INIT } from "../worker/video-object/ladder.ts";
import { avc1FromInit, avc1OfRung } from "./codec-strings.ts";
import { DEFAULT_BUDGET, type TimeBudget } from "./config.ts";
import { encodeSpan, type Job } from "./encode.ts";
import { TranscodeError } from "./errors.ts";
import { collectFrames, framesDir, framesOutput } from "./frames.ts";
import type { Upload } from "./growing-publisher.ts";
import type { SourceInput } from "./input-formats.ts";
import { budgetTimer } from "./pipeline.ts";
import { planTranscode, segmentFrames } from "./plan.ts";
import type { SourceInfo } from "./probe.ts";

export type SpanOptions = {
  source: SourceInput;
  /** The source as probed by this task: the plan is made again from it, as the first task made it. */
  probed: SourceInfo;
  span: SpanTask;
  workDir: string;
  signal: AbortSignal;
  /** Fraction of the span done, 0..1, only when ffmpeg moved on. */
  onProgress?: (fraction: number) => void;
  /** Uploads files of the work dir; none are uploaded without it. */
  upload?: Upload;
  budget?: TimeBudget;
};

/**
 * Encodes the span, uploads its segments (and span 0 each rung's init
 * segment; the span with the top rung, that rung's frames of its range), and
 * says what it wrote.
 */
export async function runSpan(options: SpanOptions): Promise<SpanRung[]> {
  const { span, probed, workDir } = options;
  const plan = planTranscode(probed);
  const rungs = span.rungs.map((name) => {
    const rung = plan.rungs.find((r) => r.name === name);
    if (!rung) throw new TranscodeError(`The ladder has no rung ${name} for this source.`, false);
    return rung;
  });
  const durationSec =
    span.frames === null ? Math.max(0, probed.durationSec - span.startSec) : span.frames / plan.frameRate;
  const job: Job = { source: options.source, workDir, durationSec };
  for (const r of rungs) await mkdir(join(workDir, r.name), { recursive: true });
  // Whichever run encodes the top rung writes its frames, from where they already decode.
  const top = rungs.includes(plan.rungs[0]!) ? framesOutput(plan, span.startSec, span.frames) : undefined;
  if (top) await framesDir(workDir);
  const budget = budgetTimer(durationSec, options.budget ?? DEFAULT_BUDGET, options.signal);
  try {
    await encodeSpan(job, rungs, plan, span, {
      signal: budget.signal,
      onProgress: options.onProgress,
      background: true,
      frames: top,
    });
  } catch (error) {
    throw budget.explain(error);
  } finally {
    budget.stop();
  }
  const perSegment = segmentFrames(plan);
  const written = await Promise.all(
    rungs.map(async (r): Promise<SpanRung & { files: string[] }> => {
      const playlist = parseMediaPlaylist(await readFile(join(workDir, r.name, "index.m3u8"), "utf8"));
      // The Durable Object numbered the spans' segments for whole segments of `perSegment` frames.
      const expected = span.frames === null ? null : Math.ceil(span.frames / perSegment);
      if (playlist.segments.length === 0 || (expected !== null && playlist.segments.length !== expected)) {
        throw new TranscodeError(
          `Span ${span.index} of ${r.name} has ${playlist.segments.length} segments, not ${expected ?? "some"}.`,
          false,
        );
      }
      const init = await readFile(join(workDir, r.name, playlist.init ?? LADDER_INIT));
      const segments = await Promise.all(
        playlist.segments.map(async (s) => ({
          uri: s.uri,
          duration: s.duration,
          bytes: (await stat(join(workDir, r.name, s.uri))).size,
        })),
      );
      const files = segments.map((s) => `${r.name}/${s.uri}`);
      return {
        name: r.name,
        width: r.width,
        height: r.height,
        codecs: avc1FromInit(init) ?? avc1OfRung(r.profile),
        init: { sha256: createHash("sha256").update(init).digest("hex"), bytes: init.length },
        segments,
        // Every span writes the same init segment (checked when stitched): the first uploads it.
        files: span.index === 0 ? [`${r.name}/${playlist.init ?? LADDER_INIT}`, ...files] : files,
      };
    }),
  );
  const frames = top ? await collectFrames(workDir, plan, top) : null;
  await options.upload?.([...written.flatMap((w) => w.files), ...(frames?.files ?? [])]);
  return written.map(({ files: _, ...rung }) =>
    frames && rung.name === plan.rungs[0]!.name ? { ...rung, frames: frames.frames } : rung,
  );
}
