/**
 * Downloads, the part of the video's Durable Object that has `download.mp4`
 * and `audio.m4a` made, as Mux makes static renditions: once the owner
 * allows downloads and the playback job's ladder is complete, a package task
 * copies the top rung up to 1080p and the default audio track from the
 * ladder's segments, without re-encoding, and the object follows it like a
 * span: its own heartbeat, retried with backoff when it fails or falls
 * silent, its queue message sent again should it be lost.
 *
 * D1's `downloads` says where it stands (`preparing`, `ready`, `failed`, and
 * for which job): the download routes and `playback.download` read it. A
 * failed package never fails the video, which plays on. The files lie under
 * the job's prefix, so they go with the job (swept when another job's ladder
 * is published, or with the video); turning downloads off only stops serving
 * them, and turning them on again serves them at once.
 */
import { readConfig } from "../config.ts";
import type { AudioTrack, JobEvent, PackageTask, Rendition } from "../contracts/job.ts";
import type { Downloads } from "../contracts/video.ts";
import { getVideo, updateVideo } from "../db/videos.ts";
import type { Events } from "./events.ts";
import { type Outcome, refuse } from "./outcome.ts";
import type { PackageTaskRow, VideoStore } from "./store.ts";
import { BUSY_RETRY_MS, backoffSeconds, type PackageRef, queuePackage, resendAfterMs } from "./transcode-queue.ts";

/** A package try to hand off, and the attempt of the job it belongs to; or why not. */
export type PackageStart = { start: true; task: PackageTask; jobAttempt: number } | { start: false; reason: string };

/** The tallest picture a download has, by its short side: "up to 1080p", portrait videos too. */
const DOWNLOAD_MAX_SHORT_SIDE = 1080;

/**
 * What the download is made of: the largest rung whose short side is at
 * most 1080 (the smallest rung when every one is larger), and the default
 * audio track. Undefined when the ladder has no rung to copy.
 */
export function downloadChoice(
  renditions: Pick<Rendition, "name" | "width" | "height">[],
  audioTracks: Pick<AudioTrack, "name" | "default">[],
): { rung: string; audio: string | null } | undefined {
  // The first-playable copy of the source is no rung of the final ladder, and is deleted after a grace.
  const rungs = renditions.filter((r) => r.name !== "source").sort((a, b) => b.width * b.height - a.width * a.height);
  const rung = rungs.find((r) => Math.min(r.width, r.height) <= DOWNLOAD_MAX_SHORT_SIDE) ?? rungs.at(-1);
  if (!rung) return undefined;
  const audio = audioTracks.find((t) => t.default) ?? audioTracks[0];
  return { rung: rung.name, audio: audio?.name ?? null };
}

export class Packaging {
  private readonly store: VideoStore;
  private readonly env: Env;
  private readonly events: Events;

  constructor(store: VideoStore, env: Env, events: Events) {
    this.store = store;
    this.env = env;
    this.events = events;
  }

  private get config() {
    return readConfig(this.env);
  }

  /**
   * Queues the package task if the downloads should be made and are not:
   * the video is ready on a complete ladder, its owner allows downloads (D1's
   * `downloadable`, which the owner's PATCH wrote), and no task of the
   * playback job is waiting, running or done. Called when the ladder
   * completes and when the owner allows downloads, in either order; a
   * failed task is started afresh, which is how an owner tries again.
   */
  async consider(): Promise<void> {
    const playing = this.playbackJob();
    if (!playing) return;
    const row = await getVideo(this.env.DB, playing.videoId);
    if (!row?.downloadable) return;
    // Read again after the await: another call may have queued the task meanwhile.
    const now = this.playbackJob();
    if (now?.jobId !== playing.jobId) return;
    const task = this.store.packageTask();
    if (task?.jobId === playing.jobId && task.state !== "failed") return;
    const choice = downloadChoice(row.renditions ?? [], row.audioTracks ?? []);
    if (!choice) return;
    const at = Date.now();
    this.store.putPackageTask({
      jobId: playing.jobId,
      ...choice,
      // A fresh try number: a failed task's late tries must not count as the new one's.
      attempt: task?.jobId === playing.jobId ? task.attempt + 1 : 1,
      state: "queued",
      heartbeatAt: at,
      retryAt: at,
      failures: 0,
      error: null,
    });
    await this.mirror({ state: "preparing", jobId: playing.jobId });
    await this.dispatch(at);
  }

  /** Called by the queue consumer for a package try: what to hand off, or why not. */
  start(ref: PackageRef): PackageStart {
    const task = this.current(ref.jobId);
    if (!task || task.attempt !== ref.attempt || task.state !== "queued")
      return { start: false, reason: "package try not waiting" };
    this.store.updatePackageTask({ state: "submitted", heartbeatAt: Date.now(), retryAt: null });
    return {
      start: true,
      task: { attempt: task.attempt, rung: task.rung, audio: task.audio },
      jobAttempt: this.store.job(task.jobId)?.attempt ?? 1,
    };
  }

  /**
   * How the hand-off went, as for a span: a busy transcoder is asked again
   * shortly; one that could not be reached or refused after a backoff, as
   * the same try, counting against the task's tries.
   */
  async handedOff(ref: PackageRef, result: "accepted" | "refused" | "busy"): Promise<void> {
    const task = this.current(ref.jobId);
    if (!task || task.attempt !== ref.attempt || task.state !== "submitted") return;
    const now = Date.now();
    if (result === "accepted") this.store.updatePackageTask({ state: "running", heartbeatAt: now });
    else if (result === "busy") this.store.updatePackageTask({ state: "queued", retryAt: now + BUSY_RETRY_MS });
    else await this.failTry(task, "No transcoder took the package task.", now, { sameTry: true });
  }

