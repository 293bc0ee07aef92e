// Anyone may name any well-formed video id with any bearer token. Before a
// video is created, its Durable Object must stay empty whatever it is asked:
// answering "no such upload" must not persist tables, a version row or an
// alarm for every id an attacker makes up.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newVideoId } from "../storage/keys.ts";
import { api, bytes, createUpload, json, putChunk } from "../testing/helpers.ts";
import { inVideoObject, rowCounts, videoStub } from "../testing/video-object.ts";
import type { VideoObject } from "./video-object.ts";

/** The tables the object holds (not the runtime's own), and whether it has an alarm. */
function storedState(videoId: string) {
  return runInDurableObject(videoStub(videoId), async (_o: VideoObject, state) => ({
    tables: state.storage.sql
      .exec<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
      )
      .toArray()
      .map((r) => r.name),
    alarm: await state.storage.getAlarm(),
  }));
}

describe("a video's object before its video is created", () => {
  it("answers 404 to every upload and owner request with any token and stores nothing", async () => {
    const videoId = newVideoId();
    const token = { authorization: "Bearer made-up-token" };
    const requests: [string, RequestInit][] = [
      [`/api/uploads/${videoId}`, { headers: token }],
      [`/api/uploads/${videoId}/complete`, { method: "POST", headers: token }],
      [`/api/uploads/${videoId}`, { method: "DELETE", headers: token }],
      [`/api/videos/${videoId}/source`, { headers: token }],
      [
        `/api/videos/${videoId}`,
        { method: "PATCH", headers: { ...token, "content-type": "application/json" }, body: '{"title":"x"}' },
      ],
      [`/api/videos/${videoId}`, { method: "DELETE", headers: token }],
    ];
    for (const [path, init] of requests) {
      const res = await api(path, init);
      expect(res.status, `${init.method ?? "GET"} ${path}`).toBe(404);
      expect(await json(res)).toMatchObject({ error: { code: "not_found" } });
    }
    const chunk = await putChunk({ videoId, uploadToken: "made-up-token" }, 1, bytes(10));
    expect(chunk.status).toBe(404);

    expect(await storedState(videoId)).toEqual({ tables: [], alarm: null });
  });

  it("gets its schema when the video is created, and reads and writes as before", async () => {
    const up = await createUpload({ size: 10 });
    expect((await storedState(up.videoId)).tables).toContain("video");
    expect(await rowCounts(up.videoId)).toMatchObject({ video: 1, chunks: 0 });
    expect((await putChunk(up, 1, bytes(10))).status).toBe(200);
    expect(await inVideoObject(up.videoId, (sql) => sql.exec("SELECT n FROM chunks").toArray())).toEqual([{ n: 1 }]);
  });
});
