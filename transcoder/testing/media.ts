/**
 * Test and benchmark media, generated on the fly with ffmpeg's testsrc2 and
 * sine sources (no media is committed), and the ffprobe checks the tests share.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { ffmpegPaths } from "../ffmpeg-path.ts";

const exec = promisify(execFile);

export type ClipOptions = {
  width: number;
  height: number;
  seconds: number;
  fps?: number;
  /** h264 = 8-bit 4:2:0 with a 2 s GOP, like a phone recording. */
  video?: "h264" | "h264-444" | "hevc";
  audio?: boolean;
  /** Display-matrix rotation in degrees (phones filming upright). */
  rotate?: number;
  /** The encoder's speed/quality trade-off; ultrafast unless a test wants a smaller, camera-like file. */
  preset?: string;
  crf?: number;
  /** The index (moov) first, as web exports have it, so a browser plays the file while it downloads. */
  faststart?: boolean;
  /** Seconds between keyframes; 2 unless a test wants them sparse (screen recorders, some editors). */
  gopSeconds?: number;
};

export async function makeClip(path: string, o: ClipOptions): Promise<string> {
  const fps = o.fps ?? 30;
  const args = ["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=${o.width}x${o.height}:rate=${fps}`];
  if (o.audio !== false) args.push("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000");
  args.push("-t", String(o.seconds));
  const video = o.video ?? "h264";
  const quality = ["-preset", o.preset ?? "ultrafast", ...(o.crf === undefined ? [] : ["-crf", String(o.crf)])];
  if (video === "hevc")
    args.push(
      "-c:v",
      "libx265",
      ...quality,
      "-x265-params",
      "log-level=error",
      "-pix_fmt",
      "yuv420p",
      "-tag:v",
      "hvc1",
    );
  else args.push("-c:v", "libx264", ...quality, "-pix_fmt", video === "h264-444" ? "yuv444p" : "yuv420p");
  args.push("-g", String(Math.round((o.gopSeconds ?? 2) * fps)));
  if (o.gopSeconds)
    args.push("-sc_threshold", "0", ...(video === "hevc" ? [] : ["-keyint_min", String(o.gopSeconds * fps)]));
  if (o.audio !== false) args.push("-c:a", "aac", "-ac", "2", "-b:a", "96k");
  const container = o.faststart ? ["-movflags", "+faststart"] : [];
  if (!o.rotate) {
    await exec(ffmpegPaths().ffmpeg, [...args, ...container, path]);
    return path;
  }
  // ffmpeg 5.1 writes the rotate tag as a display matrix only when stream-copying.
  const unrotated = `${path}.unrotated.mp4`;
  await exec(ffmpegPaths().ffmpeg, [...args, unrotated]);
  await exec(ffmpegPaths().ffmpeg, [
    "-v",
    "error",
    "-y",
    "-i",
    unrotated,
    "-c",
    "copy",
    "-metadata:s:v:0",
    `rotate=${o.rotate}`,
    ...container,
    path,
  ]);
  return path;
}

/** Runs ffmpeg quietly, overwriting outputs; rejects with its stderr if it fails. */
export async function ffmpeg(args: string[]): Promise<void> {
  await exec(ffmpegPaths().ffmpeg, ["-v", "error", "-y", "-nostdin", ...args]);
}

// biome-ignore lint/suspicious/noExplicitAny: ffprobe JSON whose shape each test asserts itself
export async function probeJson(path: string, entries: string[]): Promise<any> {
  const { stdout } = await exec(ffmpegPaths().ffprobe, ["-v", "error", "-of", "json", ...entries, path], {
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout);
}

/** Presentation times of the video keyframes, read through the HLS playlist. */
export async function keyframeTimes(playlist: string): Promise<number[]> {
  const { stdout } = await exec(
    ffmpegPaths().ffprobe,
    [
      "-v",
      "error",
      "-select_streams",
      "v",
      "-skip_frame",
      "nokey",
      "-show_entries",
      "frame=pts_time",
      "-of",
      "csv=p=0",
      playlist,
    ],
    { maxBuffer: 64 << 20 },
  );
  return stdout
    .split("\n")
    .map((l) => Number.parseFloat(l))
    .filter(Number.isFinite);
}

/** Whether ffmpeg decodes the whole file without an error. */
export async function decodesCleanly(path: string): Promise<boolean> {
  try {
    const { stderr } = await exec(ffmpegPaths().ffmpeg, ["-v", "error", "-i", path, "-f", "null", "-"]);
    return stderr.trim() === "";
  } catch {
    return false;
  }
}

export type MasterEntry = { attributes: Record<string, string>; uri: string };

export async function readMaster(path: string): Promise<{ lines: string[]; entries: MasterEntry[] }> {
  const lines = (await readFile(path, "utf8")).trim().split("\n");
  const entries: MasterEntry[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith("#EXT-X-STREAM-INF:")) return;
    const attributes: Record<string, string> = {};
    for (const [, key, value] of line.slice(18).matchAll(/([A-Z-]+)=("[^"]*"|[^,]*)/g))
      attributes[key] = value.replace(/"/g, "");
    entries.push({ attributes, uri: lines[i + 1] });
  });
  return { lines, entries };
}

/** This host's processes whose command line contains `text`, as `pid: command line` (spaces for NULs). */
export function processesNaming(text: string): string[] {
  return readdirSync("/proc")
    .filter((pid) => /^\d+$/.test(pid))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        return cmdline.includes(text) ? [`${pid}: ${cmdline.replaceAll("\0", " ").slice(0, 120)}`] : [];
      } catch {
        return []; // gone, or not ours to read
      }
    });
}

