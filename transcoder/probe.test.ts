import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TranscodeError } from "./errors.ts";
import { NOT_ACCEPTED_REASON } from "./input-formats.ts";
import { runPipeline } from "./pipeline.ts";
import { canRemux } from "./plan.ts";
import { probeSource } from "./probe.ts";
import { ffmpeg, makeClip } from "./testing/media.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "reelay-probe-test-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("probing a good source", () => {
  it("reads duration, frame rate, codecs, pixel format, profile and audio", async () => {
    const path = await makeClip(join(root, "plain.mp4"), { width: 640, height: 360, seconds: 2, fps: 25 });
    expect(await probeSource(path)).toMatchObject({
      width: 640,
      height: 360,
      rotation: 0,
      frameRate: 25,
      videoCodec: "h264",
      pixelFormat: "yuv420p",
      interlaced: null,
      hdr: null,
      audio: [{ index: 0, codec: "aac", profile: "LC", channels: 2, sampleRate: 48000, isDefault: true }],
      audioCodec: "aac",
    });
  });

  it("swaps width and height for 90° rotation metadata, and does not copy such a source", async () => {
    const path = await makeClip(join(root, "rotated.mp4"), { width: 640, height: 360, seconds: 1, rotate: 90 });
    const info = await probeSource(path);
    expect(info).toMatchObject({ width: 360, height: 640 });
    expect([90, 270]).toContain(info.rotation);
    expect(canRemux(info)).toBe(false);
  });
});

