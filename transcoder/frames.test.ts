// The top rung's frames and storyboard, written in the runs that encode that
// rung (no decode of their own): by the spans when the first task copied the
// source, by the first task when its rendition was the top rung. A frame
// numbered i must show the source at i × 2 s: each is compared (PSNR) with
// the source decoded at that time and at its neighbours', and must match best.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { frameFile, nearestFrame, spriteFile, STORYBOARD_FILE } from "../worker/contracts/storyboard.ts";
import { ffmpegPaths } from "./ffmpeg-path.ts";
import { type PublishedMetadata, runPipeline } from "./pipeline.ts";
import { encodeLadderInSpans } from "./testing/ladder.ts";
import { ffmpeg, makeClip, probeJson } from "./testing/media.ts";

const exec = promisify(execFile);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "reelay-frames-test-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The first task, then (when it left one) the ladder in 4 s spans: every publish, and the final metadata. */
async function process(name: string, source: string) {
  const workDir = join(root, `${name}-out`);
  const published: Array<{ step: string; metadata: PublishedMetadata }> = [];
  const playable = await runPipeline({
    source: { path: source },
    workDir,
    onPublish: (step, metadata) => void published.push({ step, metadata }),
  });
  const final = playable.ladder
    ? await encodeLadderInSpans({ source: { path: source }, workDir, playable, spanSeconds: 4 })
    : playable;
  return { workDir, published, final };
}

const size = async (path: string) => {
  const { streams } = await probeJson(path, ["-show_entries", "stream=width,height"]);
  return `${streams[0].width}x${streams[0].height}`;
};

/** PSNR (dB) of `image` against the source decoded at `atSec`, scaled to the same size. */
async function psnrAgainstSource(source: string, atSec: number, image: string, dims: string): Promise<number> {
  const reference = join(root, `ref-${atSec}-${dims}.png`);
  await ffmpeg([
    "-ss",
    atSec.toFixed(3),
    "-i",
    source,
    "-frames:v",
    "1",
    "-vf",
    `scale=${dims.replace("x", ":")}`,
    reference,
  ]);
  const { stderr } = await exec(ffmpegPaths().ffmpeg, [
    ...["-hide_banner", "-nostdin", "-i", image, "-i", reference],
    ...["-lavfi", "[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]psnr", "-f", "null", "-"],
  ]);
  const average = /average:([0-9.]+|inf)/.exec(stderr)?.[1];
  return average === "inf" ? Number.POSITIVE_INFINITY : Number(average);
}

describe("the top rung's frames", () => {
  it("are written by the spans, each its own range, joined into one storyboard; the frame for t is the nearest", async () => {
    // A copyable source: the first task copies it, and the spans encode every rung, the top one included.
    const source = await makeClip(join(root, "copied.mp4"), { width: 640, height: 360, seconds: 13, audio: false });
    const { workDir, published, final } = await process("copied", source);
    expect(published.every((p) => p.metadata.frames === undefined)).toBe(true);
    // Frames at 0, 2 … 12 s: 7, at the widths the 640-wide top rung fits.
    expect(final.frames).toMatchObject({ intervalSec: 2, count: 7, widths: [160, 320, 640] });
    expect(final.frames!.sprite).toEqual({ tileWidth: 160, tileHeight: 90, columns: 5, rows: 6 });
    expect(await size(join(workDir, frameFile(640, 6)))).toBe("640x360");
    expect(await size(join(workDir, frameFile(160, 0)))).toBe("160x90");
    // Three 4 s spans (the last to the end): each span's frames start a sheet of their own.
    for (const first of [0, 2, 4]) expect(await size(join(workDir, spriteFile(first)))).toBe("800x540");
    const vtt = await readFile(join(workDir, STORYBOARD_FILE), "utf8");
    expect(vtt.trim().split("\n\n").slice(1)).toHaveLength(7);
    expect(vtt).toContain("00:00:03.000 --> 00:00:05.000\nframes/sprite_00002.jpg#xywh=0,0,160,90");

    // They cost little beside the ladder they come with.
    const ladderBytes = final.renditions.reduce((n, r) => n + r.bytes, 0);
    expect(final.frames!.bytes).toBeGreaterThan(0);
    expect(final.frames!.bytes / ladderBytes).toBeLessThan(0.2);

    for (const t of [5.2, 8.9]) {
      const index = nearestFrame(final.frames!, t);
      const frame = join(workDir, frameFile(640, index));
      const times = [index - 1, index, index + 1].map((i) => i * 2);
      const scores = await Promise.all(times.map((at) => psnrAgainstSource(source, at, frame, "640x360")));
      // The same picture (JPEG aside) scores above 40 dB; one 2 s away, about 19.
      expect({ t, best: times[scores.indexOf(Math.max(...scores))] }).toEqual({ t, best: index * 2 });
      expect(Math.max(...scores)).toBeGreaterThan(35);
    }
  });

  it("are written by the first task, with the storyboard, when its rendition is the top rung", async () => {
    // 4:4:4 cannot be copied: the first task encodes the quick rung, which for a 360p source is the top one.
    const source = await makeClip(join(root, "encoded.mp4"), {
      width: 640,
      height: 360,
      seconds: 7,
      video: "h264-444",
    });
    const { workDir, published, final } = await process("encoded", source);
    const playable = published.find((p) => p.step === "playable")!.metadata;
    expect(playable.frames).toMatchObject({ intervalSec: 2, count: 4, widths: [160, 320, 640] });
    expect(playable.files).toEqual(expect.arrayContaining([frameFile(320, 3), spriteFile(0), STORYBOARD_FILE]));
    // The spans encode only the rungs below it, and the video's frames stay the first task's.
    expect(final.frames).toEqual(playable.frames);
    const vtt = await readFile(join(workDir, STORYBOARD_FILE), "utf8");
    expect(vtt.trim().split("\n\n").slice(1).at(-1)).toMatch(
      /^00:00:05\.000 --> 00:00:07\.\d{3}\nframes\/sprite_00000\.jpg#xywh=480,0,160,90$/,
    );
    const frame = join(workDir, frameFile(640, 2));
    const scores = await Promise.all([2, 4, 6].map((at) => psnrAgainstSource(source, at, frame, "640x360")));
    expect(scores.indexOf(Math.max(...scores))).toBe(1);
  });
});
