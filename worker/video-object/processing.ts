/**
 * Processing, the part of the video's Durable Object that runs transcode
 * jobs: which job is current, what its last heartbeat was, which job's
 * outputs are served.
 *
 * Delivery is at least once and transcoders die, so: every hand-off gets a
 * fresh job id and its own output prefix; only the current job's callbacks
 * count (a late, repeated or superseded callback is refused `job_superseded`
 * and cannot move a `ready` video back); a job silent past the heartbeat
 * timeout is superseded and started again by the alarm; losers' outputs are
 * deleted (a superseded job's that the video plays once another job's are
 * published: a retry never takes a playing video away).
 *
 * The alarm is also the durable backstop of the hand-off: a job refused
 * because every transcoder is busy is offered again a few seconds later, and
 * if a queue retry never arrives (the local queue simulator keeps delayed
 * messages in memory only) the job is queued again, up to a bound. When the
 * alarm fires is alarm.ts's decision; this part only says what is stored.
 *
 * A job is its first task (something playable, the audio, the poster), then
 * its ladder's spans: once the first task names the ladder it is over, and
 * spans.ts queues, follows and retries each span on its own; the job
 * completes when they are stitched, or fails when one runs out of tries.
 */
import { type Config, readConfig } from "../config.ts";
import type { JobEvent, Metadata } from "../contracts/job.ts";
import { updateVideo, type VideoUpdate } from "../db/videos.ts";
import type { EventType } from "../contracts/events.ts";
import type { Events } from "./events.ts";
import { jobPrefix, jobsPrefix, newJobId } from "../storage/keys.ts";
import { deletePrefix } from "../storage/prefix.ts";
import { type Outcome, refuse } from "./outcome.ts";
import type { Job, VideoStore } from "./store.ts";
import { spanScheduler } from "../scheduler/span-scheduler.ts";
import { type SpanStart, Spans, type SpanTry } from "./spans.ts";
import { BUSY_RETRY_MS, queueTranscode, resendAfterMs, type SpanRef } from "./transcode-queue.ts";

export type JobStart = { start: true; jobId: string; attempt: number } | { start: false; reason: string };
export type HandOffResult = "accepted" | "refused" | "busy";

/** The first-playable copy's rendition (transcoder/pipeline.ts names the source copied into HLS so). */
const FIRST_COPY = "source";
/** Hand-offs that may fail (not busy: failed) before the video is marked failed, as the dead-letter queue would. */
const MAX_REFUSALS = 6;

export class Processing {
  private readonly store: VideoStore;
  private readonly env: Env;
  private readonly spans: Spans;
  private readonly events: Events;
  /** Once a job's whole ladder is published: the downloads are made of it, if the owner allows them (downloads.ts). */
  private readonly ladderCompleted: () => Promise<void>;

  constructor(store: VideoStore, env: Env, events: Events, ladderCompleted: () => Promise<void> = async () => {}) {
    this.events = events;
    this.ladderCompleted = ladderCompleted;
    this.store = store;
    this.env = env;
    this.spans = new Spans(store, env, {
      fail: (reason) => this.fail(reason),
      complete: (jobId, metadata) => this.completed(jobId, metadata),
      mirrorProgress: (progress) => this.mirror({ progress }),
    });
  }

  private get config(): Config {
    return readConfig(this.env);
  }

  /** Mirrors the merged video's status to D1 and queues its first job; idempotent, retried by the next `complete`. */
  async begin(): Promise<void> {
    const video = this.store.video();
    if (!video || video.jobSent) return;
    // An import's progress was its download's: processing starts from nothing.
    await updateVideo(this.env.DB, video.videoId, { status: video.status, progress: null });
    await queueTranscode(this.env, video.videoId, 1);
    this.store.updateVideo({ jobSent: true });
  }

