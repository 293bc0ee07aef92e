/**
 * The message the video's Durable Object puts on `reelay-transcode`, for the
 * queue consumer (processing/queue.ts) to hand to a transcoder: start
 * attempt `attempt` of the video's processing.
 */
import { z } from "zod";
import { VideoIdSchema } from "../contracts/video.ts";

export const TranscodeJobSchema = z.object({
  videoId: VideoIdSchema,
  attempt: z.number().int().min(1),
});
export type TranscodeJob = z.infer<typeof TranscodeJobSchema>;

export async function queueTranscode(env: Env, videoId: string, attempt: number): Promise<void> {
  await env.TRANSCODE_QUEUE.send({ videoId, attempt } satisfies TranscodeJob);
}
