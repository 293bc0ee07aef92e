import { describe, expect, it } from "vitest";
import { cueAt, parseStoryboard } from "./storyboard-cues.ts";

const VTT = `WEBVTT

00:00:00.000 --> 00:00:01.000
/videos/v/j1/frames/sprite_00000.jpg#xywh=0,0,160,90

00:00:01.000 --> 00:00:03.000
/videos/v/j1/frames/sprite_00000.jpg#xywh=160,0,160,90

note
01:01.000 --> 01:03.500 align:start
frames/sprite_00030.jpg?token=abc#xywh=0,90,160,90

00:01:04.000 --> 00:01:05.000
a cue without a tile
`;

describe("the seek bar's storyboard", () => {
  it("reads each cue's times and tile, resolving sprite URLs against the storyboard's", () => {
    const cues = parseStoryboard(VTT, "https://reelay.test/videos/v/storyboard.vtt");
    expect(cues).toEqual([
      {
        start: 0,
        end: 1,
        sprite: "https://reelay.test/videos/v/j1/frames/sprite_00000.jpg",
        x: 0,
        y: 0,
        w: 160,
        h: 90,
      },
      {
        start: 1,
        end: 3,
        sprite: "https://reelay.test/videos/v/j1/frames/sprite_00000.jpg",
        x: 160,
        y: 0,
        w: 160,
        h: 90,
      },
      {
        start: 61,
        end: 63.5,
        sprite: "https://reelay.test/videos/v/frames/sprite_00030.jpg?token=abc",
        x: 0,
        y: 90,
        w: 160,
        h: 90,
      },
    ]);
  });

  it("finds the cue showing a time: the last one starting at or before it", () => {
    const cues = parseStoryboard(VTT, "https://reelay.test/videos/v/storyboard.vtt");
    expect(cueAt(cues, 0)?.x).toBe(0);
    expect(cueAt(cues, 2.5)?.x).toBe(160);
    expect(cueAt(cues, 62)?.sprite).toMatch(/sprite_00030/);
    expect(cueAt([], 2)).toBeNull();
  });
});
