// Direct creator uploads: the uploader mints a one-time capability, and a
// browser that holds no credential uploads one video with it, by tus
// (`tusUrl`) or by our own API (`uploadUrl`). Each rule of the capability
// is checked as that browser would meet it: once, before it expires, up to
// its size, for its own video, from its own origin.
import { createExecutionContext, env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import { newVideoId } from "../storage/keys.ts";
import { api, auth, BASE, bytes, json, putChunk, sha256, testClientIp } from "../testing/helpers.ts";
import { inVideoObject, videoStub } from "../testing/video-object.ts";

type Minted = { videoId: string; tusUrl: string; uploadUrl: string; expiresAt: string };

/** `POST /api/direct-uploads` as the uploader, with the deployment's own env unless given another. */
function mintRequest(body: Record<string, unknown>, headers: Record<string, string> = {}, config?: Env) {
  const init = {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
  if (!config) return api("/api/direct-uploads", init);
  return Promise.resolve(app.fetch(new Request(`${BASE}/api/direct-uploads`, init), config, createExecutionContext()));
}

async function mint(body: Record<string, unknown> = {}): Promise<Minted> {
  const res = await mintRequest(body);
  if (res.status !== 201) throw new Error(`minting failed: ${res.status} ${await res.text()}`);
  return json<Minted>(res);
}

/** A URL the server handed out, as a path and query against the test's own base. */
const relative = (url: string) => {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
};

/** The capability a minted URL carries. */
const capabilityOf = (minted: Minted) => new URL(minted.tusUrl).searchParams.get("direct")!;

const b64 = (text: string) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

/** A tus client's creation against `tusUrl`: no credential, only what the URL carries. */
function tusCreate(tusUrl: string, size: number, metadata: Record<string, string> = {}, headers = {}) {
  return api(relative(tusUrl), {
    method: "POST",
    headers: {
      "tus-resumable": "1.0.0",
      "cf-connecting-ip": testClientIp(),
      "upload-length": String(size),
      "upload-metadata": Object.entries({ filename: "clip.mp4", filetype: "video/mp4", ...metadata })
        .map(([key, value]) => `${key} ${b64(value)}`)
        .join(","),
      ...headers,
    },
  });
}

/** Our own API's creation against `uploadUrl`: the body of `POST /api/uploads`, no Authorization. */
function nativeCreate(uploadUrl: string, size: number, body: Record<string, unknown> = {}, headers = {}) {
  return api(relative(uploadUrl), {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": testClientIp(), ...headers },
    body: JSON.stringify({ filename: "clip.mp4", contentType: "video/mp4", size, ...body }),
  });
}

async function errorOf(res: Response) {
  return (await json(res)).error;
}

/** What D1 holds of the video, or null when it has no row. */
const videoRow = (videoId: string) =>
  env.DB.prepare("SELECT title, description, tags, visibility, status, size FROM videos WHERE id = ?")
    .bind(videoId)
    .first();

/** Moves the reservation's expiry into the past, as if its time had run out. */
const expire = (videoId: string) =>
  inVideoObject(videoId, (sql) => sql.exec("UPDATE direct_upload SET expires_at = ?", Date.now() - 1));

describe("POST /api/direct-uploads", () => {
  it("mints a capability: 201 with the video's id, a tus and an upload URL, and when it expires", async () => {
    const before = Date.now();
    const res = await mintRequest({});
    expect(res.status).toBe(201);
    const minted = await json<Minted>(res);
    expect(Object.keys(minted).sort()).toEqual(["expiresAt", "tusUrl", "uploadUrl", "videoId"]);
    expect(minted.videoId).toMatch(/^[0-9a-z]{20}$/);
    const capability = `${minted.videoId}\\.[A-Za-z0-9_-]{43}`;
    expect(minted.tusUrl).toMatch(new RegExp(`^${BASE.replace(/\./g, "\\.")}/api/tus\\?direct=${capability}$`));
    expect(minted.uploadUrl).toBe(minted.tusUrl.replace("/api/tus?", "/api/uploads?"));
    // 1800 seconds unless said.
    expect(Date.parse(minted.expiresAt)).toBeGreaterThanOrEqual(before + 1800 * 1000);
    expect(Date.parse(minted.expiresAt)).toBeLessThanOrEqual(Date.now() + 1800 * 1000);
    // Nothing exists of the video until the capability is used.
    expect(await videoRow(minted.videoId)).toBeNull();
    expect((await api(`/api/videos/${minted.videoId}`)).status).toBe(404);
  });

  it("expires when asked, from 60 seconds to a week", async () => {
    const soon = await mint({ expiresInSeconds: 60 });
    expect(Date.parse(soon.expiresAt) - Date.now()).toBeLessThanOrEqual(60 * 1000);
    expect(Date.parse(soon.expiresAt) - Date.now()).toBeGreaterThan(50 * 1000);
    for (const expiresInSeconds of [59, 7 * 24 * 3600 + 1, 1.5]) {
      const res = await mintRequest({ expiresInSeconds });
      expect(res.status, `${expiresInSeconds} s`).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_request" });
    }
  });

  it.each([
    ["a maxSizeBytes of zero", { maxSizeBytes: 0 }],
    ["a maxSizeBytes over the deployment's cap", { maxSizeBytes: 50 * 1024 * 1024 * 1024 + 1 }],
    ["an allowedOrigin that is not an origin", { allowedOrigin: "https://creator.example/upload" }],
    ["a visibility that does not exist", { visibility: "everyone" }],
  ])("refuses %s with 400 invalid_request", async (_name, body) => {
    const res = await mintRequest(body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_request" });
  });

  it("needs the uploader token when UPLOADER_TOKEN is set; the browser using the capability needs none", async () => {
    const guarded = { ...env, UPLOADER_TOKEN: "s3cret-uploader-token" } as unknown as Env;
    const missing = await mintRequest({}, {}, guarded);
    expect(missing.status).toBe(401);
    expect(await errorOf(missing)).toMatchObject({ code: "missing_token" });
    const wrong = await mintRequest({}, { authorization: "Bearer nope" }, guarded);
    expect(wrong.status).toBe(401);
    expect(await errorOf(wrong)).toMatchObject({ code: "invalid_token" });

    const res = await mintRequest({}, { authorization: "Bearer s3cret-uploader-token" }, guarded);
    expect(res.status).toBe(201);
    const minted = await json<Minted>(res);
    const used = await app.fetch(
      new Request(`${BASE}${relative(minted.uploadUrl)}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ filename: "clip.mp4", contentType: "video/mp4", size: 1000 }),
      }),
      guarded,
      createExecutionContext(),
    );
    expect(used.status).toBe(201);
    expect(await json(used)).toMatchObject({ videoId: minted.videoId });
  });
});

describe("uploading with a direct upload", () => {
  it("creates that very video by tus, with no credential, and the upload completes", async () => {
    const minted = await mint();
    const file = bytes(1000, 71);
    const res = await tusCreate(minted.tusUrl, file.length);
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/api/tus/${minted.videoId}`);
    const uploadToken = res.headers.get("reelay-upload-token")!;

    const sent = await api(`/api/tus/${minted.videoId}`, {
      method: "PATCH",
      headers: {
        "tus-resumable": "1.0.0",
        "content-type": "application/offset+octet-stream",
        "upload-offset": "0",
      },
      body: file,
    });
    expect(sent.status).toBe(204);
    expect(sent.headers.get("upload-offset")).toBe("1000");
    expect(await videoRow(minted.videoId)).toMatchObject({ status: "processing", size: 1000 });
    const source = await api(`/api/videos/${minted.videoId}/source`, { headers: auth({ uploadToken }) });
    expect(await sha256(await source.arrayBuffer())).toBe(await sha256(file));
  });

  it("creates that very video by our own API, whose token then sends the chunks", async () => {
    const minted = await mint();
    const file = bytes(2000, 72);
    const res = await nativeCreate(minted.uploadUrl, file.length);
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created).toMatchObject({ videoId: minted.videoId, uploadToken: expect.any(String), totalChunks: 1 });
    expect(res.headers.get("location")).toBe(`/api/uploads/${minted.videoId}`);
    expect((await putChunk(created, 1, file)).status).toBe(200);
    const done = await api(`/api/uploads/${minted.videoId}/complete`, { method: "POST", headers: auth(created) });
    expect(done.status).toBe(202);
  });

  it("gives the creator's title, description, tags and visibility precedence over the browser's", async () => {
    const minted = await mint({
      title: "The creator's title",
      description: "Set by the site",
      tags: ["chosen"],
      visibility: "unlisted",
    });
    const res = await tusCreate(minted.tusUrl, 1000, {
      title: "A browser's title",
      description: "Typed in the browser",
      tags: "mine,yours",
      visibility: "public",
    });
    expect(res.status).toBe(201);
    expect(await videoRow(minted.videoId)).toMatchObject({
      title: "The creator's title",
      description: "Set by the site",
      tags: '["chosen"]',
      visibility: "unlisted",
    });
  });

  it("takes the browser's choices where the creator set none", async () => {
    const minted = await mint({ tags: ["chosen"] });
    const res = await nativeCreate(minted.uploadUrl, 1000, {
      title: "A browser's title",
      tags: ["mine"],
      visibility: "unlisted",
    });
    expect(res.status).toBe(201);
    expect(await videoRow(minted.videoId)).toMatchObject({
      title: "A browser's title",
      tags: '["chosen"]',
      visibility: "unlisted",
    });
  });
});

describe("a direct upload's rules", () => {
  it.each([
    ["tus, then our own API", tusCreate, nativeCreate],
    ["our own API, then tus", nativeCreate, tusCreate],
    ["tus twice", tusCreate, tusCreate],
  ] as const)("is used once: %s answers 409 direct_upload_used the second time", async (_name, first, second) => {
    const minted = await mint();
    const url = (use: typeof tusCreate | typeof nativeCreate) => (use === tusCreate ? minted.tusUrl : minted.uploadUrl);
    expect((await first(url(first), 1000)).status).toBe(201);
    const again = await second(url(second), 1000);
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toMatchObject({ code: "direct_upload_used" });
    // The video is the first use's.
    expect(await videoRow(minted.videoId)).toMatchObject({ status: "uploading", size: 1000 });
  });

  it("expires: 410 direct_upload_expired by tus and by our own API, naming when it expired", async () => {
    const minted = await mint({ expiresInSeconds: 60 });
    await expire(minted.videoId);
    for (const res of [await tusCreate(minted.tusUrl, 1000), await nativeCreate(minted.uploadUrl, 1000)]) {
      expect(res.status).toBe(410);
      expect(await errorOf(res)).toMatchObject({ code: "direct_upload_expired", expiresAt: expect.any(String) });
    }
    expect(await videoRow(minted.videoId)).toBeNull();
  });

  it("is forgotten by the video's alarm once it lapsed unused; a later use finds nothing", async () => {
    const minted = await mint({ expiresInSeconds: 60 });
    // Not yet due: the alarm keeps it.
    expect(await runDurableObjectAlarm(videoStub(minted.videoId))).toBe(true);
    expect((await tusCreate(minted.tusUrl, 1000)).status).toBe(201);

    const lapsing = await mint({ expiresInSeconds: 60 });
    await expire(lapsing.videoId);
    expect(await runDurableObjectAlarm(videoStub(lapsing.videoId))).toBe(true);
    const tables = await inVideoObject(lapsing.videoId, (sql) =>
      sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
        .toArray(),
    );
    expect(tables).toEqual([]);
    for (const res of [await tusCreate(lapsing.tusUrl, 1000), await nativeCreate(lapsing.uploadUrl, 1000)]) {
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toMatchObject({ code: "not_found" });
    }
  });

  it("keeps a used one past its expiry: the video stays, and the alarm leaves it", async () => {
    const minted = await mint({ expiresInSeconds: 60 });
    const res = await tusCreate(minted.tusUrl, 1000);
    expect(res.status).toBe(201);
    await expire(minted.videoId);
    await runDurableObjectAlarm(videoStub(minted.videoId));
    const head = await api(`/api/tus/${minted.videoId}`, { method: "HEAD", headers: { "tus-resumable": "1.0.0" } });
    expect(head.status).toBe(200);
    const again = await tusCreate(minted.tusUrl, 1000);
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toMatchObject({ code: "direct_upload_used" });
  });

  it("refuses a file larger than maxSizeBytes with 413 payload_too_large, and still takes one that fits", async () => {
    const minted = await mint({ maxSizeBytes: 1000 });
    for (const res of [await tusCreate(minted.tusUrl, 1001), await nativeCreate(minted.uploadUrl, 1001)]) {
      expect(res.status).toBe(413);
      expect(await errorOf(res)).toMatchObject({ code: "payload_too_large", limitBytes: 1000 });
    }
    expect(await videoRow(minted.videoId)).toBeNull();
    expect((await tusCreate(minted.tusUrl, 1000)).status).toBe(201);
  });

  it("refuses another video's id with this secret with 401 invalid_token, and that video stays unused", async () => {
    const mine = await mint();
    const other = await mint();
    const secret = capabilityOf(mine).split(".")[1]!;
    const forged = `${BASE}/api/tus?direct=${other.videoId}.${secret}`;
    const res = await tusCreate(forged, 1000);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_token" });
    const native = await nativeCreate(forged.replace("/api/tus?", "/api/uploads?"), 1000);
    expect(native.status).toBe(401);
    expect(await errorOf(native)).toMatchObject({ code: "invalid_token" });
    expect(await videoRow(other.videoId)).toBeNull();
    expect((await tusCreate(other.tusUrl, 1000)).status).toBe(201);
    expect((await tusCreate(mine.tusUrl, 1000)).status).toBe(201);
  });

  it.each([
    ["no capability at all", ""],
    ["a word", "garbage"],
    ["an id without secret", `${newVideoId()}.`],
    ["a secret too short", `${newVideoId()}.abc`],
    ["an id that cannot be one", `NOT-AN-ID.${"a".repeat(43)}`],
    ["a secret with other characters", `${newVideoId()}.${"a".repeat(40)}$%&`],
  ])("refuses %s with 401 invalid_token", async (_name, capability) => {
    const query = `?direct=${encodeURIComponent(capability)}`;
    for (const res of [
      await tusCreate(`${BASE}/api/tus${query}`, 1000),
      await nativeCreate(`${BASE}/api/uploads${query}`, 1000),
    ]) {
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_token" });
    }
  });

  it("answers 404 not_found to a well-formed capability for a video nobody reserved", async () => {
    const res = await tusCreate(`${BASE}/api/tus?direct=${newVideoId()}.${"a".repeat(43)}`, 1000);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "not_found" });
  });

  it("refuses a browser on another origin than allowedOrigin with 403 origin_not_allowed", async () => {
    const minted = await mint({ allowedOrigin: "https://Creator.example" });
    for (const origin of ["https://evil.example", "http://creator.example", "https://creator.example:8443", "null"]) {
      for (const res of [
        await tusCreate(minted.tusUrl, 1000, {}, { origin }),
        await nativeCreate(minted.uploadUrl, 1000, {}, { origin }),
      ]) {
        expect(res.status, origin).toBe(403);
        expect(await errorOf(res)).toMatchObject({ code: "origin_not_allowed" });
      }
    }
    expect(await videoRow(minted.videoId)).toBeNull();
    const res = await tusCreate(minted.tusUrl, 1000, {}, { origin: "https://creator.example" });
    expect(res.status).toBe(201);
  });

  it("lets a client that sends no Origin (not a browser) use an origin-bound capability", async () => {
    const minted = await mint({ allowedOrigin: "https://creator.example" });
    expect((await nativeCreate(minted.uploadUrl, 1000)).status).toBe(201);
  });

  it("does not open the video's upload to the capability: chunks still need the upload token", async () => {
    const minted = await mint();
    const res = await nativeCreate(minted.uploadUrl, 1000);
    expect(res.status).toBe(201);
    const chunk = await api(`/api/uploads/${minted.videoId}/chunks/1${new URL(minted.uploadUrl).search}`, {
      method: "PUT",
      body: bytes(1000),
    });
    expect(chunk.status).toBe(401);
    // A video created by our API through the capability is not a tus upload: its tus URL needs the token too.
    const head = await api(`/api/tus/${minted.videoId}`, { method: "HEAD", headers: { "tus-resumable": "1.0.0" } });
    expect(head.status).toBe(401);
  });
});
