/**
 * The ladder in spans, run in this process the way the worker runs it across
 * transcoders: cut by the Durable Object's own planner, each span encoded in
 * its own work dir (as on its own machine), then stitched by the Durable
 * Object's own stitcher into the first task's work dir. For tests and the
 * benchmark's in-process runs.
 */
import { copyFile, mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SpanRung } from "../../worker/contracts/job.ts";
import { FRAMES_DIR, STORYBOARD_FILE, stitchFrames } from "../../worker/contracts/storyboard.ts";
import { audioMetas, LADDER_INIT, ladderMaster, planSpans, stitchRung } from "../../worker/video-object/ladder.ts";
import type { SourceInput } from "../input-formats.ts";
import type { PublishedMetadata } from "../pipeline.ts";
import { probeSource, type SourceInfo } from "../probe.ts";
import { runSpan } from "../span.ts";

export type LadderRun = {
  source: SourceInput;
  /** The first task's work dir: the stitched ladder goes beside its first rendition. */
  workDir: string;
  /** What the first task published last: the `playable` step, naming the ladder. */
  playable: PublishedMetadata;
  spanSeconds: number;
  probed?: SourceInfo;
  signal?: AbortSignal;
  /** Spans at once. */
  concurrency?: number;
};

/** Encodes the ladder span by span and stitches it; the final step's metadata, as the worker would publish it. */
export async function encodeLadderInSpans(run: LadderRun): Promise<PublishedMetadata & { spans: number }> {
  const ladder = run.playable.ladder;
  if (!ladder) throw new Error("the first task left no ladder");
  const signal = run.signal ?? new AbortController().signal;
  const probed = run.probed ?? (await probeSource(run.source, signal));
  const spans = planSpans(ladder, run.spanSeconds);
  const results: SpanRung[][] = new Array(spans.length);
  // Beside the first task's work dir, not in it: each span has its own, as on its own transcoder.
  const spanDir = (i: number) => `${run.workDir}.span-${i}`;
  let next = 0;
  const worker = async () => {
    while (next < spans.length) {
      const i = next++;
      const { durationSec: _, ...planned } = spans[i];
      results[i] = await runSpan({
        source: run.source,
        probed,
        span: { ...planned, attempt: 1, rungs: ladder.rungs },
        workDir: spanDir(i),
        signal,
      });
    }
  };
  await Promise.all(Array.from({ length: run.concurrency ?? 1 }, worker));
  const audio = audioMetas(run.playable.audioTracks);
  const files: string[] = [];
  const stitched = [];
  for (const name of ladder.rungs) {
    const dir = join(run.workDir, name);
    await mkdir(dir, { recursive: true });
    await copyFile(join(spanDir(0), name, LADDER_INIT), join(dir, LADDER_INIT));
    const rungs = results.map((r) => r.find((x) => x.name === name)!);
    for (const [i, r] of rungs.entries())
      for (const s of r.segments) await rename(join(spanDir(i), name, s.uri), join(dir, s.uri));
    const { playlist, rendition } = stitchRung(name, rungs, audio, run.playable.frameRate);
    await writeFile(join(dir, "index.m3u8"), playlist);
    files.push(`${name}/${LADDER_INIT}`, ...rungs.flatMap((r) => r.segments.map((s) => `${name}/${s.uri}`)));
    files.push(`${name}/index.m3u8`);
    stitched.push(rendition);
  }
  // The top rung's frames, from whichever spans wrote them, and their storyboard as the Durable Object writes it.
  const frameRuns = results.flatMap((r) => r.flatMap((x) => (x.frames ? [x.frames] : [])));
  const stitchedFrames = stitchFrames(frameRuns, run.playable.durationSec);
  if (stitchedFrames) {
    await mkdir(join(run.workDir, FRAMES_DIR), { recursive: true });
    for (const i of results.keys()) {
      const dir = join(spanDir(i), FRAMES_DIR);
      for (const name of await readdir(dir).catch(() => [])) {
        await rename(join(dir, name), join(run.workDir, FRAMES_DIR, name));
        files.push(`${FRAMES_DIR}/${name}`);
      }
    }
    await writeFile(join(run.workDir, STORYBOARD_FILE), stitchedFrames.vtt);
    files.push(STORYBOARD_FILE);
  }
  const frames = stitchedFrames?.frames ?? run.playable.frames;
  const { master, renditions } = ladderMaster(run.playable.renditions[0], stitched, audio);
  await writeFile(join(run.workDir, "master.m3u8"), master);
  return {
    ...run.playable,
    renditions,
    ...(frames ? { frames } : {}),
    files: [...files, "master.m3u8"],
    ladder: null,
    spans: spans.length,
  };
}
