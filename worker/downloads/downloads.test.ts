// Downloads through the Worker: the owner's switch, the package task the
// video's object queues once (the stand-in takes it; the test then plays the
// transcoder with the task's own token), its retries, and the routes that
// serve what it made.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expectError } from "../../test/expect-error.ts";
import type { JobSpec, Metadata } from "../contracts/job.ts";
import { jobFileKey } from "../storage/keys.ts";
import { api, auth, bytes, type Created, json } from "../testing/helpers.ts";
import {
  event,
  type Job,
  jobApi,
  jobsReceived,
  metadata,
  packageTry,
  processingVideo,
  put,
  scriptTranscoder,
  until,
} from "../testing/processing.ts";
import { inVideoObject, videoStub } from "../testing/video-object.ts";
import { attachmentNamed } from "../http/content-disposition.ts";
import { downloadChoice } from "../video-object/downloads.ts";

const rung = (name: string, width: number, height: number) => ({
  ...metadata.renditions[0],
  name,
  width,
  height,
});

/** A finished ladder with a rung above 1080p, and one audio track. */
const LADDER: Metadata = {
  ...metadata,
  width: 2560,
  height: 1440,
  renditions: [rung("1440p", 2560, 1440), rung("1080p", 1920, 1080), rung("720p", 1280, 720)],
  audioTracks: [
    {
      name: "audio_0",
      language: "en",
      label: "English",
      default: true,
      channels: 2,
      codecs: "mp4a.40.2",
      bandwidth: 128_000,
      averageBandwidth: 128_000,
      bytes: 1000,
    },
  ],
};

const MP4 = bytes(4000, 41);
const M4A = bytes(1500, 42);

