/**
 * One task of a transcode job as the worker asked for it: the job's first
 * task (pipeline.ts) or one span of its ladder (span.ts), run on the source
 * where it is (the worker's URL, read by range), or the downloads of its
 * complete ladder (package.ts), read from the job's own files; uploading
 * what it writes as it writes it, reporting by callback. The progress callbacks double as the
 * heartbeat the worker uses to notice a dead transcoder, so they go out only
 * while the task really moves (bytes arrive or leave, ffmpeg advances): a
 * task stuck anywhere goes silent, and the worker's watchdog gives its work
 * to a new try.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { JobEvent, JobSpec } from "../worker/contracts/job.ts";
import { DEFAULT_BUDGET, DEFAULT_LIMITS, DEFAULT_STALL_MS, type JobSettings } from "./config.ts";
import { abortError, complaints, TranscodeError } from "./errors.ts";
import { runPipeline } from "./pipeline.ts";
import { probeSource } from "./probe.ts";
import { packageDownloads } from "./package.ts";
import { runSpan } from "./span.ts";
import {
  checkSource,
  fetchInto,
  fetchText,
  HttpError,
  postJson,
  StalledError,
  uploadFiles,
  WithdrawnError,
  type Destination,
  type Transfer,
} from "./storage.ts";

export type JobOutcome = "completed" | "failed" | "superseded" | "unauthorized" | "stopped";

export type JobLog = (event: string, fields?: Record<string, unknown>) => void;

/**
 * At most one progress callback every 2 s, and only if the job moved since
 * the last one: the worker's "at most every 2 s", and a heartbeat that stops
 * when the work does.
 */
const PROGRESS_CALLBACK_MS = 2000;

const DEFAULT_SETTINGS: JobSettings = { limits: DEFAULT_LIMITS, budget: DEFAULT_BUDGET, stallMs: DEFAULT_STALL_MS };

function failure(error: unknown): { reason: string; retryable: boolean } {
  if (error instanceof TranscodeError) return { reason: error.message, retryable: error.retryable };
  if (error instanceof StalledError) return { reason: `Transcoding failed: ${error.message}.`, retryable: true };
  if (error instanceof HttpError && /^GET source/.test(error.message)) {
    // A missing or forbidden source will not appear by asking again, nor will a redirect go away;
    // a throttled or timed-out one might.
    const permanent = error.status < 500 && error.status !== 408 && error.status !== 429;
    return { reason: `The source could not be read: ${error.message}.`, retryable: !permanent };
  }
  // Anything else is this machine's trouble (a full temp disk, a bug): retried, told without our paths.
  const message = error instanceof Error ? error.message : String(error);
  return { reason: `Transcoding failed: ${complaints(message, [])[0] ?? "unknown error"}`, retryable: true };
}

/**
 * Runs a job to its end. `stop` (server shutdown) aborts it; a `409
 * job_superseded` or a 401 from the worker, to a download, an upload or a
 * callback, aborts it too, and then nothing more is sent. The job's temp dir
 * is always removed.
 */
