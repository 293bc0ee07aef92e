// The ladder in spans through the Worker, as the transcoder's tasks drive it:
// the first task names the ladder, the video's object queues one task per
// span (the stand-in takes them), each span's try writes and reports under
// its own token, and the object stitches the rungs and the master.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectError } from "../../test/expect-error.ts";
import type { JobSpec, SpanRung } from "../contracts/job.ts";
import { api, bytes, json } from "../testing/helpers.ts";
import {
  event,
  type Job,
  jobsReceived,
  metadata,
  processingVideo,
  publishPlayable,
  put,
  scriptTranscoder,
  spanTry,
  until,
} from "../testing/processing.ts";
import { frameFile, spriteFile } from "../contracts/storyboard.ts";
import { jobPrefix } from "../storage/keys.ts";

const video = async (id: string) => json(await api(`/api/videos/${id}`));
const LADDER = { rungs: ["720p", "360p"], frameRate: { num: 30, den: 1 }, segmentFrames: 120, durationSec: 170 };
const INIT = { "720p": bytes(700, 11), "360p": bytes(600, 12) } as const;

/** The span tasks the stand-in took, by index; the last try of each. */
async function spanSpecs(videoId: string): Promise<Map<number, JobSpec>> {
  const specs = (await jobsReceived(videoId)).filter((j) => j.span);
  return new Map(specs.map((j) => [j.span!.index, j]));
}

/** The top rung's frames a span reports, with `FRAME_SPEC`'s layout: one every 2 s of its range. */
const FRAME_SPEC = {
  intervalSec: 2,
  widths: [160, 640],
  sprite: { tileWidth: 160, tileHeight: 90, columns: 5, rows: 6 },
};

/**
 * Writes span `index`'s try as a transcoder would (its segments, span 0 the
 * init segments; with `frames`, the top rung's first frame of its range and
 * its sheet) and reports it.
 */
async function runSpan(job: Job, spec: JobSpec, init = INIT, frames = false): Promise<Response> {
  const span = spec.span!;
  const at = await spanTry(job, span.index, span.attempt);
  const count = span.frames === null ? 5 : span.frames / LADDER.segmentFrames;
  const rungs: SpanRung[] = [];
  for (const name of LADDER.rungs as Array<keyof typeof INIT>) {
    if (span.index === 0) expect((await put(at, `${name}/init.mp4`, init[name])).status).toBe(204);
    const segments = [];
    for (let i = 0; i < count; i++) {
      const uri = `seg_${String(span.startNumber + i).padStart(5, "0")}.a${span.attempt}.m4s`;
      const body = bytes(name === "720p" ? 2000 : 1000, span.index * 100 + i);
      expect((await put(at, `${name}/${uri}`, body)).status).toBe(204);
      segments.push({ uri, duration: 4, bytes: body.length });
    }
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", init[name])), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    rungs.push({
      name,
      width: name === "720p" ? 1280 : 640,
      height: name === "720p" ? 720 : 360,
      codecs: name === "720p" ? "avc1.64001f" : "avc1.4d401e",
      init: { sha256: digest, bytes: init[name].length },
      segments,
      ...(frames && name === "720p" ? { frames: await spanFrames(at, span.startSec, count * 2) } : {}),
    });
  }
  return event(at, { type: "span_completed", span: span.index, rungs });
}

/** Puts a span's first frame (at 160) and its sheet; its report of `count` frames from `startSec`. */
async function spanFrames(at: Job, startSec: number, count: number) {
  const first = startSec / 2;
  expect((await put(at, frameFile(160, first), bytes(100, first))).status).toBe(204);
  expect((await put(at, spriteFile(first), bytes(400, first))).status).toBe(204);
  return { ...FRAME_SPEC, first, count, bytes: 500 };
}

/** A video whose first task published a copy of the source and named LADDER; its spans queued. */
async function ladderVideo(answers: (202 | 503)[] = [202, 202, 202]) {
  const { up, job } = await processingVideo();
  await scriptTranscoder(up.videoId, answers);
  await publishPlayable(job, metadata);
  const res = await event(job, { type: "playable", metadata: { ...metadata, durationSec: 170 }, ladder: LADDER });
  expect(res.status).toBe(200);
  return { up, job };
}

