/**
 * Helpers for tests that need a processed video: they speak the transcoder's
 * protocol to the real Worker (signed job token, PUT outputs, POST events),
 * and script the transcoder stand-in the queue consumer hands jobs to
 * (test/transcoder-stand-in.ts).
 */
import { expect, inject } from "vitest";
import { signJobToken } from "../contracts/job-token.ts";
import type { JobSpec, Metadata } from "../contracts/job.ts";
import { api, auth, bytes, chunkOf, createUpload, MiB, putChunk, type Created } from "./helpers.ts";
import { videoStub } from "./video-object.ts";

declare module "vitest" {
  export interface ProvidedContext {
    transcoderUrl: string;
  }
}

export const SECRET = "test-secret-0123456789abcdef";

export const metadata: Metadata = {
  durationSec: 9.5,
  width: 1280,
  height: 720,
  frameRate: 30,
  videoCodec: "h264",
  audioCodec: "aac",
  renditions: [
    {
      name: "source",
      width: 1280,
      height: 720,
      bandwidth: 2_000_000,
      averageBandwidth: 1_500_000,
      codecs: "avc1.64001f,mp4a.40.2",
      frameRate: 30,
      bytes: 1234,
    },
  ],
  audioTracks: [],
  warnings: [],
};

const MASTER =
  "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720\nsource/index.m3u8\n";

/** An uploaded, completed video, and a started job for it as the queue consumer would start it. */
export async function processingVideo(
  fields: Record<string, unknown> = { title: "Sunrise" },
): Promise<{ up: Created; file: Uint8Array; job: Job }> {
  const { up, file } = await uploadedVideo(fields);
  await complete(up);
  return { up, file, job: await startJob(up.videoId, 1) };
}

/** A video whose every chunk is uploaded, not yet completed. */
export async function uploadedVideo(
  fields: Record<string, unknown> = { title: "Sunrise" },
): Promise<{ up: Created; file: Uint8Array }> {
  const file = bytes(6 * MiB, 77);
  const up = await createUpload({ size: file.length, chunkSize: 5 * MiB, ...fields });
  for (const n of [1, 2]) expect((await putChunk(up, n, chunkOf(file, up, n))).status).toBe(200);
  return { up, file };
}

/** Completes the upload, which queues its first transcode job. */
export async function complete(up: Created): Promise<void> {
  expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(202);
}

/** The answers the transcoder stand-in gives this video's next hand-offs, in order; then it is down. */
export async function scriptTranscoder(videoId: string, answers: (202 | 503 | 500)[]): Promise<void> {
  const res = await fetch(`${inject("transcoderUrl")}/stand-in/videos/${videoId}/answers`, {
    method: "PUT",
    body: JSON.stringify(answers),
  });
  expect(res.status).toBe(204);
}

/** Every job request the transcoder stand-in answered for this video, oldest first. */
export async function jobsReceived(videoId: string): Promise<JobSpec[]> {
  const res = await fetch(`${inject("transcoderUrl")}/stand-in/videos/${videoId}/jobs`);
  expect(res.status).toBe(200);
  return (await res.json()) as JobSpec[];
}

/** Polls until `check` holds: for work the real queue delivers in the background. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type Job = { jobId: string; token: string; videoId: string };

export async function startJob(videoId: string, attempt: number): Promise<Job> {
  const video = videoStub(videoId);
  const start = await video.startJob(attempt);
  if (!start.start) throw new Error(`job not started: ${start.reason}`);
  await video.handedOff(start.jobId, "accepted");
  const token = await signJobToken(SECRET, { videoId, jobId: start.jobId, exp: Date.now() + 60_000 });
  return { jobId: start.jobId, token, videoId };
}

/** One span try of a job's ladder, with the token the queue consumer would have signed for it. */
export async function spanTry(job: Job, index: number, attempt: number): Promise<Job> {
  const claims = { videoId: job.videoId, jobId: job.jobId, exp: Date.now() + 60_000, span: { index, attempt } };
  return { ...job, token: await signJobToken(SECRET, claims) };
}

/** One try of a job's package task (its downloads), with the token the queue consumer would have signed for it. */
export async function packageTry(job: Job, attempt: number): Promise<Job> {
  const claims = { videoId: job.videoId, jobId: job.jobId, exp: Date.now() + 60_000, package: { attempt } };
  return { ...job, token: await signJobToken(SECRET, claims) };
}

export const jobApi = (job: Job, path: string, init: RequestInit = {}) =>
  api(`/internal/jobs/${job.jobId}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${job.token}`, ...init.headers },
  });

export const put = (job: Job, file: string, body: string | Uint8Array) =>
  jobApi(job, `/files/${file}`, { method: "PUT", body });

export const event = (job: Job, e: Record<string, unknown>) =>
  jobApi(job, "/events", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jobId: job.jobId, ...e }),
  });

/** Publishes a first rendition and says it is playable, with `meta` as the transcoder would report it. */
export async function publishPlayable(job: Job, meta: Record<string, unknown> = metadata) {
  expect((await put(job, "source/init.mp4", bytes(1000, 1))).status).toBe(204);
  expect((await put(job, "source/seg_00001.m4s", bytes(5000, 2))).status).toBe(204);
  expect((await put(job, "source/index.m3u8", "#EXTM3U\n#EXTINF:4.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n")).status).toBe(
    204,
  );
  expect((await put(job, "poster.jpg", bytes(300, 3))).status).toBe(204);
  expect((await put(job, "master.m3u8", MASTER)).status).toBe(204);
  expect((await event(job, { type: "playable", metadata: meta })).status).toBe(200);
}
