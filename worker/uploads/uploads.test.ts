import { createExecutionContext, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import { SOURCE_REASONS } from "../contracts/vocabulary.ts";
import {
  api,
  auth,
  bytes,
  chunkOf,
  createUpload,
  json,
  MiB,
  putChunk,
  sha256,
  type Created,
} from "../testing/helpers.ts";
import { ageLease, holdChunk, leaseOf } from "../testing/held-chunk.ts";
import { expectMultipartGone, recordedMultipart } from "../testing/multipart.ts";
import { inVideoObject, videoStub } from "../testing/video-object.ts";
import { CHUNK_LEASE_MS } from "../video-object/upload.ts";
import type { VideoObject } from "../video-object/video-object.ts";
import { formatContentDigest } from "./content-digest.ts";

async function sendAll(file: Uint8Array, up: Created, order?: number[]) {
  const ns = order ?? Array.from({ length: up.totalChunks }, (_, i) => i + 1);
  for (const n of ns) expect((await putChunk(up, n, chunkOf(file, up, n))).status).toBe(200);
}

/** Sends `body` as a stream of uneven pieces with no Content-Length, as a proxy re-chunking it might. */
async function putStreamed(up: Created, n: number, body: Uint8Array, digestOf = body) {
  return api(`/api/uploads/${up.videoId}/chunks/${n}`, {
    method: "PUT",
    headers: { ...auth(up), "content-digest": formatContentDigest(await sha256(digestOf)) },
    body: streamOf(body),
  });
}

/** `body` in uneven pieces from JavaScript, so nothing can know its length in advance. */
function streamOf(body: Uint8Array): ReadableStream<Uint8Array> {
  const pieces = [1, 65_536, 333_333, 1_048_576];
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= body.length) return controller.close();
      const next = Math.min(body.length, at + pieces[i++ % pieces.length]!);
      controller.enqueue(body.slice(at, next));
      at = next;
    },
  });
}

async function download(up: Created, headers: Record<string, string> = {}) {
  return api(`/api/videos/${up.videoId}/source`, { headers: { ...auth(up), ...headers } });
}

async function d1Status(videoId: string) {
  return (await env.DB.prepare("SELECT status FROM videos WHERE id = ?").bind(videoId).first<{ status: string }>())
    ?.status;
}

