/**
 * The audio menu's decisions, apart from the DOM and the player: which of the
 * video's audio tracks (`GET /api/videos/:id` `audioTracks`) it starts on, and
 * which of the player's tracks is the one a person chose. The player's list
 * (hls.js `audioTracks`, or Safari's `video.audioTracks`) comes from the
 * master playlist, whose `NAME` is our `label` and `LANGUAGE` our `language`
 * (transcoder: one `EXT-X-MEDIA` per track, in source order); a player may
 * drop a track it cannot decode, so order alone is the last resort.
 */
import type { PublicAudioTrack } from "../../../worker/contracts/video.ts";

/** A track as a player lists it: hls.js `name`/`lang`, or a native track's `label`/`language` mapped so. */
export type PlayerTrack = { name: string; lang?: string | null };

/** The menu is worth showing only when there is a choice. */
export const hasAudioChoice = (tracks: readonly PublicAudioTrack[]) => tracks.length > 1;

/** The track the menu starts on: the one marked default, else the first. */
export function initialTrack(tracks: readonly PublicAudioTrack[]): number {
  return Math.max(
    0,
    tracks.findIndex((t) => t.default),
  );
}

const sameLang = (a: string | null | undefined, b: string | null | undefined) =>
  (a ?? "").toLowerCase() === (b ?? "").toLowerCase();

/**
 * The index in the player's list of our track `chosen`, or -1 when none
 * matches: the same name and language, else the same name, else (when both
 * lists are as long) the same place.
 */
export function playerTrackFor(
  ours: readonly PublicAudioTrack[],
  chosen: number,
  theirs: readonly PlayerTrack[],
): number {
  const track = ours[chosen];
  if (!track) return -1;
  const exact = theirs.findIndex((t) => t.name === track.label && sameLang(t.lang, track.language));
  if (exact >= 0) return exact;
  // A label shared by two tracks (two "English" mixes) must not match the wrong one by name alone.
  const named = theirs.filter((t) => t.name === track.label);
  if (named.length === 1) return theirs.indexOf(named[0]!);
  return ours.length === theirs.length ? chosen : -1;
}

/** Which of our tracks the player's track `index` is, or -1: the inverse of `playerTrackFor`. */
export function ourTrackFor(ours: readonly PublicAudioTrack[], index: number, theirs: readonly PlayerTrack[]): number {
  return ours.findIndex((_, i) => playerTrackFor(ours, i, theirs) === index);
}