describe("unusable inputs", () => {
  // One fixture for each way probe.ts refuses a file, made the same way on every run (fixed bytes or
  // ffmpeg's lavfi sources), so each case reaches its branch and the uploader's sentence can be asserted whole.
  // Formats outside the accepted containers (text, subtitles, pictures, raw streams) are refused at open.
  const cases: Array<[string, string, string]> = [
    ["a text file", "notes.txt", "The file is not a video ffmpeg can read: Invalid data found when processing input."],
    [
      "an MP4 cut off before its index",
      "truncated.mp4",
      "The file looks incomplete: it ends before its index, as when a recording or an upload is cut off. Upload the complete file.",
    ],
    ["an audio-only file", "audio.m4a", "The file has no video stream (audio only)."],
    ["a song whose only picture is its cover art", "song.m4a", "The file has no video stream (audio only)."],
    ["a subtitle file", "captions.srt", NOT_ACCEPTED_REASON],
    ["a Matroska file holding only subtitles", "captions.mkv", "The file has no video stream."],
    ["text that ffmpeg renders as ANSI art (.nfo)", "readme.nfo", NOT_ACCEPTED_REASON],
    ["a PNG picture", "still.png", NOT_ACCEPTED_REASON],
    ["a raw H.264 stream", "raw.h264", NOT_ACCEPTED_REASON],
    [
      "a transport stream that declares H.264 but carries no picture",
      "tables-only.ts",
      "The file is not a video ffmpeg can read: its video stream has no picture size.",
    ],
    [
      "a Matroska file written as a stream, which records no duration",
      "streamed.mkv",
      "The file's duration is unknown; it may be truncated or a still image.",
    ],
    [
      "a motion-JPEG MP4 whose picture data is blank",
      "blank.mp4",
      "The first video frame cannot be decoded: No JPEG data found in image",
    ],
  ];

  const at = (name: string) => join(root, name);

  beforeAll(async () => {
    const notes = "These are my holiday notes, not a video.\n";
    await writeFile(at("notes.txt"), notes);
    await writeFile(at("readme.nfo"), notes);
    await writeFile(at("captions.srt"), "1\n00:00:00,000 --> 00:00:01,000\nHello\n\n");
    await ffmpeg(["-i", at("captions.srt"), "-c:s", "srt", at("captions.mkv")]);
    // One ffmpeg run makes the rest: starting ffmpeg costs more than encoding these tiny files.
    const sine = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"];
    // Both inputs end: with an endless one, ffmpeg 5.1 keeps reading after every output is done.
    const picture = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"];
    const h264 = ["-c:v", "libx264", "-preset", "ultrafast"];
    await ffmpeg([
      ...sine,
      ...picture,
      ...["-map", "0", "-c:a", "aac", at("audio.m4a")],
      ...[
        "-map",
        "0",
        "-map",
        "1",
        "-frames:v",
        "1",
        "-c:a",
        "aac",
        "-c:v",
        "mjpeg",
        "-disposition:v",
        "attached_pic",
        at("song.m4a"),
      ],
      ...["-map", "1", "-frames:v", "1", at("still.png")],
      ...["-map", "1", "-frames:v", "1", ...h264, "-mpegts_pmt_start_pid", "0x1000", "-f", "mpegts", at("whole.ts")],
      ...["-map", "1", "-frames:v", "5", ...h264, "-f", "h264", at("raw.h264")],
      // As a live stream, the muxer never goes back to write the duration into the header.
      ...["-map", "1", "-frames:v", "5", ...h264, "-f", "matroska", "-live", "1", at("streamed.mkv")],
      ...["-map", "1", "-frames:v", "10", "-c:v", "mjpeg", at("mjpeg.mp4")],
    ]);

    // ffmpeg writes an MP4's index (moov) after the media, so the first half has none.
    const mp4 = await readFile(at("mjpeg.mp4"));
    await writeFile(at("truncated.mp4"), mp4.subarray(0, mp4.length >> 1));

    // Headers intact, media data zeroed: ffprobe is satisfied, decoding is not.
    const blank = Buffer.from(mp4);
    for (let offset = 0; offset + 8 <= blank.length; ) {
      const size = blank.readUInt32BE(offset);
      if (size < 8) throw new Error(`unexpected MP4 box size ${size}`);
      if (blank.toString("latin1", offset + 4, offset + 8) === "mdat") blank.fill(0, offset + 8, offset + size);
      offset += size;
    }
    await writeFile(at("blank.mp4"), blank);

    // Keep only the tables (PAT on PID 0, PMT on 0x1000): the stream is declared, none of its packets arrive.
    const ts = await readFile(at("whole.ts"));
    const tables: Buffer[] = [];
    for (let offset = 0; offset + 188 <= ts.length; offset += 188) {
      const pid = ((ts[offset + 1] & 0x1f) << 8) | ts[offset + 2];
      if (pid === 0 || pid === 0x1000) tables.push(ts.subarray(offset, offset + 188));
    }
    await writeFile(at("tables-only.ts"), Buffer.concat(tables));
  });

  // Concurrent: each case mostly waits for ffprobe and ffmpeg to start.
  it.concurrent.for(cases)(
    "rejects %s with the reason the uploader reads, not retryable",
    async ([name, file, reason], { expect }) => {
      const workDir = join(root, `bad-${name.replace(/\W+/g, "-")}`);
      const error = await runPipeline({ source: { path: at(file) }, workDir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TranscodeError);
      expect((error as TranscodeError).message).toBe(reason);
      expect((error as TranscodeError).retryable).toBe(false);
    },
  );
});

describe("sources that would hold a transcoder for hours", () => {
  const limits = { maxDurationSec: 12 * 3600, maxPixels: 7680 * 4320, maxFrameRate: 240, minBytesPerSec: 512 };
  const refusal = (path: string, over: Partial<typeof limits> = {}) =>
    probeSource(path, undefined, { ...limits, ...over }).then(
      () => null,
      (e: unknown) => e as TranscodeError,
    );

  it("refuses a 7 KB file declaring ten hours of 1080p60, before decoding it", async () => {
    // Two black frames, the second stamped at 10 h: the ladder would render 2 million frames from them.
    const path = join(root, "ten-hours.mkv");
    await ffmpeg([
      ...["-f", "lavfi", "-i", "color=black:size=1920x1080:rate=60", "-frames:v", "2"],
      ...["-vf", "setpts=N*36000/TB", "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast"],
      path,
    ]);
    const error = await refusal(path);
    expect(error).toBeInstanceOf(TranscodeError);
    expect(error?.message).toMatch(/^The file is too small for the duration it declares: [\d,]+ bytes for 36000 s\.$/);
    expect(error?.retryable).toBe(false);
  });

  it("refuses a source longer, larger or faster than the limits allow, and takes it within them", async () => {
    const path = await makeClip(join(root, "limits.mp4"), { width: 320, height: 240, seconds: 2, fps: 60 });
    expect((await refusal(path, { maxDurationSec: 1 }))?.message).toBe("The video is too long: 2 s, at most 1 s.");
    expect((await refusal(path, { maxPixels: 320 * 240 - 1 }))?.message).toBe(
      "The picture is too large: 320×240, at most 76,799 pixels.",
    );
    expect((await refusal(path, { maxFrameRate: 30 }))?.message).toBe(
      "The frame rate is too high: 60 fps, at most 30 fps.",
    );
    expect(await refusal(path, { maxPixels: 320 * 240, maxFrameRate: 60, maxDurationSec: 3 })).toBeNull();
  });
});
