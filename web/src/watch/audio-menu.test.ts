// The audio menu's choices, apart from the page (the browser test drives the real menu and hls.js).
import { describe, expect, it } from "vitest";
import type { PublicAudioTrack } from "../../../worker/contracts/video.ts";
import { hasAudioChoice, initialTrack, ourTrackFor, playerTrackFor } from "./audio-menu.ts";

const track = (label: string, language: string | null, isDefault = false): PublicAudioTrack => ({
  name: "audio_0",
  label,
  language,
  default: isDefault,
  channels: 2,
});
const english = track("English", "en", true);
const french = track("Français", "fr");

describe("audio menu", () => {
  it("is offered only when there is more than one track", () => {
    expect(hasAudioChoice([])).toBe(false);
    expect(hasAudioChoice([english])).toBe(false);
    expect(hasAudioChoice([english, french])).toBe(true);
  });

  it("starts on the default track, else the first", () => {
    expect(initialTrack([french, english])).toBe(1);
    expect(initialTrack([track("A", null), track("B", null)])).toBe(0);
    expect(initialTrack([])).toBe(0);
  });

  it("finds the chosen track among the player's by name and language, whatever their order", () => {
    const ours = [english, french];
    const theirs = [
      { name: "Français", lang: "FR" },
      { name: "English", lang: "en" },
    ];
    expect(playerTrackFor(ours, 0, theirs)).toBe(1);
    expect(playerTrackFor(ours, 1, theirs)).toBe(0);
    expect(ourTrackFor(ours, 0, theirs)).toBe(1);
  });

  it("tells apart two tracks with one label by their language, and falls back on order when names differ", () => {
    const ours = [track("Commentary", "en"), track("Commentary", "de")];
    expect(
      playerTrackFor(ours, 1, [
        { name: "Commentary", lang: "en" },
        { name: "Commentary", lang: "de" },
      ]),
    ).toBe(1);
    // Safari names untitled tracks itself: only the order is left.
    expect(playerTrackFor([english, french], 1, [{ name: "" }, { name: "" }])).toBe(1);
    expect(playerTrackFor([english, french], 1, [{ name: "" }])).toBe(-1);
    expect(ourTrackFor([english, french], 3, [{ name: "English" }])).toBe(-1);
  });
});
