/**
 * Time from upload completion to first playable and to the full ladder, on
 * the real stack, each beside the plain ffmpeg command that does the same
 * encoding work, run on the same source in the same run:
 * - first playable: what Reelay publishes first, done by hand — `ffmpeg -c copy
 *   -f hls` of an H.264/AAC source, or the single quick rendition (plan.quick
 *   from transcoder/plan.ts) encoded alone for anything else;
 * - full ladder: one ffmpeg command producing all five rungs.
 * Each baseline is the transcoder's own ffmpeg command line, built by
 * transcoder/encode.ts as the pipeline builds it, run by hand. The baselines
 * skip what Reelay adds around ffmpeg (download from the worker, poster,
 * uploads, publishing), so the ratios show that overhead.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { encodeRun, type FfmpegRun, ffmpegArgs, remuxRun } from "../transcoder/encode.ts";
import { ffmpegPaths } from "../transcoder/ffmpeg-path.ts";
import { LADDER_PRESET, type Plan, planTranscode } from "../transcoder/plan.ts";
import { probeSource, type SourceInfo } from "../transcoder/probe.ts";
import { makeClip } from "../transcoder/testing/media.ts";
import { upload } from "../web/src/upload-client.ts";
import { root, startStack } from "../test/stack.ts";
import { median } from "./lib.ts";

const run = promisify(execFile);
const tmp = join(root, "bench/tmp");

export type TranscodeBench = {
  codec: string;
  durationSec: number;
  runs: number;
  /** Reelay: upload completion → status "ready" (first publish) and → ladder complete. */
  playableSec: number[];
  fullSec: number[];
  /** What the first-playable baseline is, and its ffmpeg arguments (paths shortened). */
  firstBaseline: string;
  firstBaselineArgs: string[];
  firstBaselineSec: number[];
  ladderBaselineArgs: string[];
  baselineSec: number[];
};

/** A 1080p30 source with AAC audio and a 2 s GOP at a set quality (CRF), moov first as a web export has it. */
export async function makeSource(codec: "h264" | "hevc", seconds: number): Promise<string> {
  await mkdir(tmp, { recursive: true });
  const path = join(tmp, `source-${codec}-${seconds}s.mp4`);
  const quality = codec === "h264" ? { preset: "veryfast", crf: 20 } : { preset: "ultrafast", crf: 24 };
  return makeClip(path, { width: 1920, height: 1080, seconds, fps: 30, video: codec, ...quality, faststart: true });
}

type Baseline = { what: string; args: string[]; dirs: string[] };

/** A transcoder run as one plain ffmpeg command line, quiet, writing into `dirs`. */
function baseline(what: string, spec: FfmpegRun): Baseline {
  return { what, args: ["-v", "error", ...ffmpegArgs(spec)], dirs: spec.outputs.map((o) => dirname(o.path)) };
}

/** What Reelay does first, as one plain ffmpeg command: copy into HLS, or encode the quick rung alone. */
function firstBaseline(source: string, plan: Plan, info: SourceInfo): Baseline {
  const job = { source: { path: source }, workDir: join(tmp, "baseline-first"), durationSec: info.durationSec };
  if (plan.remux) return baseline("ffmpeg -c copy -f hls", remuxRun(job, plan));
  const q = plan.quick;
  const what = `plain ffmpeg, one ${q.name} rung (${q.width}x${q.height} ${q.videoKbps}k libx264 ${LADDER_PRESET})`;
  return baseline(what, encodeRun(job, [q], plan, true));
}

function ladderBaseline(source: string, plan: Plan, info: SourceInfo): Baseline {
  const job = { source: { path: source }, workDir: join(tmp, "baseline-ladder"), durationSec: info.durationSec };
  return baseline("plain ffmpeg ladder", encodeRun(job, plan.rungs, plan));
}

async function timeFfmpeg(b: Baseline): Promise<number> {
  for (const dir of b.dirs) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
  }
  const started = performance.now();
  await run(ffmpegPaths().ffmpeg, b.args, { maxBuffer: 1 << 24 });
  const seconds = (performance.now() - started) / 1000;
  for (const dir of b.dirs) await rm(dir, { recursive: true, force: true });
  return seconds;
}

const shortPaths = (args: string[]) => args.map((a) => a.split(tmp).join("bench/tmp"));

export async function benchTranscode(codec: "h264" | "hevc", durationSec = 60, runs = 3): Promise<TranscodeBench> {
  const source = await makeSource(codec, durationSec);
  const info = await probeSource(source);
  const plan = planTranscode(info);
  // The first-playable baseline must be what Reelay does first for this source.
  if (plan.remux !== (codec === "h264"))
    throw new Error(
      `expected ${codec} ${codec === "h264" ? "to be remuxed" : "to be encoded"}, plan says remux=${plan.remux}`,
    );
  const first = firstBaseline(source, plan, info);
  const ladder = ladderBaseline(source, plan, info);
  const result: TranscodeBench = {
    codec,
    durationSec,
    runs,
    playableSec: [],
    fullSec: [],
    firstBaseline: first.what,
    firstBaselineArgs: shortPaths(first.args),
    firstBaselineSec: [],
    ladderBaselineArgs: shortPaths(ladder.args),
    baselineSec: [],
  };
  const stack = await startStack();
  try {
    for (let i = 0; i < runs; i++) {
      result.firstBaselineSec.push(await timeFfmpeg(first));
      result.baselineSec.push(await timeFfmpeg(ladder));
      const up = await upload({
        endpoint: stack.url,
        file: new Blob([await readFile(source)]),
        filename: "bench.mp4",
        contentType: "video/mp4",
      });
      const completed = performance.now();
      let playable: number | undefined;
      for (;;) {
        const v = (await (await fetch(`${stack.url}/api/videos/${up.videoId}`)).json()) as {
          status: string;
          progress?: number;
          error?: string;
        };
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
  const fb = median(r.firstBaselineSec);
  const b = median(r.baselineSec);
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} s`;
  const label = `${r.durationSec} s 1080p ${r.codec === "h264" ? "H.264" : "HEVC"}`;
  return [
    [
      `${label}: completion → first playable`,
      `${p.toFixed(1)} s (${(p / r.durationSec).toFixed(3)}× duration)`,
      `${r.firstBaseline}: ${fb.toFixed(1)} s`,
      (p / fb).toFixed(2),
      `${spread(r.playableSec)} / ${spread(r.firstBaselineSec)}, n=${r.runs}`,
    ],
    [
      `${label}: completion → full ladder`,
      `${f.toFixed(1)} s (${(f / r.durationSec).toFixed(2)}× duration)`,
      `plain ffmpeg ladder: ${b.toFixed(1)} s (${(b / r.durationSec).toFixed(2)}× duration)`,
      (f / b).toFixed(2),
      `${spread(r.fullSec)} / ${spread(r.baselineSec)}, n=${r.runs}`,
    ],
  ];
}
