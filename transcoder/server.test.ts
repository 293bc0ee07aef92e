import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS, type ErrorCode } from "../worker/contracts/errors.ts";
import type { JobEvent, JobSpec } from "../worker/contracts/job.ts";
import { signJobToken } from "../worker/contracts/job-token.ts";
import type { PublishedMetadata } from "./pipeline.ts";
import { NOT_ACCEPTED_REASON } from "./input-formats.ts";
import { startServer, type TranscoderServer } from "./server.ts";
import { ffmpeg, makeClip } from "./testing/media.ts";

/** The secret the worker signs job tokens with, shared with the transcoder. */
const SECRET = "transcoder-test-secret-0123456789";
/** One expiry for the run, so a job's token is the same every time it is made. */
const EXP = Date.now() + 3600_000;
const tokenFor = (jobId: string, exp = EXP, secret = SECRET) =>
  signJobToken(secret, { videoId: `video-${jobId}`, jobId, exp });

type Received = {
  at: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
};

/**
 * Stands in for the Reelay worker: serves the source, stores uploads, records callbacks, and refuses
 * the way the worker's processing routes do, with `{ error: { code, message } }` (README "Error codes").
 * Job "gone" is superseded when it reports playable; from then on every request of its gets
 * `409 job_superseded`, as from the worker. Job "gone-at-upload" has its uploads refused so, but
 * not its callbacks: only the refused upload can tell it to stop. Job "revoked" gets 401
 * `invalid_token` for everything it sends. Sources "superseded" and "unavailable" answer 409 with
 * the two codes the worker's source route can give; source "redirect" redirects to `elsewhere`;
 * `/source/file/<name>` serves a file of the test's directory; any other unknown path is 404.
 */
/** A file as the worker serves a source: whole, or the one byte range asked for (ffprobe reads the index first). */
async function serveFile(req: IncomingMessage, res: ServerResponse, file: string): Promise<void> {
  const { size } = await stat(file);
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  if (!range) {
    res.writeHead(200, { "content-type": "video/mp4", "content-length": size, "accept-ranges": "bytes" });
    createReadStream(file).pipe(res);
    return;
  }
  const start = Number(range[1]);
  const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  if (start >= size) return void res.writeHead(416, { "content-range": `bytes */${size}` }).end();
  res.writeHead(206, {
    "content-type": "video/mp4",
    "content-length": end - start + 1,
    "content-range": `bytes ${start}-${end}/${size}`,
    "accept-ranges": "bytes",
  });
  createReadStream(file, { start, end }).pipe(res);
}