describe("the ladder in spans", () => {
  it("queues one task per span, each its part of the source, and stitches the rungs and master once all are in", async () => {
    const { up, job } = await ladderVideo();
    await until("three spans are handed off", async () => (await spanSpecs(up.videoId)).size === 3);
    const specs = await spanSpecs(up.videoId);
    expect([...specs.values()].map((s) => s.span)).toEqual([
      { index: 0, attempt: 1, startSec: 0, frames: 1800, startNumber: 1, rungs: ["720p", "360p"] },
      { index: 1, attempt: 1, startSec: 60, frames: 1800, startNumber: 16, rungs: ["720p", "360p"] },
      { index: 2, attempt: 1, startSec: 120, frames: null, startNumber: 31, rungs: ["720p", "360p"] },
    ]);
    // The first task named the ladder: its part is over, and its token writes nothing more.
    await expectError(put(job, "720p/seg_00001.m4s", bytes(10)), 409, "job_superseded");

    for (const i of [2, 0]) expect((await runSpan(job, specs.get(i)!)).status).toBe(200);
    // Two spans of three in, by span-seconds: (50 + 60) / 170.
    expect(await video(up.videoId)).toMatchObject({ status: "ready", progress: 0.647 });
    expect((await runSpan(job, specs.get(1)!)).status).toBe(200);

    const done = await video(up.videoId);
    expect(done.progress).toBeUndefined();
    expect(done.renditions.map((r: { name: string }) => r.name)).toEqual(["720p", "360p"]);
    const prefix = jobPrefix(up.videoId, job.jobId);
    const playlist = await (await env.VIDEOS.get(`${prefix}720p/index.m3u8`))!.text();
    const listed = playlist.split("\n").filter((l) => l.startsWith("seg_"));
    expect(listed).toHaveLength(15 + 15 + 5);
    expect(listed[0]).toBe("seg_00001.a1.m4s");
    expect(listed.at(-1)).toBe("seg_00035.a1.m4s");
    const master = await (await api(`/videos/${up.videoId}/master.m3u8`)).text();
    expect(master).toContain(`${job.jobId}/720p/index.m3u8`);
    expect(master).toContain(`${job.jobId}/360p/index.m3u8`);
    expect(master).not.toContain("source/index.m3u8");
    // 2000-byte segments of 4 s, without audio.
    expect(master).toMatch(/BANDWIDTH=4000,AVERAGE-BANDWIDTH=4000,RESOLUTION=1280x720,CODECS="avc1.64001f"/);
  });

  it("retries only the span whose try fails, and refuses the failed try's late writes and result", async () => {
    const { up, job } = await ladderVideo([202, 202, 202, 202]);
    await until("three spans are handed off", async () => (await spanSpecs(up.videoId)).size === 3);
    const first = await spanSpecs(up.videoId);
    const failing = await spanTry(job, 1, 1);
    const failed = { type: "failed", reason: "ffmpeg died", retryable: true };
    expect((await event(failing, failed)).status).toBe(200);
    await expectError(put(failing, "720p/seg_00016.a1.m4s", bytes(10)), 409, "job_superseded");
    // The other spans' tries still count.
    expect((await runSpan(job, first.get(0)!)).status).toBe(200);
    expect((await runSpan(job, first.get(2)!)).status).toBe(200);

    // After its backoff (5 s), span 1 alone is handed off again, as its second try.
    await until("span 1's second try", async () => (await spanSpecs(up.videoId)).get(1)?.span?.attempt === 2, 15_000);
    const received = (await jobsReceived(up.videoId)).filter((j) => j.span).map((j) => j.span!.index);
    expect(received.sort()).toEqual([0, 1, 1, 2]);
    const late = await runSpan(job, { ...first.get(1)!, span: { ...first.get(1)!.span!, attempt: 1 } }).catch(
      (e: unknown) => e,
    );
    expect(late).toBeInstanceOf(Error); // its PUTs are refused before it can report
    expect((await runSpan(job, (await spanSpecs(up.videoId)).get(1)!)).status).toBe(200);
    const done = await video(up.videoId);
    expect(done).toMatchObject({ status: "ready" });
    expect(done.progress).toBeUndefined();
    const playlist = await (await env.VIDEOS.get(`${jobPrefix(up.videoId, job.jobId)}360p/index.m3u8`))!.text();
    expect(playlist).toContain("seg_00016.a2.m4s");
    expect(playlist).not.toContain("seg_00016.a1.m4s");
  }, 30_000);

  it("lets a span's token write only its own try's segments", async () => {
    const { up, job } = await ladderVideo();
    await until("span 1 is handed off", async () => (await spanSpecs(up.videoId)).has(1));
    const at = await spanTry(job, 1, 1);
    await expectError(put(at, "720p/init.mp4", bytes(10)), 400, "invalid_path");
    await expectError(put(at, "master.m3u8", "#EXTM3U\n"), 400, "invalid_path");
    await expectError(put(at, "720p/seg_00016.a2.m4s", bytes(10)), 400, "invalid_path");
    expect((await put(at, "720p/seg_00016.a1.m4s", bytes(10))).status).toBe(204);
    await expectError(event(at, { type: "playable", metadata }), 400, "invalid_request");
    // A failure for good ends the ladder; the video keeps playing its first rendition, and its spans' slots are free.
    expect((await event(at, { type: "failed", reason: "The file is broken.", retryable: false })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "ready", error: "The file is broken." });
  });

  it("fails the video's ladder, keeping its first rendition playing, when spans' init segments differ", async () => {
    const { up, job } = await ladderVideo();
    await until("three spans are handed off", async () => (await spanSpecs(up.videoId)).size === 3);
    const specs = await spanSpecs(up.videoId);
    expect((await runSpan(job, specs.get(0)!)).status).toBe(200);
    expect((await runSpan(job, specs.get(1)!)).status).toBe(200);
    const other = { "720p": bytes(700, 99), "360p": INIT["360p"] };
    expect((await runSpan(job, specs.get(2)!, other)).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({
      status: "ready",
      error: "Processing failed: the ladder's parts did not fit together.",
    });
    expect(await (await api(`/videos/${up.videoId}/master.m3u8`)).text()).toContain("source/index.m3u8");
  });

  it("stitches the frames the top rung's spans wrote into the storyboard, and the video's thumbnails follow", async () => {
    const { up, job } = await ladderVideo();
    await until("three spans are handed off", async () => (await spanSpecs(up.videoId)).size === 3);
    const specs = await spanSpecs(up.videoId);
    for (const i of [0, 1, 2]) expect((await runSpan(job, specs.get(i)!, INIT, true)).status).toBe(200);

    const done = await video(up.videoId);
    expect(done.playback.storyboard).toBe(`/videos/${up.videoId}/storyboard.vtt`);
    const vtt = await (await api(done.playback.storyboard)).text();
    // 60 s spans: 30 frames each, the last (five 4 s segments here) 10; each span's frames start a sheet.
    const cues = vtt.trim().split("\n\n").slice(1);
    expect(cues).toHaveLength(70);
    const sheet = (n: number) => `/videos/${up.videoId}/${job.jobId}/frames/sprite_${String(n).padStart(5, "0")}.jpg`;
    expect(cues[29]).toBe(`00:00:57.000 --> 00:00:59.000\n${sheet(0)}#xywh=640,450,160,90`);
    expect(cues[30]).toBe(`00:00:59.000 --> 00:01:01.000\n${sheet(30)}#xywh=0,0,160,90`);
    expect(cues[69]).toBe(`00:02:17.000 --> 00:02:50.000\n${sheet(60)}#xywh=640,90,160,90`);
    for (const n of [0, 30, 60]) expect((await api(sheet(n))).status).toBe(200);
    const frame = await api(`/videos/${up.videoId}/thumbnail.jpg?time=60.4&width=300`);
    expect(new Uint8Array(await frame.arrayBuffer())).toEqual(bytes(100, 30));
  });

  it("lets a span's token write frames, and no other file outside its try's segments", async () => {
    const { up, job } = await ladderVideo();
    await until("span 1 is handed off", async () => (await spanSpecs(up.videoId)).has(1));
    const at = await spanTry(job, 1, 1);
    expect((await put(at, "frames/1280_00030.jpg", bytes(10))).status).toBe(204);
    expect((await put(at, "frames/sprite_00030.jpg", bytes(10))).status).toBe(204);
    await expectError(put(at, "storyboard.vtt", "WEBVTT\n"), 400, "invalid_path");
    await expectError(put(at, "frames/poster.jpg", bytes(10)), 400, "invalid_path");
  });
});
