/**
 * One transcode job as the worker asked for it: download, run the pipeline,
 * upload each publish step, report by callback. The callbacks double as the
 * heartbeat the worker uses to notice a dead transcoder, so progress is sent
 * on a clock, not only when it changes.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { JobEvent, JobSpec } from "../worker/contracts/job.ts";
import { abortError, TranscodeError } from "./errors.ts";
import { runPipeline } from "./pipeline.ts";
import { downloadSource, HttpError, postJson, SupersededError, uploadFiles, type Destination } from "./storage.ts";

export type JobOutcome = "completed" | "failed" | "superseded" | "stopped";

export type JobLog = (event: string, fields?: Record<string, unknown>) => void;

/**
 * A progress callback goes out every 2 s, changed or not: the worker's "at
 * most every 2 s, at least every 5 s", so these callbacks are the job's heartbeat.
 */
const PROGRESS_CALLBACK_MS = 2000;
/** Share of the progress bar spent downloading; the rest is the pipeline. */
const DOWNLOAD_SHARE = 0.05;

function failure(error: unknown): { reason: string; retryable: boolean } {
  if (error instanceof TranscodeError) return { reason: error.message, retryable: error.retryable };
  if (error instanceof HttpError && /^GET source/.test(error.message)) {
    // A missing or forbidden source will not appear by asking again; a throttled or timed-out one might.
    const permanent = error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
    return { reason: `The source could not be downloaded: ${error.message}.`, retryable: !permanent };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { reason: `Transcoding failed: ${message}`, retryable: true };
}

/**
 * Runs a job to its end. `stop` (server shutdown) aborts it; a `409
 * job_superseded` from the worker, to a download, an upload or a callback,
 * aborts it too, and then nothing more is sent. The job's temp dir is always
 * removed.
 */
export async function runJob(
  job: JobSpec,
  options: { tmpRoot: string; stop: AbortSignal; log: JobLog },
): Promise<JobOutcome> {
  const { log } = options;
  const controller = new AbortController();
  const { signal } = controller;
  const onStop = () => controller.abort(abortError(options.stop));
  options.stop.addEventListener("abort", onStop, { once: true });
  let superseded = false;
  // Every request to the worker goes through here: whichever is refused first stops the rest.
  const watch = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      if (error instanceof SupersededError) {
        superseded = true;
        controller.abort(error);
      }
      throw error;
    }
  };
  const callback = (body: JobEvent, callbackSignal = signal, retries?: number) =>
    watch(postJson(job.callbackUrl, job.token, body, callbackSignal, retries));
  const destination: Destination = { uploadBaseUrl: job.uploadBaseUrl, token: job.token, signal };

  // Heartbeat: one progress callback at a time, every PROGRESS_CALLBACK_MS.
  let progress = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let beating = true;
  let busy = false;
  const beat = () => {
    if (!beating || busy) return;
    busy = true;
    inFlight = callback({ type: "progress", jobId: job.jobId, progress: Math.round(progress * 1000) / 1000 })
      .catch((error: unknown) => {
        if (!superseded && !signal.aborted) log("job.progress_failed", { jobId: job.jobId, error: String(error) });
      })
      .finally(() => (busy = false));
  };
  const timer = setInterval(beat, PROGRESS_CALLBACK_MS);
  const stopHeartbeat = async () => {
    beating = false;
    clearInterval(timer);
    await inFlight;
  };

  let dir: string | undefined;
  try {
    beat();
    dir = await mkdtemp(join(options.tmpRoot, "reelay-job-"));
    const sourcePath = join(dir, "source");
    const bytes = await watch(
      downloadSource(job.sourceUrl, job.token, sourcePath, signal, (received, total) => {
        if (total) progress = DOWNLOAD_SHARE * (received / total);
      }),
    );
    log("job.downloaded", { jobId: job.jobId, bytes });
    const workDir = join(dir, "out");
    await mkdir(workDir);
    const metadata = await runPipeline({
      sourcePath,
      workDir,
      signal,
      onProgress: (fraction) => (progress = DOWNLOAD_SHARE + (1 - DOWNLOAD_SHARE) * fraction * 0.99),
      onPublish: async (step, meta) => {
        await watch(uploadFiles(destination, workDir, meta.files));
        log(`job.${step}`, {
          jobId: job.jobId,
          files: meta.files.length,
          renditions: meta.renditions.map((r) => r.name),
        });
        if (step === "final") {
          // Nothing may follow "completed": stop the heartbeat and let its last beat land first.
          await stopHeartbeat();
          await callback({ type: "completed", jobId: job.jobId, metadata: meta });
        } else {
          await callback({ type: "playable", jobId: job.jobId, metadata: meta });
        }
      },
    });
    log("job.completed", { jobId: job.jobId, durationSec: metadata.durationSec });
    return "completed";
  } catch (error) {
    await stopHeartbeat();
    if (superseded) {
      log("job.superseded", { jobId: job.jobId });
      return "superseded";
    }
    if (options.stop.aborted) {
      // Shutting down: one quick try to hand the job back, so it is retried without waiting for a missed heartbeat.
      const reason = "The transcoder shut down before the job finished.";
      await callback({ type: "failed", jobId: job.jobId, reason, retryable: true }, AbortSignal.timeout(2000), 0).catch(
        () => {},
      );
      log("job.stopped", { jobId: job.jobId });
      return "stopped";
    }
    const { retryable, ...rest } = failure(error);
    // The worker stores the reason for the uploader to read; keep it a sentence, not a log.
    const reason = rest.reason.length > 1000 ? `${rest.reason.slice(0, 999)}…` : rest.reason;
    log("job.failed", { jobId: job.jobId, reason, retryable });
    await callback({ type: "failed", jobId: job.jobId, reason, retryable }).catch((e: unknown) => {
      if (!superseded) log("job.callback_failed", { jobId: job.jobId, error: String(e) });
    });
    return superseded ? "superseded" : "failed";
  } finally {
    await stopHeartbeat();
    options.stop.removeEventListener("abort", onStop);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
