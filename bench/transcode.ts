/**
 * Time from upload completion to first playable and to the full ladder, on
 * the real stack, each beside the plain ffmpeg command that does the same
 * encoding work, run on the same source in the same run:
 * - first playable: what Reelay publishes first, done by hand — `ffmpeg -c copy
 *   -f hls` of an H.264/AAC source, or the single quick rendition (plan.quick
 *   from transcoder/plan.ts) encoded alone for anything else;
 * - full ladder: one ffmpeg command producing all five rungs.
 * The baselines skip what Reelay adds around ffmpeg (download from the
 * worker, poster, uploads, publishing), so the ratios show that overhead.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ffmpegPaths } from "../transcoder/ffmpeg-path.ts";
import { GOP_SECONDS, planTranscode, SEGMENT_SECONDS, type Plan, type Rung } from "../transcoder/plan.ts";
import { probeSource } from "../transcoder/probe.ts";
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

export async function makeSource(codec: "h264" | "hevc", seconds: number): Promise<string> {
  await mkdir(tmp, { recursive: true });
  const path = join(tmp, `source-${codec}-${seconds}s.mp4`);
  const video =
    codec === "h264"
      ? ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
      : ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "24", "-pix_fmt", "yuv420p", "-tag:v", "hvc1"];
  await run(
    ffmpegPaths().ffmpeg,
    [
      "-y",
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=1920x1080:rate=30:duration=${seconds}`,
      "-f",
      "lavfi",
      "-i",
      `sine=frequency=440:duration=${seconds}`,
      ...video,
      "-g",
      "60",
      "-c:a",
      "aac",
      "-b:a",
      "128k",
      "-shortest",
      "-movflags",
      "+faststart",
      path,
    ],
    { maxBuffer: 1 << 24 },
  );
  return path;
}

/** The preset Reelay's pipeline encodes with (LADDER_PRESET in transcoder/pipeline.ts). */
const PRESET = "veryfast";

const hls = (dir: string) => [
  "-f",
  "hls",
  "-hls_time",
  String(SEGMENT_SECONDS),
  "-hls_playlist_type",
  "vod",
  "-hls_segment_type",
  "fmp4",
  "-hls_segment_filename",
  join(dir, "seg_%05d.m4s"),
  join(dir, "index.m3u8"),
];

/** libx264/AAC settings of one rung, as transcoder/plan.ts decides them. */
function rungArgs(label: string, r: Rung, plan: Plan): string[] {
  const gop = String(plan.gopFrames);
  return [
    "-map",
    label,
    "-c:v",
    "libx264",
    "-preset",
    PRESET,
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
    `expr:gte(t,n_forced*${GOP_SECONDS})`,
    ...(plan.audio
      ? [
          "-map",
          "0:a:0",
          "-c:a",
          "aac",
          "-b:a",
          `${r.audioKbps}k`,
          "-ac",
          String(plan.audio.channels),
          "-ar",
          String(plan.audio.sampleRate),
        ]
      : []),
  ];
}

/** One ffmpeg command: decode once, split, encode `rungs` into HLS. */
function encodeArgs(source: string, out: string, rungs: Rung[], plan: Plan): string[] {
  const graph = [
    `[0:v:0]fps=${plan.frameRateExpr},split=${rungs.length}${rungs.map((_, i) => `[s${i}]`).join("")}`,
    ...rungs.map((r, i) => `[s${i}]scale=${r.width}:${r.height},setsar=1,format=yuv420p[v${i}]`),
  ].join(";");
  const args = ["-y", "-v", "error", "-i", source, "-filter_complex", graph];
  for (const [i, r] of rungs.entries()) args.push(...rungArgs(`[v${i}]`, r, plan), ...hls(join(out, r.name)));
  return args;
}

type Baseline = { what: string; args: string[]; dirs: string[] };

/** What Reelay does first, as one plain ffmpeg command: copy into HLS, or encode the quick rung alone. */
function firstBaseline(source: string, plan: Plan, hasAudio: boolean): Baseline {
  const out = join(tmp, "baseline-first");
  if (plan.remux) {
    return {
      what: "ffmpeg -c copy -f hls",
      args: [
        "-y",
        "-v",
        "error",
        "-i",
        source,
        "-map",
        "0:v:0",
        ...(hasAudio ? ["-map", "0:a:0"] : []),
        "-c",
        "copy",
        ...hls(join(out, "source")),
      ],
      dirs: [join(out, "source")],
    };
  }
  const q = plan.quick;
  return {
    what: `plain ffmpeg, one ${q.name} rung (${q.width}x${q.height} ${q.videoKbps}k libx264 ${PRESET})`,
    args: encodeArgs(source, out, [q], plan),
    dirs: [join(out, q.name)],
  };
}

function ladderBaseline(source: string, plan: Plan): Baseline {
  const out = join(tmp, "baseline-ladder");
  return {
    what: "plain ffmpeg ladder",
    args: encodeArgs(source, out, plan.rungs, plan),
    dirs: plan.rungs.map((r) => join(out, r.name)),
  };
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
  const first = firstBaseline(source, plan, info.audioCodec !== null);
  const ladder = ladderBaseline(source, plan);
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
