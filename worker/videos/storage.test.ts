// GET /api/videos/:id/storage: the operator's listing of every R2 object a
// video stores, inside workerd with real R2, D1 and the video's Durable
// Object. ADMIN_TOKEN is set per request by passing the Worker its env.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import type { VideoStorage } from "../contracts/video.ts";
import { newVideoId } from "../storage/keys.ts";
import { BASE, createUpload, json, MiB } from "../testing/helpers.ts";
import { processingVideo, publishPlayable, put } from "../testing/processing.ts";

const ADMIN_TOKEN = "admin-token-0123456789";
const UPLOADER_TOKEN = "uploader-token-0123456789";
const withTokens = { ...env, ADMIN_TOKEN, UPLOADER_TOKEN } as Env;
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

function storage(id: string, token?: string, config: Env = withTokens, method = "GET"): Promise<Response> {
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  return Promise.resolve(app.fetch(new Request(`${BASE}/api/videos/${id}/storage`, { method, headers }), config, ctx));
}

async function refusal(res: Response) {
  return { status: res.status, body: await json(res) };
}

describe("GET /api/videos/:id/storage", () => {
  it("lists the source and every job output with their bytes, per job and in total", async () => {
    const { up, file, job } = await processingVideo({ title: "Stored" });
    await publishPlayable(job);
    expect((await put(job, "v1080/seg_00001.m4s", new Uint8Array(700))).status).toBe(204);

    const res = await storage(up.videoId, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const listed = await json<VideoStorage>(res);
    const prefix = `videos/${up.videoId}/`;
    const jobFiles = {
      "master.m3u8": expect.any(Number),
      "poster.jpg": 300,
      "source/index.m3u8": expect.any(Number),
      "source/init.mp4": 1000,
      "source/seg_00001.m4s": 5000,
      "v1080/seg_00001.m4s": 700,
    };
    expect(Object.fromEntries(listed.objects.map((o) => [o.key, o.bytes]))).toEqual({
      [`${prefix}source`]: file.length,
      ...Object.fromEntries(Object.entries(jobFiles).map(([f, b]) => [`${prefix}jobs/${job.jobId}/${f}`, b])),
    });
    const sum = listed.objects.reduce((s, o) => s + o.bytes, 0);
    expect(listed).toMatchObject({
      videoId: up.videoId,
      bytes: sum,
      source: 6 * MiB,
      playbackJob: job.jobId,
      jobs: [{ jobId: job.jobId, objects: 6, bytes: sum - file.length }],
    });
  });

  it("answers an upload that stores nothing yet with an empty listing, not 404", async () => {
    const up = await createUpload({ size: 10, title: "Not yet" });
    const res = await storage(up.videoId, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      videoId: up.videoId,
      objects: [],
      bytes: 0,
      source: null,
      playbackJob: null,
      jobs: [],
    });
  });

  it("refuses anyone but the operator with 401 and lists nothing", async () => {
    const { up } = await processingVideo({ title: "Private" });
    const cases = [
      { who: "no token", token: undefined, config: withTokens, code: "missing_token" },
      { who: "a wrong token", token: "not-the-admin-token", config: withTokens, code: "invalid_token" },
      { who: "the owner's upload token", token: up.uploadToken, config: withTokens, code: "invalid_token" },
      { who: "the uploader's token", token: UPLOADER_TOKEN, config: withTokens, code: "invalid_token" },
      { who: "any token, no ADMIN_TOKEN set", token: ADMIN_TOKEN, config: env, code: "invalid_token" },
    ];
    for (const { who, token, config, code } of cases) {
      const res = await storage(up.videoId, token, config);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect({ who, ...(await refusal(res)) }).toEqual({
        who,
        status: 401,
        body: { error: { code, message: expect.any(String) } },
      });
    }
  });

  it("answers 404 not_found for an unknown, a malformed or a deleted video", async () => {
    const { up } = await processingVideo({ title: "Soon gone" });
    const deleted = await app.fetch(
      new Request(`${BASE}/api/videos/${up.videoId}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
      withTokens,
      ctx,
    );
    expect(deleted.status).toBe(204);
    for (const id of [newVideoId(), "not-a-video-id", up.videoId]) {
      expect({ id, ...(await refusal(await storage(id, ADMIN_TOKEN))) }).toEqual({
        id,
        status: 404,
        body: { error: { code: "not_found", message: "No such video." } },
      });
    }
  });
});
