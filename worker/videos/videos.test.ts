// Owner routes of /api/videos: edits and deletion by the owner and, under an
// ADMIN_TOKEN, by the administrator, and the codes of their refusals. The
// app runs inside workerd with real D1, R2 and the video's Durable Object;
// the tokens are set per request by passing the Worker its env.
import { env, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import { newVideoId } from "../storage/keys.ts";
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
  type Created,
} from "../testing/helpers.ts";
import { expectMultipartGone, recordedMultipart } from "../testing/multipart.ts";
import { event, metadata, processingVideo, publishPlayable, put } from "../testing/processing.ts";
import { rowCounts, sweepDue } from "../testing/video-object.ts";

const ADMIN_TOKEN = "admin-token-0123456789";
const UPLOADER_TOKEN = "uploader-token-0123456789";
const LEGACY_API_TOKEN = "legacy-api-token-0123456789";
const withTokens = { ...env, ADMIN_TOKEN, UPLOADER_TOKEN };
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** A request to the Worker configured with ADMIN_TOKEN and UPLOADER_TOKEN (or `config`). */
function call(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  config: Env = withTokens,
): Promise<Response> {
  const headers: Record<string, string> = {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body ? { "content-type": "application/json" } : {}),
  };
  return Promise.resolve(
    app.fetch(
      new Request(`${BASE}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined }),
      config,
      ctx,
    ),
  );
}

async function refusal(res: Response) {
  return { status: res.status, body: await json(res) };
}

const newVideo = (title: string): Promise<Created> => createUpload({ size: 10, title });
const titleOf = async (id: string) => (await json(await api(`/api/videos/${id}`))).title;

describe("owner routes with ADMIN_TOKEN set", () => {
  it("let the administrator's token edit and delete any video, and the owner's upload token still works", async () => {
    const a = await newVideo("Original title");
    const b = await newVideo("Another video");

    const byAdmin = await call("PATCH", `/api/videos/${a.videoId}`, ADMIN_TOKEN, { title: "Edited by the admin" });
    expect(byAdmin.status).toBe(200);
    expect(await json(byAdmin)).toMatchObject({ id: a.videoId, title: "Edited by the admin" });
    expect(await titleOf(a.videoId)).toBe("Edited by the admin");

    const byOwner = await call("PATCH", `/api/videos/${a.videoId}`, a.uploadToken, { title: "Edited by the owner" });
    expect(byOwner.status).toBe(200);
    expect(await titleOf(a.videoId)).toBe("Edited by the owner");

    expect((await call("DELETE", `/api/videos/${a.videoId}`, ADMIN_TOKEN)).status).toBe(204);
    expect(await refusal(await api(`/api/videos/${a.videoId}`))).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
    expect((await call("DELETE", `/api/videos/${b.videoId}`, b.uploadToken)).status).toBe(204);
    expect((await api(`/api/videos/${b.videoId}`)).status).toBe(404);
  });

  it("refuse a wrong token, another video's token and no token, and change nothing", async () => {
    const a = await newVideo("Keep me");
    const b = await newVideo("Someone else's");
    const cases = [
      { token: "not-the-admin-token", code: "invalid_token" },
      { token: b.uploadToken, code: "invalid_token" },
      { token: undefined, code: "missing_token" },
    ];
    for (const { token, code } of cases) {
      for (const [method, body] of [
        ["PATCH", { title: "Hijacked" }],
        ["DELETE", undefined],
      ] as const) {
        const res = await call(method, `/api/videos/${a.videoId}`, token, body);
        expect({ method, token, ...(await refusal(res)) }).toMatchObject({
          method,
          token,
          status: 401,
          body: { error: { code, message: expect.any(String) } },
        });
      }
    }
    expect(await titleOf(a.videoId)).toBe("Keep me");
  });

  it("do not honour the administrator's token when ADMIN_TOKEN is unset", async () => {
    const a = await newVideo("Unmanaged");
    const res = await api(`/api/videos/${a.videoId}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "Hijacked" }),
    });
    expect(await refusal(res)).toMatchObject({ status: 401, body: { error: { code: "invalid_token" } } });
    expect(await titleOf(a.videoId)).toBe("Unmanaged");
  });

  it("never let the uploader's token (nor the older API_TOKEN) edit or delete someone's video", async () => {
    const a = await newVideo("Someone's video");
    const legacy = { ...env, API_TOKEN: LEGACY_API_TOKEN } as Env;
    const attempts = [
      { token: UPLOADER_TOKEN, config: withTokens },
      { token: LEGACY_API_TOKEN, config: legacy },
    ];
    for (const { token, config } of attempts) {
      // The credential does create uploads…
      const created = await call(
        "POST",
        "/api/uploads",
        token,
        { filename: "x.mp4", size: 10, contentType: "video/mp4" },
        config,
      );
      expect(created.status, token).toBe(201);
      // …and grants nothing over videos.
      for (const [method, body] of [
        ["PATCH", { title: "Hijacked" }],
        ["DELETE", undefined],
      ] as const) {
        const res = await call(method, `/api/videos/${a.videoId}`, token, body, config);
        expect({ method, token, ...(await refusal(res)) }).toMatchObject({
          method,
          token,
          status: 401,
          body: { error: { code: "invalid_token" } },
        });
      }
    }
    expect(await titleOf(a.videoId)).toBe("Someone's video");
  });

  it("answer 404 not_found to the administrator for a video that does not exist", async () => {
    const unknown = newVideoId();
    for (const [method, body] of [
      ["PATCH", { title: "Ghost" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await call(method, `/api/videos/${unknown}`, ADMIN_TOKEN, body);
      expect({ method, ...(await refusal(res)) }).toMatchObject({
        method,
        status: 404,
        body: { error: { code: "not_found", message: expect.any(String) } },
      });
    }
  });
});

describe("video refusals", () => {
  it("answer 404 not_found for an unknown or malformed video id", async () => {
    const unknown = newVideoId();
    const a = await newVideo("Exists");
    const requests: [string, RequestInit][] = [
      [`/api/videos/${unknown}`, {}],
      ["/api/videos/not-a-video-id", {}],
      [`/api/videos/${unknown}/source`, { headers: { authorization: `Bearer ${a.uploadToken}` } }],
      [
        `/api/videos/${unknown}`,
        {
          method: "PATCH",
          headers: { authorization: `Bearer ${a.uploadToken}`, "content-type": "application/json" },
          body: '{"title":"x"}',
        },
      ],
      [`/api/videos/${unknown}`, { method: "DELETE", headers: { authorization: `Bearer ${a.uploadToken}` } }],
    ];
    for (const [path, init] of requests) {
      const res = await api(path, init);
      expect({ path, method: init.method ?? "GET", ...(await refusal(res)) }).toMatchObject({
        path,
        method: init.method ?? "GET",
        status: 404,
        body: { error: { code: "not_found", message: expect.any(String) } },
      });
    }
  });

  it("say a malformed id names no video, and under /api/uploads no upload", async () => {
    const a = await newVideo("Exists");
    const paths: [string, string][] = [
      ["/api/videos/not-a-video-id", "No such video."],
      ["/api/videos/not-a-video-id/source", "No such video."],
      ["/videos/not-a-video-id/master.m3u8", "No such video."],
      ["/api/uploads/not-a-video-id", "No such upload."],
    ];
    for (const [path, message] of paths) {
      const res = await api(path, { headers: { authorization: `Bearer ${a.uploadToken}` } });
      expect({ path, ...(await refusal(res)) }).toMatchObject({
        path,
        status: 404,
        body: { error: { code: "not_found", message } },
      });
    }
  });
});

/** The ids of a listing or search, as a client reads them. */
const found = async (query: string): Promise<string[]> => {
  const res = await api(`/api/videos?${query}`);
  expect(res.status).toBe(200);
  return (await json<{ items: { id: string }[] }>(res)).items.map((i) => i.id);
};

describe("owner edits and deletion", () => {
  it("lets the owner edit title, description, tags and visibility, and search follows at once", async () => {
    const { up, job } = await processingVideo({ title: "Untitled clip" });
    await publishPlayable(job);
    expect(await found("q=untitled")).toContain(up.videoId);
    const patch = (body: unknown, headers: Record<string, string>) =>
      api(`/api/videos/${up.videoId}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });

    expect((await patch({ title: "Hacked" }, {})).status).toBe(401);
    expect((await patch({ title: "Hacked" }, { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await patch({}, auth(up))).status).toBe(400);
    expect((await patch({ visibility: "secret" }, auth(up))).status).toBe(400);
    expect(await found("q=hacked")).toEqual([]);

    const res = await patch(
      { title: "Glacier flyover", description: "Drone footage", tags: ["ice", "drone"] },
      auth(up),
    );
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ title: "Glacier flyover", tags: ["ice", "drone"] });
    expect(await found("q=untitled")).not.toContain(up.videoId);
    expect(await found("q=glacier")).toEqual([up.videoId]);
    expect(await found("tag=drone")).toEqual([up.videoId]);

    expect((await patch({ visibility: "unlisted" }, auth(up))).status).toBe(200);
    expect(await found("q=glacier")).toEqual([]);
    expect((await api(`/api/videos/${up.videoId}`)).status).toBe(200);
  });

  it("deletes every trace of a processed video, and a late callback cannot resurrect it", async () => {
    const { up, job } = await processingVideo({ title: "Doomed glacier" });
    // Deleted while its job is still running: only deletion stands between the job and a write.
    await publishPlayable(job);
    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/` })).objects.length).toBeGreaterThan(3);

    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE" })).status).toBe(401);
    expect(
      (await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: { authorization: "Bearer x" } })).status,
    ).toBe(401);
    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);

    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/` })).objects).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM videos WHERE id = ?").bind(up.videoId).first("n")).toBe(0);
    expect(await found("q=doomed")).toEqual([]);
    for (const path of [
      `/api/videos/${up.videoId}`,
      `/videos/${up.videoId}/master.m3u8`,
      `/api/uploads/${up.videoId}`,
    ]) {
      expect((await api(path, { headers: auth(up) })).status).toBe(404);
    }
    // A transcoder that did not hear of the deletion finishes its work: its writes and reports are refused.
    for (const late of [
      await put(job, "source/seg_00002.m4s", "late"),
      await event(job, { type: "completed", metadata }),
    ]) {
      expect(late.status).toBe(409);
      expect(await json(late)).toMatchObject({ error: { code: "job_superseded" } });
    }
    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/` })).objects).toEqual([]);
    const gone = await api(`/api/videos/${up.videoId}`);
    expect(gone.status).toBe(404);
    expect(await json(gone)).toMatchObject({ error: { code: "not_found" } });
    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(404);

    // The final sweep also drops the Durable Object's tombstone.
    expect(await runDurableObjectAlarm(await sweepDue(up.videoId))).toBe(true);
    expect(await rowCounts(up.videoId)).toEqual({
      video: 0,
      chunks: 0,
      leases: 0,
      contended: 0,
      jobs: 0,
      tombstone: 0,
    });
  });

  it("deletes a video in the middle of its upload, leaving nothing behind", async () => {
    const file = bytes(11 * MiB, 5);
    const up = await createUpload({ size: file.length, chunkSize: 5 * MiB, title: "Half uploaded" });
    expect((await putChunk(up, 1, chunkOf(file, up, 1))).status).toBe(200);
    const multipart = await recordedMultipart(up.videoId);
    expect((await api(`/api/videos/${up.videoId}`, { method: "DELETE", headers: auth(up) })).status).toBe(204);
    // Parts of an unfinished upload are not objects: only R2 refusing the upload id shows they were dropped.
    await expectMultipartGone(multipart);
    expect((await putChunk(up, 2, chunkOf(file, up, 2))).status).toBe(404);
    expect((await api(`/api/uploads/${up.videoId}/complete`, { method: "POST", headers: auth(up) })).status).toBe(404);
    expect((await env.VIDEOS.list({ prefix: `videos/${up.videoId}/` })).objects).toEqual([]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM videos WHERE id = ?").bind(up.videoId).first("n")).toBe(0);
  });
});
