/**
 * Limits and defaults, in one typed place. Values come from `wrangler.toml`
 * vars (strings) and are parsed once per request with zod so a bad deploy
 * config fails loudly instead of silently using NaN.
 */
import { z } from "zod";

const MiB = 1024 * 1024;

/** R2 multipart rules: every part but the last is at least 5 MiB, at most 10,000 parts. */
export const R2_MIN_PART_BYTES = 5 * MiB;
export const R2_MAX_PARTS = 10_000;
/** Workers refuse request bodies over 100 MB; 95 MiB leaves room for headers. */
export const MAX_CHUNK_BYTES = 95 * MiB;

const intString = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every setting the worker reads from its vars; `dev/start.ts` passes through those set in its environment. */
export const ConfigSchema = z.object({
  MAX_UPLOAD_BYTES: intString(1, MAX_CHUNK_BYTES * R2_MAX_PARTS).default(50 * 1024 * MiB),
  DEFAULT_CHUNK_SIZE: intString(R2_MIN_PART_BYTES, MAX_CHUNK_BYTES).default(16 * MiB),
  UPLOAD_TTL_SECONDS: intString(60, 30 * 24 * 3600).default(24 * 3600),
  CORS_ORIGINS: z.string().default("*"),
  /** Before UPLOADER_TOKEN and ADMIN_TOKEN: it still guards creating uploads, and no longer administers videos. */
  API_TOKEN: z.string().min(1).optional().catch(undefined),
  TRANSCODER_URL: z.url().optional().catch(undefined),
  TRANSCODER_SECRET: z.string().min(16).optional().catch(undefined),
  PUBLIC_URL: z.url().optional().catch(undefined),
  JOB_HEARTBEAT_TIMEOUT_SECONDS: intString(5, 3600).default(45),
  JOB_MAX_ATTEMPTS: intString(1, 20).default(4),
  // Autoscaled processing (issue 11).
  SPAN_SECONDS: intString(4, 3600).default(60),
  TRANSCODER_SLOTS: intString(1, 10_000).default(8),
  SPAN_SHARE_PERCENT: intString(1, 100).default(50),
  // Uploads and credentials (issue 10).
  UPLOADER_TOKEN: z.string().min(1).optional().catch(undefined),
  ADMIN_TOKEN: z.string().min(1).optional().catch(undefined),
  ALLOW_ANONYMOUS_UPLOADS: z.enum(["true", "false"]).optional(),
  MAX_RESERVED_BYTES_PER_CLIENT: intString(1, Number.MAX_SAFE_INTEGER).default(100 * 1024 * MiB),
  ABANDONED_UPLOAD_GRACE_SECONDS: intString(0, 365 * 24 * 3600).default(7 * 24 * 3600),
  FAILED_SOURCE_RETENTION_SECONDS: intString(0, 365 * 24 * 3600).default(7 * 24 * 3600),
  FIRST_PLAYABLE_GRACE_SECONDS: intString(0, 7 * 24 * 3600).default(900),
  CHUNK_STALL_TIMEOUT_SECONDS: intString(1, 3600).default(30),
  // Imports from a URL (issue 12).
  ALLOW_HTTP_IMPORTS: z.enum(["true", "false"]).default("false"),
  MAX_IMPORT_BYTES: intString(1, MAX_CHUNK_BYTES * R2_MAX_PARTS).default(50 * 1024 * MiB),
  // Events and webhooks (issue 13).
  EVENT_RETENTION_DAYS: intString(30, 3650).default(30),
  WEBHOOK_DISABLE_AFTER_SECONDS: intString(60, 365 * 24 * 3600).default(3 * 24 * 3600),
  // Private videos and embeds (issue 15).
  PLAYBACK_SIGNING_KEY: z.string().min(32).optional().catch(undefined),
  EMBED_FRAME_ANCESTORS: z
    .string()
    .regex(/^[^;,\r\n]*$/, "a space-separated CSP source list")
    .default("*"),
});

