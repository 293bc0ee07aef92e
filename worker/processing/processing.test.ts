// The processing state machine and the transcoder's storage protocol, inside
// workerd: the test speaks the protocol exactly as the transcoder does
// (signed job token, PUT outputs, POST events). The real transcoder runs in
// the transcoder tests and the end-to-end tests.
import { createMessageBatch, createExecutionContext, env, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, auth, bytes, json, sha256 } from "../testing/helpers.ts";
import {
  complete, event, jobApi, jobsReceived, metadata, processingVideo, publishPlayable, put, scriptTranscoder, SECRET, startJob, until, uploadedVideo,
} from "../testing/processing.ts";
import worker from "../index.ts";
import type { VideoUpload } from "../uploads/coordinator.ts";
import { signJobToken } from "./job-token.ts";
import { backoffSeconds } from "./queue.ts";

const video = async (id: string) => json(await api(`/api/videos/${id}`));

const message = (id: string, attempts: number, body: unknown) => ({ id, timestamp: new Date(), attempts, body });

/**
 * Runs the Worker's queue consumer on a batch, as the queue would, and says
 * which messages it acked, and which it retried after how long.
 * `getQueueResult` drops the delay passed to `retry` (@cloudflare/vitest-plugin
 * 1.5.0 records only the message id), so each message notes it on the way through.
 */
async function consume(messages: ReturnType<typeof message>[], queue = "reelay-transcode") {
  const batch = createMessageBatch(queue, messages);
  const delays = new Map<string, number | undefined>();
  const noting = batch.messages.map((m) => new Proxy(m, {
    get(target, key) {
      if (key === "retry") return (options?: QueueRetryOptions) => (delays.set(target.id, options?.delaySeconds), target.retry(options));
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }));
  const ctx = createExecutionContext();
  await worker.queue(new Proxy(batch, { get: (target, key) => (key === "messages" ? noting : Reflect.get(target, key, target)) }) as MessageBatch<unknown>, env);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retryMessages: result.retryMessages.map((r) => ({ msgId: r.msgId, delaySeconds: delays.get(r.msgId) })) };
}

async function jobState(videoId: string, jobId: string): Promise<string | undefined> {
  return runInDurableObject(env.UPLOADS.getByName(videoId), (_o: VideoUpload, state) =>
    state.storage.sql.exec<{ state: string }>("SELECT state FROM jobs WHERE job_id = ?", jobId).toArray()[0]?.state);
}

/**
 * A completed video whose own queue message the transcoder stand-in has
 * accepted, so that the messages a test sends next are the only ones in play.
 */
async function handedOffVideo() {
  const { up, file } = await uploadedVideo();
  await scriptTranscoder(up.videoId, [202]);
  await complete(up);
  await until("the upload's own job is handed off", async () => (await jobsReceived(up.videoId)).length === 1);
  const [first] = await jobsReceived(up.videoId);
  await until("the upload's own job runs", async () => (await jobState(up.videoId, first!.jobId)) === "running");
  return { up, file };
}

async function bucketKeys(prefix: string): Promise<string[]> {
  return (await env.VIDEOS.list({ prefix })).objects.map((o) => o.key).sort();
}

