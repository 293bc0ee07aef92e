// Thumbnails, the storyboard and the poster by time, on a video whose first
// task wrote the whole ladder and its frames (a small source), driven through
// the real internal routes as the transcoder drives them. Every stored frame
// has bytes of its own, so an answer says which frame and width it is.
import { describe, expect, it } from "vitest";
import { expectError } from "../../test/expect-error.ts";
import type { Frames } from "../contracts/job.ts";
import { frameFile, spriteFile, STORYBOARD_FILE, storyboardVtt } from "../contracts/storyboard.ts";
import { api, auth, bytes, json } from "../testing/helpers.ts";
import { event, metadata, processingVideo, publishPlayable, put } from "../testing/processing.ts";

/** Seven frames, 0..12 s, at three widths: a 13 s video 640 pixels wide. */
const FRAMES: Frames = {
  intervalSec: 2,
  count: 7,
  widths: [160, 320, 640],
  sprite: { tileWidth: 160, tileHeight: 90, columns: 5, rows: 6 },
  bytes: 0,
};
const DURATION = 13;
const frameBytes = (width: number, index: number) => bytes(200 + index, width * 100 + index);

/** A ready video with FRAMES and their storyboard; its first task reported them, or (`frames: false`) none. */
async function videoWithFrames(options: { frames?: boolean; complete?: boolean } = {}) {
  const { up, job } = await processingVideo({ title: "Frames" });
  await publishPlayable(job, { ...metadata, durationSec: DURATION });
  if (options.frames !== false) {
    for (const width of FRAMES.widths)
      for (let i = 0; i < FRAMES.count; i++)
        expect((await put(job, frameFile(width, i), frameBytes(width, i))).status).toBe(204);
    expect((await put(job, spriteFile(0), bytes(500, 9))).status).toBe(204);
    const vtt = storyboardVtt(FRAMES, [{ first: 0, count: 7 }], DURATION);
    expect((await put(job, STORYBOARD_FILE, vtt)).status).toBe(204);
  }
  if (options.complete !== false) {
    const reported = { ...metadata, durationSec: DURATION, ...(options.frames === false ? {} : { frames: FRAMES }) };
    expect((await event(job, { type: "completed", metadata: reported })).status).toBe(200);
  }
  return { up, job };
}

const thumbnail = (id: string, query: string) => api(`/videos/${id}/thumbnail.jpg${query}`);
const bodyOf = async (res: Response) => {
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
};

