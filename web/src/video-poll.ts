/**
 * Follows a video while the transcoder works on it: polls
 * `GET /api/videos/:id` until it is settled (fully ready, failed, or gone),
 * reporting each state. Used by the upload cards and the watch page.
 */
import type { Video } from "../../worker/contracts/video.ts";
import { getVideo, type Viewer } from "./api.ts";
import { ApiError, isAbort } from "./http.ts";

export type PollHandlers = {
  onUpdate: (video: Video) => void;
  /** A lookup failed; polling goes on (transient) unless the video is gone (`not_found`). */
  onError?: (err: unknown) => void;
  /** Who asks: a private video answers only its owner or a playback token's holder. */
  viewer?: Viewer;
};

/** Settled: nothing more will change without someone acting. */
export function isSettled(v: Video): boolean {
  if (v.status === "ready") return v.progress === undefined;
  return v.status === "failed" || v.status === "aborted" || v.status === "expired";
}

export function pollVideo(videoId: string, handlers: PollHandlers, intervalMs = 1500): () => void {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      const video = await getVideo(videoId, controller.signal, handlers.viewer);
      if (controller.signal.aborted) return;
      handlers.onUpdate(video);
      if (isSettled(video)) return;
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) return;
      handlers.onError?.(err);
      if (err instanceof ApiError && err.code === "not_found") return;
    }
    // Hidden tabs poll slowly; nobody is watching the bar move.
    timer = setTimeout(tick, document.hidden ? intervalMs * 4 : intervalMs);
  };
  void tick();
  return () => {
    controller.abort();
    clearTimeout(timer);
  };
}
