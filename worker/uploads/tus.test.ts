// tus 1.0.0 at /api/tus, as a tus client sees it: every status code and
// header of the core protocol and of the creation, creation-with-upload,
// expiration, termination and checksum extensions, and the bytes stored.
// The deployment here has 5 MiB chunks (the smallest R2 allows), so bodies
// of several chunks stay small.
import { createExecutionContext, env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import { newVideoId, sourceKey } from "../storage/keys.ts";
import {
  api,
  auth,
  BASE,
  bytes,
  chunkOf,
  createUpload,
  json,
  MiB,
  putChunk,
  sha256,
  testClientIp,
} from "../testing/helpers.ts";
import { inVideoObject, videoStub } from "../testing/video-object.ts";

const CHUNK = 5 * MiB;
const tusEnv = { ...env, DEFAULT_CHUNK_SIZE: String(CHUNK) } as unknown as Env;
const TUS = { "tus-resumable": "1.0.0" };
const OCTETS = "application/offset+octet-stream";

/** A request to the Worker as deployed with `config` (5 MiB chunks unless said otherwise). */
function call(path: string, init: RequestInit = {}, config: Env = tusEnv): Promise<Response> {
  return Promise.resolve(app.fetch(new Request(`${BASE}${path}`, init), config, createExecutionContext()));
}

const b64 = (data: Uint8Array) => btoa(String.fromCharCode(...data));
const utf8b64 = (text: string) => b64(new TextEncoder().encode(text));

/** `Upload-Metadata` as a tus client writes it; null is a key without value. */
const metadataHeader = (metadata: Record<string, string | null>) =>
  Object.entries(metadata)
    .map(([key, value]) => (value === null ? key : `${key} ${utf8b64(value)}`))
    .join(",");

type Creation = {
  metadata?: Record<string, string | null>;
  headers?: Record<string, string>;
  body?: Uint8Array;
  config?: Env;
};

/** `POST /api/tus` for a file of `size` bytes, with a body when given one (creation-with-upload). */
function create(size: number, { metadata, headers = {}, body, config }: Creation = {}): Promise<Response> {
  return call(
    "/api/tus",
    {
      method: "POST",
      headers: {
        ...TUS,
        "cf-connecting-ip": testClientIp(),
        "upload-length": String(size),
        "upload-metadata": metadataHeader(metadata ?? { filename: "clip.mp4", filetype: "video/mp4" }),
        ...(body ? { "content-type": OCTETS, "content-length": String(body.length) } : {}),
        ...headers,
      },
      ...(body ? { body } : {}),
    },
    config,
  );
}

type TusUpload = { videoId: string; url: string; uploadToken: string };

async function created(size: number, creation: Creation = {}): Promise<TusUpload> {
  const res = await create(size, creation);
  if (res.status !== 201) throw new Error(`tus creation failed: ${res.status} ${await res.text()}`);
  const url = res.headers.get("location")!;
  return { videoId: url.split("/").pop()!, url, uploadToken: res.headers.get("reelay-upload-token")! };
}

/** `PATCH` with `body` at `offset`; a byte array is declared with Content-Length, a stream is not. */
function patch(
  up: Pick<TusUpload, "url">,
  offset: number,
  body: Uint8Array | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const length: Record<string, string> = body instanceof Uint8Array ? { "content-length": String(body.length) } : {};
  return call(up.url, {
    method: "PATCH",
    headers: { ...TUS, "content-type": OCTETS, "upload-offset": String(offset), ...length, ...headers },
    body,
  });
}

const head = (up: Pick<TusUpload, "url">, headers: Record<string, string> = {}) =>
  call(up.url, { method: "HEAD", headers: { ...TUS, ...headers } });

/** The offset HEAD reports. */
const offsetOf = async (up: TusUpload) => Number((await head(up)).headers.get("upload-offset"));

/** What our own API says of the upload, with the token tus handed out. */
async function nativeStatus(up: TusUpload) {
  const res = await api(`/api/uploads/${up.videoId}`, { headers: auth(up) });
  expect(res.status).toBe(200);
  return json<{ status: string; received: number[]; size: number; chunkSize: number; totalChunks: number }>(res);
}

/** SHA-256 of the source R2 holds for the video. */
async function storedSourceSha(videoId: string): Promise<string | undefined> {
  const object = await env.VIDEOS.get(sourceKey(videoId));
  return object ? sha256(await object.arrayBuffer()) : undefined;
}

async function videoStatus(videoId: string): Promise<string> {
  return (await json((await api(`/api/videos/${videoId}`)) as Response)).status;
}

async function errorOf(res: Response) {
  return (await json(res)).error;
}

/** `algorithm <base64 digest>` of `data`. */
async function checksum(algorithm: "sha256" | "sha1" | "md5", data: Uint8Array): Promise<string> {
  const name = { sha256: "SHA-256", sha1: "SHA-1", md5: "MD5" }[algorithm];
  return `${algorithm} ${b64(new Uint8Array(await crypto.subtle.digest(name, data)))}`;
}

/** `data` in 1 MiB pieces with no Content-Length; after them the connection `drops` (the stream errors) or just ends. */
function cutOff(data: Uint8Array, how: "drops" | "ends"): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.length) {
        if (how === "drops") controller.error(new Error("connection reset by peer"));
        else controller.close();
        return;
      }
      controller.enqueue(data.slice(at, at + MiB));
      at += MiB;
    },
  });
}

