// Imports from a URL, as a client sees them: `POST /api/imports` answers at
// once, then `GET /api/videos/:id` says `importing` (with progress) until the
// file is in R2 and processing, or `failed` with the reason. The files are
// served by the transcoder stand-in (test/transcoder-stand-in.ts), scripted
// per test: redirects, errors, no size, a dropped connection, a pause. The
// worker tests run with ALLOW_HTTP_IMPORTS on and MAX_IMPORT_BYTES at 64 MiB
// (test/vitest.config.ts); the import queue is the real one.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { app } from "../app.ts";
import type { Video } from "../contracts/video.ts";
import { SOURCE_REASONS } from "../contracts/vocabulary.ts";
import { api, auth, BASE, bytes, json, MiB, sha256, testClientIp } from "../testing/helpers.ts";
import { until } from "../testing/processing.ts";
import { videoStub } from "../testing/video-object.ts";
import { newVideoId } from "../storage/keys.ts";
import { consumeImports } from "./import-fetch.ts";

/** The stand-in's origin script (test/transcoder-stand-in.ts `OriginScript`). */
type OriginScript = {
  type?: string;
  ranges?: boolean;
  chunked?: boolean;
  status?: number;
  location?: string;
  failFirst?: number;
  cutAfter?: number;
  holdAfter?: number;
  claimLength?: number;
  disposition?: string;
  gzip?: "if-accepted" | "always";
};

const STAND_IN = inject("transcoderUrl");
/** The server default (wrangler.toml DEFAULT_CHUNK_SIZE), which an import's chunks take. */
const CHUNK = 16 * MiB;

type Origin = { name: string; url: string };

/** A file on the stand-in, served at a URL ending in `filename` as `script` says; `name` picks the URL ahead. */
async function origin(
  file: Uint8Array,
  script: OriginScript = {},
  filename = "clip.mp4",
  name: string = crypto.randomUUID(),
): Promise<Origin> {
  const res = await fetch(`${STAND_IN}/stand-in/origins/${name}`, {
    method: "PUT",
    headers: { "stand-in-origin": JSON.stringify(script) },
    body: file,
  });
  expect(res.status).toBe(204);
  return { name, url: originUrl(name, filename) };
}

const originUrl = (name: string, filename: string) => `${STAND_IN}/origins/${name}/${filename}`;

type Asked = { range: string | null; acceptEncoding: string | null };

/** The requests the origin received, oldest first. */
async function requestsTo(o: Origin): Promise<Asked[]> {
  const res = await fetch(`${STAND_IN}/stand-in/origins/${o.name}/requests`);
  return (await res.json()) as Asked[];
}

/** The Range header of every request the origin received, oldest first (null: the whole file). */
const rangesAsked = async (o: Origin) => (await requestsTo(o)).map((r) => r.range);

async function release(o: Origin): Promise<void> {
  expect((await fetch(`${STAND_IN}/stand-in/origins/${o.name}/release`, { method: "POST" })).status).toBe(204);
}

function postImport(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return api("/api/imports", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": testClientIp(), ...headers },
    body: JSON.stringify(body),
  });
}

type Accepted = { videoId: string; uploadToken: string; status: string };

async function startImport(url: string, fields: Record<string, unknown> = {}): Promise<Accepted> {
  const res = await postImport({ url, ...fields });
  expect(res.status, await res.clone().text()).toBe(202);
  return json<Accepted>(res);
}

const describeVideo = async (videoId: string): Promise<Video> => json<Video>(await api(`/api/videos/${videoId}`));

