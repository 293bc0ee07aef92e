// The production data path, inside workerd: a transcoder container's requests
// to the internal host are answered by TranscoderContainer's outbound handler
// with the Worker's bindings. The tests call that handler (and the library's
// ContainerProxy that dispatches to it) exactly as the container's requests
// arrive, with real signed job tokens, and hand jobs over with the container
// transport (no TRANSCODER_URL, no PUBLIC_URL) to a stand-in container binding,
// since workerd in tests runs no containers.
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import { expectError } from "../../test/expect-error.ts";
import { signJobToken } from "../contracts/job-token.ts";
import type { JobSpec } from "../contracts/job.ts";
import worker from "../index.ts";
import { jobFileKey } from "../storage/keys.ts";
import { auth, bytes, json } from "../testing/helpers.ts";
import { complete, metadata, processingVideo, SECRET, uploadedVideo, type Job } from "../testing/processing.ts";
import { videoStub } from "../testing/video-object.ts";
import { TranscoderContainer } from "./container.ts";
import { JOB_STORAGE_HOST, JOB_STORAGE_ORIGIN } from "./transcoder.ts";

const handler = TranscoderContainer.outboundByHost?.[JOB_STORAGE_HOST];
const outboundCtx = { containerId: "test", className: "TranscoderContainer" };

/** A request from inside the container, as the outbound handler receives it. */
function fromContainer(path: string, init: RequestInit = {}, origin = JOB_STORAGE_ORIGIN): Promise<Response> {
  if (!handler) throw new Error(`no outbound handler for ${JOB_STORAGE_HOST}`);
  return Promise.resolve(handler(new Request(`${origin}${path}`, init), env, outboundCtx));
}

const asJob = (job: Job, path: string, init: RequestInit = {}) =>
  fromContainer(`/internal/jobs/${job.jobId}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${job.token}`, ...init.headers },
  });

const postEvent = (job: Job, e: Record<string, unknown>, send = asJob) =>
  send(job, "/events", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jobId: job.jobId, ...e }),
  });

