import { describe, expect, it } from "vitest";
import { canRemux, outputFrameRate, planLadder, planTranscode, quickRung } from "./plan.ts";
import type { SourceInfo } from "./probe.ts";

const source = (overrides: Partial<SourceInfo> = {}): SourceInfo => ({
  durationSec: 10,
  width: 1920,
  height: 1080,
  rotation: 0,
  squarePixels: true,
  frameRate: 30,
  videoCodec: "h264",
  pixelFormat: "yuv420p",
  profile: "High",
  level: 40,
  audioCodec: "aac",
  audioProfile: "LC",
  audioChannels: 2,
  audioSampleRate: 48000,
  maxKeyframeIntervalSec: 2,
  ...overrides,
});

const sizes = (w: number, h: number) =>
  planLadder({ width: w, height: h }).map((r) => `${r.name} ${r.width}x${r.height}`);

describe("the ladder", () => {
  it("has five rungs for a 1080p source", () => {
    expect(sizes(1920, 1080)).toEqual([
      "1080p 1920x1080",
      "720p 1280x720",
      "480p 854x480",
      "360p 640x360",
      "240p 426x240",
    ]);
  });

  it("never encodes above the source height", () => {
    expect(sizes(1280, 720).map((s) => s.split(" ")[0])).toEqual(["720p", "480p", "360p", "240p"]);
    expect(sizes(3840, 2160)[0]).toBe("1080p 1920x1080");
  });

  it("sizes portrait rungs by their short side and keeps the shape", () => {
    expect(sizes(720, 1280)).toEqual(["720p 720x1280", "480p 480x854", "360p 360x640", "240p 240x426"]);
  });

  it("keeps aspect ratio with even dimensions for odd sources", () => {
    expect(sizes(641, 361)).toEqual(["360p 640x360", "240p 426x240"]);
  });

  it("gives a source smaller than 240 lines one rung at its own even size", () => {
    expect(sizes(321, 181)).toEqual(["180p 320x180"]);
  });

  it("uses the suggested bitrates with maxrate 1.07x and bufsize 2x", () => {
    const [top, , , r360] = planLadder({ width: 1920, height: 1080 });
    expect(top).toMatchObject({
      videoKbps: 5000,
      maxrateKbps: 5350,
      bufsizeKbps: 10000,
      audioKbps: 128,
      profile: "high",
    });
    expect(r360).toMatchObject({ videoKbps: 800, audioKbps: 96, profile: "main" });
  });

  it("encodes the smallest rung of at least 360 lines first, or the only one", () => {
    expect(quickRung(planLadder({ width: 1920, height: 1080 })).name).toBe("360p");
    expect(quickRung(planLadder({ width: 320, height: 240 })).name).toBe("240p");
  });

  it("caps the frame rate at 60 and uses a 2 s GOP", () => {
    expect(planTranscode(source({ frameRate: 120 }))).toMatchObject({ frameRate: 60, gopFrames: 120 });
    expect(planTranscode(source({ frameRate: 30000 / 1001 })).frameRateExpr).toBe("30000/1001");
    expect(outputFrameRate(29.98).frameRate).toBe(30);
  });

  it("keeps stereo at most and 48 kHz at most", () => {
    expect(planTranscode(source({ audioChannels: 6, audioSampleRate: 96000 })).audio).toEqual({
      channels: 2,
      sampleRate: 48000,
    });
    expect(planTranscode(source({ audioChannels: 1, audioSampleRate: 44100 })).audio).toEqual({
      channels: 1,
      sampleRate: 44100,
    });
    expect(planTranscode(source({ audioCodec: null })).audio).toBeNull();
  });
});

describe("remux eligibility", () => {
  it("copies 8-bit 4:2:0 H.264 with AAC or no audio", () => {
    expect(canRemux(source())).toBe(true);
    expect(canRemux(source({ audioCodec: null }))).toBe(true);
    expect(canRemux(source({ pixelFormat: "yuvj420p", profile: "Constrained Baseline" }))).toBe(true);
  });

  it("encodes everything else", () => {
    expect(canRemux(source({ profile: "High 10", pixelFormat: "yuv420p10le" }))).toBe(false);
    expect(canRemux(source({ profile: "High 4:4:4 Predictive", pixelFormat: "yuv444p" }))).toBe(false);
    expect(canRemux(source({ videoCodec: "hevc" }))).toBe(false);
    expect(canRemux(source({ audioCodec: "mp3" }))).toBe(false);
    expect(canRemux(source({ rotation: 90 }))).toBe(false);
    expect(canRemux(source({ maxKeyframeIntervalSec: 12 }))).toBe(false);
  });
});
