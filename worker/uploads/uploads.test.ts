import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import {
  api, auth, bytes, chunkOf, createUpload, json, MiB, putChunk, sha256, type Created,
} from "../testing/helpers.ts";
import type { VideoUpload } from "./coordinator.ts";

const stub = (videoId: string) => env.UPLOADS.getByName(videoId);

async function sendAll(file: Uint8Array, up: Created, order?: number[]) {
  const ns = order ?? Array.from({ length: up.totalChunks }, (_, i) => i + 1);
  for (const n of ns) expect((await putChunk(up, n, chunkOf(file, up, n))).status).toBe(200);
}

async function download(up: Created, headers: Record<string, string> = {}) {
  return api(`/api/videos/${up.videoId}/source`, { headers: { ...auth(up), ...headers } });
}

async function d1Status(videoId: string) {
  return (await env.DB.prepare("SELECT status FROM videos WHERE id = ?").bind(videoId).first<{ status: string }>())?.status;
}

describe("POST /api/uploads", () => {
  it("creates an upload with a server-chosen id, token and chunk plan", async () => {
    const res = await api("/api/uploads", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ filename: "../../etc/passwd.mp4", size: 40 * MiB, contentType: "video/mp4", tags: ["a", "A", "b"] }),
    });
    expect(res.status).toBe(201);
    const body = await json<Created>(res);
    expect(body.videoId).toMatch(/^[0-9a-z]{20}$/);
    expect(res.headers.get("location")).toBe(`/api/uploads/${body.videoId}`);
    expect(body.uploadToken.length).toBeGreaterThanOrEqual(43);
    expect(body).toMatchObject({ chunkSize: 16 * MiB, totalChunks: 3 });
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    const row = await env.DB.prepare("SELECT title, tags, status, filename FROM videos WHERE id = ?").bind(body.videoId).first();
    expect(row).toMatchObject({ title: "passwd", tags: '["a","b"]', status: "uploading", filename: "../../etc/passwd.mp4" });
  });

  it("clamps the client's chunk size to R2's and the Worker's limits", async () => {
    expect(await createUpload({ size: 12 * MiB, chunkSize: 1024 })).toMatchObject({ chunkSize: 5 * MiB, totalChunks: 3 });
    expect(await createUpload({ size: 500 * MiB, chunkSize: 500 * MiB })).toMatchObject({ chunkSize: 95 * MiB, totalChunks: 6 });
    // 50 GiB in at most 10,000 parts needs parts above 5 MiB.
    const big = await createUpload({ size: 50 * 1024 * MiB, chunkSize: 5 * MiB });
    expect(big.totalChunks).toBeLessThanOrEqual(10_000);
    expect(big.chunkSize * big.totalChunks).toBeGreaterThanOrEqual(50 * 1024 * MiB);
    expect(await createUpload({ size: 10 })).toMatchObject({ totalChunks: 1 });
  });

  it.each([
    ["a size of zero", { size: 0 }],
    ["a size over the cap", { size: 50 * 1024 * MiB + 1 }],
    ["a fractional size", { size: 1.5 }],
    ["a non-video content type", { contentType: "text/html" }],
    ["an empty filename", { filename: "" }],
    ["a filename over 255 characters", { filename: "x".repeat(256) }],
    ["a filename with control characters", { filename: "a\u0000b.mp4" }],
    ["a title over 200 characters", { title: "t".repeat(201) }],
    ["a description over 5000 characters", { description: "d".repeat(5001) }],
    ["more than 20 tags", { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }],
    ["a tag over 40 characters", { tags: ["x".repeat(41)] }],
  ])("refuses %s with a 400 JSON error", async (_name, patch) => {
    const res = await api("/api/uploads", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ filename: "clip.mp4", size: 1000, contentType: "video/mp4", ...patch }),
    });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: { code: "invalid_request", message: expect.any(String) } });
  });

  it("refuses malformed JSON", async () => {
    const res = await api("/api/uploads", { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: { code: "invalid_json" } });
  });

  it("needs the API token when one is configured", async () => {
    const withToken = { ...env, API_TOKEN: "s3cret-api-token" };
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    const create = (authorization?: string) =>
      app.fetch(
        new Request("http://reelay.test/api/uploads", {
          method: "POST",
          headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
          body: JSON.stringify({ filename: "a.mp4", size: 10, contentType: "video/mp4" }),
        }),
        withToken,
        ctx,
      );
    const missing = await create();
    expect(missing.status).toBe(401);
    expect(await json(missing)).toMatchObject({ error: { code: "missing_token" } });
    const wrong = await create("Bearer nope");
    expect(wrong.status).toBe(401);
    expect(await json(wrong)).toMatchObject({ error: { code: "invalid_token" } });
    expect((await create("Bearer s3cret-api-token")).status).toBe(201);
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
    expect(await json(resend)).toMatchObject({ chunk: 2, size: 5 * MiB, sha256: await sha256(chunkOf(file, up, 2)), received: 3, totalChunks: 3 });

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

    await sendAll(file, up, [2, 1]);
    // A corrupt resend of a stored chunk is refused and cannot damage the stored part.
    expect((await putChunk(up, 1, corrupt, { digestOf: chunkOf(file, up, 1) })).status).toBe(422);
    const conflicting = await putChunk(up, 1, corrupt);
    expect(conflicting.status).toBe(409);
    expect(await json(conflicting)).toMatchObject({ error: { code: "chunk_conflict" } });

    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(202);
    expect(await sha256(await (await download(up)).arrayBuffer())).toBe(await sha256(file));
  });

  it("never lets two requests write the same part at once", async () => {
    const file = bytes(6 * MiB, 11);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    const both = await Promise.all([putChunk(up, 1, chunkOf(file, up, 1)), putChunk(up, 1, chunkOf(file, up, 1))]);
    const statuses = both.map((r) => r.status).sort();
    // Either the second waited for nothing (re-verified a stored chunk) or was told to retry.
    expect([[200, 200], [200, 409]]).toContainEqual(statuses);
    const refused = both.find((r) => r.status === 409);
    if (refused) {
      expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(await json(refused)).toMatchObject({ error: { code: "chunk_in_progress" } });
    }
    await sendAll(file, up, [2]);
    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(202);
    expect(await sha256(await (await download(up)).arrayBuffer())).toBe(await sha256(file));
  });

  it("answers every refusal with the documented status and code", async () => {
    const file = bytes(6 * MiB, 5);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    const c1 = chunkOf(file, up, 1);
    const cases: [string, Promise<Response>, number, string][] = [
      ["index 0", putChunk(up, 0, c1), 400, "invalid_chunk_index"],
      ["index past the end", putChunk(up, 3, c1), 400, "invalid_chunk_index"],
      ["a non-numeric index", api(`/api/uploads/${up.videoId}/chunks/x`, { method: "PUT", headers: auth(up), body: c1 }), 400, "invalid_chunk_index"],
      ["no digest", api(`/api/uploads/${up.videoId}/chunks/1`, { method: "PUT", headers: auth(up), body: c1 }), 400, "missing_digest"],
      ["a malformed digest", putChunk(up, 1, c1, { headers: { "content-digest": "sha-256=:bm90IGEgaGFzaA==:" } }), 400, "invalid_digest"],
      ["a short body", putChunk(up, 1, c1.subarray(0, 100)), 400, "wrong_length"],
      ["a long last chunk", putChunk(up, 2, c1), 400, "wrong_length"],
      ["no token", api(`/api/uploads/${up.videoId}/chunks/1`, { method: "PUT", body: c1 }), 401, "missing_token"],
      ["a wrong token", putChunk({ ...up, uploadToken: "wrong" }, 1, c1), 401, "invalid_token"],
      ["an unknown upload", putChunk({ ...up, videoId: "0000000000000000000a" }, 1, c1), 404, "not_found"],
      ["a malformed id", putChunk({ ...up, videoId: "../etc" }, 1, c1), 404, "not_found"],
      ["a wrong token on status", api(`/api/uploads/${up.videoId}`, { headers: { authorization: "Bearer x" } }), 401, "invalid_token"],
      ["the source before completion", download(up), 409, "source_unavailable"],
    ];
    for (const [name, pending, status, code] of cases) {
      const res = await pending;
      expect({ name, status: res.status }).toEqual({ name, status });
      expect(await json(res)).toMatchObject({ error: { code, message: expect.any(String) } });
    }
    const status = await json(await api(`/api/uploads/${up.videoId}`, { headers: auth(up) }));
    expect(status).toMatchObject({ videoId: up.videoId, status: "uploading", size: file.length, chunkSize: 5 * MiB, totalChunks: 2, received: [] });
  });

  it("refuses a body larger than any chunk may be with 413", async () => {
    const up = await createUpload({ size: 200 * MiB, chunkSize: 95 * MiB });
    const res = await api(`/api/uploads/${up.videoId}/chunks/1`, {
      method: "PUT",
      headers: { ...auth(up), "content-digest": `sha-256=:${btoa("x".repeat(32))}:`, "content-length": String(96 * MiB) },
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
    expect((await putChunk(up, 1, chunkOf(file, up, 1))).status).toBe(409);
    expect(await d1Status(up.videoId)).toBe("processing");
    const jobSent = await runInDurableObject(stub(up.videoId), (_o: VideoUpload, state) =>
      state.storage.sql.exec<{ job_sent: number }>("SELECT job_sent FROM upload").one().job_sent);
    expect(jobSent).toBe(1);
    expect((await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(409);
    expect(await sha256(await (await download(up)).arrayBuffer())).toBe(await sha256(file));
  });

  it("aborts: 204, then chunks and completion are refused", async () => {
    const file = bytes(6 * MiB, 2);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    await sendAll(file, up, [1]);
    const res = await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) });
    expect(res.status).toBe(204);
    expect((await api(`/api/uploads/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
    const late = await putChunk(up, 2, chunkOf(file, up, 2));
    expect(late.status).toBe(409);
    expect(await json(late)).toMatchObject({ error: { code: "upload_closed", status: "aborted" } });
    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(409);
    expect(await d1Status(up.videoId)).toBe("aborted");
    expect(await env.VIDEOS.head(`videos/${up.videoId}/source`)).toBeNull();
  });

  it("expires an upload left idle past its TTL", async () => {
    const file = bytes(6 * MiB, 4);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB });
    await sendAll(file, up, [1]);
    // An alarm that fires while the upload is still fresh only re-arms itself.
    expect(await runDurableObjectAlarm(stub(up.videoId))).toBe(true);
    expect(await d1Status(up.videoId)).toBe("uploading");
    await runInDurableObject(stub(up.videoId), async (_o: VideoUpload, state) => {
      state.storage.sql.exec("UPDATE upload SET expires_at = ?", Date.now() - 1);
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub(up.videoId))).toBe(true);
    expect(await d1Status(up.videoId)).toBe("expired");
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
      headers: { origin: "https://example.com", "access-control-request-method": "PUT", "access-control-request-headers": "authorization, content-digest" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-digest");
  });
});
