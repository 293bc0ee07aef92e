/**
 * After the last chunk, an upload card follows processing: the bar shows the
 * transcoder's progress, and a Watch link appears as soon as the video can be
 * played (even while the other qualities are still being encoded).
 */
import type { Video } from "../../../worker/contracts/video.ts";
import { errorMessage } from "../api.ts";
import { h } from "../dom.ts";
import { formatPercent } from "../format.ts";
import { watchUrl } from "../links.ts";
import { pollVideo } from "../video-poll.ts";
import type { CardView } from "./card-view.ts";

/** Polls until the video is settled; returns a function that stops. */
export function followProcessing(view: CardView, videoId: string, uploadToken: string): () => void {
  return pollVideo(videoId, {
    // The uploader owns the video: a private one answers them too.
    viewer: { ownerToken: uploadToken },
    onUpdate: (v) => show(view, v),
    onError: (err) => view.status(`Could not check processing: ${errorMessage(err)}`, true),
  });
}

function show(view: CardView, v: Video): void {
  view.setTitle(v.title);
  if (v.status === "uploading") {
    view.setFraction(null);
    view.status("Finishing the upload…");
  } else if (v.status === "processing") {
    view.setState("processing");
    view.setFraction(v.progress ?? 0);
    view.status("Processing: making it playable on every device…");
    view.announceStep("Processing", v.progress ?? 0);
  } else if (v.status === "ready") {
    view.setState("ready");
    view.setFraction(v.progress ?? 1);
    view.status(
      v.progress === undefined
        ? "Ready to watch."
        : `Ready to watch. More qualities are being prepared (${formatPercent(v.progress)}).`,
    );
    if (!view.root.querySelector(".watch-link"))
      view.extra(h("a", { class: "button primary watch-link", href: watchUrl(v.id) }, "Watch"));
  } else {
    view.setState("failed");
    view.status(
      v.status === "failed" ? `Processing failed: ${v.error ?? "unknown error"}` : `This upload was ${v.status}.`,
      true,
    );
  }
}