/** Two whole chunks and a short last one. */
const THREE_CHUNKS = 2 * CHUNK + MiB + 7;

describe("OPTIONS /api/tus", () => {
  it("answers a browser's preflight with 204, what the server supports, and CORS for every tus header", async () => {
    const res = await api("/api/tus", {
      method: "OPTIONS",
      headers: {
        origin: "https://creator.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "tus-resumable,upload-length,upload-metadata",
      },
    });
    expect(res.status).toBe(204);
    expect(Object.fromEntries([...res.headers].filter(([name]) => /^(tus-|reelay-)/.test(name)))).toEqual({
      "tus-resumable": "1.0.0",
      "tus-version": "1.0.0",
      "tus-extension": "creation,creation-with-upload,expiration,termination,checksum",
      "tus-checksum-algorithm": "sha256,sha1,md5",
      "tus-max-size": String(50 * 1024 * MiB),
      "reelay-chunk-size": String(16 * MiB),
    });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")?.split(",")).toEqual(
      expect.arrayContaining(["POST", "HEAD", "PATCH", "DELETE", "OPTIONS"]),
    );
    const allowed = res.headers.get("access-control-allow-headers")?.toLowerCase().split(",");
    expect(allowed).toEqual(
      expect.arrayContaining([
        "tus-resumable",
        "upload-length",
        "upload-offset",
        "upload-metadata",
        "upload-checksum",
        "content-type",
        "authorization",
      ]),
    );
  });

  it("answers OPTIONS on an upload's URL the same way", async () => {
    const res = await api(`/api/tus/${newVideoId()}`, { method: "OPTIONS" });
    expect(res.status).toBe(204);
    expect(res.headers.get("tus-version")).toBe("1.0.0");
    expect(res.headers.get("tus-extension")).toBe("creation,creation-with-upload,expiration,termination,checksum");
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
  });

  it("lets a browser read every tus header on the answers themselves", async () => {
    const res = await create(1000, { headers: { origin: "https://creator.example" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const exposed = res.headers.get("access-control-expose-headers")?.toLowerCase().split(",");
    expect(exposed).toEqual(
      expect.arrayContaining([
        "location",
        "upload-offset",
        "upload-length",
        "upload-expires",
        "tus-resumable",
        "tus-version",
        "tus-extension",
        "tus-max-size",
        "tus-checksum-algorithm",
        "reelay-chunk-size",
        "reelay-upload-token",
      ]),
    );
  });

  it("advertises the deployment's own chunk size and upload cap", async () => {
    const res = await call("/api/tus", { method: "OPTIONS" }, {
      ...tusEnv,
      MAX_UPLOAD_BYTES: "123456789",
    } as unknown as Env);
    expect(res.status).toBe(204);
    expect(res.headers.get("tus-max-size")).toBe("123456789");
    expect(res.headers.get("reelay-chunk-size")).toBe(String(CHUNK));
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
  });
});

describe("the protocol version", () => {
  it.each([
    ["no Tus-Resumable", {}],
    ["another version", { "tus-resumable": "0.2.2" }],
  ])(
    "refuses a request with %s with 412 tus_version_unsupported, naming the version it speaks",
    async (_n, headers) => {
      const up = await created(1000);
      for (const res of [
        await call("/api/tus", {
          method: "POST",
          headers: { ...headers, "upload-length": "1000", "cf-connecting-ip": testClientIp() },
        }),
        await call(up.url, {
          method: "PATCH",
          headers: { ...headers, "content-type": OCTETS, "upload-offset": "0" },
          body: bytes(1000),
        }),
        await call(up.url, { method: "DELETE", headers }),
      ]) {
        expect(res.status).toBe(412);
        expect(res.headers.get("tus-version")).toBe("1.0.0");
        expect(res.headers.get("tus-resumable")).toBe("1.0.0");
        expect(await errorOf(res)).toMatchObject({ code: "tus_version_unsupported", message: expect.any(String) });
      }
      const bare = await call(up.url, { method: "HEAD", headers });
      expect(bare.status).toBe(412);
      expect(bare.headers.get("tus-version")).toBe("1.0.0");
      // Nothing of it counted: the upload is where it was.
      expect(await offsetOf(up)).toBe(0);
    },
  );
});

describe("POST /api/tus (creation)", () => {
  it("creates the upload: 201, its URL, when it expires, its chunk size, and a token for our own API", async () => {
    const before = Date.now();
    const res = await create(THREE_CHUNKS);
    expect(res.status).toBe(201);
    const location = res.headers.get("location")!;
    expect(location).toMatch(/^\/api\/tus\/[0-9a-z]{20}$/);
    const videoId = location.split("/").pop()!;
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
    expect(res.headers.get("upload-offset")).toBe("0");
    expect(res.headers.get("upload-length")).toBe(String(THREE_CHUNKS));
    expect(res.headers.get("reelay-chunk-size")).toBe(String(CHUNK));
    const expires = res.headers.get("upload-expires")!;
    expect(expires).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Date.parse(expires)).toBeGreaterThan(before + 23 * 3600 * 1000);
    expect(Date.parse(expires)).toBeLessThanOrEqual(Date.now() + 24 * 3600 * 1000);

    const token = res.headers.get("reelay-upload-token")!;
    expect(token.length).toBeGreaterThanOrEqual(43);
    const status = await api(`/api/uploads/${videoId}`, { headers: { authorization: `Bearer ${token}` } });
    expect(status.status).toBe(200);
    expect(await json(status)).toMatchObject({
      videoId,
      status: "uploading",
      size: THREE_CHUNKS,
      chunkSize: CHUNK,
      totalChunks: 3,
      received: [],
    });
    // The video exists for our own API too.
    expect(await videoStatus(videoId)).toBe("uploading");
    expect((await api(`/api/uploads/${videoId}`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
  });

  it("reads the file's name, type, title, description, tags and visibility from Upload-Metadata", async () => {
    const up = await created(1000, {
      metadata: {
        filename: "Grüße aus Köln.mov",
        filetype: "video/quicktime",
        title: "Köln im Regen 🌧",
        description: "Line one\nline two",
        tags: " rain, city,,Rain , köln ",
        visibility: "unlisted",
        is_confidential: null,
      },
    });
    const row = await env.DB.prepare(
      "SELECT filename, content_type, title, description, tags, visibility, size FROM videos WHERE id = ?",
    )
      .bind(up.videoId)
      .first();
    expect(row).toEqual({
      filename: "Grüße aus Köln.mov",
      content_type: "video/quicktime",
      title: "Köln im Regen 🌧",
      description: "Line one\nline two",
      tags: '["rain","city","köln"]',
      visibility: "unlisted",
      size: 1000,
    });
  });

  it("takes `name` and `type` for the file (Uppy's keys), and titles the video from the file's name", async () => {
    const up = await created(1000, { metadata: { name: "holiday-2024.mp4", type: "video/mp4" } });
    const row = await env.DB.prepare("SELECT filename, content_type, title, visibility FROM videos WHERE id = ?")
      .bind(up.videoId)
      .first();
    expect(row).toEqual({
      filename: "holiday-2024.mp4",
      content_type: "video/mp4",
      title: "holiday-2024",
      visibility: "public",
    });
  });

  it("creates an upload of unknown type with no metadata at all", async () => {
    const res = await call("/api/tus", {
      method: "POST",
      headers: { ...TUS, "cf-connecting-ip": testClientIp(), "upload-length": "1000" },
    });
    expect(res.status).toBe(201);
    const videoId = res.headers.get("location")!.split("/").pop()!;
    const row = await env.DB.prepare("SELECT filename, content_type FROM videos WHERE id = ?").bind(videoId).first();
    expect(row).toEqual({ filename: "video", content_type: "application/octet-stream" });
  });

  it("refuses an audio file with 415 not_a_video, creating nothing", async () => {
    const res = await create(1000, { metadata: { filename: "tus-song-415.mp3", filetype: "audio/mpeg" } });
    expect(res.status).toBe(415);
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
    expect(await errorOf(res)).toMatchObject({ code: "not_a_video" });
    const count = await env.DB.prepare("SELECT count(*) AS n FROM videos WHERE filename = ?")
      .bind("tus-song-415.mp3")
      .first("n");
    expect(count).toBe(0);
  });

  it.each([
    ["malformed metadata", { "upload-metadata": "filename not*base64!" }],
    ["a metadata key given twice", { "upload-metadata": `title ${utf8b64("a")},title ${utf8b64("b")}` }],
    ["a visibility that does not exist", { "upload-metadata": `visibility ${utf8b64("everyone")}` }],
    ["a title over 200 characters", { "upload-metadata": `title ${utf8b64("t".repeat(201))}` }],
    ["no Upload-Length", { "upload-length": "" }],
    ["an Upload-Length of zero", { "upload-length": "0" }],
    ["an Upload-Length that is not decimal digits", { "upload-length": "1e3" }],
    ["a deferred length", { "upload-length": "", "upload-defer-length": "1" }],
  ])("refuses %s with 400 invalid_request", async (_name, headers) => {
    const init: Record<string, string> = {
      ...TUS,
      "cf-connecting-ip": testClientIp(),
      "upload-length": "1000",
      "upload-metadata": `filename ${utf8b64("clip.mp4")}`,
      ...headers,
    };
    for (const [name, value] of Object.entries(init)) if (value === "") delete init[name];
    const res = await call("/api/tus", { method: "POST", headers: init });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_request", message: expect.any(String) });
  });

  it("refuses an Upload-Length over Tus-Max-Size with 413 payload_too_large", async () => {
    const max = 50 * 1024 * MiB;
    expect((await create(max)).status).toBe(201);
    const res = await create(max + 1);
    expect(res.status).toBe(413);
    expect(await errorOf(res)).toMatchObject({ code: "payload_too_large" });
  });

  it("needs the uploader token when UPLOADER_TOKEN is set, and then nothing more on the upload's URL", async () => {
    const guarded = { ...tusEnv, UPLOADER_TOKEN: "s3cret-uploader-token" } as unknown as Env;
    const missing = await create(1000, { config: guarded });
    expect(missing.status).toBe(401);
    expect(await errorOf(missing)).toMatchObject({ code: "missing_token" });
    const wrong = await create(1000, { config: guarded, headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect(await errorOf(wrong)).toMatchObject({ code: "invalid_token" });

    const res = await create(1000, { config: guarded, headers: { authorization: "Bearer s3cret-uploader-token" } });
    expect(res.status).toBe(201);
    const url = res.headers.get("location")!;
    const file = bytes(1000, 4);
    const sent = await call(
      url,
      {
        method: "PATCH",
        headers: { ...TUS, "content-type": OCTETS, "upload-offset": "0", "content-length": "1000" },
        body: file,
      },
      guarded,
    );
    expect(sent.status).toBe(204);
    expect(sent.headers.get("upload-offset")).toBe("1000");
  });
});

describe("HEAD /api/tus/:id", () => {
  it("reports the offset, length, expiry and chunk size, never cached", async () => {
    const file = bytes(THREE_CHUNKS, 11);
    const up = await created(file.length);
    expect((await patch(up, 0, chunkOf(file, { chunkSize: CHUNK }, 1))).status).toBe(204);
    const res = await head(up);
    expect(res.status).toBe(200);
    expect(res.headers.get("upload-offset")).toBe(String(CHUNK));
    expect(res.headers.get("upload-length")).toBe(String(file.length));
    expect(res.headers.get("reelay-chunk-size")).toBe(String(CHUNK));
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
    expect(Date.parse(res.headers.get("upload-expires")!)).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
  });

  it("is the only way to read the upload's URL: GET is 405", async () => {
    const up = await created(1000);
    const res = await call(up.url, { headers: TUS });
    expect(res.status).toBe(405);
    expect(await errorOf(res)).toMatchObject({ code: "method_not_allowed" });
  });

  it("answers 404 for an upload that does not exist, or an id that cannot be one", async () => {
    for (const id of [newVideoId(), "not-a-video-id"]) {
      const res = await head({ url: `/api/tus/${id}` });
      expect(res.status).toBe(404);
      expect(res.headers.get("tus-resumable")).toBe("1.0.0");
      const sent = await patch({ url: `/api/tus/${id}` }, 0, bytes(10));
      expect(sent.status).toBe(404);
      expect(await errorOf(sent)).toMatchObject({ code: "not_found" });
    }
  });
});

describe("PATCH /api/tus/:id", () => {
  const plan = { chunkSize: CHUNK };

  it("stores one chunk and answers 204 with the new offset", async () => {
    const file = bytes(THREE_CHUNKS, 12);
    const up = await created(file.length);
    const res = await patch(up, 0, chunkOf(file, plan, 1));
    expect(res.status).toBe(204);
    expect(res.headers.get("upload-offset")).toBe(String(CHUNK));
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
    expect(await nativeStatus(up)).toMatchObject({ status: "uploading", received: [1] });
  });

  it("stores a body of several chunks as separate parts, then the short last chunk completes the upload", async () => {
    const file = bytes(THREE_CHUNKS, 13);
    const up = await created(file.length);
    const res = await patch(up, 0, file.subarray(0, 2 * CHUNK));
    expect(res.status).toBe(204);
    expect(res.headers.get("upload-offset")).toBe(String(2 * CHUNK));
    expect(res.headers.get("upload-expires")).not.toBeNull();
    expect(await nativeStatus(up)).toMatchObject({ status: "uploading", received: [1, 2], totalChunks: 3 });
    // Each chunk is its own part, recorded with its own SHA-256.
    const recorded = await inVideoObject(up.videoId, (sql) =>
      sql.exec<{ n: number; size: number; sha256: string }>("SELECT n, size, sha256 FROM chunks ORDER BY n").toArray(),
    );
    expect(recorded).toEqual([
      { n: 1, size: CHUNK, sha256: await sha256(chunkOf(file, plan, 1)) },
      { n: 2, size: CHUNK, sha256: await sha256(chunkOf(file, plan, 2)) },
    ]);

    const last = await patch(up, 2 * CHUNK, chunkOf(file, plan, 3));
    expect(last.status).toBe(204);
    // Complete: the offset is the whole file, and it no longer expires.
    expect(last.headers.get("upload-offset")).toBe(String(file.length));
    expect(last.headers.get("upload-expires")).toBeNull();
    expect(await videoStatus(up.videoId)).toBe("processing");
    expect(await nativeStatus(up)).toMatchObject({ status: "processing", received: [1, 2, 3] });
    expect(await storedSourceSha(up.videoId)).toBe(await sha256(file));
  });

  it("takes a whole file in one body, as a stream without Content-Length, and completes it without a call", async () => {
    const file = bytes(THREE_CHUNKS, 14);
    const up = await created(file.length);
    const res = await patch(up, 0, cutOff(file, "ends"));
    expect(res.status).toBe(204);
    expect(res.headers.get("upload-offset")).toBe(String(file.length));
    expect(await videoStatus(up.videoId)).toBe("processing");

    // The owner downloads exactly what was sent.
    const source = await api(`/api/videos/${up.videoId}/source`, { headers: auth(up) });
    expect(source.status).toBe(200);
    expect(await sha256(await source.arrayBuffer())).toBe(await sha256(file));

    // After completion HEAD reports the whole file, and more bytes are refused.
    const after = await head(up);
    expect(after.status).toBe(200);
    expect(after.headers.get("upload-offset")).toBe(String(file.length));
    expect(after.headers.get("upload-expires")).toBeNull();
    const late = await patch(up, file.length, new Uint8Array(0));
    expect(late.status).toBe(409);
    expect(await errorOf(late)).toMatchObject({ code: "upload_closed", status: "processing" });
  });

  it("stores the same bytes as an upload by our own API of the same file", async () => {
    const file = bytes(2 * CHUNK + 12_345, 15);
    const byTus = await created(file.length);
    expect((await patch(byTus, 0, file)).status).toBe(204);

    const native = await createUpload({ size: file.length, chunkSize: CHUNK });
    for (let n = 1; n <= native.totalChunks; n++) {
      expect((await putChunk(native, n, chunkOf(file, native, n))).status).toBe(200);
    }
    expect(
      (await api(`/api/uploads/${native.videoId}/complete`, { method: "POST", headers: auth(native) })).status,
    ).toBe(202);

    const tusObject = await env.VIDEOS.get(sourceKey(byTus.videoId));
    const nativeObject = await env.VIDEOS.get(sourceKey(native.videoId));
    expect(tusObject?.size).toBe(file.length);
    expect(nativeObject?.size).toBe(file.length);
    const digest = await sha256(file);
    expect(await sha256(await tusObject!.arrayBuffer())).toBe(digest);
    expect(await sha256(await nativeObject!.arrayBuffer())).toBe(digest);
  });

  it.each([
    ["no Content-Type", {}],
    ["another Content-Type", { "content-type": "application/octet-stream" }],
  ])("refuses a body with %s with 415 wrong_content_type", async (_name, headers) => {
    const up = await created(1000);
    const res = await call(up.url, {
      method: "PATCH",
      headers: { ...TUS, "upload-offset": "0", ...headers },
      body: bytes(1000),
    });
    expect(res.status).toBe(415);
    expect(await errorOf(res)).toMatchObject({ code: "wrong_content_type" });
    expect(await offsetOf(up)).toBe(0);
  });

  it("refuses a body at another offset than the upload's with 409 offset_mismatch, naming the offset", async () => {
    const file = bytes(THREE_CHUNKS, 16);
    const up = await created(file.length);
    const ahead = await patch(up, CHUNK, chunkOf(file, plan, 2));
    expect(ahead.status).toBe(409);
    expect(await errorOf(ahead)).toMatchObject({ code: "offset_mismatch", offset: 0, message: expect.any(String) });

    expect((await patch(up, 0, chunkOf(file, plan, 1))).status).toBe(204);
    // The same chunk again, as a client that missed the answer would send it.
    const again = await patch(up, 0, chunkOf(file, plan, 1));
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toMatchObject({ code: "offset_mismatch", offset: CHUNK });
    expect(await nativeStatus(up)).toMatchObject({ received: [1] });
  });

  it("refuses a missing or malformed Upload-Offset with 400", async () => {
    const up = await created(1000);
    for (const offset of [undefined, "-1", "0x0", ""]) {
      const res = await call(up.url, {
        method: "PATCH",
        headers: { ...TUS, "content-type": OCTETS, ...(offset === undefined ? {} : { "upload-offset": offset }) },
        body: bytes(1000),
      });
      expect(res.status, `Upload-Offset ${offset}`).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "invalid_request" });
    }
  });

  it("refuses a body that is not whole chunks and does not end the file with 400 wrong_length naming the chunk size", async () => {
    const file = bytes(THREE_CHUNKS, 17);
    const up = await created(file.length);
    for (const length of [CHUNK - 1, CHUNK + 1, 2 * CHUNK + 1]) {
      const res = await patch(up, 0, file.subarray(0, length));
      expect(res.status, `${length} bytes`).toBe(400);
      const error = await errorOf(res);
      expect(error).toMatchObject({ code: "wrong_length", chunkSize: CHUNK });
      expect(error.message).toContain(String(CHUNK));
    }
    expect(await nativeStatus(up)).toMatchObject({ received: [] });
    expect(await offsetOf(up)).toBe(0);
  });

  it("refuses a declared body that runs past the end of the file with 400 wrong_length, keeping nothing", async () => {
    const up = await created(1000);
    const res = await patch(up, 0, bytes(1001));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "wrong_length" });
    expect(await offsetOf(up)).toBe(0);
    expect(await nativeStatus(up)).toMatchObject({ status: "uploading", received: [] });
  });

  it("finds out an undeclared body that runs past the end only as it arrives: 400, the file's chunks kept and completed", async () => {
    const file = bytes(1001, 18);
    const up = await created(1000);
    const res = await patch(up, 0, cutOff(file, "ends"));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "wrong_length" });
    // As after a dropped connection, the whole chunks that arrived stay; here they are the whole file.
    expect(await offsetOf(up)).toBe(1000);
    expect(await nativeStatus(up)).toMatchObject({ status: "processing", received: [1] });
    expect(await storedSourceSha(up.videoId)).toBe(await sha256(file.subarray(0, 1000)));
  });

  it("takes an empty body at the upload's offset and changes nothing", async () => {
    const up = await created(1000);
    const res = await patch(up, 0, new Uint8Array(0));
    expect(res.status).toBe(204);
    expect(res.headers.get("upload-offset")).toBe("0");
  });
});

