/**
 * The video player: hls.js (light build: no subtitles, alternate audio or DRM,
 * which Reelay's renditions never have) over Media Source Extensions, with a
 * Quality menu; native HLS only where MSE is missing (older iPhones).
 * hls.js is preferred even where the browser claims native HLS (Safari, and
 * Chromium, which now answers "maybe" too) so every viewer gets the menu.
 */
import Hls, { type ErrorData, type Level } from "hls.js/light";
import { h } from "../dom.ts";

export type Player = {
  readonly container: HTMLElement;
  readonly video: HTMLVideoElement;
  /** Load the master playlist again (the ladder grew), keeping position and play state. */
  reload(): void;
  destroy(): void;
};

type Exposed = { video: HTMLVideoElement; hls: Hls | null; fatalErrors: string[] };
declare global {
  interface Window {
    /** For tests and curious people: the player's moving parts. */
    __reelay?: Exposed;
  }
}

export function mountPlayer(stage: HTMLElement, src: string, poster: string | null, title: string): Player {
  const video = h("video", { id: "video", controls: true, playsinline: true, preload: "auto", "aria-label": title });
  if (poster) video.poster = poster;
  const osd = h("div", { class: "osd", role: "status", "aria-live": "polite" });
  const container = h("div", { class: "player" }, video, osd);
  const quality = h("select", { id: "quality" });
  const qualityField = h("div", { class: "quality", hidden: true }, h("label", { for: "quality" }, "Quality"), quality);
  const notice = h("p", { class: "player-notice", role: "status" });
  const errorBox = h("p", { class: "error", role: "alert", hidden: true });
  stage.replaceChildren(container, h("div", { class: "player-bar" }, qualityField, notice), errorBox);

  const exposed: Exposed = { video, hls: null, fatalErrors: [] };
  window.__reelay = exposed;
  let hls: Hls | null = null;
  let recoveries = 0;

  const fail = (message: string) => {
    errorBox.hidden = false;
    errorBox.textContent = message;
  };

  const attach = (startPosition: number) => {
    hls?.destroy();
    const instance = new Hls({ startPosition, capLevelToPlayerSize: true, abrEwmaDefaultEstimate: 1_500_000 });
    hls = instance;
    exposed.hls = instance;
    instance.on(Hls.Events.MANIFEST_PARSED, () => fillQualityMenu(quality, instance.levels));
    instance.on(Hls.Events.LEVEL_SWITCHED, () => labelAuto(quality, instance));
    instance.on(Hls.Events.ERROR, (_event, data: ErrorData) => {
      if (!data.fatal) return;
      exposed.fatalErrors.push(data.details);
      // A few recovery attempts, as hls.js recommends; then say what happened.
      const canRecover = recoveries++ < 3;
      if (canRecover && data.type === Hls.ErrorTypes.NETWORK_ERROR) instance.startLoad();
      else if (canRecover && data.type === Hls.ErrorTypes.MEDIA_ERROR) instance.recoverMediaError();
      else {
        instance.destroy();
        fail("The video could not be played. Reload the page to try again.");
      }
    });
    instance.loadSource(src);
    instance.attachMedia(video);
  };

  if (Hls.isSupported()) {
    attach(-1);
    quality.addEventListener("change", () => {
      // nextLevel switches at the next segment without stalling playback; -1 is Auto.
      if (hls) hls.nextLevel = Number(quality.value);
    });
    qualityField.hidden = false;
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = src; // The browser picks the quality itself.
  } else {
    fail("This browser cannot play HLS video. Try a current version of Firefox, Chrome, Edge or Safari.");
  }
  video.addEventListener("error", () => {
    if (!hls) fail("The video could not be played. Reload the page to try again.");
  });

  return {
    container,
    video,
    reload() {
      if (!hls) return;
      const wasPlaying = !video.paused;
      attach(video.currentTime || -1);
      if (wasPlaying) void video.play().catch(() => {});
      notice.textContent = "";
    },
    destroy() {
      hls?.destroy();
      hls = null;
    },
  };
}

const levelName = (l: Level) => `${Math.min(l.width, l.height) || l.height}p`;

function fillQualityMenu(select: HTMLSelectElement, levels: Level[]): void {
  const byHeight = levels
    .map((level, index) => ({ level, index }))
    .sort((a, b) => b.level.height - a.level.height || b.level.bitrate - a.level.bitrate);
  const selected = select.value || "-1";
  select.replaceChildren(
    h("option", { value: "-1" }, "Auto"),
    ...byHeight.map(({ level, index }) => h("option", { value: String(index) }, levelName(level))),
  );
  select.value = [...select.options].some((o) => o.value === selected) ? selected : "-1";
  select.disabled = levels.length < 2;
}

/** "Auto (720p)": what Auto chose right now. */
function labelAuto(select: HTMLSelectElement, hls: Hls): void {
  const auto = select.options[0];
  const level = hls.levels[hls.currentLevel];
  if (auto) auto.textContent = hls.autoLevelEnabled && level ? `Auto (${levelName(level)})` : "Auto";
}

/** Tells the viewer that more qualities became available while they watch. */
export function offerReload(stage: HTMLElement, player: Player): void {
  const notice = stage.querySelector(".player-notice");
  if (!notice || notice.querySelector("button")) return;
  const button = h("button", { type: "button" }, "Load them");
  button.addEventListener("click", () => player.reload());
  notice.replaceChildren("More qualities are ready. ", button);
}
