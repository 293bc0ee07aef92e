// Upload → queue → transcoder → HLS, on the real stack from `npm start`,
// with real ffmpeg. Then the transcoder is killed mid-job and the watchdog
// must retry the job to `ready` with no orphaned outputs. Every upload counts
// the 5xx answers its client retried over: there must be none.
import { randomFillSync } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ffmpegPaths } from "../../transcoder/ffmpeg-path.ts";
import { decodesCleanly } from "../../transcoder/testing/media.ts";
import { openFile } from "../../web/cli/file-source.ts";
import { upload } from "../../web/src/upload-client.ts";
import {
  acceptedJobs,
  isFinal as final,
  killTranscoderMidJob,
  makeVideo as makeClip,
  playbackUrl,
  playedAttempt,
  recordingFetch,
  run,
  storedKeys as keysIn,
  taskOf,
  waitForVideo,
} from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";

let stack: Stack;
let dir: string;
const { ffprobe } = ffmpegPaths();

beforeAll(async () => {
  // A short grace for the first-playable copy, so a test can see it go.
  // Spans of 20 s, so a three-minute source has nine.
  stack = await startStack({
    env: { JOB_HEARTBEAT_TIMEOUT_SECONDS: "8", FIRST_PLAYABLE_GRACE_SECONDS: "3", SPAN_SECONDS: "20" },
  });
  dir = await mkdtemp(join(tmpdir(), "reelay-e2e-proc-"));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const makeVideo = (name: string, size: string, seconds: number) => makeClip(join(dir, name), { size, seconds });

async function uploadFile(path: string, title: string) {
  const file = new Blob([await readFile(path)]);
  const recording = recordingFetch();
  const up = await upload({
    endpoint: stack.url,
    fetch: recording.fetch,
    file,
    filename: path.split("/").pop()!,
    contentType: "video/mp4",
    title,
  });
  expect(recording.serverErrors, "5xx answers the client retried over").toEqual([]);
  return up;
}

const waitFor = (id: string, done: Parameters<typeof waitForVideo>[2], timeoutMs: number) =>
  waitForVideo(stack.url, id, done, timeoutMs);
const storedKeys = (prefix: string) => keysIn(stack.stateDir, prefix);

/**
 * A two-minute H.264/AAC MP4 heavy enough (about 400 MB) that copying it into
 * HLS through the worker takes many seconds: a generated 20 s of noisy 240p
 * at a high bit rate, repeated six times with `-c copy`, as long recordings
 * are cut. Small pictures keep its ladder (240p only) quick to encode.
 */
async function makeLongHeavyVideo(path: string): Promise<string> {
  const part = `${path}.part.mp4`;
  const list = `${path}.txt`;
  const { ffmpeg } = ffmpegPaths();
  await run(ffmpeg, [
    ...["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=426x240:rate=30:duration=20,noise=alls=40:allf=t"],
    ...["-f", "lavfi", "-i", "sine=frequency=440:duration=20"],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-qp", "12", "-g", "60", "-pix_fmt", "yuv420p"],
    ...["-c:a", "aac", "-b:a", "96k", part],
  ]);
  await writeFile(list, Array.from({ length: 6 }, () => `file '${part}'\n`).join(""));
  await run(
    ffmpeg,
    ["-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", list, "-c", "copy"].concat([
      "-movflags",
      "+faststart",
      path,
    ]),
  );
  await rm(part);
  return path;
}

/** `bytes` of random data: what no probe can take for a video. */
async function writeNoise(path: string, bytes: number): Promise<string> {
  const out = createWriteStream(path);
  const block = Buffer.alloc(16 << 20);
  for (let written = 0; written < bytes; written += block.length) {
    randomFillSync(block);
    if (!out.write(block.subarray(0, Math.min(block.length, bytes - written))))
      await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return path;
}

describe("processing on the real stack", () => {
  it("fails a 1 GiB file that is not a video within 10 s of completion, reading only what the probe needs", async () => {
    const path = await writeNoise(join(dir, "holiday.mp4"), 1 << 30);
    const up = await upload({
      endpoint: stack.url,
      file: await openFile(path),
      filename: "holiday.mp4",
      contentType: "video/mp4",
      title: "Not a video",
    });
    const completed = Date.now();
    let video = await (await fetch(`${stack.url}/api/videos/${up.videoId}`)).json();
    while (video.status !== "failed" && Date.now() - completed < 60_000) {
      await new Promise((r) => setTimeout(r, 100));
      video = await (await fetch(`${stack.url}/api/videos/${up.videoId}`)).json();
    }
    const failedAfter = Date.now() - completed;
    expect(video).toMatchObject({
      status: "failed",
      error: "The file is not a video ffmpeg can read: Invalid data found when processing input.",
    });
    console.log(`a 1 GiB non-video failed ${failedAfter} ms after completion`);
    expect(failedAfter).toBeLessThan(10_000);
  }, 180_000);

  it("makes an uploaded video playable, then publishes the full ladder, decodable over HTTP", async () => {
    const path = await makeVideo("clip.mp4", "1280x720", 9);
    const up = await uploadFile(path, "Test pattern");
    const started = Date.now();
    const playable = await waitFor(up.videoId, (v) => v.status === "ready", 120_000);
    const playableAfter = Date.now() - started;
    expect(playable.playback.hls).toBe(`/videos/${up.videoId}/master.m3u8`);
    const ready = await waitFor(up.videoId, final, 240_000);
    expect(ready.renditions.map((r) => r.name)).toEqual(["720p", "480p", "360p", "240p"]);

    const master = await (await fetch(playbackUrl(stack, ready.playback.hls!))).text();
    expect(master).toMatch(/AVERAGE-BANDWIDTH=\d+/);
    expect(master).toMatch(/FRAME-RATE=30\.000/);
    const probe = JSON.parse(
      (
        await run(ffprobe, [
          "-v",
          "error",
          "-show_entries",
          "stream=codec_name,width,height",
          "-of",
          "json",
          playbackUrl(stack, ready.playback.hls!),
        ])
      ).stdout,
    );
    const codecs = probe.streams.map((s: { codec_name: string }) => s.codec_name);
    expect(codecs).toContain("h264");
    expect(codecs).toContain("aac");
    expect(probe.streams.some((s: { height?: number }) => s.height === 720)).toBe(true);

    const poster = await fetch(playbackUrl(stack, ready.playback.poster!));
    expect(poster.headers.get("content-type")).toBe("image/jpeg");
    expect(poster.headers.get("cache-control")).toContain("immutable");
    console.log(`first playable ${playableAfter} ms after completion of a 9 s 720p upload`);
  });

  it("plays a two-minute H.264 source from its first segments while its playlist grows, then keeps only the source, ladder and poster", async () => {
    const path = await makeLongHeavyVideo(join(dir, "recording.mp4"));
    const up = await upload({
      endpoint: stack.url,
      file: await openFile(path),
      filename: "recording.mp4",
      contentType: "video/mp4",
      title: "Two minutes",
    });
    const completed = Date.now();
    const playable = await waitFor(up.videoId, (v) => v.status === "ready", 120_000);
    const readyAfter = Date.now() - completed;
    const master = await (await fetch(playbackUrl(stack, playable.playback.hls!))).text();
    const variant = master.split("\n").find((l) => l.endsWith("source/index.m3u8"));
    expect(variant, master).toBeDefined();
    const playlistUrl = playbackUrl(stack, `/videos/${up.videoId}/${variant}`);
    const atReady = await fetch(playlistUrl);
    const growing = await atReady.text();
    // An EVENT playlist, not ended, holding the first of the 30 segments two minutes make.
    expect(growing).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
    expect(growing).not.toContain("#EXT-X-ENDLIST");
    const segmentsAtReady = growing.split("\n").filter((l) => l.startsWith("#EXTINF")).length;
    expect(segmentsAtReady).toBeGreaterThan(0);
    expect(segmentsAtReady).toBeLessThan(30);
    expect(atReady.headers.get("cache-control")).toBe("public, max-age=2");
    // Its first segment plays: ffprobe reads the growing playlist from the start.
    const firstSeconds = JSON.parse(
      (
        await run(ffprobe, [
          ...["-v", "error", "-read_intervals", "%+2", "-show_entries", "stream=codec_name,width", "-of", "json"],
          playbackUrl(stack, playable.playback.hls!),
        ])
      ).stdout,
    );
    expect(firstSeconds.streams.map((s: { codec_name: string }) => s.codec_name).sort()).toEqual(["aac", "h264"]);

    const ready = await waitFor(up.videoId, final, 600_000);
    expect(ready.renditions.map((r) => r.name)).toEqual(["240p"]);
    expect(ready.durationSec).toBeCloseTo(120, 0);
    const ended = await (await fetch(playlistUrl)).text();
    expect(ended).toContain("#EXT-X-ENDLIST");
    expect(ended.split("\n").filter((l) => l.startsWith("#EXTINF")).length).toBe(30);
    const ladder = JSON.parse(
      (
        await run(ffprobe, [
          ...["-v", "error", "-show_entries", "format=duration:stream=codec_name,height", "-of", "json"],
          playbackUrl(stack, ready.playback.hls!),
        ])
      ).stdout,
    );
    expect(Number(ladder.format.duration)).toBeGreaterThan(119);
    expect(ladder.streams.map((s: { codec_name: string }) => s.codec_name).sort()).toEqual(["aac", "h264"]);
    expect(await decodesCleanly(playbackUrl(stack, ready.playback.hls!))).toBe(true);

    // After the grace (3 s here), the copy the first viewers played (its playlist was read above) is
    // gone: the source, the ladder, the poster, the ladder's frames and their storyboard.
    const job = ready.playback.poster!.split("/").at(-2);
    const prefix = `videos/${up.videoId}/`;
    const kinds = () =>
      [...new Set(storedKeys(prefix).map((k) => k.slice(prefix.length).split("/").slice(0, 3).join("/")))].sort();
    const deadline = Date.now() + 60_000;
    while (kinds().includes(`jobs/${job}/source`) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 500));
    expect(kinds()).toEqual(
      [
        "source",
        ...["240p", "audio_0", "master.m3u8", "poster.jpg", "frames", "storyboard.vtt"].map((f) => `jobs/${job}/${f}`),
      ].sort(),
    );
    console.log(
      `a 2 min H.264 source was ready ${readyAfter} ms after completion, with ${segmentsAtReady} of 30 segments`,
    );
  }, 900_000);

  it("encodes a three-minute source in spans on 2 slots, stitched frame for frame, and retries only the span whose transcoder is killed", async () => {
    const path = await makeVideo("spans.mp4", "640x360", 180);
    const up = await uploadFile(path, "Spans");
    // The transcoder and its ffmpeg die while a span encodes: a task after the job's first.
    const deadline = Date.now() + 60_000;
    while (acceptedJobs(stack, up.videoId).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const [first] = acceptedJobs(stack, up.videoId);
    const killed = await killTranscoderMidJob(stack, up.videoId, [taskOf(first)], 120_000);
    const runningAtKill = spansRunning(up.videoId);
    expect(killed.span).toBeDefined();
    expect(runningAtKill.length).toBeGreaterThan(0);
    const ready = await waitFor(up.videoId, final, 400_000);
    expect(ready.renditions.map((r) => r.name)).toEqual(["360p", "240p"]);
    expect(stack.output()).toMatch(/transcoder exited .*restarting it/);

    // Nine 20 s spans, at most two at once; only the killed ones were tried again, and the job was not.
    const tasks = acceptedJobs(stack, up.videoId);
    expect(tasks.filter((t) => t.span === undefined).map((t) => t.attempt)).toEqual([1]);
    const spans = tasks.filter((t) => t.span !== undefined);
    expect(new Set(spans.map((t) => t.span))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    const retried = new Set(spans.filter((t) => t.spanAttempt! > 1).map((t) => t.span));
    expect([...retried].sort()).toEqual([...runningAtKill].sort());
    expect(playedAttempt(stack, up.videoId, ready.playback.poster!)).toBe(1);
    expect(killed.attempt).toBe(1);

    // Every rung decodes over HTTP with the source's frames, no gap or overlap at any span boundary,
    // and audio as long as the video.
    const sourceFrames = await frameTimes(path);
    const master = await (await fetch(playbackUrl(stack, ready.playback.hls!))).text();
    const playlists = master.split("\n").filter((l) => l.endsWith("index.m3u8") && !l.includes("audio"));
    expect(playlists).toHaveLength(2);
    const audioUri = /URI="([^"]+)"/.exec(master)![1];
    const audio = JSON.parse(
      (
        await run(ffprobe, [
          ...["-v", "error", "-show_entries", "format=duration", "-of", "json"],
          playbackUrl(stack, `/videos/${up.videoId}/${audioUri}`),
        ])
      ).stdout,
    );
    for (const playlist of playlists) {
      const times = await frameTimes(playbackUrl(stack, `/videos/${up.videoId}/${playlist}`));
      expect(times.length, playlist).toBe(sourceFrames.length);
      const steps = times.slice(1).map((t, i) => t - times[i]);
      expect(Math.max(...steps), playlist).toBeLessThan(1.5 / 30);
      expect(Math.min(...steps), playlist).toBeGreaterThan(0.5 / 30);
      const videoSec = times.length / 30;
      expect(Math.abs(Number(audio.format.duration) - videoSec), playlist).toBeLessThan(0.05);
      console.log(
        `${playlist}: ${times.length} frames (source ${sourceFrames.length}), frame steps ${Math.min(...steps).toFixed(4)}–${Math.max(...steps).toFixed(4)} s, audio ${audio.format.duration} s vs video ${videoSec.toFixed(3)} s`,
      );
    }
    console.log(`spans running when the transcoder was killed: ${runningAtKill}; tried again: ${[...retried]}`);

    // Nothing of the killed tries is left: the stitched playlists name every stored segment.
    const keys = storedKeys(`videos/${up.videoId}/jobs/`);
    const segments = keys.filter((k) => /\/(360p|240p)\/seg_/.test(k));
    expect(segments).toHaveLength(2 * 45);
  }, 600_000);
});

/** The spans whose current try the transcoder took and has not finished, from its log. */
function spansRunning(videoId: string): number[] {
  const done = new Set<string>();
  for (const line of stack.output().split("\n")) {
    if (!line.includes('"job.span_completed"')) continue;
    done.add(taskOf(JSON.parse(line.slice(line.indexOf("{")))));
  }
  return acceptedJobs(stack, videoId)
    .filter((t) => t.span !== undefined && !done.has(taskOf(t)))
    .map((t) => t.span!);
}

/** Every video frame's presentation time, in decoding order of the whole input, read by ffprobe. */
async function frameTimes(input: string): Promise<number[]> {
  const out = await run(ffprobe, [
    ...["-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time", "-of", "csv=p=0"],
    input,
  ]);
  return out.stdout
    .split("\n")
    .map((l) => Number.parseFloat(l))
    .filter((t) => Number.isFinite(t));
}
