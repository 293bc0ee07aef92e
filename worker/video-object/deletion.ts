/**
 * Deletion, the part of the video's Durable Object that removes the video
 * everywhere: R2 objects (source, every job's outputs), the D1 row (and with
 * it the search entry) and the object's own state.
 */
import { spanScheduler } from "../scheduler/span-scheduler.ts";
import { deleteVideoRow } from "../db/videos.ts";
import { videoPrefix } from "../storage/keys.ts";
import { deletePrefix } from "../storage/prefix.ts";
import { type Outcome, refuse } from "./outcome.ts";
import type { Events } from "./events.ts";
import type { VideoStore } from "./store.ts";

export class Deletion {
  private readonly store: VideoStore;
  private readonly env: Env;
  private readonly events: Events;

  constructor(store: VideoStore, env: Env, events: Events) {
    this.store = store;
    this.env = env;
    this.events = events;
  }

  /**
   * The state goes first, so a late chunk, completion or transcoder callback
   * finds nothing to resurrect; the tombstone left behind has the alarm
   * sweep R2 once more for any write that was already past its check.
   */
  async purge(): Promise<Outcome<{ videoId: string }>> {
    const video = this.store.video();
    if (!video) return refuse("not_found", "No such video.");
    this.store.bury(video.videoId, Date.now());
    if (video.status === "uploading" || video.status === "importing") {
      await this.env.VIDEOS.resumeMultipartUpload(video.r2Key, video.r2UploadId)
        .abort()
        .catch(() => {});
    }
    await deletePrefix(this.env.VIDEOS, videoPrefix(video.videoId));
    await deleteVideoRow(this.env.DB, video.videoId);
    // Spans still waiting or running give their slots back.
    await spanScheduler(this.env).forget(video.videoId);
    await this.events.emit({ videoId: video.videoId, type: "video.deleted", once: "deleted", gone: true });
    return { ok: true, videoId: video.videoId };
  }

  /**
   * The alarm's end of an aborted or expired upload, or of a video whose
   * processing failed, once its wait has passed: its D1 row and everything
   * under its prefix go (the failed video's source and any outputs; R2
   * dropped an aborted upload's parts already); the object then wipes its storage.
   */
  async forget(): Promise<void> {
    const video = this.store.video();
    if (!video || (video.status !== "aborted" && video.status !== "expired" && video.status !== "failed")) return;
    await deletePrefix(this.env.VIDEOS, videoPrefix(video.videoId));
    await deleteVideoRow(this.env.DB, video.videoId);
    await this.events.emit({
      videoId: video.videoId,
      type: "video.deleted",
      data: { reason: `forgotten after it was ${video.status}` },
      once: "deleted",
      gone: true,
    });
  }

  /** The alarm's final sweep of a deleted video's prefix; the object then wipes its storage, tombstone and all. */
  async sweep(): Promise<void> {
    const buried = this.store.tombstone();
    if (buried) await deletePrefix(this.env.VIDEOS, videoPrefix(buried.videoId));
  }
}