describe("GET /videos/:id/thumbnail.jpg", () => {
  it("answers the stored frame nearest the time, clamped to the video", async () => {
    const { up } = await videoWithFrames();
    const id = up.videoId;
    expect(await bodyOf(await thumbnail(id, "?time=4.9&width=640"))).toEqual(frameBytes(640, 2));
    expect(await bodyOf(await thumbnail(id, "?time=5.1&width=640"))).toEqual(frameBytes(640, 3));
    expect(await bodyOf(await thumbnail(id, "?time=0"))).toEqual(frameBytes(640, 0));
    // Past the last frame (12 s) and past the end: the last.
    expect(await bodyOf(await thumbnail(id, "?time=12.9"))).toEqual(frameBytes(640, 6));
    expect(await bodyOf(await thumbnail(id, "?time=5000"))).toEqual(frameBytes(640, 6));
  });

  it("answers the largest stored width not wider than asked, never upscaled", async () => {
    const { up } = await videoWithFrames();
    const id = up.videoId;
    const at = (width: string) => thumbnail(id, `?time=2${width ? `&width=${width}` : ""}`);
    expect(await bodyOf(await at(""))).toEqual(frameBytes(640, 1));
    expect(await bodyOf(await at("1920"))).toEqual(frameBytes(640, 1));
    expect(await bodyOf(await at("639"))).toEqual(frameBytes(320, 1));
    expect(await bodyOf(await at("320"))).toEqual(frameBytes(320, 1));
    expect(await bodyOf(await at("100"))).toEqual(frameBytes(160, 1));
  });

  it("is served like other media: JPEG, ETag, Range, cached 5 minutes as its URL names no job", async () => {
    const { up } = await videoWithFrames();
    const res = await thumbnail(up.videoId, "?time=2&width=160");
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const etag = res.headers.get("etag")!;
    await res.arrayBuffer();
    const again = await api(`/videos/${up.videoId}/thumbnail.jpg?time=2&width=160`, {
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    const part = await api(`/videos/${up.videoId}/thumbnail.jpg?time=2&width=160`, { headers: { range: "bytes=0-9" } });
    expect(part.status).toBe(206);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(frameBytes(160, 1).subarray(0, 10));
  });

  it("refuses a time or width that is not a plain non-negative number with 400", async () => {
    const { up } = await videoWithFrames();
    for (const query of ["?time=-1", "?time=abc", "?time=1e3", "?time=", "?width=0", "?width=12.5", "?width=-5"]) {
      await expectError(thumbnail(up.videoId, query), 400, "invalid_request");
    }
  });

  it("says not_ready until the frames are written, and not_found for a video processed without them", async () => {
    const playing = await videoWithFrames({ complete: false });
    await expectError(thumbnail(playing.up.videoId, "?time=1"), 409, "not_ready");
    await expectError(api(`/videos/${playing.up.videoId}/storyboard.vtt`), 409, "not_ready");
    expect((await json(await api(`/api/videos/${playing.up.videoId}`))).playback).toMatchObject({
      thumbnail: null,
      storyboard: null,
    });
    const older = await videoWithFrames({ frames: false });
    await expectError(thumbnail(older.up.videoId, "?time=1"), 404, "not_found");
    await expectError(thumbnail("0000000000000000000z", "?time=1"), 404, "not_found");
  });
});

describe("GET /videos/:id/storyboard.vtt", () => {
  it("is the WebVTT storyboard, its sprite URLs naming the job, and the sprites are served as immutable media", async () => {
    const { up, job } = await videoWithFrames();
    const res = await api(`/videos/${up.videoId}/storyboard.vtt`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/vtt; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const vtt = await res.text();
    expect(vtt.startsWith("WEBVTT\n")).toBe(true);
    const cues = vtt.trim().split("\n\n").slice(1);
    expect(cues).toHaveLength(7);
    expect(cues[0]).toBe(
      `00:00:00.000 --> 00:00:01.000\n/videos/${up.videoId}/${job.jobId}/frames/sprite_00000.jpg#xywh=0,0,160,90`,
    );
    // Five tiles a row: the sixth frame (10 s) starts the second.
    expect(cues[5]).toBe(
      `00:00:09.000 --> 00:00:11.000\n/videos/${up.videoId}/${job.jobId}/frames/sprite_00000.jpg#xywh=0,90,160,90`,
    );
    expect(cues[6]).toMatch(/^00:00:11\.000 --> 00:00:13\.000\n/);
    const sprite = await api(`/videos/${up.videoId}/${job.jobId}/frames/sprite_00000.jpg`);
    expect(sprite.status).toBe(200);
    expect(sprite.headers.get("content-type")).toBe("image/jpeg");
    expect(sprite.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const etag = res.headers.get("etag")!;
    const again = await api(`/videos/${up.videoId}/storyboard.vtt`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });
});

describe("the poster by time", () => {
  const patch = (up: { videoId: string; uploadToken: string }, body: unknown) =>
    api(`/api/videos/${up.videoId}`, {
      method: "PATCH",
      headers: { ...auth(up), "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("makes the poster the frame nearest posterTime at the largest width, and back with null", async () => {
    const { up, job } = await videoWithFrames();
    const edited = await patch(up, { posterTime: 7.2 });
    expect(edited.status).toBe(200);
    const video = await json(edited);
    expect(video.posterTime).toBe(7.2);
    expect(video.playback.poster).toBe(`/videos/${up.videoId}/${job.jobId}/frames/640_00004.jpg`);
    expect(video.playback.thumbnail).toBe(`/videos/${up.videoId}/thumbnail.jpg`);
    expect(video.playback.storyboard).toBe(`/videos/${up.videoId}/storyboard.vtt`);
    expect(await bodyOf(await api(video.playback.poster))).toEqual(frameBytes(640, 4));
    expect(await bodyOf(await api(`/videos/${up.videoId}/poster.jpg`))).toEqual(frameBytes(640, 4));
    // A thumbnail without a time is the poster's frame.
    expect(await bodyOf(await thumbnail(up.videoId, "?width=320"))).toEqual(frameBytes(320, 4));

    const reset = await json(await patch(up, { posterTime: null }));
    expect(reset.playback.poster).toBe(`/videos/${up.videoId}/${job.jobId}/poster.jpg`);
    // publishPlayable's poster: 300 bytes of seed 3.
    expect(await bodyOf(await api(`/videos/${up.videoId}/poster.jpg`))).toEqual(bytes(300, 3));
  });

  it("refuses a posterTime past the video's duration with 400, and keeps the poster", async () => {
    const { up } = await videoWithFrames();
    await expectError(patch(up, { posterTime: DURATION + 0.5 }), 400, "invalid_request");
    expect((await json(await api(`/api/videos/${up.videoId}`))).posterTime).toBeNull();
    expect((await patch(up, { posterTime: DURATION })).status).toBe(200);
  });

  it("keeps the first task's poster while the frames are not written", async () => {
    const { up, job } = await videoWithFrames({ complete: false });
    const video = await json(await patch(up, { posterTime: 3 }));
    expect(video.playback.poster).toBe(`/videos/${up.videoId}/${job.jobId}/poster.jpg`);
    expect(await bodyOf(await api(`/videos/${up.videoId}/poster.jpg`))).toEqual(bytes(300, 3));
  });
});
