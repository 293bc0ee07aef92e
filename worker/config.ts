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

const ConfigSchema = z.object({
  MAX_UPLOAD_BYTES: intString(1, MAX_CHUNK_BYTES * R2_MAX_PARTS).default(50 * 1024 * MiB),
  DEFAULT_CHUNK_SIZE: intString(R2_MIN_PART_BYTES, MAX_CHUNK_BYTES).default(16 * MiB),
  UPLOAD_TTL_SECONDS: intString(60, 30 * 24 * 3600).default(24 * 3600),
  CORS_ORIGINS: z.string().default("*"),
  API_TOKEN: z.string().min(1).optional().catch(undefined),
  TRANSCODER_URL: z.url().optional().catch(undefined),
  TRANSCODER_SECRET: z.string().min(16).optional().catch(undefined),
  PUBLIC_URL: z.url().optional().catch(undefined),
  JOB_HEARTBEAT_TIMEOUT_SECONDS: intString(5, 3600).default(45),
  JOB_MAX_ATTEMPTS: intString(1, 20).default(4),
});

export type Config = {
  maxUploadBytes: number;
  defaultChunkSize: number;
  uploadTtlMs: number;
  corsOrigins: string[];
  apiToken: string | undefined;
  /** Local transport: the transcoder as a plain HTTP service. Unset: the Container binding. */
  transcoderUrl: string | undefined;
  /** Signs job tokens; the transcoder (given it too) verifies them before taking a job. */
  transcoderSecret: string | undefined;
  /** Where the transcoder reaches this Worker. */
  publicUrl: string | undefined;
  /** A job silent this long is presumed dead and started again. */
  jobHeartbeatTimeoutMs: number;
  jobMaxAttempts: number;
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
    apiToken: c.API_TOKEN,
    transcoderUrl: c.TRANSCODER_URL,
    transcoderSecret: c.TRANSCODER_SECRET,
    publicUrl: c.PUBLIC_URL,
    jobHeartbeatTimeoutMs: c.JOB_HEARTBEAT_TIMEOUT_SECONDS * 1000,
    jobMaxAttempts: c.JOB_MAX_ATTEMPTS,
  };
}
