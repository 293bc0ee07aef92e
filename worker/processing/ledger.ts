/**
 * Processing, as the per-video Durable Object sees it: which transcode job is
 * current, what its last heartbeat was, which job's outputs are served.
 *
 * Delivery is at least once and transcoders die, so: every hand-off gets a
 * fresh job id and its own output prefix; only the current job's callbacks
 * count (a late, repeated or superseded callback gets 409 `job_superseded`
 * and cannot move a `ready` video back); a job silent past the heartbeat
 * timeout is superseded and started again by the alarm; losers' outputs are
 * deleted.
 *
 * The alarm is also the durable backstop of the hand-off: a job refused
 * because every transcoder is busy is offered again a few seconds later, and
 * if a queue retry never arrives (the local queue simulator keeps delayed
 * messages in memory only) the job is queued again, up to a bound.
 */
import { readConfig, type Config } from "../config.ts";
import { updateVideo, type VideoUpdate } from "../db/videos.ts";
import { refuse, type Outcome } from "../http/errors.ts";
import { jobPrefix, jobsPrefix, newJobId } from "../storage/keys.ts";
import { deletePrefix } from "../storage/prefix.ts";
import type { CoordinatorStore } from "../uploads/coordinator-store.ts";
import type { TranscodeJob } from "./queue.ts";
import { JobStore, type Job } from "./job-store.ts";
import type { JobEvent, Metadata } from "../contracts/job.ts";

export type JobStart = { start: true; jobId: string; attempt: number } | { start: false; reason: string };
export type HandOffResult = "accepted" | "refused" | "busy";

/** A busy transcoder is asked again after this long. */
const BUSY_RETRY_MS = 3000;
/** Hand-offs that may fail (not busy: failed) before the video is marked failed, as the dead-letter queue would. */
const MAX_REFUSALS = 6;