  /** Called by the queue consumer for `{ videoId, attempt }`: start a job, or say why not. */
  async startJob(attempt: number): Promise<JobStart> {
    const video = this.store.video();
    if (!video) return { start: false, reason: "unknown video" };
    if (video.status !== "processing" && video.status !== "ready") {
      return { start: false, reason: `video is ${video.status}` };
    }
    if (video.ladderComplete) return { start: false, reason: "already processed" };
    const now = Date.now();
    const active = this.store.activeJob();
    // Its spans have their own heartbeats and retries: the job's own is over.
    if (active?.ladder) return { start: false, reason: "the ladder is being encoded" };
    if (active && attempt <= active.attempt && !this.isSilent(active, now)) {
      return { start: false, reason: "a job for this attempt is already running" };
    }
    if (attempt > this.config.jobMaxAttempts) {
      await this.fail(`Processing did not finish after ${this.config.jobMaxAttempts} attempts.`);
      return { start: false, reason: "out of attempts" };
    }
    const jobId = newJobId(attempt);
    if (active) this.store.updateJob(active.jobId, { state: "superseded" });
    this.store.addJob(jobId, attempt, now);
    if (active) await this.dropOutputs(active.jobId);
    await this.emit("video.processing.started", "processing.started");
    return { start: true, jobId, attempt };
  }

  /**
   * The consumer's hand-off result. A refused job is dropped (the queue
   * retries it as a new job, and the alarm stands behind that retry); a job
   * refused for lack of a free transcoder is offered again by the alarm.
   */
  handedOff(jobId: string, result: HandOffResult): void {
    if (this.store.job(jobId)?.state !== "submitted") return;
    const now = Date.now();
    if (result === "accepted") {
      this.store.updateJob(jobId, { state: "running", heartbeatAt: now });
    } else if (result === "busy") {
      this.store.updateJob(jobId, { state: "deferred", retryAt: now + BUSY_RETRY_MS });
    } else {
      this.store.updateJob(jobId, { state: "refused", retryAt: now + this.stallMs });
    }
  }

  /**
   * Whether a task of job `jobId` may still read the source and write
   * outputs: the first task until it has named the ladder, a span's try
   * while it is that span's current one.
   */
  jobIsCurrent(jobId: string, span?: SpanTry): boolean {
    const status = this.store.video()?.status;
    const active = this.store.activeJob();
    if ((status !== "processing" && status !== "ready") || active?.jobId !== jobId) return false;
    return span ? this.spans.isCurrent(jobId, span) : !active.ladder;
  }

  /** Where a task of job `jobId` reads its source, if it is still current. */
  jobSource(jobId: string, span?: SpanTry): Outcome<{ r2Key: string; size: number }> {
    const video = this.store.video();
    if (!video || !this.jobIsCurrent(jobId, span)) return refuse("job_superseded", "This job is no longer current.");
    return { ok: true, r2Key: video.r2Key, size: video.size };
  }

  /** Called by the queue consumer for a span's try: what to hand off, or why not. */
  startSpan(ref: SpanRef): SpanStart {
    const active = this.store.activeJob();
    const status = this.store.video()?.status;
    if (!active || active.jobId !== ref.jobId || (status !== "processing" && status !== "ready"))
      return { start: false, reason: "job no longer current" };
    return this.spans.start(active, ref.index, ref.attempt, Date.now());
  }

  async spanHandedOff(ref: SpanRef, result: HandOffResult): Promise<void> {
    if (this.store.activeJob()?.jobId !== ref.jobId) return;
    await this.spans.handedOff(ref.jobId, ref, result, Date.now());
  }

  /** The alarm's turn for the current job's spans. */
  async tendSpans(): Promise<void> {
    const active = this.store.activeJob();
    if (active?.ladder) await this.spans.tend(active, Date.now());
  }

  /**
   * When the current job's spans next need the alarm, if the job is encoding
   * its ladder; with nothing due (every span in), a look a heartbeat timeout
   * later still finishes a stitch an evicted instance left undone.
   */
  spansDueAt(): number | undefined {
    const active = this.store.activeJob();
    if (!active?.ladder) return undefined;
    return this.spans.dueAt(active.jobId) ?? Date.now() + this.config.jobHeartbeatTimeoutMs;
  }

