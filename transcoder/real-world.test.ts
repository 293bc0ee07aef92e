/**
 * The files phones, camcorders, broadcast captures and editors make, each
 * generated with ffmpeg, through the whole pipeline: every one of them either
 * plays right or fails once with a reason a person can act on.
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TranscodeError } from "./errors.ts";
import { pictureFilters } from "./encode.ts";
import { type PublishedMetadata, runPipeline } from "./pipeline.ts";
import { encodeLadderInSpans } from "./testing/ladder.ts";
import {
  combing,
  makeRealWorld,
  meanLuma,
  probeJson,
  type RealWorldKind,
  readMaster,
  zeroCrossingRate,
} from "./testing/media.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "reelay-real-world-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `steps` are the announcements of a whole step (`playable`, `final`); `growing` ones are in `growing`. */
type Run = {
  source: string;
  out: string;
  steps: PublishedMetadata[];
  growing: PublishedMetadata[];
  result: PublishedMetadata;
};

async function transcode(kind: RealWorldKind, name: string): Promise<Run> {
  const source = await makeRealWorld(join(root, name), kind);
  const out = join(root, `${name}.out`);
  const steps: PublishedMetadata[] = [];
  const growing: PublishedMetadata[] = [];
  let result = await runPipeline({
    source: { path: source },
    workDir: out,
    onPublish: (step, m) => void (step === "growing" ? growing : steps).push(m),
  });
  if (result.ladder) {
    const { spans: _, ...final } = await encodeLadderInSpans({
      source: { path: source },
      workDir: out,
      playable: result,
      spanSeconds: 4,
    });
    steps.push(final);
    result = final;
  }
  return { source, out, steps, growing, result };
}

async function failure(kind: RealWorldKind, name: string): Promise<TranscodeError> {
  const source = await makeRealWorld(join(root, name), kind);
  const error = await runPipeline({ source: { path: source }, workDir: join(root, `${name}.out`) }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TranscodeError);
  return error as TranscodeError;
}

const streamOf = async (path: string, entries: string) =>
  (await probeJson(path, ["-show_entries", `stream=${entries}`])).streams[0];

describe("an MPEG-TS with H.264 and ADTS AAC (broadcast capture, screen recorder)", () => {
  let run: Run;
  beforeAll(async () => {
    run = await transcode("ts-aac", "capture.ts");
  }, 120_000);

  it("is copied into HLS, its AAC rewrapped for MP4, and plays its full length", async () => {
    expect(run.steps[0].renditions.map((r) => r.name)).toEqual(["source"]);
    expect(run.result.durationSec).toBeCloseTo(6, 0);
    expect(await streamOf(join(run.out, "audio_0/index.m3u8"), "codec_name")).toMatchObject({ codec_name: "aac" });
    expect(run.result.warnings).toEqual([]);
  });
});

describe("containers and codecs whose copy or audio needs care", () => {
  it("H.264 with B-frames in AVI, whose stream copy plays nothing, is encoded instead of failing", async () => {
    const run = await transcode("avi-h264-bframes", "camera.avi");
    expect(run.steps[0].renditions.map((r) => r.name)).toEqual(["360p"]);
    // Its empty copied segments are never announced.
    expect(run.growing.map((g) => g.renditions.map((r) => r.name))).toEqual([["360p"]]);
    expect(run.result.durationSec).toBeGreaterThan(3.9);
    expect(run.result.warnings).toEqual([]);
  }, 120_000);

  it("ProRes with PCM in MOV, and H.264 with 5.1 E-AC-3 in Matroska, play with stereo AAC", async () => {
    for (const [kind, name, codec] of [
      ["prores-pcm", "master.mov", "pcm_s16le"],
      ["mkv-eac3", "episode.mkv", "eac3"],
    ] as const) {
      const run = await transcode(kind, name);
      expect(run.result.audioCodec).toBe(codec);
      expect(await streamOf(join(run.out, "audio_0/index.m3u8"), "codec_name,channels")).toMatchObject({
        codec_name: "aac",
        channels: kind === "mkv-eac3" ? 2 : 1,
      });
    }
  }, 120_000);
});

describe("interlaced sources", () => {
  it("an AVCHD .MTS (1080i50 H.264, AC-3) becomes 50p with no combed frames, AC-3 as AAC", async () => {
    const run = await transcode("mts-1080i-ac3", "00001.MTS");
    // The baseline: the source itself is combed, so the check below can fail.
    expect((await combing(run.source)).interlaced).toBeGreaterThan(40);
    const top = await combing(join(run.out, "1080p/index.m3u8"));
    expect(top.interlaced).toBeLessThanOrEqual(top.progressive * 0.02);
    expect(run.result).toMatchObject({ frameRate: 50, audioCodec: "ac3" });
    expect(run.result.renditions.map((r) => r.frameRate)).toEqual([50, 50, 50, 50, 50]);
    expect(await streamOf(join(run.out, "audio_0/index.m3u8"), "codec_name")).toMatchObject({ codec_name: "aac" });
  }, 180_000);

  it("a 576i MPEG-2 DVD stream (16:9, MP2) becomes 50p at its display shape with no combed frames", async () => {
    const run = await transcode("mpeg2-576i", "VTS_01_1.VOB");
    expect((await combing(run.source)).interlaced).toBeGreaterThan(40);
    const top = await combing(join(run.out, `${run.result.renditions[0].name}/index.m3u8`));
    expect(top.interlaced).toBeLessThanOrEqual(top.progressive * 0.02);
    expect(run.result).toMatchObject({ width: 1024, height: 576, frameRate: 50, audioCodec: "mp2" });
  }, 180_000);

  it("a motion-JPEG capture that does not say it is interlaced is found so by idet and deinterlaced", async () => {
    const run = await transcode("mjpeg-576i", "capture.avi");
    expect((await combing(run.source)).interlaced).toBeGreaterThan(40);
    const top = await combing(join(run.out, `${run.result.renditions[0].name}/index.m3u8`));
    expect(top.interlaced).toBeLessThanOrEqual(top.progressive * 0.02);
    expect(run.result.frameRate).toBe(50);
  }, 180_000);
});

