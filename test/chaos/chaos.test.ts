// Fault injection against the real stack (`npm run test:chaos`). Every run
// checks that the stored source is byte-identical to the original (SHA-256)
// and that the video ends ready. The counts are printed for the record. The
// upload client retries 5xx answers, so every upload records them and asserts
// there were none: only the faults injected on purpose may happen.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upload, type UploadSession } from "../../web/src/upload-client.ts";
import { isErrorCode } from "../../worker/contracts/errors.ts";
import { type UploadCreated, UploadCreatedSchema, UploadStatusSchema } from "../../worker/contracts/upload.ts";
import { VideoPageSchema } from "../../worker/contracts/video.ts";
import {
  acceptedJobs,
  isFinal,
  killTranscoderMidJob,
  taskOf,
  makeVideo,
  playbackUrl,
  playedAttempt,
  recordingFetch,
  run,
  sha256File,
  sourceSha256,
  storedKeys,
  transcoderPort,
  waitForVideo,
  type AcceptedJob,
} from "../helpers.ts";
import { startStack, type Stack } from "../stack.ts";
import { rawRequest, slowChunkedJson } from "./hostile-requests.ts";
import { startChaosProxy } from "./proxy.ts";
import { ffmpegPaths } from "../../transcoder/ffmpeg-path.ts";

const MiB = 1024 * 1024;
let dir: string;
const report: Record<string, unknown> = {};
/** Videos made ready earlier in the run, checked again after the hostile requests. */
const kept: (Pick<UploadCreated, "videoId" | "uploadToken"> & { title: string; sha: string })[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reelay-chaos-"));
});