describe("Upload-Checksum", () => {
  it.each(["sha256", "sha1", "md5"] as const)("takes a body whose %s matches", async (algorithm) => {
    const file = bytes(4000, 21);
    const up = await created(file.length);
    const res = await patch(up, 0, file, { "upload-checksum": await checksum(algorithm, file) });
    expect(res.status).toBe(204);
    expect(res.headers.get("upload-offset")).toBe(String(file.length));
    expect(await storedSourceSha(up.videoId)).toBe(await sha256(file));
  });

  it("refuses a body that does not match with 460 checksum_mismatch and keeps nothing of it", async () => {
    const file = bytes(THREE_CHUNKS, 22);
    const up = await created(file.length);
    const first = chunkOf(file, { chunkSize: CHUNK }, 1);
    const res = await patch(up, 0, first, { "upload-checksum": await checksum("sha1", bytes(CHUNK, 99)) });
    expect(res.status).toBe(460);
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");
    expect(await errorOf(res)).toMatchObject({ code: "checksum_mismatch", message: expect.any(String) });
    expect(await offsetOf(up)).toBe(0);
    expect(await nativeStatus(up)).toMatchObject({ received: [] });
    // The chunk is free again: the right bytes go in.
    const retry = await patch(up, 0, first, { "upload-checksum": await checksum("sha1", first) });
    expect(retry.status).toBe(204);
    expect(retry.headers.get("upload-offset")).toBe(String(CHUNK));
  });

  it("keeps no chunk of a body of several chunks that does not match, nor completes the upload", async () => {
    const file = bytes(THREE_CHUNKS, 23);
    const up = await created(file.length);
    const wrong = await checksum("sha256", file.subarray(1));
    const partial = await patch(up, 0, file.subarray(0, 2 * CHUNK), { "upload-checksum": wrong });
    expect(partial.status).toBe(460);
    expect(await errorOf(partial)).toMatchObject({ code: "checksum_mismatch" });
    expect(await offsetOf(up)).toBe(0);
    expect(await nativeStatus(up)).toMatchObject({ status: "uploading", received: [] });

    const whole = await patch(up, 0, file, { "upload-checksum": wrong });
    expect(whole.status).toBe(460);
    expect(await nativeStatus(up)).toMatchObject({ status: "uploading", received: [] });
    expect(await videoStatus(up.videoId)).toBe("uploading");

    const right = await patch(up, 0, file, { "upload-checksum": await checksum("sha256", file) });
    expect(right.status).toBe(204);
    expect(right.headers.get("upload-offset")).toBe(String(file.length));
    expect(await storedSourceSha(up.videoId)).toBe(await sha256(file));
  });

  it.each([
    ["an algorithm it does not offer", "crc32 AAAAAA=="],
    ["no digest", "sha256"],
    ["a digest that is not base64", "md5 !!!"],
  ])("refuses %s with 400 unsupported_checksum before reading the body", async (_name, header) => {
    const up = await created(1000);
    const res = await patch(up, 0, bytes(1000), { "upload-checksum": header });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "unsupported_checksum" });
    expect(await offsetOf(up)).toBe(0);
  });
});

