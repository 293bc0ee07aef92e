/** Shared helpers for tests against the real stack: media, polling, inspection. */
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { promisify } from "node:util";
import { ffmpegPaths } from "../transcoder/ffmpeg-path.ts";
import type { JobSpec } from "../worker/contracts/job.ts";
import { type Video, VideoSchema } from "../worker/contracts/video.ts";
import type { Stack } from "./stack.ts";
import { upload, type UploadResult } from "../web/src/upload-client.ts";

export const run = promisify(execFile);

export type ClipOptions = {
  /** `WIDTHxHEIGHT`. */
  size: string;
  seconds: number;
  /** `h264` (the default) or `hevc`, tagged `hvc1` as Apple's players want it. */
  codec?: "h264" | "hevc";
  /** x264/x265 speed preset; `ultrafast` by default, since most tests only need some valid video. */
  preset?: string;
  /** Constant quality; the encoder's default without it. */
  crf?: number;
  /** Large and incompressible: every frame noisy, encoded losslessly (h264 only). */
  noise?: boolean;
  /** A 440 Hz tone as AAC at 128 kb/s, as camera and phone files carry; on by default. */
  audio?: boolean;
  /**
   * Several audio tracks instead (films, dubbed and commentary releases): one
   * AAC tone each, tagged with its ISO 639-2 language and title, the first
   * marked default. Write a `.mkv` to keep titles: ffmpeg 5's MP4 muxer drops them.
   */
  audioTracks?: { language: string; title: string; frequency: number }[];
  /** A constant video bit rate (h264 only), to pad a clip out to a chosen size. */
  bitrate?: string;
};