afterAll(async () => {
  console.log(`chaos report: ${JSON.stringify(report, null, 2)}`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function blob(path: string) {
  return new Blob([await readFile(path)]);
}

describe("a stack under faults", () => {
  let stack: Stack;
  beforeAll(async () => {
    // A short watchdog, so a killed transcoder is noticed within the test; 15 s, not 8: the top rung's
    // span of a 1080p source now also writes its frames, and on 2 loaded cores a slow try was presumed
    // dead four times over (CI, d953786).
    stack = await startStack({ env: { JOB_HEARTBEAT_TIMEOUT_SECONDS: "15" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("uploads 200 MiB through a proxy that drops 20%, duplicates 10% and reorders the rest", async () => {
    const path = await makeVideo(join(dir, "big.mp4"), { size: "1280x720", seconds: 4, noise: true });
    const bytes = (await stat(path)).size;
    expect(bytes).toBeGreaterThan(180 * MiB);
    const proxy = await startChaosProxy(stack.url, { drop: 0.2, duplicate: 0.1 });
    try {
      const recording = recordingFetch();
      const up = await upload({
        endpoint: proxy.url,
        fetch: recording.fetch,
        file: await blob(path),
        filename: "big.mp4",
        contentType: "video/mp4",
        title: "Chaos proxy upload",
        chunkSize: 8 * MiB,
        concurrency: 4,
        maxAttempts: 12,
      });
      expect(proxy.upstreamServerErrors, "5xx from the worker behind the proxy").toEqual([]);
      expect(recording.serverErrors, "5xx the client retried over").toEqual([]);
      const sha = await sha256File(path);
      expect(await sourceSha256(stack.url, up.videoId, up.uploadToken)).toBe(sha);
      await waitForVideo(stack.url, up.videoId, isFinal, 300_000);
      kept.push({ ...up, title: "Chaos proxy upload", sha });
      report.proxy = { bytes, ...proxy.faults };
      expect(proxy.faults.dropped).toBeGreaterThan(0);
      expect(proxy.faults.duplicated).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
  });

  it("retries a span whose transcoder is killed twice to ready, leaving no orphaned outputs", async () => {
    const path = await makeVideo(join(dir, "long.mp4"), { size: "1920x1080", seconds: 16 });
    const recording = recordingFetch();
    const up = await upload({
      endpoint: stack.url,
      fetch: recording.fetch,
      file: await blob(path),
      filename: "long.mp4",
      contentType: "video/mp4",
      title: "Killed twice",
    });
    expect(recording.serverErrors).toEqual([]);
    // The first task only copies the source: the encodes killed are the ladder's one span. Each
    // kill waits for a try the transcoder has not been killed in yet, so the second kill hits the
    // retry, not a transcoder that is idle or an orphaned ffmpeg of the first try.
    const killed: AcceptedJob[] = [];
    for (let i = 0; i < 2; i++) killed.push(await killTranscoderMidJob(stack, up.videoId, killed.map(taskOf), 120_000));
    expect(killed.map((t) => [t.span, t.spanAttempt])).toEqual([
      [0, 1],
      [0, 2],
    ]);
    const ready = await waitForVideo(stack.url, up.videoId, isFinal, 400_000);
    expect(ready.renditions.length).toBe(5);
    // The span's third try or a later one made the ladder (under heavy load the 8 s watchdog may also
    // presume a slow try dead, which costs one more); the job itself was never started again.
    const accepted = acceptedJobs(stack, up.videoId);
    report.transcoderKills = { killed, accepted };
    expect(Math.max(...accepted.map((t) => t.spanAttempt ?? 0)), JSON.stringify(accepted)).toBeGreaterThanOrEqual(3);
    expect(playedAttempt(stack, up.videoId, ready.playback.poster!), JSON.stringify(accepted)).toBe(1);
    const keys = storedKeys(stack.stateDir, `videos/${up.videoId}/`);
    expect(new Set(keys.filter((k) => k.includes("/jobs/")).map((k) => k.split("/")[3])).size).toBe(1);
    const sha = await sha256File(path);
    expect(await sourceSha256(stack.url, up.videoId, up.uploadToken)).toBe(sha);
    kept.push({ ...up, title: "Killed twice", sha });
  });

  it("takes 50 concurrent uploads of small videos from one process", async () => {
    const path = await makeVideo(join(dir, "small.mp4"), { size: "320x240", seconds: 2 });
    const file = await blob(path);
    const sha = await sha256File(path);
    const recording = recordingFetch();
    const ups = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        upload({
          endpoint: stack.url,
          fetch: recording.fetch,
          file,
          filename: `small-${i}.mp4`,
          contentType: "video/mp4",
          title: `Swarm clip ${i}`,
          concurrency: 1,
        }),
      ),
    );
    expect(recording.serverErrors).toEqual([]);
    for (const up of ups) expect(await sourceSha256(stack.url, up.videoId, up.uploadToken)).toBe(sha);
    await Promise.all(ups.map((up) => waitForVideo(stack.url, up.videoId, isFinal, 600_000)));
    kept.push(...ups.slice(0, 3).map((up, i) => ({ ...up, title: `Swarm clip ${i}`, sha })));
    report.concurrentUploads = { uploads: ups.length, ready: ups.length, bytesVerified: ups.length * file.size };
  });

  it("answers 200 hostile requests and issue 10's probes with 4xx JSON errors, and everything stored still plays and is found", async () => {
    const target = kept[0];
    const fresh = UploadCreatedSchema.parse(
      await (
        await fetch(`${stack.url}/api/uploads`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ filename: "h.mp4", size: 6 * MiB, contentType: "video/mp4", chunkSize: 5 * MiB }),
        })
      ).json(),
    );
    const chunk = new Uint8Array(5 * MiB);
    const digest = `sha-256=:${Buffer.from(await crypto.subtle.digest("SHA-256", chunk)).toString("base64")}:`;
    const badDigest = `sha-256=:${Buffer.alloc(32, 1).toString("base64")}:`;
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const hostileNames = [
      "../../etc/passwd",
      "<script>alert(1)</script>",
      "a\u0000b",
      "x".repeat(300),
      "",
      "😀".repeat(200),
      "\u202e\u202d",
      "CON",
      "a/b\\c",
    ];
    const hostileQueries = [
      '"',
      "NEAR(",
      "*",
      "a:b",
      "OR",
      "' OR 1=1 --",
      "\u0000",
      "x".repeat(10_000),
      '"unclosed',
      "title:*",
    ];
    const requests: { name: string; go: () => Promise<Response> }[] = [];
    const add = (name: string, go: () => Promise<Response>) => requests.push({ name, go });
    for (let i = 0; requests.length < 200; i++) {
      const k = i % 20;
      if (k === 0)
        add("bad token on chunk", () =>
          fetch(`${stack.url}/api/uploads/${fresh.videoId}/chunks/1`, {
            method: "PUT",
            headers: { ...auth("nope"), "content-digest": digest },
            body: chunk,
          }),
        );
      if (k === 1)
        add("bad token on status", () =>
          fetch(`${stack.url}/api/uploads/${target.videoId}`, { headers: auth(`x${i}`) }),
        );
      if (k === 2)
        add("bad token on delete", () =>
          fetch(`${stack.url}/api/videos/${target.videoId}`, { method: "DELETE", headers: auth("stolen") }),
        );
      if (k === 3)
        add("bad token on patch", () =>
          fetch(`${stack.url}/api/videos/${target.videoId}`, {
            method: "PATCH",
            headers: { ...auth("stolen"), "content-type": "application/json" },
            body: '{"title":"pwned"}',
          }),
        );
      if (k === 4)
        add("wrong digest", () =>
          fetch(`${stack.url}/api/uploads/${fresh.videoId}/chunks/1`, {
            method: "PUT",
            headers: { ...auth(fresh.uploadToken), "content-digest": badDigest },
            body: chunk,
          }),
        );
      if (k === 5)
        add("wrong length", () =>
          fetch(`${stack.url}/api/uploads/${fresh.videoId}/chunks/1`, {
            method: "PUT",
            headers: { ...auth(fresh.uploadToken), "content-digest": digest },
            body: chunk.subarray(0, 1000),
          }),
        );
      if (k === 6)
        add("index out of range", () =>
          fetch(`${stack.url}/api/uploads/${fresh.videoId}/chunks/${[0, 3, 99999, -1][i % 4]}`, {
            method: "PUT",
            headers: { ...auth(fresh.uploadToken), "content-digest": digest },
            body: chunk,
          }),
        );
      if (k === 7 && i < 40)
        add("oversized body", () =>
          fetch(`${stack.url}/api/uploads/${fresh.videoId}/chunks/1`, {
            method: "PUT",
            headers: { ...auth(fresh.uploadToken), "content-digest": digest },
            body: new Uint8Array(96 * MiB),
          }),
        );
      if (k === 8)
        add("malformed JSON", () =>
          fetch(`${stack.url}/api/uploads`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: ["{", '{"size":', "null", "[]", '{"filename":1}'][i % 5],
          }),
        );
      if (k === 9 || k === 10)
        add("hostile filename or title", () =>
          fetch(`${stack.url}/api/uploads`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              filename: hostileNames[i % hostileNames.length],
              size: 10,
              contentType: "video/mp4",
              title: "t".repeat(201),
            }),
          }),
        );
      if (k === 11 || k === 12 || k === 13)
        add("hostile search", () =>
          fetch(
            `${stack.url}/api/videos?q=${encodeURIComponent(hostileQueries[i % hostileQueries.length])}&limit=${["x", "0", "1000", "5"][i % 4]}`,
          ),
        );
      if (k === 14)
        add("missing digest", () =>
          fetch(`${stack.url}/api/uploads/${fresh.videoId}/chunks/1`, {
            method: "PUT",
            headers: auth(fresh.uploadToken),
            body: chunk,
          }),
        );
      if (k === 15)
        add("bad cursor", () =>
          fetch(`${stack.url}/api/videos?cursor=${encodeURIComponent(["nope", "eyJ4IjoxfQ", "%%%", "W10"][i % 4])}`),
        );
      if (k === 16)
        add("unknown video", () =>
          fetch(`${stack.url}/api/videos/${["0000000000000000000a", "../../etc", "%00", "x".repeat(500)][i % 4]}`),
        );
      if (k === 17)
        add("forged job token", () =>
          fetch(`${stack.url}/internal/jobs/j1abcdefghij/files/master.m3u8`, {
            method: "PUT",
            headers: auth("eyJ2aWRlb0lkIjoieCJ9.c2ln"),
            body: "#EXTM3U",
          }),
        );
      if (k === 18)
        add("complete with missing chunks", () =>
          fetch(`${stack.url}/api/uploads/${fresh.videoId}/complete`, {
            method: "POST",
            headers: auth(fresh.uploadToken),
          }),
        );
      if (k === 19)
        add("bad content type", () =>
          fetch(`${stack.url}/api/uploads`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ filename: "a.exe", size: 10, contentType: "application/x-msdownload" }),
          }),
        );
    }

    // The holes of issue 10 ("Hostile input and abuse"), probed over HTTP. Each answer is
    // checked like the ones above; `check` adds what else the answer must say.
    const checks = new Map<string, (res: Response) => void>();
    const probe = (name: string, go: () => Promise<Response>, check?: (res: Response) => void) => {
      add(name, go);
      if (check) checks.set(name, check);
    };
    const targetView = await waitForVideo(stack.url, target.videoId, isFinal, 10_000);
    const job = `${stack.url}/videos/${target.videoId}/${new URL(playbackUrl(stack, targetView.playback.poster!)).pathname.split("/")[3]}`;
    for (const path of ["%", "%zz", "source/%E0%A4%A", "source/seg_%C0%AF.m4s"])
      probe("malformed percent-encoding in a playback path", () => fetch(`${job}/${path}`));
    probe("malformed percent-encoding in a video id", () => fetch(`${stack.url}/api/videos/%E0%A4%A`));
    const unsatisfied = (res: Response) => expect(res.headers.get("content-range")).toMatch(/^bytes \*\/\d+$/);
    probe(
      "range outside a job file",
      () => fetch(`${job}/poster.jpg`, { headers: { range: "bytes=999999999-" } }),
      unsatisfied,
    );
    probe(
      "range outside the source",
      () =>
        fetch(`${stack.url}/api/videos/${target.videoId}/source`, {
          headers: { ...auth(target.uploadToken), range: "bytes=999999999999-" },
        }),
      unsatisfied,
    );
    for (const n of ["1e0", "0x1", "%201"])
      probe(`chunk index ${decodeURIComponent(n)} that is not a plain decimal`, () =>
        fetch(`${stack.url}/api/uploads/${fresh.videoId}/chunks/${n}`, {
          method: "PUT",
          headers: { ...auth(fresh.uploadToken), "content-digest": digest },
          body: chunk,
        }),
      );
    // A job spec as the worker would send one, but made by someone else: no job token of the worker's.
    const forged = "j1forged0000";
    probe("transcoder job without a job token", () =>
      fetch(`http://127.0.0.1:${transcoderPort(stack)}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jobId: forged,
          videoId: fresh.videoId,
          attempt: 1,
          sourceUrl: `${stack.url}/internal/jobs/${forged}/source`,
          uploadBaseUrl: `${stack.url}/internal/jobs/${forged}/files/`,
          callbackUrl: `${stack.url}/internal/jobs/${forged}/events`,
          token: "eyJ2aWRlb0lkIjoieCJ9.c2ln",
        }),
      }),
    );

    // Collected, not asserted one by one: a probe another fix has not reached yet must not hide the rest.
    const statuses: Record<string, number> = {};
    const wrong: unknown[] = [];
    for (const { name, go } of requests) {
      const res = await go();
      const body = (await res.json().catch(() => null)) as {
        error?: { code?: unknown; message?: unknown };
      } | null;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      // Hostile search text is not an error: it is quoted, so it may simply find nothing (200).
      if (name === "hostile search" && res.status === 200) {
        if (!VideoPageSchema.safeParse(body).success) wrong.push({ name, status: res.status, body });
        continue;
      }
      // A 4xx with an error body in Reelay's shape, with a code from the catalogue.
      const json = isErrorCode(body?.error?.code) && typeof body?.error?.message === "string";
      if (!json || res.status < 400 || res.status >= 500) wrong.push({ name, status: res.status, body });
      try {
        checks.get(name)?.(res);
      } catch (e) {
        wrong.push({ name, status: res.status, failed: String(e) });
      }
    }
    report.hostile = { sent: requests.length, statuses };

    // A JSON body streamed without Content-Length, slowly, far past 64 KiB: refused while most of it is unsent.
    const streamed = await slowChunkedJson(`${stack.url}/api/uploads`, {
      totalBytes: 60 * MiB,
      pieceBytes: 64 * 1024,
      intervalMs: 10,
    });
    report.chunkedJson = { status: streamed.status, sentBytes: streamed.sentBytes, totalBytes: streamed.totalBytes };
    expect({ status: streamed.status, code: JSON.parse(streamed.body).error.code }).toEqual({
      status: 413,
      code: "payload_too_large",
    });
    expect(streamed.sentBytes).toBeLessThan(streamed.totalBytes / 2);

    // A forged Host header: the answers name no host of the caller's choosing.
    const evil = { host: "evil.example" };
    const viaEvilHost = {
      video: await rawRequest(`${stack.url}/api/videos/${target.videoId}`, { headers: evil }),
      found: await rawRequest(`${stack.url}/api/videos?q=${encodeURIComponent(target.title)}&limit=100`, {
        headers: evil,
      }),
      master: await rawRequest(playbackUrl(stack, targetView.playback.hls!), { headers: evil }),
    };
    for (const [name, answer] of Object.entries(viaEvilHost))
      expect({ name, status: answer.status, leaks: answer.body.includes("evil.example") }).toEqual({
        name,
        status: 200,
        leaks: false,
      });
    expect(JSON.parse(viaEvilHost.video.body).playback.hls).toBe(`/videos/${target.videoId}/master.m3u8`);

    // A burst of uploads from one client: refused (429 once the rate limit applies), never a 5xx.
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        fetch(`${stack.url}/api/uploads`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ filename: `burst-${i}.mp4`, size: 1000, contentType: "video/mp4" }),
        }),
      ),
    );
    const burstStatuses: Record<string, number> = {};
    for (const res of burst) {
      burstStatuses[res.status] = (burstStatuses[res.status] ?? 0) + 1;
      const body = (await res.json().catch(() => null)) as { error?: { code?: unknown } } | null;
      if (res.status >= 500 || (res.status !== 201 && !isErrorCode(body?.error?.code)))
        wrong.push({ name: "upload burst", status: res.status, body });
    }
    report.uploadBurst = burstStatuses;

    // Nothing earlier was damaged: every kept video still plays, is found, and its source is intact.
    const { ffprobe } = ffmpegPaths();
    for (const v of kept) {
      const view = await waitForVideo(stack.url, v.videoId, isFinal, 10_000);
      expect(view.title).toBe(v.title);
      const probe = JSON.parse(
        (
          await run(ffprobe, [
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "json",
            playbackUrl(stack, view.playback.hls!),
          ])
        ).stdout,
      );
      expect(probe.streams.length).toBeGreaterThan(0);
      const found = VideoPageSchema.parse(
        await (await fetch(`${stack.url}/api/videos?q=${encodeURIComponent(v.title)}&limit=100`)).json(),
      );
      expect(found.items.map((i) => i.id)).toContain(v.videoId);
      expect(await sourceSha256(stack.url, v.videoId, v.uploadToken)).toBe(v.sha);
    }
    report.verifiedAfterHostile = kept.length;
    expect(wrong, "answers that were not 4xx JSON errors, or not what issue 10 asks for").toEqual([]);
    expect(Object.keys(statuses).filter((code) => Number(code) >= 500)).toEqual([]);
  });
});

describe("wrangler dev killed mid-upload", () => {
  it("resumes after a restart with its state kept, sending only the missing chunks", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "reelay-chaos-state-"));
    const path = await makeVideo(join(dir, "restart.mp4"), { size: "1280x720", seconds: 1.2, noise: true });
    const file = await blob(path);
    let stack = await startStack({ stateDir, env: { JOB_HEARTBEAT_TIMEOUT_SECONDS: "8" } });
    const port = stack.port;
    try {
      let session: UploadSession | undefined;
      let done = 0;
      const stop = new AbortController();
      const first = upload({
        endpoint: stack.url,
        file,
        filename: "restart.mp4",
        contentType: "video/mp4",
        title: "Survived a restart",
        chunkSize: 5 * MiB,
        concurrency: 2,
        signal: stop.signal,
        onSession: (s) => (session = s),
        onProgress: (p) => (done = p.chunksDone),
      }).catch((err: Error) => err);
      while (done < 3) await new Promise((r) => setTimeout(r, 20));
      // A crash, not a shutdown: every process of the stack at once.
      process.kill(-stack.process.pid!, "SIGKILL");
      stop.abort(new Error("the stack died"));
      expect(await first).toBeInstanceOf(Error);
      const before = (await stat(path)).size;

      stack = await startStack({ stateDir, port, env: { JOB_HEARTBEAT_TIMEOUT_SECONDS: "8" } });
      const status = UploadStatusSchema.parse(
        await (
          await fetch(`${stack.url}/api/uploads/${session!.videoId}`, {
            headers: { authorization: `Bearer ${session!.uploadToken}` },
          })
        ).json(),
      );
      expect(status.received.length).toBeGreaterThanOrEqual(3);
      expect(status.received.length).toBeLessThan(status.totalChunks);
      const sent: number[] = [];
      // Only the crash was injected; the resumed upload must meet no server error.
      const recording = recordingFetch();
      const counting: typeof fetch = (input, init) => {
        const m = /chunks\/(\d+)$/.exec(String(input));
        if (m) sent.push(Number(m[1]));
        return recording.fetch(input, init);
      };
      const up = await upload({ endpoint: stack.url, fetch: counting, file, filename: "restart.mp4", resume: session });
      expect(recording.serverErrors).toEqual([]);
      expect(new Set(sent).size).toBe(status.totalChunks - status.received.length);
      expect(sent.some((n) => status.received.includes(n))).toBe(false);
      expect(await sourceSha256(stack.url, up.videoId, up.uploadToken)).toBe(await sha256File(path));
      await waitForVideo(stack.url, up.videoId, isFinal, 300_000);
      report.restart = {
        bytes: before,
        chunks: status.totalChunks,
        keptAcrossRestart: status.received.length,
        resent: new Set(sent).size,
      };
    } finally {
      await stack.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
