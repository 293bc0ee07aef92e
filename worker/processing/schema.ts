/**
 * What crosses the Worker ↔ transcoder boundary: the job hand-off and the
 * transcoder's signed callbacks. The transcoder validates the same shapes on
 * its side; types come from these schemas.
 */
import { z } from "zod";

const RenditionSchema = z.object({
  name: z.string().regex(/^[a-z0-9_]{1,32}$/),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  bandwidth: z.number().int().nonnegative(),
  averageBandwidth: z.number().int().nonnegative(),
  codecs: z.string().max(100),
  frameRate: z.number().positive(),
  bytes: z.number().int().nonnegative(),
});

export const MetadataSchema = z.object({
  durationSec: z.number().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frameRate: z.number().positive(),
  videoCodec: z.string().max(50),
  audioCodec: z.string().max(50).nullable(),
  renditions: z.array(RenditionSchema).min(1).max(10),
});
export type Metadata = z.infer<typeof MetadataSchema>;

export const JobEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("progress"), jobId: z.string(), progress: z.number().min(0).max(1) }),
  z.object({ type: z.literal("playable"), jobId: z.string(), metadata: MetadataSchema }),
  z.object({ type: z.literal("completed"), jobId: z.string(), metadata: MetadataSchema }),
  z.object({ type: z.literal("failed"), jobId: z.string(), reason: z.string().max(2000), retryable: z.boolean() }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;

/** The job as the transcoder receives it: where to read, where to write, whom to tell. */
export type JobSpec = {
  jobId: string;
  videoId: string;
  attempt: number;
  sourceUrl: string;
  uploadBaseUrl: string;
  callbackUrl: string;
  token: string;
};
