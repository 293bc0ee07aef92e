/**
 * The transcoder's settings, from its environment, parsed once with zod so a
 * bad value stops it at start rather than running with NaN limits.
 *
 * TRANSCODER_SECRET and WORKER_URL are required: the secret verifies the job
 * tokens the worker signs (a job without a valid one is refused), and every
 * URL a job names must lie under WORKER_URL, so no caller can make the
 * transcoder fetch from, or deliver to, anywhere else.
 */
import { z } from "zod";

/** What a source may declare before any decoding starts (README "Configuration"). */
export type SourceLimits = {
  maxDurationSec: number;
  /** Width × height of the stored picture. */
  maxPixels: number;
  maxFrameRate: number;
  /** Bytes of file per second of declared duration, at least. */
  minBytesPerSec: number;
};

/** A job's wall clock after the download: `perSourceSecond` × the source's duration + `extraSec`. */
export type TimeBudget = { perSourceSecond: number; extraSec: number };

export type JobSettings = {
  limits: SourceLimits;
  budget: TimeBudget;
  /** A transfer with no byte moving for this long fails the job. */
  stallMs: number;
};

export type TranscoderConfig = JobSettings & {
  host: string;
  port: number;
  concurrency: number;
  secret: string;
  workerUrl: string;
};

export const DEFAULT_LIMITS: SourceLimits = {
  // Half a day: longer than any camera's card or a full-day conference stream cut into sessions.
  maxDurationSec: 12 * 3600,
  // 8K UHD. Larger sensors exist, but nothing people play back in a browser.
  maxPixels: 7680 * 4320,
  // High-speed phone modes record 240 fps.
  maxFrameRate: 240,
  /*
   * Measured with this ffmpeg: a silent, all-black 160×120 clip at 30 fps, encoded by libx264 at its
   * worst quality (crf 51), is 600–780 B/s in MKV/MP4 and VP9 WebM, most of it container overhead of
   * ~20 B per frame; any real picture (camera noise, a screen's text) or any audio track (AAC or
   * Opus at their lowest rates, 750 B/s and up) is far above. What falls below 512 B/s is a header
   * declaring hours around a few frames: the 7 KB file that claimed 10 hours (0.2 B/s), whose
   * ladder would have held a slot for half a day. Only slideshow-like synthetic clips at a few
   * frames per second of black get that low honestly; the limit is configurable for them.
   */
  minBytesPerSec: 512,
};

export const DEFAULT_BUDGET: TimeBudget = {
  // The full ladder of a 4K60 HEVC source on a small container runs at several times real time;
  // ten times the duration leaves room for that while still ending a runaway job.
  perSourceSecond: 10,
  extraSec: 600,
};

export const DEFAULT_STALL_MS = 30_000;

const num = (min: number) => z.coerce.number().min(min);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  TRANSCODER_HOST: z.string().min(1).default("127.0.0.1"),
  TRANSCODER_PORT: int(0, 65535).optional(),
  PORT: int(0, 65535).optional(),
  TRANSCODER_CONCURRENCY: int(1, 64).default(1),
  TRANSCODER_SECRET: z.string().min(16, "TRANSCODER_SECRET must be set (at least 16 characters)"),
  WORKER_URL: z.url({ protocol: /^https?$/, error: "WORKER_URL must be the worker's http(s) URL" }),
  TRANSCODER_MAX_DURATION_SECONDS: num(1).default(DEFAULT_LIMITS.maxDurationSec),
  TRANSCODER_MAX_PIXELS: int(1, Number.MAX_SAFE_INTEGER).default(DEFAULT_LIMITS.maxPixels),
  TRANSCODER_MAX_FRAME_RATE: num(1).default(DEFAULT_LIMITS.maxFrameRate),
  TRANSCODER_MIN_BYTES_PER_SECOND: num(0).default(DEFAULT_LIMITS.minBytesPerSec),
  TRANSCODER_TIME_BUDGET_FACTOR: num(0).default(DEFAULT_BUDGET.perSourceSecond),
  TRANSCODER_TIME_BUDGET_EXTRA_SECONDS: num(0).default(DEFAULT_BUDGET.extraSec),
  TRANSCODER_STALL_TIMEOUT_SECONDS: num(0.1).default(DEFAULT_STALL_MS / 1000),
});

/** The settings from `env`; throws, naming each bad variable, when one is missing or malformed. */
export function readTranscoderConfig(env: Record<string, string | undefined>): TranscoderConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`The transcoder's environment is not usable: ${issues}`);
  }
  const e = parsed.data;
  return {
    host: e.TRANSCODER_HOST,
    port: e.TRANSCODER_PORT ?? e.PORT ?? 8788,
    concurrency: e.TRANSCODER_CONCURRENCY,
    secret: e.TRANSCODER_SECRET,
    workerUrl: e.WORKER_URL,
    limits: {
      maxDurationSec: e.TRANSCODER_MAX_DURATION_SECONDS,
      maxPixels: e.TRANSCODER_MAX_PIXELS,
      maxFrameRate: e.TRANSCODER_MAX_FRAME_RATE,
      minBytesPerSec: e.TRANSCODER_MIN_BYTES_PER_SECOND,
    },
    budget: {
      perSourceSecond: e.TRANSCODER_TIME_BUDGET_FACTOR,
      extraSec: e.TRANSCODER_TIME_BUDGET_EXTRA_SECONDS,
    },
    stallMs: e.TRANSCODER_STALL_TIMEOUT_SECONDS * 1000,
  };
}