describe("a connection lost in the middle of a chunk", () => {
  it.each(["drops", "ends"] as const)(
    "keeps the whole chunks before it when it %s, and the client resumes from the offset HEAD reports",
    async (how) => {
      const file = bytes(THREE_CHUNKS, how === "drops" ? 31 : 32);
      const up = await created(file.length);
      const lost = await patch(up, 0, cutOff(file.subarray(0, CHUNK + 2 * MiB), how));
      expect(lost.status).toBe(400);
      expect(await errorOf(lost)).toMatchObject({ code: "wrong_length" });

      const res = await head(up);
      expect(res.headers.get("upload-offset")).toBe(String(CHUNK));
      expect(await nativeStatus(up)).toMatchObject({ status: "uploading", received: [1] });

      const resumed = await patch(up, CHUNK, file.subarray(CHUNK));
      expect(resumed.status).toBe(204);
      expect(resumed.headers.get("upload-offset")).toBe(String(file.length));
      expect(await videoStatus(up.videoId)).toBe("processing");
      expect(await storedSourceSha(up.videoId)).toBe(await sha256(file));
    },
  );
});

describe("creation-with-upload", () => {
  it("stores the creation's body and answers 201 with the offset reached", async () => {
    const file = bytes(THREE_CHUNKS, 41);
    const res = await create(file.length, { body: file.subarray(0, CHUNK) });
    expect(res.status).toBe(201);
    expect(res.headers.get("upload-offset")).toBe(String(CHUNK));
    const up = {
      url: res.headers.get("location")!,
      videoId: res.headers.get("location")!.split("/").pop()!,
      uploadToken: res.headers.get("reelay-upload-token")!,
    };
    expect(await offsetOf(up)).toBe(CHUNK);
    expect((await patch(up, CHUNK, file.subarray(CHUNK))).status).toBe(204);
    expect(await storedSourceSha(up.videoId)).toBe(await sha256(file));
  });

  it("completes a file sent whole in the creation, with a checksum", async () => {
    const file = bytes(3000, 42);
    const res = await create(file.length, {
      body: file,
      headers: { "upload-checksum": await checksum("md5", file) },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("upload-offset")).toBe(String(file.length));
    expect(res.headers.get("upload-expires")).toBeNull();
    const videoId = res.headers.get("location")!.split("/").pop()!;
    expect(await videoStatus(videoId)).toBe("processing");
    expect(await storedSourceSha(videoId)).toBe(await sha256(file));
  });

  it("answers 460 to a creation whose body does not match its checksum, and leaves no usable upload", async () => {
    const file = bytes(3000, 43);
    const filename = `mismatch-${newVideoId()}.mp4`;
    const res = await create(file.length, {
      body: file,
      metadata: { filename, filetype: "video/mp4" },
      headers: { "upload-checksum": await checksum("sha256", bytes(3000, 44)) },
    });
    expect(res.status).toBe(460);
    expect(await errorOf(res)).toMatchObject({ code: "checksum_mismatch" });
    const row = await env.DB.prepare("SELECT id, status FROM videos WHERE filename = ?")
      .bind(filename)
      .first<{ id: string; status: string }>();
    expect(row?.status).toBe("aborted");
    expect((await head({ url: `/api/tus/${row!.id}` })).status).toBe(410);
    const sent = await patch({ url: `/api/tus/${row!.id}` }, 0, file);
    expect(sent.status).toBe(410);
    expect(await errorOf(sent)).toMatchObject({ code: "upload_gone" });
  });

  it("refuses a creation whose body is not whole chunks with 400 wrong_length, creating nothing", async () => {
    const filename = `ragged-${newVideoId()}.mp4`;
    const res = await create(THREE_CHUNKS, {
      body: bytes(CHUNK + 1, 45),
      metadata: { filename, filetype: "video/mp4" },
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "wrong_length", chunkSize: CHUNK });
    const count = await env.DB.prepare("SELECT count(*) AS n FROM videos WHERE filename = ?").bind(filename).first("n");
    expect(count).toBe(0);
  });
});

describe("termination and expiry", () => {
  it("terminates an upload with DELETE: 204, then 410 upload_gone to HEAD, PATCH and DELETE", async () => {
    const file = bytes(THREE_CHUNKS, 51);
    const up = await created(file.length);
    expect((await patch(up, 0, chunkOf(file, { chunkSize: CHUNK }, 1))).status).toBe(204);
    const res = await call(up.url, { method: "DELETE", headers: TUS });
    expect(res.status).toBe(204);
    expect(res.headers.get("tus-resumable")).toBe("1.0.0");

    const after = await head(up);
    expect(after.status).toBe(410);
    expect(after.headers.get("tus-resumable")).toBe("1.0.0");
    const sent = await patch(up, CHUNK, chunkOf(file, { chunkSize: CHUNK }, 2));
    expect(sent.status).toBe(410);
    expect(await errorOf(sent)).toMatchObject({ code: "upload_gone", status: "aborted" });
    const again = await call(up.url, { method: "DELETE", headers: TUS });
    expect(again.status).toBe(410);
    expect(await videoStatus(up.videoId)).toBe("aborted");
  });

  it("answers 404 to DELETE of an upload that does not exist", async () => {
    const res = await call(`/api/tus/${newVideoId()}`, { method: "DELETE", headers: TUS });
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toMatchObject({ code: "not_found" });
  });

  it("answers 410 upload_gone once the upload expired unfinished", async () => {
    const up = await created(1000);
    await inVideoObject(up.videoId, (sql) => sql.exec("UPDATE video SET expires_at = ?", Date.now() - 1));
    expect(await runDurableObjectAlarm(videoStub(up.videoId))).toBe(true);
    expect((await head(up)).status).toBe(410);
    const sent = await patch(up, 0, bytes(1000));
    expect(sent.status).toBe(410);
    expect(await errorOf(sent)).toMatchObject({ code: "upload_gone", status: "expired" });
  });
});

describe("access to an upload's URL", () => {
  it("opens an upload created by our own API only with its upload token", async () => {
    const file = bytes(1000, 61);
    const native = await createUpload({ size: file.length });
    const url = `/api/tus/${native.videoId}`;

    const anonymous = await head({ url });
    expect(anonymous.status).toBe(401);
    const refused = await patch({ url }, 0, file);
    expect(refused.status).toBe(401);
    expect(await errorOf(refused)).toMatchObject({ code: "missing_token" });
    const deleted = await call(url, { method: "DELETE", headers: TUS });
    expect(deleted.status).toBe(401);
    const wrong = await patch({ url }, 0, file, { authorization: "Bearer not-the-token" });
    expect(wrong.status).toBe(401);
    expect(await errorOf(wrong)).toMatchObject({ code: "invalid_token" });

    const withToken = await head({ url }, auth(native));
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get("upload-offset")).toBe("0");
    expect(withToken.headers.get("reelay-chunk-size")).toBe(String(16 * MiB));
    const sent = await patch({ url }, 0, file, auth(native));
    expect(sent.status).toBe(204);
    expect(sent.headers.get("upload-offset")).toBe("1000");
    expect(await videoStatus(native.videoId)).toBe("processing");
    expect(await storedSourceSha(native.videoId)).toBe(await sha256(file));
  });

  it("opens a tus upload with its upload token too, and refuses a wrong one", async () => {
    const up = await created(1000);
    expect((await head(up, auth(up))).status).toBe(200);
    const wrong = await head(up, { authorization: "Bearer not-the-token" });
    expect(wrong.status).toBe(401);
  });
});