/** Polls `GET /api/videos/:id` until `done` holds of it; returns it then. */
async function videoWhen(
  videoId: string,
  what: string,
  done: (video: Video) => boolean,
  timeoutMs = 20_000,
): Promise<Video> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const video = await describeVideo(videoId);
    if (done(video)) return video;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}: ${JSON.stringify(video)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The video once its import is over, whichever way. */
const settled = (videoId: string, timeoutMs?: number) =>
  videoWhen(videoId, "the import is over", (v) => v.status !== "importing", timeoutMs);

/** The video once its import failed; its error names why. */
async function failedWith(videoId: string, timeoutMs?: number): Promise<string> {
  const video = await settled(videoId, timeoutMs);
  expect(video).toMatchObject({ status: "failed", error: expect.any(String) });
  expect(video).not.toHaveProperty("progress");
  return video.error ?? "";
}

/** The stored source, as its owner downloads it, is `file`, byte for byte; so is the object in R2. */
async function expectStored(up: Accepted, file: Uint8Array): Promise<void> {
  const res = await api(`/api/videos/${up.videoId}/source`, { headers: auth(up) });
  expect(res.status).toBe(200);
  const got = new Uint8Array(await res.arrayBuffer());
  expect(got.length).toBe(file.length);
  expect(await sha256(got)).toBe(await sha256(file));
  const object = await env.VIDEOS.head(`videos/${up.videoId}/source`);
  expect(object?.size).toBe(file.length);
}

/**
 * An import created in its video's object with no queue message, for a test
 * that runs the consumer itself (`consumeOnce`).
 */
async function importWithoutMessage(url: string): Promise<string> {
  const videoId = newVideoId();
  const created = await videoStub(videoId).createImport({
    videoId,
    url,
    filename: "clip.mp4",
    title: "Driven by the test",
    description: "",
    tags: [],
    visibility: "public",
    clientKey: "imports-test",
  });
  expect(created.ok).toBe(true);
  return videoId;
}

/** Runs the import queue's consumer on one message for `videoId`, delivered for the `attempts`th time. */
async function consumeOnce(videoId: string, attempts: number, config: Env = env) {
  const batch = createMessageBatch("reelay-import", [
    { id: "try", timestamp: new Date(), attempts, body: { videoId } },
  ]);
  await consumeImports(batch, config);
  return getQueueResult(batch, createExecutionContext());
}

describe("POST /api/imports", () => {
  it("refuses a body without a URL, or with a URL that is not a string, with 400 invalid_request", async () => {
    for (const body of [{}, { url: 42 }, { title: "No URL" }]) {
      const res = await postImport(body);
      expect(res.status).toBe(400);
      expect(await json(res)).toMatchObject({ error: { code: "invalid_request" } });
    }
  });

  it("refuses what is not an absolute http(s) URL with 400 invalid_url", async () => {
    for (const url of [
      "",
      "clip.mp4",
      "ftp://files.example.com/clip.mp4",
      "file:///etc/passwd",
      "javascript:alert(1)",
      "data:video/mp4;base64,AAAA",
    ]) {
      const res = await postImport({ url });
      expect(res.status, url).toBe(400);
      expect(await json(res), url).toMatchObject({ error: { code: "invalid_url", message: expect.any(String) } });
    }
  });

  it("refuses a URL carrying credentials with 400 invalid_url, and creates no video", async () => {
    const before = await env.DB.prepare("SELECT count(*) AS n FROM videos").first<{ n: number }>();
    const res = await postImport({ url: "https://alice:secret@example.com/clip.mp4" });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({
      error: { code: "invalid_url", message: "The import URL must not carry a user name or password." },
    });
    const after = await env.DB.prepare("SELECT count(*) AS n FROM videos").first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });

  it("needs the uploader's token when UPLOADER_TOKEN is set", async () => {
    const gone = await origin(new Uint8Array(0), { status: 404 });
    const config = { ...env, UPLOADER_TOKEN: "uploader-token-0123456789" };
    const ctx = createExecutionContext();
    const call = (authorization?: string) =>
      app.fetch(
        new Request(`${BASE}/api/imports`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "cf-connecting-ip": testClientIp(),
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify({ url: gone.url }),
        }),
        config,
        ctx,
      );
    const missing = await call();
    expect(missing.status).toBe(401);
    expect(await json(missing)).toMatchObject({ error: { code: "missing_token" } });
    const wrong = await call("Bearer not-the-uploader-token");
    expect(wrong.status).toBe(401);
    expect(await json(wrong)).toMatchObject({ error: { code: "invalid_token" } });
    const right = await call("Bearer uploader-token-0123456789");
    expect(right.status).toBe(202);
    await failedWith((await json<Accepted>(right)).videoId);
  });
});

