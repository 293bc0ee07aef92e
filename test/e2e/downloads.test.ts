// Downloads on the real stack from `npm start`, with real ffmpeg: a video
// with audio whose ladder is encoded in spans, downloads allowed by its
// owner, made by a package task from the stitched ladder, and fetched whole
// and by range as a viewer would.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ffmpegPaths } from "../../transcoder/ffmpeg-path.ts";
import { acceptedJobs, isFinal, makeVideo, run, uploadFile, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";

let stack: Stack;
let dir: string;
const { ffprobe } = ffmpegPaths();

beforeAll(async () => {
  // Spans of 4 s, so a 12 s clip's ladder is three spans stitched.
  stack = await startStack({ env: { SPAN_SECONDS: "4" } });
  dir = await mkdtemp(join(tmpdir(), "reelay-e2e-downloads-"));
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const probe = async (path: string, entries: string) =>
  JSON.parse((await run(ffprobe, ["-v", "error", "-of", "json", "-show_entries", entries, path])).stdout);

describe("downloads", () => {
  it("makes an MP4 of the ladder once the owner allows it, with the video's duration, named after the title", async () => {
    const path = await makeVideo(join(dir, "clip.mp4"), { size: "640x360", seconds: 12 });
    const up = await uploadFile(stack.url, path, "Été à Paris");
    const owner = { authorization: `Bearer ${up.uploadToken}` };
    const ready = await waitForVideo(stack.url, up.videoId, isFinal, 240_000);
    expect(acceptedJobs(stack, up.videoId).filter((t) => t.span !== undefined).length).toBeGreaterThan(1);
    const url = `${stack.url}/videos/${up.videoId}/download.mp4`;
    expect((await fetch(url)).status).toBe(403);

    const allowed = await fetch(`${stack.url}/api/videos/${up.videoId}`, {
      method: "PATCH",
      headers: { ...owner, "content-type": "application/json" },
      body: JSON.stringify({ downloadable: true }),
    });
    expect(allowed.status).toBe(200);
    const made = await waitForVideo(stack.url, up.videoId, (v) => v.playback.download !== null, 120_000);
    expect(made.playback.download).toBe(`/videos/${up.videoId}/download.mp4`);
    expect(made.playback.audioDownload).toBe(`/videos/${up.videoId}/audio.m4a`);

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="_t_ _ Paris.mp4"; filename*=UTF-8''%C3%89t%C3%A9%20%C3%A0%20Paris.mp4`,
    );
    const file = join(dir, "download.mp4");
    await writeFile(file, new Uint8Array(await res.arrayBuffer()));
    const { format } = await probe(file, "format=duration");
    expect(ready.durationSec).not.toBeNull();
    expect(Math.abs(Number(format.duration) - ready.durationSec!)).toBeLessThanOrEqual(0.1);
    const { streams } = await probe(file, "stream=codec_type,width,height");
    expect(streams).toEqual([
      expect.objectContaining({ codec_type: "video", width: 640, height: 360 }),
      expect.objectContaining({ codec_type: "audio" }),
    ]);

    const part = await fetch(url, { headers: { range: "bytes=0-99" } });
    expect(part.status).toBe(206);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    expect(part.headers.get("content-range")).toMatch(/^bytes 0-99\/\d+$/);

    const audio = await fetch(`${stack.url}${made.playback.audioDownload}`);
    expect(audio.status).toBe(200);
    const m4a = join(dir, "audio.m4a");
    await writeFile(m4a, new Uint8Array(await audio.arrayBuffer()));
    expect((await probe(m4a, "stream=codec_type")).streams).toEqual([{ codec_type: "audio" }]);
  });
});