export async function runJob(
  job: JobSpec,
  options: {
    tmpRoot: string;
    stop: AbortSignal;
    log: JobLog;
    settings?: JobSettings;
    /**
     * The task's work is over and only its last word is left to send: its
     * slot may take the next task, which the worker hands off the moment
     * that word frees the slot on its side.
     */
    onWorkDone?: () => void;
  },
): Promise<JobOutcome> {
  const task = job.span
    ? { span: job.span.index, spanAttempt: job.span.attempt }
    : job.package
      ? { package: job.package.attempt }
      : {};
  const log: JobLog = (event, fields) => options.log(event, { ...task, ...fields });
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const controller = new AbortController();
  const { signal } = controller;
  const onStop = () => controller.abort(abortError(options.stop));
  options.stop.addEventListener("abort", onStop, { once: true });
  let withdrawn: WithdrawnError | undefined;
  // Every request to the worker goes through here: whichever is refused first stops the rest.
  const watch = async <T>(work: Promise<T>): Promise<T> => {
    try {
      return await work;
    } catch (error) {
      if (error instanceof WithdrawnError) {
        withdrawn ??= error;
        controller.abort(error);
      }
      throw error;
    }
  };
  const withdrawal = () => withdrawn;
  // Set whenever the job moves: bytes transferred, ffmpeg advancing, a step done.
  let moved = true;
  const transfer: Transfer = { token: job.token, signal, stallMs: settings.stallMs, onActivity: () => (moved = true) };
  const callback = (body: JobEvent, callbackSignal = signal, retries?: number) =>
    watch(postJson(job.callbackUrl, { ...transfer, signal: callbackSignal }, body, retries));
  const destination: Destination = { ...transfer, uploadBaseUrl: job.uploadBaseUrl };

  // Heartbeat: one progress callback at a time, at most every PROGRESS_CALLBACK_MS, only after moving.
  let progress = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let beating = true;
  let busy = false;
  const beat = () => {
    if (!beating || busy || !moved) return;
    moved = false;
    busy = true;
    inFlight = callback({ type: "progress", jobId: job.jobId, progress: Math.round(progress * 1000) / 1000 })
      .catch((error: unknown) => {
        if (!withdrawn && !signal.aborted) log("job.progress_failed", { jobId: job.jobId, error: String(error) });
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
    if (job.package) {
      const base = job.uploadBaseUrl.replace(/\/+$/, "");
      const url = (file: string) => `${base}/${file.split("/").map(encodeURIComponent).join("/")}`;
      const packaged = await packageDownloads({
        task: job.package,
        ladder: {
          text: (file) => watch(fetchText(url(file), file, transfer)),
          into: (file, out, at) => watch(fetchInto(url(file), file, transfer, out, at)),
        },
        workDir: dir,
        signal,
        onProgress: (fraction) => {
          moved = true;
          progress = fraction * 0.99;
        },
      });
      await watch(uploadFiles(destination, dir, packaged.files));
      log("job.package_completed", { jobId: job.jobId, bytes: packaged.download.bytes });
      // Nothing may follow the task's result: stop the heartbeat and let its last beat land first.
      await stopHeartbeat();
      options.onWorkDone?.();
      const { download, audio } = packaged;
      await callback({ type: "package_completed", jobId: job.jobId, download, audio });
      return "completed";
    }
    const source = { url: job.sourceUrl, token: job.token, stallMs: settings.stallMs };
    // Probed by range: a file that is not a video fails in seconds, not after reading gigabytes.
    const probed = await probeSource(source, signal, settings.limits).catch(async (error: unknown) => {
      if (!(error instanceof TranscodeError) || !error.retryable) throw error;
      if (/timed out/i.test(error.detail ?? "")) throw new StalledError("GET source", settings.stallMs);
      // Why ffmpeg could not read it (the job withdrawn, the source gone, the worker busy): one plain request tells.
      await watch(checkSource(job.sourceUrl, transfer));
      throw error;
    });
    moved = true;
    log("job.probed", { jobId: job.jobId, durationSec: probed.durationSec, videoCodec: probed.videoCodec });
    const workDir = dir;
    const upload = (files: string[], texts?: Map<string, string>) =>
      watch(uploadFiles(destination, workDir, files, texts));
    if (job.span) {
      const rungs = await runSpan({
        source,
        probed,
        span: job.span,
        workDir,
        signal,
        budget: settings.budget,
        upload,
        onProgress: (fraction) => {
          moved = true;
          progress = fraction * 0.99;
        },
      });
      log("job.span_completed", { jobId: job.jobId });
      // Nothing may follow the span's result: stop the heartbeat and let its last beat land first.
      await stopHeartbeat();
      options.onWorkDone?.();
      await callback({ type: "span_completed", jobId: job.jobId, span: job.span.index, rungs });
      return "completed";
    }
    const metadata = await runPipeline({
      source,
      workDir,
      signal,
      limits: settings.limits,
      budget: settings.budget,
      probed,
      log: (event, fields) => log(event, { jobId: job.jobId, ...fields }),
      onProgress: (fraction) => {
        moved = true;
        progress = fraction * 0.99;
      },
      upload,
      discardUploaded: true,
      onPublish: async (step, meta) => {
        await upload(meta.files);
        log(`job.${step}`, {
          jobId: job.jobId,
          files: meta.files.length,
          renditions: meta.renditions.map((r) => r.name),
        });
        if (step === "final" || meta.ladder) {
          // Nothing may follow the task's last word: stop the heartbeat and let its last beat land first.
          await stopHeartbeat();
          options.onWorkDone?.();
        }
        if (step === "final") {
          await callback({ type: "completed", jobId: job.jobId, metadata: meta });
        } else {
          await callback({
            type: "playable",
            jobId: job.jobId,
            metadata: meta,
            growing: step === "growing",
            ladder: meta.ladder,
          });
        }
      },
    });
    log("job.completed", { jobId: job.jobId, durationSec: metadata.durationSec });
    return "completed";
  } catch (error) {
    await stopHeartbeat();
    options.onWorkDone?.();
    if (withdrawn) {
      log(`job.${withdrawn.why}`, { jobId: job.jobId });
      return withdrawn.why;
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
    // What ffmpeg said in full (paths and all) is for the operator, never the uploader.
    const detail = error instanceof TranscodeError ? error.detail : error instanceof Error ? error.stack : undefined;
    log("job.failed", { jobId: job.jobId, reason, retryable, ...(detail ? { detail } : {}) });
    await callback({ type: "failed", jobId: job.jobId, reason, retryable }).catch((e: unknown) => {
      if (!withdrawn) log("job.callback_failed", { jobId: job.jobId, error: String(e) });
    });
    // The failure callback itself may have been refused so.
    return withdrawal()?.why ?? "failed";
  } finally {
    await stopHeartbeat();
    options.stop.removeEventListener("abort", onStop);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
