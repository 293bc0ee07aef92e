import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TranscodeError } from "./errors.ts";
import { runPipeline } from "./pipeline.ts";
import { canRemux } from "./plan.ts";
import { probeSource } from "./probe.ts";
import { ffmpeg, makeAudioOnly, makeClip } from "./testing/media.ts";

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
      audioCodec: "aac",
      audioChannels: 2,
      maxKeyframeIntervalSec: 2,
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
  const cases: Array<[string, () => Promise<string>, string]> = [
    ["a text file", () => write("notes.txt", "These are my holiday notes, not a video.\n"), "The file is not a video ffmpeg can read: Invalid data found when processing input"],
    ["an MP4 cut off before its index", truncatedMp4, "The file is not a video ffmpeg can read: moov atom not found"],
    ["an audio-only file", () => makeAudioOnly(join(root, "audio.m4a"), 1), "The file has no video stream (audio only)."],
    ["a song whose only picture is its cover art", songWithCoverArt, "The file has no video stream (audio only)."],
    ["a subtitle file", () => write("captions.srt", "1\n00:00:00,000 --> 00:00:01,000\nHello\n\n"), "The file has no video stream."],
    ["text that ffmpeg renders as ANSI art (.nfo)", () => write("readme.nfo", "These are my holiday notes, not a video.\n"), "The file is not a video: ffmpeg can only read it as text or random data."],
    ["a PNG picture", stillImage, "The file is a still image, not a video."],
    ["a transport stream that declares H.264 but carries no picture", streamWithoutPictures, "The file is not a video ffmpeg can read: its video stream has no picture size."],
    ["a raw H.264 stream, which records no duration", rawH264, "The file's duration is unknown; it may be truncated or a still image."],
    ["a motion-JPEG MP4 whose picture data is blank", blankPictures, "The first video frame cannot be decoded: No JPEG data found in image"],
  ];

  const tiny = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10"];

  async function write(name: string, data: string | Buffer): Promise<string> {
    await writeFile(join(root, name), data);
    return join(root, name);
  }

  async function truncatedMp4(): Promise<string> {
    // ffmpeg writes the index (moov) after the media, so the first half has none.
    const whole = await makeClip(join(root, "whole.mp4"), { width: 64, height: 48, seconds: 1 });
    const bytes = await readFile(whole);
    return write("truncated.mp4", bytes.subarray(0, bytes.length >> 1));
  }

  async function songWithCoverArt(): Promise<string> {
    const path = join(root, "song.m4a");
    const inputs = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1", ...tiny, "-map", "0", "-map", "1", "-frames:v", "1", "-t", "1"];
    await ffmpeg([...inputs, "-c:a", "aac", "-c:v", "mjpeg", "-disposition:v", "attached_pic", path]);
    return path;
  }

  async function stillImage(): Promise<string> {
    const path = join(root, "still.png");
    await ffmpeg([...tiny, "-frames:v", "1", path]);
    return path;
  }

  async function streamWithoutPictures(): Promise<string> {
    // Keep only the tables (PAT on PID 0, PMT on 0x1000): the stream is declared, none of its packets arrive.
    const whole = join(root, "whole.ts");
    await ffmpeg([...tiny, "-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast", "-mpegts_pmt_start_pid", "0x1000", "-f", "mpegts", whole]);
    const bytes = await readFile(whole);
    const tables: Buffer[] = [];
    for (let at = 0; at + 188 <= bytes.length; at += 188) {
      const pid = ((bytes[at + 1] & 0x1f) << 8) | bytes[at + 2];
      if (pid === 0 || pid === 0x1000) tables.push(bytes.subarray(at, at + 188));
    }
    return write("tables-only.ts", Buffer.concat(tables));
  }

  async function rawH264(): Promise<string> {
    const path = join(root, "raw.h264");
    await ffmpeg([...tiny, "-frames:v", "5", "-c:v", "libx264", "-preset", "ultrafast", "-f", "h264", path]);
    return path;
  }

  async function blankPictures(): Promise<string> {
    // Headers intact, media data zeroed: ffprobe is satisfied, decoding is not.
    const whole = join(root, "mjpeg.mp4");
    await ffmpeg([...tiny, "-t", "1", "-c:v", "mjpeg", whole]);
    const bytes = await readFile(whole);
    for (let at = 0; at + 8 <= bytes.length; ) {
      const size = bytes.readUInt32BE(at);
      if (size < 8) throw new Error(`unexpected MP4 box size ${size}`);
      if (bytes.toString("latin1", at + 4, at + 8) === "mdat") bytes.fill(0, at + 8, at + size);
      at += size;
    }
    return write("blank.mp4", bytes);
  }

  // Made together: ffmpeg spends most of each run starting up, not working.
  const sources = new Map<string, string>();
  beforeAll(async () => {
    await Promise.all(cases.map(async ([name, make]) => sources.set(name, await make())));
  });

  it.each(cases)("rejects %s with the reason the uploader reads, not retryable", async (name, _make, reason) => {
    const source = sources.get(name)!;
    const workDir = join(root, `bad-${name.replace(/\W+/g, "-")}`);
    const error = await runPipeline({ sourcePath: source, workDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TranscodeError);
    expect((error as TranscodeError).message).toBe(reason);
    expect((error as TranscodeError).retryable).toBe(false);
  });
});
