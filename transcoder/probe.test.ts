import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TranscodeError } from "./errors.ts";
import { runPipeline } from "./pipeline.ts";
import { canRemux } from "./plan.ts";
import { probeSource } from "./probe.ts";
import { makeAudioOnly, makeClip } from "./testing/media.ts";

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
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ["random bytes", async () => write("random.mp4", randomBytes(256 * 1024)), /not a video ffmpeg can read/],
    ["random bytes named .bin", async () => write("random.bin", randomBytes(256 * 1024)), /not a video/],
    ["a text file", async () => write("notes.txt", "These are my holiday notes, not a video.\n"), /not a video/],
    ["a truncated MP4", truncatedMp4, /not a video ffmpeg can read: moov atom not found/],
    ["an audio-only file", () => makeAudioOnly(join(root, "audio.m4a"), 3), /^The file has no video stream \(audio only\)\.$/],
  ];

  async function write(name: string, data: string | Buffer): Promise<string> {
    await writeFile(join(root, name), data);
    return join(root, name);
  }

  async function truncatedMp4(): Promise<string> {
    const whole = await makeClip(join(root, "whole.mp4"), { width: 320, height: 240, seconds: 2 });
    const bytes = await readFile(whole);
    return write("truncated.mp4", bytes.subarray(0, bytes.length >> 1));
  }

  it.each(cases)("rejects %s with a clear reason, not retryable", async (name, make, reason) => {
    const source = await make();
    const workDir = join(root, `bad-${name.replace(/\W+/g, "-")}`);
    const error = await runPipeline({ sourcePath: source, workDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TranscodeError);
    expect((error as TranscodeError).message).toMatch(reason);
    expect((error as TranscodeError).message).not.toContain(root);
    expect((error as TranscodeError).retryable).toBe(false);
  });
});

