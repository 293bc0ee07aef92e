// The processing state machine and the transcoder's storage protocol, inside
// workerd: the test speaks the protocol exactly as the transcoder does
// (signed job token, PUT outputs, POST events). The real transcoder runs in
// the transcoder tests and the end-to-end tests.
import { createMessageBatch, createExecutionContext, env, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, auth, bytes, json, sha256 } from "../testing/helpers.ts";
import { event, jobApi, metadata, processingVideo, publishPlayable, put, SECRET, startJob } from "../testing/processing.ts";
import worker from "../index.ts";
import type { VideoUpload } from "../uploads/coordinator.ts";
import { signJobToken } from "./job-token.ts";
import { backoffSeconds } from "./queue.ts";

const video = async (id: string) => json(await api(`/api/videos/${id}`));

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

  it("acks a job the transcoder accepts, retries with backoff when it cannot, fails via the dead-letter queue", async () => {
    const { up } = await processingVideo();
    // Nothing listens at TRANSCODER_URL in these tests: the hand-off fails.
    const batch = createMessageBatch("reelay-transcode", [
      { id: "m1", timestamp: new Date(), attempts: 3, body: { videoId: up.videoId, attempt: 2 } },
      { id: "m2", timestamp: new Date(), attempts: 1, body: { nonsense: true } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<unknown>, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual(["m2"]);
    expect(result.retryMessages).toMatchObject([{ msgId: "m1" }]);
    expect([1, 2, 3, 10].map(backoffSeconds)).toEqual([5, 10, 20, 300]);

    const dead = createMessageBatch("reelay-transcode-dlq", [{ id: "d1", timestamp: new Date(), attempts: 1, body: { videoId: up.videoId, attempt: 2 } }]);
    const dctx = createExecutionContext();
    await worker.queue(dead as MessageBatch<unknown>, env);
    expect((await getQueueResult(dead, dctx)).explicitAcks).toEqual(["d1"]);
    expect(await video(up.videoId)).toMatchObject({ status: "failed", error: expect.stringContaining("No transcoder") });
  });

  it("offers a job again when every transcoder was busy, and fails after repeated refused hand-offs", async () => {
    const { up, job } = await processingVideo();
    const stub = env.UPLOADS.getByName(up.videoId);
    // The started job was refused as busy: the alarm offers it again once its wait is over.
    await runInDurableObject(stub, (_o: VideoUpload, state) => {
      state.storage.sql.exec("UPDATE jobs SET state = 'deferred', created_at = ?", Date.now() - 10_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const deadline = Date.now() + 10_000;
    while ((await stub.processing()).jobs.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await stub.processing()).jobs.length).toBeGreaterThan(1);
    expect((await event(job, { type: "progress", progress: 0.1 })).status).toBe(409);

    await runInDurableObject(stub, (_o: VideoUpload, state) => {
      state.storage.sql.exec("UPDATE jobs SET state = 'refused', created_at = ?", Date.now() - 120_000);
      for (let i = 0; i < 6; i++) state.storage.sql.exec("INSERT INTO jobs (job_id, attempt, state, created_at, heartbeat_at) VALUES (?, 1, 'refused', ?, ?)", `jx${i}refused`, Date.now() - 100_000, 0);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await video(up.videoId)).toMatchObject({ status: "failed", error: expect.stringContaining("No transcoder") });
  });
});
