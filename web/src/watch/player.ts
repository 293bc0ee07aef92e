/**
 * The video player: hls.js over Media Source Extensions, with a Quality menu
 * and, when the video has more than one audio track, an Audio menu; native
 * HLS only where MSE is missing (older iPhones). hls.js is preferred even
 * where the browser claims native HLS (Safari, and Chromium, which now
 * answers "maybe" too) so every viewer gets the menus. The full build, not
 * the light one: the transcoder publishes audio as alternate renditions
 * (`EXT-X-MEDIA TYPE=AUDIO`), which the light build cannot play at all.
 */
import Hls, { type ErrorData, type Level } from "hls.js";
import type { PublicAudioTrack } from "../../../worker/contracts/video.ts";
import { h } from "../dom.ts";
import { hasAudioChoice, initialTrack, ourTrackFor, type PlayerTrack, playerTrackFor } from "./audio-menu.ts";
import { mountSeekBar } from "./seek-bar.ts";
import { captionsMenu, nativeCaptions } from "./captions-menu.ts";

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

export type PlayerOptions = {
  src: string;
  poster: string | null;
  title: string;
  /** The video's audio tracks (`GET /api/videos/:id`): a menu when there are two or more. */
  audioTracks: readonly PublicAudioTrack[];
  /** The storyboard (`playback.storyboard`): the seek bar's previews; none while null. */
  storyboard?: string | null;
  /** Seconds into the video to start at (the watch page's `?t=`). */
  startAt?: number;
};

export function mountPlayer(
  stage: HTMLElement,
  { src, poster, title, audioTracks, storyboard, startAt = 0 }: PlayerOptions,
): Player {
  const video = h("video", { id: "video", controls: true, playsinline: true, preload: "auto", "aria-label": title });
  if (poster) video.poster = poster;
  const osd = h("div", { class: "osd", role: "status", "aria-live": "polite" });
  const container = h("div", { class: "player" }, video, osd);
  const quality = h("select", { id: "quality" });
  const qualityField = h("div", { class: "quality", hidden: true }, h("label", { for: "quality" }, "Quality"), quality);
  const audio = audioMenu(audioTracks);
  const captions = captionsMenu();
  const notice = h("p", { class: "player-notice", role: "status" });
  const errorBox = h("p", { class: "error", role: "alert", hidden: true });
  stage.replaceChildren(
    container,
    h("div", { class: "player-bar" }, qualityField, audio.field, captions.field, notice),
    errorBox,
  );
  const seekBar = mountSeekBar(video, storyboard ?? null);
  container.after(seekBar.element);

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
    // hls.js starts on the master's DEFAULT track; after a reload, the one chosen stays chosen.
    instance.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => audio.apply());
    instance.on(Hls.Events.AUDIO_TRACK_SWITCHED, (_event, data) => audio.follow(data.id));
    // hls.js picks its own subtitle track (the DEFAULT one: none of ours) right after announcing
    // them, in the same task: the remembered choice is applied after that.
    instance.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => queueMicrotask(() => captions.refresh()));
    instance.on(Hls.Events.SUBTITLE_TRACK_SWITCH, (_event, data) => captions.follow(data.id));
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
    audio.player = {
      tracks: () => (hls?.audioTracks ?? []).map((t) => ({ name: t.name, lang: t.lang })),
      current: () => hls?.audioTrack ?? -1,
      select: (index) => {
        if (hls) hls.audioTrack = index;
      },
    };
    captions.player = {
      tracks: () => (hls?.subtitleTracks ?? []).map((t) => ({ name: t.name, lang: t.lang ?? "" })),
      current: () => hls?.subtitleTrack ?? -1,
      select: (index) => {
        if (!hls) return;
        hls.subtitleDisplay = true;
        hls.subtitleTrack = index;
      },
    };
    // From the start (or `?t=`), not the live edge: until step 1 is written in full its playlists are EVENT playlists.
    attach(startAt > 0 ? startAt : 0);
    quality.addEventListener("change", () => {
      // nextLevel switches at the next segment without stalling playback; -1 is Auto.
      if (hls) hls.nextLevel = Number(quality.value);
    });
    qualityField.hidden = false;
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = src; // The browser picks the quality itself.
    if (startAt > 0) video.addEventListener("loadedmetadata", () => (video.currentTime = startAt), { once: true });
    captions.player = nativeCaptions(video.textTracks);
    video.textTracks.addEventListener("addtrack", () => captions.refresh());
    const native = (video as WithAudioTracks).audioTracks;
    if (native) {
      audio.player = nativeAudio(native);
      native.addEventListener("change", () => audio.follow(audio.player!.current()));
      native.addEventListener("addtrack", () => audio.apply());
    }
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
      seekBar.destroy();
      hls?.destroy();
      hls = null;
    },
  };
}

/** What the audio menu needs of a player: its list of tracks, which one plays, and a way to choose. */
type AudioPlayer = { tracks(): PlayerTrack[]; current(): number; select(index: number): void };

/**
 * A labelled Audio menu listing our tracks by label, starting on the default
 * one; hidden (and never touching the player) with fewer than two tracks.
 * `apply` asks the player for the chosen track; `follow` shows what the player
 * switched to by itself.
 */
function audioMenu(tracks: readonly PublicAudioTrack[]) {
  const select = h("select", { id: "audio" }, ...tracks.map((t, i) => h("option", { value: String(i) }, t.label)));
  const field = h(
    "div",
    { class: "audio", hidden: !hasAudioChoice(tracks) },
    h("label", { for: "audio" }, "Audio"),
    select,
  );
  select.value = String(initialTrack(tracks));
  const menu = {
    field,
    player: null as AudioPlayer | null,
    apply(): void {
      if (!hasAudioChoice(tracks) || !menu.player) return;
      const index = playerTrackFor(tracks, Number(select.value), menu.player.tracks());
      if (index >= 0 && index !== menu.player.current()) menu.player.select(index);
    },
    follow(index: number): void {
      if (!menu.player) return;
      const ours = ourTrackFor(tracks, index, menu.player.tracks());
      if (ours >= 0) select.value = String(ours);
    },
  };
  select.addEventListener("change", () => menu.apply());
  return menu;
}

/** Safari's own tracks (`HTMLMediaElement.audioTracks`, missing from TypeScript's DOM types): one enabled at a time. */
type NativeAudioTrack = { label: string; language: string; enabled: boolean };
type NativeAudioTrackList = EventTarget & { readonly length: number; [index: number]: NativeAudioTrack };
type WithAudioTracks = HTMLVideoElement & { audioTracks?: NativeAudioTrackList };

function nativeAudio(list: NativeAudioTrackList): AudioPlayer {
  const all = () => Array.from({ length: list.length }, (_, i) => list[i]!);
  return {
    tracks: () => all().map((t) => ({ name: t.label, lang: t.language })),
    current: () => all().findIndex((t) => t.enabled),
    select: (index) => {
      for (const [i, t] of all().entries()) t.enabled = i === index;
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