/** A clip from ffmpeg's testsrc2 pattern (and sine tones), written to `path` in the container its extension names. */
export async function makeVideo(path: string, opts: ClipOptions): Promise<string> {
  const tracks = opts.audioTracks ?? ((opts.audio ?? true) ? [{ language: "", title: "", frequency: 440 }] : []);
  const audio = tracks.length > 0;
  // Every input's stream is mapped: without -map, ffmpeg would keep one audio stream only.
  const audioInputs = tracks.flatMap((t) => [
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=${t.frequency}:duration=${opts.seconds}`,
  ]);
  const maps = audio ? ["-map", "0:v", ...tracks.flatMap((_, i) => ["-map", `${i + 1}:a`])] : [];
  const tags = tracks.flatMap((t, i) => [
    ...(t.language ? [`-metadata:s:a:${i}`, `language=${t.language}`] : []),
    ...(t.title ? [`-metadata:s:a:${i}`, `title=${t.title}`] : []),
    `-disposition:a:${i}`,
    i === 0 ? "default" : "0",
  ]);
  const mp4 = /\.(mp4|m4v|mov)$/i.test(path);
  const b = opts.bitrate;
  const rate = b ? ["-b:v", b, "-minrate", b, "-maxrate", b, "-bufsize", b, "-x264-params", "nal-hrd=cbr"] : [];
  const encoder = opts.codec === "hevc" ? ["-c:v", "libx265", "-tag:v", "hvc1"] : ["-c:v", "libx264"];
  await run(
    ffmpegPaths().ffmpeg,
    [
      "-y",
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      `testsrc2=size=${opts.size}:rate=30:duration=${opts.seconds}`,
      ...audioInputs,
      ...maps,
      ...(opts.noise ? ["-vf", "noise=alls=60:allf=t", "-qp", "0"] : ["-g", "60"]),
      ...encoder,
      "-preset",
      opts.preset ?? "ultrafast",
      ...(opts.crf === undefined ? [] : ["-crf", String(opts.crf)]),
      "-pix_fmt",
      "yuv420p",
      ...rate,
      ...(audio ? ["-c:a", "aac", "-b:a", "128k", ...tags, "-shortest"] : []),
      ...(mp4 ? ["-movflags", "+faststart"] : []),
      path,
    ],
    { maxBuffer: 1 << 24 },
  );
  return path;
}

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
/** The SHA-256 of a file, read as a stream: test files run to hundreds of MiB. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Uploads the MP4 file at `path`, titled `title`, with the upload client the pages use. */
export async function uploadFile(base: string, path: string, title: string): Promise<UploadResult> {
  return upload({
    endpoint: base,
    file: new Blob([await readFile(path)]),
    filename: basename(path),
    contentType: "video/mp4",
    title,
  });
}

/** Fully processed: ready, and the whole ladder published (no progress left to report). */
export const isFinal = (v: Video) => v.status === "ready" && v.progress === undefined;

/**
 * Polls `GET /api/videos/:id` until `done`, reading every answer with the
 * contract's schema; fails fast if processing fails.
 */
export async function waitForVideo(
  base: string,
  id: string,
  done: (v: Video) => boolean,
  timeoutMs = 120_000,
): Promise<Video> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = VideoSchema.parse(await (await fetch(`${base}/api/videos/${id}`)).json());
    if (done(v)) return v;
    if (v.status === "failed") throw new Error(`processing of ${id} failed: ${v.error}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${id}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The stored source, downloaded with the owner's token, as a SHA-256. */
export async function sourceSha256(base: string, videoId: string, token: string): Promise<string> {
  const res = await fetch(`${base}/api/videos/${videoId}/source`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`source: ${res.status}`);
  return sha256(new Uint8Array(await res.arrayBuffer()));
}

/** Every R2 key under a prefix, read from the local simulator's own database. */
export function storedKeys(stateDir: string, prefix: string): string[] {
  const r2 = join(stateDir, "v3/r2/miniflare-R2BucketObject");
  const keys: string[] = [];
  for (const f of readdirSync(r2).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite")) {
    const db = new DatabaseSync(join(r2, f), { readOnly: true });
    try {
      for (const row of db
        .prepare("SELECT key FROM _mf_objects WHERE substr(key, 1, ?) = ?")
        .all(prefix.length, prefix))
        keys.push(String(row.key));
    } finally {
      db.close();
    }
  }
  return keys.sort();
}

type Proc = { pid: number; ppid: number; pgid: number; args: string };

function processes(): Proc[] {
  const out = execFileSync("ps", ["-e", "-o", "pid=,ppid=,pgid=,args="], { encoding: "utf8" });
  const list: Proc[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m) list.push({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), args: m[4] });
  }
  return list;
}

/** Every process under `root`, its children's children included. */
function descendants(all: Proc[], root: number): Proc[] {
  const found: Proc[] = [];
  for (let frontier = [root]; frontier.length > 0; ) {
    const next = all.filter((p) => frontier.includes(p.ppid));
    found.push(...next);
    frontier = next.map((p) => p.pid);
  }
  return found;
}

/** Processes the stack started (`npm start` and everything under it) whose command line matches. */
export function stackProcesses(stack: Stack, match: (args: string) => boolean): number[] {
  return descendants(processes(), stack.process.pid!)
    .filter((p) => match(p.args))
    .map((p) => p.pid);
}

const isTranscoder = (args: string) => args.includes("transcoder/server.ts");
const isEncoder = (args: string) => /ffmpeg/.test(args) && !/ffprobe/.test(args);

/** The stack's transcoder processes, each with every process under it (its ffmpeg runs). */
function transcoderTrees(stack: Stack): { root: number; descendants: Proc[] }[] {
  const all = processes();
  return descendants(all, stack.process.pid!)
    .filter((p) => isTranscoder(p.args))
    .map((t) => ({ root: t.pid, descendants: descendants(all, t.pid) }));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * SIGKILLs the stack's transcoder, as a crash would; `npm start` restarts it.
 * Its ffmpeg must end with it, or they would burn CPU for nobody: throws if
 * any outlives it by more than a few seconds.
 */
export async function killTranscoder(stack: Stack): Promise<{ transcoders: number; encoders: number }> {
  const trees = transcoderTrees(stack);
  for (const t of trees) process.kill(t.root, "SIGKILL");
  const orphans = trees.flatMap((t) => t.descendants);
  for (const deadline = Date.now() + 5000; orphans.some((p) => alive(p.pid)); ) {
    if (Date.now() > deadline)
      throw new Error(
        `outlived their transcoder: ${orphans
          .filter((p) => alive(p.pid))
          .map((p) => p.args.slice(0, 60))
          .join("; ")}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
  return { transcoders: trees.length, encoders: orphans.filter((p) => isEncoder(p.args)).length };
}

/** A task the transcoder took: a job's first task, or with `span` that try (`spanAttempt`) of one span. */
export type AcceptedJob = Pick<JobSpec, "jobId" | "videoId" | "attempt"> & { span?: number; spanAttempt?: number };

/** Every job the stack's transcoder accepted for a video, in order, from its `job.accepted` log lines. */
export function acceptedJobs(stack: Stack, videoId: string): AcceptedJob[] {
  const jobs: AcceptedJob[] = [];
  for (const line of stack.output().split("\n")) {
    if (!line.includes('"job.accepted"')) continue;
    try {
      const e = JSON.parse(line.slice(line.indexOf("{"))) as AcceptedJob;
      const span = e.span === undefined ? {} : { span: e.span, spanAttempt: e.spanAttempt };
      if (e.videoId === videoId) jobs.push({ jobId: e.jobId, videoId: e.videoId, attempt: e.attempt, ...span });
    } catch {}
  }
  return jobs;
}

/** A task as the transcoder knows it: its job, and the span's try if it is one. */
export const taskOf = (t: AcceptedJob) => (t.span === undefined ? t.jobId : `${t.jobId}/${t.span}.${t.spanAttempt}`);

/**
 * Waits until the transcoder runs a task for `videoId` other than `notTasks`
 * (`taskOf`) and is encoding with ffmpeg, then kills the transcoder (and sees
 * its ffmpeg end). Returns the task it took last.
 */
export async function killTranscoderMidJob(
  stack: Stack,
  videoId: string,
  notTasks: string[],
  timeoutMs: number,
): Promise<AcceptedJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = acceptedJobs(stack, videoId)
      .filter((j) => !notTasks.includes(taskOf(j)))
      .at(-1);
    // Only this video is processing, so a fresh transcoder's ffmpeg works for this job. An x264
    // encode runs long enough to be killed mid-way; a remux or poster may end before the kill.
    if (
      job &&
      transcoderTrees(stack).some((t) => t.descendants.some((p) => isEncoder(p.args) && p.args.includes("libx264")))
    ) {
      const killed = await killTranscoder(stack);
      if (killed.transcoders !== 1 || killed.encoders < 1) throw new Error(`killed ${JSON.stringify(killed)}`);
      return job;
    }
    if (Date.now() > deadline)
      throw new Error(`no new job encoding for ${videoId}; accepted: ${JSON.stringify(acceptedJobs(stack, videoId))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The attempt number of the job whose outputs a ready video plays (its job id is in the poster URL). */
export function playedAttempt(stack: Stack, videoId: string, poster: string): number | undefined {
  const jobId = new URL(poster, "http://stack").pathname.split("/")[3];
  return acceptedJobs(stack, videoId).find((j) => j.jobId === jobId)?.attempt;
}

/**
 * A fetch for the upload client that remembers every 5xx answer. The client
 * retries those, so an upload can succeed over server errors that only this
 * record shows.
 */
export function recordingFetch(): { fetch: typeof fetch; serverErrors: string[] } {
  const serverErrors: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (res.status >= 500)
      serverErrors.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname} → ${res.status}`);
    return res;
  };
  return { fetch: recording, serverErrors };
}

/** A playback URL of the API (root-relative, as `playback.hls` and `playback.poster` are) as an absolute URL on the stack. */
export const playbackUrl = (stack: Pick<Stack, "url">, path: string) => new URL(path, stack.url).href;

/** The port the stack's transcoder listens on, from its latest `server.listening` log line. */
export function transcoderPort(stack: Stack): number {
  const line = stack
    .output()
    .split("\n")
    .findLast((l) => l.includes('"server.listening"'));
  if (!line) throw new Error("the transcoder has not said where it listens");
  return (JSON.parse(line.slice(line.indexOf("{"))) as { port: number }).port;
}