const video = async (id: string) => json(await api(`/api/videos/${id}`));
const patch = (up: Created, body: Record<string, unknown>) =>
  api(`/api/videos/${up.videoId}`, {
    method: "PATCH",
    headers: { ...auth(up), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const download = (id: string, headers: Record<string, string> = {}) => api(`/videos/${id}/download.mp4`, { headers });

/** The package tasks the stand-in took for the video, oldest first. */
const packageSpecs = async (videoId: string): Promise<JobSpec[]> =>
  (await jobsReceived(videoId)).filter((j) => j.package);

/** A video whose job published its whole ladder (`meta`), as a transcoder reports a finished one. */
async function processedVideo(fields: Record<string, unknown> = {}, meta: Metadata = LADDER) {
  const { up, job } = await processingVideo({ title: "Sunrise", ...fields });
  await scriptTranscoder(up.videoId, [202, 202, 202]);
  expect((await put(job, "1080p/index.m3u8", '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n')).status).toBe(204);
  expect((await event(job, { type: "completed", metadata: meta })).status).toBe(200);
  return { up, job };
}

/** Plays try `attempt` of the package task to its end: the downloads written and reported. */
async function makeDownloads(job: Job, attempt: number, audio = true): Promise<Response> {
  const at = await packageTry(job, attempt);
  expect((await put(at, "download.mp4", MP4)).status).toBe(204);
  if (audio) expect((await put(at, "audio.m4a", M4A)).status).toBe(204);
  return event(at, {
    type: "package_completed",
    download: { bytes: MP4.length },
    audio: audio ? { bytes: M4A.length } : null,
  });
}

const eventTypes = async (videoId: string): Promise<string[]> =>
  (
    await env.DB.prepare("SELECT type FROM events WHERE video_id = ? ORDER BY sequence")
      .bind(videoId)
      .all<{ type: string }>()
  ).results.map((r) => r.type);

describe("the download switch", () => {
  it("refuses downloads until the owner allows them, makes them once, and serves them as an attachment with ranges", async () => {
    const { up, job } = await processedVideo({ title: "Café «Lumière» / take 2" });
    // Off by default: a refusal with its own code, and no URLs.
    await expectError(download(up.videoId), 403, "downloads_disabled");
    await expectError(api(`/videos/${up.videoId}/audio.m4a`), 403, "downloads_disabled");
    expect((await video(up.videoId)).playback).toMatchObject({ download: null, audioDownload: null });

    expect((await patch(up, { downloadable: true })).status).toBe(200);
    await until("the package task is handed off", async () => (await packageSpecs(up.videoId)).length === 1);
    const preparing = await download(up.videoId);
    expect(preparing.headers.get("retry-after")).toBe("10");
    await expectError(preparing, 409, "not_ready");
    // Allowed again while they are being made: still the one task.
    expect((await patch(up, { downloadable: true })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    const [spec, ...more] = await packageSpecs(up.videoId);
    expect(more).toEqual([]);
    // The largest rung up to 1080p, and the default audio track.
    expect(spec.package).toEqual({ attempt: 1, rung: "1080p", audio: "audio_0" });

    // The task reads its job's files, and writes the downloads alone.
    const at = await packageTry(job, 1);
    const playlist = await jobApi(at, "/files/1080p/index.m3u8");
    expect(playlist.status).toBe(200);
    expect(new TextDecoder().decode(await playlist.arrayBuffer())).toContain("init.mp4");
    await expectError(jobApi(job, "/files/1080p/index.m3u8"), 400, "invalid_path");
    await expectError(put(at, "1080p/seg_00001.m4s", bytes(10)), 400, "invalid_path");
    await expectError(put(at, "master.m3u8", "#EXTM3U\n"), 400, "invalid_path");
    await expectError(jobApi(at, "/source"), 400, "invalid_path");
    expect((await makeDownloads(job, 1)).status).toBe(200);

    const ready = await video(up.videoId);
    expect(ready).toMatchObject({ status: "ready", downloadable: true });
    expect(ready.playback).toMatchObject({
      download: `/videos/${up.videoId}/download.mp4`,
      audioDownload: `/videos/${up.videoId}/audio.m4a`,
    });
    const whole = await download(up.videoId);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("video/mp4");
    expect(whole.headers.get("cache-control")).toBe("public, no-cache");
    expect(whole.headers.get("content-disposition")).toBe(
      `attachment; filename="Caf_ _Lumi_re_ _ take 2.mp4"; filename*=UTF-8''Caf%C3%A9%20%C2%ABLumi%C3%A8re%C2%BB%20_%20take%202.mp4`,
    );
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(MP4);
    const part = await download(up.videoId, { range: "bytes=0-99" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-99/${MP4.length}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(MP4.subarray(0, 100));
    const audio = await api(`/videos/${up.videoId}/audio.m4a`);
    expect(audio.status).toBe(200);
    expect(audio.headers.get("content-type")).toBe("audio/mp4");
    expect(audio.headers.get("content-disposition")).toMatch(/filename\*=UTF-8''Caf.*take%202\.m4a$/);
    expect(new Uint8Array(await audio.arrayBuffer())).toEqual(M4A);
    expect(await eventTypes(up.videoId)).toContain("video.downloads.ready");

    // Off: refused at once, the files kept; on again: served at once, nothing made again.
    expect((await patch(up, { downloadable: false })).status).toBe(200);
    await expectError(download(up.videoId), 403, "downloads_disabled");
    expect((await video(up.videoId)).playback.download).toBeNull();
    expect(await env.VIDEOS.head(jobFileKey(up.videoId, job.jobId, "download.mp4"))).not.toBeNull();
    expect((await patch(up, { downloadable: true })).status).toBe(200);
    expect((await download(up.videoId)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await packageSpecs(up.videoId)).toHaveLength(1);
  });

  it("makes the downloads when the ladder completes if they were allowed before, retries a failed try, and leaves the video ready when they cannot be made", async () => {
    const { up, job } = await processingVideo({ title: "Storm" });
    await scriptTranscoder(up.videoId, [202, 202, 202]);
    expect((await patch(up, { downloadable: true })).status).toBe(200);
    // Still processing: nothing to make yet.
    await expectError(download(up.videoId), 409, "not_ready");
    expect((await event(job, { type: "completed", metadata: LADDER })).status).toBe(200);
    await until("the package task is handed off", async () => (await packageSpecs(up.videoId)).length === 1);

    const first = await packageTry(job, 1);
    const retryable = { type: "failed", reason: "The worker went away.", retryable: true };
    expect((await event(first, retryable)).status).toBe(200);
    // After its backoff (5 s), tried again as its second try; the first try's writes no longer count.
    await until("the second try", async () => (await packageSpecs(up.videoId)).length === 2, 15_000);
    expect((await packageSpecs(up.videoId))[1].package?.attempt).toBe(2);
    await expectError(put(first, "download.mp4", MP4), 409, "job_superseded");

    const second = await packageTry(job, 2);
    const broken = { type: "failed", reason: "ffmpeg could not read the ladder.", retryable: false };
    expect((await event(second, broken)).status).toBe(200);
    const failed = await expectError(download(up.videoId), 409, "downloads_failed");
    expect(failed.message).toBe("The downloads could not be made: ffmpeg could not read the ladder.");
    const after = await video(up.videoId);
    expect(after.status).toBe("ready");
    expect(after.error).toBeUndefined();
    expect(after.playback).toMatchObject({ hls: `/videos/${up.videoId}/master.m3u8`, download: null });
    expect(await eventTypes(up.videoId)).toContain("video.downloads.failed");

    // Allowed again, the owner's way to try again: a fresh try.
    expect((await patch(up, { downloadable: true })).status).toBe(200);
    await until("a third try", async () => (await packageSpecs(up.videoId)).length === 3);
    expect((await packageSpecs(up.videoId))[2].package?.attempt).toBe(3);
    expect((await makeDownloads(job, 3)).status).toBe(200);
    expect((await download(up.videoId)).status).toBe(200);
  }, 30_000);

  it("tries a package task again once it falls silent", async () => {
    const { up, job } = await processedVideo();
    expect((await patch(up, { downloadable: true })).status).toBe(200);
    await until("the package task is handed off", async () => (await packageSpecs(up.videoId)).length === 1);
    const first = await packageTry(job, 1);
    expect((await event(first, { type: "progress", progress: 0.3 })).status).toBe(200);
    // As if the heartbeat timeout (30 s here) had passed since, and the backoff after it.
    await inVideoObject(up.videoId, (sql) => sql.exec("UPDATE package SET heartbeat_at = heartbeat_at - 60000"));
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    await expectError(event(first, { type: "progress", progress: 0.5 }), 409, "job_superseded");
    await inVideoObject(up.videoId, (sql) => sql.exec("UPDATE package SET retry_at = 0"));
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    await until("the second try", async () => (await packageSpecs(up.videoId)).length === 2);
    expect((await makeDownloads(job, 2)).status).toBe(200);
    expect((await download(up.videoId)).status).toBe(200);
  });

  it("caches an unlisted video's downloads privately, and answers no audio for a silent one", async () => {
    const silent: Metadata = { ...LADDER, audioCodec: null, audioTracks: [] };
    const { up, job } = await processedVideo({ visibility: "unlisted" }, silent);
    expect((await patch(up, { downloadable: true })).status).toBe(200);
    await until("the package task is handed off", async () => (await packageSpecs(up.videoId)).length === 1);
    expect((await packageSpecs(up.videoId))[0].package).toEqual({ attempt: 1, rung: "1080p", audio: null });
    expect((await makeDownloads(job, 1, false)).status).toBe(200);
    const whole = await download(up.videoId);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("cache-control")).toBe("private, no-cache");
    await expectError(api(`/videos/${up.videoId}/audio.m4a`), 404, "not_found");
    expect((await video(up.videoId)).playback.audioDownload).toBeNull();
    // Made of another job than the one that plays (a new ladder's are on their way): not served.
    await env.DB.prepare("UPDATE videos SET downloads = ? WHERE id = ?")
      .bind(JSON.stringify({ state: "ready", jobId: "j1older00000" }), up.videoId)
      .run();
    await expectError(download(up.videoId), 409, "not_ready");
  });
});

describe("what a download is made of", () => {
  it("is the largest rung up to 1080p on its short side, portrait too, and the default audio track", () => {
    const tracks = [
      { name: "audio_0", default: false },
      { name: "audio_1", default: true },
    ];
    const landscape = [rung("2160p", 3840, 2160), rung("1080p", 1920, 1080), rung("720p", 1280, 720)];
    expect(downloadChoice(landscape, tracks)).toEqual({ rung: "1080p", audio: "audio_1" });
    const portrait = [rung("1440p", 1440, 2560), rung("1080p", 1080, 1920)];
    expect(downloadChoice(portrait, [])).toEqual({ rung: "1080p", audio: null });
    // Every rung larger (an odd ladder): the smallest is the one closest to the limit.
    expect(downloadChoice([rung("2160p", 3840, 2160), rung("1440p", 2560, 1440)], tracks.slice(0, 1))).toEqual({
      rung: "1440p",
      audio: "audio_0",
    });
  });

  it("is named after the title, safely for every system", () => {
    expect(attachmentNamed("  ", ".mp4")).toBe(`attachment; filename="video.mp4"; filename*=UTF-8''video.mp4`);
    expect(attachmentNamed('a"b\\c', ".m4a")).toBe(`attachment; filename="a_b_c.m4a"; filename*=UTF-8''a_b_c.m4a`);
    expect(attachmentNamed("日本 (1)", ".mp4")).toBe(
      `attachment; filename="__ (1).mp4"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%20%281%29.mp4`,
    );
  });
});