export class ProcessingLedger {
  private readonly jobs: JobStore;
  private readonly uploads: CoordinatorStore;
  private readonly env: Env;
  private readonly storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage, env: Env, uploads: CoordinatorStore) {
    this.jobs = new JobStore(storage.sql);
    this.uploads = uploads;
    this.env = env;
    this.storage = storage;
  }

  private get config(): Config {
    return readConfig(this.env);
  }

  /** Called by the queue consumer for `{ videoId, attempt }`: start a job, or say why not. */
  async startJob(attempt: number): Promise<JobStart> {
    const meta = this.uploads.meta();
    if (!meta) return { start: false, reason: "unknown video" };
    if (meta.status !== "processing" && meta.status !== "ready")
      return { start: false, reason: `video is ${meta.status}` };
    const processing = this.jobs.processing();
    if (processing.ladderComplete) return { start: false, reason: "already processed" };
    const now = Date.now();
    const active = this.jobs.activeJob();
    if (active && attempt <= active.attempt && !this.isSilent(active, now)) {
      return { start: false, reason: "a job for this attempt is already running" };
    }
    if (attempt > this.config.jobMaxAttempts) {
      await this.fail(`Processing did not finish after ${this.config.jobMaxAttempts} attempts.`);
      return { start: false, reason: "out of attempts" };
    }
    const jobId = newJobId(attempt);
    if (active) this.jobs.setJobState(active.jobId, "superseded");
    this.jobs.addJob(jobId, attempt, now);
    await this.armWatchdog(now);
    if (active) await deletePrefix(this.env.VIDEOS, jobPrefix(meta.videoId, active.jobId));
    return { start: true, jobId, attempt };
  }

  /**
   * The consumer's hand-off result. A refused job is dropped (the queue
   * retries it as a new job, and the alarm stands behind that retry); a job
   * refused for lack of a free transcoder is offered again by the alarm.
   */
  async handedOff(jobId: string, result: HandOffResult): Promise<void> {
    const job = this.jobs.job(jobId);
    if (job?.state !== "submitted") return;
    const now = Date.now();
    if (result === "accepted") {
      this.jobs.setJobState(jobId, "running");
      this.jobs.heartbeat(jobId, now);
      return;
    }
    this.jobs.setJobState(jobId, result === "busy" ? "deferred" : "refused");
    await this.storage.setAlarm(now + (result === "busy" ? BUSY_RETRY_MS : this.stallMs));
  }

  /** Whether `jobId` may still read the source and write outputs. */
  jobIsCurrent(jobId: string): boolean {
    const meta = this.uploads.meta();
    const active = this.jobs.activeJob();
    return !!meta && (meta.status === "processing" || meta.status === "ready") && active?.jobId === jobId;
  }

  /** A signed callback from the transcoder. Only the current job's events count. */
  async event(event: JobEvent): Promise<Outcome<{ status: string }>> {
    if (!this.jobIsCurrent(event.jobId)) {
      return refuse("job_superseded", "This job is no longer the video's current job; stop it.");
    }
    const meta = this.uploads.meta()!;
    const job = this.jobs.job(event.jobId)!;
    const now = Date.now();
    switch (event.type) {
      case "progress":
        this.jobs.heartbeat(job.jobId, now, event.progress);
        await this.mirror({ progress: this.jobs.job(job.jobId)!.progress });
        break;
      case "playable":
        this.jobs.heartbeat(job.jobId, now);
        this.jobs.setPlayback(job.jobId, false);
        this.uploads.setStatus("ready", now);
        await this.mirror({
          status: "ready",
          playbackJob: job.jobId,
          ladderComplete: false,
          error: null,
          ...columns(event.metadata),
        });
        break;
      case "completed":
        this.jobs.setJobState(job.jobId, "completed");
        this.jobs.setPlayback(job.jobId, true);
        this.jobs.setError(null);
        this.uploads.setStatus("ready", now);
        await this.mirror({
          status: "ready",
          playbackJob: job.jobId,
          ladderComplete: true,
          progress: 1,
          error: null,
          ...columns(event.metadata),
        });
        await this.storage.deleteAlarm();
        // The winner is published: sweep every other job's outputs.
        await deletePrefix(this.env.VIDEOS, jobsPrefix(meta.videoId), (key) =>
          key.startsWith(jobPrefix(meta.videoId, job.jobId)),
        );
        break;
      case "failed":
        this.jobs.setJobState(job.jobId, "failed");
        if (event.retryable && job.attempt < this.config.jobMaxAttempts) {
          await this.requeue(job.attempt + 1);
        } else {
          await this.fail(event.reason);
        }
        break;
    }
    return { ok: true, status: this.uploads.meta()!.status };
  }

  /** The alarm while processing: supersede a silent job, or offer a job nobody took again. */
  async watchdog(): Promise<void> {
    const active = this.jobs.activeJob();
    const now = Date.now();
    if (!active) return this.handOffAgain(now);
    if (!this.isSilent(active, now)) {
      await this.armWatchdog(active.heartbeatAt);
      return;
    }
    this.jobs.setJobState(active.jobId, "superseded");
    const meta = this.uploads.meta()!;
    await deletePrefix(this.env.VIDEOS, jobPrefix(meta.videoId, active.jobId));
    if (active.attempt < this.config.jobMaxAttempts) {
      await this.requeue(active.attempt + 1);
    } else {
      await this.fail(`The transcoder stopped responding ${active.attempt} times.`);
    }
  }

  /** Ends processing as failed, unless a playable rendition is already served (then it stays ready). */
  async fail(reason: string): Promise<void> {
    const meta = this.uploads.meta();
    if (!meta) return;
    this.jobs.setError(reason);
    const active = this.jobs.activeJob();
    if (active) this.jobs.setJobState(active.jobId, "failed");
    if (meta.status === "processing") {
      this.uploads.setStatus("failed", Date.now());
      await this.mirror({ status: "failed", error: reason, progress: null });
    } else {
      await this.mirror({ error: reason });
    }
  }

  /** Forgets every job: their callbacks, reads and writes are refused from now on. */
  forget(): void {
    this.jobs.clear();
  }

  processing() {
    const p = this.jobs.processing();
    const active = this.jobs.activeJob();
    return { ...p, progress: active?.progress ?? (p.ladderComplete ? 1 : 0), jobs: this.jobs.jobIds() };
  }

  /** No job is running: offer the last one again if it was deferred, or if its queue retry is overdue. */
  private async handOffAgain(now: number): Promise<void> {
    const meta = this.uploads.meta();
    const last = this.jobs.lastJob();
    if (
      !meta ||
      (meta.status !== "processing" && meta.status !== "ready") ||
      this.jobs.processing().ladderComplete ||
      !last
    )
      return;
    if (last.state !== "deferred" && last.state !== "refused") return;
    if (last.state === "refused" && this.jobs.countInState("refused") >= MAX_REFUSALS) {
      await this.fail("No transcoder could take the job after repeated tries; processing failed. The source is kept.");
      return;
    }
    const due = last.createdAt + (last.state === "deferred" ? BUSY_RETRY_MS : this.stallMs);
    if (now < due) {
      await this.storage.setAlarm(due);
      return;
    }
    await this.env.TRANSCODE_QUEUE.send({ videoId: meta.videoId, attempt: last.attempt } satisfies TranscodeJob);
    await this.storage.setAlarm(now + this.stallMs);
  }

  /** How long a refused hand-off waits for the queue's own retry before the alarm queues it again. */
  private get stallMs(): number {
    return 2 * this.config.jobHeartbeatTimeoutMs + 5000;
  }

  private isSilent(job: Job, now: number): boolean {
    return now - job.heartbeatAt > this.config.jobHeartbeatTimeoutMs;
  }

  private async armWatchdog(from: number): Promise<void> {
    await this.storage.setAlarm(from + this.config.jobHeartbeatTimeoutMs + 1000);
  }

  /** Queues the next attempt at once: the alarm that decided on it already waited. */
  private async requeue(attempt: number): Promise<void> {
    const videoId = this.uploads.meta()!.videoId;
    await this.env.TRANSCODE_QUEUE.send({ videoId, attempt } satisfies TranscodeJob);
  }

  private async mirror(fields: VideoUpdate): Promise<void> {
    await updateVideo(this.env.DB, this.uploads.meta()!.videoId, fields);
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
  };
}