  /** A signed callback from the transcoder. Only the current task's events count. */
  async event(event: JobEvent, span?: SpanTry): Promise<Outcome<{ status: string }>> {
    if (!this.jobIsCurrent(event.jobId, span)) {
      return refuse("job_superseded", "This job is no longer the video's current job; stop it.");
    }
    const video = this.store.video()!;
    const job = this.store.job(event.jobId)!;
    const now = Date.now();
    if (span) {
      const outcome = await this.spans.event(job, span, event, now);
      return outcome.ok ? this.reported() : outcome;
    }
    switch (event.type) {
      case "progress":
        this.store.heartbeat(job.jobId, now, event.progress);
        await this.mirror({ progress: this.store.job(job.jobId)!.progress });
        break;
      case "playable":
        this.store.heartbeat(job.jobId, now);
        this.store.updateVideo({
          status: "ready",
          playbackJob: job.jobId,
          ladderComplete: false,
          playbackGrowing: event.growing,
          updatedAt: now,
        });
        await this.mirror({
          status: "ready",
          playbackJob: job.jobId,
          ladderComplete: false,
          error: null,
          ...columns(event.metadata),
        });
        await this.emit("video.playable", "playable");
        await this.renditionsReady(event.metadata);
        if (event.ladder && !event.growing) await this.spans.begin(job, event.ladder, event.metadata, now);
        break;
      case "completed":
        await this.completed(job.jobId, event.metadata);
        break;
      case "span_completed":
      case "package_completed":
        return refuse("invalid_request", "Only a span's or package task's own token reports its result.");
      case "failed":
        this.store.updateJob(job.jobId, { state: "failed" });
        if (event.retryable && job.attempt < this.config.jobMaxAttempts) {
          await queueTranscode(this.env, video.videoId, job.attempt + 1);
        } else {
          await this.fail(event.reason);
        }
        break;
    }
    return this.reported();
  }

  /** The answer to a callback whose change was made: the video's status, unless it was deleted meanwhile. */
  private reported(): Outcome<{ status: string }> {
    const video = this.store.video();
    if (!video) return refuse("job_superseded", "The video was deleted; stop the job.");
    return { ok: true, status: video.status };
  }

  /** The job's whole ladder is published: it plays from now on, and every other job's outputs go. */
  private async completed(jobId: string, metadata: Metadata): Promise<void> {
    const video = this.store.video()!;
    const now = Date.now();
    this.store.updateJob(jobId, { state: "completed" });
    this.store.updateVideo({
      status: "ready",
      playbackJob: jobId,
      ladderComplete: true,
      playbackGrowing: false,
      error: null,
      updatedAt: now,
      // The final master no longer lists the first-playable copy; its viewers get a grace.
      firstCopyRetireAt: now + this.config.firstPlayableGraceMs,
    });
    await this.mirror({
      status: "ready",
      playbackJob: jobId,
      ladderComplete: true,
      progress: 1,
      error: null,
      ...columns(metadata),
    });
    await this.renditionsReady(metadata);
    await this.emit("video.ready", "ready");
    await spanScheduler(this.env).forget(video.videoId);
    // The winner is published: sweep every other job's outputs.
    await deletePrefix(this.env.VIDEOS, jobsPrefix(video.videoId), (key) =>
      key.startsWith(jobPrefix(video.videoId, jobId)),
    );
    // The ladder is published whatever becomes of its downloads; the owner's next PATCH asks again.
    await this.ladderCompleted().catch((err: unknown) =>
      console.error(`downloads of ${video.videoId} not asked for`, err),
    );
  }

  /**
   * The alarm's end of the first-playable copy: `source/` of the playback
   * job, the source copied into HLS to be playable at once, which the final
   * ladder replaced. Kept until now for viewers who started on it; a job
   * that encoded its first rendition instead has nothing there.
   */
  async retireFirstCopy(): Promise<void> {
    const video = this.store.video();
    if (!video?.playbackJob || video.firstCopyRetireAt === null) return;
    await deletePrefix(this.env.VIDEOS, `${jobPrefix(video.videoId, video.playbackJob)}${FIRST_COPY}/`);
    this.store.updateVideo({ firstCopyRetireAt: null });
  }

