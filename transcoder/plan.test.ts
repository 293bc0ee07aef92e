import { describe, expect, it } from "vitest";
import { canRemux, languageTag, outputFrameRate, planAudio, planLadder, planTranscode, quickRung } from "./plan.ts";
import type { AudioSource, SourceInfo } from "./probe.ts";

const track = (overrides: Partial<AudioSource> = {}): AudioSource => ({
  index: 0,
  codec: "aac",
  profile: "LC",
  channels: 2,
  sampleRate: 48000,
  language: null,
  title: null,
  isDefault: false,
  ...overrides,
});

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
  interlaced: null,
  hdr: null,
  audio: [track()],
  audioCodec: "aac",
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
      profile: "high",
    });
    expect(r360).toMatchObject({ videoKbps: 800, profile: "main" });
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
    const [surround] = planTranscode(source({ audio: [track({ channels: 6, sampleRate: 96000 })] })).audio;
    expect(surround).toMatchObject({ channels: 2, sampleRate: 48000, kbps: 128, copyable: false });
    const [mono] = planTranscode(source({ audio: [track({ channels: 1, sampleRate: 44100 })] })).audio;
    expect(mono).toMatchObject({ channels: 1, sampleRate: 44100, kbps: 96, copyable: true });
    expect(planTranscode(source({ audio: [], audioCodec: null })).audio).toEqual([]);
  });

  it("shows 50i and 60i at their field rate, and 60i above the cap at its frame rate", () => {
    expect(planTranscode(source({ interlaced: "tff", frameRate: 25 }))).toMatchObject({
      frameRate: 50,
      picture: { deinterlace: { parity: "tff", rate: "field" } },
    });
    expect(planTranscode(source({ interlaced: "bff", frameRate: 30000 / 1001 })).frameRateExpr).toBe("60000/1001");
    expect(planTranscode(source({ interlaced: "tff", frameRate: 50 }))).toMatchObject({
      frameRate: 50,
      picture: { deinterlace: { rate: "frame" } },
    });
    expect(planTranscode(source()).picture).toEqual({ deinterlace: null, toneMap: null });
  });

  it("tone-maps PQ and HLG sources", () => {
    expect(planTranscode(source({ hdr: "hlg" })).picture.toneMap).toBe("hlg");
    expect(planTranscode(source({ hdr: "pq" })).picture.toneMap).toBe("pq");
  });
});

describe("audio tracks", () => {
  it("names each track by its title, else its language, else its position, and keeps names unique", () => {
    const plans = planAudio([
      track({ index: 0, language: "eng" }),
      track({ index: 1, language: "fre", title: "Français" }),
      track({ index: 2, language: "eng" }),
      track({ index: 3, language: "und" }),
      track({ index: 4, title: 'Say "hi"\n' }),
    ]);
    expect(plans.map((p) => [p.name, p.label, p.language])).toEqual([
      ["audio_0", "English", "en"],
      ["audio_1", "Français", "fr"],
      ["audio_2", "English (2)", "en"],
      ["audio_3", "Track 4", null],
      ["audio_4", "Say hi", null],
    ]);
  });

  it("starts on the source's default track, else the first, and exactly one", () => {
    const marked = planAudio([
      track({ index: 0 }),
      track({ index: 1, isDefault: true }),
      track({ index: 2, isDefault: true }),
    ]);
    expect(marked.map((p) => p.isDefault)).toEqual([false, true, false]);
    expect(planAudio([track({ index: 0 }), track({ index: 1 })]).map((p) => p.isDefault)).toEqual([true, false]);
  });

  it("copies AAC-LC stereo only; AC-3, MP2, PCM and HE-AAC are encoded", () => {
    const copyable = (t: Partial<AudioSource>) => planAudio([track(t)])[0].copyable;
    expect(copyable({})).toBe(true);
    expect(copyable({ codec: "ac3" })).toBe(false);
    expect(copyable({ codec: "mp2" })).toBe(false);
    expect(copyable({ codec: "pcm_s16le", profile: null })).toBe(false);
    expect(copyable({ profile: "HE-AAC" })).toBe(false);
  });

  it("turns ISO 639-2 tags into BCP 47", () => {
    expect(["eng", "ger", "jpn", "pt-BR", "und", "", "not a tag"].map((t) => languageTag(t))).toEqual([
      "en",
      "de",
      "ja",
      "pt-BR",
      null,
      null,
      null,
    ]);
  });
});

describe("remux eligibility", () => {
  it("copies progressive 8-bit 4:2:0 SDR H.264, whatever its audio", () => {
    expect(canRemux(source())).toBe(true);
    expect(canRemux(source({ audio: [], audioCodec: null }))).toBe(true);
    expect(canRemux(source({ audio: [track({ codec: "ac3" })], audioCodec: "ac3" }))).toBe(true);
    expect(canRemux(source({ pixelFormat: "yuvj420p", profile: "Constrained Baseline" }))).toBe(true);
  });

  it("encodes everything else", () => {
    expect(canRemux(source({ profile: "High 10", pixelFormat: "yuv420p10le" }))).toBe(false);
    expect(canRemux(source({ profile: "High 4:4:4 Predictive", pixelFormat: "yuv444p" }))).toBe(false);
    expect(canRemux(source({ videoCodec: "hevc" }))).toBe(false);
    expect(canRemux(source({ interlaced: "tff" }))).toBe(false);
    expect(canRemux(source({ hdr: "hlg" }))).toBe(false);
    expect(canRemux(source({ rotation: 90 }))).toBe(false);
  });
});
