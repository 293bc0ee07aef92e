/**
 * The Worker ↔ transcoder contract: the job the Worker hands off, the
 * metadata and renditions the transcoder reports back, and the signed
 * callbacks that carry them. Both sides validate with these schemas.
 */
import { z } from "zod";

const httpUrl = z.url({ protocol: /^https?$/ });

/** `POST /jobs` on the transcoder: where to read, where to write, whom to tell. */
export const JobSpecSchema = z.object({
  jobId: z.string().min(1).max(200),
  videoId: z.string().min(1).max(200),
  attempt: z.number().int().min(1),
  sourceUrl: httpUrl,
  uploadBaseUrl: httpUrl,
  callbackUrl: httpUrl,
  token: z.string().min(1).max(4096),
});
export type JobSpec = z.infer<typeof JobSpecSchema>;

/** One rung of the published ladder, as the master playlist announces it. */
export const RenditionSchema = z.object({
  name: z.string().regex(/^[a-z0-9_]{1,32}$/),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Peak segment bit rate (RFC 8216 §4.3.4.2), bits per second. */
  bandwidth: z.number().int().nonnegative(),
  averageBandwidth: z.number().int().nonnegative(),
  /** RFC 6381 codec string, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: z.string().max(100),
  frameRate: z.number().positive(),
  /** Init segment plus media segments. */
  bytes: z.number().int().nonnegative(),
});
export type Rendition = z.infer<typeof RenditionSchema>;

/** What the transcoder learned of the source, and the renditions published so far. */
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

/**
 * The transcoder's callbacks. `progress` doubles as the heartbeat; `playable`
 * says the first rendition is published, `completed` the whole ladder.
 */
export const JobEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("progress"), jobId: z.string(), progress: z.number().min(0).max(1) }),
  z.object({ type: z.literal("playable"), jobId: z.string(), metadata: MetadataSchema }),
  z.object({ type: z.literal("completed"), jobId: z.string(), metadata: MetadataSchema }),
  z.object({ type: z.literal("failed"), jobId: z.string(), reason: z.string().max(2000), retryable: z.boolean() }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;
