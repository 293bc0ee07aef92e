// The processing state machine and the transcoder's storage protocol, inside
// workerd: the test speaks the protocol exactly as the transcoder does
// (signed job token, PUT outputs, POST events), and the queue consumer hands
// jobs to a stand-in that answers POST /jobs as each test scripts it
// (test/transcoder-stand-in.ts). The real transcoder runs in the transcoder
// tests and the end-to-end tests.
import {
  createMessageBatch,
  createExecutionContext,
  env,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, auth, bytes, json, MiB, sha256 } from "../testing/helpers.ts";
import {
  complete,
  event,
  jobApi,
  jobsReceived,
  metadata,
  processingVideo,
  publishPlayable,
  put,
  scriptTranscoder,
  SECRET,
  startJob,
  until,
  uploadedVideo,
} from "../testing/processing.ts";
import worker from "../index.ts";
import { inVideoObject, videoStub } from "../testing/video-object.ts";
import { signJobToken } from "../contracts/job-token.ts";
import { backoffSeconds } from "../video-object/transcode-queue.ts";
import { expectError } from "../../test/expect-error.ts";

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
  const noting = batch.messages.map(
    (m) =>
      new Proxy(m, {
        get(target, key) {
          if (key === "retry")
            return (options?: QueueRetryOptions) => {
              delays.set(target.id, options?.delaySeconds);
              target.retry(options);
            };
          const value = Reflect.get(target, key, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
  );
  const ctx = createExecutionContext();
  await worker.queue(
    new Proxy(batch, {
      get: (target, key) => (key === "messages" ? noting : Reflect.get(target, key, target)),
    }) as MessageBatch<unknown>,
    env,
  );
  const result = await getQueueResult(batch, ctx);
  return {
    ...result,
    retryMessages: result.retryMessages.map((r) => ({ msgId: r.msgId, delaySeconds: delays.get(r.msgId) })),
  };
}

async function jobState(videoId: string, jobId: string): Promise<string | undefined> {
  return inVideoObject(
    videoId,
    (sql) => sql.exec<{ state: string }>("SELECT state FROM jobs WHERE job_id = ?", jobId).toArray()[0]?.state,
  );
}

/** The job whose callbacks the video's object counts. */
async function currentJob(videoId: string): Promise<string | null> {
  return inVideoObject(
    videoId,
    (sql) => sql.exec<{ current_job: string | null }>("SELECT current_job FROM video").one().current_job,
  );
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
      id: up.videoId,
      title: "Sunrise",
      status: "ready",
      durationSec: 9.5,
      width: 1280,
      height: 720,
      playback: {
        hls: `/videos/${up.videoId}/master.m3u8`,
        poster: `/videos/${up.videoId}/${job.jobId}/poster.jpg`,
      },
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
    expect(
      (await api(`/videos/${up.videoId}/${job.jobId}/source/seg_00001.m4s`, { headers: { "if-none-match": etag } }))
        .status,
    ).toBe(304);
    const range = await api(`/videos/${up.videoId}/${job.jobId}/source/seg_00001.m4s`, {
      headers: { range: "bytes=100-199" },
    });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes(5000, 2).subarray(100, 200));
    expect((await api(`/videos/${up.videoId}/poster.jpg`)).headers.get("content-type")).toBe("image/jpeg");
    expect((await api(`/videos/${up.videoId}/${job.jobId}/source/index.m3u8`)).headers.get("content-type")).toBe(
      "application/vnd.apple.mpegurl",
    );

    expect((await event(job, { type: "completed", metadata })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "ready" });
    expect((await video(up.videoId)).progress).toBeUndefined();
    expect((await api(`/videos/${up.videoId}/master.m3u8`)).headers.get("cache-control")).toBe("public, max-age=300");
    // Finished: the job can no longer write or report.
    await expectError(put(job, "extra.m4s", "x"), 409, "job_superseded");
    await expectError(event(job, { type: "failed", reason: "late", retryable: false }), 409, "job_superseded");
    expect(await video(up.videoId)).toMatchObject({ status: "ready" });
  });

  it("lists every audio track and the source's warnings once the transcoder reports them", async () => {
    const { up, job } = await processingVideo();
    const audioTracks = [
      {
        name: "audio_0",
        language: "en",
        label: "English",
        default: true,
        channels: 2,
        codecs: "mp4a.40.2",
        bandwidth: 130_000,
        averageBandwidth: 128_000,
        bytes: 900,
      },
      {
        name: "audio_1",
        language: "fr",
        label: "Français",
        default: false,
        channels: 6,
        codecs: "mp4a.40.2",
        bandwidth: 260_000,
        averageBandwidth: 250_000,
        bytes: 1800,
      },
    ];
    const warnings = [
      { code: "source_truncated", message: "The file looks truncated: it declares 6 s, but only 3.5 s could be read." },
    ];
    await publishPlayable(job, { ...metadata, audioTracks, warnings });
    const publicTracks = [
      { name: "audio_0", language: "en", label: "English", default: true, channels: 2 },
      { name: "audio_1", language: "fr", label: "Français", default: false, channels: 6 },
    ];
    // Viewers get what the audio menu needs, not the encoder's figures.
    expect(await video(up.videoId)).toMatchObject({ status: "ready", audioTracks: publicTracks, warnings });
    expect((await video(up.videoId)).audioTracks[0]).not.toHaveProperty("bandwidth");

    expect((await event(job, { type: "completed", metadata: { ...metadata, audioTracks, warnings } })).status).toBe(
      200,
    );
    expect(await video(up.videoId)).toMatchObject({ audioTracks: publicTracks, warnings });
    // Listings carry the same video shape.
    const listed = await json(await api("/api/videos?sort=newest&limit=1"));
    expect(listed.items.find((v: { id: string }) => v.id === up.videoId)).toMatchObject({
      audioTracks: publicTracks,
      warnings,
    });
  });

  it("lists no audio tracks and no warnings for a transcoder that reports neither", async () => {
    const { up, job } = await processingVideo();
    const { audioTracks: _, warnings: __, ...older } = metadata;
    await publishPlayable(job, older);
    expect(await video(up.videoId)).toMatchObject({ status: "ready", audioTracks: [], warnings: [] });
    expect((await event(job, { type: "completed", metadata: older })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ audioTracks: [], warnings: [] });
  });

  it("refuses warnings it does not know and keeps the video as it was", async () => {
    const { up, job } = await processingVideo();
    await expectError(
      event(job, { type: "playable", metadata: { ...metadata, warnings: [{ code: "sounds_odd", message: "?" }] } }),
      400,
      "invalid_request",
    );
    expect(await video(up.videoId)).toMatchObject({ status: "processing", audioTracks: [], warnings: [] });
  });

  it("deletes the first-playable copy a grace period after the final ladder, keeping the ladder and poster", async () => {
    const { up, job } = await processingVideo();
    for (const file of ["source/init.mp4", "source/seg_00001.m4s", "source/index.m3u8", "poster.jpg"])
      expect((await put(job, file, `bytes of ${file}`)).status).toBe(204);
    expect((await event(job, { type: "playable", metadata })).status).toBe(200);
    for (const file of ["360p/init.mp4", "360p/seg_00001.m4s", "360p/index.m3u8", "master.m3u8"])
      expect((await put(job, file, `bytes of ${file}`)).status).toBe(204);
    expect((await event(job, { type: "completed", metadata })).status).toBe(200);
    const prefix = `videos/${up.videoId}/jobs/${job.jobId}/`;
    const all = await bucketKeys(prefix);

    // Viewers who started on the copy keep it for the grace.
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect(await bucketKeys(prefix)).toEqual(all);

    await inVideoObject(up.videoId, (sql) => {
      sql.exec("UPDATE video SET first_copy_retire_at = ?", Date.now() - 1);
    });
    await runInDurableObject(videoStub(up.videoId), (_o, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect(await bucketKeys(prefix)).toEqual(all.filter((k) => !k.startsWith(`${prefix}source/`)));
    expect(await bucketKeys(`videos/${up.videoId}/source`)).not.toEqual([]);
    expect((await api(`/videos/${up.videoId}/master.m3u8`)).status).toBe(200);
  });

  it("lets only the current job write, read and report, and sweeps the losers' outputs", async () => {
    const { up, file, job: first } = await processingVideo();
    expect((await put(first, "source/seg_00001.m4s", "from the first job")).status).toBe(204);
    const src = await jobApi(first, "/source");
    expect(await sha256(await src.arrayBuffer())).toBe(await sha256(file));

    // The first job goes silent; the watchdog supersedes it.
    await inVideoObject(up.videoId, (sql) => {
      sql.exec("UPDATE jobs SET heartbeat_at = ?", Date.now() - 60_000);
    });
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect(await bucketKeys(`videos/${up.videoId}/jobs/${first.jobId}/`)).toEqual([]);
    await expectError(put(first, "source/seg_00002.m4s", "late write"), 409, "job_superseded");
    await expectError(event(first, { type: "progress", progress: 0.9 }), 409, "job_superseded");
    await expectError(jobApi(first, "/source"), 409, "job_superseded");

    const second = await startJob(up.videoId, 2);
    await publishPlayable(second);
    // A duplicate delivery of an attempt already running starts nothing.
    expect(await videoStub(up.videoId).startJob(2)).toMatchObject({ start: false });
    expect((await event(second, { type: "completed", metadata })).status).toBe(200);
    const keys = await bucketKeys(`videos/${up.videoId}/`);
    expect(keys.filter((k) => !k.startsWith(`videos/${up.videoId}/jobs/${second.jobId}/`))).toEqual([
      `videos/${up.videoId}/source`,
    ]);
    expect(await videoStub(up.videoId).startJob(3)).toMatchObject({
      start: false,
      reason: "already processed",
    });
  });

  it("keeps playing a ready video whose job goes silent until the next job's outputs replace it", async () => {
    const { up, job: first } = await processingVideo();
    await publishPlayable(first);
    await inVideoObject(up.videoId, (sql) => {
      sql.exec("UPDATE jobs SET heartbeat_at = ?", Date.now() - 60_000);
    });
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    // Superseded, so it may write nothing more; what it published still plays.
    await expectError(put(first, "source/seg_00002.m4s", "late write"), 409, "job_superseded");
    expect((await api(`/videos/${up.videoId}/${first.jobId}/source/seg_00001.m4s`)).status).toBe(200);
    expect((await api(`/videos/${up.videoId}/master.m3u8`)).status).toBe(200);

    const second = await startJob(up.videoId, 2);
    await publishPlayable(second);
    expect((await event(second, { type: "completed", metadata })).status).toBe(200);
    expect(await bucketKeys(`videos/${up.videoId}/jobs/${first.jobId}/`)).toEqual([]);
  });

  it("fails with the transcoder's reason, once, and keeps the source downloadable", async () => {
    const { up, file, job } = await processingVideo();
    expect(
      (await event(job, { type: "failed", reason: "The file has no video stream (audio only).", retryable: false }))
        .status,
    ).toBe(200);
    expect(await video(up.videoId)).toMatchObject({
      status: "failed",
      error: "The file has no video stream (audio only).",
    });
    await expectError(event(job, { type: "progress", progress: 0.5 }), 409, "job_superseded");
    await expectError(jobApi(job, "/source"), 409, "job_superseded");
    const source = await api(`/api/videos/${up.videoId}/source`, { headers: auth(up) });
    expect(await sha256(await source.arrayBuffer())).toBe(await sha256(file));
    await expectError(api(`/videos/${up.videoId}/master.m3u8`), 409, "not_ready");
  });

  it("fails a video whose job fails for good while its first rendition is still growing, and serves none of it", async () => {
    const { up, job } = await processingVideo();
    expect((await put(job, "master.m3u8", "#EXTM3U\n")).status).toBe(204);
    expect((await event(job, { type: "playable", metadata, growing: true })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "ready" });
    const reason = "Processing took longer than the 61 s allowed for a 20 s video and was stopped.";
    expect((await event(job, { type: "failed", reason, retryable: false })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "failed", error: reason, playback: { hls: null } });
    await expectError(api(`/videos/${up.videoId}/master.m3u8`), 409, "not_ready");
  });

  it("stays ready on its whole first rendition when the ladder's job fails for good", async () => {
    const { up, job } = await processingVideo();
    expect((await event(job, { type: "playable", metadata, growing: true })).status).toBe(200);
    await publishPlayable(job);
    const reason = "The video could not be processed while encoding 720p.";
    expect((await event(job, { type: "failed", reason, retryable: false })).status).toBe(200);
    expect(await video(up.videoId)).toMatchObject({ status: "ready", error: reason });
    expect((await api(`/videos/${up.videoId}/master.m3u8`)).status).toBe(200);
  });

  it("refuses unsigned, forged, expired and cross-job tokens", async () => {
    const { up, job } = await processingVideo();
    const other = {
      ...job,
      token: await signJobToken("another-secret-0123456789", {
        videoId: up.videoId,
        jobId: job.jobId,
        exp: Date.now() + 60_000,
      }),
    };
    const expired = {
      ...job,
      token: await signJobToken(SECRET, { videoId: up.videoId, jobId: job.jobId, exp: Date.now() - 1 }),
    };
    const crossJob = { ...job, jobId: "j9zzzzzzzzzz" };
    for (const bad of [other, expired, crossJob, { ...job, token: "nope" }]) {
      await expectError(put(bad, "master.m3u8", "x"), 401, "invalid_token");
      await expectError(event(bad, { type: "progress", progress: 0.1 }), 401, "invalid_token");
      await expectError(jobApi(bad, "/source"), 401, "invalid_token");
    }
    await expectError(api(`/internal/jobs/${job.jobId}/source`), 401, "invalid_token");
    expect(await bucketKeys(`videos/${up.videoId}/jobs/`)).toEqual([]);
  });

  it("refuses malformed outputs and events, each with its own code, and stores nothing", async () => {
    const { up, job } = await processingVideo();
    for (const path of ["..%2F..%2Fsource", "a/b/c.m4s", "UPPER.m4s"])
      await expectError(put(job, path, "x"), 400, "invalid_path");
    // A body of unknown length cannot be checked against the limit before it is stored.
    const unsized = new ReadableStream({
      start: (c) => {
        c.enqueue(new TextEncoder().encode("x"));
        c.close();
      },
    });
    await expectError(jobApi(job, "/files/poster.jpg", { method: "PUT", body: unsized }), 400, "length_required");
    await expectError(event(job, { type: "progress", progress: 7 }), 400, "invalid_request");
    await expectError(event(job, { type: "finished" }), 400, "invalid_request");
    await expectError(jobApi(job, "/events", { method: "POST", body: "{" }), 400, "invalid_json");
    await expectError(event(job, { jobId: "j9zzzzzzzzzz", type: "progress", progress: 0.5 }), 400, "job_mismatch");
    await expectError(
      event(job, { type: "failed", reason: "x".repeat(70_000), retryable: false }),
      413,
      "payload_too_large",
    );
    expect(await bucketKeys(`videos/${up.videoId}/jobs/`)).toEqual([]);
    expect(await video(up.videoId)).toMatchObject({ status: "processing", progress: 0 });
  });

  it("refuses an output declared larger than 512 MiB before reading it, and stores nothing", async () => {
    const { up, job } = await processingVideo();
    // Declares 512 MiB + 1 but holds 1 MiB: an upload that went ahead would fail short, not answer 413.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(c) {
          if (sent >= MiB) return c.close();
          sent += 64 * 1024;
          c.enqueue(bytes(64 * 1024, sent));
        },
      },
      { highWaterMark: 0 },
    );
    const res = jobApi(job, "/files/source/seg_00001.m4s", {
      method: "PUT",
      headers: { "content-length": String(512 * MiB + 1) },
      body,
    });
    await expectError(res, 413, "payload_too_large");
    expect(sent).toBeLessThan(MiB);
    expect(await bucketKeys(`videos/${up.videoId}/`)).toEqual([`videos/${up.videoId}/source`]);
  });

  it("answers the transcoder's routes with 404 where no job secret is configured", async () => {
    const { job } = await processingVideo();
    const unconfigured = { ...env, TRANSCODER_SECRET: undefined };
    const res = await worker.fetch(
      new Request(`http://reelay.test/internal/jobs/${job.jobId}/source`, {
        headers: { authorization: `Bearer ${job.token}` },
      }),
      unconfigured,
      createExecutionContext(),
    );
    await expectError(res, 404, "not_found");
  });

  it("acks a job the transcoder accepts, records it as the video's current job, and drops a malformed message", async () => {
    const { up, file } = await handedOffVideo();
    await scriptTranscoder(up.videoId, [202]);
    const result = await consume([
      message("m1", 1, { videoId: up.videoId, attempt: 2 }),
      message("m2", 1, { nonsense: true }),
    ]);
    expect(result).toMatchObject({ explicitAcks: ["m1", "m2"], retryMessages: [] });

    const [, job] = await jobsReceived(up.videoId);
    const base = `http://reelay.test/internal/jobs/${job!.jobId}`;
    expect(job).toEqual({
      jobId: expect.any(String),
      videoId: up.videoId,
      attempt: 2,
      token: expect.any(String),
      sourceUrl: `${base}/source`,
      uploadBaseUrl: `${base}/files`,
      callbackUrl: `${base}/events`,
    });
    expect(await currentJob(up.videoId)).toBe(job!.jobId);
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
    expect(await consume([message("m1", 1, { videoId: up.videoId, attempt: 2 })])).toMatchObject({
      explicitAcks: ["m1"],
      retryMessages: [],
    });
    const [, busy] = await jobsReceived(up.videoId);
    expect(await jobState(up.videoId, busy!.jobId)).toBe("deferred");

    // The alarm is due a few seconds after the refusal; move the retry forward rather than wait.
    await inVideoObject(up.videoId, (sql) => {
      sql.exec("UPDATE jobs SET retry_at = retry_at - 10000 WHERE retry_at IS NOT NULL");
    });
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    // The offer travels through the real queue to the consumer, and the transcoder takes it this time.
    await until("the job is offered again", async () => (await jobsReceived(up.videoId)).length === 3);
    const again = (await jobsReceived(up.videoId))[2]!;
    expect(again).toMatchObject({ videoId: up.videoId, attempt: 2 });
    expect(again.jobId).not.toBe(busy!.jobId);
    await until("the new job runs", async () => (await jobState(up.videoId, again.jobId)) === "running");
    expect(await currentJob(up.videoId)).toBe(again.jobId);
    await expectError(event(busy!, { type: "progress", progress: 0.1 }), 409, "job_superseded");
  });

  it("retries a hand-off the transcoder fails or cannot take, 5, 10, 20, 40 s apart, and fails the video from the dead-letter queue", async () => {
    const { up } = await handedOffVideo();
    // Three refusals, then the stand-in is down (nothing scripted).
    await scriptTranscoder(up.videoId, [500, 500, 500]);
    const body = { videoId: up.videoId, attempt: 2 };
    const result = await consume([
      message("r1", 1, body),
      message("r2", 2, body),
      message("r3", 3, body),
      message("r4", 4, body),
    ]);
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
    expect(await consume([message("d1", 1, body)], "reelay-transcode-dlq")).toMatchObject({
      explicitAcks: ["d1"],
      retryMessages: [],
    });
    expect(await video(up.videoId)).toMatchObject({
      status: "failed",
      error: expect.stringContaining("No transcoder"),
    });
  });

  it("fails a video whose job comes back past the last attempt, acking the message", async () => {
    const { up } = await processingVideo();
    expect(await consume([message("m1", 1, { videoId: up.videoId, attempt: 5 })])).toMatchObject({
      explicitAcks: ["m1"],
      retryMessages: [],
    });
    expect(await video(up.videoId)).toMatchObject({
      status: "failed",
      error: "Processing did not finish after 4 attempts.",
    });
  });

  it("fails after repeated refused hand-offs", async () => {
    const { up } = await processingVideo();
    // Seven refused hand-offs, the last one due to be offered again.
    await inVideoObject(up.videoId, (sql) => {
      sql.exec("UPDATE jobs SET state = 'refused', created_at = ?", Date.now() - 120_000);
      for (let i = 0; i < 6; i++)
        sql.exec(
          "INSERT INTO jobs (job_id, attempt, state, created_at, heartbeat_at, retry_at) VALUES (?, 1, 'refused', ?, ?, ?)",
          `jx${i}refused`,
          Date.now() - 100_000,
          0,
          Date.now() - 1000,
        );
    });
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect(await video(up.videoId)).toMatchObject({
      status: "failed",
      error: expect.stringContaining("No transcoder"),
    });
  });
});
