import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TranscodeError } from "./errors.ts";
import { parseMediaPlaylist, type RenditionMeta } from "../worker/contracts/hls-playlists.ts";
import { runPipeline, type PublishedMetadata, type PublishStep } from "./pipeline.ts";
import { encodeLadderInSpans } from "./testing/ladder.ts";
import {
  decodesCleanly,
  keyframeTimes,
  makeClip,
  probeJson,
  processesNaming,
  readMaster,
  type ClipOptions,
} from "./testing/media.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "reelay-transcoder-test-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const clip = (name: string, options: ClipOptions) => makeClip(join(root, name), options);

/** A publish step, and how many uploads had been made when it was announced. */
type Publish = { step: PublishStep; metadata: PublishedMetadata; master: string; uploadsBefore: number };
/** One file as it was uploaded: its text for playlists, which may be uploaded again as they grow. */
type Uploaded = { file: string; text: string | null };
type Run = {
  workDir: string;
  sourcePath: string;
  result: PublishedMetadata;
  publishes: Publish[];
  /** Every upload in order, the growing step's and each publish step's. */
  uploads: Uploaded[];
  progress: Array<{ at: number; value: number }>;
};

async function transcode(name: string, sourcePath: string, discardUploaded = false): Promise<Run> {
  const workDir = join(root, `${name}-out`);
  const publishes: Publish[] = [];
  const uploads: Uploaded[] = [];
  const progress: Run["progress"] = [];
  const upload = async (files: string[], texts?: Map<string, string>) => {
    for (const file of files) {
      const text = file.endsWith(".m3u8") ? (texts?.get(file) ?? (await readFile(join(workDir, file), "utf8"))) : null;
      uploads.push({ file, text });
    }
  };
  const published = async (step: PublishStep, metadata: PublishedMetadata) => {
    await upload(metadata.files);
    const master = await readFile(join(workDir, "master.m3u8"), "utf8");
    publishes.push({ step, metadata, master, uploadsBefore: uploads.length });
  };
  const source = { path: sourcePath };
  let result = await runPipeline({
    source,
    workDir,
    onProgress: (value) => progress.push({ at: Date.now(), value }),
    upload,
    discardUploaded,
    onPublish: published,
  });
  if (result.ladder) {
    // The ladder as the worker has it made: in spans (4 s here, so even these clips have several), stitched.
    const { spans: _, ...final } = await encodeLadderInSpans({ source, workDir, playable: result, spanSeconds: 4 });
    await published("final", final);
    result = final;
  }
  return { workDir, sourcePath, result, publishes, uploads, progress };
}

const dims = (renditions: RenditionMeta[]) => renditions.map((r) => `${r.name} ${r.width}x${r.height}`);

async function filesOnDisk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

