/**
 * The Captions menu's decision, apart from the DOM and the player: which of
 * the player's caption tracks a viewer gets, from the language they chose
 * before (remembered by captions-menu.ts, for every video).
 */

/** A track as the player lists it: hls.js `name`/`lang`, or a native track's `label`/`language`. */
export type CaptionTrack = { name: string; lang: string };

/** What is remembered when a viewer turns captions off. */
export const OFF = "off";

/**
 * The track to show for a remembered choice: the same language, else the
 * same base language (`pt` for `pt-BR`, and the other way round), else none.
 */
export function preferredTrack(tracks: readonly CaptionTrack[], remembered: string | null): number {
  if (!remembered || remembered === OFF) return -1;
  const wanted = remembered.toLowerCase();
  const exact = tracks.findIndex((t) => t.lang.toLowerCase() === wanted);
  if (exact >= 0) return exact;
  const base = (tag: string) => tag.toLowerCase().split("-")[0];
  return tracks.findIndex((t) => base(t.lang) === base(wanted));
}
