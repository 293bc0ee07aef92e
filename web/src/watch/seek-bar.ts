/**
 * A slim seek bar under the player, with storyboard previews: the native
 * `<video controls>` bar cannot tell a page where the pointer is over it,
 * so this one shows the tile of the storyboard (`playback.storyboard`, a
 * WebVTT of sprite tiles, `#xywh=`) and the time under the pointer. It is a
 * slider for keyboards and screen readers too (role=slider, its value the
 * playing time); a click or a key seeks.
 */
import { h } from "../dom.ts";
import { formatDuration } from "../format.ts";
import { cueAt, parseStoryboard, type StoryboardCue } from "./storyboard-cues.ts";

const KEY_STEP_SECONDS = 5;

export type SeekBar = { readonly element: HTMLElement; destroy(): void };

export function mountSeekBar(video: HTMLVideoElement, storyboard: string | null): SeekBar {
  const played = h("div", { class: "seek-played" });
  const track = h(
    "div",
    {
      class: "seek-track",
      role: "slider",
      tabindex: 0,
      "aria-label": "Seek",
      "aria-valuemin": 0,
      "aria-valuemax": 0,
      "aria-valuenow": 0,
    },
    played,
  );
  const image = h("div", { class: "seek-preview-image", hidden: true });
  const time = h("span", { class: "seek-preview-time" });
  const preview = h("div", { class: "seek-preview", hidden: true, "aria-hidden": "true" }, image, time);
  const element = h("div", { class: "seek-bar" }, preview, track);
  let cues: StoryboardCue[] = [];

  const duration = () => (Number.isFinite(video.duration) ? video.duration : 0);
  const update = () => {
    const total = duration();
    const now = Math.min(video.currentTime, total);
    played.style.width = total > 0 ? `${(now / total) * 100}%` : "0";
    track.setAttribute("aria-valuemax", String(Math.round(total)));
    track.setAttribute("aria-valuenow", String(Math.round(now)));
    track.setAttribute("aria-valuetext", `${formatDuration(now) || "0:00"} of ${formatDuration(total) || "0:00"}`);
  };
  const seek = (seconds: number) => {
    const total = duration();
    if (total <= 0) return;
    video.currentTime = Math.min(total, Math.max(0, seconds));
    update();
  };
  /** The time under a pointer at `clientX`, and where along the bar that is (0..1). */
  const pointed = (clientX: number) => {
    const box = track.getBoundingClientRect();
    const fraction = box.width > 0 ? Math.min(1, Math.max(0, (clientX - box.left) / box.width)) : 0;
    return { fraction, seconds: fraction * duration() };
  };

  const showPreview = (clientX: number) => {
    if (duration() <= 0) return;
    const { fraction, seconds } = pointed(clientX);
    time.textContent = formatDuration(seconds) || "0:00";
    const cue = cueAt(cues, seconds);
    image.hidden = !cue;
    if (cue) {
      Object.assign(image.style, {
        width: `${cue.w}px`,
        height: `${cue.h}px`,
        backgroundImage: `url("${cue.sprite}")`,
        backgroundPosition: `-${cue.x}px -${cue.y}px`,
      });
    }
    preview.hidden = false;
    // Centred over the pointer, kept inside the bar.
    const barWidth = element.clientWidth;
    const half = preview.offsetWidth / 2;
    const left = Math.min(Math.max(fraction * barWidth, half), Math.max(half, barWidth - half));
    preview.style.left = `${left}px`;
  };

  track.addEventListener("pointermove", (e) => showPreview(e.clientX));
  track.addEventListener("pointerenter", (e) => showPreview(e.clientX));
  track.addEventListener("pointerleave", () => {
    preview.hidden = true;
  });
  track.addEventListener("click", (e) => seek(pointed(e.clientX).seconds));
  track.addEventListener("keydown", (e) => {
    const now = video.currentTime;
    const total = duration();
    const moves: Record<string, number> = {
      ArrowLeft: now - KEY_STEP_SECONDS,
      ArrowDown: now - KEY_STEP_SECONDS,
      ArrowRight: now + KEY_STEP_SECONDS,
      ArrowUp: now + KEY_STEP_SECONDS,
      PageDown: now - total / 10,
      PageUp: now + total / 10,
      Home: 0,
      End: total,
    };
    if (!(e.key in moves)) return;
    // Handled here: the page's own ←/→ shortcuts (shortcuts.ts) see it prevented and leave it.
    e.preventDefault();
    seek(moves[e.key]!);
  });
  const events = ["timeupdate", "durationchange", "loadedmetadata", "seeked"] as const;
  for (const name of events) video.addEventListener(name, update);
  update();

  const controller = new AbortController();
  if (storyboard) {
    const url = new URL(storyboard, location.href).href;
    // Without it the bar still seeks and shows the time: previews are a nicety, never a failure.
    fetch(url, { signal: controller.signal })
      .then((res) => (res.ok ? res.text() : ""))
      .then((text) => {
        cues = parseStoryboard(text, url);
      })
      .catch(() => {});
  }

  return {
    element,
    destroy() {
      controller.abort();
      for (const name of events) video.removeEventListener(name, update);
      element.remove();
    },
  };
}
