/**
 * Keyboard shortcuts on the watch page: space play/pause, ←/→ seek 5 s,
 * ↑/↓ volume, f full screen, m mute. They stay out of the way while someone
 * types in a form field, and space still presses a focused button or link.
 * Each one shows (and announces) what it did, since the native controls may
 * be hidden while playing.
 */
import { isTypingTarget } from "../dom.ts";
import type { Player } from "./player.ts";

const SEEK_SECONDS = 5;
const VOLUME_STEP = 0.1;

export function installShortcuts(current: () => Player | null): void {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || isTypingTarget(e.target)) return;
    const player = current();
    if (!player) return;
    const { video } = player;
    const onControl = e.target instanceof Element && e.target.closest("button, a, summary, [role='button']") !== null;
    switch (e.key) {
      case " ":
      case "Spacebar":
        if (onControl) return;
        if (video.paused) void video.play().catch(() => {});
        else video.pause();
        show(player, video.paused ? "Paused" : "Playing");
        break;
      case "ArrowLeft":
      case "ArrowRight": {
        const delta = e.key === "ArrowLeft" ? -SEEK_SECONDS : SEEK_SECONDS;
        const end = Number.isFinite(video.duration) ? video.duration : Infinity;
        video.currentTime = Math.min(end, Math.max(0, video.currentTime + delta));
        show(player, delta < 0 ? `−${SEEK_SECONDS} s` : `+${SEEK_SECONDS} s`);
        break;
      }
      case "ArrowUp":
      case "ArrowDown": {
        const delta = e.key === "ArrowUp" ? VOLUME_STEP : -VOLUME_STEP;
        video.volume = Math.round(Math.min(1, Math.max(0, video.volume + delta)) * 10) / 10;
        if (delta > 0) video.muted = false;
        show(player, `Volume ${Math.round(video.volume * 100)}%`);
        break;
      }
      case "f":
      case "F":
        if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
        else void player.container.requestFullscreen?.().catch(() => {});
        break;
      case "m":
      case "M":
        video.muted = !video.muted;
        show(player, video.muted ? "Muted" : "Sound on");
        break;
      default:
        return;
    }
    e.preventDefault();
  });
}

const timers = new WeakMap<HTMLElement, ReturnType<typeof setTimeout>>();

function show(player: Player, text: string): void {
  const osd = player.container.querySelector<HTMLElement>(".osd");
  if (!osd) return;
  osd.textContent = text;
  osd.classList.add("visible");
  clearTimeout(timers.get(osd));
  timers.set(
    osd,
    setTimeout(() => osd.classList.remove("visible"), 900),
  );
}
