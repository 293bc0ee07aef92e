// The ladder's spans as planned and stitched: pure, so every rule is tested without a transcoder.
import { describe, expect, it } from "vitest";
import type { Ladder, SpanRung } from "../contracts/job.ts";
import { audioMetas, ladderMaster, planSpans, StitchError, stitchRung } from "./ladder.ts";

const ladder = (fr: { num: number; den: number }, segmentFrames: number, durationSec: number): Ladder => ({
  rungs: ["720p", "360p"],
  frameRate: fr,
  segmentFrames,
  durationSec,
});

describe("planSpans", () => {
  it("cuts whole segments of about the span length, numbered on from span to span, the last to the end", () => {
    const spans = planSpans(ladder({ num: 30, den: 1 }, 120, 170), 60);
    expect(spans.map((s) => [s.startSec, s.frames, s.startNumber])).toEqual([
      [0, 1800, 1],
      [60, 1800, 16],
      [120, null, 31],
    ]);
    expect(spans.reduce((n, s) => n + s.durationSec, 0)).toBeCloseTo(170, 6);
  });

  it("starts NTSC spans on exact frame times, not rounded seconds", () => {
    const [, second] = planSpans(ladder({ num: 30000, den: 1001 }, 120, 600), 60);
    // 1800 frames of 1001/30000 s.
    expect(second.startSec).toBe(60.06);
    expect(second.frames).toBe(1800);
  });

  it("folds a remainder under half a span into the last span instead of starting a sliver", () => {
    expect(planSpans(ladder({ num: 25, den: 1 }, 100, 89), 60)).toHaveLength(1);
    expect(planSpans(ladder({ num: 25, den: 1 }, 100, 91), 60)).toHaveLength(2);
    expect(planSpans(ladder({ num: 25, den: 1 }, 100, 3), 60)).toHaveLength(1);
  });
});

const rung = (name: string, first: number, count: number, init = "a".repeat(64)): SpanRung => ({
  name,
  width: 1280,
  height: 720,
  codecs: "avc1.64001f",
  init: { sha256: init, bytes: 800 },
  segments: Array.from({ length: count }, (_, i) => ({
    uri: `seg_${String(first + i).padStart(5, "0")}.a1.m4s`,
    duration: 4,
    bytes: 500_000 + i,
  })),
});

const audio = audioMetas([
  {
    name: "audio_0",
    language: "en",
    label: "English",
    default: true,
    channels: 2,
    codecs: "mp4a.40.2",
    bandwidth: 130_000,
    averageBandwidth: 128_000,
    bytes: 10_000,
  },
]);

describe("stitchRung", () => {
  it("lists every span's segments in order under one init segment, measured as one rendition", () => {
    const { playlist, rendition } = stitchRung("720p", [rung("720p", 1, 2), rung("720p", 3, 1)], audio, 30);
    expect(playlist.split("\n").filter((l) => l.startsWith("seg_"))).toEqual([
      "seg_00001.a1.m4s",
      "seg_00002.a1.m4s",
      "seg_00003.a1.m4s",
    ]);
    expect(playlist).toContain('#EXT-X-MAP:URI="init.mp4"');
    expect(playlist).toContain("#EXT-X-TARGETDURATION:4\n");
    expect(playlist.trimEnd().endsWith("#EXT-X-ENDLIST")).toBe(true);
    const average = Math.ceil(((500_000 + 500_001 + 500_000) * 8) / 12);
    expect(rendition).toMatchObject({
      name: "720p",
      playlist: "720p/index.m3u8",
      averageBandwidth: average + 128_000,
      codecs: "avc1.64001f,mp4a.40.2",
      bytes: 800 + 1_500_001,
      frameRate: 30,
    });
  });

  it("refuses spans whose init segments differ, or which wrote the same segment", () => {
    expect(() => stitchRung("720p", [rung("720p", 1, 2), rung("720p", 3, 1, "b".repeat(64))], audio, 30)).toThrow(
      StitchError,
    );
    expect(() => stitchRung("720p", [rung("720p", 1, 2), rung("720p", 2, 1)], audio, 30)).toThrow(StitchError);
  });
});

describe("ladderMaster", () => {
  it("keeps an encoded first rendition beside the stitched rungs, and drops a copy of the source", () => {
    const stitched = stitchRung("720p", [rung("720p", 1, 2)], audio, 30).rendition;
    const quick = { ...stitched, name: "360p", bandwidth: 900_000, averageBandwidth: 800_000, playlist: "" };
    expect(ladderMaster(quick, [stitched], audio).renditions.map((r) => r.name)).toEqual(["720p", "360p"]);
    const copy = { ...quick, name: "source" };
    const { master, renditions } = ladderMaster(copy, [stitched], audio);
    expect(renditions.map((r) => r.name)).toEqual(["720p"]);
    expect(master).not.toContain("source/");
    expect(master).toContain('URI="audio_0/index.m3u8"');
  });
});
