import { describe, expect, it } from "vitest";
import type { SpanFrames } from "./job.ts";
import { frameWidthFor, frameWidths, joinFrameRuns, nearestFrame, spriteLayout, storyboardVtt } from "./storyboard.ts";

const LAYOUT = { tileWidth: 160, tileHeight: 90, columns: 5, rows: 6 };
const run = (first: number, count: number, more: Partial<SpanFrames> = {}): SpanFrames => ({
  first,
  count,
  intervalSec: 2,
  widths: [160, 320],
  sprite: LAYOUT,
  bytes: 100,
  ...more,
});

describe("frame sizes", () => {
  it("stores the fixed widths the top rung is as wide as, portrait and tiny sources included", () => {
    expect(frameWidths(1920)).toEqual([160, 320, 640, 1280]);
    expect(frameWidths(1280)).toEqual([160, 320, 640, 1280]);
    expect(frameWidths(1080)).toEqual([160, 320, 640]);
    expect(frameWidths(120)).toEqual([120]);
    expect(spriteLayout(1920, 1080)).toEqual(LAYOUT);
    expect(spriteLayout(1080, 1920)).toMatchObject({ tileWidth: 160, tileHeight: 284 });
  });

  it("chooses the largest stored width not over the request, the smallest below all, the largest by default", () => {
    const frames = { widths: [160, 320, 640] };
    expect(frameWidthFor(frames)).toBe(640);
    expect(frameWidthFor(frames, 5000)).toBe(640);
    expect(frameWidthFor(frames, 400)).toBe(320);
    expect(frameWidthFor(frames, 50)).toBe(160);
  });

  it("picks the frame nearest a time, clamped to the frames there are", () => {
    const frames = { intervalSec: 2.002, count: 10 };
    expect(nearestFrame(frames, 0)).toBe(0);
    expect(nearestFrame(frames, 3.0)).toBe(1);
    expect(nearestFrame(frames, 3.01)).toBe(2);
    expect(nearestFrame(frames, 1e9)).toBe(9);
  });
});

describe("joining the tasks' frames", () => {
  it("joins contiguous runs from frame 0 and adds their bytes", () => {
    expect(joinFrameRuns([run(0, 30), run(30, 30), run(60, 7)])).toEqual({
      intervalSec: 2,
      count: 67,
      widths: [160, 320],
      sprite: LAYOUT,
      bytes: 300,
    });
  });

  it("has no frames rather than wrong ones when runs leave a gap or disagree", () => {
    expect(joinFrameRuns([])).toBeNull();
    expect(joinFrameRuns([run(0, 30), run(31, 30)])).toBeNull();
    expect(joinFrameRuns([run(30, 30)])).toBeNull();
    expect(joinFrameRuns([run(0, 30), run(30, 30, { widths: [160] })])).toBeNull();
    expect(joinFrameRuns([run(0, 30), run(30, 30, { intervalSec: 2.002 })])).toBeNull();
  });
});

describe("the WebVTT storyboard", () => {
  it("gives each frame the times nearer it than its neighbours, its tile in its run's sheets", () => {
    const runs = [run(0, 32), run(32, 3)];
    const frames = joinFrameRuns(runs)!;
    const cues = storyboardVtt(frames, runs, 69.5).trim().split("\n\n");
    expect(cues[0]).toBe("WEBVTT");
    expect(cues.slice(1)).toHaveLength(35);
    expect(cues[1]).toBe("00:00:00.000 --> 00:00:01.000\nframes/sprite_00000.jpg#xywh=0,0,160,90");
    expect(cues[2]).toBe("00:00:01.000 --> 00:00:03.000\nframes/sprite_00000.jpg#xywh=160,0,160,90");
    // The 30th tile fills the first sheet; the run's 31st starts its second.
    expect(cues[30]).toBe("00:00:57.000 --> 00:00:59.000\nframes/sprite_00000.jpg#xywh=640,450,160,90");
    expect(cues[31]).toBe("00:00:59.000 --> 00:01:01.000\nframes/sprite_00030.jpg#xywh=0,0,160,90");
    // The next run starts its own sheet; the last cue runs to the end of the video.
    expect(cues[33]).toBe("00:01:03.000 --> 00:01:05.000\nframes/sprite_00032.jpg#xywh=0,0,160,90");
    expect(cues[35]).toBe("00:01:07.000 --> 00:01:09.500\nframes/sprite_00032.jpg#xywh=320,0,160,90");
  });
});