describe("durations", () => {
  it("an MP4 whose timestamps start at 3600 s reports the 4 s it plays", async () => {
    const run = await transcode("offset-3600", "cut-from-stream.mp4");
    const declared = await probeJson(run.source, ["-show_entries", "format=duration"]);
    expect(Number(declared.format.duration)).toBeGreaterThan(3600); // what the old probe reported
    expect(run.result.durationSec).toBeGreaterThan(3.9);
    expect(run.result.durationSec).toBeLessThan(4.2);
    expect((await stat(join(run.out, "poster.jpg"))).size).toBeGreaterThan(0);
  }, 120_000);

  it("a faststart MP4 cut at 60% is ready with a warning saying it looks truncated and how much plays", async () => {
    const run = await transcode("cut-faststart", "cut.mp4");
    expect(run.result.durationSec).toBeGreaterThan(3);
    expect(run.result.durationSec).toBeLessThan(4.5);
    expect(run.result.warnings).toEqual([
      {
        code: "source_truncated",
        message: `The file looks truncated: ${Math.round(run.result.durationSec * 10) / 10} s of the 6 s it declares play.`,
      },
    ]);
    // Said as soon as step 1 is whole, not only at the end.
    expect(run.steps[0].warnings).toEqual(run.result.warnings);
  }, 120_000);

  it("an MP4 cut before its index fails at once, for good, saying the file looks incomplete", async () => {
    const error = await failure("cut-moov-at-end", "cut-no-index.mp4");
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "The file looks incomplete: it ends before its index, as when a recording or an upload is cut off. Upload the complete file.",
    );
  }, 120_000);
});

describe("HDR sources", () => {
  // The reference: ffmpeg's documented zscale + Hable tone-map of the source, scaled like the rung.
  const reference = pictureFilters({ deinterlace: null, toneMap: "pq" });

  for (const kind of ["hlg", "pq"] as const) {
    it(`${kind.toUpperCase()} is tone-mapped to SDR, tagged BT.709, as bright as a reference tone-map`, async () => {
      const run = await transcode(kind, `${kind}.mp4`);
      const top = join(run.out, "720p/index.m3u8");
      expect(await streamOf(top, "color_primaries,color_transfer,color_space")).toMatchObject({
        color_primaries: "bt709",
        color_transfer: "bt709",
        color_space: "bt709",
      });
      const expected = await meanLuma(run.source, reference);
      const untouched = await meanLuma(run.source, ["format=yuv420p"]);
      // Without tone-mapping the picture would be far off: the check can fail.
      expect(Math.abs(untouched - expected) / expected).toBeGreaterThan(0.1);
      expect(Math.abs((await meanLuma(top)) - expected) / expected).toBeLessThan(0.1);
    }, 180_000);
  }
});

describe("a file with two audio tracks", () => {
  let run: Run;
  beforeAll(async () => {
    run = await transcode("two-audio", "dubbed.mp4");
  }, 120_000);

  it("keeps both as alternate audio renditions, named and tagged from the file, the first the default", async () => {
    expect(run.result.audioTracks.map((t) => [t.name, t.label, t.language, t.default])).toEqual([
      ["audio_0", "English", "en", true],
      ["audio_1", "Français", "fr", false],
    ]);
    const { lines, entries } = await readMaster(join(run.out, "master.m3u8"));
    expect(lines.filter((l) => l.startsWith("#EXT-X-MEDIA:TYPE=AUDIO"))).toHaveLength(2);
    expect(entries.every((e) => e.attributes.AUDIO === "audio")).toBe(true);
  });

  it("each rendition carries its own track's sound", async () => {
    // 440 Hz crosses zero 880 times a second, 880 Hz 1760 times: at 48 kHz, 0.0183 and 0.0367 per sample.
    expect(await zeroCrossingRate(join(run.out, "audio_0/index.m3u8"))).toBeCloseTo(880 / 48000, 3);
    expect(await zeroCrossingRate(join(run.out, "audio_1/index.m3u8"))).toBeCloseTo(1760 / 48000, 3);
  });

  it("leaves the video renditions without sound of their own", async () => {
    const master = await readFile(join(run.out, "master.m3u8"), "utf8");
    const rung = master.split("\n").find((l) => l.endsWith("/index.m3u8") && !l.startsWith("#"));
    const probed = await probeJson(join(run.out, rung ?? ""), ["-show_entries", "stream=codec_type"]);
    expect(probed.streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(["video"]);
  });
});