/**
 * Files as phones, cameras, broadcast captures and editors make them, each
 * generated with ffmpeg from testsrc2 (which moves, so combing shows) and
 * sine tones, small and short enough for a test.
 */
export type RealWorldKind =
  /** H.264 + ADTS AAC in MPEG-TS: broadcast captures, screen recorders, `.ts` exports. */
  | "ts-aac"
  /** AVCHD camcorder: 1080i50 H.264 (interlaced coding, top field first) + AC-3 in M2TS. */
  | "mts-1080i-ac3"
  /** DVD / broadcast SD: 576i MPEG-2, 16:9 anamorphic, MP2 audio, in an MPEG program stream. */
  | "mpeg2-576i"
  /** Motion JPEG capture of interlaced video in AVI, whose stream does not say it is interlaced. */
  | "mjpeg-576i"
  /** An MP4 whose timestamps begin at 3600 s, as cut from a long recording: plays 4 s. */
  | "offset-3600"
  /** A faststart MP4 (index first) of 6 s, cut at 60% of its bytes. */
  | "cut-faststart"
  /** An MP4 with its index at the end, cut at 60% of its bytes: no index at all. */
  | "cut-moov-at-end"
  /** HDR from a phone: 10-bit HEVC, BT.2020, HLG (`arib-std-b67`) or PQ (`smpte2084`). */
  | "hlg"
  | "pq"
  /** H.264 with B-frames in AVI, which stores no presentation times: a stream copy of it plays nothing. */
  | "avi-h264-bframes"
  /** An editor's master: ProRes 422 with 16-bit PCM in MOV. */
  | "prores-pcm"
  /** A Matroska file with E-AC-3 (streaming-service style 5.1 downmix). */
  | "mkv-eac3"
  /** Two audio tracks: English at 440 Hz (default) and French at 880 Hz, named by their handlers. */
  | "two-audio";

const tone = (hz: number) => ["-f", "lavfi", "-i", `sine=frequency=${hz}:sample_rate=48000`];
const pattern = (size: string, rate: number) => ["-f", "lavfi", "-i", `testsrc2=size=${size}:rate=${rate}`];
const x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"];

async function cutAt(path: string, whole: string, share: number): Promise<string> {
  const bytes = await readFile(whole);
  await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * share)));
  return path;
}

function hdrArgs(transfer: "arib-std-b67" | "smpte2084"): string[] {
  const zscale = `zscale=tin=bt709:pin=bt709:min=bt709:t=${transfer}:p=bt2020:m=bt2020nc:r=tv:npl=100`;
  return [
    ...pattern("1280x720", 30),
    "-t",
    "2",
    "-vf",
    `${zscale},format=yuv420p10le`,
    "-c:v",
    "libx265",
    "-preset",
    "ultrafast",
    "-x265-params",
    `log-level=error:colorprim=bt2020:transfer=${transfer}:colormatrix=bt2020nc`,
    "-tag:v",
    "hvc1",
  ];
}

