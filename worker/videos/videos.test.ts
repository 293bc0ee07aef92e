// Owner routes of /api/videos under an operator's API_TOKEN, and the codes of
// their refusals. The app runs inside workerd with real D1, R2 and the video's
// Durable Object; API_TOKEN is set per request by passing the Worker its env.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../app.ts";
import { newVideoId } from "../storage/keys.ts";
import { api, BASE, createUpload, json, type Created } from "../testing/helpers.ts";

const API_TOKEN = "operator-token-0123456789";
const withApiToken = { ...env, API_TOKEN };
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;

/** A request to the Worker configured with API_TOKEN. */
function call(method: string, path: string, token?: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body ? { "content-type": "application/json" } : {}),
  };
  return Promise.resolve(
    app.fetch(
      new Request(`${BASE}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined }),
      withApiToken,
      ctx,
    ),
  );
}

async function refusal(res: Response) {
  return { status: res.status, body: await json(res) };
}

const newVideo = (title: string): Promise<Created> => createUpload({ size: 10, title });
const titleOf = async (id: string) => (await json(await api(`/api/videos/${id}`))).title;

describe("owner routes with API_TOKEN set", () => {
  it("let the operator's token edit and delete any video, and the owner's upload token still works", async () => {
    const a = await newVideo("Original title");
    const b = await newVideo("Another video");

    const byOperator = await call("PATCH", `/api/videos/${a.videoId}`, API_TOKEN, { title: "Edited by the operator" });
    expect(byOperator.status).toBe(200);
    expect(await json(byOperator)).toMatchObject({ id: a.videoId, title: "Edited by the operator" });
    expect(await titleOf(a.videoId)).toBe("Edited by the operator");

    const byOwner = await call("PATCH", `/api/videos/${a.videoId}`, a.uploadToken, { title: "Edited by the owner" });
    expect(byOwner.status).toBe(200);
    expect(await titleOf(a.videoId)).toBe("Edited by the owner");

    expect((await call("DELETE", `/api/videos/${a.videoId}`, API_TOKEN)).status).toBe(204);
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
      { token: "not-the-operator-token", code: "invalid_token" },
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

  it("do not honour the operator's token when API_TOKEN is unset", async () => {
    const a = await newVideo("Unmanaged");
    const res = await api(`/api/videos/${a.videoId}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "Hijacked" }),
    });
    expect(await refusal(res)).toMatchObject({ status: 401, body: { error: { code: "invalid_token" } } });
    expect(await titleOf(a.videoId)).toBe("Unmanaged");
  });

  it("answer 404 not_found to the operator for a video that does not exist", async () => {
    const unknown = newVideoId();
    for (const [method, body] of [
      ["PATCH", { title: "Ghost" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await call(method, `/api/videos/${unknown}`, API_TOKEN, body);
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
});
