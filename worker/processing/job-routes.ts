/**
 * `/internal/jobs/:jobId/…`: the storage protocol the transcoder speaks, the
 * same from a local Node process or a container. Every request carries the
 * job's signed token; the video's Durable Object must still call the job
 * current, so a superseded job can neither read nor write nor report.
 *
 * A local transcoder reaches these routes at `PUBLIC_URL/internal/…`; a
 * container at `http://reelay.internal/internal/…`, answered inside the
 * Worker by `containerOutbound` (app.ts), which serves these routes alone.
 */
import { Hono } from "hono";
import { jobToken } from "../http/auth.ts";
import { apiError, unwrap } from "../http/errors.ts";
import { validJson } from "../http/validate.ts";
import { JobFileSchema, jobFileKey } from "../storage/keys.ts";
import { contentTypeFor, serveObject } from "../storage/serve.ts";
import { videoObject } from "../video-object/stub.ts";
import { AUDIO_DOWNLOAD_FILE, DOWNLOAD_FILE, JobEventSchema } from "../contracts/job.ts";
import type { JobClaims } from "../contracts/job-token.ts";
import { readConfig } from "../config.ts";
import { packageTaskName } from "./queue.ts";
import { taskName, transcoderFor } from "./transcoder.ts";

export const internal = new Hono<{ Bindings: Env; Variables: { claims: JobClaims } }>();

/** Largest single output file (a segment or playlist); real ones are a few MiB. */
const MAX_OUTPUT_BYTES = 512 * 1024 * 1024;

internal.use("/jobs/:jobId/*", jobToken);

/**
 * Most bytes one ranged read of a source returns. ffmpeg asks for `bytes=0-`
 * (everything from there) and reads on only as far as it needs: a probe a
 * few MiB of a 50 GiB file. An open-ended R2 read streams the whole rest
 * (the local simulator reads it all, at 60 MB/s, into memory), so each answer
 * is a bounded slice and ffmpeg (`-reconnect`) asks again where it ended.
 * A plain GET without `Range` still streams the whole source.
 */
const SOURCE_SLICE_BYTES = 16 * 1024 * 1024;

internal.get("/jobs/:jobId/source", async (c) => {
  const { videoId, jobId, span } = c.var.claims;
  if (c.var.claims.package) throw apiError("invalid_path", "A package task reads the ladder, not the source.");
  const source = unwrap(await videoObject(c.env, videoId).jobSource(jobId, span));
  return serveObject(c.req.raw, c.env.VIDEOS, source.r2Key, {
    cacheControl: "no-store",
    maxRangeBytes: SOURCE_SLICE_BYTES,
  });
});

/**
 * A span's frames (storyboard.ts `frameFile`, `spriteFile`) are named by the
 * frame they show, not by try: every try of a span decodes the same frames
 * of the same source through the same filters, so a superseded try's late
 * write puts the same picture where it lands, whole (R2 writes are atomic,
 * and a task uploads its frames only once ffmpeg has finished them).
 */
const SPAN_FRAME = /^frames\/(?:[0-9]{1,4}|sprite)_[0-9]{5,6}\.jpg$/;

const spanMayWrite = (file: string, span: { index: number; attempt: number }) =>
  new RegExp(`^[a-z0-9_]{1,32}/seg_[0-9]{5}\\.a${span.attempt}\\.m4s$`).test(file) ||
  (span.index === 0 && /^[a-z0-9_]{1,32}\/init\.mp4$/.test(file)) ||
  SPAN_FRAME.test(file);

/** A package task writes the downloads, nothing else: never a segment or playlist that plays. */
const packageMayWrite = (file: string) => file === DOWNLOAD_FILE || file === AUDIO_DOWNLOAD_FILE;

/**
 * The job's own files, for its package task alone: the complete ladder's
 * playlists and segments it copies into the downloads. Other tasks write
 * files; none needs to read another's.
 */
internal.get("/jobs/:jobId/files/*", async (c) => {
  const { videoId, jobId, package: pkg } = c.var.claims;
  if (!pkg) throw apiError("invalid_path", "Only a package task reads a job's files.");
  const file = JobFileSchema.safeParse(c.req.path.slice(`/internal/jobs/${jobId}/files/`.length));
  if (!file.success) throw apiError("invalid_path", "Not a job file path.");
  if (!(await videoObject(c.env, videoId).packageIsCurrent(jobId, pkg.attempt)))
    throw apiError("job_superseded", "This package task is no longer current; stop it.");
  return serveObject(c.req.raw, c.env.VIDEOS, jobFileKey(videoId, jobId, file.data), { cacheControl: "no-store" });
});

internal.put("/jobs/:jobId/files/*", async (c) => {
  const { videoId, jobId, span, package: pkg } = c.var.claims;
  const file = JobFileSchema.safeParse(c.req.path.slice(`/internal/jobs/${jobId}/files/`.length));
  if (!file.success) throw apiError("invalid_path", "Not a job output path.");
  // A span writes its own try's segments, the first span the rungs' init segments, the top rung's span its frames: nothing else.
  if (span && !spanMayWrite(file.data, span)) throw apiError("invalid_path", "Not an output of this span.");
  if (pkg && !packageMayWrite(file.data)) throw apiError("invalid_path", "Not an output of this package task.");
  const length = Number(c.req.header("content-length"));
  if (!Number.isSafeInteger(length) || length < 0) throw apiError("length_required", "Content-Length is required.");
  if (length > MAX_OUTPUT_BYTES) throw apiError("payload_too_large", "Output file too large.");
  const video = videoObject(c.env, videoId);
  const current = pkg ? await video.packageIsCurrent(jobId, pkg.attempt) : await video.jobIsCurrent(jobId, span);
  if (!current) throw apiError("job_superseded", "This job is no longer current; stop it.");
  const body = (c.req.raw.body ?? new Blob([]).stream()).pipeThrough(new FixedLengthStream(length));
  await c.env.VIDEOS.put(jobFileKey(videoId, jobId, file.data), body, {
    httpMetadata: { contentType: contentTypeFor(file.data) },
  });
  return c.body(null, 204);
});

internal.post("/jobs/:jobId/events", validJson(JobEventSchema), async (c) => {
  const { videoId, jobId, span, package: pkg } = c.var.claims;
  const event = c.req.valid("json");
  if (event.jobId !== jobId) throw apiError("job_mismatch", "The event names another job.");
  const video = videoObject(c.env, videoId);
  const { status } = unwrap(await (pkg ? video.packageEvent(event, pkg.attempt) : video.jobEvent(event, span)));
  // Only once the video's object took the event, and outside it: a job it
  // no longer counts is not kept alive, and a renewal never fails a callback.
  if (event.type === "progress" || event.type === "playable") {
    const name = pkg ? packageTaskName(jobId, pkg.attempt) : taskName(jobId, span);
    await transcoderFor(c.env, readConfig(c.env), name).keepAlive();
  }
  return c.json({ ok: true, status });
});