export async function makeRealWorld(path: string, kind: RealWorldKind): Promise<string> {
  const interlace = (size: string, seconds: number) => [...pattern(size, 50), "-t", String(seconds)];
  switch (kind) {
    case "ts-aac":
      await ffmpeg(
        [...pattern("640x360", 30), ...tone(440), "-t", "6", ...x264, "-g", "60"].concat([
          "-c:a",
          "aac",
          "-b:a",
          "96k",
          "-f",
          "mpegts",
          path,
        ]),
      );
      return path;
    case "mts-1080i-ac3":
      await ffmpeg(
        [...interlace("1920x1080", 2), ...tone(440), "-t", "2", "-vf", "interlace=scan=tff"]
          .concat([...x264, "-flags", "+ildct+ilme", "-x264-params", "tff=1", "-c:a", "ac3", "-b:a", "192k"])
          .concat(["-f", "mpegts", "-mpegts_m2ts_mode", "1", path]),
      );
      return path;
    case "mpeg2-576i":
      await ffmpeg(
        [...interlace("720x576", 3), ...tone(440), "-t", "3", "-vf", "interlace=scan=tff,setdar=16/9"]
          .concat(["-c:v", "mpeg2video", "-b:v", "6M", "-flags", "+ildct+ilme", "-top", "1"])
          .concat(["-c:a", "mp2", "-b:a", "192k", "-f", "vob", path]),
      );
      return path;
    case "mjpeg-576i":
      await ffmpeg([...interlace("720x576", 3), "-vf", "interlace=scan=tff", "-c:v", "mjpeg", "-q:v", "3", path]);
      return path;
    case "offset-3600":
      await ffmpeg(
        [...pattern("640x360", 30), ...tone(440), "-t", "4", ...x264, "-g", "60", "-c:a", "aac"].concat([
          "-output_ts_offset",
          "3600",
          path,
        ]),
      );
      return path;
    case "cut-faststart":
    case "cut-moov-at-end": {
      const whole = `${path}.whole.mp4`;
      const index = kind === "cut-faststart" ? ["-movflags", "+faststart"] : [];
      await ffmpeg(
        [...pattern("640x360", 30), ...tone(440), "-t", "6", ...x264, "-g", "60", "-c:a", "aac"].concat([
          ...index,
          whole,
        ]),
      );
      return cutAt(path, whole, 0.6);
    }
    case "hlg":
      await ffmpeg([...hdrArgs("arib-std-b67"), path]);
      return path;
    case "pq":
      await ffmpeg([...hdrArgs("smpte2084"), path]);
      return path;
    case "avi-h264-bframes":
      await ffmpeg(
        [...pattern("640x360", 30), "-t", "4", "-c:v", "libx264", "-preset", "fast", "-bf", "3"].concat([
          "-g",
          "60",
          "-pix_fmt",
          "yuv420p",
          path,
        ]),
      );
      return path;
    case "prores-pcm":
      await ffmpeg(
        [...pattern("640x360", 30), ...tone(440), "-t", "2", "-c:v", "prores_ks", "-profile:v", "2"].concat([
          "-c:a",
          "pcm_s16le",
          path,
        ]),
      );
      return path;
    case "mkv-eac3":
      await ffmpeg(
        [...pattern("640x360", 30), ...tone(440), "-t", "4", ...x264, "-g", "60"].concat([
          "-c:a",
          "eac3",
          "-ac",
          "6",
          "-b:a",
          "384k",
          path,
        ]),
      );
      return path;
    case "two-audio":
      await ffmpeg(
        [...pattern("640x360", 30), ...tone(440), ...tone(880), "-t", "4", "-map", "0", "-map", "1"]
          .concat(["-map", "2", ...x264, "-g", "60", "-c:a", "aac", "-b:a", "96k"])
          .concat(["-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra"])
          .concat(["-metadata:s:a:1", "handler_name=Français", "-disposition:a:0", "default", path]),
      );
      return path;
  }
}

/** idet's verdict over a whole file: how many frames look combed (TFF or BFF) and how many clean. */
export async function combing(path: string): Promise<{ interlaced: number; progressive: number }> {
  const { stderr } = await exec(
    ffmpegPaths().ffmpeg,
    ["-hide_banner", "-nostdin", "-i", path, "-map", "0:v:0", "-vf", "idet", "-f", "null", "-"],
    { maxBuffer: 64 << 20 },
  );
  const m = /Multi frame detection:\s*TFF:\s*(\d+)\s*BFF:\s*(\d+)\s*Progressive:\s*(\d+)/.exec(stderr);
  if (!m) throw new Error(`idet printed no verdict for ${path}`);
  return { interlaced: Number(m[1]) + Number(m[2]), progressive: Number(m[3]) };
}

