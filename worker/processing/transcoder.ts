/**
 * One interface to the transcoder, two transports: locally (`npm start`,
 * tests) a plain Node process over HTTP at `TRANSCODER_URL`; in production a
 * Cloudflare Container, one instance per job so each video's processing has
 * a single owner. Both speak the same `POST /jobs`.
 *
 * The way back differs too. The local process calls the Worker at
 * `PUBLIC_URL`. A container has no internet access: it calls
 * `JOB_STORAGE_ORIGIN`, a host name that exists only inside it, and the
 * Worker answers those requests itself (container.ts), so no deploy needs a
 * public URL for its transcoders.
 */
import type { Config } from "../config.ts";
import type { JobSpec } from "../contracts/job.ts";

export type HandOff = { accepted: boolean; status: number; reason: string };

export type Transcoder = {
  submit(job: JobSpec): Promise<HandOff>;
  /**
   * The job made progress: whatever runs it must not be stopped as idle.
   * Never throws; a failure is logged, and the next progress tries again.
   */
  keepAlive(): Promise<void>;
};

/** The host a container's requests to the Worker name; TranscoderContainer answers it (container.ts). */
export const JOB_STORAGE_HOST = "reelay.internal";
export const JOB_STORAGE_ORIGIN = `http://${JOB_STORAGE_HOST}`;

/**
 * The base every URL of a job lies under (the transcoder checks it): the
 * local transcoder's way to the Worker, or the containers'. Undefined when
 * the local transport has no `PUBLIC_URL`.
 */
export function workerUrlFor(config: Config): string | undefined {
  return config.transcoderUrl ? config.publicUrl : JOB_STORAGE_ORIGIN;
}

/**
 * What a task's transcoder is known by: the job id for its first task, the
 * span's try beside it for a span, so each span gets its own container.
 */
export const taskName = (jobId: string, span?: { index: number; attempt: number }) =>
  span ? `${jobId}-s${span.index}a${span.attempt}` : jobId;

/** How long a renewal may take before the callback that asked for it goes on without it. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

type Fetcher = (request: Request) => Promise<Response>;

function overHttp(fetcher: Fetcher, base: string, keepAlive: () => Promise<void>): Transcoder {
  return {
    async submit(job) {
      try {
        const res = await fetcher(
          new Request(new URL("/jobs", base), {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(job),
            signal: AbortSignal.timeout(30_000),
          }),
        );
        const text = await res.text();
        return { accepted: res.status === 202, status: res.status, reason: text.slice(0, 300) };
      } catch (err) {
        return { accepted: false, status: 0, reason: (err as Error).message };
      }
    },
    keepAlive,
  };
}

export function transcoderFor(env: Env, config: Config, name: string): Transcoder {
  // The local process lives as long as `npm start`: nothing to renew.
  if (config.transcoderUrl)
    return overHttp(
      (req) => fetch(req),
      config.transcoderUrl,
      async () => {},
    );
  const container = env.TRANSCODER.getByName(name);
  // An instance stops `sleepAfter` after its last inbound request, and a job
  // is a single `POST /jobs`: each progress the job reports renews it instead.
  const keepAlive = async () => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    try {
      await Promise.race([
        container.renewActivity(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("timed out")), KEEP_ALIVE_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      console.warn(`could not renew the container of ${name}`, (err as Error).message);
    } finally {
      if (timer !== null) clearTimeout(timer);
    }
  };
  return overHttp((req) => container.fetch(req), "http://transcoder.internal", keepAlive);
}
