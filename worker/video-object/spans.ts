/**
 * The ladder's spans, the part of processing that runs once a job's first
 * task has published something playable and named the ladder left to encode:
 * the spans are planned (ladder.ts), each queued as a task of its own,
 * followed by its own heartbeat, retried on its own with backoff when it
 * fails or falls silent, and once every span is in, the rungs' playlists and
 * the final master are stitched from what they reported.
 *
 * Only a span's current try counts: a late, repeated or superseded try is
 * refused `job_superseded` (its token names its try), and its segments,
 * named by try, are swept when the ladder is stitched.
 */
import { readConfig } from "../config.ts";
import type { JobEvent, Ladder, Metadata, SpanRung, SpanTask } from "../contracts/job.ts";
import { STORYBOARD_FILE, stitchFrames } from "../contracts/storyboard.ts";
import { spanScheduler } from "../scheduler/span-scheduler.ts";
import { jobFileKey, jobPrefix } from "../storage/keys.ts";
import { deletePrefix } from "../storage/prefix.ts";
import { audioMetas, LADDER_INIT, ladderMaster, planSpans, StitchError, stitchRung } from "./ladder.ts";
import { type Outcome, refuse } from "./outcome.ts";
import type { Job, Span, VideoStore } from "./store.ts";
import { BUSY_RETRY_MS, backoffSeconds, resendAfterMs } from "./transcode-queue.ts";

/** A span's try, as its job token names it. */
export type SpanTry = { index: number; attempt: number };

/** A span's try to hand off, and the attempt of the job it belongs to; or why not. */
export type SpanStart = { start: true; task: SpanTask; jobAttempt: number } | { start: false; reason: string };

/** What the rest of processing does for the spans: end the job either way. */
export type SpanHost = {
  fail(reason: string): Promise<void>;
  complete(jobId: string, metadata: Metadata): Promise<void>;
  mirrorProgress(progress: number): Promise<void>;
};

export class Spans {
  private readonly store: VideoStore;
  private readonly env: Env;
  private readonly host: SpanHost;
  /** Set while this instance stitches: the last span's callback and the alarm must not both do it. */
  private stitching = false;

  constructor(store: VideoStore, env: Env, host: SpanHost) {
    this.store = store;
    this.env = env;
    this.host = host;
  }

  private get config() {
    return readConfig(this.env);
  }

  /** The first task of `job` is done and left `ladder`: plan its spans and queue them all. */
  async begin(job: Job, ladder: Ladder, metadata: Metadata, now: number): Promise<void> {
    if (job.ladder) return;
    this.store.updateJob(job.jobId, { ladder: { ladder, metadata }, heartbeatAt: now });
    const planned = planSpans(ladder, this.config.spanSeconds);
    this.store.addSpans(
      planned.map((p) => ({
        jobId: job.jobId,
        n: p.index,
        startSec: p.startSec,
        frames: p.frames,
        startNumber: p.startNumber,
        durationSec: p.durationSec,
        attempt: 1,
        state: "queued" as const,
        heartbeatAt: now,
        retryAt: now,
      })),
    );
    await this.host.mirrorProgress(0);
    await this.dispatch(job.jobId, now);
  }

  /**
   * Puts every queued span that is due in line for a transcoder slot (the
   * span scheduler sends its queue message when its turn comes). Each is
   * marked first (callbacks interleave across the call) with when to ask
   * again should its message be lost: the heartbeat timeout twice over.
   */
  async dispatch(jobId: string, now: number): Promise<void> {
    const due = this.store.spans(jobId).filter((s) => s.state === "queued" && s.retryAt !== null && s.retryAt <= now);
    if (due.length === 0) return;
    for (const s of due) this.store.updateSpan(jobId, s.n, { retryAt: now + this.stallMs });
    const refs = due.map((s) => ({ jobId, index: s.n, attempt: s.attempt }));
    await spanScheduler(this.env).enqueue(this.videoId, refs);
  }

  /** The queue consumer may hand span `index`'s try `attempt` to a transcoder: what to send, or why not. */
  start(job: Job, index: number, attempt: number, now: number): SpanStart {
    const span = this.store.span(job.jobId, index);
    if (!job.ladder || !span) return { start: false, reason: "no such span" };
    if (span.attempt !== attempt || span.state !== "queued") return { start: false, reason: "span try not waiting" };
    this.store.updateSpan(job.jobId, index, { state: "submitted", heartbeatAt: now, progress: 0, retryAt: null });
    const task: SpanTask = {
      index,
      attempt,
      startSec: span.startSec,
      frames: span.frames,
      startNumber: span.startNumber,
      rungs: job.ladder.ladder.rungs,
    };
    return { start: true, task, jobAttempt: job.attempt };
  }