async function startStandIn(root: string, clipPath: string, elsewhere: string) {
  const requests: Received[] = [];
  const callbacks = (jobId: string) =>
    requests
      .filter((r) => r.path === `/callback/${jobId}`)
      .map((r) => ({ at: r.at, body: JSON.parse(r.body.toString()) as JobEvent }));
  const uploads = (jobId: string) =>
    requests.filter((r) => r.method === "PUT" && r.path.startsWith(`/upload/${jobId}/`));
  const refuse = (res: ServerResponse, code: ErrorCode, message: string) =>
    res
      .writeHead(ERRORS[code], { "content-type": "application/json" })
      .end(JSON.stringify({ error: { code, message } }));
  const supersede = (res: ServerResponse) => refuse(res, "job_superseded", "This job is no longer current; stop it.");
  const superseded = new Set<string>();
  let goneAt = 0;
  let releaseHandBack = () => {};
  const handBackHeld = new Promise<void>((resolve) => (releaseHandBack = resolve));
  const server: Server = createServer(async (req, res) => {
    const path = req.url ?? "/";
    if (path === "/source/superseded") return supersede(res);
    if (path === "/source/unavailable")
      return refuse(res, "source_unavailable", "The source is not available while the upload is uploading.");
    if (path === "/source/redirect") return res.writeHead(302, { location: `${elsewhere}/source/clip` }).end();
    if (path.startsWith("/source/file/")) return serveFile(req, res, join(root, path.slice("/source/file/".length)));
    if (path === "/source/clip") return serveFile(req, res, clipPath);
    if (path === "/source/stall" || path === "/source/trickle") {
      // A download that never finishes: the job is still running when the transcoder is stopped.
      requests.push({ at: Date.now(), method: req.method ?? "", path, headers: req.headers, body: Buffer.alloc(0) });
      res.writeHead(200, { "content-length": 10_000_000 });
      res.write(Buffer.alloc(1024));
      return;
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // the transcoder gave up on this request (it stops a superseded job's uploads mid-body)
    }
    const received = {
      at: Date.now(),
      method: req.method ?? "",
      path,
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    requests.push(received);
    const jobId = /^\/(?:upload|callback)\/([^/]+)/.exec(path)?.[1] ?? "";
    if (superseded.has(jobId)) return supersede(res);
    if (jobId === "revoked") return refuse(res, "invalid_token", "The job token is not valid.");
    if (req.method === "PUT" && jobId === "gone-at-upload") return supersede(res);
    if (req.method === "PUT" && path.startsWith("/upload/")) {
      const file = join(root, "uploads", path.slice("/upload/".length));
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, received.body);
      res.end();
      return;
    }
    if (
      req.method === "POST" &&
      path === "/callback/gone" &&
      JSON.parse(received.body.toString()).type === "playable"
    ) {
      await new Promise((r) => setTimeout(r, 200));
      goneAt = Date.now();
      superseded.add("gone");
      return supersede(res);
    }
    // Held until the test has seen that a transcoder shutting down takes no new job.
    if (path === "/callback/stalled" && JSON.parse(received.body.toString()).type === "failed") await handBackHeld;
    if (path.startsWith("/callback/"))
      return res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    refuse(res, "not_found", "No such resource.");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    callbacks,
    uploads,
    goneAt: () => goneAt,
    releaseHandBack,
    job: async (jobId: string, source = "clip"): Promise<JobSpec> => ({
      jobId,
      videoId: `video-${jobId}`,
      attempt: 1,
      sourceUrl: `${url}/source/${source}`,
      uploadBaseUrl: `${url}/upload/${jobId}`,
      callbackUrl: `${url}/callback/${jobId}`,
      token: await tokenFor(jobId),
    }),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("the transcoder service", () => {
  let root: string;
  let tmp: string;
  let standIn: Awaited<ReturnType<typeof startStandIn>>;
  let service: TranscoderServer;
  // Another host: a job must never make the transcoder talk to it.
  let elsewhere: Server;
  const elsewhereHits: string[] = [];
  const logs: string[] = [];
  const post = async (body: unknown) =>
    fetch(`${service.url}/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(await body),
    });

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "reelay-service-test-"));
    tmp = join(root, "tmp");
    await mkdir(tmp);
    const clipPath = await makeClip(join(root, "clip.mp4"), { width: 640, height: 360, seconds: 2 });
    elsewhere = createServer((req, res) => {
      elsewhereHits.push(`${req.method} ${req.url}`);
      res.writeHead(200, { "content-type": "video/mp4" });
      createReadStream(clipPath).pipe(res);
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    const elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    standIn = await startStandIn(root, clipPath, elsewhereUrl);
    service = await startServer({
      secret: SECRET,
      workerUrl: standIn.url,
      port: 0,
      concurrency: 1,
      tmpDir: tmp,
      logLine: (line) => logs.push(line),
    });
  });

  afterAll(async () => {
    await service?.close();
    await standIn?.close();
    elsewhere?.closeAllConnections();
    elsewhere?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("answers health checks", async () => {
    const res = await fetch(`${service.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("rejects a bad body with 400", async () => {
    for (const body of [
      "not json",
      { ...(await standIn.job("x")), attempt: "one" },
      { ...(await standIn.job("x")), sourceUrl: "file:///etc/passwd" },
    ]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toMatch(/^invalid_/);
      expect(json.error.message).toBeTruthy();
    }
  });

  it("accepts a job with 202 and answers 503 transcoder_busy beyond its concurrency", async () => {
    const accepted = await post(standIn.job("a"));
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ accepted: true, jobId: "a" });
    const busy = await post(standIn.job("b"));
    expect(busy.status).toBe(503);
    expect(((await busy.json()) as { error: { code: string } }).error.code).toBe("transcoder_busy");
    await service.idle();
  });

  it("uploads each step with master.m3u8 last, then calls back playable twice, naming the ladder left", async () => {
    const callbacks = standIn.callbacks("a");
    const types = callbacks.map((c) => c.body.type);
    expect(types[0]).toBe("progress");
    // Playable at step 1's first segments, then once step 1 is whole: the task's last word.
    expect(types.filter((t) => t !== "progress")).toEqual(["playable", "playable"]);
    expect(types.at(-1)).toBe("playable");
    const progress = callbacks.filter((c) => c.body.type === "progress");
    for (const c of progress) expect(c.body).toMatchObject({ jobId: "a", progress: expect.any(Number) });
    // Beats leave every 2 s; arrival times also carry this process's event-loop delays (the service and the
    // stand-in share it), which reached ~100 ms under load. A beat per progress change (~1 s) still fails.
    for (let i = 1; i < progress.length; i++) expect(progress[i].at - progress[i - 1].at).toBeGreaterThanOrEqual(1500);

    const uploads = standIn.uploads("a");
    const names = uploads.map((u) => u.path.slice("/upload/a/".length));
    const masters = names.flatMap((n, i) => (n === "master.m3u8" ? [i] : []));
    expect(masters).toHaveLength(2);
    const growingFiles = names.slice(0, masters[0]);
    expect(growingFiles.every((n) => /^(source|audio_0)\//.test(n))).toBe(true);
    expect(growingFiles).toEqual(
      expect.arrayContaining([
        "source/init.mp4",
        "source/seg_00001.m4s",
        "source/index.m3u8",
        "audio_0/init.mp4",
        "audio_0/index.m3u8",
      ]),
    );
    expect(names.slice(masters[0] + 1, masters[1])).toContain("poster.jpg");
    const [growing, playable] = callbacks.filter((c) => c.body.type === "playable");
    expect(growing.at).toBeGreaterThanOrEqual(uploads[masters[0]].at);
    expect(playable.at).toBeGreaterThanOrEqual(uploads[masters[1]].at);
    if (playable.body.type !== "playable") throw new Error("unreachable");
    expect(playable.body.ladder).toMatchObject({ rungs: ["360p", "240p"], frameRate: { num: 30, den: 1 } });
    expect((playable.body.metadata as PublishedMetadata).files.at(-1)).toBe("master.m3u8");

    const token = (await standIn.job("a")).token;
    for (const u of uploads) {
      expect(u.headers.authorization).toBe(`Bearer ${token}`);
      expect(Number(u.headers["content-length"])).toBe(u.body.length);
    }
    const typeOf = (name: string) => uploads.find((u) => u.path.endsWith(name))!.headers["content-type"];
    expect(typeOf("master.m3u8")).toBe("application/vnd.apple.mpegurl");
    expect(typeOf("init.mp4")).toBe("video/mp4");
    expect(typeOf("seg_00001.m4s")).toBe("video/mp4");
    expect(typeOf("poster.jpg")).toBe("image/jpeg");
    const master = await readFile(join(root, "uploads/a/master.m3u8"), "utf8");
    expect(master).toContain("source/index.m3u8");
    expect(standIn.callbacks("a").every((c) => c.body.jobId === "a")).toBe(true);
    expect(await readdir(tmp)).toEqual([]);
    expect(logs.some((l) => l.includes(token))).toBe(false);
    expect(logs.map((l) => JSON.parse(l).event)).toEqual(
      expect.arrayContaining(["job.accepted", "job.playable", "job.completed"]),
    );
  });

  it("runs a span of that ladder under its own token: its try's segments and span 0's init segments, then its result", async () => {
    const span = { index: 0, attempt: 1, startSec: 0, frames: 120, startNumber: 1, rungs: ["360p", "240p"] };
    const token = await signJobToken(SECRET, { videoId: "video-s", jobId: "s", exp: EXP, span });
    // A token for another try of the span is not this job's.
    const other = await signJobToken(SECRET, {
      videoId: "video-s",
      jobId: "s",
      exp: EXP,
      span: { ...span, attempt: 2 },
    });
    expect((await post({ ...(await standIn.job("s")), span, token: other })).status).toBe(401);
    expect((await post({ ...(await standIn.job("s")), span, token })).status).toBe(202);
    await service.idle();
    const names = standIn.uploads("s").map((u) => u.path.slice("/upload/s/".length));
    // The top rung's frames too: one, of a 2 s clip, at every width, and its sheet.
    const frames = ["frames/160_00000.jpg", "frames/320_00000.jpg", "frames/640_00000.jpg", "frames/sprite_00000.jpg"];
    expect(names.sort()).toEqual([
      "240p/init.mp4",
      "240p/seg_00001.a1.m4s",
      "360p/init.mp4",
      "360p/seg_00001.a1.m4s",
      ...frames,
    ]);
    const last = standIn.callbacks("s").at(-1)!.body;
    if (last.type !== "span_completed") throw new Error(`ended with ${last.type}`);
    expect(last.span).toBe(0);
    expect(last.rungs.map((r) => [r.name, r.segments.map((s) => s.uri)])).toEqual([
      ["360p", ["seg_00001.a1.m4s"]],
      ["240p", ["seg_00001.a1.m4s"]],
    ]);
    for (const r of last.rungs) expect(r.segments[0].duration).toBeGreaterThan(1);
    const init = await readFile(join(root, "uploads/s/360p/init.mp4"));
    expect(last.rungs[0].init).toEqual({ sha256: createHash("sha256").update(init).digest("hex"), bytes: init.length });
  });

  const eventsOf = (jobId: string) =>
    logs
      .map((l) => JSON.parse(l) as { event: string; jobId?: string })
      .filter((e) => e.jobId === jobId)
      .map((e) => e.event);

  it("stops a superseded job at once when a callback answers 409 job_superseded, cleans up and frees its slot", async () => {
    expect((await post(standIn.job("gone"))).status).toBe(202);
    // Its slot is taken while it runs...
    const waiting = await post(standIn.job("waiting"));
    expect(waiting.status).toBe(503);
    expect(((await waiting.json()) as { error: { code: string } }).error.code).toBe("transcoder_busy");
    await service.idle();
    expect(standIn.goneAt()).toBeGreaterThan(0);
    const types = standIn.callbacks("gone").map((c) => c.body.type);
    expect(types).toContain("playable");
    expect(types).not.toContain("completed");
    expect(types).not.toContain("failed");
    expect(standIn.callbacks("gone").filter((c) => c.at > standIn.goneAt() + 100)).toEqual([]);
    expect(standIn.uploads("gone").filter((u) => u.path.endsWith("/master.m3u8"))).toHaveLength(1);
    expect(await readdir(tmp)).toEqual([]);
    expect(eventsOf("gone")).toContain("job.superseded");
    expect(eventsOf("gone")).not.toContain("job.failed");

    // ...and free once it has stopped: the next job is taken (its source is missing, so it ends quickly).
    const next = await post(standIn.job("after-gone", "missing"));
    expect(next.status).toBe(202);
    await service.idle();
    expect(standIn.callbacks("after-gone").at(-1)?.body).toEqual({
      type: "failed",
      jobId: "after-gone",
      reason: "The source could not be read: GET source answered HTTP 404 (not_found).",
      retryable: false,
    });
  });

  it("stops without reporting a failure when an upload answers 409 job_superseded", async () => {
    expect((await post(standIn.job("gone-at-upload"))).status).toBe(202);
    await service.idle();
    expect(standIn.uploads("gone-at-upload").length).toBeGreaterThan(0);
    expect(standIn.callbacks("gone-at-upload").map((c) => c.body.type)).not.toContain("failed");
    expect(standIn.callbacks("gone-at-upload").map((c) => c.body.type)).not.toContain("playable");
    expect(eventsOf("gone-at-upload")).toContain("job.superseded");
    expect(eventsOf("gone-at-upload")).not.toContain("job.failed");
    expect(await readdir(tmp)).toEqual([]);
  });

  it("stops without reporting a failure when the source answers 409 job_superseded", async () => {
    expect((await post(standIn.job("superseded-at-source", "superseded"))).status).toBe(202);
    await service.idle();
    expect(standIn.callbacks("superseded-at-source").map((c) => c.body.type)).not.toContain("failed");
    expect(eventsOf("superseded-at-source")).toContain("job.superseded");
    expect(eventsOf("superseded-at-source")).not.toContain("job.failed");
    expect(await readdir(tmp)).toEqual([]);
  });

  it("reports a 409 with another code as a failure, not as supersession", async () => {
    expect((await post(standIn.job("unavailable", "unavailable"))).status).toBe(202);
    await service.idle();
    expect(standIn.callbacks("unavailable").at(-1)?.body).toEqual({
      type: "failed",
      jobId: "unavailable",
      reason: "The source could not be read: GET source answered HTTP 409 (source_unavailable).",
      retryable: false,
    });
    expect(eventsOf("unavailable")).not.toContain("job.superseded");
    expect(await readdir(tmp)).toEqual([]);
  });

  it("listens on 127.0.0.1 only, unless told otherwise", async () => {
    const listening = logs.map((l) => JSON.parse(l)).find((e) => e.event === "server.listening");
    expect(listening).toMatchObject({ address: "127.0.0.1", port: service.port });
    const outside = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (outside) {
      const reached = await fetch(`http://${outside}:${service.port}/health`).then(
        () => true,
        () => false,
      );
      expect(reached).toBe(false);
    }
  });

  it("refuses with 401 invalid_token a job the worker did not sign for it, and fetches nothing", async () => {
    const job = async (jobId: string, token: Promise<string> | string) => ({
      ...(await standIn.job(jobId, `never-${jobId}`)),
      token: await token,
    });
    const forged = [
      await job("forged", tokenFor("forged", EXP, "another-secret-0123456789abcdef")),
      await job("expired", tokenFor("expired", Date.now() - 1000)),
      await job("borrowed", tokenFor("someone-else")),
      await job("garbage", "not.a-token"),
    ];
    for (const body of forged) {
      const res = await post(body);
      expect(res.status, body.jobId).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
    }
    await service.idle();
    expect(standIn.requests.filter((r) => r.path.startsWith("/source/never-"))).toEqual([]);
    expect(eventsOf("forged")).toEqual([]);
  });

  it("refuses with 400 a job whose URLs lie outside the worker, and fetches nothing", async () => {
    const other = "http://127.0.0.1:1";
    const base = await standIn.job("outside");
    for (const body of [
      { ...base, sourceUrl: `${other}/source/clip` },
      { ...base, uploadBaseUrl: `${other}/upload/outside` },
      { ...base, callbackUrl: `${other}/callback/outside` },
      { ...base, sourceUrl: base.sourceUrl.replace("http://", "http://user:pass@") },
    ]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBe("invalid_request");
      expect(json.error.message).toMatch(/must lie under the worker's URL/);
    }
    expect(eventsOf("outside")).toEqual([]);
  });

  it("does not follow a redirect from the worker, and fails the job for good", async () => {
    expect((await post(standIn.job("redirected", "redirect"))).status).toBe(202);
    await service.idle();
    expect(standIn.callbacks("redirected").at(-1)?.body).toEqual({
      type: "failed",
      jobId: "redirected",
      reason: "The source could not be read: GET source answered HTTP 302.",
      retryable: false,
    });
    expect(elsewhereHits).toEqual([]);
  });

  it("stops a job at once, and reports nothing more, when the worker answers 401", async () => {
    expect((await post(standIn.job("revoked"))).status).toBe(202);
    await service.idle();
    expect(standIn.callbacks("revoked").map((c) => c.body.type)).toEqual(["progress"]);
    expect(standIn.uploads("revoked")).toEqual([]);
    expect(eventsOf("revoked")).toContain("job.unauthorized");
    expect(eventsOf("revoked")).not.toContain("job.failed");
    expect(await readdir(tmp)).toEqual([]);
  });

  it("fails an uploaded HLS playlist or concat list naming local files, and publishes nothing", async () => {
    // A file on the transcoder's host, outside any job's directory, that the upload names.
    const secretDir = await mkdtemp(join(root, "host-files-"));
    const local = join(secretDir, "private.ts");
    await ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2", "-c:v", "libx264", local]);
    await writeFile(
      join(root, "playlist.m3u8"),
      `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n${local}\n#EXT-X-ENDLIST\n`,
    );
    await writeFile(join(root, "list.ffconcat"), `ffconcat version 1.0\nfile '${local}'\n`);
    for (const [jobId, file] of [
      ["playlist", "playlist.m3u8"],
      ["concat", "list.ffconcat"],
    ]) {
      expect((await post(standIn.job(jobId, `file/${file}`))).status).toBe(202);
      await service.idle();
      expect(standIn.callbacks(jobId).at(-1)?.body).toEqual({
        type: "failed",
        jobId,
        reason: NOT_ACCEPTED_REASON,
        retryable: false,
      });
      expect(standIn.uploads(jobId)).toEqual([]);
    }
    expect(await readdir(tmp)).toEqual([]);
  });

  it("fails a job whose download stalls, its heartbeat silent once bytes stop", async () => {
    const stallLogs: string[] = [];
    const stallTmp = await mkdtemp(join(root, "stall-tmp-"));
    const stalling = await startServer({
      secret: SECRET,
      workerUrl: standIn.url,
      port: 0,
      tmpDir: stallTmp,
      settings: { stallMs: 7000 },
      logLine: (line) => stallLogs.push(line),
    });
    try {
      const posted = Date.now();
      const res = await fetch(`${stalling.url}/jobs`, {
        method: "POST",
        body: JSON.stringify(await standIn.job("trickle", "trickle")),
      });
      expect(res.status).toBe(202);
      await stalling.idle();
      const callbacks = standIn.callbacks("trickle");
      expect(callbacks.at(-1)?.body).toEqual({
        type: "failed",
        jobId: "trickle",
        reason: "Transcoding failed: GET source made no progress for 7 s.",
        retryable: true,
      });
      expect(callbacks.at(-1)!.at - posted).toBeGreaterThanOrEqual(7000);
      // 1 KB arrived at once, then nothing: beats at the start and 2 s later, then silence.
      const beats = callbacks.filter((c) => c.body.type === "progress");
      expect(beats.length).toBeGreaterThanOrEqual(1);
      for (const beat of beats) expect(beat.at - posted).toBeLessThan(3500);
      expect(await readdir(stallTmp)).toEqual([]);
    } finally {
      await stalling.close();
    }
  });

  it("on SIGTERM stops accepting, hands its running job back and removes its temp dir", async () => {
    const childTmp = await mkdtemp(join(root, "child-tmp-"));
    const child = spawn(process.execPath, [fileURLToPath(new URL("./server.ts", import.meta.url))], {
      // A free slot, so only shutting down can be why a new job is refused.
      env: {
        ...process.env,
        TRANSCODER_PORT: "0",
        TRANSCODER_CONCURRENCY: "2",
        TMPDIR: childTmp,
        TRANSCODER_SECRET: SECRET,
        WORKER_URL: standIn.url,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const port = await new Promise<number>((resolve) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /"event":"server.listening","port":(\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
    });
    const res = await fetch(`http://127.0.0.1:${port}/jobs`, {
      method: "POST",
      body: JSON.stringify(await standIn.job("stalled", "stall")),
    });
    expect(res.status).toBe(202);
    while (!standIn.requests.some((r) => r.path === "/source/stall")) await new Promise((r) => setTimeout(r, 50));
    expect((await readdir(childTmp)).length).toBe(1);
    child.kill("SIGTERM");
    while (!standIn.callbacks("stalled").some((c) => c.body.type === "failed"))
      await new Promise((r) => setTimeout(r, 20));
    // Still alive, handing its job back: a new job now is refused, by 503 or by a closed port.
    const late = await fetch(`http://127.0.0.1:${port}/jobs`, {
      method: "POST",
      body: JSON.stringify(await standIn.job("late")),
    }).then(
      async (r) => `${r.status} ${((await r.json()) as { error?: { code: string } }).error?.code}`,
      () => "connection refused",
    );
    expect(["503 shutting_down", "connection refused"]).toContain(late);
    standIn.releaseHandBack();
    expect(await exited).toBe(0);
    expect(await readdir(childTmp)).toEqual([]);
    expect(standIn.callbacks("stalled").at(-1)?.body).toMatchObject({ type: "failed", retryable: true });
  });
});