async function expectMasterDescribes(workDir: string, renditions: RenditionMeta[]): Promise<void> {
  const { lines, entries } = await readMaster(join(workDir, "master.m3u8"));
  expect(lines.slice(0, 3)).toEqual(["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]);
  expect(entries.map((e) => e.uri)).toEqual(renditions.map((r) => r.playlist));
  entries.forEach(({ attributes }, i) => {
    const r = renditions[i];
    expect(Number(attributes.BANDWIDTH)).toBe(r.bandwidth);
    expect(Number(attributes["AVERAGE-BANDWIDTH"])).toBe(r.averageBandwidth);
    expect(r.bandwidth).toBeGreaterThanOrEqual(r.averageBandwidth);
    expect(r.averageBandwidth).toBeGreaterThan(0);
    expect(attributes.RESOLUTION).toBe(`${r.width}x${r.height}`);
    expect(attributes.CODECS).toBe(r.codecs);
    expect(attributes["FRAME-RATE"]).toBe(r.frameRate.toFixed(3));
  });
  const bandwidths = renditions.map((r) => r.bandwidth);
  expect(bandwidths).toEqual([...bandwidths].sort((a, b) => b - a));
}

/** EXTINF limits; for encoded renditions every segment but the last is 4 s. */
async function expectSegments(workDir: string, rendition: RenditionMeta, encoded: boolean): Promise<number[]> {
  const playlist = parseMediaPlaylist(await readFile(join(workDir, rendition.playlist), "utf8"));
  expect(playlist.init).toBe("init.mp4");
  const durations = playlist.segments.map((s) => s.duration);
  for (const d of durations) expect(d).toBeLessThanOrEqual(4.1);
  if (encoded) for (const d of durations.slice(0, -1)) expect(d).toBeCloseTo(4, 1);
  for (const s of playlist.segments) {
    // A span's segments carry its attempt: a late write of a superseded one never replaces them.
    expect(s.uri).toMatch(/^seg_\d{5}(\.a1)?\.m4s$/);
    expect((await stat(join(workDir, rendition.name, s.uri))).size).toBeGreaterThan(0);
  }
  return durations;
}

/** Same keyframe instants in every rendition, and one at every segment boundary. */
async function expectAlignedKeyframes(workDir: string, renditions: RenditionMeta[]): Promise<void> {
  const times = await Promise.all(renditions.map((r) => keyframeTimes(join(workDir, r.playlist))));
  for (const t of times.slice(1)) {
    expect(t.length).toBe(times[0].length);
    for (const [i, time] of t.entries()) expect(time).toBeCloseTo(times[0][i], 2);
  }
  for (const [i, r] of renditions.entries()) {
    const durations = await expectSegments(workDir, r, true);
    let boundary = times[i][0];
    for (const d of durations.slice(0, -1)) {
      boundary += d;
      expect(
        times[i].some((k) => Math.abs(k - boundary) < 0.02),
        `${r.name} keyframe at ${boundary}`,
      ).toBe(true);
    }
  }
}

async function expectPoster(workDir: string, width: number, height: number): Promise<void> {
  const path = join(workDir, "poster.jpg");
  expect((await readFile(path)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  const { streams } = await probeJson(path, ["-show_entries", "stream=codec_name,width,height"]);
  expect(streams[0]).toMatchObject({ codec_name: "mjpeg", width, height });
  expect(await decodesCleanly(path)).toBe(true);
}

async function videoPacketBytes(path: string): Promise<number> {
  const { packets } = await probeJson(path, ["-select_streams", "v:0", "-show_entries", "packet=size"]);
  return (packets as Array<{ size: string }>).reduce((n, p) => n + Number(p.size), 0);
}

/**
 * Every file on disk is uploaded; media files once, playlists as often as
 * they grew; each playlist names only files uploaded before it, and each
 * publish step ends with the master.
 */
async function expectPublishedFiles(run: Run): Promise<void> {
  for (const p of run.publishes) expect(p.metadata.files.at(-1)).toBe("master.m3u8");
  const media = run.uploads.filter((u) => u.text === null).map((u) => u.file);
  expect(new Set(media).size).toBe(media.length);
  expect((await filesOnDisk(run.workDir)).sort()).toEqual([...new Set(run.uploads.map((u) => u.file))].sort());
  const up = new Set<string>();
  for (const { file, text } of run.uploads) {
    if (text !== null && file !== "master.m3u8") {
      const dir = file.slice(0, file.lastIndexOf("/") + 1);
      const { init, segments } = parseMediaPlaylist(text);
      for (const named of [...(init ? [init] : []), ...segments.map((s) => s.uri)]) expect(up).toContain(dir + named);
    }
    up.add(file);
  }
}

describe("an H.264 + AAC 1080p source", () => {
  let run: Run;
  beforeAll(async () => {
    run = await transcode("landscape", await clip("landscape.mp4", { width: 1920, height: 1080, fps: 24, seconds: 7 }));
  });

  it("is remuxed into a playable rendition first, without re-encoding", async () => {
    const [growing, first] = run.publishes;
    expect(growing.step).toBe("growing");
    expect(first.step).toBe("playable");
    for (const step of [growing, first]) {
      expect(dims(step.metadata.renditions)).toEqual(["source 1920x1080"]);
      expect(step.metadata.renditions[0].codecs).toMatch(/^avc1\.42[0-9a-f]{4},mp4a\.40\.2$/);
      expect(step.master).toContain("source/index.m3u8");
      expect(step.master.match(/EXT-X-STREAM-INF/g)).toHaveLength(1);
    }
    // The segments went up as ffmpeg wrote them; the step itself adds the poster and the master.
    expect(first.metadata.files).toEqual(["poster.jpg", "master.m3u8"]);
    const uploaded = run.uploads.map((u) => u.file);
    expect(uploaded.indexOf("source/seg_00001.m4s")).toBeLessThan(uploaded.indexOf("master.m3u8"));
    expect(uploaded).toContain("source/init.mp4");
    expect(await videoPacketBytes(join(run.workDir, "source/index.m3u8"))).toBe(await videoPacketBytes(run.sourcePath));
    await expectSegments(run.workDir, first.metadata.renditions[0], false);
  });

  it("then encodes the full five-rung ladder", () => {
    expect(run.publishes.map((p) => p.step)).toEqual(["growing", "playable", "final"]);
    expect(dims(run.result.renditions)).toEqual([
      "1080p 1920x1080",
      "720p 1280x720",
      "480p 854x480",
      "360p 640x360",
      "240p 426x240",
    ]);
    expect(run.result.renditions.map((r) => r.codecs.split(",")[0].slice(0, 7))).toEqual([
      "avc1.64",
      "avc1.64",
      "avc1.64",
      "avc1.4d",
      "avc1.4d",
    ]);
    expect(run.result.renditions[0].codecs).toBe("avc1.640028,mp4a.40.2");
  });

  it("writes a master playlist with measured bandwidth, resolution, codecs and frame rate", async () => {
    await expectMasterDescribes(run.workDir, run.result.renditions);
    expect(run.result.renditions.every((r) => r.frameRate === 24)).toBe(true);
  });

  it("cuts 4-second segments with keyframes aligned across renditions", async () => {
    await expectAlignedKeyframes(run.workDir, run.result.renditions);
  });

  it("keeps the remuxed rendition on disk but out of the final master", async () => {
    const master = await readFile(join(run.workDir, "master.m3u8"), "utf8");
    expect(master).not.toContain("source/");
    expect((await stat(join(run.workDir, "source/index.m3u8"))).isFile()).toBe(true);
  });

  it("makes a poster the size of the top rung", async () => {
    await expectPoster(run.workDir, 1920, 1080);
  });

  it("returns the metadata it published last", () => {
    expect(run.result).toEqual(run.publishes[2].metadata);
    expect(run.result).toMatchObject({
      width: 1920,
      height: 1080,
      frameRate: 24,
      videoCodec: "h264",
      audioCodec: "aac",
      poster: "poster.jpg",
      master: "master.m3u8",
    });
    expect(run.result.durationSec).toBeCloseTo(7, 0);
    for (const r of run.result.renditions) expect(r.bytes).toBeGreaterThan(0);
  });

  it("lists every produced file once across the publish steps, master last", async () => {
    await expectPublishedFiles(run);
  });

  it("reports the first task's progress from 0 to 1 as ffmpeg advances, not on a clock", () => {
    const values = run.progress.map((p) => p.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(values[0]).toBe(0);
    expect(values.at(-1)).toBe(1);
    // Reports come from ffmpeg's own progress, so they move: a clock repeating the last value
    // (which kept the heartbeat of a stuck job alive) would show as runs of equal values.
    expect(new Set(values).size).toBeGreaterThanOrEqual(3);
    expect(new Set(values).size).toBeGreaterThan(values.length / 2);
  });
});

describe("a 720x1280 portrait source", () => {
  let run: Run;
  beforeAll(async () => {
    run = await transcode("portrait", await clip("portrait.mp4", { width: 720, height: 1280, seconds: 6 }));
  });

  it("gets four portrait rungs sized by the short side", async () => {
    expect(run.publishes[0].metadata.renditions[0].name).toBe("source");
    expect(dims(run.result.renditions)).toEqual(["720p 720x1280", "480p 480x854", "360p 360x640", "240p 240x426"]);
    await expectMasterDescribes(run.workDir, run.result.renditions);
    await expectAlignedKeyframes(run.workDir, run.result.renditions);
    await expectPoster(run.workDir, 720, 1280);
  });
});

describe("an odd-sized 641x361 4:4:4 source", () => {
  let run: Run;
  beforeAll(async () => {
    run = await transcode("odd", await clip("odd.mp4", { width: 641, height: 361, seconds: 6, video: "h264-444" }));
  });

  it("is encoded, not remuxed: 360p first, then 240p", async () => {
    const [, playable, final] = run.publishes;
    expect(dims(playable.metadata.renditions)).toEqual(["360p 640x360"]);
    expect(run.uploads.some((u) => u.file.startsWith("source/"))).toBe(false);
    expect(dims(final.metadata.renditions)).toEqual(["360p 640x360", "240p 426x240"]);
    // The quick rendition was already uploaded; the final step only adds the rest.
    expect(final.metadata.files.some((f) => f.startsWith("360p/"))).toBe(false);
    await expectPublishedFiles(run);
  });

  it("keeps the ladder aligned and describes it in the master", async () => {
    await expectMasterDescribes(run.workDir, run.result.renditions);
    await expectAlignedKeyframes(run.workDir, run.result.renditions);
    await expectPoster(run.workDir, 640, 360);
  });
});

describe("a source whose first rendition takes seconds to encode", () => {
  let run: Run;
  beforeAll(async () => {
    const source = await clip("growing.mp4", { width: 1280, height: 720, fps: 30, seconds: 16, video: "hevc" });
    run = await transcode("growing", source);
  });

  it("is announced playable at its first segments, then published segment by segment", async () => {
    const texts = (file: string, before = run.uploads.length) =>
      run.uploads
        .slice(0, before)
        .filter((u) => u.file === file)
        .map((u) => u.text ?? "");
    const growing = run.publishes[0];
    expect(growing.step).toBe("growing");
    expect(growing.metadata.durationSec).toBeCloseTo(16, 0);
    for (const rendition of ["360p", "audio_0"]) {
      const atAnnouncement = texts(`${rendition}/index.m3u8`, growing.uploadsBefore).at(-1)!;
      const all = texts(`${rendition}/index.m3u8`);
      expect(atAnnouncement).toContain("#EXT-X-PLAYLIST-TYPE:EVENT");
      expect(atAnnouncement).not.toContain("#EXT-X-ENDLIST");
      const first = parseMediaPlaylist(atAnnouncement).segments.length;
      expect(first).toBeGreaterThan(0);
      expect(first).toBeLessThan(parseMediaPlaylist(all.at(-1)!).segments.length);
      expect(all.at(-1)).toContain("#EXT-X-ENDLIST");
      expect(new Set(all).size).toBeGreaterThanOrEqual(2);
    }
    // The growing master describes the rendition its players will see grow.
    expect(growing.master).toContain("360p/index.m3u8");
    expect(growing.master).toContain('URI="audio_0/index.m3u8"');
    await expectPublishedFiles(run);
  });
});

describe("an H.264 source with keyframes 12 s apart", () => {
  it("is encoded first instead of copied into 12-second segments, without a copied segment published", async () => {
    const source = await clip("sparse.mp4", { width: 640, height: 360, seconds: 30, gopSeconds: 12 });
    const run = await transcode("sparse", source);
    expect(dims(run.publishes[0].metadata.renditions)).toEqual(["360p 640x360"]);
    expect(run.uploads.some((u) => u.file.startsWith("source/"))).toBe(false);
    await expectAlignedKeyframes(run.workDir, run.result.renditions);
  });

  it("is copied when its keyframes are 10 s apart, the longest a copied segment may last", async () => {
    const source = await clip("ten.mp4", { width: 640, height: 360, seconds: 24, gopSeconds: 10 });
    const run = await transcode("ten", source);
    expect(dims(run.publishes[0].metadata.renditions)).toEqual(["source 640x360"]);
  });
});

describe("discarding step 1's segments once uploaded", () => {
  it("leaves none on disk and measures and publishes the same as keeping them", async () => {
    const source = await clip("discard.mp4", { width: 640, height: 360, seconds: 9 });
    const [kept, discarded] = [await transcode("kept", source), await transcode("discarded", source, true)];
    const onDisk = await filesOnDisk(discarded.workDir);
    expect(onDisk.filter((f) => /^(source|audio_0)\/seg_/.test(f))).toEqual([]);
    expect(onDisk.filter((f) => /^360p\/seg_/.test(f)).length).toBeGreaterThan(0);
    const uploaded = (r: Run) => [...new Set(r.uploads.map((u) => u.file))].sort();
    expect(uploaded(discarded)).toEqual(uploaded(kept));
    // Step 1 is a copy, the same bytes both times (the ladder's encodes may differ by a few bytes).
    const stepOne = (r: Run) => r.publishes.find((p) => p.step === "playable")!.metadata;
    expect(stepOne(discarded).renditions).toEqual(stepOne(kept).renditions);
    expect(stepOne(discarded).audioTracks).toEqual(stepOne(kept).audioTracks);
    expect(discarded.result.audioTracks).toEqual(kept.result.audioTracks);
  });
});

describe("a source without audio", () => {
  let run: Run;
  beforeAll(async () => {
    run = await transcode("silent", await clip("silent.mp4", { width: 640, height: 360, seconds: 6, audio: false }));
  });

  it("produces renditions and CODECS without audio", async () => {
    expect(run.result.audioCodec).toBeNull();
    const all = [...run.publishes[0].metadata.renditions, ...run.result.renditions];
    expect(all.map((r) => r.name)).toEqual(["source", "360p", "240p"]);
    for (const r of all) {
      expect(r.codecs).not.toContain("mp4a");
      const { streams } = await probeJson(join(run.workDir, r.playlist), ["-show_entries", "stream=codec_type"]);
      expect(streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(["video"]);
    }
    await expectMasterDescribes(run.workDir, run.result.renditions);
    await expectAlignedKeyframes(run.workDir, run.result.renditions);
  });
});

describe("an HEVC source", () => {
  let run: Run;
  beforeAll(async () => {
    run = await transcode("hevc", await clip("hevc.mp4", { width: 640, height: 360, seconds: 6, video: "hevc" }));
  });

  it("is encoded to H.264 first instead of remuxed", async () => {
    expect(run.result.videoCodec).toBe("hevc");
    expect(dims(run.publishes[0].metadata.renditions)).toEqual(["360p 640x360"]);
    expect(dims(run.result.renditions)).toEqual(["360p 640x360", "240p 426x240"]);
    for (const r of run.result.renditions) expect(r.codecs).toMatch(/^avc1\.4d40[0-9a-f]{2},mp4a\.40\.2$/);
    await expectAlignedKeyframes(run.workDir, run.result.renditions);
  });
});

describe("a one-second clip", () => {
  let run: Run;
  beforeAll(async () => {
    run = await transcode("short", await clip("short.mp4", { width: 320, height: 240, seconds: 1 }));
  });

  it("still yields one short segment per rendition and a poster", async () => {
    expect(run.result.durationSec).toBeCloseTo(1, 0);
    const source = run.publishes[0].metadata.renditions[0];
    expect(source.name).toBe("source");
    expect(await expectSegments(run.workDir, source, false)).toHaveLength(1);
    expect(dims(run.result.renditions)).toEqual(["240p 320x240"]);
    expect(await expectSegments(run.workDir, run.result.renditions[0], true)).toHaveLength(1);
    await expectMasterDescribes(run.workDir, run.result.renditions);
    await expectPoster(run.workDir, 320, 240);
  });
});

describe("a phone video with 90° rotation metadata", () => {
  it("is probed upright and encoded upright rather than copied", async () => {
    const path = await clip("rotated.mp4", { width: 640, height: 360, seconds: 3, rotate: 90 });
    const run = await transcode("rotated", path);
    expect(dims(run.publishes[0].metadata.renditions)).toEqual(["360p 360x640"]);
    expect(dims(run.result.renditions)).toEqual(["360p 360x640", "240p 240x426"]);
    const { streams } = await probeJson(join(run.workDir, "240p/index.m3u8"), [
      "-select_streams",
      "v",
      "-show_entries",
      "stream=width,height",
    ]);
    expect(streams[0]).toMatchObject({ width: 240, height: 426 });
    await expectPoster(run.workDir, 360, 640);
  });
});

describe("aborting", () => {
  it("kills a span's running ffmpeg and rejects at once", async () => {
    const source = { path: await clip("abort.mp4", { width: 1920, height: 1080, fps: 24, seconds: 7 }) };
    const workDir = join(root, "abort-out");
    const playable = await runPipeline({ source, workDir });
    const controller = new AbortController();
    let abortedAt = 0;
    // Let the spans' ffmpeg start, then pull the plug.
    setTimeout(() => {
      abortedAt = Date.now();
      controller.abort();
    }, 300);
    const running = encodeLadderInSpans({ source, workDir, playable, spanSeconds: 4, signal: controller.signal });
    const error = await running.catch((e: unknown) => e);
    expect((error as Error).name).toBe("AbortError");
    expect(Date.now() - abortedAt).toBeLessThan(1500);
    expect(processesNaming(workDir)).toEqual([]);
  });
});

describe("a time budget", () => {
  it("stops ffmpeg once the budget for the source's duration is spent, and fails for good", async () => {
    const source = await clip("budget.mp4", { width: 1280, height: 720, fps: 30, seconds: 6, video: "hevc" });
    const workDir = join(root, "budget-out");
    const started = Date.now();
    const error = await runPipeline({
      source: { path: source },
      workDir,
      budget: { perSourceSecond: 0.1, extraSec: 0 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TranscodeError);
    expect((error as TranscodeError).message).toBe(
      "Processing took longer than the 1 s allowed for a 6 s video and was stopped.",
    );
    expect((error as TranscodeError).retryable).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(processesNaming(workDir)).toEqual([]);
  });
});