  /**
   * How the hand-off went. A busy transcoder is asked again shortly. One
   * that could not be reached or refused is asked again after a backoff, as
   * the same try (nothing of it ran), and counts against the span's tries so
   * a transcoder that never answers fails the video in the end.
   */
  async handedOff(jobId: string, at: SpanTry, result: "accepted" | "refused" | "busy", now: number): Promise<void> {
    const span = this.store.span(jobId, at.index);
    if (!span || span.attempt !== at.attempt || span.state !== "submitted") return;
    if (result === "accepted") {
      this.store.updateSpan(jobId, at.index, { state: "running", heartbeatAt: now });
      return;
    }
    if (result === "busy") this.store.updateSpan(jobId, at.index, { state: "queued", retryAt: now + BUSY_RETRY_MS });
    else await this.failTry(span, "No transcoder took the span.", now, { sameTry: true });
    await this.release(span);
  }

  /** Whether this try of the span may still read the source, write its segments and report. */
  isCurrent(jobId: string, at: SpanTry): boolean {
    const span = this.store.span(jobId, at.index);
    return !!span && span.attempt === at.attempt && (span.state === "submitted" || span.state === "running");
  }

  /** A callback of the span's current try (the caller checked `isCurrent`). */
  async event(job: Job, at: SpanTry, event: JobEvent, now: number): Promise<Outcome<object>> {
    const span = this.store.span(job.jobId, at.index)!;
    switch (event.type) {
      case "progress":
        this.store.updateSpan(job.jobId, at.index, {
          state: "running",
          heartbeatAt: now,
          progress: Math.max(span.progress, event.progress),
        });
        await spanScheduler(this.env).renew(this.videoId, { jobId: job.jobId, index: at.index });
        await this.host.mirrorProgress(this.progress(job.jobId));
        return { ok: true };
      case "span_completed":
        if (event.span !== at.index) return refuse("job_mismatch", "The result names another span.");
        this.store.updateSpan(job.jobId, at.index, {
          state: "done",
          progress: 1,
          result: event.rungs,
          heartbeatAt: now,
        });
        await this.host.mirrorProgress(this.progress(job.jobId));
        await this.release(span);
        await this.stitchIfDone(job.jobId);
        return { ok: true };
      case "failed":
        if (event.retryable) await this.failTry(span, event.reason, now);
        else await this.host.fail(event.reason);
        await this.release(span);
        return { ok: true };
      default:
        return refuse("invalid_request", "A span reports progress, span_completed or failed.");
    }
  }

  /** The alarm's turn: silent tries are failed, due spans queued, a ladder whose spans are all in stitched. */
  async tend(job: Job, now: number): Promise<void> {
    for (const s of this.store.spans(job.jobId)) {
      const silent = (s.state === "submitted" || s.state === "running") && now - s.heartbeatAt > this.timeoutMs;
      if (!silent) continue;
      await this.failTry(s, "The transcoder stopped responding.", now);
      await this.release(s);
    }
    if (!this.store.activeJob()) return;
    await this.dispatch(job.jobId, now);
    await this.stitchIfDone(job.jobId);
  }

