// Uploads where people are, on the real stack from `npm start`: a stock tus
// client (tus-js-client, Node build) whose upload is cut off in the middle
// of a chunk and resumed, and an import from a plain HTTP server on this
// machine. Both must end as playable videos whose stored source is the file.
// One stack (5 MiB chunks, http imports allowed) and one generated clip serve both.
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tus from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImportAcceptedSchema } from "../../worker/contracts/upload.ts";
import { VideoSchema } from "../../worker/contracts/video.ts";
import { CHUNK_SIZE_HEADER, UPLOAD_TOKEN_HEADER } from "../../worker/uploads/tus-headers.ts";
import { makeVideo, playbackUrl, sha256, sourceSha256, waitForVideo } from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";

const CHUNK = 5 * 1024 * 1024;
let stack: Stack;
let dir: string;
let file: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-e2e-tus-"));
  let path: string;
  [stack, path] = await Promise.all([
    startStack({ env: { DEFAULT_CHUNK_SIZE: String(CHUNK), ALLOW_HTTP_IMPORTS: "true" } }),
    // Four seconds at a constant 28 Mb/s: about 14 MB, three 5 MiB chunks.
    makeVideo(join(dir, "harbour.mp4"), { size: "640x360", seconds: 4, bitrate: "28M" }),
  ]);
  file = await readFile(path);
  expect(Math.ceil(file.length / CHUNK)).toBe(3);
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Ready (playable), and its master playlist answers as HLS. */
async function expectPlayable(videoId: string) {
  const video = await waitForVideo(stack.url, videoId, (v) => v.status === "ready", 120_000);
  expect(video.playback.hls).toBe(`/videos/${videoId}/master.m3u8`);
  const master = await fetch(playbackUrl(stack, video.playback.hls!));
  expect(master.status).toBe(200);
  expect(await master.text()).toMatch(/^#EXTM3U/);
  return video;
}

/** A promise and what settles it (`Promise.withResolvers`, which this TypeScript lib does not type yet). */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

type Sent = { method: string; offset?: string; status: number };

/** What tus-js-client sent and got: every request's method, `Upload-Offset` and answer status. */
function recorder() {
  const sent: Sent[] = [];
  const onAfterResponse = (req: tus.HttpRequest, res: tus.HttpResponse) => {
    sent.push({ method: req.getMethod(), offset: req.getHeader("Upload-Offset"), status: res.getStatus() });
  };
  return { sent, onAfterResponse };
}

type CuttingProxy = { url: string; cut: Promise<void>; close: () => Promise<void> };

/**
 * Passes every request through to the stack, except one PATCH: the one that
 * starts at `offset`, of which it forwards `bytes` and then drops both
 * connections, as a network that fails mid-chunk would. Localhost is too
 * fast to interrupt a request from the client's own progress events.
 */
async function startCuttingProxy(target: string, offset: number, bytes: number): Promise<CuttingProxy> {
  const upstream = new URL(target);
  const cut = deferred();
  let armed = true;
  const server: Server = createServer((req, res) => {
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    if (!(armed && req.method === "PATCH" && req.headers["upload-offset"] === String(offset))) {
      req.pipe(up);
      return;
    }
    armed = false;
    let sent = 0;
    req.on("data", (d: Buffer) => {
      if (sent >= bytes) return;
      const piece = d.subarray(0, bytes - sent);
      sent += piece.length;
      up.write(piece);
      if (sent < bytes) return;
      req.pause();
      // Long enough for what was written to reach the stack; then the line goes dead.
      setTimeout(() => {
        up.destroy();
        req.socket.destroy();
        cut.resolve();
      }, 300);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    cut: cut.promise,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("tus on the real stack", () => {
  it("resumes a tus-js-client upload cut off mid-chunk, and the video plays from the exact bytes", async () => {
    const options = await fetch(`${stack.url}/api/tus`, { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("tus-version")).toBe("1.0.0");
    const chunkSize = Number(options.headers.get(CHUNK_SIZE_HEADER));
    expect(chunkSize).toBe(CHUNK);

    // The connection drops after half of chunk 2.
    const proxy = await startCuttingProxy(stack.url, chunkSize, chunkSize / 2);
    try {
      let token: string | undefined;
      const first = recorder();
      const interrupted = new tus.Upload(file, {
        endpoint: `${proxy.url}/api/tus`,
        chunkSize,
        retryDelays: null,
        metadata: { filename: "harbour.mp4", filetype: "video/mp4", title: "Harbour by tus" },
        onAfterResponse: (req, res) => {
          first.onAfterResponse(req, res);
          if (req.getMethod() === "POST") token = res.getHeader(UPLOAD_TOKEN_HEADER);
        },
      });
      const failed = new Promise<Error>((resolve, reject) => {
        interrupted.options.onError = resolve;
        interrupted.options.onSuccess = () => reject(new Error("the upload finished through a cut connection"));
      });
      interrupted.start();
      await proxy.cut;
      expect((await failed).message).toContain(`failed to upload chunk at offset ${chunkSize}`);
      const uploadUrl = interrupted.url!;
      const videoId = /\/api\/tus\/([A-Za-z0-9_-]+)$/.exec(new URL(uploadUrl).pathname)?.[1];
      expect(videoId).toEqual(expect.any(String));
      expect(token).toEqual(expect.any(String));
      expect(first.sent).toEqual([
        { method: "POST", offset: undefined, status: 201 },
        { method: "PATCH", offset: "0", status: 204 },
      ]);

      // The stack kept chunk 1 and nothing of the half chunk.
      const head = await fetch(`${stack.url}/api/tus/${videoId}`, {
        method: "HEAD",
        headers: { "Tus-Resumable": "1.0.0" },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get("upload-offset")).toBe(String(chunkSize));
      expect(head.headers.get("upload-length")).toBe(String(file.length));

      // A new session from the URL: HEAD, then only the bytes after chunk 1.
      const second = recorder();
      await new Promise<void>((resolve, reject) => {
        new tus.Upload(file, {
          uploadUrl,
          chunkSize,
          // A stock client retries a 409, as it would if the cut request still held its chunk.
          retryDelays: [250, 500, 1000, 2000],
          onAfterResponse: second.onAfterResponse,
          onSuccess: () => resolve(),
          onError: reject,
        }).start();
      });
      expect(second.sent[0]).toEqual({ method: "HEAD", offset: undefined, status: 200 });
      const patches = second.sent.filter((s) => s.method === "PATCH" && s.status === 204);
      expect(patches.map((p) => p.offset)).toEqual([String(chunkSize), String(2 * chunkSize)]);
      expect(second.sent.filter((s) => s.status >= 500)).toEqual([]);

      const video = await expectPlayable(videoId!);
      expect(video.title).toBe("Harbour by tus");
      expect(await sourceSha256(stack.url, videoId!, token!)).toBe(sha256(file));
    } finally {
      await proxy.close();
    }
  });
});

type FileServer = {
  url: string;
  /** Every request: its Range header, if any. */
  requests: { range?: string }[];
  /** Lets the held first answer send the rest of the file. */
  release: () => void;
  close: () => Promise<void>;
};

/**
 * Serves `body` as video/mp4 with Content-Length and byte ranges. The first
 * whole-file answer stops after `holdAfter` bytes until `release()`, so the
 * import can be seen under way.
 */
async function serveFile(body: Buffer, holdAfter: number): Promise<FileServer> {
  const requests: { range?: string }[] = [];
  const held = deferred();
  let holding = true;
  const server: Server = createServer(async (req, res) => {
    requests.push(req.headers.range ? { range: req.headers.range } : {});
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    const headers = { "content-type": "video/mp4", "accept-ranges": "bytes" };
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
      res.writeHead(206, {
        ...headers,
        "content-length": end - start + 1,
        "content-range": `bytes ${start}-${end}/${body.length}`,
      });
      res.end(body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { ...headers, "content-length": body.length });
    if (holding) {
      holding = false;
      res.write(body.subarray(0, holdAfter));
      await held.promise;
      res.end(body.subarray(holdAfter));
    } else res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/films/harbour.mp4`,
    requests,
    release: () => held.resolve(),
    close: () =>
      new Promise<void>((r) => {
        held.resolve();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("imports on the real stack", () => {
  it("imports a video from an http server, importing with progress while it arrives, then playable from the exact bytes", async () => {
    // The first chunk arrives whole, then the server holds the rest back.
    const origin = await serveFile(file, CHUNK + 1024 * 1024);
    try {
      const res = await fetch(`${stack.url}/api/imports`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url: origin.url, tags: ["imported"] }),
      });
      expect(res.status).toBe(202);
      const accepted = ImportAcceptedSchema.parse(await res.json());
      expect(accepted.status).toBe("importing");

      // Under way: importing, with the first of three chunks counted.
      let during = VideoSchema.parse(await (await fetch(`${stack.url}/api/videos/${accepted.videoId}`)).json());
      for (const deadline = Date.now() + 20_000; !(during.progress! > 0) && Date.now() < deadline; ) {
        expect(during.status).toBe("importing");
        await new Promise((r) => setTimeout(r, 100));
        during = VideoSchema.parse(await (await fetch(`${stack.url}/api/videos/${accepted.videoId}`)).json());
      }
      expect(during).toMatchObject({ status: "importing", progress: expect.closeTo(1 / 3, 5) });
      origin.release();

      const video = await expectPlayable(accepted.videoId);
      expect(video).toMatchObject({ title: "harbour", tags: ["imported"] });
      expect(origin.requests).toEqual([{}]);
      expect(await sourceSha256(stack.url, accepted.videoId, accepted.uploadToken)).toBe(sha256(file));
    } finally {
      await origin.close();
    }
  });
});