describe("POST /api/uploads", () => {
  it("creates an upload with a server-chosen id, token and chunk plan", async () => {
    const res = await api("/api/uploads", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        filename: "../../etc/passwd.mp4",
        size: 40 * MiB,
        contentType: "video/mp4",
        tags: ["a", "A", "b"],
      }),
    });
    expect(res.status).toBe(201);
    const body = await json<Created>(res);
    expect(body.videoId).toMatch(/^[0-9a-z]{20}$/);
    expect(res.headers.get("location")).toBe(`/api/uploads/${body.videoId}`);
    expect(body.uploadToken.length).toBeGreaterThanOrEqual(43);
    expect(body).toMatchObject({ chunkSize: 16 * MiB, totalChunks: 3 });
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    const row = await env.DB.prepare("SELECT title, tags, status, filename FROM videos WHERE id = ?")
      .bind(body.videoId)
      .first();
    expect(row).toMatchObject({
      title: "passwd",
      tags: '["a","b"]',
      status: "uploading",
      filename: "../../etc/passwd.mp4",
    });
  });

  it("clamps the client's chunk size to R2's and the Worker's limits", async () => {
    expect(await createUpload({ size: 12 * MiB, chunkSize: 1024 })).toMatchObject({
      chunkSize: 5 * MiB,
      totalChunks: 3,
    });
    expect(await createUpload({ size: 500 * MiB, chunkSize: 500 * MiB })).toMatchObject({
      chunkSize: 95 * MiB,
      totalChunks: 6,
    });
    // 50 GiB in at most 10,000 parts needs parts above 5 MiB.
    const big = await createUpload({ size: 50 * 1024 * MiB, chunkSize: 5 * MiB });
    expect(big.totalChunks).toBeLessThanOrEqual(10_000);
    expect(big.chunkSize * big.totalChunks).toBeGreaterThanOrEqual(50 * 1024 * MiB);
    expect(await createUpload({ size: 10 })).toMatchObject({ totalChunks: 1 });
  });

  it.each([
    ["a size of zero", { size: 0 }, "size"],
    ["a size over the cap", { size: 50 * 1024 * MiB + 1 }, "size"],
    ["a fractional size", { size: 1.5 }, "size"],
    ["a content type that is not a media type", { contentType: "mp4" }, "contentType"],
    ["an empty filename", { filename: "" }, "filename"],
    ["a filename over 255 characters", { filename: "x".repeat(256) }, "filename"],
    ["a filename with control characters", { filename: "a\u0000b.mp4" }, "filename"],
    ["a title over 200 characters", { title: "t".repeat(201) }, "title"],
    ["a description over 5000 characters", { description: "d".repeat(5001) }, "description"],
    ["more than 20 tags", { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, "tags"],
    ["a tag over 40 characters", { tags: ["x".repeat(41)] }, "tags.0"],
  ])("refuses %s with a 400 JSON error naming the field", async (_name, patch, path) => {
    const res = await api("/api/uploads", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ filename: "clip.mp4", size: 1000, contentType: "video/mp4", ...patch }),
    });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({
      error: { code: "invalid_request", message: expect.any(String), issues: [{ path, message: expect.any(String) }] },
    });
  });

  it.each([
    ["an audio file", "song.mp3", "audio/mpeg", SOURCE_REASONS.audioOnly],
    ["an audio file whose type is in capitals", "voice.m4a", "Audio/MP4", SOURCE_REASONS.audioOnly],
    ["an image", "photo.png", "image/png", SOURCE_REASONS.notAccepted],
    ["an animated GIF", "loop.gif", "image/gif", SOURCE_REASONS.notAccepted],
    ["a document", "notes.pdf", "application/pdf", SOURCE_REASONS.notAccepted],
  ])(
    "refuses %s with 415 not_a_video and the transcoder's reason, creating nothing",
    async (_name, filename, contentType, reason) => {
      const res = await api("/api/uploads", {
        method: "POST",
        headers: { "content-type": "application/json" },
        // The size is wrong too: what the file is matters more than how big it is.
        body: JSON.stringify({ filename, size: 0, contentType }),
      });
      expect({ status: res.status, body: await json(res) }).toEqual({
        status: 415,
        body: { error: { code: "not_a_video", message: reason } },
      });
      expect(
        await env.DB.prepare("SELECT count(*) AS n FROM videos WHERE filename = ?").bind(filename).first("n"),
      ).toBe(0);
    },
  );

  it.each([
    ["video/mp4", "video/mp4"],
    ["video/MP2T", "video/mp2t"],
    ["application/octet-stream", "application/octet-stream"],
  ])("takes a file declared as %s", async (contentType, stored) => {
    const up = await createUpload({ size: 10, contentType });
    const row = await env.DB.prepare("SELECT content_type FROM videos WHERE id = ?")
      .bind(up.videoId)
      .first("content_type");
    expect(row).toBe(stored);
  });

  it("refuses malformed JSON", async () => {
    const res = await api("/api/uploads", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: { code: "invalid_json" } });
  });

  it("needs the uploader token when one is configured, and the older API_TOKEN still guards creation", async () => {
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const create = (config: Env, authorization?: string) =>
      app.fetch(
        new Request("http://reelay.test/api/uploads", {
          method: "POST",
          headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ filename: "a.mp4", size: 10, contentType: "video/mp4" }),
        }),
        config,
        ctx,
      );
    for (const config of [
      { ...env, UPLOADER_TOKEN: "s3cret-uploader-token", ADMIN_TOKEN: "s3cret-admin-token" },
      { ...env, API_TOKEN: "s3cret-uploader-token" },
    ] as Env[]) {
      const missing = await create(config);
      expect(missing.status).toBe(401);
      expect(await json(missing)).toMatchObject({ error: { code: "missing_token" } });
      const wrong = await create(config, "Bearer nope");
      expect(wrong.status).toBe(401);
      expect(await json(wrong)).toMatchObject({ error: { code: "invalid_token" } });
      // The administrator's token is for managing videos, not for creating them.
      expect((await create(config, "Bearer s3cret-admin-token")).status).toBe(401);
      expect((await create(config, "Bearer s3cret-uploader-token")).status).toBe(201);
    }
  });

  it("refuses every creation when the deployment says uploads need a token and none is set", async () => {
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const res = await app.fetch(
      new Request("http://reelay.test/api/uploads", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ filename: "a.mp4", size: 10, contentType: "video/mp4" }),
      }),
      { ...env, ALLOW_ANONYMOUS_UPLOADS: "false" } as Env,
      ctx,
    );
    expect(res.status).toBe(403);
    expect(await json(res)).toMatchObject({ error: { code: "uploads_disabled", message: expect.any(String) } });
  });
});

