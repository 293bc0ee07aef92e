/**
 * Time from upload completion to first playable and to the full ladder, on
 * the real stack, as ratios to the video's duration and to one plain ffmpeg
 * command producing the same five-rung HLS ladder in the same run.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ffmpegPaths } from "../transcoder/ffmpeg-path.ts";
import { upload } from "../web/src/upload-client.ts";
import { root, startStack } from "../test/stack.ts";
import { median } from "./lib.ts";

const run = promisify(execFile);
const tmp = join(root, "bench/tmp");

export type TranscodeBench = { codec: string; durationSec: number; runs: number; playableSec: number[]; fullSec: number[]; baselineSec: number[] };

export async function makeSource(codec: "h264" | "hevc", seconds: number): Promise<string> {
  await mkdir(tmp, { recursive: true });
  const path = join(tmp, `source-${codec}-${seconds}s.mp4`);
  const video = codec === "h264" ? ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"] : ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "24", "-pix_fmt", "yuv420p", "-tag:v", "hvc1"];
  await run(ffmpegPaths().ffmpeg, [
    "-y", "-v", "error", "-f", "lavfi", "-i", `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
    "-f", "lavfi", "-i", `sine=frequency=440:duration=${seconds}`, ...video, "-g", "60", "-c:a", "aac", "-b:a", "128k", "-shortest", "-movflags", "+faststart", path,
  ], { maxBuffer: 1 << 24 });
  return path;
}

const LADDER = [
  { h: 1080, v: "5000k" }, { h: 720, v: "2800k" }, { h: 480, v: "1400k" }, { h: 360, v: "800k" }, { h: 240, v: "400k" },
];

/** The baseline: one ffmpeg command, decode once, split, five H.264/AAC HLS renditions with aligned 2 s GOPs. */
async function plainLadder(source: string): Promise<number> {
  const out = join(tmp, "baseline");
  await rm(out, { recursive: true, force: true });
  const split = `[0:v]split=${LADDER.length}${LADDER.map((_, i) => `[v${i}]`).join("")};` +
    LADDER.map((r, i) => `[v${i}]scale=-2:${r.h}[o${i}]`).join(";");
  const args = ["-y", "-v", "error", "-i", source, "-filter_complex", split];
  for (const [i, r] of LADDER.entries()) {
    await mkdir(join(out, `${r.h}p`), { recursive: true });
    args.push(
      "-map", `[o${i}]`, "-map", "0:a?", "-c:v", "libx264", "-preset", "veryfast", "-b:v", r.v, "-maxrate", r.v, "-bufsize", `${parseInt(r.v) * 2}k`,
      "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-c:a", "aac", "-b:a", r.h <= 360 ? "96k" : "128k",
      "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
      "-hls_segment_filename", join(out, `${r.h}p/seg_%05d.m4s`), join(out, `${r.h}p/index.m3u8`),
    );
  }
  const started = performance.now();
  await run(ffmpegPaths().ffmpeg, args, { maxBuffer: 1 << 24 });
  const seconds = (performance.now() - started) / 1000;
  await rm(out, { recursive: true, force: true });
  return seconds;
}

export async function benchTranscode(codec: "h264" | "hevc", durationSec = 60, runs = 3): Promise<TranscodeBench> {
  const source = await makeSource(codec, durationSec);
  const result: TranscodeBench = { codec, durationSec, runs, playableSec: [], fullSec: [], baselineSec: [] };
  const stack = await startStack();
  try {
    for (let i = 0; i < runs; i++) {
      result.baselineSec.push(await plainLadder(source));
      const up = await upload({ endpoint: stack.url, file: new Blob([await readFile(source)]), filename: "bench.mp4", contentType: "video/mp4" });
      const completed = performance.now();
      let playable: number | undefined;
      for (;;) {
        const v = (await (await fetch(`${stack.url}/api/videos/${up.videoId}`)).json()) as { status: string; progress?: number; error?: string };
        if (v.status === "failed") throw new Error(`processing failed: ${v.error}`);
        if (v.status === "ready" && playable === undefined) playable = (performance.now() - completed) / 1000;
        if (v.status === "ready" && v.progress === undefined) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      result.playableSec.push(playable!);
      result.fullSec.push((performance.now() - completed) / 1000);
    }
  } finally {
    await stack.stop();
  }
  return result;
}

export function transcodeRows(r: TranscodeBench): (string | number)[][] {
  const p = median(r.playableSec);
  const f = median(r.fullSec);
  const b = median(r.baselineSec);
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} s`;
  const label = `${r.durationSec} s 1080p ${r.codec === "h264" ? "H.264" : "HEVC"}`;
  return [
    [`${label}: completion → first playable`, `${p.toFixed(1)} s (${(p / r.durationSec).toFixed(3)}× duration)`, `plain ffmpeg ladder: ${b.toFixed(1)} s`, (p / b).toFixed(3), `${spread(r.playableSec)}, n=${r.runs}`],
    [`${label}: completion → full ladder`, `${f.toFixed(1)} s (${(f / r.durationSec).toFixed(2)}× duration)`, `plain ffmpeg ladder: ${b.toFixed(1)} s (${(b / r.durationSec).toFixed(2)}× duration)`, (f / b).toFixed(2), `${spread(r.fullSec)} / ${spread(r.baselineSec)}, n=${r.runs}`],
  ];
}
