/**
 * The messages the video's Durable Object puts on `reelay-transcode`, for the
 * queue consumer (processing/queue.ts) to hand to a transcoder: start
 * attempt `attempt` of the video's processing (its first task), or, with
 * `span`, that try of one span of a job's ladder, or, with `package`, that
 * try of the downloads of a job's complete ladder.
 */
import { z } from "zod";
import { VideoIdSchema } from "../contracts/video.ts";

export const SpanRefSchema = z.object({
  jobId: z.string().min(1).max(64),
  index: z.number().int().min(0),
  attempt: z.number().int().min(1),
});
export type SpanRef = z.infer<typeof SpanRefSchema>;

export const PackageRefSchema = z.object({
  jobId: z.string().min(1).max(64),
  attempt: z.number().int().min(1),
});
export type PackageRef = z.infer<typeof PackageRefSchema>;

/** A hand-off a transcoder answered busy (every slot taken) is offered again after this long. */
export const BUSY_RETRY_MS = 3000;

/** Retries of a hand-off, and of a span's failed try: 5, 10, 20, 40 s …, at most 5 minutes. */
export const backoffSeconds = (attempts: number) => Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));

/**
 * How long a hand-off whose queue message may have been lost (a refused
 * one waiting for the queue's retry, a span waiting for its turn) waits
 * before its video's object queues it again: the heartbeat timeout twice over.
 */
export const resendAfterMs = (jobHeartbeatTimeoutMs: number) => 2 * jobHeartbeatTimeoutMs + 5000;

export const TranscodeJobSchema = z.object({
  videoId: VideoIdSchema,
  attempt: z.number().int().min(1),
  span: SpanRefSchema.optional(),
  package: PackageRefSchema.optional(),
});
export type TranscodeJob = z.infer<typeof TranscodeJobSchema>;

export async function queueTranscode(env: Env, videoId: string, attempt: number): Promise<void> {
  await env.TRANSCODE_QUEUE.send({ videoId, attempt } satisfies TranscodeJob);
}

export async function queueSpan(env: Env, videoId: string, span: SpanRef): Promise<void> {
  await env.TRANSCODE_QUEUE.send({ videoId, attempt: 1, span } satisfies TranscodeJob);
}

export async function queuePackage(env: Env, videoId: string, ref: PackageRef): Promise<void> {
  await env.TRANSCODE_QUEUE.send({ videoId, attempt: 1, package: ref } satisfies TranscodeJob);
}