describe("the containers' way to the Worker", () => {
  it("serves the job's source by range", async () => {
    const { job, file } = await processingVideo();
    const res = await asJob(job, "/source", { headers: { range: "bytes=1000-1999" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 1000-1999/${file.length}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.slice(1000, 2000));
  });

  it("stores an output file under the job's prefix", async () => {
    const { job } = await processingVideo();
    const segment = bytes(4096, 9);
    // The container's HTTP client states the length, as the route requires.
    const res = await asJob(job, "/files/source/seg_00001.m4s", {
      method: "PUT",
      headers: { "content-length": String(segment.length) },
      body: segment,
    });
    expect(res.status).toBe(204);
    const stored = await env.VIDEOS.get(jobFileKey(job.videoId, job.jobId, "source/seg_00001.m4s"));
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(segment);
  });

  it("accepts the job's events, and the video shows them", async () => {
    const { up, job } = await processingVideo();
    const res = await postEvent(job, { type: "progress", progress: 0.25 });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ ok: true, status: "processing" });
    expect(await json(await exports.default.fetch(`http://reelay.test/api/videos/${up.videoId}`))).toMatchObject({
      status: "processing",
      progress: 0.25,
    });
  });

  it("still wants the job's token", async () => {
    const { job } = await processingVideo();
    await expectError(fromContainer(`/internal/jobs/${job.jobId}/source`), 401, "invalid_token");
    const other = await signJobToken(SECRET, { videoId: job.videoId, jobId: "jother0000", exp: Date.now() + 60_000 });
    await expectError(asJob({ ...job, token: other }, "/source"), 401, "invalid_token");
  });

  it("refuses everything outside the job protocol: public pages, playback, the API, the operator's routes", async () => {
    const { up, job } = await processingVideo();
    await postEvent(job, { type: "playable", metadata });
    // Each of these answers through the public entry; the container gets a 404.
    expect((await exports.default.fetch(`http://reelay.test/api/videos/${up.videoId}`)).status).toBe(200);
    const refused: [string, RequestInit?][] = [
      ["/api/health"],
      [`/api/videos/${up.videoId}`],
      ["/api/videos"],
      [`/videos/${up.videoId}/master.m3u8`],
      [`/api/uploads/${up.videoId}`, { headers: auth(up) }],
      [`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) }],
      ["/api/uploads", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }],
      ["/"],
      [`/watch/${up.videoId}`],
      ["/internal"],
      [`/internal/jobs/${job.jobId}`, { headers: { authorization: `Bearer ${job.token}` } }],
    ];
    for (const [path, init] of refused) {
      await expectError(fromContainer(path, init), 404, "not_found");
    }
    // Nothing was deleted by the attempt.
    expect((await exports.default.fetch(`http://reelay.test/api/videos/${up.videoId}`)).status).toBe(200);
  });

  it("is what the library's ContainerProxy runs for the internal host, and no other host gets anywhere", async () => {
    const { file, job } = await processingVideo();
    const proxy = exports.ContainerProxy({
      props: { containerId: "test", className: "TranscoderContainer", enableInternet: false, interceptAll: false },
    });
    const viaProxy = (j: Job, path: string, init: RequestInit = {}, origin = JOB_STORAGE_ORIGIN) =>
      proxy.fetch(
        new Request(`${origin}/internal/jobs/${j.jobId}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${j.token}`, ...init.headers },
        }),
      );
    const res = await viaProxy(job, "/source", { headers: { range: "bytes=0-99" } });
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.slice(0, 100));
    expect((await postEvent(job, { type: "progress", progress: 0.5 }, viaProxy)).status).toBe(200);

    // The Worker's public host, or anywhere else: not answered by the Worker, and no internet either.
    for (const origin of ["http://reelay.test", "https://example.com", "http://169.254.169.254"]) {
      const elsewhere = await viaProxy(job, "/source", {}, origin);
      expect(elsewhere.status).toBe(520);
      expect(await elsewhere.text()).toBe("Origin is disallowed");
    }
  });
});

/** The container binding as the Worker uses it, with every call it receives noted. */
function standInContainers(renew: (jobId: string) => Promise<boolean> = async () => true) {
  const handedOff: JobSpec[] = [];
  const renewed: string[] = [];
  const TRANSCODER = {
    getByName: (jobId: string) => ({
      async fetch(request: Request) {
        handedOff.push((await request.json()) as JobSpec);
        return new Response("accepted", { status: 202 });
      },
      renewActivity() {
        renewed.push(jobId);
        return renew(jobId);
      },
    }),
  };
  // The container transport: no TRANSCODER_URL, and no PUBLIC_URL to reach the Worker by.
  const containerEnv = {
    ...env,
    TRANSCODER_URL: undefined,
    PUBLIC_URL: undefined,
    TRANSCODER,
  } as unknown as typeof env;
  return { containerEnv, handedOff, renewed };
}

describe("handing jobs to containers", () => {
  it("names the internal host in every job URL, without PUBLIC_URL, and those URLs reach the job's source", async () => {
    const { up, file } = await uploadedVideo();
    await complete(up);
    const { containerEnv, handedOff } = standInContainers();
    const batch = createMessageBatch("reelay-transcode", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { videoId: up.videoId, attempt: 1 } },
    ]);
    await worker.queue(batch, containerEnv);
    expect(await getQueueResult(batch, createExecutionContext())).toMatchObject({ explicitAcks: ["m1"] });

    const [spec] = handedOff;
    const base = `${JOB_STORAGE_ORIGIN}/internal/jobs/${spec!.jobId}`;
    expect(spec).toMatchObject({
      videoId: up.videoId,
      sourceUrl: `${base}/source`,
      uploadBaseUrl: `${base}/files`,
      callbackUrl: `${base}/events`,
    });
    if (!handler) throw new Error("no outbound handler");
    const res = await handler(
      new Request(spec!.sourceUrl, { headers: { authorization: `Bearer ${spec!.token}`, range: "bytes=0-" } }),
      containerEnv,
      outboundCtx,
    );
    expect(res.status).toBe(206);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file);
  });
});