export type Config = {
  maxUploadBytes: number;
  defaultChunkSize: number;
  uploadTtlMs: number;
  corsOrigins: string[];
  /** Local transport: the transcoder as a plain HTTP service. Unset: the Container binding. */
  transcoderUrl: string | undefined;
  /** Signs job tokens; the transcoder (given it too) verifies them before taking a job. */
  transcoderSecret: string | undefined;
  /** Where the transcoder reaches this Worker. */
  publicUrl: string | undefined;
  /** A job silent this long is presumed dead and started again. */
  jobHeartbeatTimeoutMs: number;
  jobMaxAttempts: number;
  /** The ladder is encoded in spans of about this long, each a task of its own. */
  spanSeconds: number;
  /** Spans running at once across every video (the span scheduler's slots). */
  transcoderSlots: number;
  /** Of those slots, the most one video holds while another video's spans wait. */
  spanSharePercent: number;
  // Uploads and credentials.
  /** Who may create uploads (`UPLOADER_TOKEN`, or the older `API_TOKEN`); unset: see `anonymousUploads`. */
  uploaderToken: string | undefined;
  /** Who may edit and delete any video, besides its owner. */
  adminToken: string | undefined;
  /**
   * Without an uploader token: `"true"` lets anyone create uploads, `"false"`
   * refuses every creation (the operator said a token is set, and it is not),
   * unset (local development) lets anyone. `npm run deploy` needs it set.
   */
  anonymousUploads: "true" | "false" | undefined;
  /** Bytes one client may have reserved by unfinished uploads at once. */
  maxReservedBytesPerClient: number;
  /** An aborted or expired upload's row and state are deleted this long after it ended. */
  abandonedUploadGraceMs: number;
  /** A video whose processing failed is deleted, source and all, this long after it failed. */
  failedSourceRetentionMs: number;
  /** The first-playable copy is deleted this long after the final ladder replaced it. */
  firstPlayableGraceMs: number;
  /** A chunk request that receives no byte for this long is ended, freeing its chunk. */
  chunkStallTimeoutMs: number;
  /** Imports may fetch plain `http:` URLs (local development); otherwise https only. */
  allowHttpImports: boolean;
  /** The largest file an import fetches. */
  maxImportBytes: number;
  /** Events older than this are deleted from the log. */
  eventRetentionMs: number;
  /** A subscription whose every delivery has failed for this long is disabled. */
  webhookDisableAfterMs: number;
  /** Signs private videos' playback tokens (playback/playback-token.ts); unset: private videos cannot be played. */
  playbackSigningKey: string | undefined;
  /** Who may frame `/embed/:id`: a CSP `frame-ancestors` source list (`*` anyone). Other pages: nobody. */
  embedFrameAncestors: string;
};

type ConfigEnv = Partial<Record<keyof z.input<typeof ConfigSchema>, unknown>>;

// The bindings object lives as long as the isolate: parse it once, not on every request.
const parsed = new WeakMap<object, Config>();

export function readConfig(env: ConfigEnv): Config {
  let config = parsed.get(env);
  if (!config) {
    config = parseConfig(env);
    parsed.set(env, config);
  }
  return config;
}

function parseConfig(env: ConfigEnv): Config {
  const c = ConfigSchema.parse(env);
  return {
    maxUploadBytes: c.MAX_UPLOAD_BYTES,
    defaultChunkSize: c.DEFAULT_CHUNK_SIZE,
    uploadTtlMs: c.UPLOAD_TTL_SECONDS * 1000,
    corsOrigins: c.CORS_ORIGINS.split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    transcoderUrl: c.TRANSCODER_URL,
    transcoderSecret: c.TRANSCODER_SECRET,
    publicUrl: c.PUBLIC_URL,
    jobHeartbeatTimeoutMs: c.JOB_HEARTBEAT_TIMEOUT_SECONDS * 1000,
    jobMaxAttempts: c.JOB_MAX_ATTEMPTS,
    spanSeconds: c.SPAN_SECONDS,
    transcoderSlots: c.TRANSCODER_SLOTS,
    spanSharePercent: c.SPAN_SHARE_PERCENT,
    uploaderToken: c.UPLOADER_TOKEN ?? c.API_TOKEN,
    adminToken: c.ADMIN_TOKEN,
    anonymousUploads: c.ALLOW_ANONYMOUS_UPLOADS,
    maxReservedBytesPerClient: c.MAX_RESERVED_BYTES_PER_CLIENT,
    abandonedUploadGraceMs: c.ABANDONED_UPLOAD_GRACE_SECONDS * 1000,
    failedSourceRetentionMs: c.FAILED_SOURCE_RETENTION_SECONDS * 1000,
    firstPlayableGraceMs: c.FIRST_PLAYABLE_GRACE_SECONDS * 1000,
    chunkStallTimeoutMs: c.CHUNK_STALL_TIMEOUT_SECONDS * 1000,
    allowHttpImports: c.ALLOW_HTTP_IMPORTS === "true",
    maxImportBytes: c.MAX_IMPORT_BYTES,
    eventRetentionMs: c.EVENT_RETENTION_DAYS * 24 * 3600 * 1000,
    webhookDisableAfterMs: c.WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
    playbackSigningKey: c.PLAYBACK_SIGNING_KEY,
    embedFrameAncestors: c.EMBED_FRAME_ANCESTORS.trim() || "*",
  };
}
