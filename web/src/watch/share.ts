/**
 * The watch page's Share control: copy the link, the link at the current
 * time (`?t=`), or the embed code (an iframe of `/embed/:id`, the same one
 * oEmbed hands out). Each text is also shown in a read-only field, selected
 * on focus, for browsers that refuse the clipboard.
 *
 * A private video plays only with a playback token: a viewer who came with
 * one shares links that carry it; the owner can mint a week-long one here.
 */
import type { PlaybackToken } from "../../../worker/contracts/playback-token.ts";
import { embedIframe, embedSize } from "../../../worker/contracts/embed.ts";
import { MAX_PLAYBACK_TOKEN_SECONDS } from "../../../worker/contracts/vocabulary.ts";
import type { Video } from "../../../worker/contracts/video.ts";
import { errorMessage } from "../api.ts";
import { h } from "../dom.ts";
import { formatDuration } from "../format.ts";
import { request } from "../http.ts";

/** What the Share control needs to know of the page. */
export type ShareContext = {
  video: Video;
  /** Where the viewer is in the video, in seconds. */
  currentTime: () => number;
  /** The playback token the page was opened with (`?token=`). */
  token: string | null;
  /** The owner's upload token, when this browser holds it: it may mint playback tokens. */
  ownerToken: string | null;
};

/** How long the owner's shared links of a private video play: the longest a token may last. */
const SHARED_TOKEN_SECONDS = MAX_PLAYBACK_TOKEN_SECONDS;

/** The embed code, as oEmbed answers it: the embed page (with the token, for a private video) at 640 wide. */
export function embedCode(
  origin: string,
  video: Pick<Video, "id" | "title" | "width" | "height">,
  token: string | null,
): string {
  const src = new URL(`/embed/${video.id}`, origin);
  if (token) src.searchParams.set("token", token);
  return embedIframe(src.href, embedSize(video), video.title);
}

/** The watch link, with the token and, when given, the time in whole seconds. */
export function watchLink(origin: string, videoId: string, token: string | null, atSec?: number): string {
  const url = new URL(`/watch/${videoId}`, origin);
  if (token) url.searchParams.set("token", token);
  if (atSec !== undefined) url.searchParams.set("t", String(Math.floor(atSec)));
  return url.href;
}

export function mountShare(anchor: HTMLElement, context: ShareContext): HTMLElement {
  const { video } = context;
  let token = context.token;
  const toggle = h("button", { type: "button", "aria-expanded": "false", "aria-controls": "share-panel" }, "Share");
  const panel = h("div", {
    id: "share-panel",
    class: "share-panel",
    hidden: true,
    role: "group",
    "aria-label": "Share",
  });
  const status = h("p", { class: "share-status muted", role: "status" });
  const root = h("div", { class: "share" }, toggle, panel);
  anchor.append(root);

  const row = (label: string, id: string, value: () => string) => {
    const field = h("input", { id, type: "text", readonly: true, "aria-label": label });
    const copy = h("button", { type: "button" }, label);
    field.addEventListener("focus", () => field.select());
    copy.addEventListener("click", async () => {
      field.value = value();
      try {
        await navigator.clipboard.writeText(field.value);
        status.textContent = "Copied.";
      } catch {
        field.focus();
        status.textContent = "Press Ctrl+C (⌘C) to copy.";
      }
    });
    return { element: h("div", { class: "share-row" }, copy, field), refresh: () => (field.value = value()) };
  };

  const render = () => {
    const rows = [
      row("Copy link", "share-link", () => watchLink(location.origin, video.id, token)),
      row(`Copy link at ${formatDuration(context.currentTime())}`, "share-link-time", () =>
        watchLink(location.origin, video.id, token, context.currentTime()),
      ),
      row("Copy embed code", "share-embed", () => embedCode(location.origin, video, token)),
    ];
    for (const r of rows) r.refresh();
    const privateNote =
      video.visibility === "private"
        ? h(
            "p",
            { class: "share-note" },
            token
              ? "This video is private: these links play it only until their token expires."
              : "This video is private: links play it only with a playback token.",
          )
        : null;
    const mint = video.visibility === "private" && context.ownerToken ? mintButton() : null;
    panel.replaceChildren(...[privateNote, mint, ...rows.map((r) => r.element), status].filter((n) => n !== null));
  };

  /** For the owner of a private video: a week-long token for the links above. */
  const mintButton = () => {
    const button = h("button", { type: "button" }, "Make links that play for 7 days");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const minted = await request<PlaybackToken>(`/api/videos/${encodeURIComponent(video.id)}/playback-tokens`, {
          method: "POST",
          token: context.ownerToken ?? undefined,
          json: { expiresInSeconds: SHARED_TOKEN_SECONDS },
        });
        token = minted.token;
        render();
        status.textContent = `Links made; they play until ${new Date(minted.expiresAt).toLocaleString()}.`;
      } catch (err) {
        button.disabled = false;
        status.textContent = errorMessage(err);
      }
    });
    return button;
  };

  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    if (open) render();
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
  });
  return root;
}
