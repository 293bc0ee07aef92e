/**
 * The Captions menu: Off, then every caption track the player found in the
 * master playlist (hls.js `subtitleTracks`, or Safari's own text tracks),
 * by the label the owner gave it. The choice is remembered by language, in
 * this browser, for every video: someone who turned on French captions once
 * gets them wherever a video has French, and nothing where it has none.
 */
import { h } from "../dom.ts";
import { type CaptionTrack, OFF, preferredTrack } from "./caption-choice.ts";

/** What the menu needs of a player: its caption tracks, which one shows (-1: none), and a way to choose. */
export type CaptionPlayer = { tracks(): CaptionTrack[]; current(): number; select(index: number): void };

const STORAGE_KEY = "reelay.captions";

function remembered(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // Storage refused (a privacy setting): nothing is remembered.
  }
}

function remember(choice: string): void {
  try {
    localStorage.setItem(STORAGE_KEY, choice);
  } catch {}
}

export function captionsMenu() {
  const select = h("select", { id: "captions" });
  const field = h("div", { class: "captions", hidden: true }, h("label", { for: "captions" }, "Captions"), select);
  let listed: CaptionTrack[] = [];
  const menu = {
    field,
    player: null as CaptionPlayer | null,
    /** The player's tracks changed (a master was loaded): list them and show the remembered language. */
    refresh(): void {
      if (!menu.player) return;
      listed = menu.player.tracks();
      select.replaceChildren(
        h("option", { value: "-1" }, "Off"),
        ...listed.map((t, i) => h("option", { value: String(i) }, t.name || t.lang || `Track ${i + 1}`)),
      );
      field.hidden = listed.length === 0;
      const index = preferredTrack(listed, remembered());
      if (index !== menu.player.current()) menu.player.select(index);
      select.value = String(index);
    },
    /** Shows what the player switched to by itself. */
    follow(index: number): void {
      select.value = String(index);
    },
  };
  select.addEventListener("change", () => {
    const index = Number(select.value);
    menu.player?.select(index);
    remember(index < 0 ? OFF : (listed[index]?.lang ?? OFF));
  });
  return menu;
}

/** Safari's text tracks from the master playlist: the one shown is `showing`, the others `disabled`. */
export function nativeCaptions(list: TextTrackList): CaptionPlayer {
  const all = () => Array.from(list).filter((t) => t.kind === "subtitles" || t.kind === "captions");
  return {
    tracks: () => all().map((t) => ({ name: t.label, lang: t.language })),
    current: () => all().findIndex((t) => t.mode === "showing"),
    select: (index) => {
      for (const [i, t] of all().entries()) t.mode = i === index ? "showing" : "disabled";
    },
  };
}
