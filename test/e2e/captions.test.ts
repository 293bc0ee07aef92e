// Captions on the real stack (`npm start`, real ffmpeg): a generated video
// and an SRT uploaded as an owner would; ffprobe reads the track through
// the master playlist and the subtitle playlist, with its cues at the times
// the SRT gave; and a word said only in the captions finds the video, with
// the moment it is said.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ffmpegPaths } from "../../transcoder/ffmpeg-path.ts";
import { VideoPageSchema } from "../../worker/contracts/video.ts";
import { makeVideo, run, uploadFile, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";

let stack: Stack;
let dir: string;
const { ffmpeg, ffprobe } = ffmpegPaths();

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), "reelay-e2e-captions-"));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A word no title, tag or description holds: only the captions say it. */
const word = `flamingo${Math.random()
  .toString(36)
  .replace(/[^a-z]/g, "")
  .slice(0, 6)}`;

const SRT = [
  "1",
  "00:00:01,000 --> 00:00:03,000",
  "Welcome to the lagoon.",
  "",
  "2",
  "00:00:06,500 --> 00:00:08,000",
  `Look: a <i>${word}</i> lands!`,
  "",
].join("\r\n");

describe("captions on the real stack", () => {
  it("plays an SRT as a subtitle rendition ffprobe reads, and finds the video by what it says", async () => {
    const path = await makeVideo(join(dir, "lagoon.mp4"), { size: "320x240", seconds: 10 });
    const up = await uploadFile(stack.url, path, "Lagoon at dusk");
    await waitForVideo(stack.url, up.videoId, (v) => v.status === "ready", 180_000);

    const put = await fetch(`${stack.url}/api/videos/${up.videoId}/captions/en`, {
      method: "PUT",
      headers: { authorization: `Bearer ${up.uploadToken}`, "content-type": "application/x-subrip" },
      body: SRT,
    });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ lang: "en", label: "English", cues: 2 });

    // Through the master, as a player finds it: a WebVTT subtitle stream beside the video, in English.
    // ffmpeg 5's HLS demuxer reads subtitle renditions only when told experimental features are welcome.
    const master = `${stack.url}/videos/${up.videoId}/master.m3u8`;
    const probe = ["-v", "error", "-strict", "experimental", "-show_streams", "-of", "json", master];
    const probed = JSON.parse((await run(ffprobe, probe, { maxBuffer: 1 << 24 })).stdout) as {
      streams: { codec_type: string; codec_name: string; tags?: { language?: string } }[];
    };
    const subtitles = probed.streams.filter((s) => s.codec_type === "subtitle");
    expect(subtitles.map((s) => [s.codec_name, s.tags?.language])).toEqual([["webvtt", "en"]]);
    expect(probed.streams.some((s) => s.codec_type === "video")).toBe(true);

    // The subtitle playlist alone: its cues come out at the SRT's times.
    const playlist = `${stack.url}/videos/${up.videoId}/captions/en.m3u8`;
    const { stdout } = await run(ffmpeg, ["-v", "error", "-i", playlist, "-map", "0:s:0", "-f", "webvtt", "-"], {
      maxBuffer: 1 << 24,
    });
    const cues = [...stdout.matchAll(/(\d\d:\d\d(?::\d\d)?\.\d{3}) --> (\d\d:\d\d(?::\d\d)?\.\d{3})\n(.*)/g)].map(
      (m) => [seconds(m[1]!), seconds(m[2]!), m[3]],
    );
    expect(cues).toEqual([
      [1, 3, "Welcome to the lagoon."],
      [6.5, 8, `Look: a <i>${word}</i> lands!`],
    ]);

    const res = await fetch(`${stack.url}/api/videos?q=${word}`);
    expect(res.status).toBe(200);
    const page = VideoPageSchema.parse(await res.json());
    expect(page.items.map((i) => [i.id, i.moments])).toEqual([
      [up.videoId, [{ t: 6.5, text: `Look: a <mark>${word}</mark> lands!` }]],
    ]);
  });
});

/** `hh:mm:ss.mmm` or `mm:ss.mmm` in seconds. */
function seconds(stamp: string): number {
  return stamp
    .split(":")
    .map(Number)
    .reduce((total, part) => total * 60 + part, 0);
}