describe("chunks and reassembly", () => {
  it("reassembles chunks sent out of order, in parallel and twice into a byte-identical file", async () => {
    const file = bytes(12 * MiB + 12345, 7);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    expect(up.totalChunks).toBe(3);
    const results = await Promise.all([3, 1, 2].map((n) => putChunk(up, n, chunkOf(file, up, n))));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const resend = await putChunk(up, 2, chunkOf(file, up, 2));
    expect(resend.status).toBe(200);
    expect(await json(resend)).toMatchObject({
      chunk: 2,
      size: 5 * MiB,
      sha256: await sha256(chunkOf(file, up, 2)),
      received: 3,
      totalChunks: 3,
    });

    const done = await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) });
    expect(done.status).toBe(202);
    expect(await json(done)).toEqual({ videoId: up.videoId, status: "processing" });

    const res = await download(up);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(file.length));
    expect(await sha256(await res.arrayBuffer())).toBe(await sha256(file));

    const part = await download(up, { range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes ${5 * MiB - 10}-${5 * MiB + 9}/${file.length}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(file.subarray(5 * MiB - 10, 5 * MiB + 10));
    const tail = await download(up, { range: "bytes=-100" });
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(file.subarray(file.length - 100));
    expect((await download(up, { range: `bytes=${file.length}-` })).status).toBe(416);
  });

  it("refuses a chunk whose digest does not match and keeps nothing of it", async () => {
    const file = bytes(7 * MiB, 3);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    const corrupt = chunkOf(file, up, 1).slice();
    corrupt[1234] ^= 0xff;
    const bad = await putChunk(up, 1, corrupt, { digestOf: chunkOf(file, up, 1) });
    expect(bad.status).toBe(422);
    expect(await json(bad)).toMatchObject({ error: { code: "digest_mismatch" } });
    const status = await json(await api(`/api/uploads/${up.videoId}`, { headers: auth(up) }));
    expect(status.received).toEqual([]);
    // The refused request gave its lease back: the chunk is free for the right bytes at once.
    expect(await leaseOf(up.videoId, 1)).toBeUndefined();

    await sendAll(file, up, [2, 1]);
    // A corrupt resend of a stored chunk is refused and cannot damage the stored part.
    expect((await putChunk(up, 1, corrupt, { digestOf: chunkOf(file, up, 1) })).status).toBe(422);
    const conflicting = await putChunk(up, 1, corrupt);
    expect(conflicting.status).toBe(409);
    expect(await json(conflicting)).toMatchObject({ error: { code: "chunk_conflict" } });

    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(202);
    expect(await sha256(await (await download(up)).arrayBuffer())).toBe(await sha256(file));
  });

  it("tells a second request for a chunk being stored to retry after Retry-After seconds", async () => {
    const file = bytes(6 * MiB, 11);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    const first = await holdChunk(up, 1, chunkOf(file, up, 1));

    const second = await putChunk(up, 1, chunkOf(file, up, 1));
    expect(second.status).toBe(409);
    const retryAfter = second.headers.get("retry-after");
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(3);
    expect(await json(second)).toMatchObject({ error: { code: "chunk_in_progress", retryAfter: Number(retryAfter) } });

    first.finish();
    const stored = await first.response;
    expect(stored.status).toBe(200);
    expect(await json(stored)).toMatchObject({ chunk: 1, size: 5 * MiB, received: 1 });
    // The retry finds the chunk stored: it is re-verified, not written again.
    expect(await json(await putChunk(up, 1, chunkOf(file, up, 1)))).toMatchObject({
      chunk: 1,
      size: 5 * MiB,
      received: 1,
    });
    await sendAll(file, up, [2]);
    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(202);
    expect(await sha256(await (await download(up)).arrayBuffer())).toBe(await sha256(file));
  });

  it("lets a request take over a stale lease, refuses the superseded request, and asks for the chunk again when the merge fails", async () => {
    const file = bytes(6 * MiB, 12);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    const silent = await holdChunk(up, 1, chunkOf(file, up, 1));
    // Its holder stopped renewing (a crashed Worker, say): another request may take the chunk.
    await ageLease(up.videoId, 1, CHUNK_LEASE_MS + 1);
    const takeover = await putChunk(up, 1, chunkOf(file, up, 1));
    expect(takeover.status).toBe(200);
    expect(await json(takeover)).toMatchObject({ chunk: 1, received: 1 });

    // The old request was alive after all: its bytes overwrite R2 part 1, but it may not record them.
    silent.finish();
    const superseded = await silent.response;
    expect(superseded.status).toBe(409);
    expect(await json(superseded)).toMatchObject({ error: { code: "chunk_superseded", message: expect.any(String) } });

    await sendAll(file, up, [2]);
    // The recorded etag of part 1 no longer names what R2 holds: the merge fails, and chunk 1 is asked for again.
    const failed = await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) });
    expect(failed.status).toBe(409);
    expect(await json(failed)).toMatchObject({ error: { code: "missing_chunks", missing: [1] } });
    expect(await json(await api(`/api/uploads/${up.videoId}`, { headers: auth(up) }))).toMatchObject({
      status: "uploading",
      received: [2],
    });

    await sendAll(file, up, [1]);
    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(202);
    expect(await sha256(await (await download(up)).arrayBuffer())).toBe(await sha256(file));
  });

  it("reports the bytes that arrived and refuses a streamed body of the wrong length, keeping nothing", async () => {
    const file = bytes(7 * MiB + 333, 13);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    const short = await putStreamed(up, 1, chunkOf(file, up, 1).subarray(0, 5 * MiB - 1), chunkOf(file, up, 1));
    expect(short.status).toBe(400);
    expect(await json(short)).toMatchObject({ error: { code: "wrong_length", expectedBytes: 5 * MiB } });
    const last = await putStreamed(up, 2, chunkOf(file, up, 2));
    expect(last.status).toBe(200);
    const tooLong = await putStreamed(up, 1, file.subarray(0, 5 * MiB + 1), chunkOf(file, up, 1));
    expect(tooLong.status).toBe(400);
    expect(await json(tooLong)).toMatchObject({ error: { code: "wrong_length", expectedBytes: 5 * MiB } });
    expect(await json(await api(`/api/uploads/${up.videoId}`, { headers: auth(up) }))).toMatchObject({ received: [2] });

    // The refused requests gave their lease back: the right bytes are taken at once.
    const good = await putStreamed(up, 1, chunkOf(file, up, 1));
    expect(good.status).toBe(200);
    expect(await json(good)).toMatchObject({ chunk: 1, size: 5 * MiB, received: 2 });
    expect(await json(last)).toMatchObject({ chunk: 2, size: 2 * MiB + 333 });
    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(202);
    expect(await sha256(await (await download(up)).arrayBuffer())).toBe(await sha256(file));
  });

  it("answers every refusal with the documented status, code and details", async () => {
    const file = bytes(6 * MiB, 5);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    const c1 = chunkOf(file, up, 1);
    const corrupt = c1.slice();
    corrupt[0]! ^= 0xff;
    const post = (path: string, headers: Record<string, string> = auth(up)) => api(path, { method: "POST", headers });
    // One at a time: a request refused for its bytes holds the chunk's lease until it is refused.
    type Case = [name: string, send: () => Promise<Response>, status: number, error: Record<string, unknown>];
    const cases: Case[] = [
      ["index 0", () => putChunk(up, 0, c1), 400, { code: "invalid_chunk_index" }],
      ["index past the end", () => putChunk(up, 3, c1), 400, { code: "invalid_chunk_index", totalChunks: 2 }],
      [
        "a non-numeric index",
        () => api(`/api/uploads/${up.videoId}/chunks/x`, { method: "PUT", headers: auth(up), body: c1 }),
        400,
        { code: "invalid_chunk_index" },
      ],
      [
        "no digest",
        () => api(`/api/uploads/${up.videoId}/chunks/1`, { method: "PUT", headers: auth(up), body: c1 }),
        400,
        { code: "missing_digest" },
      ],
      [
        "a malformed digest",
        () => putChunk(up, 1, c1, { headers: { "content-digest": "sha-256=:bm90IGEgaGFzaA==:" } }),
        400,
        { code: "invalid_digest" },
      ],
      [
        "a short body",
        () => putChunk(up, 1, c1.subarray(0, 100)),
        400,
        { code: "wrong_length", expectedBytes: 5 * MiB },
      ],
      ["a long last chunk", () => putChunk(up, 2, c1), 400, { code: "wrong_length", expectedBytes: MiB }],
      [
        "bytes that do not match their digest",
        () => putChunk(up, 2, corrupt.subarray(0, MiB), { digestOf: c1.subarray(0, MiB) }),
        422,
        {
          code: "digest_mismatch",
          expected: await sha256(c1.subarray(0, MiB)),
          actual: await sha256(corrupt.subarray(0, MiB)),
        },
      ],
      [
        "no token",
        () => api(`/api/uploads/${up.videoId}/chunks/1`, { method: "PUT", body: c1 }),
        401,
        { code: "missing_token" },
      ],
      ["a wrong token", () => putChunk({ ...up, uploadToken: "wrong" }, 1, c1), 401, { code: "invalid_token" }],
      [
        "an unknown upload",
        () => putChunk({ ...up, videoId: "0000000000000000000a" }, 1, c1),
        404,
        { code: "not_found" },
      ],
      ["a malformed id", () => putChunk({ ...up, videoId: "../etc" }, 1, c1), 404, { code: "not_found" }],
      ["no token on status", () => api(`/api/uploads/${up.videoId}`), 401, { code: "missing_token" }],
      [
        "a wrong token on status",
        () => api(`/api/uploads/${up.videoId}`, { headers: { authorization: "Bearer x" } }),
        401,
        { code: "invalid_token" },
      ],
      ["no token on complete", () => post(`/api/uploads/${up.videoId}/complete`, {}), 401, { code: "missing_token" }],
      [
        "a wrong token on abort",
        () => api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: { authorization: "Bearer x" } }),
        401,
        { code: "invalid_token" },
      ],
      [
        "completion before every chunk",
        () => post(`/api/uploads/${up.videoId}/complete`),
        409,
        { code: "missing_chunks", missing: [1, 2] },
      ],
      ["the source before completion", () => download(up), 409, { code: "source_unavailable", status: "uploading" }],
      [
        "a body that is not JSON",
        () => api("/api/uploads", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" }),
        400,
        { code: "invalid_json" },
      ],
      [
        "a field that breaks its rule",
        () =>
          api("/api/uploads", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ filename: "a.mp4", size: -1, contentType: "video" }),
          }),
        400,
        {
          code: "invalid_request",
          issues: expect.arrayContaining([
            { path: "size", message: expect.any(String) },
            { path: "contentType", message: expect.any(String) },
          ]),
        },
      ],
    ];
    for (const [name, send, status, error] of cases) {
      const res = await send();
      expect(res.status, name).toBe(status);
      expect(await json(res), name).toMatchObject({ error: { ...error, message: expect.any(String) } });
    }
    const status = await json(await api(`/api/uploads/${up.videoId}`, { headers: auth(up) }));
    expect(status).toMatchObject({
      videoId: up.videoId,
      status: "uploading",
      size: file.length,
      chunkSize: 5 * MiB,
      totalChunks: 2,
      received: [],
    });
    await sendAll(file, up, [1, 2]);
    const conflict = await putChunk(up, 1, corrupt);
    expect(conflict.status).toBe(409);
    expect(await json(conflict)).toMatchObject({ error: { code: "chunk_conflict", stored: await sha256(c1) } });
  });

  it("refuses a body larger than any chunk may be with 413", async () => {
    const up = await createUpload({ size: 200 * MiB, chunkSize: 95 * MiB });
    const res = await api(`/api/uploads/${up.videoId}/chunks/1`, {
      method: "PUT",
      headers: {
        ...auth(up),
        "content-digest": `sha-256=:${btoa("x".repeat(32))}:`,
        "content-length": String(96 * MiB),
      },
      body: new Uint8Array(10),
    });
    expect(res.status).toBe(413);
    expect(await json(res)).toMatchObject({ error: { code: "payload_too_large" } });
  });
});

