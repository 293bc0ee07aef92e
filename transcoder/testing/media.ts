/**
 * Test and benchmark media, generated on the fly with ffmpeg's testsrc2 and
 * sine sources (no media is committed), and the ffprobe checks the tests share.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
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
  args.push("-g", String(2 * fps));
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
