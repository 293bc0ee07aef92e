/**
 * The watch page (/watch/:id): the player once the video is playable; until
 * then a processing bar that follows the transcoder and turns into the player
 * by itself; the error when processing failed. The owner gets Edit and Delete.
 */
import "../styles/watch.css";
import type { Video } from "../../../worker/contracts/video.ts";
import { getVideo, showError, type Viewer } from "../api.ts";
import { byId, h } from "../dom.ts";
import { formatPercent } from "../format.ts";
import { ApiError } from "../http.ts";
import { ownerToken } from "../owner-tokens.ts";
import { isSettled, pollVideo } from "../video-poll.ts";
import { renderDetails } from "./details.ts";
import { mountOwnerTools } from "./owner-tools.ts";
import type { Player } from "./player.ts";
import { mountShare } from "./share.ts";
import { installShortcuts } from "./shortcuts.ts";

// The player (with hls.js, most of this page's weight) downloads while the
// video's details are fetched, not after; pages that never play skip running it.
const playerModule = import("./player.ts");
const stage = byId("stage");
let player: Player | null = null;
let mounting = false;
/** While ready but the ladder is still encoding, the master playlist will grow. */
let ladderPending = false;

function videoIdFromPath(): string {
  const match = location.pathname.match(/^\/watch\/([^/]+)\/?$/);
  return match ? decodeURIComponent(match[1]) : "";
}

function message(text: string, opts: { error?: boolean; link?: boolean } = {}): void {
  player?.destroy();
  player = null;
  stage.replaceChildren(
    h(
      "div",
      { class: "stage-message" },
      h("p", { class: opts.error ? "error" : undefined, role: opts.error ? "alert" : "status" }, text),
      opts.link ? h("p", {}, h("a", { href: "/" }, "Find other videos")) : null,
    ),
  );
}

function showProcessing(v: Video): void {
  let box = stage.querySelector<HTMLElement>(".processing");
  if (!box) {
    box = h(
      "div",
      { class: "stage-message processing" },
      h(
        "p",
        { class: "processing-title" },
        h("strong", {}, "Processing…"),
        " The video starts here by itself once it is ready.",
      ),
      h("progress", { max: 1, value: 0, "aria-label": "Processing progress" }),
      h("p", { class: "processing-status", role: "status" }),
    );
    stage.replaceChildren(box);
  }
  const progress = v.progress ?? 0;
  const bar = box.querySelector("progress")!;
  // Nothing measured yet (waiting for a transcoder): an indeterminate bar says so honestly.
  if (progress > 0) bar.value = progress;
  else bar.removeAttribute("value");
  const status = box.querySelector<HTMLElement>(".processing-status")!;
  // Announce in 10 % steps, not on every poll.
  const text = progress > 0 ? `${formatPercent(Math.floor(progress * 10) / 10)} done` : "Starting…";
  if (status.textContent !== text) status.textContent = text;
}

/**
 * Tells viewers, under the player, what processing noticed about a video that
 * still plays: each warning's message ("The file looks truncated: …").
 */
function showWarnings(v: Video): void {
  let box = stage.querySelector<HTMLElement>(".source-warnings");
  if (v.warnings.length === 0) {
    box?.remove();
    return;
  }
  if (!box) {
    box = h("div", { class: "source-warnings", role: "note", "aria-label": "About this video's file" });
    stage.querySelector(".player-bar")?.after(box);
  }
  box.replaceChildren(...v.warnings.map((w) => h("p", {}, w.message)));
}

function show(v: Video): void {
  switch (v.status) {
    case "ready":
      if (player) showWarnings(v);
      if (!player && !mounting && v.playback.hls) void mount(v.playback.hls, v);
      else if (player && ladderPending && v.progress === undefined) {
        // The rest of the ladder is out: pick it up now if nobody is watching yet.
        const current = player;
        if (current.video.paused && current.video.played.length === 0) current.reload();
        else void playerModule.then(({ offerReload }) => offerReload(stage, current));
      }
      ladderPending = v.progress !== undefined;
      break;
    case "processing":
      showProcessing(v);
      break;
    case "uploading":
      message("This video is still being uploaded. It can be watched here once it has been processed.");
      break;
    case "importing":
      message(
        `This video is being imported from its URL (${Math.round((v.progress ?? 0) * 100)}%). It can be watched here once it has been processed.`,
      );
      break;
    case "failed":
      message(`This video could not be processed: ${v.error ?? "unknown error."}`, { error: true, link: true });
      break;
    case "aborted":
      message("This upload was cancelled, so there is nothing to watch.", { link: true });
      break;
    case "expired":
      message("This upload was never finished, so there is nothing to watch.", { link: true });
      break;
  }
}

async function mount(src: string, v: Video): Promise<void> {
  mounting = true;
  try {
    const { mountPlayer } = await playerModule;
    player = mountPlayer(stage, {
      src,
      poster: v.playback.poster,
      title: v.title,
      audioTracks: v.audioTracks,
      storyboard: v.playback.storyboard,
      startAt: startTimeFromUrl(),
    });
    showWarnings(v);
    byId("shortcuts").hidden = false;
  } catch {
    message("The player could not be loaded. Check your connection and reload the page.", { error: true });
  } finally {
    mounting = false;
  }
}

/** `?t=<seconds>` (a search result's moment, a shared link): where playback starts; 0 without one. */
function startTimeFromUrl(): number {
  const t = Number(new URLSearchParams(location.search).get("t") ?? "");
  return Number.isFinite(t) && t > 0 ? t : 0;
}

function gone(): void {
  byId("details").hidden = true;
  document.title = "Video not found – Reelay";
  message("This video does not exist, or it was deleted.", { link: true });
}

async function start(): Promise<void> {
  const id = videoIdFromPath();
  if (!id) return gone();
  const token = ownerToken(id);
  // A private video answers its owner, or a link that carries a playback token (`?token=`).
  const viewer: Viewer = { token: new URLSearchParams(location.search).get("token"), ownerToken: token };
  let video: Video;
  try {
    video = await getVideo(id, undefined, viewer);
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") return gone();
    if (err instanceof ApiError && (err.code === "playback_token_required" || err.code === "playback_token_invalid")) {
      byId("details").hidden = true;
      document.title = "Private video – Reelay";
      return message(
        err.code === "playback_token_required"
          ? "This video is private. It plays only from a link that includes a playback token."
          : `This link no longer plays the video: ${err.message}`,
        { error: true, link: true },
      );
    }
    const retry = h("button", { type: "button" }, "Try again");
    retry.addEventListener("click", () => void start());
    showError(stage, err, "Could not load the video.").after(retry);
    return;
  }
  renderDetails(video);
  show(video);
  if (token) mountOwnerTools(video, token, renderDetails, () => player?.video.currentTime ?? 0);
  mountShare(byId("share-slot"), {
    video,
    currentTime: () => player?.video.currentTime ?? 0,
    token: viewer.token ?? null,
    ownerToken: token,
  });
  if (!isSettled(video)) {
    pollVideo(id, {
      viewer,
      onUpdate: show,
      onError: (err) => {
        if (err instanceof ApiError && err.code === "not_found") gone();
      },
    });
  }
}

installShortcuts(() => player);
void start();