/** Mean luma (signalstats YAVG, 8-bit scale) of a file's video, through `filters` first. */
export async function meanLuma(path: string, filters: string[] = []): Promise<number> {
  const chain = [...filters, "signalstats", "metadata=print:key=lavfi.signalstats.YAVG:file=-"].join(",");
  const { stdout } = await exec(
    ffmpegPaths().ffmpeg,
    ["-v", "error", "-nostdin", "-i", path, "-map", "0:v:0", "-vf", chain, "-f", "null", "-"],
    { maxBuffer: 64 << 20 },
  );
  const values = [...stdout.matchAll(/YAVG=([\d.]+)/g)].map((m) => Number(m[1]));
  if (values.length === 0) throw new Error(`no luma measured for ${path}`);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Zero crossings per sample of the first channel (astats): about 2f/48000 for a tone of f Hz. */
export async function zeroCrossingRate(path: string): Promise<number> {
  const { stderr } = await exec(
    ffmpegPaths().ffmpeg,
    ["-hide_banner", "-nostdin", "-i", path, "-map", "0:a:0", "-af", "astats=measure_overall=none", "-f", "null", "-"],
    { maxBuffer: 64 << 20 },
  );
  const m = /Zero crossings rate:\s*([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`astats printed no zero-crossing rate for ${path}`);
  return Number(m[1]);
}

export type CameraMinuteOptions = {
  width: number;
  height: number;
  seconds: number;
  fps?: number;
  video: "h264" | "hevc";
  /** Target video bit rate; film grain (temporal noise) over testsrc2 makes the encoder spend it. */
  videoKbps: number;
  audioKbps?: number;
  /** The index (moov) first, as web exports have it. */
  faststart?: boolean;
};

/**
 * A camera-like clip at a realistic bit rate (e.g. 10 Mbit/s 1080p): testsrc2
 * with grain, so it costs what a real recording costs to store, move and
 * decode, with a 2 s GOP and stereo AAC.
 */
export async function makeCameraClip(path: string, o: CameraMinuteOptions): Promise<string> {
  const fps = o.fps ?? 30;
  const rate = [`-b:v`, `${o.videoKbps}k`, "-maxrate", `${Math.round(o.videoKbps * 1.5)}k`];
  const video =
    o.video === "hevc"
      ? ["-c:v", "libx265", "-preset", "ultrafast", ...rate, "-bufsize", `${o.videoKbps * 2}k`]
          .concat(["-x265-params", "log-level=error", "-tag:v", "hvc1"])
          .concat(["-pix_fmt", "yuv420p"])
      : ["-c:v", "libx264", "-preset", "veryfast", ...rate, "-bufsize", `${o.videoKbps * 2}k`, "-pix_fmt", "yuv420p"];
  await ffmpeg(
    [...pattern(`${o.width}x${o.height}`, fps), ...tone(440), "-t", String(o.seconds)]
      .concat(["-vf", "noise=alls=12:allf=t", ...video, "-g", String(2 * fps), "-keyint_min", String(2 * fps)])
      .concat(["-c:a", "aac", "-ac", "2", "-b:a", `${o.audioKbps ?? 128}k`])
      .concat([...(o.faststart ? ["-movflags", "+faststart"] : []), path]),
  );
  return path;
}

/**
 * A clip of about the highest bit rate 8-bit 4:2:0 H.264 reaches: x264
 * ultrafast at QP 1 over full-strength noise, ~125 MB/s at 1080p30, with
 * stereo AAC. Near-lossless, not lossless (QP 0 would need the High 4:4:4
 * profile, which Reelay re-encodes), so it stays Constrained Baseline and is
 * remuxed: the cheapest way to many gigabytes of a real video, to be
 * repeated with `concatCopies`.
 */
export async function makeDenseClip(path: string, o: { width: number; height: number; seconds: number }) {
  await ffmpeg(
    [...pattern(`${o.width}x${o.height}`, 30), ...tone(440), "-t", String(o.seconds)]
      .concat(["-vf", "noise=alls=100:allf=t+u", ...x264, "-qp", "1", "-g", "60"])
      .concat(["-c:a", "aac", "-ac", "2", "-b:a", "128k", path]),
  );
  return path;
}

/**
 * `part` played `times` times in a row, stream-copied by the concat demuxer:
 * a long video in seconds of I/O instead of an encode.
 */
export async function concatCopies(path: string, part: string, times: number, faststart = false): Promise<string> {
  const list = `${path}.concat.txt`;
  await writeFile(list, `file '${part.replaceAll("'", "'\\''")}'\n`.repeat(times));
  await ffmpeg(
    ["-f", "concat", "-safe", "0", "-i", list, "-c", "copy"].concat([
      ...(faststart ? ["-movflags", "+faststart"] : []),
      path,
    ]),
  );
  await rm(list, { force: true });
  return path;
}
