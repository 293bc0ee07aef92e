import { describe, expect, it } from "vitest";
import {
  avc1FromInit,
  avc1FromProfile,
  masterPlaylist,
  mp4aFromProfile,
  parseMediaPlaylist,
  peakBitrate,
} from "./package.ts";
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

describe("codec strings", () => {
  it("derives avc1 from profile and level", () => {
    expect(avc1FromProfile("High", 40)).toBe("avc1.640028");
    expect(avc1FromProfile("Main", 31)).toBe("avc1.4d001f");
    expect(avc1FromProfile("Constrained Baseline", 30)).toBe("avc1.42401e");
  });

  it("reads avc1 from the init segment's avcC box", () => {
    const box = Buffer.concat([Buffer.from("....avcC"), Buffer.from([1, 0x64, 0x00, 0x1f, 0xff])]);
    expect(avc1FromInit(box)).toBe("avc1.64001f");
    expect(avc1FromInit(Buffer.from("no box here"))).toBeNull();
  });

  it("names HE-AAC and LC apart", () => {
    expect(mp4aFromProfile("LC")).toBe("mp4a.40.2");
    expect(mp4aFromProfile("HE-AAC")).toBe("mp4a.40.5");
  });
});

describe("playlists", () => {
  it("reads segments, durations and the init segment from a media playlist", () => {
    const text =
      '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4.000000,\nseg_00001.m4s\n#EXTINF:2.5,\nseg_00002.m4s\n#EXT-X-ENDLIST\n';
    expect(parseMediaPlaylist(text)).toEqual({
      targetDuration: 4,
      init: "init.mp4",
      segments: [
        { uri: "seg_00001.m4s", duration: 4 },
        { uri: "seg_00002.m4s", duration: 2.5 },
      ],
    });
  });

  it("measures the peak over runs of 0.5 to 1.5 target durations, not a tiny last segment", () => {
    const segments = [
      { bytes: 500_000, duration: 4 },
      { bytes: 1_000_000, duration: 4 },
      { bytes: 50_000, duration: 0.1 },
    ];
    // 1 MB in 4 s is the peak; 50 kB in 0.1 s (4 Mb/s) alone is too short to count.
    expect(peakBitrate(segments, 4)).toBe(Math.ceil((1_050_000 * 8) / 4.1));
  });

  it("writes the master with the highest bandwidth first and every attribute players use", () => {
    const rendition = (name: string, bandwidth: number, height: number) => ({
      name,
      width: Math.round((height * 16) / 9),
      height,
      bandwidth,
      averageBandwidth: bandwidth - 1000,
      codecs: "avc1.640028,mp4a.40.2",
      frameRate: 29.97,
      bytes: 1,
      playlist: `${name}/index.m3u8`,
    });
    const text = masterPlaylist([rendition("360p", 900_000, 360), rendition("720p", 3_000_000, 720)]);
    expect(text).toBe(
      [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2999000,RESOLUTION=1280x720,CODECS="avc1.640028,mp4a.40.2",FRAME-RATE=29.970',
        "720p/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=899000,RESOLUTION=640x360,CODECS="avc1.640028,mp4a.40.2",FRAME-RATE=29.970',
        "360p/index.m3u8",
        "",
      ].join("\n"),
    );
  });
});