  /** The alarm's watchdog: the current job has been silent past the heartbeat timeout, so supersede it. */
  async supersedeSilentJob(): Promise<void> {
    const active = this.store.activeJob();
    const video = this.store.video();
    if (!active || !video) return;
    this.store.updateJob(active.jobId, { state: "superseded" });
    await this.dropOutputs(active.jobId);
    if (active.attempt < this.config.jobMaxAttempts) {
      // Queued at once: the alarm that decided on it already waited.
      await queueTranscode(this.env, video.videoId, active.attempt + 1);
    } else {
      await this.fail(`The transcoder stopped responding ${active.attempt} times.`);
    }
  }

  /** The alarm's hand-off backstop: no job runs, and the last one was deferred or refused and is due again. */
  async offerAgain(): Promise<void> {
    const video = this.store.video();
    const last = this.store.lastJob();
    if (!video || !last) return;
    if (last.state === "refused" && this.store.countInState("refused") >= MAX_REFUSALS) {
      await this.fail("No transcoder could take the job after repeated tries; processing failed. The source is kept.");
      return;
    }
    await queueTranscode(this.env, video.videoId, last.attempt);
    this.store.updateJob(last.jobId, { retryAt: Date.now() + this.stallMs });
  }

  /**
   * Ends processing as failed, unless a whole playable rendition is already
   * served (then it stays ready). One still being written when its job
   * failed would play only part of the video: then the video fails too.
   */
  async fail(reason: string): Promise<void> {
    const video = this.store.video();
    if (!video) return;
    this.store.updateVideo({ error: reason });
    this.store.clearRetries();
    // Its spans, waiting or running, give their slots back.
    await spanScheduler(this.env).forget(video.videoId);
    const active = this.store.activeJob();
    if (active) this.store.updateJob(active.jobId, { state: "failed" });
    if (video.status === "processing" || (video.status === "ready" && video.playbackGrowing)) {
      this.store.updateVideo({ status: "failed", playbackJob: null, playbackGrowing: false, updatedAt: Date.now() });
      await this.mirror({ status: "failed", playbackJob: null, error: reason, progress: null });
      await this.events.emit({ videoId: video.videoId, type: "video.failed", data: { reason }, once: "failed" });
    } else {
      await this.mirror({ error: reason });
    }
  }

  /**
   * Deletes a superseded job's outputs, unless they are what the video
   * plays: those stay served until another job's are published (its
   * `completed` sweeps every other job's), so viewers never lose a playing video to a retry.
   */
  private async dropOutputs(jobId: string): Promise<void> {
    const video = this.store.video();
    if (!video || video.playbackJob === jobId) return;
    await deletePrefix(this.env.VIDEOS, jobPrefix(video.videoId, jobId));
  }

  /** How long a refused hand-off waits for the queue's own retry before the alarm queues it again. */
  private get stallMs(): number {
    return resendAfterMs(this.config.jobHeartbeatTimeoutMs);
  }

  private isSilent(job: Job, now: number): boolean {
    return now - job.heartbeatAt > this.config.jobHeartbeatTimeoutMs;
  }

  /** An event of the video that happens once, under its key. */
  private emit(type: EventType, once: string): Promise<void> {
    const video = this.store.video();
    if (!video) return Promise.resolve();
    return this.events.emit({ videoId: video.videoId, type, once });
  }

  /** `video.rendition.ready` for each rendition that now plays, once each. */
  private async renditionsReady(metadata: Metadata): Promise<void> {
    const video = this.store.video();
    if (!video) return;
    const videoId = video.videoId;
    for (const r of metadata.renditions) {
      const rendition = { name: r.name, width: r.width, height: r.height, bandwidth: r.bandwidth };
      await this.events.emit({
        videoId,
        type: "video.rendition.ready",
        data: { rendition },
        once: `rendition:${r.name}`,
      });
    }
  }

  private async mirror(fields: VideoUpdate): Promise<void> {
    await updateVideo(this.env.DB, this.store.video()!.videoId, fields);
  }
}

function columns(m: Metadata): VideoUpdate {
  return {
    durationSec: m.durationSec,
    width: m.width,
    height: m.height,
    frameRate: m.frameRate,
    videoCodec: m.videoCodec,
    audioCodec: m.audioCodec,
    renditions: m.renditions,
    audioTracks: m.audioTracks,
    warnings: m.warnings,
    // With the playback job they belong to: a job without them (a first copy, an older transcoder) has none.
    frames: m.frames ?? null,
  };
}