describe("completion, abort and expiry", () => {
  it("lists missing chunks, then completes once however often it is called", async () => {
    const file = bytes(11 * MiB, 9);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    await sendAll(file, up, [2]);
    const early = await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) });
    expect(early.status).toBe(409);
    expect(await json(early)).toMatchObject({ error: { code: "missing_chunks", missing: [1, 3] } });
    await sendAll(file, up, [3, 1]);
    const calls = await Promise.all(
      [1, 2, 3].map(() => api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })),
    );
    expect(calls.map((r) => r.status)).toEqual([202, 202, 202]);
    const late = await putChunk(up, 1, chunkOf(file, up, 1));
    expect(late.status).toBe(409);
    expect(await json(late)).toMatchObject({ error: { code: "upload_closed", status: "processing" } });
    expect(await d1Status(up.videoId)).toBe("processing");
    const jobSent = await inVideoObject(
      up.videoId,
      (sql) => sql.exec<{ job_sent: number }>("SELECT job_sent FROM video").one().job_sent,
    );
    expect(jobSent).toBe(1);
    const abort = await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) });
    expect(abort.status).toBe(409);
    expect(await json(abort)).toMatchObject({ error: { code: "upload_completed", status: "processing" } });
    expect(await sha256(await (await download(up)).arrayBuffer())).toBe(await sha256(file));
  });

  it("aborts: 204, R2 drops every part, then chunks and completion are refused", async () => {
    const file = bytes(6 * MiB, 2);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    await sendAll(file, up, [1]);
    const multipart = await recordedMultipart(up.videoId);
    expect(multipart.parts).toHaveLength(1);
    const res = await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) });
    expect(res.status).toBe(204);
    await expectMultipartGone(multipart);
    expect((await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
    const late = await putChunk(up, 2, chunkOf(file, up, 2));
    expect(late.status).toBe(409);
    expect(await json(late)).toMatchObject({ error: { code: "upload_closed", status: "aborted" } });
    const complete = await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) });
    expect(complete.status).toBe(409);
    expect(await json(complete)).toMatchObject({ error: { code: "upload_closed", status: "aborted" } });
    expect(await d1Status(up.videoId)).toBe("aborted");
  });

  it("expires an upload left idle past its TTL", async () => {
    const file = bytes(6 * MiB, 4);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    await sendAll(file, up, [1]);
    // An alarm that fires while the upload is still fresh only re-arms itself.
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect(await d1Status(up.videoId)).toBe("uploading");
    const multipart = await recordedMultipart(up.videoId);
    await runInDurableObject(videoStub(up.videoId), async (_o: VideoObject, state) => {
      state.storage.sql.exec("UPDATE video SET expires_at = ?", Date.now() - 1);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect(await d1Status(up.videoId)).toBe("expired");
    await expectMultipartGone(multipart);
    const status = await json(await api(`/api/uploads/${up.videoId}`, { headers: auth(up) }));
    expect(status.status).toBe("expired");
    const late = await putChunk(up, 2, chunkOf(file, up, 2));
    expect(late.status).toBe(409);
    expect(await json(late)).toMatchObject({ error: { code: "upload_closed", status: "expired" } });
  });
});