  /** When the alarm is next needed for the job's spans: a try's heartbeat timeout, or a queued span's send. */
  dueAt(jobId: string): number | undefined {
    const times = this.store.spans(jobId).flatMap((s) => {
      if (s.state === "submitted" || s.state === "running") return [s.heartbeatAt + this.timeoutMs + 1000];
      if (s.state === "queued" && s.retryAt !== null) return [s.retryAt];
      return [];
    });
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** The fraction of the ladder's span-seconds done: what the video's progress shows while the ladder encodes. */
  progress(jobId: string): number {
    const all = this.store.spans(jobId);
    const total = all.reduce((n, s) => n + s.durationSec, 0);
    const done = all.reduce((n, s) => n + s.durationSec * (s.state === "done" ? 1 : s.progress), 0);
    return total > 0 ? Math.round((done / total) * 1000) / 1000 : 0;
  }

  /** A try failed or fell silent: the span is tried again after a backoff, or, out of tries, the video fails. */
  private async failTry(span: Span, reason: string, now: number, options: { sameTry?: boolean } = {}): Promise<void> {
    const failures = span.failures + 1;
    if (failures >= this.config.jobMaxAttempts) {
      this.store.updateSpan(span.jobId, span.n, { failures, error: reason, state: "queued", retryAt: null });
      await this.host.fail(
        `The part of the video from ${formatTime(span.startSec)} failed ${failures} times: ${reason}`,
      );
      return;
    }
    this.store.updateSpan(span.jobId, span.n, {
      failures,
      error: reason,
      attempt: options.sameTry ? span.attempt : span.attempt + 1,
      state: "queued",
      progress: 0,
      retryAt: now + backoffSeconds(failures) * 1000,
    });
  }

  /**
   * Once every span is in: each rung's playlist, then the master, written
   * from the spans' results, stray segments of superseded tries deleted, and
   * the job completed. A stitch that cannot be made (the spans' init
   * segments differ) fails the video: trying again would make the same.
   */
  private async stitchIfDone(jobId: string): Promise<void> {
    const all = this.store.spans(jobId);
    const job = this.store.activeJob();
    if (
      this.stitching ||
      job?.jobId !== jobId ||
      !job.ladder ||
      all.length === 0 ||
      all.some((s) => s.state !== "done")
    )
      return;
    this.stitching = true;
    try {
      const { ladder, metadata } = job.ladder;
      const videoId = this.videoId;
      const audio = audioMetas(metadata.audioTracks);
      const results = all.map((s) => s.result as SpanRung[]);
      let stitched: ReturnType<typeof stitchRung>[];
      try {
        stitched = ladder.rungs.map((name) =>
          stitchRung(
            name,
            results.map((r) => r.find((x) => x.name === name)!),
            audio,
            metadata.frameRate,
          ),
        );
      } catch (error) {
        if (!(error instanceof StitchError)) throw error;
        console.error(`cannot stitch the ladder of ${videoId}/${jobId}: ${error.message}`);
        await this.host.fail("Processing failed: the ladder's parts did not fit together.");
        return;
      }
      const put = (file: string, text: string) =>
        this.env.VIDEOS.put(jobFileKey(videoId, jobId, file), text, {
          httpMetadata: { contentType: "application/vnd.apple.mpegurl" },
        });
      for (const [i, name] of ladder.rungs.entries()) {
        await put(`${name}/index.m3u8`, stitched[i].playlist);
        const keep = new Set([
          LADDER_INIT,
          "index.m3u8",
          ...results.flatMap((r) => r.find((x) => x.name === name)!.segments.map((s) => s.uri)),
        ]);
        const dir = `${jobPrefix(videoId, jobId)}${name}/`;
        await deletePrefix(this.env.VIDEOS, dir, (key) => keep.has(key.slice(dir.length)));
      }
      const { master, renditions } = ladderMaster(
        metadata.renditions[0],
        stitched.map((s) => s.rendition),
        audio,
      );
      const frames = await this.writeStoryboard(jobId, results, metadata);
      await put("master.m3u8", master);
      const final: Metadata = {
        ...metadata,
        renditions: renditions.map(({ playlist: _, ...r }) => r),
        ...(frames ? { frames } : {}),
      };
      await this.host.complete(jobId, final);
    } finally {
      this.stitching = false;
    }
  }

  /**
   * The storyboard of the top rung's frames, when the spans wrote them (the
   * first task did otherwise, and its metadata says so): their frames as one
   * `Frames`. Frames that do not fit together are left out, not the ladder:
   * the video plays without seek-bar previews rather than not at all.
   */
  private async writeStoryboard(jobId: string, results: SpanRung[][], metadata: Metadata) {
    const runs = results.flatMap((r) => r.flatMap((x) => (x.frames ? [x.frames] : [])));
    if (runs.length === 0) return metadata.frames;
    const stitched = stitchFrames(runs, metadata.durationSec);
    if (!stitched) {
      console.error(`the frames of ${this.videoId}/${jobId} do not fit together; the video has none`);
      return undefined;
    }
    await this.env.VIDEOS.put(jobFileKey(this.videoId, jobId, STORYBOARD_FILE), stitched.vtt, {
      httpMetadata: { contentType: "text/vtt; charset=utf-8" },
    });
    return stitched.frames;
  }

  /** The span's slot is free for the next in turn. */
  private async release(span: Span): Promise<void> {
    await spanScheduler(this.env).release(this.videoId, { jobId: span.jobId, index: span.n });
  }

  private get videoId(): string {
    return this.store.video()!.videoId;
  }

  private get timeoutMs(): number {
    return this.config.jobHeartbeatTimeoutMs;
  }

  /** How long a queued span waits for its message before it is sent again. */
  private get stallMs(): number {
    return resendAfterMs(this.config.jobHeartbeatTimeoutMs);
  }
}

const formatTime = (sec: number) => {
  const s = Math.floor(sec);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};