describe("processing", () => {
  it("shows progress, becomes ready when the first rendition is playable, then final", async () => {
    const { up, job } = await processingVideo();
    expect((await event(job, { type: "progress", progress: 0.42 })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "processing", progress: 0.42, playback: { hls: null } });

    await publishPlayable(job);
    const ready = await video(up.videoId);
    expect(ready).toMatchObject({
      id: up.videoId, title: "Sunrise", status: "ready", durationSec: 9.5, width: 1280, height: 720,
      playback: { hls: `http://reelay.test/videos/${up.videoId}/master.m3u8`, poster: `http://reelay.test/videos/${up.videoId}/${job.jobId}/poster.jpg` },
    });
    expect(ready.progress).toBeLessThan(1);

    const master = await api(`/videos/${up.videoId}/master.m3u8`);
    expect(master.headers.get("content-type")).toBe("application/vnd.apple.mpegurl");
    expect(master.headers.get("cache-control")).toBe("public, max-age=2");
    expect(await master.text()).toContain(`\n${job.jobId}/source/index.m3u8`);

    const segment = await api(`/videos/${up.videoId}/${job.jobId}/source/seg_00001.m4s`);
    expect(segment.status).toBe(200);
    expect(segment.headers.get("content-type")).toBe("video/mp4");
    expect(segment.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const etag = segment.headers.get("etag")!;
    expect(new Uint8Array(await segment.arrayBuffer())).toEqual(bytes(5000, 2));
    expect((await api(`/videos/${up.videoId}/${job.jobId}/source/seg_00001.m4s`, { headers: { "if-none-match": etag } })).status).toBe(304);
    const range = await api(`/videos/${up.videoId}/${job.jobId}/source/seg_00001.m4s`, { headers: { range: "bytes=100-199" } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes(5000, 2).subarray(100, 200));
    expect((await api(`/videos/${up.videoId}/poster.jpg`)).headers.get("content-type")).toBe("image/jpeg");
    expect((await api(`/videos/${up.videoId}/${job.jobId}/source/index.m3u8`)).headers.get("content-type")).toBe("application/vnd.apple.mpegurl");

    expect((await event(job, { type: "completed", metadata })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "ready" });
    expect((await video(up.videoId)).progress).toBeUndefined();
    expect((await api(`/videos/${up.videoId}/master.m3u8`)).headers.get("cache-control")).toBe("public, max-age=86400");
    // Finished: the job can no longer write or report.
    expect((await put(job, "extra.m4s", "x")).status).toBe(409);
    expect((await event(job, { type: "failed", reason: "late", retryable: false })).status).toBe(409);
    expect(await video(up.videoId)).toMatchObject({ status: "ready" });
  });

  it("lets only the current job write, read and report, and sweeps the losers' outputs", async () => {
    const { up, file, job: first } = await processingVideo();
    expect((await put(first, "source/seg_00001.m4s", "from the first job")).status).toBe(204);
    const src = await jobApi(first, "/source");
    expect(await sha256(await src.arrayBuffer())).toBe(await sha256(file));

    // The first job goes silent; the watchdog supersedes it.
    await runInDurableObject(env.UPLOADS.getByName(up.videoId), (_o: VideoUpload, state) => {
      state.storage.sql.exec("UPDATE jobs SET heartbeat_at = ?", Date.now() - 60_000);
    });
    expect(await runDurableObjectAlarm(env.UPLOADS.getByName(up.videoId))).toBe(true);
    expect(await bucketKeys(`videos/${up.videoId}/jobs/${first.jobId}/`)).toEqual([]);
    expect((await put(first, "source/seg_00002.m4s", "late write")).status).toBe(409);
    expect((await event(first, { type: "progress", progress: 0.9 })).status).toBe(409);
    expect((await jobApi(first, "/source")).status).toBe(409);

    const second = await startJob(up.videoId, 2);
    await publishPlayable(second);
    // A duplicate delivery of an attempt already running starts nothing.
    expect(await env.UPLOADS.getByName(up.videoId).startJob(2)).toMatchObject({ start: false });
    expect((await event(second, { type: "completed", metadata })).status).toBe(200);
    const keys = await bucketKeys(`videos/${up.videoId}/`);
    expect(keys.filter((k) => !k.startsWith(`videos/${up.videoId}/jobs/${second.jobId}/`))).toEqual([`videos/${up.videoId}/source`]);
    expect(await env.UPLOADS.getByName(up.videoId).startJob(3)).toMatchObject({ start: false, reason: "already processed" });
  });

  it("fails with the transcoder's reason, once, and keeps the source downloadable", async () => {
    const { up, file, job } = await processingVideo();
    expect((await event(job, { type: "failed", reason: "The file has no video stream (audio only).", retryable: false })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "failed", error: "The file has no video stream (audio only)." });
    expect((await event(job, { type: "progress", progress: 0.5 })).status).toBe(409);
    const source = await api(`/api/videos/${up.videoId}/source`, { headers: auth(up) });
    expect(await sha256(await source.arrayBuffer())).toBe(await sha256(file));
    expect((await api(`/videos/${up.videoId}/master.m3u8`)).status).toBe(409);
  });

  it("refuses unsigned, forged, expired and cross-job tokens", async () => {
    const { up, job } = await processingVideo();
    const other = { ...job, token: await signJobToken("another-secret-0123456789", { videoId: up.videoId, jobId: job.jobId, exp: Date.now() + 60_000 }) };
    const expired = { ...job, token: await signJobToken(SECRET, { videoId: up.videoId, jobId: job.jobId, exp: Date.now() - 1 }) };
    const crossJob = { ...job, jobId: "j9zzzzzzzzzz" };
    for (const bad of [other, expired, crossJob, { ...job, token: "nope" }]) {
      const res = await put(bad, "master.m3u8", "x");
      expect(res.status).toBe(401);
      expect(await json(res)).toMatchObject({ error: { code: "invalid_token" } });
    }
    for (const path of ["..%2F..%2Fsource", "a/b/c.m4s", "UPPER.m4s"]) expect((await put(job, path, "x")).status).toBe(400);
    expect((await event(job, { type: "progress", progress: 7 })).status).toBe(400);
    expect((await jobApi(job, "/events", { method: "POST", body: "{" })).status).toBe(400);
  });

  it("acks a job the transcoder accepts, records it as the video's current job, and drops a malformed message", async () => {
    const { up, file } = await handedOffVideo();
    await scriptTranscoder(up.videoId, [202]);
    const result = await consume([message("m1", 1, { videoId: up.videoId, attempt: 2 }), message("m2", 1, { nonsense: true })]);
    expect(result).toMatchObject({ explicitAcks: ["m1", "m2"], retryMessages: [] });

    const [, job] = await jobsReceived(up.videoId);
    const base = `http://reelay.test/internal/jobs/${job!.jobId}`;
    expect(job).toEqual({
      jobId: expect.any(String), videoId: up.videoId, attempt: 2, token: expect.any(String),
      sourceUrl: `${base}/source`, uploadBaseUrl: `${base}/files`, callbackUrl: `${base}/events`,
    });
    expect((await env.UPLOADS.getByName(up.videoId).processing()).currentJob).toBe(job!.jobId);
    expect(await jobState(up.videoId, job!.jobId)).toBe("running");
    // What the transcoder was handed works: its token reads the source and reports progress.
    const source = await api(new URL(job!.sourceUrl).pathname, { headers: { authorization: `Bearer ${job!.token}` } });
    expect(await sha256(await source.arrayBuffer())).toBe(await sha256(file));
    expect((await event(job!, { type: "progress", progress: 0.3 })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "processing", progress: 0.3 });
  });

  it("acks a job every transcoder is busy with, and the video's alarm offers it again", async () => {
    const { up } = await handedOffVideo();
    await scriptTranscoder(up.videoId, [503, 202]);
    expect(await consume([message("m1", 1, { videoId: up.videoId, attempt: 2 })])).toMatchObject({ explicitAcks: ["m1"], retryMessages: [] });
    const [, busy] = await jobsReceived(up.videoId);
    expect(await jobState(up.videoId, busy!.jobId)).toBe("deferred");

    // The alarm is due a few seconds after the refusal; move the refusal back rather than wait.
    const stub = env.UPLOADS.getByName(up.videoId);
    await runInDurableObject(stub, (_o: VideoUpload, state) => {
      state.storage.sql.exec("UPDATE jobs SET created_at = created_at - 10000");
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // The offer travels through the real queue to the consumer, and the transcoder takes it this time.
    await until("the job is offered again", async () => (await jobsReceived(up.videoId)).length === 3);
    const again = (await jobsReceived(up.videoId))[2]!;
    expect(again).toMatchObject({ videoId: up.videoId, attempt: 2 });
    expect(again.jobId).not.toBe(busy!.jobId);
    await until("the new job runs", async () => (await jobState(up.videoId, again.jobId)) === "running");
    expect((await stub.processing()).currentJob).toBe(again.jobId);
    const late = await event(busy!, { type: "progress", progress: 0.1 });
    expect(late.status).toBe(409);
    expect(await json(late)).toMatchObject({ error: { code: "job_superseded" } });
  });

  it("retries a hand-off the transcoder fails or cannot take, 5, 10, 20, 40 s apart, and fails the video from the dead-letter queue", async () => {
    const { up } = await handedOffVideo();
    // Three refusals, then the stand-in is down (nothing scripted).
    await scriptTranscoder(up.videoId, [500, 500, 500]);
    const body = { videoId: up.videoId, attempt: 2 };
    const result = await consume([message("r1", 1, body), message("r2", 2, body), message("r3", 3, body), message("r4", 4, body)]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toEqual([
      { msgId: "r1", delaySeconds: 5 },
      { msgId: "r2", delaySeconds: 10 },
      { msgId: "r3", delaySeconds: 20 },
      { msgId: "r4", delaySeconds: 40 },
    ]);
    expect(backoffSeconds(10)).toBe(300);
    expect(await video(up.videoId)).toMatchObject({ status: "processing" });

    // After its last retry the queue moves the message to the dead-letter queue, whose consumer fails the video.
    expect(await consume([message("d1", 1, body)], "reelay-transcode-dlq")).toMatchObject({ explicitAcks: ["d1"], retryMessages: [] });
    expect(await video(up.videoId)).toMatchObject({ status: "failed", error: expect.stringContaining("No transcoder") });
  });

  it("fails a video whose job comes back past the last attempt, acking the message", async () => {
    const { up } = await processingVideo();
    expect(await consume([message("m1", 1, { videoId: up.videoId, attempt: 5 })])).toMatchObject({ explicitAcks: ["m1"], retryMessages: [] });
    expect(await video(up.videoId)).toMatchObject({ status: "failed", error: "Processing did not finish after 4 attempts." });
  });

  it("fails after repeated refused hand-offs", async () => {
    const { up } = await processingVideo();
    const stub = env.UPLOADS.getByName(up.videoId);
    await runInDurableObject(stub, (_o: VideoUpload, state) => {
      state.storage.sql.exec("UPDATE jobs SET state = 'refused', created_at = ?", Date.now() - 120_000);
      for (let i = 0; i < 6; i++) state.storage.sql.exec("INSERT INTO jobs (job_id, attempt, state, created_at, heartbeat_at) VALUES (?, 1, 'refused', ?, ?)", `jx${i}refused`, Date.now() - 100_000, 0);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await video(up.videoId)).toMatchObject({ status: "failed", error: expect.stringContaining("No transcoder") });
  });
});
