/**
 * The embed page (/embed/:id): the player alone, for other sites to frame
 * (oEmbed's iframe, worker/oembed/). `?t=<seconds>` starts there,
 * `?autoplay=1&muted=1` starts playing muted (browsers refuse autoplay with
 * sound), and `?token=` plays a private video: its playback token is added
 * to the API call and the master playlist's URL, and the server carries it
 * into every URL below the master.
 */
import "../styles/embed.css";
import type { Video } from "../../../worker/contracts/video.ts";
import { byId, h } from "../dom.ts";
import { ApiError, request } from "../http.ts";

const stage = byId("stage");
const params = new URLSearchParams(location.search);
const token = params.get("token") ?? undefined;

function message(text: string, error = false): void {
  stage.replaceChildren(
    h("div", { class: "stage-message" }, h("p", { class: error ? "error" : undefined, role: "alert" }, text)),
  );
}

/** `path` with the playback token added, when the page has one. */
function withToken(path: string): string {
  if (!token) return path;
  const url = new URL(path, location.origin);
  url.searchParams.set("token", token);
  return url.pathname + url.search;
}

/** Why the video cannot be played here, in words for a viewer of someone else's site. */
function refusal(err: unknown): string {
  if (!(err instanceof ApiError)) return "The video could not be loaded. Reload the page to try again.";
  switch (err.code) {
    case "not_found":
      return "This video does not exist, or it was deleted.";
    case "playback_token_required":
      return "This video is private. It plays only from a link that includes a playback token.";
    case "playback_token_invalid":
      return `This video's link no longer plays it: ${err.message}`;
    default:
      return err.message;
  }
}

async function start(): Promise<void> {
  const id = location.pathname.match(/^\/embed\/([^/]+)\/?$/)?.[1];
  if (!id) return message("This video does not exist, or it was deleted.");
  const playerModule = import("../watch/player.ts");
  let video: Video;
  try {
    video = await request<Video>(withToken(`/api/videos/${encodeURIComponent(id)}`));
  } catch (err) {
    return message(refusal(err), true);
  }
  document.title = `${video.title} – Reelay`;
  if (video.status !== "ready" || !video.playback.hls) {
    return message(
      video.status === "failed" ? "This video could not be processed." : "This video is not ready to play yet.",
    );
  }
  const { mountPlayer } = await playerModule;
  const startAt = Number(params.get("t"));
  const player = mountPlayer(stage, {
    src: video.playback.hls,
    poster: video.playback.poster,
    title: video.title,
    audioTracks: video.audioTracks,
    storyboard: video.playback.storyboard,
    startAt: Number.isFinite(startAt) && startAt > 0 ? startAt : undefined,
  });
  // The title links to the watch page, in a new tab: the framing site stays open.
  const watch = h(
    "a",
    { class: "embed-title", href: withToken(`/watch/${id}`), target: "_blank", rel: "noopener" },
    video.title,
  );
  stage.querySelector(".player-bar")?.prepend(watch);
  if (params.get("muted") === "1") player.video.muted = true;
  if (params.get("autoplay") === "1") {
    // Without sound a browser lets the page start playing; with sound it may refuse, and the poster stays.
    player.video.autoplay = true;
    void player.video.play().catch(() => {});
  }
}

void start();