describe("the API surface", () => {
  it("answers health checks and unknown routes as JSON", async () => {
    expect(await json(await api("/api/health"))).toEqual({ ok: true });
    const missing = await api("/api/nope");
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ error: { code: "not_found" } });
  });

  it("lets browsers send chunks cross-origin", async () => {
    const res = await api("/api/uploads/x/chunks/1", {
      method: "OPTIONS",
      headers: {
        origin: "https://example.com",
        "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization, content-digest",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-digest");
  });

  it("reads a JSON body of exactly 64 KiB and refuses one byte more with 413, whether or not its length is declared", async () => {
    // A valid upload padded with an ignored field to exactly `bytes` UTF-8 bytes.
    const jsonOfBytes = (bytes: number, filler: string) => {
      const size = (text: string) => new TextEncoder().encode(text).length;
      const head = '{"filename":"clip.mp4","size":1000,"contentType":"video/mp4","pad":"';
      const room = bytes - size(head) - size('"}');
      const text = `${head}${filler.repeat(Math.floor(room / size(filler)))}"}`;
      return text + " ".repeat(bytes - size(text));
    };
    const post = (body: string, streamed: boolean) =>
      api("/api/uploads", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: streamed ? streamOf(new TextEncoder().encode(body)) : body,
      });
    for (const streamed of [false, true]) {
      for (const filler of ["x", "é"]) {
        const body = `${streamed ? "streamed" : "declared"} body of "${filler}"`;
        const atLimit = jsonOfBytes(64 * 1024, filler);
        expect(new TextEncoder().encode(atLimit).length).toBe(64 * 1024);
        expect((await post(atLimit, streamed)).status, `64 KiB ${body}`).toBe(201);
        const over = await post(jsonOfBytes(64 * 1024 + 1, filler), streamed);
        expect(over.status, `64 KiB + 1 ${body}`).toBe(413);
        expect(await json(over)).toMatchObject({ error: { code: "payload_too_large", message: expect.any(String) } });
      }
    }
  });
});

