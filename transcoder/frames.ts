/**
 * The top rung's frames and storyboard sheets: what the run that encodes
 * that rung is asked to write (encode.ts `FramesOutput`), and, once it ran,
 * what it wrote, checked, its sheets named by the frame each starts with,
 * as the task reports it (the contract's `SpanFrames`). Sizes, names and the
 * storyboard's format are worker/contracts/storyboard.ts's.
 */
import { mkdir, readdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import type { SpanFrames } from "../worker/contracts/job.ts";
import {
  FRAMES_DIR,
  frameFile,
  frameHeight,
  frameWidths,
  spriteFiles,
  spriteLayout,
} from "../worker/contracts/storyboard.ts";
import type { FramesOutput } from "./encode.ts";
import { TranscodeError } from "./errors.ts";
import type { Plan } from "./plan.ts";

/**
 * The frames of a run starting `startSec` into the video (on a keyframe) and
 * lasting `frames` output frames (null: to the end), for `plan`'s top rung.
 */
export function framesOutput(plan: Plan, startSec: number, frames: number | null): FramesOutput {
  const top = plan.rungs[0]!;
  return {
    sizes: frameWidths(top.width).map((width) => ({ width, height: frameHeight(width, top.width, top.height) })),
    sprite: spriteLayout(top.width, top.height),
    first: Math.round((startSec * plan.frameRate) / plan.gopFrames),
    frames,
  };
}

/** Makes the directory the run writes the frames in: ffmpeg's image2 muxer does not. */
export const framesDir = (workDir: string) => mkdir(join(workDir, FRAMES_DIR), { recursive: true });

/** Seconds between frames: one a GOP, where every rung has a keyframe. */
export const frameInterval = (plan: Plan) => plan.gopFrames / plan.frameRate;

/**
 * What the run wrote of `output` in `workDir`: its frames, checked to be the
 * same in number at every width (and no more than its frames hold, when
 * bounded), its sheets renamed from ffmpeg's numbering to the frame each
 * starts with. The report, and the job files to upload.
 */
export async function collectFrames(
  workDir: string,
  plan: Plan,
  output: FramesOutput,
): Promise<{ frames: SpanFrames; files: string[] }> {
  const dir = join(workDir, FRAMES_DIR);
  const names = await readdir(dir);
  const widths = output.sizes.map((s) => s.width);
  const counts = widths.map((w) => names.filter((n) => n.startsWith(`${w}_`)).length);
  const count = counts[0] ?? 0;
  // At most one a GOP of the span's frames: fewer only where the source ends before them.
  const most = output.frames === null ? Number.POSITIVE_INFINITY : Math.ceil(output.frames / plan.gopFrames);
  if (count === 0 || counts.some((c) => c !== count) || count > most) {
    throw new TranscodeError(
      `The frames written (${counts.join(", ")} at ${widths.join(", ")} wide) do not match.`,
      false,
    );
  }
  const run = { first: output.first, count };
  const sheets = spriteFiles([run], output.sprite);
  const written = names.filter((n) => n.startsWith("sheet_")).sort();
  if (written.length !== sheets.length) {
    throw new TranscodeError(`${written.length} storyboard sheets were written for ${count} frames.`, false);
  }
  for (const [k, name] of written.entries()) await rename(join(dir, name), join(workDir, sheets[k]!));
  const files = [
    ...widths.flatMap((w) => Array.from({ length: count }, (_, i) => frameFile(w, output.first + i))),
    ...sheets,
  ];
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(workDir, f))).size));
  return {
    frames: {
      first: output.first,
      count,
      intervalSec: frameInterval(plan),
      widths,
      sprite: output.sprite,
      bytes: sizes.reduce((a, b) => a + b, 0),
    },
    files,
  };
}