describe("keeping a job's container alive", () => {
  /** Posts an event for the job through the container path, with `containerEnv` as the Worker's bindings. */
  const post = (containerEnv: typeof env, job: Job, e: Record<string, unknown>) =>
    handler!(
      new Request(`${JOB_STORAGE_ORIGIN}/internal/jobs/${job.jobId}/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${job.token}`, "content-type": "application/json" },
        body: JSON.stringify({ jobId: job.jobId, ...e }),
      }),
      containerEnv,
      outboundCtx,
    );

  it("renews the job's own instance each time the job reports progress, and not once it has ended", async () => {
    const { job } = await processingVideo();
    const { containerEnv, renewed } = standInContainers();
    expect((await post(containerEnv, job, { type: "progress", progress: 0.1 })).status).toBe(200);
    expect((await post(containerEnv, job, { type: "progress", progress: 0.2 })).status).toBe(200);
    expect((await post(containerEnv, job, { type: "playable", metadata })).status).toBe(200);
    expect(renewed).toEqual([job.jobId, job.jobId, job.jobId]);
    expect((await post(containerEnv, job, { type: "completed", metadata })).status).toBe(200);
    expect(renewed).toHaveLength(3);
  });

  it("does not keep a superseded job alive", async () => {
    const { up, job } = await processingVideo();
    await videoStub(up.videoId).startJob(2);
    const { containerEnv, renewed } = standInContainers();
    await expectError(post(containerEnv, job, { type: "progress", progress: 0.3 }), 409, "job_superseded");
    expect(renewed).toEqual([]);
  });

  it("takes the progress even when the renewal fails", async () => {
    const { up, job } = await processingVideo();
    const { containerEnv, renewed } = standInContainers(async () => {
      throw new Error("the container's object is unreachable");
    });
    const res = await post(containerEnv, job, { type: "progress", progress: 0.6 });
    expect(res.status).toBe(200);
    expect(renewed).toEqual([job.jobId]);
    expect(await json(await exports.default.fetch(`http://reelay.test/api/videos/${up.videoId}`))).toMatchObject({
      progress: 0.6,
    });
  });

  it("never renews a local transcoder (TRANSCODER_URL): it is not a container", async () => {
    const { job } = await processingVideo();
    const { containerEnv, renewed } = standInContainers();
    const local = { ...containerEnv, TRANSCODER_URL: inject("transcoderUrl"), PUBLIC_URL: "http://reelay.test" };
    expect((await post(local, job, { type: "progress", progress: 0.4 })).status).toBe(200);
    expect(renewed).toEqual([]);
  });
});

describe("TranscoderContainer.renewActivity", () => {
  // workerd in tests runs no containers, and the Container class refuses to be
  // built without one, so this drives the method on an instance built without
  // its constructor: the library's own deadline arithmetic, not a stand-in.
  /** The method under test, and the library's private deadline it moves. */
  type Instance = Pick<TranscoderContainer, "renewActivity"> & { sleepAfterMs: number; isActivityExpired(): boolean };
  const instance = (running: boolean): Instance =>
    Object.assign(Object.create(TranscoderContainer.prototype) as Instance, {
      ctx: { container: { running } },
      sleepAfter: 120,
      sleepAfterMs: 0,
      inflightRequests: 0,
    });

  it("pushes the running instance's idle deadline a whole sleepAfter on", () => {
    const running = instance(true);
    expect(running.isActivityExpired()).toBe(true);
    const before = Date.now();
    expect(running.renewActivity()).toBe(true);
    expect(running.isActivityExpired()).toBe(false);
    expect(running.sleepAfterMs).toBeGreaterThanOrEqual(before + 120_000);
  });

  it("leaves an instance with no running container as it is", () => {
    const stopped = instance(false);
    expect(stopped.renewActivity()).toBe(false);
    expect(stopped.sleepAfterMs).toBe(0);
  });
});