describe("configuration", () => {
  const withVars = (vars: Partial<Record<keyof Env, string>>) => (path: string, init?: RequestInit) =>
    app.fetch(new Request(`http://reelay.test${path}`, init), { ...env, ...vars }, createExecutionContext());

  it("refuses an upload larger than an overridden MAX_UPLOAD_BYTES", async () => {
    const small = withVars({ MAX_UPLOAD_BYTES: "1000" });
    const create = (size: number) =>
      small("/api/uploads", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ filename: "a.mp4", size, contentType: "video/mp4" }),
      });
    expect((await create(1000)).status).toBe(201);
    const over = await create(1001);
    expect(over.status).toBe(400);
    expect(await json(over)).toMatchObject({
      error: { code: "invalid_request", issues: [{ path: "size", message: expect.any(String) }] },
    });
  });

  it("answers cross-origin requests only from the origins in CORS_ORIGINS", async () => {
    const restricted = withVars({ CORS_ORIGINS: "https://app.example, https://admin.example" });
    const preflight = (origin: string) =>
      restricted("/api/uploads", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
    for (const origin of ["https://app.example", "https://admin.example"]) {
      expect((await preflight(origin)).headers.get("access-control-allow-origin")).toBe(origin);
      const res = await restricted("/api/health", { headers: { origin } });
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    }
    for (const origin of ["https://evil.example", "https://app.example.evil.example", "null"]) {
      expect((await preflight(origin)).headers.get("access-control-allow-origin")).toBeNull();
      expect(
        (await restricted("/api/health", { headers: { origin } })).headers.get("access-control-allow-origin"),
      ).toBeNull();
    }
    // Unset, any origin may call the API.
    expect(
      (await withVars({})("/api/health", { headers: { origin: "https://evil.example" } })).headers.get(
        "access-control-allow-origin",
      ),
    ).toBe("*");
  });
});
