import { describe, expect, it } from "vitest";
import { preferredTrack } from "./caption-choice.ts";

const tracks = [
  { name: "English", lang: "en" },
  { name: "Português (Brasil)", lang: "pt-BR" },
  { name: "Français", lang: "fr" },
];

describe("the captions a viewer gets", () => {
  it("are the language they chose before, in any case, else its base language, else none", () => {
    expect(preferredTrack(tracks, "fr")).toBe(2);
    expect(preferredTrack(tracks, "PT-br")).toBe(1);
    expect(preferredTrack(tracks, "pt-PT")).toBe(1);
    expect(preferredTrack(tracks, "en-GB")).toBe(0);
    expect(preferredTrack(tracks, "de")).toBe(-1);
  });

  it("are none for someone who turned them off, or never chose", () => {
    expect(preferredTrack(tracks, "off")).toBe(-1);
    expect(preferredTrack(tracks, null)).toBe(-1);
    expect(preferredTrack([], "en")).toBe(-1);
  });
});