  /** Whether this try may still read the job's files, write the downloads and report. */
  isCurrent(jobId: string, attempt: number): boolean {
    const task = this.current(jobId);
    return !!task && task.attempt === attempt && (task.state === "submitted" || task.state === "running");
  }

  /** A callback of a package try. */
  async event(event: JobEvent, attempt: number): Promise<Outcome<{ status: string }>> {
    if (!this.isCurrent(event.jobId, attempt))
      return refuse("job_superseded", "This package task is no longer current; stop it.");
    const task = this.store.packageTask()!;
    const now = Date.now();
    switch (event.type) {
      case "progress":
        this.store.updatePackageTask({ state: "running", heartbeatAt: now });
        break;
      case "package_completed": {
        if ((event.audio === null) !== (task.audio === null))
          return refuse("invalid_request", "The result does not match the task's audio track.");
        // D1 first: should its write fail, the task is still current and the transcoder's retry
        // of this callback is taken; and the event then carries the video with its download URLs.
        await this.mirror({ state: "ready", jobId: task.jobId });
        this.store.updatePackageTask({ state: "done", heartbeatAt: now, retryAt: null, error: null });
        await this.events.emit({
          videoId: this.store.video()!.videoId,
          type: "video.downloads.ready",
          data: { download: event.download, audio: event.audio },
          once: `downloads:${task.jobId}`,
        });
        break;
      }
      case "failed":
        if (event.retryable) await this.failTry(task, event.reason, now);
        else await this.giveUp(task, event.reason);
        break;
      default:
        return refuse("invalid_request", "A package task reports progress, package_completed or failed.");
    }
    return { ok: true, status: this.store.video()?.status ?? "ready" };
  }

  /** The alarm's turn: a silent try is failed, a queued task whose time came is sent. */
  async tend(): Promise<void> {
    const task = this.current();
    if (!task) return;
    const now = Date.now();
    const running = task.state === "submitted" || task.state === "running";
    if (running && now - task.heartbeatAt > this.config.jobHeartbeatTimeoutMs)
      await this.failTry(task, "The transcoder stopped responding.", now);
    await this.dispatch(now);
  }

  /** When the alarm is next needed for the package task: its try's heartbeat timeout, or its next send. */
  dueAt(): number | undefined {
    const task = this.current();
    if (task?.state === "submitted" || task?.state === "running")
      return task.heartbeatAt + this.config.jobHeartbeatTimeoutMs + 1000;
    if (task?.state === "queued" && task.retryAt !== null) return task.retryAt;
    return undefined;
  }

  /**
   * Sends the queued task's message if its time came, marked first with
   * when to send it again should the message be lost (callbacks interleave
   * across the send).
   */
  private async dispatch(now: number): Promise<void> {
    const task = this.current();
    if (task?.state !== "queued" || task.retryAt === null || task.retryAt > now) return;
    this.store.updatePackageTask({ retryAt: now + resendAfterMs(this.config.jobHeartbeatTimeoutMs) });
    await queuePackage(this.env, this.store.video()!.videoId, { jobId: task.jobId, attempt: task.attempt });
  }

  /** A try failed or fell silent: tried again after a backoff, or, out of tries, the downloads failed. */
  private async failTry(
    task: PackageTaskRow,
    reason: string,
    now: number,
    options: { sameTry?: boolean } = {},
  ): Promise<void> {
    const failures = task.failures + 1;
    if (failures >= this.config.jobMaxAttempts) return this.giveUp({ ...task, failures }, reason);
    this.store.updatePackageTask({
      failures,
      error: reason,
      attempt: options.sameTry ? task.attempt : task.attempt + 1,
      state: "queued",
      retryAt: now + backoffSeconds(failures) * 1000,
    });
  }

  /** The downloads cannot be made: said in D1 and by an event; the video itself plays on. */
  private async giveUp(task: PackageTaskRow, reason: string): Promise<void> {
    this.store.updatePackageTask({ state: "failed", failures: task.failures, error: reason, retryAt: null });
    const error = `The downloads could not be made: ${reason}`;
    await this.mirror({ state: "failed", jobId: task.jobId, error });
    await this.events.emit({
      videoId: this.store.video()!.videoId,
      type: "video.downloads.failed",
      data: { reason: error },
    });
  }

  /** The package task, if it is of the job the video plays from now (optionally: of `jobId`). */
  private current(jobId?: string): PackageTaskRow | undefined {
    const playing = this.playbackJob();
    const task = this.store.packageTask();
    if (!playing || task?.jobId !== playing.jobId || (jobId !== undefined && jobId !== task.jobId)) return undefined;
    return task;
  }

  /** The job a ready video plays from, once its ladder is complete: the one downloads are made of. */
  private playbackJob(): { videoId: string; jobId: string } | undefined {
    const video = this.store.video();
    if (video?.status !== "ready" || !video.ladderComplete || !video.playbackJob) return undefined;
    return { videoId: video.videoId, jobId: video.playbackJob };
  }

  private async mirror(downloads: Downloads): Promise<void> {
    await updateVideo(this.env.DB, this.store.video()!.videoId, { downloads });
  }
}
