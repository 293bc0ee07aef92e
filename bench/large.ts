/**
 * `npm run bench -- large`: large videos on the real local stack (issue 18).
 *
 * - For H.264 and HEVC sources of 1, 5 and 20 minutes at 1080p (one
 *   generated camera-like minute at ~10 Mbit/s with stereo AAC, repeated
 *   with `-c copy`): completion → `ready` and completion → full ladder,
 *   beside a plain `ffmpeg -c copy` to HLS of the same file on local disk
 *   (the transcoder's own remux command, transcoder/encode.ts) and beside
 *   Mux's published median time-to-publish for that length; then, after
 *   the first-playable grace period, the bytes the video stores beside its
 *   source plus what its final master playlist references.
 * - workerd's RSS over idle while a ~10 GiB file is uploaded and processed,
 *   beside a bare Worker on the same local R2 simulator doing only one step
 *   on the same file: `uploadPart` alone, then reading the object back by
 *   16 MiB ranged `get()`s (what the transcoder's reads of the source do
 *   through `/internal/jobs/:jobId/source`).
 *
 * Each timed source gets a fresh stack, so nothing still encoding from one
 * source slows the next and each stack's state is removed with it.
 */
import { spawn } from "node:child_process";
import { mkdir, rename, rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { VideoStorage } from "../worker/contracts/video.ts";
import { type FfmpegRun, ffmpegArgs, remuxRun } from "../transcoder/encode.ts";
import { ffmpegPaths } from "../transcoder/ffmpeg-path.ts";
import { planTranscode } from "../transcoder/plan.ts";
import { probeSource } from "../transcoder/probe.ts";
import { concatCopies, makeCameraClip, makeDenseClip } from "../transcoder/testing/media.ts";
import { openFile } from "../web/cli/file-source.ts";
import { upload } from "../web/src/upload-client.ts";
import { freePort, root, type Stack, startStack } from "../test/stack.ts";
import { descendants, MB, median, memory, MiB } from "./lib.ts";

const run = promisify(execFile);
const tmp = join(root, "bench/tmp/large");
const GiB = 1024 * MiB;
const ADMIN_TOKEN = `bench-admin-${process.pid}-0123456789`;
/** The generated sources' video bit rate, a camera's. */
export const VIDEO_KBPS = 10_000;
/** What the transcoder reads per request of the source (worker/processing/job-routes.ts SOURCE_SLICE_BYTES). */
const SOURCE_SLICE_BYTES = 16 * MiB;

export type Codec = "h264" | "hevc";
export type LargeOptions = {
  minutes: number[];
  codecs: Codec[];
  /** Size of the memory run's file; 0 skips it. */
  rssGiB: number;
  /** Sources longer than this are timed to `ready` only: their stack is stopped without waiting for the ladder. */
  ladderMaxMinutes: number;
  /** FIRST_PLAYABLE_GRACE_SECONDS of the stacks: how long after the ladder the first-playable copy is deleted. */
  graceSeconds: number;
};

/**
 * Mux's published median time-to-publish by video length (mux.com, as quoted
 * in issue 18): seconds, for videos up to `upToMinutes` long.
 */
export const MUX_MEDIANS = [
  { upToMinutes: 1, label: "0–1 min", seconds: 2.0 },
  { upToMinutes: 5, label: "1–5 min", seconds: 3.3 },
  { upToMinutes: 20, label: "5–20 min", seconds: 9.0 },
  { upToMinutes: 60, label: "20–60 min", seconds: 46 },
  { upToMinutes: Number.POSITIVE_INFINITY, label: "60+ min", seconds: 94 },
];
const muxMedian = (minutes: number) => MUX_MEDIANS.find((m) => minutes <= m.upToMinutes)!;
/** The issue's targets for completion → ready. */
const READY_TARGET_SEC: Record<Codec, number> = { h264: 3, hevc: 8 };
const RSS_GROWTH_TARGET = 256 * MiB;
const STORED_TARGET_RATIO = 1.01;

type Transition = { atSec: number; status: string; progress?: number; ladderComplete?: boolean };

export type StoredAfterGrace = {
  /** Seconds after the ladder completed until the first-playable copy was gone (or the wait gave up). */
  waitedSec: number;
  stored: number;
  source: number;
  /** Everything the final master playlist references (media playlists, init and media segments), the master and the poster. */
  ladder: number;
  /** Stored objects neither the source nor part of that ladder. */
  extra: { key: string; bytes: number }[];
  objects: number;
};

export type TimedRun = {
  codec: Codec;
  minutes: number;
  bytes: number;
  durationSec: number;
  uploadSec: number;
  /** Completion response → status `ready` (polled every 100 ms). */
  readySec: number;
  /** Completion response → the whole ladder published; null when not awaited (`ladderMaxMinutes`). */
  ladderSec: number | null;
  /** Every change of status, progress presence or ladderComplete seen while polling, from the completion response. */
  transitions: Transition[];
  copyBaselineArgs: string[];
  copyBaselineSec: number;
  stored: StoredAfterGrace | null;
};

type RssSample = { atSec: number; phase: string; rss: number };

export type MemoryRun = {
  what: string;
  idleRss: number;
  /** Peak RSS per phase (`upload`, `processing`, `read`). */
  peaks: Record<string, number>;
  /** MB/s of the phase, where it moves the file. */
  throughputMBps: Record<string, number>;
  samples: RssSample[];
};

export type ReelayMemoryRun = MemoryRun & {
  readySec: number | null;
  ladderSec: number | null;
  /** Why processing ended without the whole ladder; the memory figures up to then still stand. */
  error?: string;
  /** The end of the stack's output when it failed. */
  stackLog?: string;
};

export type RssBench = {
  bytes: number;
  durationSec: number;
  reelay: ReelayMemoryRun | { error: string };
  bare: MemoryRun | { error: string };
};

/** A source whose run ended in an error: the run goes on with the next one, and the table says why. */
export type FailedRun = { codec: Codec; minutes: number; error: string; stackLog?: string };

/** The end of a stack's output, kept with a failure: why workerd or the transcoder stopped is only said there. */
const tailOf = (stack: Stack) => stack.output().slice(-4000);

export type LargeBench = {
  options: LargeOptions;
  muxMedians: typeof MUX_MEDIANS;
  muxSource: string;
  videoKbps: number;
  timed: (TimedRun | FailedRun)[];
  rss: RssBench | { error: string } | null;
};

async function freeBytes(): Promise<number> {
  const s = await statfs(root);
  return s.bavail * s.bsize;
}

/**
 * The generated camera-like minute of a codec (1080p at VIDEO_KBPS, stereo
 * AAC), then `minutes` of it by stream copy, in `dir`. Each is made under
 * another name first, so a run stopped mid-encode never leaves a short file
 * behind, and is kept for the next call.
 */
export async function makeLongSource(codec: Codec, minutes: number, dir = tmp): Promise<string> {
  await mkdir(dir, { recursive: true });
  const minute = join(dir, `minute-${codec}.mp4`);
  if (!(await stat(minute).catch(() => null))) {
    const part = `${minute}.part.mp4`;
    await makeCameraClip(part, {
      width: 1920,
      height: 1080,
      seconds: 60,
      video: codec,
      videoKbps: VIDEO_KBPS,
      faststart: true,
    });
    await rename(part, minute);
  }
  if (minutes === 1) return minute;
  const path = join(dir, `source-${codec}-${minutes}min.mp4`);
  if (!(await stat(path).catch(() => null))) {
    await concatCopies(`${path}.part.mp4`, minute, minutes, true);
    await rename(`${path}.part.mp4`, path);
  }
  return path;
}

/** `ffmpeg -c copy -f hls` of the file, the transcoder's own remux command line, timed. */
async function copyBaseline(path: string): Promise<{ args: string[]; seconds: number }> {
  const info = await probeSource(path);
  const workDir = join(tmp, "baseline-copy");
  const spec: FfmpegRun = remuxRun({ source: { path }, workDir, durationSec: info.durationSec }, planTranscode(info));
  const args = ["-v", "error", ...ffmpegArgs(spec)];
  await rm(workDir, { recursive: true, force: true });
  for (const o of spec.outputs) await mkdir(join(o.path, ".."), { recursive: true });
  const started = performance.now();
  await run(ffmpegPaths().ffmpeg, args, { maxBuffer: 1 << 24 });
  const seconds = (performance.now() - started) / 1000;
  await rm(workDir, { recursive: true, force: true });
  return { args: args.map((a) => a.split(tmp).join("bench/tmp/large")), seconds };
}

const stackFor = (graceSeconds: number) =>
  startStack({
    env: {
      // dev/start.ts passes the Worker every setting set in its environment.
      ADMIN_TOKEN,
      FIRST_PLAYABLE_GRACE_SECONDS: String(graceSeconds),
    },
  });

type VideoState = { status: string; progress?: number; error?: string; ladderComplete?: boolean };

/**
 * Whether the whole ladder is published: `ladderComplete` when the API says
 * it, else `ready` with no `progress` (describe.ts shows progress until then).
 */
const ladderDone = (v: VideoState) =>
  v.status === "ready" && (v.ladderComplete !== undefined ? v.ladderComplete : v.progress === undefined);

/** Polls the video every 100 ms from `completedAt` until it is ready, and then until the ladder is done if `ladder`. */
async function follow(
  stack: Stack,
  videoId: string,
  completedAt: number,
  opts: { ladder: boolean; timeoutSec: number },
): Promise<{ readySec: number; ladderSec: number | null; transitions: Transition[] }> {
  const transitions: Transition[] = [];
  let readySec: number | undefined;
  let last = "";
  for (;;) {
    const atSec = (performance.now() - completedAt) / 1000;
    const v = (await (await fetch(`${stack.url}/api/videos/${videoId}`)).json()) as VideoState;
    const key = `${v.status}|${v.progress !== undefined}|${v.ladderComplete}`;
    if (key !== last) {
      transitions.push({ atSec, status: v.status, progress: v.progress, ladderComplete: v.ladderComplete });
      last = key;
    }
    if (v.status === "failed") throw new Error(`processing failed: ${v.error}`);
    if (v.status === "ready" && readySec === undefined) readySec = atSec;
    if (readySec !== undefined && !opts.ladder) return { readySec, ladderSec: null, transitions };
    if (ladderDone(v)) return { readySec: readySec!, ladderSec: atSec, transitions };
    if (atSec > opts.timeoutSec)
      throw new Error(`video ${videoId} not ${readySec === undefined ? "ready" : "fully processed"} after ${atSec} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function listStorage(stack: Stack, videoId: string): Promise<VideoStorage> {
  const res = await fetch(`${stack.url}/api/videos/${videoId}/storage`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (!res.ok) throw new Error(`storage listing: ${res.status} ${await res.text()}`);
  return (await res.json()) as VideoStorage;
}

/**
 * The keys the final ladder consists of: the master, the poster, and every
 * media playlist the master references with the init and media segments
 * each of those references, read through the public playback URLs.
 */
async function ladderKeys(stack: Stack, videoId: string, playbackJob: string): Promise<Set<string>> {
  const prefix = `videos/${videoId}/`;
  const keys = new Set([`${prefix}jobs/${playbackJob}/master.m3u8`, `${prefix}jobs/${playbackJob}/poster.jpg`]);
  // A playback URL /videos/<id>/<job>/<file> serves the key videos/<id>/jobs/<job>/<file>.
  const keyOf = (url: URL) => `${prefix}jobs/${url.pathname.slice(`/videos/${videoId}/`.length)}`;
  const uris = (text: string, base: URL) =>
    text
      .split("\n")
      .flatMap((l) => (l.startsWith("#") ? [...l.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]) : l.trim() ? [l] : []))
      .map((u) => new URL(u, base));
  const masterUrl = new URL(`${stack.url}/videos/${videoId}/master.m3u8`);
  const master = await (await fetch(masterUrl)).text();
  for (const playlist of uris(master, masterUrl)) {
    keys.add(keyOf(playlist));
    for (const file of uris(await (await fetch(playlist)).text(), playlist)) keys.add(keyOf(file));
  }
  return keys;
}

/** After the ladder: waits out the grace period (until nothing under the copy's `source/` is left) and lists the bytes. */
async function storedAfterGrace(stack: Stack, videoId: string, graceSeconds: number): Promise<StoredAfterGrace> {
  const started = performance.now();
  let listing = await listStorage(stack, videoId);
  const copyPrefix = () => `videos/${videoId}/jobs/${listing.playbackJob}/source/`;
  while (
    listing.objects.some((o) => o.key.startsWith(copyPrefix())) &&
    performance.now() - started < (graceSeconds + 60) * 1000
  ) {
    await new Promise((r) => setTimeout(r, 1000));
    listing = await listStorage(stack, videoId);
  }
  const ladder = await ladderKeys(stack, videoId, listing.playbackJob!);
  const sourceKey = `videos/${videoId}/source`;
  const inLadder = listing.objects.filter((o) => ladder.has(o.key));
  return {
    waitedSec: (performance.now() - started) / 1000,
    stored: listing.bytes,
    source: listing.source ?? 0,
    ladder: inLadder.reduce((s, o) => s + o.bytes, 0),
    extra: listing.objects.filter((o) => o.key !== sourceKey && !ladder.has(o.key)),
    objects: listing.objects.length,
  };
}

async function timedRun(codec: Codec, minutes: number, o: LargeOptions): Promise<TimedRun> {
  const path = await makeLongSource(codec, minutes);
  const bytes = (await stat(path)).size;
  const durationSec = (await probeSource(path)).durationSec;
  const baseline = await copyBaseline(path);
  const awaitLadder = minutes <= o.ladderMaxMinutes;
  const stack = await stackFor(o.graceSeconds);
  try {
    const started = performance.now();
    const up = await upload({
      endpoint: stack.url,
      file: await openFile(path),
      filename: `large-${codec}-${minutes}min.mp4`,
      contentType: "video/mp4",
      concurrency: 4,
    });
    const completedAt = performance.now();
    // Generous: a 20-minute 1080p ladder takes ~25 minutes on 2 cores.
    const followed = await follow(stack, up.videoId, completedAt, {
      ladder: awaitLadder,
      timeoutSec: 1200 + 240 * minutes,
    });
    return {
      codec,
      minutes,
      bytes,
      durationSec,
      uploadSec: (completedAt - started) / 1000,
      ...followed,
      copyBaselineArgs: baseline.args,
      copyBaselineSec: baseline.seconds,
      stored: awaitLadder ? await storedAfterGrace(stack, up.videoId, o.graceSeconds) : null,
    };
  } catch (err) {
    throw Object.assign(new Error((err as Error).message), { stackLog: tailOf(stack) });
  } finally {
    await stack.stop();
    if (minutes !== 1) await rm(path, { force: true });
  }
}

/** Samples the RSS of the workerd processes under `pid` every 200 ms, each sample tagged with the current phase. */
function rssSampler(pid: number) {
  const t0 = performance.now();
  const samples: RssSample[] = [];
  let phase = "idle";
  let pids = descendants(pid, "workerd");
  const rss = () => {
    if (pids.length === 0 || pids.some((p) => memory(p) === 0)) pids = descendants(pid, "workerd");
    return pids.reduce((sum, p) => sum + memory(p), 0);
  };
  const timer = setInterval(() => samples.push({ atSec: (performance.now() - t0) / 1000, phase, rss: rss() }), 200);
  return {
    samples,
    phase: (p: string) => {
      phase = p;
    },
    stop: () => clearInterval(timer),
    idle: () => median(samples.filter((s) => s.phase === "idle").map((s) => s.rss)),
    peaks: () => {
      const peaks: Record<string, number> = {};
      for (const s of samples) if (s.phase !== "idle") peaks[s.phase] = Math.max(peaks[s.phase] ?? 0, s.rss);
      return peaks;
    },
  };
}

const IDLE_SECONDS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A ~`bytes` H.264/AAC file, cheap to build: a few seconds of dense 1080p repeated with `-c copy`. */
async function makeDenseFile(bytes: number): Promise<string> {
  const clip = await makeDenseClip(join(tmp, "dense-clip.mp4"), { width: 1920, height: 1080, seconds: 2 });
  const times = Math.max(1, Math.ceil(bytes / (await stat(clip)).size));
  const path = await concatCopies(join(tmp, `dense-${bytes}.mp4`), clip, times);
  await rm(clip, { force: true });
  return path;
}

async function reelayMemory(path: string, bytes: number, o: LargeOptions): Promise<ReelayMemoryRun> {
  const stack = await stackFor(o.graceSeconds);
  const sampler = rssSampler(stack.process.pid!);
  try {
    // Let the stack settle (first requests compile and warm up) before idle counts.
    await (await fetch(`${stack.url}/api/videos`)).arrayBuffer();
    await sleep(5000);
    sampler.samples.length = 0;
    await sleep(IDLE_SECONDS * 1000);
    sampler.phase("upload");
    const started = performance.now();
    const up = await upload({
      endpoint: stack.url,
      file: await openFile(path),
      filename: "large-rss.mp4",
      contentType: "video/mp4",
      concurrency: 4,
    });
    const completedAt = performance.now();
    sampler.phase("processing");
    let followed: { readySec: number | null; ladderSec: number | null; error?: string; stackLog?: string };
    try {
      followed = await follow(stack, up.videoId, completedAt, { ladder: true, timeoutSec: 3 * 3600 });
    } catch (err) {
      followed = { readySec: null, ladderSec: null, error: (err as Error).message, stackLog: tailOf(stack) };
    }
    sampler.phase("after");
    await sleep(5000);
    return {
      what: "Reelay (real stack): upload with 4 chunks in flight, then processing until the whole ladder is published",
      idleRss: sampler.idle(),
      peaks: sampler.peaks(),
      throughputMBps: { upload: bytes / MB / ((completedAt - started) / 1000) },
      samples: sampler.samples,
      readySec: followed.readySec,
      ladderSec: followed.ladderSec,
      ...(followed.error ? { error: followed.error, stackLog: followed.stackLog } : {}),
    };
  } finally {
    sampler.stop();
    await stack.stop();
  }
}

/** `wrangler dev` of bench/bare-r2 on its own port and state directory. */
async function startBare(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const state = join(tmp, "bare-state");
  await rm(state, { recursive: true, force: true });
  const child = spawn(
    process.execPath,
    [join(root, "node_modules/wrangler/bin/wrangler.js"), "dev", "-c", join(root, "bench/bare-r2/wrangler.toml")]
      .concat(["--port", String(port), "--ip", "127.0.0.1", "--persist-to", state])
      .concat(["--show-interactive-dev-session=false", "--log-level", "warn"]),
    {
      cwd: root,
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_SEND_ERROR_REPORTS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
      },
      detached: true,
      stdio: "ignore",
    },
  );
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {}
    await Promise.race([exited, sleep(10_000)]);
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
    await rm(state, { recursive: true, force: true });
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error("the bare Worker's wrangler dev exited");
    if ((await fetch(`${url}/`).catch(() => null))?.status === 404) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error("the bare Worker did not come up");
    }
    await sleep(250);
  }
  return { url, pid: child.pid!, stop };
}

/** What an error page says, without its markup: wrangler answers an uncaught error with a whole HTML page. */
const errorText = (body: string) =>
  (/<h2 id="error-message">[\s\S]*?<span>([^<]+)<\/span>\s*<\/h2>/.exec(body)?.[1] ?? body).slice(0, 300);

/** The file into the bare Worker's bucket, 16 MiB parts, 4 in flight, each PUT only `uploadPart(request.body)`. */
async function bareUpload(url: string, path: string, bytes: number): Promise<void> {
  const file = await openFile(path);
  const { uploadId } = (await (await fetch(`${url}/mpu/big`, { method: "POST" })).json()) as { uploadId: string };
  const total = Math.ceil(bytes / SOURCE_SLICE_BYTES);
  const parts: { partNumber: number; etag: string }[] = [];
  let next = 1;
  const sender = async () => {
    for (let n = next++; n <= total; n = next++) {
      const body = await file
        .slice((n - 1) * SOURCE_SLICE_BYTES, Math.min(bytes, n * SOURCE_SLICE_BYTES))
        .arrayBuffer();
      const res = await fetch(`${url}/mpu/big/${encodeURIComponent(uploadId)}/${n}`, { method: "PUT", body });
      if (!res.ok) throw new Error(`uploadPart ${n}: ${res.status} ${errorText(await res.text())}`);
      parts.push((await res.json()) as { partNumber: number; etag: string });
    }
  };
  await Promise.all([sender(), sender(), sender(), sender()]);
  parts.sort((a, b) => a.partNumber - b.partNumber);
  const done = await fetch(`${url}/mpu/big/${encodeURIComponent(uploadId)}/complete`, {
    method: "POST",
    body: JSON.stringify(parts),
  });
  if (!done.ok) throw new Error(`complete: ${done.status} ${errorText(await done.text())}`);
}

/** The object read back front to back by 16 MiB ranged GETs, one at a time, as ffmpeg reads the source. */
async function bareRangedRead(url: string, bytes: number): Promise<void> {
  for (let offset = 0; offset < bytes; offset += SOURCE_SLICE_BYTES) {
    const end = Math.min(bytes, offset + SOURCE_SLICE_BYTES) - 1;
    const res = await fetch(`${url}/objects/big`, { headers: { range: `bytes=${offset}-${end}` } });
    if (res.status !== 206 || !res.body) throw new Error(`ranged get at ${offset}: ${res.status}`);
    let got = 0;
    const reader = res.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) got += r.value.byteLength;
    if (got !== end - offset + 1) throw new Error(`ranged get at ${offset}: ${got} bytes`);
  }
}

async function bareMemory(path: string, bytes: number): Promise<MemoryRun> {
  const bare = await startBare();
  const sampler = rssSampler(bare.pid);
  try {
    await sleep(5000);
    sampler.samples.length = 0;
    await sleep(IDLE_SECONDS * 1000);
    const throughputMBps: Record<string, number> = {};
    const timed = async (phase: string, step: () => Promise<void>) => {
      sampler.phase(phase);
      const started = performance.now();
      await step();
      throughputMBps[phase] = bytes / MB / ((performance.now() - started) / 1000);
    };
    await timed("uploadPart", () => bareUpload(bare.url, path, bytes));
    await timed("ranged get", () => bareRangedRead(bare.url, bytes));
    sampler.phase("after");
    await sleep(5000);
    return {
      what: "bare Worker, same local R2 simulator: uploadPart(request.body) only (16 MiB parts, 4 in flight), then the object read back by 16 MiB ranged get()s, one at a time",
      idleRss: sampler.idle(),
      peaks: sampler.peaks(),
      throughputMBps,
      samples: sampler.samples,
    };
  } finally {
    sampler.stop();
    await bare.stop();
  }
}

async function rssBench(o: LargeOptions): Promise<RssBench> {
  const target = Math.round(o.rssGiB * GiB);
  // The file, the stack's copy of it in R2, the remuxed copy in R2 until its grace ends (the
  // transcoder keeps neither the source nor the copy on its disk), the bare Worker's copy after
  // the stack's state is gone: about three times the file.
  const needed = 3 * target + 4 * GiB;
  const free = await freeBytes();
  if (free < needed)
    throw new Error(
      `the ${o.rssGiB} GiB memory run needs ~${(needed / GiB).toFixed(0)} GiB free disk, ${(free / GiB).toFixed(0)} GiB is`,
    );
  const path = await makeDenseFile(target);
  try {
    const bytes = (await stat(path)).size;
    const durationSec = (await probeSource(path)).durationSec;
    const reelay = await reelayMemory(path, bytes, o).catch((err: Error) => ({ error: err.message }));
    const bare = await bareMemory(path, bytes).catch((err: Error) => ({ error: err.message }));
    return { bytes, durationSec, reelay, bare };
  } finally {
    await rm(path, { force: true });
  }
}

export async function benchLarge(o: LargeOptions): Promise<LargeBench> {
  await mkdir(tmp, { recursive: true });
  const result: LargeBench = {
    options: o,
    muxMedians: MUX_MEDIANS,
    muxSource: "https://www.mux.com/ (median time-to-publish by length, as quoted in issue 18)",
    videoKbps: VIDEO_KBPS,
    timed: [],
    rss: null,
  };
  try {
    for (const codec of o.codecs)
      for (const minutes of [...o.minutes].sort((a, b) => a - b)) {
        try {
          const r = await timedRun(codec, minutes, o);
          console.error(
            `[bench] large ${codec} ${minutes} min: ready ${r.readySec.toFixed(1)} s, ladder ${r.ladderSec?.toFixed(1) ?? "not awaited"} s`,
          );
          result.timed.push(r);
        } catch (err) {
          console.error(`[bench] large ${codec} ${minutes} min failed: ${(err as Error).message}`);
          const { message, stackLog } = err as Error & { stackLog?: string };
          result.timed.push({ codec, minutes, error: message, stackLog });
        }
      }
    if (o.rssGiB > 0) result.rss = await rssBench(o).catch((err: Error) => ({ error: err.message }));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return result;
}

const codecName = (c: Codec) => (c === "h264" ? "H.264" : "HEVC");
const met = (ok: boolean) => (ok ? "met" : "missed");
const mib = (b: number) => `${(b / MiB).toFixed(0)} MiB`;

export function largeRows(r: LargeBench): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const t of r.timed) {
    if ("error" in t) {
      rows.push([`${t.minutes} min 1080p ${codecName(t.codec)}`, "failed", "–", "–", t.error]);
      continue;
    }
    const mux = muxMedian(t.minutes);
    const label = `${t.minutes} min 1080p ${codecName(t.codec)} (${(t.bytes / MB).toFixed(0)} MB)`;
    const copy = `ffmpeg -c copy -f hls, local disk: ${t.copyBaselineSec.toFixed(1)} s`;
    const muxNote = `Mux median time-to-publish (${mux.label}): ${mux.seconds} s`;
    rows.push([
      `${label}: completion → ready`,
      `${t.readySec.toFixed(1)} s`,
      copy,
      (t.readySec / t.copyBaselineSec).toFixed(2),
      `${muxNote} (×${(t.readySec / mux.seconds).toFixed(1)}); target ≤ ${READY_TARGET_SEC[t.codec]} s: ${met(t.readySec <= READY_TARGET_SEC[t.codec])}; n=1`,
    ]);
    rows.push(
      t.ladderSec === null
        ? [`${label}: completion → full ladder`, "not awaited (--large-ladder-max-minutes)", copy, "–", "n=0"]
        : [
            `${label}: completion → full ladder`,
            `${t.ladderSec.toFixed(1)} s (${(t.ladderSec / t.durationSec).toFixed(2)}× duration)`,
            copy,
            (t.ladderSec / t.copyBaselineSec).toFixed(2),
            `${muxNote}; n=1`,
          ],
    );
    if (t.stored) {
      const s = t.stored;
      const expected = s.source + s.ladder;
      const extra = s.extra.reduce((sum, o) => sum + o.bytes, 0);
      rows.push([
        `${label}: stored after the first-playable grace period`,
        `${(s.stored / MB).toFixed(1)} MB`,
        `source + ladder: ${(s.source / MB).toFixed(1)} + ${(s.ladder / MB).toFixed(1)} MB`,
        (s.stored / expected).toFixed(4),
        `target ≤ ${STORED_TARGET_RATIO}: ${met(s.stored <= expected * STORED_TARGET_RATIO)}; ${s.extra.length} other objects, ${(extra / MB).toFixed(2)} MB; listed ${s.waitedSec.toFixed(0)} s after the ladder (grace ${r.options.graceSeconds} s)`,
      ]);
    }
  }
  if (r.rss && "error" in r.rss) rows.push(["workerd RSS, large file", "failed", "–", "–", r.rss.error]);
  else if (r.rss) {
    const { reelay, bare, bytes } = r.rss;
    const size = `${(bytes / GiB).toFixed(1)} GiB`;
    if ("error" in reelay && !("peaks" in reelay))
      rows.push([`workerd RSS, Reelay, ${size} file`, "failed", "–", "–", reelay.error]);
    else {
      const peak = Math.max(...Object.values(reelay.peaks));
      const growth = peak - reelay.idleRss;
      const processing = reelay.error
        ? `processing FAILED after completion (${reelay.error})`
        : `ready ${reelay.readySec?.toFixed(0)} s, ladder ${reelay.ladderSec?.toFixed(0)} s after completion`;
      rows.push([
        `workerd RSS, Reelay: upload + processing of a ${size} file`,
        `peak ${mib(peak)} (+${mib(growth)} over idle)`,
        `idle: ${mib(reelay.idleRss)}`,
        (peak / reelay.idleRss).toFixed(2),
        `target growth ≤ 256 MiB: ${met(growth <= RSS_GROWTH_TARGET)}; peak in upload ${mib(reelay.peaks.upload ?? 0)} (${reelay.throughputMBps.upload.toFixed(0)} MB/s), in processing ${mib(reelay.peaks.processing ?? 0)}; ${processing}`,
      ]);
    }
    if ("error" in bare) rows.push([`workerd RSS, bare Worker, ${size} file`, "failed", "–", "–", bare.error]);
    else
      for (const step of ["uploadPart", "ranged get"]) {
        const p = bare.peaks[step] ?? 0;
        rows.push([
          `workerd RSS, bare Worker: ${step === "uploadPart" ? "uploadPart only, 4 in flight" : "16 MiB ranged get()s, front to back"}, same ${size} file`,
          `peak ${mib(p)} (+${mib(p - bare.idleRss)} over idle)`,
          `idle: ${mib(bare.idleRss)}`,
          (p / bare.idleRss).toFixed(2),
          `${bare.throughputMBps[step].toFixed(0)} MB/s; same R2 simulator, no Reelay code`,
        ]);
      }
  }
  return rows;
}