describe("an import from a URL", () => {
  it("answers 202 at once, then fetches the file in chunks into R2, byte for byte, and processes it", async () => {
    const file = bytes(2 * CHUNK + 3 * MiB + 17, 12);
    const o = await origin(file, {}, "Summer%20Trip.mp4");
    const res = await postImport({ url: o.url, description: "From the cloud", tags: ["trip"] });
    expect(res.status).toBe(202);
    const up = await json<Accepted>(res);
    expect(up).toEqual({ videoId: expect.any(String), uploadToken: expect.any(String), status: "importing" });
    expect(res.headers.get("location")).toBe(`/api/videos/${up.videoId}`);

    const video = await settled(up.videoId, 30_000);
    // Merged and handed to processing; the unscripted transcoder is down, so it stays there.
    expect(video).toMatchObject({
      id: up.videoId,
      status: "processing",
      title: "Summer Trip",
      description: "From the cloud",
      tags: ["trip"],
    });
    expect(video).not.toHaveProperty("error");
    // Processing has not begun: the import's progress is not the transcoder's.
    expect(video.progress).toBe(0);
    await expectStored(up, file);
    // One request for the whole file: nothing was fetched twice.
    expect(await rangesAsked(o)).toEqual([null]);
    const row = await env.DB.prepare("SELECT size, content_type AS type, filename FROM videos WHERE id = ?")
      .bind(up.videoId)
      .first<{ size: number; type: string; filename: string }>();
    expect(row).toEqual({ size: file.length, type: "video/mp4", filename: "Summer Trip.mp4" });
  });

  it("shows `importing` with the share of chunks stored while the file arrives", async () => {
    const file = bytes(CHUNK + 4 * MiB, 13);
    const o = await origin(file, { holdAfter: CHUNK + MiB });
    const up = await startImport(o.url);
    const midway = await videoWhen(up.videoId, "the first chunk is stored", (v) => (v.progress ?? 0) > 0);
    expect(midway).toMatchObject({ status: "importing", progress: 0.5 });
    // Held, it stays there.
    await new Promise((r) => setTimeout(r, 300));
    expect(await describeVideo(up.videoId)).toMatchObject({ status: "importing", progress: 0.5 });
    await release(o);
    expect(await settled(up.videoId)).toMatchObject({ status: "processing" });
    await expectStored(up, file);
  });

  it("follows redirects to allowed URLs, and takes the file name of the last hop", async () => {
    const file = bytes(2 * MiB, 14);
    const target = await origin(file, { type: "video/quicktime" }, "final.mov");
    const middle = await origin(new Uint8Array(0), { status: 307, location: target.url }, "middle.mp4");
    const first = await origin(new Uint8Array(0), { status: 301, location: middle.url }, "start.mp4");
    const up = await startImport(first.url);
    expect(await settled(up.videoId)).toMatchObject({ status: "processing" });
    await expectStored(up, file);
    const row = await env.DB.prepare("SELECT content_type AS type, filename FROM videos WHERE id = ?")
      .bind(up.videoId)
      .first<{ type: string; filename: string }>();
    expect(row).toEqual({ type: "video/quicktime", filename: "final.mov" });
  });

  it("fails when a redirect leads to an address an import may not fetch", async () => {
    const o = await origin(new Uint8Array(0), { status: 302, location: "ftp://files.example.com/clip.mp4" });
    const up = await startImport(o.url);
    expect(await failedWith(up.videoId)).toBe(
      "The URL redirected to an address an import may not fetch: The import URL must be an http or https URL.",
    );
  });

  it("fails after more than five redirects", async () => {
    const name = crypto.randomUUID();
    const loop = await origin(
      new Uint8Array(0),
      { status: 302, location: originUrl(name, "clip.mp4") },
      "clip.mp4",
      name,
    );
    const up = await startImport(loop.url);
    expect(await failedWith(up.videoId)).toBe("The URL redirected more than 5 times.");
    // The first request and five redirects followed, none more.
    expect(await rangesAsked(loop)).toHaveLength(6);
  });

  it("holds each redirect to https when plain http is not allowed", async () => {
    // The import URL itself was checked when it was posted; here the consumer
    // runs with the https-only setting on an import whose first hop redirects to http.
    const target = await origin(bytes(MiB, 15));
    const o = await origin(new Uint8Array(0), { status: 302, location: target.url });
    const videoId = await importWithoutMessage(o.url);
    const result = await consumeOnce(videoId, 1, { ...env, ALLOW_HTTP_IMPORTS: "false" });
    expect(result).toMatchObject({ explicitAcks: ["try"], retryMessages: [] });
    expect(await describeVideo(videoId)).toMatchObject({
      status: "failed",
      error: "The URL redirected to an address an import may not fetch: The import URL must be an https URL.",
    });
    expect(await rangesAsked(target)).toEqual([]);
  });

  it("fails a file larger than MAX_IMPORT_BYTES without fetching it", async () => {
    const o = await origin(new Uint8Array(0), { claimLength: 64 * MiB + 1 });
    const up = await startImport(o.url);
    expect(await failedWith(up.videoId)).toBe(
      `The file at the URL has ${64 * MiB + 1} bytes; imports take at most ${64 * MiB}.`,
    );
  });

  it("fails when the server does not say the file's size", async () => {
    const o = await origin(bytes(MiB, 16), { chunked: true });
    const up = await startImport(o.url);
    expect(await failedWith(up.videoId)).toBe(
      "The server at the URL did not say the file's size (Content-Length), which an import needs.",
    );
  });

  it("fails an empty file", async () => {
    const o = await origin(new Uint8Array(0));
    const up = await startImport(o.url);
    expect(await failedWith(up.videoId)).toBe("The file at the URL is empty.");
  });

  it("fails at once when the URL answers 404, without trying again", async () => {
    const o = await origin(new Uint8Array(0), { status: 404 });
    const up = await startImport(o.url);
    expect(await failedWith(up.videoId)).toBe("The URL answered HTTP 404 Not Found.");
    await new Promise((r) => setTimeout(r, 500));
    expect(await rangesAsked(o)).toEqual([null]);
  });

  it("fails at once when the host cannot be reached", async () => {
    const up = await startImport("http://127.0.0.1:1/clip.mp4");
    expect(await failedWith(up.videoId)).toMatch(/^The URL could not be reached: /);
  });

  it("fails what is not a video: a web page, an image, an audio file", async () => {
    const cases: [OriginScript, string, string][] = [
      [{ type: "text/html; charset=utf-8" }, "page.html", SOURCE_REASONS.notAccepted],
      // A sign-in or error page at a video's address is still a web page.
      [{ type: "text/html" }, "clip.mp4", SOURCE_REASONS.notAccepted],
      [{ type: "image/png" }, "clip.png", SOURCE_REASONS.notAccepted],
      [{ type: "audio/mpeg" }, "song.mp3", SOURCE_REASONS.audioOnly],
    ];
    for (const [script, filename, reason] of cases) {
      const o = await origin(new TextEncoder().encode("<!doctype html><p>Sign in</p>"), script, filename);
      const up = await startImport(o.url);
      const type = script.type!.split(";")[0];
      expect(await failedWith(up.videoId), filename).toBe(`The URL does not serve a video (${type}). ${reason}`);
      expect(await env.VIDEOS.head(`videos/${up.videoId}/source`)).toBeNull();
    }
  });

  it("imports a file whose server names no type, leaving the probe to decide, under the name the server gives", async () => {
    const file = bytes(MiB, 17);
    const o = await origin(file, { type: "", disposition: 'attachment; filename="Holiday.mkv"' }, "download");
    const up = await startImport(o.url);
    expect(await settled(up.videoId)).toMatchObject({ status: "processing" });
    await expectStored(up, file);
    const row = await env.DB.prepare("SELECT content_type AS type, filename FROM videos WHERE id = ?")
      .bind(up.videoId)
      .first<{ type: string; filename: string }>();
    expect(row).toEqual({ type: "application/octet-stream", filename: "Holiday.mkv" });
  });

  it("asks for the file as stored, so a server that would compress it sends its own bytes", async () => {
    // Compressible, so a compressed answer would be far shorter than the file.
    const file = new Uint8Array(CHUNK + MiB).map((_, i) => (i % 251) + (i >> 20));
    const o = await origin(file, { gzip: "if-accepted" });
    const up = await startImport(o.url);
    expect(await settled(up.videoId, 30_000)).toMatchObject({ status: "processing" });
    await expectStored(up, file);
    expect(await requestsTo(o)).toEqual([{ range: null, acceptEncoding: "identity" }]);
  });

  it("fails at once when the server compresses the file anyway, whose size it then does not say", async () => {
    const o = await origin(new Uint8Array(MiB).fill(7), { gzip: "always" });
    const up = await startImport(o.url);
    expect(await failedWith(up.videoId)).toBe(
      "The server at the URL sent the file compressed (gzip); an import needs it as stored, with its size.",
    );
    expect(await rangesAsked(o)).toEqual([null]);
  });

  it("tries again after a server error, with backoff, and imports the file", async () => {
    const file = bytes(MiB + 5, 18);
    const o = await origin(file, { failFirst: 1 });
    const up = await startImport(o.url);
    // The first try failed; the video waits for the next, still importing.
    await until("the first try is answered", async () => (await rangesAsked(o)).length >= 1);
    expect(await describeVideo(up.videoId)).toMatchObject({ status: "importing" });
    expect(await settled(up.videoId, 30_000)).toMatchObject({ status: "processing" });
    await expectStored(up, file);
    expect(await rangesAsked(o)).toEqual([null, null]);
  });

  it("resumes a download cut mid-way from the first missing chunk, by Range", async () => {
    const file = bytes(CHUNK + 4 * MiB + 3, 19);
    const o = await origin(file, { cutAfter: CHUNK + 2 * MiB });
    const up = await startImport(o.url);
    expect(await settled(up.videoId, 30_000)).toMatchObject({ status: "processing" });
    await expectStored(up, file);
    expect(await rangesAsked(o)).toEqual([null, `bytes=${CHUNK}-`]);
  });

  it("fails after six tries in a row that store nothing", async () => {
    const o = await origin(bytes(MiB, 23), { failFirst: 100 });
    const videoId = await importWithoutMessage(o.url);
    expect(await consumeOnce(videoId, 5)).toMatchObject({
      explicitAcks: [],
      retryMessages: [{ msgId: "try" }],
    });
    expect(await describeVideo(videoId)).toMatchObject({ status: "importing", progress: 0 });
    expect(await consumeOnce(videoId, 6)).toMatchObject({ explicitAcks: ["try"], retryMessages: [] });
    expect(await describeVideo(videoId)).toMatchObject({
      status: "failed",
      error: "The import failed after 6 tries: The URL answered HTTP 500 Internal Server Error.",
    });
  });

  it("goes on after a try that stored chunks before it broke off, however many tries came before", async () => {
    const file = bytes(CHUNK + 4 * MiB, 24);
    const o = await origin(file, { cutAfter: CHUNK + MiB });
    const videoId = await importWithoutMessage(o.url);
    // The sixth try breaks off too, but with a chunk more stored: the count starts again on a new message.
    expect(await consumeOnce(videoId, 6)).toMatchObject({ explicitAcks: ["try"], retryMessages: [] });
    expect(await describeVideo(videoId)).toMatchObject({ status: "importing", progress: 0.5 });
    expect(await settled(videoId, 30_000)).toMatchObject({ status: "processing" });
    const stored = await env.VIDEOS.get(`videos/${videoId}/source`);
    expect(await sha256(await stored!.arrayBuffer())).toBe(await sha256(file));
    expect(await rangesAsked(o)).toEqual([null, `bytes=${CHUNK}-`]);
  });

  it("stops when its video is deleted mid-way, and leaves nothing behind", async () => {
    const file = bytes(CHUNK + 4 * MiB, 25);
    const o = await origin(file, { holdAfter: CHUNK + MiB });
    const up = await startImport(o.url);
    await videoWhen(up.videoId, "the first chunk is stored", (v) => (v.progress ?? 0) > 0);
    const deleted = await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) });
    expect(deleted.status).toBe(204);
    await release(o);
    // The rest of the file arrives at a video that is gone, and nothing asks for it again.
    await new Promise((r) => setTimeout(r, 6_000));
    expect((await api(`/api/videos/${up.videoId}`)).status).toBe(404);
    expect(await env.VIDEOS.head(`videos/${up.videoId}/source`)).toBeNull();
    expect(await rangesAsked(o)).toEqual([null]);
  });

  it("starts again from the start when the server ignores Range, and stores the same bytes", async () => {
    const file = bytes(CHUNK + 4 * MiB + 3, 20);
    const o = await origin(file, { cutAfter: CHUNK + 2 * MiB, ranges: false });
    const up = await startImport(o.url);
    expect(await settled(up.videoId, 30_000)).toMatchObject({ status: "processing" });
    await expectStored(up, file);
    expect(await rangesAsked(o)).toEqual([null, `bytes=${CHUNK}-`]);
  });

  it("fails when the file changed between tries rather than merge two files", async () => {
    const file = bytes(CHUNK + 4 * MiB, 21);
    const o = await origin(file, { cutAfter: CHUNK + MiB, ranges: false });
    const up = await startImport(o.url);
    await videoWhen(up.videoId, "the first chunk is stored", (v) => (v.progress ?? 0) > 0);
    // Same size, other bytes: the chunk already stored no longer matches.
    const changed = bytes(file.length, 22);
    await origin(changed, { ranges: false }, "clip.mp4", o.name);
    expect(await failedWith(up.videoId, 30_000)).toBe("The file at the URL changed during the import.");
    expect(await env.VIDEOS.head(`videos/${up.videoId}/source`)).toBeNull();
  });
});
