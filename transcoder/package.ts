/**
 * A package task: the downloads of a job's complete ladder, made without
 * re-encoding. A rung's init segment followed by its segments, in playlist
 * order, is one fragmented MP4 (that is what fMP4 HLS is); so is the audio
 * track's. Both are written to local files as they arrive, then ffmpeg
 * copies their streams (`-c copy`) into `download.mp4`, the video with the
 * audio, and `audio.m4a`, the audio alone, each with its index (`moov`)
 * first (`+faststart`), so that a player starts one while it downloads.
 *
 * Every run opens its inputs under the input guard (input-formats.ts), as
 * every other ffmpeg run here does: local files, of the formats we accept.
 */
import { type FileHandle, open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import ffmpeg from "fluent-ffmpeg";
import { parseMediaPlaylist } from "../worker/contracts/hls-playlists.ts";
import { AUDIO_DOWNLOAD_FILE, DOWNLOAD_FILE, type PackageTask, SegmentSchema } from "../worker/contracts/job.ts";
import { progressReader } from "./encode.ts";
import { abortError, ffmpegFailure, TranscodeError } from "./errors.ts";
import { ffmpegPaths } from "./ffmpeg-path.ts";
import { INPUT_GUARD } from "./input-formats.ts";

/** Where the ladder's files are read: the worker's job files over HTTP, or a local work dir in tests. */
export type LadderFiles = {
  /** A playlist of the ladder, as text. */
  text(file: string): Promise<string>;
  /** A file of the ladder written into `out` from byte `at`; its size. */
  into(file: string, out: FileHandle, at: number): Promise<number>;
};

export type PackageOptions = {
  task: PackageTask;
  ladder: LadderFiles;
  workDir: string;
  signal: AbortSignal;
  /** Fraction done, 0..1, whenever a file arrived or ffmpeg moved on. */
  onProgress?: (fraction: number) => void;
};

/** What the task wrote in its work dir, to upload, with their sizes for its report. */
export type Packaged = { download: { bytes: number }; audio: { bytes: number } | null; files: string[] };

/** A rendition of the ladder as its playlist lists it. */
type Listed = { name: string; files: string[]; durationSec: number };

/** How the work is weighed for progress: reading the ladder, then the two copies. */
const READ_SHARE = 0.6;

export async function packageDownloads(options: PackageOptions): Promise<Packaged> {
  const { task, workDir, signal } = options;
  let done = 0;
  const report = (fraction: number) => {
    if (fraction <= done) return;
    done = Math.min(1, fraction);
    options.onProgress?.(done);
  };
  const video = await listRendition(options.ladder, task.rung);
  const audio = task.audio === null ? null : await listRendition(options.ladder, task.audio);
  const total = video.files.length + (audio?.files.length ?? 0);
  let read = 0;
  const counted = () => report((READ_SHARE * ++read) / total);
  const videoIn = await joinInto(options.ladder, video, join(workDir, "video.mp4"), counted);
  const audioIn = audio ? await joinInto(options.ladder, audio, join(workDir, "audio.mp4"), counted) : null;
  if (signal.aborted) throw abortError(signal);

  const download = join(workDir, DOWNLOAD_FILE);
  await streamCopy(
    {
      inputs: audioIn ? [videoIn, audioIn] : [videoIn],
      maps: audioIn ? ["0:v:0", "1:a:0"] : ["0:v:0"],
      output: download,
    },
    { what: "making the MP4 download", durationSec: video.durationSec, workDir, signal },
    (f) => report(READ_SHARE + (1 - READ_SHARE) * (audioIn ? 0.8 : 1) * f),
  );
  // The joined video is as large as the download: gone before the next copy, so the disk holds two of it at most.
  await rm(videoIn, { force: true });
  let audioBytes: { bytes: number } | null = null;
  if (audioIn && audio) {
    const m4a = join(workDir, AUDIO_DOWNLOAD_FILE);
    await streamCopy(
      { inputs: [audioIn], maps: ["0:a:0"], output: m4a },
      { what: "making the audio download", durationSec: audio.durationSec, workDir, signal },
      (f) => report(READ_SHARE + (1 - READ_SHARE) * (0.8 + 0.2 * f)),
    );
    await rm(audioIn, { force: true });
    audioBytes = { bytes: (await stat(m4a)).size };
  }
  return {
    download: { bytes: (await stat(download)).size },
    audio: audioBytes,
    files: audioBytes ? [DOWNLOAD_FILE, AUDIO_DOWNLOAD_FILE] : [DOWNLOAD_FILE],
  };
}

/**
 * A rendition's files in play order, init segment first, from its playlist.
 * Every name must be a plain file name of the rendition's directory, as the
 * ladder writes them: a playlist can name nothing else for this task to read.
 */
async function listRendition(ladder: LadderFiles, name: string): Promise<Listed> {
  const playlist = parseMediaPlaylist(await ladder.text(`${name}/index.m3u8`));
  const uris = [playlist.init, ...playlist.segments.map((s) => s.uri)];
  const plain = SegmentSchema.shape.uri;
  if (playlist.init === null || playlist.segments.length === 0 || !uris.every((u) => plain.safeParse(u).success))
    throw new TranscodeError(`The ladder's ${name} playlist does not list an init segment and segments.`, false);
  return {
    name,
    files: uris.map((u) => `${name}/${u}`),
    durationSec: playlist.segments.reduce((sum, s) => sum + s.duration, 0),
  };
}

/** The rendition's files, one after the other, into one local file: a fragmented MP4. */
async function joinInto(ladder: LadderFiles, listed: Listed, path: string, onFile: () => void): Promise<string> {
  const out = await open(path, "w");
  try {
    let at = 0;
    for (const file of listed.files) {
      at += await ladder.into(file, out, at);
      onFile();
    }
    // A file asked for twice may have left a longer first try behind it: the join ends where the last one did.
    await out.truncate(at);
  } finally {
    await out.close();
  }
  return path;
}

/** One stream copy: each input a local file, the streams mapped, one faststart MP4 out. */
type CopyRun = { inputs: string[]; maps: string[]; output: string };

/** Background work, as the ladder's: niced, so first tasks' encodes come first. */
const BACKGROUND_NICENESS = 10;

/**
 * Runs a copy through fluent-ffmpeg (so ffmpeg dies with this process,
 * ffmpeg-path.ts), killed when `signal` aborts, reporting progress from
 * ffmpeg's own `-progress` blocks only when it moves on.
 */
function streamCopy(
  run: CopyRun,
  context: { what: string; durationSec: number; workDir: string; signal: AbortSignal },
  onProgress: (fraction: number) => void,
): Promise<void> {
  ffmpegPaths();
  const { signal } = context;
  const command = ffmpeg().renice(BACKGROUND_NICENESS);
  run.inputs.forEach((input, i) => {
    const quiet = i === 0 ? ["-hide_banner", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:2"] : [];
    command.input(input).inputOptions([...quiet, ...INPUT_GUARD]);
  });
  command
    .output(run.output)
    .outputOptions([...run.maps.flatMap((m) => ["-map", m]), "-c", "copy", "-movflags", "+faststart"]);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const kill = () => command.kill("SIGKILL");
    signal.addEventListener("abort", kill, { once: true });
    const read = progressReader((seconds) => {
      // The audio may run a little past the video whose duration is the measure.
      if (context.durationSec > 0) onProgress(Math.min(1, seconds / context.durationSec));
    });
    const said: string[] = [];
    const settle = (error?: Error) => {
      signal.removeEventListener("abort", kill);
      if (error) reject(error);
      else resolve();
    };
    command
      .on("stderr", (line: string) => {
        read(`${line}\n`);
        if (!/^[a-z_]+=/.test(line.trim()) && said.length < 100) said.push(line);
      })
      .on("end", () => settle())
      .on("error", (error: Error) => {
        if (signal.aborted) return settle(abortError(signal));
        settle(
          Object.assign(ffmpegFailure(context.what, error.message, said.join("\n"), [context.workDir]), {
            cause: error,
          }),
        );
      })
      .run();
  });
}
